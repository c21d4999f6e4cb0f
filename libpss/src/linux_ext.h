/*
 * linux_ext.h -- internals of the inspection-details extension (PssLinuxCaptureDetails,
 * include/processsnapshot.h "Linux extensions: inspection details").  Everything here is
 * hidden; the phases live in linux_ext_*.c.
 */
#ifndef PSS_LINUX_EXT_H
#define PSS_LINUX_EXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pss_internal.h"

/* A module while the capture builds it (strings are offsets into the string pool). */
struct lx_module {
    PSS_DETAILS_MODULE m; /* Path/Soname are NULL until finalised */
    uint32_t path_off, soname_off;
};

struct HPSSDETAILS__ {
    PSS_DETAILS_INFORMATION info;
    PSS_DETAILS_THREAD *threads;
    size_t nthreads, cap_threads;
    PSS_DETAILS_HANDLE *handles;
    size_t nhandles, cap_handles;
    PSS_DETAILS_REGION *regions;
    size_t nregions, cap_regions;
    struct lx_module *mods;
    size_t nmods, cap_mods;
    PSS_DETAILS_MODULE *modules; /* finalised copies with string pointers */
    char *strings;               /* NUL-separated UTF-8 strings of the modules */
    size_t strings_len, strings_cap;
};

/* A thread's user stack pointer, for finding stacks (from task/TID/syscall). */
struct lx_sp {
    uint64_t sp;
    uint32_t tid;
};

/* One capture in progress. */
struct lx_capture {
    struct pss_target target;
    struct pss_clock clock;
    HPSSDETAILS d;
    DWORD flags;
    bool keep_threads; /* thread records are part of the result (else only the SPs) */
    struct lx_sp *sps;
    size_t nsps, cap_sps;
};

/* Phases.  Each returns ERROR_SUCCESS or the Win32 code of the part; only
 * ERROR_NOT_ENOUGH_MEMORY and ERROR_PROCESS_ABORTED abort the whole capture. */
DWORD lx_capture_threads(struct lx_capture *c) PSS_HIDDEN;
DWORD lx_capture_handles(struct lx_capture *c) PSS_HIDDEN;
DWORD lx_capture_peers(struct lx_capture *c) PSS_HIDDEN;
DWORD lx_capture_regions(struct lx_capture *c) PSS_HIDDEN;

/* ---- shared helpers (linux_ext.c) ---- */

/* Appends a NUL-terminated copy of s[0..n) to the string pool; *off receives its offset. */
int lx_add_string(HPSSDETAILS d, const char *s, size_t n, uint32_t *off) PSS_HIDDEN;
/* Win32 code for a failed /proc read (-errno). */
DWORD lx_read_error(int neg_errno) PSS_HIDDEN;

/* ---- modules (linux_ext_modules.c) ---- */

/* One file-backed or special VMA as the regions phase parsed it. */
struct lx_vma {
    uint64_t start, end, offset, ino;
    uint32_t dev_major, dev_minor;
    uint8_t r, w, x, shared;
    uint8_t name_kind; /* LX_NAME_* */
    uint32_t name_off, name_len; /* into the regions phase's name pool (file names) */
};

enum {
    LX_NAME_ANON = 0,   /* no name */
    LX_NAME_FILE,       /* a path */
    LX_NAME_HEAP,       /* [heap] */
    LX_NAME_STACK,      /* [stack] */
    LX_NAME_VDSO,       /* [vdso] */
    LX_NAME_KERNEL,     /* [vvar], [vvar_vclock], [vsyscall] */
    LX_NAME_ANON_NAMED, /* [anon:...] */
    LX_NAME_ANON_SHMEM, /* [anon_shmem:...] */
    LX_NAME_OTHER,      /* any other [..] */
};

/* Finds the ELF images among vma[0..n) (address order), appends modules to c->d and sets
 * image[i] = true for every VMA that belongs to an image.  names is the pool name_off
 * refers to. */
DWORD lx_find_modules(struct lx_capture *c, const struct lx_vma *vma, size_t n,
                      const char *names, bool *image) PSS_HIDDEN;

/* Parses the ELF file behind fd: build-id, soname, load segments (for tests too). */
struct lx_elf {
    bool ok;          /* ET_EXEC/ET_DYN with PT_LOAD segments */
    bool elf32, dyn;
    uint64_t min_vaddr, max_vaddr; /* page_down(lowest PT_LOAD), end of the highest */
    uint64_t exec_vaddr[4], exec_offset[4]; /* page_down of executable PT_LOADs */
    unsigned nexec;
    uint8_t build_id[64];
    uint32_t build_id_len;
    char soname[256];
};
void lx_elf_parse_fd(int fd, long page_size, struct lx_elf *e) PSS_HIDDEN;
void lx_elf_parse_memory(const void *base, size_t size, long page_size,
                         struct lx_elf *e) PSS_HIDDEN;

#endif /* PSS_LINUX_EXT_H */
