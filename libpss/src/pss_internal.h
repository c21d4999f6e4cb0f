/*
 * pss_internal.h -- types and helpers shared by the libpss modules.  Nothing here is
 * exported (the library is built with -fvisibility=hidden; only PSS_API functions are
 * visible).
 *
 * Ownership rules used throughout:
 *   - A function that returns DWORD returns a Win32 error code and, on failure, has
 *     released everything it allocated itself.
 *   - A function that returns int returns 0 on success or a negative errno value.
 *   - Snapshots are immutable after PssCaptureSnapshot returns; walking only moves the
 *     cursors of a marker.
 */
#ifndef PSS_INTERNAL_H
#define PSS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "processsnapshot.h"

#define PSS_HIDDEN __attribute__((visibility("hidden")))

/* ---------------------------------------------------------------------------------
 * Live handles (registry.c).  A handle is valid exactly while it is registered; the
 * check never reads the memory it points to.  Objects must be 8-byte aligned.
 * ------------------------------------------------------------------------------- */

enum pss_handle_kind {
    PSS_KIND_SNAPSHOT = 1,
    PSS_KIND_MARKER = 2,
    PSS_KIND_PROCESS = 3,
    PSS_KIND_DETAILS = 4 /* HPSSDETAILS (linux_ext.c) */
};

/* ERROR_SUCCESS, ERROR_NOT_ENOUGH_MEMORY, or ERROR_INVALID_PARAMETER (p misaligned or
 * already registered). */
DWORD pss_handle_register(const void *p, enum pss_handle_kind kind) PSS_HIDDEN;
/* True if p is a live handle of that kind. */
bool pss_handle_live(const void *p, enum pss_handle_kind kind) PSS_HIDDEN;
/* Both at once (one lock round trip: the walk checks a snapshot and a marker per call). */
bool pss_handle_live2(const void *p1, enum pss_handle_kind k1, const void *p2,
                      enum pss_handle_kind k2) PSS_HIDDEN;
/* Removes p if it is a live handle of that kind; true if it was (check and removal are
 * one step, so of two concurrent frees exactly one succeeds). */
bool pss_handle_unregister(const void *p, enum pss_handle_kind kind) PSS_HIDDEN;

#define PSS_WALK_CLASS_COUNT 4 /* classes 0..3 have data; 4 (THREAD_NAME) is rejected */

/* ---------------------------------------------------------------------------------
 * Growable buffers
 * ------------------------------------------------------------------------------- */

struct pss_buf {
    char *data;
    size_t len;
    size_t cap;
};

void pss_buf_free(struct pss_buf *b) PSS_HIDDEN;
int pss_buf_reserve(struct pss_buf *b, size_t extra) PSS_HIDDEN;

/* Grows *array (element size elem) so that it holds at least need elements. */
int pss_grow(void **array, size_t *cap, size_t need, size_t elem) PSS_HIDDEN;

/* ---------------------------------------------------------------------------------
 * UTF-16 string pool (utf16.c).  Every string is stored followed by a NUL unit.
 * ------------------------------------------------------------------------------- */

struct pss_strref {
    uint32_t off; /* index of the first unit in the pool */
    uint32_t len; /* units, excluding the NUL; 0 = no string */
};

struct pss_strpool {
    uint16_t *data;
    size_t len;
    size_t cap;
};

/* Longest string a WORD byte length can describe. */
#define PSS_MAX_STRING_UNITS 32767u

/* Converts UTF-8 bytes (invalid bytes -> U+FFFD each) and appends them to the pool.
 * Strings longer than PSS_MAX_STRING_UNITS are truncated.  Returns 0 or -ENOMEM. */
int pss_pool_add_utf8(struct pss_strpool *pool, const char *s, size_t n,
                      struct pss_strref *out) PSS_HIDDEN;
void pss_pool_free(struct pss_strpool *pool) PSS_HIDDEN;

/* Converts into a fixed buffer of cap units, always NUL-terminated (cap >= 1).
 * Returns the number of units written, excluding the NUL. */
