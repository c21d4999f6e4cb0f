/*
 * linux_ext_modules.c -- the module list (PSS_DETAILS_MODULE) and which VMAs belong to a
 * loaded ELF image.
 *
 * An image is a file mapped executable at the file offset of one of its executable
 * PT_LOAD segments; the load bias follows from that mapping, and the image spans
 * [bias + lowest PT_LOAD, bias + end of the highest PT_LOAD).  Inside that span, the
 * VMAs of the same file and anonymous VMAs (the .bss tail) belong to the image.
 * The ELF facts of each file (read once per dev:inode) come through
 * /proc/PID/map_files/START-END when we may open it (CAP_SYS_ADMIN), else through the
 * path, accepted only if its dev:inode is the mapped one.  [vdso] is parsed from this
 * process's own vDSO (one kernel, one vDSO image).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "linux_ext.h"

/* ---- ELF parsing through a reader (file or memory) ---- */

struct reader {
    int fd;               /* >= 0: pread */
    const uint8_t *base;  /* else memory */
    size_t size;
};

static bool rd(const struct reader *r, uint64_t off, void *dst, size_t len)
{
    if (r->fd >= 0) {
        size_t got = 0;
        while (got < len) {
            ssize_t n = pread(r->fd, (char *)dst + got, len - got, (off_t)(off + got));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return false;
            got += (size_t)n;
        }
        return true;
    }
    if (off > r->size || len > r->size - off)
        return false;
    memcpy(dst, r->base + off, len);
    return true;
}

struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz, memsz;
};

#define MAX_PHDRS 128

static void parse_notes(const struct reader *r, const struct phdr *ph, struct lx_elf *e)
{
    uint8_t buf[4096];
    size_t len = ph->filesz < sizeof buf ? (size_t)ph->filesz : sizeof buf;
    if (!rd(r, ph->offset, buf, len))
        return;
    size_t pos = 0;
    while (pos + 12 <= len) {
        uint32_t namesz, descsz, type;
        memcpy(&namesz, buf + pos, 4);
        memcpy(&descsz, buf + pos + 4, 4);
        memcpy(&type, buf + pos + 8, 4);
        size_t name_at = pos + 12;
        size_t desc_at = name_at + ((namesz + 3u) & ~3u);
        size_t next = desc_at + ((descsz + 3u) & ~3u);
        if (desc_at > len || next > len || next <= pos)
            return;
        if (type == NT_GNU_BUILD_ID && namesz == 4 && memcmp(buf + name_at, "GNU", 4) == 0 &&
            descsz > 0 && descsz <= sizeof e->build_id) {
            memcpy(e->build_id, buf + desc_at, descsz);
            e->build_id_len = descsz;
            return;
        }
        pos = next;
    }
}

/* vaddr -> file offset through the PT_LOADs. */
static bool vaddr_to_offset(const struct phdr *ph, size_t n, uint64_t vaddr, uint64_t *off)
{
    for (size_t i = 0; i < n; i++) {
        if (ph[i].type == PT_LOAD && vaddr >= ph[i].vaddr &&
            vaddr < ph[i].vaddr + ph[i].filesz) {
            *off = vaddr - ph[i].vaddr + ph[i].offset;
            return true;
        }
    }
    return false;
}

static void parse_dynamic(const struct reader *r, const struct phdr *ph, size_t nph,
                          const struct phdr *dyn, bool elf32, bool from_memory,
                          struct lx_elf *e)
{
    uint64_t strtab = 0, soname = 0;
    bool have_strtab = false, have_soname = false;
    const size_t entsz = elf32 ? 8 : 16;
    size_t count = (size_t)(dyn->filesz / entsz);
    if (count > 4096)
        count = 4096;
    for (size_t i = 0; i < count; i++) {
        int64_t tag;
        uint64_t val;
        if (elf32) {
            Elf32_Dyn d;
            if (!rd(r, dyn->offset + i * entsz, &d, sizeof d))
                return;
            tag = d.d_tag;
            val = d.d_un.d_val;
        } else {
            Elf64_Dyn d;
            if (!rd(r, dyn->offset + i * entsz, &d, sizeof d))
                return;
            tag = d.d_tag;
            val = d.d_un.d_val;
        }
        if (tag == DT_NULL)
            break;
        if (tag == DT_STRTAB) {
            strtab = val;
            have_strtab = true;
        } else if (tag == DT_SONAME) {
            soname = val;
            have_soname = true;
        }
    }
    if (!have_strtab || !have_soname)
        return;
    uint64_t off;
    if (from_memory) {
        /* In a mapped image (the vDSO) dynamic pointers may already be relocated to
         * absolute addresses; take them relative to the image when they are. */
        uint64_t base = (uint64_t)(uintptr_t)r->base;
        off = strtab >= base && strtab < base + r->size ? strtab - base : strtab;
    } else if (!vaddr_to_offset(ph, nph, strtab, &off)) {
        return;
    }
    char s[sizeof e->soname];
    size_t got = 0;
    for (; got < sizeof s - 1; got++) {
        if (!rd(r, off + soname + got, &s[got], 1) || s[got] == '\0')
            break;
    }
    s[got] = '\0';
    memcpy(e->soname, s, got + 1);
}

