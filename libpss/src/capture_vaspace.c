/*
 * capture_vaspace.c -- PSS_CAPTURE_VA_SPACE: one entry per /proc/PID/maps line plus
 * MEM_FREE entries for the gaps, the way a VirtualQueryEx loop reports them.
 *
 * Classification (linux-mapping.md section 1.4):
 *   MEM_IMAGE    VMAs of a loaded ELF image: a file VMA at offset 0 whose ELF header says
 *                ET_EXEC/ET_DYN and whose first PF_X PT_LOAD is mapped executable, from the
 *                same file, at base + page_down(p_vaddr) - page_down(min p_vaddr); then
 *                every VMA of that file (and anonymous .bss tail) inside base+SizeOfImage.
 *                Also [vdso].  A VMA that crosses the image end (the kernel merged an
 *                anonymous mapping placed right after it into the .bss VMA) is split
 *                there: the part past the end is what it would be on its own
 *                (MEM_PRIVATE for anonymous memory), its own allocation.
 *   MEM_MAPPED   other file-backed VMAs, [vvar], [vvar_vclock], [vsyscall].
 *   MEM_PRIVATE  private anonymous memory.
 * ELF headers are read once per file (cache keyed by dev:inode) through
 * /proc/PID/map_files/START-END (exact inode, works for deleted files; needs
 * CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN) or else through the path, accepted only if its
 * st_dev/st_ino equal the maps dev:inode.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "pss_internal.h"

#define USER_TOP_47 UINT64_C(0x00007ffffffff000)
#define USER_TOP_56 UINT64_C(0x00fffffffffff000)
#define KERNEL_HALF UINT64_C(0xffff800000000000)

struct elf_slot {
    bool used;
    uint32_t dev_major, dev_minor;
    uint64_t ino;
    struct pss_elf_info info;
};

struct elf_cache {
    struct elf_slot *slot;
    size_t cap; /* power of two */
};

static bool name_is(const struct pss_vma *v, const char *s)
{
    size_t n = strlen(s);
    return v->name_len == n && memcmp(v->name, s, n) == 0;
}

static bool is_file_backed(const struct pss_vma *v)
{
    return v->ino != 0 || (v->name_len > 0 && v->name[0] == '/');
}

static bool same_file(const struct pss_vma *a, const struct pss_vma *b)
{
    return a->ino == b->ino && a->dev_major == b->dev_major && a->dev_minor == b->dev_minor &&
           a->ino != 0;
}

static DWORD protect_of(const struct pss_vma *v)
{
    bool cow = !v->shared && is_file_backed(v);
    if (v->x) {
        if (v->w)
            return cow ? PAGE_EXECUTE_WRITECOPY : PAGE_EXECUTE_READWRITE;
        return v->r ? PAGE_EXECUTE_READ : PAGE_EXECUTE;
    }
    if (v->w)
        return cow ? PAGE_WRITECOPY : PAGE_READWRITE;
    return v->r ? PAGE_READONLY : PAGE_NOACCESS;
}

static uint64_t read_mmap_min_addr(void)
{
    char buf[64];
    ssize_t n = pss_read_small(AT_FDCWD, "/proc/sys/vm/mmap_min_addr", buf, sizeof buf);
    if (n <= 0)
        return 4096;
    uint64_t v = strtoull(buf, NULL, 10);
    return v;
}

static int open_mapped_file(int procfd, const struct pss_vma *v)
{
    char path[64];
    snprintf(path, sizeof path, "map_files/%llx-%llx", (unsigned long long)v->start,
             (unsigned long long)v->end);
    int fd = openat(procfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd >= 0)
        return fd;
    /* Fall back to the path text, accepted only if it is still the same inode. */
    if (v->name_len == 0 || v->name[0] != '/' || v->name_len >= 4096)
        return -1;
    char name[4096];
    memcpy(name, v->name, v->name_len);
    name[v->name_len] = '\0';
    fd = open(name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_ino != v->ino ||
        st.st_dev != makedev(v->dev_major, v->dev_minor)) {
        close(fd);
        return -1;
    }
    return fd;
}