size_t pss_utf8_to_utf16_fixed(const char *s, size_t n, uint16_t *dst, size_t cap) PSS_HIDDEN;

/* ---------------------------------------------------------------------------------
 * The snapshot (snapshot.c owns allocation, duplication and release)
 * ------------------------------------------------------------------------------- */

struct pss_thread_rec {
    PSS_THREAD_ENTRY e;  /* ContextRecord is always NULL here */
    int32_t context;     /* index into HPSS__.contexts, or -1 */
};

struct pss_handle_rec {
    PSS_HANDLE_ENTRY e; /* TypeName/ObjectName are always NULL here */
    struct pss_strref type_name;
    struct pss_strref object_name;
};

struct pss_va_rec {
    PSS_VA_SPACE_ENTRY e; /* MappedFileName is always NULL here */
    struct pss_strref file_name;
};

struct HPSS__ {
    uint64_t id; /* random; lets markers notice a different snapshot at the same address */
    uint32_t capture_flags;
    uint32_t context_flags;
    bool have_threads;
    bool have_contexts;
    bool have_handles;
    bool have_va;
    bool have_perf;
    PSS_PROCESS_INFORMATION process;
    PSS_PERFORMANCE_COUNTERS perf;
    struct pss_thread_rec *threads;
    size_t nthreads, cap_threads;
    CONTEXT *contexts;
    size_t ncontexts, cap_contexts;
    struct pss_handle_rec *handles;
    size_t nhandles, cap_handles;
    struct pss_va_rec *va;
    size_t nva, cap_va;
    struct pss_strpool strings;
};

HPSS pss_snapshot_new(void) PSS_HIDDEN;
/* Unregisters (if it was handed out) and frees. */
void pss_snapshot_destroy(HPSS s) PSS_HIDDEN;
bool pss_snapshot_valid(HPSS s) PSS_HIDDEN;

/* ---------------------------------------------------------------------------------
 * Process handles (process_handle.c)
 * ------------------------------------------------------------------------------- */

struct pss_process {
    pid_t pid;
    int pidfd;  /* pins the process identity */
    int procfd; /* O_DIRECTORY fd of /proc/PID; every read is openat() relative to it */
};

/* What a capture works on: borrowed fds of a handle, or fds opened for the caller. */
struct pss_target {
    pid_t pid;
    int procfd;
    bool self;     /* the calling process */
    bool owns_fd;  /* procfd must be closed by pss_target_release */
};

/* PSS_CURRENT_PROCESS or a valid handle -> target.  ERROR_INVALID_HANDLE otherwise. */
DWORD pss_target_resolve(HANDLE h, struct pss_target *t) PSS_HIDDEN;
void pss_target_release(struct pss_target *t) PSS_HIDDEN;
/* True if h denotes the calling process (pseudo-handle or a handle of our own pid).
 * *valid is false if h is not a usable process handle at all. */
bool pss_handle_is_self(HANDLE h, bool *valid) PSS_HIDDEN;

/* ---------------------------------------------------------------------------------
 * /proc readers (procdir.c)
 * ------------------------------------------------------------------------------- */

/* Reads a whole file relative to dirfd into a fixed buffer (NUL-terminated).
 * Returns bytes read or -errno; a file longer than cap-1 is truncated. */
ssize_t pss_read_small(int dirfd, const char *path, char *buf, size_t cap) PSS_HIDDEN;
/* Reads a whole file relative to dirfd into b (replacing its contents).  0 or -errno. */
int pss_read_all(int dirfd, const char *path, struct pss_buf *b) PSS_HIDDEN;
/* A decimal integer at *p (optional '-', then digits) before end: *out, and *p moved past
 * it; false (nothing moved) on no digits and beyond 64 bits.  Values above INT64_MAX come
 * back as their uint64_t bit pattern (procdir.c; the threads phase parses with it too). */
bool pss_parse_i64(const char **p, const char *end, int64_t *out) PSS_HIDDEN;