static void parse_elf(const struct reader *r, long page_size, bool from_memory,
                      struct lx_elf *e)
{
    memset(e, 0, sizeof *e);
    unsigned char ident[EI_NIDENT];
    if (!rd(r, 0, ident, sizeof ident) || memcmp(ident, ELFMAG, SELFMAG) != 0)
        return;
    const bool elf32 = ident[EI_CLASS] == ELFCLASS32;
    if (!elf32 && ident[EI_CLASS] != ELFCLASS64)
        return;
    uint16_t type, phnum, phentsize;
    uint64_t phoff;
    if (elf32) {
        Elf32_Ehdr h;
        if (!rd(r, 0, &h, sizeof h))
            return;
        type = h.e_type, phnum = h.e_phnum, phentsize = h.e_phentsize, phoff = h.e_phoff;
    } else {
        Elf64_Ehdr h;
        if (!rd(r, 0, &h, sizeof h))
            return;
        type = h.e_type, phnum = h.e_phnum, phentsize = h.e_phentsize, phoff = h.e_phoff;
    }
    if ((type != ET_EXEC && type != ET_DYN) || phnum == 0 || phnum > MAX_PHDRS ||
        phentsize != (elf32 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr)))
        return;
    struct phdr ph[MAX_PHDRS];
    for (size_t i = 0; i < phnum; i++) {
        if (elf32) {
            Elf32_Phdr p;
            if (!rd(r, phoff + i * phentsize, &p, sizeof p))
                return;
            ph[i] = (struct phdr){p.p_type, p.p_flags, p.p_offset, p.p_vaddr, p.p_filesz,
                                  p.p_memsz};
        } else {
            Elf64_Phdr p;
            if (!rd(r, phoff + i * phentsize, &p, sizeof p))
                return;
            ph[i] = (struct phdr){p.p_type, p.p_flags, p.p_offset, p.p_vaddr, p.p_filesz,
                                  p.p_memsz};
        }
    }
    const uint64_t page = (uint64_t)(page_size > 0 ? page_size : 4096);
    bool any_load = false;
    for (size_t i = 0; i < phnum; i++) {
        if (ph[i].type != PT_LOAD)
            continue;
        /* A segment whose page-rounded end passes 2^64 would wrap the span (max below
         * min, found by fuzz_elf): no image the loader could place. */
        const uint64_t room = UINT64_MAX - ph[i].vaddr;
        if (room < page - 1 || ph[i].memsz > room - (page - 1))
            return;
        uint64_t lo = ph[i].vaddr & ~(page - 1);
        uint64_t hi = (ph[i].vaddr + ph[i].memsz + page - 1) & ~(page - 1);
        if (!any_load || lo < e->min_vaddr)
            e->min_vaddr = lo;
        if (!any_load || hi > e->max_vaddr)
            e->max_vaddr = hi;
        any_load = true;
        if ((ph[i].flags & PF_X) && e->nexec < 4) {
            e->exec_vaddr[e->nexec] = lo;
            e->exec_offset[e->nexec] = ph[i].offset & ~(page - 1);
            e->nexec++;
        }
    }
    if (!any_load)
        return;
    e->ok = true;
    e->elf32 = elf32;
    e->dyn = type == ET_DYN;
    for (size_t i = 0; i < phnum; i++) {
        if (ph[i].type == PT_NOTE && e->build_id_len == 0)
            parse_notes(r, &ph[i], e);
        else if (ph[i].type == PT_DYNAMIC)
            parse_dynamic(r, ph, phnum, &ph[i], elf32, from_memory, e);
    }
}

