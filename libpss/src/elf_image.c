/*
 * elf_image.c -- the few ELF facts the VA walk needs: is this file a loadable image,
 * where is its first executable PT_LOAD, how large is the image (SizeOfImage), and the
 * first 4 bytes of its GNU build-id (CheckSum).
 *
 * Both ELFCLASS64 and ELFCLASS32 are understood (native byte order only).  Every
 * offset and count read from the file is bounds-checked before use.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pss_internal.h"

typedef bool (*read_fn)(void *ctx, uint64_t off, void *buf, size_t len);

struct fd_reader {
    int fd;
};

static bool read_from_fd(void *ctx, uint64_t off, void *buf, size_t len)
{
    struct fd_reader *r = ctx;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(r->fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        if (n == 0)
            return false;
        done += (size_t)n;
    }
    return true;
}

struct mem_reader {
    const unsigned char *base;
    size_t size;
};

static bool read_from_mem(void *ctx, uint64_t off, void *buf, size_t len)
{
    struct mem_reader *r = ctx;
    if (off > r->size || len > r->size - off)
        return false;
    memcpy(buf, r->base + off, len);
    return true;
}

struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz, memsz;
};

static uint64_t page_down(uint64_t v, long ps)
{
    return v & ~((uint64_t)ps - 1);
}

static uint64_t page_up(uint64_t v, long ps)
{
    return (v + (uint64_t)ps - 1) & ~((uint64_t)ps - 1);
}

#define MAX_PHDRS 128

/* Scans a note segment for NT_GNU_BUILD_ID. */
static bool find_build_id(read_fn rd, void *ctx, uint64_t off, uint64_t size, uint32_t *id4)
{
    unsigned char buf[2048];
    if (size > sizeof buf)
        size = sizeof buf;
    if (size < 12 || !rd(ctx, off, buf, (size_t)size))
        return false;
    size_t p = 0;
    while (p + 12 <= size) {
        uint32_t namesz, descsz, type;
        memcpy(&namesz, buf + p, 4);
        memcpy(&descsz, buf + p + 4, 4);
        memcpy(&type, buf + p + 8, 4);
        size_t name_off = p + 12;
        size_t desc_off = name_off + ((namesz + 3u) & ~3u);
        if (namesz > size || descsz > size || desc_off > size || descsz > size - desc_off)
            return false;
        if (type == NT_GNU_BUILD_ID && namesz == 4 && memcmp(buf + name_off, "GNU", 4) == 0 &&
            descsz >= 4) {
            memcpy(id4, buf + desc_off, 4);
            return true;
        }
        p = desc_off + ((descsz + 3u) & ~3u);
    }
    return false;
}

static void parse_elf(read_fn rd, void *ctx, long ps, struct pss_elf_info *info)
{
    memset(info, 0, sizeof *info);
    unsigned char ident[EI_NIDENT];
    if (!rd(ctx, 0, ident, sizeof ident) || memcmp(ident, ELFMAG, SELFMAG) != 0)
        return;
    if (ident[EI_DATA] != ELFDATA2LSB)
        return;
    bool is64 = ident[EI_CLASS] == ELFCLASS64;
    if (!is64 && ident[EI_CLASS] != ELFCLASS32)
        return;

    uint16_t type, phnum, phentsize;
    uint64_t phoff;
    if (is64) {
        Elf64_Ehdr eh;
        if (!rd(ctx, 0, &eh, sizeof eh))
            return;
        type = eh.e_type;
        phoff = eh.e_phoff;
        phnum = eh.e_phnum;
        phentsize = eh.e_phentsize;
        if (phentsize != sizeof(Elf64_Phdr))
            return;
    } else {
        Elf32_Ehdr eh;
        if (!rd(ctx, 0, &eh, sizeof eh))
            return;
        type = eh.e_type;
        phoff = eh.e_phoff;
        phnum = eh.e_phnum;
        phentsize = eh.e_phentsize;
        if (phentsize != sizeof(Elf32_Phdr))
            return;
    }
    if ((type != ET_EXEC && type != ET_DYN) || phnum == 0 || phnum > MAX_PHDRS)
        return;

    unsigned char raw[MAX_PHDRS * sizeof(Elf64_Phdr)];
    if (!rd(ctx, phoff, raw, (size_t)phnum * phentsize))
        return;
    struct phdr ph[MAX_PHDRS];
    for (unsigned i = 0; i < phnum; i++) {
        if (is64) {
            Elf64_Phdr p;
            memcpy(&p, raw + (size_t)i * phentsize, sizeof p);
            ph[i] = (struct phdr){p.p_type, p.p_flags, p.p_offset, p.p_vaddr, p.p_filesz,
                                  p.p_memsz};
        } else {
            Elf32_Phdr p;
            memcpy(&p, raw + (size_t)i * phentsize, sizeof p);
            ph[i] = (struct phdr){p.p_type, p.p_flags, p.p_offset, p.p_vaddr, p.p_filesz,
                                  p.p_memsz};
        }
    }

    bool have_load = false;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (unsigned i = 0; i < phnum; i++) {
        if (ph[i].type != PT_LOAD)
            continue;
        have_load = true;
        if (ph[i].vaddr < lo)
            lo = ph[i].vaddr;
        if (ph[i].vaddr + ph[i].memsz > hi)
            hi = ph[i].vaddr + ph[i].memsz;
        if (!info->have_exec_load && (ph[i].flags & PF_X)) {
            info->have_exec_load = true;
            info->exec_vaddr = page_down(ph[i].vaddr, ps);
            info->exec_offset = page_down(ph[i].offset, ps);
        }
    }
    if (!have_load || hi <= lo)
        return;
    info->min_vaddr = page_down(lo, ps);
    uint64_t size = page_up(hi, ps) - info->min_vaddr;
    info->size_of_image = size > UINT32_MAX ? UINT32_MAX : size;
    info->elf32 = !is64;
    info->is_elf = true;
    for (unsigned i = 0; i < phnum; i++)
        if (ph[i].type == PT_NOTE && find_build_id(rd, ctx, ph[i].offset, ph[i].filesz,
                                                   &info->build_id4))
            break;
}

void pss_elf_from_fd(int fd, long page_size, struct pss_elf_info *info)
{
    struct fd_reader r = {fd};
    parse_elf(read_from_fd, &r, page_size, info);
    struct stat st;
    if (info->is_elf && fstat(fd, &st) == 0)
        info->mtime32 = (uint32_t)((uint64_t)st.st_mtime & 0xFFFFFFFFu);
}

void pss_elf_from_memory(const void *base, size_t size, long page_size,
                         struct pss_elf_info *info)
{
    struct mem_reader r = {base, size};
    parse_elf(read_from_mem, &r, page_size, info);
}

bool pss_exe_is_elf32(int procfd)
{
    int fd = openat(procfd, "exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    unsigned char ident[EI_NIDENT];
    struct fd_reader r = {fd};
    bool ok = read_from_fd(&r, 0, ident, sizeof ident);
    close(fd);
    return ok && memcmp(ident, ELFMAG, SELFMAG) == 0 && ident[EI_CLASS] == ELFCLASS32;
}