/* Fields of /proc/PID/stat or /proc/PID/task/TID/stat (proc(5) numbering). */
struct pss_stat {
    char state;               /* 3 */
    int64_t ppid;             /* 4 */
    uint64_t minflt;          /* 10 */
    uint64_t majflt;          /* 12 */
    uint64_t utime;           /* 14 */
    uint64_t stime;           /* 15 */
    int64_t priority;         /* 18 */
    int64_t nice;             /* 19 */
    int64_t num_threads;      /* 20 */
    uint64_t starttime;       /* 22 */
    uint64_t vsize;           /* 23 */
    uint64_t startstack;      /* 28 */
    uint64_t rt_priority;     /* 40 */
    uint64_t policy;          /* 41 */
    int64_t exit_code;        /* 52, 0 if absent */
};

/* Parses stat text (from the last ')').  Returns 0 or -EINVAL. */
int pss_parse_stat(const char *buf, size_t len, struct pss_stat *st) PSS_HIDDEN;

/* Finds "Key:\t<value>" in status text and parses the value as an integer (kB values
 * are returned in kB).  Returns true if found. */
bool pss_status_field(const char *buf, const char *key, uint64_t *value) PSS_HIDDEN;

/* Directory iteration with getdents64 (no allocation per entry). */
struct pss_dirent_iter {
    int fd;
    char *buf;
    size_t cap;
    ssize_t len;
    size_t pos;
};
int pss_dir_open(struct pss_dirent_iter *it, int fd) PSS_HIDDEN; /* takes ownership of fd */
/* Next entry name that is a decimal number; *num receives it.  1 = entry, 0 = end,
 * -errno = error. */
int pss_dir_next_number(struct pss_dirent_iter *it, const char **name, long *num) PSS_HIDDEN;
/* Next entry of any name, with its inode number and d_type.  1, 0 = end, -errno. */
int pss_dir_next_entry(struct pss_dirent_iter *it, const char **name, uint64_t *ino,
                       unsigned char *type) PSS_HIDDEN;
void pss_dir_close(struct pss_dirent_iter *it) PSS_HIDDEN;

/* True when the target has been reaped (its /proc directory is stale). */
bool pss_target_gone(int procfd) PSS_HIDDEN;

/* ---------------------------------------------------------------------------------
 * Utilities (util.c)
 * ------------------------------------------------------------------------------- */

DWORD pss_win32_from_errno(int err) PSS_HIDDEN;

/* Time bases of a capture. */
struct pss_clock {
    int64_t boot_realtime_ns; /* CLOCK_REALTIME - CLOCK_BOOTTIME, read once per load */
    long clk_tck;
    long page_size;
};
void pss_clock_init(struct pss_clock *c) PSS_HIDDEN;
FILETIME pss_filetime_from_unix_ns(int64_t ns) PSS_HIDDEN;
FILETIME pss_filetime_now(void) PSS_HIDDEN;
FILETIME pss_filetime_from_boot_ticks(const struct pss_clock *c, uint64_t ticks) PSS_HIDDEN;
FILETIME pss_filetime_from_duration_ticks(const struct pss_clock *c, uint64_t ticks) PSS_HIDDEN;
uint64_t pss_monotonic_ns(void) PSS_HIDDEN;
uint64_t pss_rdtsc(void) PSS_HIDDEN;
uint64_t pss_random_id(const void *salt) PSS_HIDDEN;

/* Priority mapping (README "Priority mapping"). */
void pss_priority_class(uint64_t policy, uint64_t rt_priority, int64_t nice,
                        DWORD *priority_class, LONG *base_priority) PSS_HIDDEN;
int32_t pss_thread_priority(uint64_t policy, uint64_t rt_priority, int64_t thread_nice,
                            int64_t process_nice, LONG process_base) PSS_HIDDEN;

/* Exit status of a zombie from stat field 52 (a wait status). */
DWORD pss_exit_status_from_wait(int64_t wait_status) PSS_HIDDEN;