static const struct pss_elf_info *elf_lookup(struct elf_cache *ec, int procfd, long ps,
                                             const struct pss_vma *v)
{
    uint64_t h = v->ino * UINT64_C(0x9E3779B97F4A7C15) ^ ((uint64_t)v->dev_major << 20) ^
                 v->dev_minor;
    size_t i = (size_t)(h >> 17) & (ec->cap - 1);
    while (ec->slot[i].used) {
        struct elf_slot *s = &ec->slot[i];
        if (s->ino == v->ino && s->dev_major == v->dev_major && s->dev_minor == v->dev_minor)
            return &s->info;
        i = (i + 1) & (ec->cap - 1);
    }
    struct elf_slot *s = &ec->slot[i];
    s->used = true;
    s->ino = v->ino;
    s->dev_major = v->dev_major;
    s->dev_minor = v->dev_minor;
    memset(&s->info, 0, sizeof s->info);
    int fd = open_mapped_file(procfd, v);
    if (fd >= 0) {
        pss_elf_from_fd(fd, ps, &s->info);
        close(fd);
    }
    return &s->info;
}

/* Per-VMA classification computed before the entries are emitted. */
struct vma_class {
    DWORD type;
    uint64_t alloc_base;
    DWORD alloc_protect;
    const struct pss_elf_info *image; /* MEM_IMAGE: the image's ELF facts */
    uint64_t image_end;               /* MEM_IMAGE: AllocationBase + SizeOfImage */
    DWORD plain_type;                 /* the type without the image (for a split tail) */
};

/* A new zeroed entry at the end of the VA list (filled in place), or NULL. */
static struct pss_va_rec *add_entry(HPSS s)
{
    if (pss_grow((void **)&s->va, &s->cap_va, s->nva + 1, sizeof *s->va) != 0)
        return NULL;
    struct pss_va_rec *r = &s->va[s->nva++];
    memset(r, 0, sizeof *r);
    return r;
}

static DWORD add_free(HPSS s, uint64_t start, uint64_t end)
{
    struct pss_va_rec *r = add_entry(s);
    if (r == NULL)
        return ERROR_NOT_ENOUGH_MEMORY;
    r->e.BaseAddress = (void *)(uintptr_t)start;
    r->e.RegionSize = end - start;
    r->e.State = MEM_FREE;
    r->e.Protect = PAGE_NOACCESS;
    return ERROR_SUCCESS;
}

static void classify(struct pss_capture *c, struct vma_class *cls, struct elf_cache *ec,
                     const struct pss_elf_info *vdso)
{
    const struct pss_maps *m = &c->maps;
    const long ps = c->clock.page_size;

    for (size_t i = 0; i < m->n; i++) {
        const struct pss_vma *v = &m->vma[i];
        cls[i].image = NULL;
        cls[i].alloc_base = v->start;
        cls[i].alloc_protect = protect_of(v);
        if (is_file_backed(v))
            cls[i].type = MEM_MAPPED;
        else if (name_is(v, "[vdso]"))
            cls[i].type = MEM_IMAGE;
        else if (name_is(v, "[vvar]") || name_is(v, "[vvar_vclock]") ||
                 name_is(v, "[vsyscall]") || v->shared)
            cls[i].type = MEM_MAPPED;
        else
            cls[i].type = MEM_PRIVATE;
        cls[i].plain_type = cls[i].type;
        cls[i].image_end = UINT64_MAX;
        if (cls[i].type == MEM_IMAGE && vdso != NULL && vdso->is_elf) {
            cls[i].image = vdso;
            cls[i].image_end = v->start + vdso->size_of_image;
        }
    }

    /* Images. */
    for (size_t i = 0; i < m->n; i++) {
        const struct pss_vma *v = &m->vma[i];
        if (cls[i].type != MEM_MAPPED || v->ino == 0 || v->offset != 0 || cls[i].image)
            continue;
        const struct pss_elf_info *info = elf_lookup(ec, c->target.procfd, ps, v);
        if (!info->is_elf || !info->have_exec_load)
            continue;
        const uint64_t base = v->start;
        const uint64_t exec_addr = base + (info->exec_vaddr - info->min_vaddr);
        const uint64_t end = base + info->size_of_image;
        bool found = false;
        for (size_t j = i; j < m->n && m->vma[j].start <= exec_addr; j++) {
            const struct pss_vma *w = &m->vma[j];
            if (w->start == exec_addr && w->x && same_file(w, v) && w->offset == info->exec_offset) {
                found = true;
                break;
            }
        }
        if (!found)
            continue;
        const DWORD base_protect = protect_of(v);
        for (size_t k = i; k < m->n && m->vma[k].start < end; k++) {
            const struct pss_vma *w = &m->vma[k];
            bool bss = w->ino == 0 && w->name_len == 0 && !w->shared;
            if (!same_file(w, v) && !bss)
                continue;
            cls[k].type = MEM_IMAGE;
            cls[k].image = info;
            cls[k].alloc_base = base;
            cls[k].alloc_protect = base_protect;
            cls[k].image_end = end;
        }
    }

    /* Allocation groups of the other file mappings: address- and offset-contiguous runs
     * of the same file. */
    for (size_t i = 1; i < m->n; i++) {
        const struct pss_vma *v = &m->vma[i];
        const struct pss_vma *p = &m->vma[i - 1];
        if (cls[i].type != MEM_MAPPED || cls[i - 1].type != MEM_MAPPED || !same_file(v, p))
            continue;
        if (p->end == v->start && p->offset + (p->end - p->start) == v->offset) {
            cls[i].alloc_base = cls[i - 1].alloc_base;
            cls[i].alloc_protect = cls[i - 1].alloc_protect;
        }
    }
}