void lx_elf_parse_fd(int fd, long page_size, struct lx_elf *e)
{
    struct reader r = {fd, NULL, 0};
    parse_elf(&r, page_size, false, e);
}

void lx_elf_parse_memory(const void *base, size_t size, long page_size, struct lx_elf *e)
{
    struct reader r = {-1, base, size};
    parse_elf(&r, page_size, true, e);
}

/* ---- the per-file cache and the module list ---- */

struct file_elf {
    uint64_t ino;
    uint32_t dev_major, dev_minor;
    DWORD error; /* 0 = e valid (e.ok may still be false: not an image) */
    struct lx_elf e;
};

static DWORD open_mapped(const struct lx_capture *c, const struct lx_vma *v, const char *name,
                         int *out)
{
    char path[64];
    snprintf(path, sizeof path, "map_files/%llx-%llx", (unsigned long long)v->start,
             (unsigned long long)v->end);
    int fd = openat(c->target.procfd, path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        *out = fd;
        return ERROR_SUCCESS;
    }
    size_t n = strlen(name);
    static const char deleted[] = " (deleted)";
    if (name[0] != '/' || (n >= sizeof deleted - 1 &&
                           strcmp(name + n - (sizeof deleted - 1), deleted) == 0))
        return ERROR_ACCESS_DENIED;
    fd = open(name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT ? ERROR_NOT_FOUND : ERROR_ACCESS_DENIED;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_ino != v->ino ||
        major(st.st_dev) != v->dev_major || minor(st.st_dev) != v->dev_minor) {
        close(fd);
        return ERROR_NOT_FOUND; /* replaced since it was mapped */
    }
    *out = fd;
    return ERROR_SUCCESS;
}

static const struct file_elf *elf_of(struct lx_capture *c, struct file_elf **cache,
                                     size_t *n, size_t *cap, const struct lx_vma *v,
                                     const char *name)
{
    for (size_t i = 0; i < *n; i++) {
        const struct file_elf *f = &(*cache)[i];
        if (f->ino == v->ino && f->dev_major == v->dev_major && f->dev_minor == v->dev_minor)
            return f;
    }
    if (pss_grow((void **)cache, cap, *n + 1, sizeof **cache) != 0)
        return NULL;
    struct file_elf *f = &(*cache)[(*n)++];
    memset(f, 0, sizeof *f);
    f->ino = v->ino;
    f->dev_major = v->dev_major;
    f->dev_minor = v->dev_minor;
    int fd = -1;
    f->error = open_mapped(c, v, name, &fd);
    if (f->error == ERROR_SUCCESS) {
        lx_elf_parse_fd(fd, c->clock.page_size, &f->e);
        close(fd);
    }
    return f;
}

static int add_module(struct lx_capture *c, const PSS_DETAILS_MODULE *m, const char *path,
                      size_t path_len, const char *soname)
{
    HPSSDETAILS d = c->d;
    if (pss_grow((void **)&d->mods, &d->cap_mods, d->nmods + 1, sizeof *d->mods) != 0)
        return -ENOMEM;
    struct lx_module *x = &d->mods[d->nmods];
    memset(x, 0, sizeof *x);
    x->m = *m;
    if (path_len > 0) {
        if (lx_add_string(d, path, path_len, &x->path_off) != 0)
            return -ENOMEM;
        x->m.PathLength = (DWORD)path_len;
    }
    size_t sl = soname ? strlen(soname) : 0;
    if (sl > 0) {
        if (lx_add_string(d, soname, sl, &x->soname_off) != 0)
            return -ENOMEM;
        x->m.SonameLength = (DWORD)sl;
    }
    d->nmods++;
    return 0;
}

static int cmp_module(const void *a, const void *b)
{
    uint64_t x = ((const struct lx_module *)a)->m.BaseAddress;
    uint64_t y = ((const struct lx_module *)b)->m.BaseAddress;
    return x < y ? -1 : x > y;
}

static void fill_elf_facts(PSS_DETAILS_MODULE *m, const struct lx_elf *e)
{
    if (e->elf32)
        m->Flags |= PSS_MODULE_ELF32;
    if (e->dyn)
        m->Flags |= PSS_MODULE_POSITION_INDEPENDENT;
    m->BuildIdLength = e->build_id_len;
    memcpy(m->BuildId, e->build_id, e->build_id_len);
}