ULONG_PTR pss_affinity_of(pid_t tid, bool *ok) PSS_HIDDEN;

/* ---------------------------------------------------------------------------------
 * /proc/PID/maps (maps.c)
 * ------------------------------------------------------------------------------- */

struct pss_vma {
    uint64_t start, end;
    uint64_t offset;
    uint64_t ino;
    uint32_t dev_major, dev_minor;
    uint8_t r, w, x, shared;
    const char *name; /* the distinct names in pss_maps.text (NUL-terminated); NULL if none */
    uint32_t name_len;
    uint32_t name_id; /* index of the distinct name, UINT32_MAX if none */
};

struct pss_maps {
    struct pss_buf text; /* each distinct name once */
    size_t nnames;
    struct pss_vma *vma;
    size_t n, cap;
};

/* Reads and parses maps (1 MiB reads, parsed as they arrive).  Drops lines whose start
 * is below the previous end.  Returns ERROR_SUCCESS or a Win32 code. */
DWORD pss_maps_read(int procfd, struct pss_maps *m) PSS_HIDDEN;
/* pss_maps_read's reader and parser on an open fd, reading chunk bytes at a time. */
DWORD pss_maps_parse_fd(int fd, size_t chunk, struct pss_maps *m) PSS_HIDDEN;
void pss_maps_free(struct pss_maps *m) PSS_HIDDEN;

/* Faults in the pages of a large fresh array (>= 1 MiB) with one madvise
 * (MADV_POPULATE_WRITE) instead of one trap per page; best effort (EINVAL before 5.14).
 * From 4 MiB the 2 MiB-aligned interior is first marked MADV_HUGEPAGE (transparent huge
 * pages in "madvise" mode): one fault, allocation and memcg charge per 2 MiB instead of
 * per 4 KiB (the 200k-mapping process's 38 MB of VA entries and 15 MB of VMAs). */
void pss_prefault(void *p, size_t bytes) PSS_HIDDEN;

/* ---------------------------------------------------------------------------------
 * ELF images (elf_image.c)
 * ------------------------------------------------------------------------------- */

struct pss_elf_info {
    bool is_elf;       /* a loadable ELF (ET_EXEC/ET_DYN) with PT_LOAD segments */
    bool elf32;
    uint64_t min_vaddr; /* page_down(lowest PT_LOAD p_vaddr) */
    uint64_t size_of_image;
    bool have_exec_load;
    uint64_t exec_vaddr;  /* page_down(p_vaddr) of the first PF_X PT_LOAD */
    uint64_t exec_offset; /* page_down(p_offset) of it */
    uint32_t build_id4;   /* first 4 bytes of NT_GNU_BUILD_ID (little-endian) */
    uint32_t mtime32;
};

/* Parses an ELF file through an open fd. */
void pss_elf_from_fd(int fd, long page_size, struct pss_elf_info *info) PSS_HIDDEN;
/* Parses an ELF image already mapped in this process (the vDSO). */
void pss_elf_from_memory(const void *base, size_t size, long page_size,
                         struct pss_elf_info *info) PSS_HIDDEN;
/* Reads the first bytes of the target's executable: true + *elf32 if ELFCLASS32. */
bool pss_exe_is_elf32(int procfd) PSS_HIDDEN;

/* ---------------------------------------------------------------------------------
 * Capture phases
 * ------------------------------------------------------------------------------- */

/* Thread state observed while freezing (capture_context.c). */
struct pss_frozen_thread {
    pid_t tid;
    bool seized;         /* PTRACE_SEIZE succeeded: ours until detached */
    bool stopped;        /* we hold it in a ptrace stop */
    bool exited;         /* it exited while we were attaching */
    bool foreign_tracer; /* someone else traces it: no context */
    bool job_stopped;    /* it was in a group (job-control) stop before we came */
    int pending_signal;  /* signal to re-inject at detach */
};

struct pss_ptracer;      /* the helper task that owns the ptrace links (capture_context.c) */
struct pss_raw_context; /* registers read while frozen (capture_context.c) */