/* Emits [start, end) of VMA v with classification k. */
static DWORD emit_range(struct pss_capture *c, const struct pss_vma *v, const struct vma_class *k,
                        uint64_t start, uint64_t end, struct pss_strref *name_refs)
{
    HPSS s = c->snap;
    const bool section = (c->flags & PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION) != 0;
    struct pss_strref name = {0, 0};
    if (section && v->name_id != UINT32_MAX) {
        /* Every VMA with the same name shares one pool string. */
        name = name_refs[v->name_id];
        if (name.len == 0) {
            if (pss_pool_add_utf8(&s->strings, v->name, v->name_len, &name) != 0)
                return ERROR_NOT_ENOUGH_MEMORY;
            name_refs[v->name_id] = name;
        }
    }
    struct pss_va_rec *r = add_entry(s);
    if (r == NULL)
        return ERROR_NOT_ENOUGH_MEMORY;
    PSS_VA_SPACE_ENTRY *e = &r->e;
    e->BaseAddress = (void *)(uintptr_t)start;
    e->AllocationBase = (void *)(uintptr_t)k->alloc_base;
    e->AllocationProtect = k->alloc_protect;
    e->RegionSize = end - start;
    e->Protect = protect_of(v);
    e->Type = k->type;
    e->State = (k->type == MEM_PRIVATE && !v->r && !v->w && !v->x) ? MEM_RESERVE : MEM_COMMIT;
    if (section && k->type == MEM_IMAGE && k->image != NULL) {
        e->ImageBase = (void *)(uintptr_t)k->image->min_vaddr;
        e->SizeOfImage = (DWORD)k->image->size_of_image;
        e->CheckSum = k->image->build_id4;
        e->TimeDateStamp = k->image->mtime32;
    }
    e->MappedFileNameLength = (WORD)(name.len * 2u);
    r->file_name = name;
    return ERROR_SUCCESS;
}

static DWORD emit_vma(struct pss_capture *c, const struct pss_vma *v, const struct vma_class *k,
                      struct pss_strref *name_refs)
{
    if (k->type != MEM_IMAGE || v->end <= k->image_end || v->start >= k->image_end)
        return emit_range(c, v, k, v->start, v->end, name_refs);
    /* The VMA crosses the image end: the image part, then the rest on its own. */
    DWORD rc = emit_range(c, v, k, v->start, k->image_end, name_refs);
    if (rc != ERROR_SUCCESS)
        return rc;
    struct vma_class tail = *k;
    tail.type = k->plain_type == MEM_IMAGE ? MEM_PRIVATE : k->plain_type;
    tail.image = NULL;
    tail.alloc_base = k->image_end;
    tail.alloc_protect = protect_of(v);
    tail.image_end = UINT64_MAX;
    return emit_range(c, v, &tail, k->image_end, v->end, name_refs);
}