DWORD lx_find_modules(struct lx_capture *c, const struct lx_vma *vma, size_t n,
                      const char *names, bool *image)
{
    struct file_elf *cache = NULL;
    size_t ncache = 0, capcache = 0;
    DWORD rc = ERROR_SUCCESS;
    struct statx exe;
    const bool have_exe = statx(c->target.procfd, "exe", 0, STATX_INO, &exe) == 0;
    const uint64_t page = (uint64_t)(c->clock.page_size > 0 ? c->clock.page_size : 4096);

    for (size_t i = 0; i < n && rc == ERROR_SUCCESS; i++) {
        const struct lx_vma *v = &vma[i];
        if (v->name_kind == LX_NAME_VDSO) {
            PSS_DETAILS_MODULE m;
            memset(&m, 0, sizeof m);
            m.BaseAddress = v->start;
            m.EndAddress = v->end;
            m.Flags = PSS_MODULE_VDSO;
            m.RegionCount = 1;
            struct lx_elf e;
            memset(&e, 0, sizeof e);
            /* This process's vDSO: one kernel, one vDSO image.  (Reading the target's
             * would fault its untouched vDSO pages in and change its Rss.)  Under
             * valgrind, which hides ours, there is none. */
            const void *own = (const void *)(uintptr_t)getauxval(AT_SYSINFO_EHDR);
            if (own != NULL)
                lx_elf_parse_memory(own, (size_t)(v->end - v->start), c->clock.page_size,
                                    &e);
            if (e.ok)
                fill_elf_facts(&m, &e);
            else
                m.ElfError = own != NULL ? ERROR_INVALID_DATA : ERROR_NOT_SUPPORTED;
            image[i] = true;
            if (add_module(c, &m, "[vdso]", 6, e.ok ? e.soname : NULL) != 0)
                rc = ERROR_NOT_ENOUGH_MEMORY;
            continue;
        }
        if (!v->x || v->name_kind != LX_NAME_FILE || v->ino == 0 || image[i])
            continue;
        const char *name = names + v->name_off;
        const struct file_elf *f = elf_of(c, &cache, &ncache, &capcache, v, name);
        if (f == NULL) {
            rc = ERROR_NOT_ENOUGH_MEMORY;
            break;
        }
        if (f->error != ERROR_SUCCESS || !f->e.ok)
            continue; /* unreadable or not an ELF image: a mapped file */
        const struct lx_elf *e = &f->e;
        unsigned k = 0;
        while (k < e->nexec && e->exec_offset[k] != v->offset)
            k++;
        if (k == e->nexec)
            continue;
        const uint64_t bias = v->start - e->exec_vaddr[k];
        const uint64_t base = bias + e->min_vaddr;
        const uint64_t end = (bias + e->max_vaddr + page - 1) & ~(page - 1);
        PSS_DETAILS_MODULE m;
        memset(&m, 0, sizeof m);
        m.BaseAddress = base;
        m.EndAddress = end;
        m.Inode = v->ino;
        m.DeviceMajor = v->dev_major;
        m.DeviceMinor = v->dev_minor;
        fill_elf_facts(&m, e);
        if (have_exe && exe.stx_ino == v->ino && exe.stx_dev_major == v->dev_major &&
            exe.stx_dev_minor == v->dev_minor)
            m.Flags |= PSS_MODULE_MAIN_EXECUTABLE;
        size_t nl = v->name_len;
        static const char deleted[] = " (deleted)";
        if (nl >= sizeof deleted - 1 &&
            memcmp(name + nl - (sizeof deleted - 1), deleted, sizeof deleted - 1) == 0)
            m.Flags |= PSS_MODULE_DELETED;
        /* Mark the VMAs of the span: the same file, or anonymous (.bss). */
        size_t j = i;
        while (j > 0 && vma[j - 1].end > base)
            j--;
        for (; j < n && vma[j].start < end; j++) {
            const struct lx_vma *w = &vma[j];
            if (w->start < base)
                continue;
            bool same = w->ino == v->ino && w->dev_major == v->dev_major &&
                        w->dev_minor == v->dev_minor;
            bool anon = w->ino == 0 && w->name_kind == LX_NAME_ANON;
            if (same || anon) {
                image[j] = true;
                m.RegionCount++;
            }
        }
        if (add_module(c, &m, name, nl, e->soname) != 0)
            rc = ERROR_NOT_ENOUGH_MEMORY;
    }
    free(cache);
    if (rc == ERROR_SUCCESS && c->d->nmods > 1)
        qsort(c->d->mods, c->d->nmods, sizeof *c->d->mods, cmp_module);
    return rc;
}