struct pss_freeze {
    struct pss_frozen_thread *t;
    size_t n, cap;
    struct pss_ptracer *tracer;
    struct pss_raw_context *ctx; /* parallel to t, filled once every thread is stopped */
};

struct pss_capture {
    struct pss_target target;
    struct pss_clock clock;
    HPSS snap;
    uint32_t flags;
    uint32_t context_flags;
    int64_t process_nice;
    LONG process_base_priority;
    bool maps_loaded;
    struct pss_maps maps;
    struct pss_freeze freeze;
    bool frozen;
    /* The group leader had exited (its stat said Z) when the process phase looked. */
    bool leader_dead;
    /* When the leader is dead but other threads live (README "A dead group leader"):
     * the O_DIRECTORY fd of /proc/PID/task/TID of one live thread, whose per-process
     * files (maps, fd/, fdinfo/, exe, status memory lines) the leader's no longer show;
     * else -1.  Opened by pss_capture_process, closed by PssCaptureSnapshot. */
    int datafd;
    pid_t data_tid;
};

DWORD pss_capture_process(struct pss_capture *c) PSS_HIDDEN;
/* True if the thread whose files were read (datafd's, or the leader's) still has its
 * memory and files attached, i.e. what was read from it during the capture is whole. */
bool pss_capture_source_intact(const struct pss_capture *c) PSS_HIDDEN;
DWORD pss_capture_threads(struct pss_capture *c) PSS_HIDDEN;
/* Handles run in two steps so that their reading overlaps the other phases: begin lists
 * the fds and may start a helper thread reading them; end reads what is left, joins,
 * counts and adds the entries (or, with abandon, only stops and frees). */
struct handle_pass;
DWORD pss_capture_handles_begin(struct pss_capture *c, struct handle_pass **hp) PSS_HIDDEN;
DWORD pss_capture_handles_end(struct pss_capture *c, struct handle_pass *hp,
                              bool abandon) PSS_HIDDEN;
DWORD pss_capture_vaspace(struct pss_capture *c) PSS_HIDDEN;
/* Loads c->maps once (shared by the VA space and section handles). */
DWORD pss_capture_load_maps(struct pss_capture *c) PSS_HIDDEN;

/* Type-specific data for a pidfd's process (capture_process.c). */
bool pss_describe_other_process(const struct pss_clock *clock, pid_t pid, DWORD *exit_status,
                                uint64_t *peb, ULONG_PTR *affinity, LONG *base_priority,
                                DWORD *ppid, DWORD *flags, FILETIME *create_time) PSS_HIDDEN;

/* Per-target capture locks (capture_context.c): a THREAD_CONTEXT capture of pid holds
 * it exclusively, any other capture of another process shared. */
void pss_target_lock(pid_t pid, bool exclusive) PSS_HIDDEN;
void pss_target_unlock(pid_t pid) PSS_HIDDEN;

/* ptrace freeze (capture_context.c), done by a helper task of its own thread group.
 * pss_thaw_all detaches, reaps the helper and returns ERROR_GEN_FAILURE if the helper
 * had died under us (killed from outside), else ERROR_SUCCESS. */
DWORD pss_freeze_all(struct pss_capture *c) PSS_HIDDEN;
DWORD pss_thaw_all(struct pss_capture *c) PSS_HIDDEN;
const struct pss_frozen_thread *pss_freeze_find(const struct pss_freeze *f, pid_t tid) PSS_HIDDEN;
/* Fills ctx (zeroed by the caller) for a thread stopped by the freeze f, from the
 * registers read when the freeze completed.  Also returns fs_base and the syscall
 * number/first argument (-1 if not in a syscall).  -errno if the thread went away. */
int pss_read_context(const struct pss_freeze *f, pid_t tid, DWORD flags, CONTEXT *ctx,
                     uint64_t *fs_base, int64_t *syscall_nr,
                     uint64_t *syscall_arg0) PSS_HIDDEN;

#endif /* PSS_INTERNAL_H */