DWORD pss_capture_load_maps(struct pss_capture *c)
{
    if (c->maps_loaded)
        return ERROR_SUCCESS;
    DWORD rc = pss_maps_read(c->target.procfd, &c->maps);
    if (rc == ERROR_PROCESS_ABORTED && !pss_target_gone(c->target.procfd))
        rc = ERROR_ACCESS_DENIED; /* hidepid-style ENOENT on a live process */
    if (rc == ERROR_SUCCESS)
        c->maps_loaded = true;
    return rc;
}

DWORD pss_capture_vaspace(struct pss_capture *c)
{
    DWORD rc = pss_capture_load_maps(c);
    if (rc != ERROR_SUCCESS)
        return rc;
    const struct pss_maps *m = &c->maps;
    HPSS s = c->snap;

    struct vma_class *cls = NULL;
    struct elf_cache ec = {NULL, 0};
    struct pss_strref *name_refs = NULL;
    if (m->n > 0) {
        cls = malloc(m->n * sizeof *cls);
        size_t cap = 64;
        while (cap < m->n * 2)
            cap *= 2;
        ec.slot = calloc(cap, sizeof *ec.slot);
        ec.cap = cap;
        name_refs = calloc(m->nnames + 1, sizeof *name_refs);
        /* Entries: the VMAs, a free gap before each, a split tail after an image, the
         * last gap. */
        if (cls == NULL || ec.slot == NULL || name_refs == NULL ||
            pss_grow((void **)&s->va, &s->cap_va, s->nva + 2 * m->n + 2, sizeof *s->va) != 0) {
            free(cls);
            free(ec.slot);
            free(name_refs);
            return ERROR_NOT_ENOUGH_MEMORY;
        }
        pss_prefault(s->va + s->nva, (2 * m->n + 2) * sizeof *s->va); /* ~all are used */
        pss_prefault(cls, m->n * sizeof *cls);
    }

    struct pss_elf_info vdso_info;
    const struct pss_elf_info *vdso = NULL;
    const void *vdso_base = (const void *)(uintptr_t)getauxval(AT_SYSINFO_EHDR);
    if (vdso_base != NULL) {
        pss_elf_from_memory(vdso_base, (size_t)c->clock.page_size, c->clock.page_size,
                            &vdso_info);
        if (vdso_info.is_elf) {
            size_t size = (size_t)vdso_info.size_of_image;
            pss_elf_from_memory(vdso_base, size, c->clock.page_size, &vdso_info);
            vdso = &vdso_info;
        }
    }
    if (m->n > 0)
        classify(c, cls, &ec, vdso);

    uint64_t top = USER_TOP_47;
    for (size_t i = 0; i < m->n; i++)
        if (m->vma[i].end > USER_TOP_47 && m->vma[i].start < KERNEL_HALF)
            top = USER_TOP_56;

    uint64_t cursor = read_mmap_min_addr();
    bool tail_done = false;
    rc = ERROR_SUCCESS;
    for (size_t i = 0; i < m->n && rc == ERROR_SUCCESS; i++) {
        const struct pss_vma *v = &m->vma[i];
        if (v->start >= top) {
            if (!tail_done && cursor < top)
                rc = add_free(s, cursor, top);
            tail_done = true;
            if (rc == ERROR_SUCCESS)
                rc = emit_vma(c, v, &cls[i], name_refs);
            continue;
        }
        if (v->start > cursor)
            rc = add_free(s, cursor, v->start);
        if (rc == ERROR_SUCCESS)
            rc = emit_vma(c, v, &cls[i], name_refs);
        if (v->end > cursor)
            cursor = v->end;
    }
    if (rc == ERROR_SUCCESS && !tail_done && cursor < top)
        rc = add_free(s, cursor, top);

    free(cls);
    free(ec.slot);
    free(name_refs);
    if (rc == ERROR_SUCCESS)
        s->have_va = true;
    return rc;
}
