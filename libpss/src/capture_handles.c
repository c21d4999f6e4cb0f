/*
 * capture_handles.c -- PSS_CAPTURE_HANDLES: one PSS_HANDLE_ENTRY per /proc/PID/fd entry
 * (linux-mapping.md section 1.3; libpss/README.md "Handles").
 *
 * One consistent identity per entry.  The target keeps running, so an fd number can be
 * closed, or re-pointed (dup2) at another object, between any two reads.  Every entry is
 * therefore built from one identity:
 *   1. fdinfo/N is read first: flags, mnt_id, ino and the file type's own fields (eventfd
 *      counter and id, timerfd clock, signalfd mask, pidfd Pid, epoll/inotify watches)
 *      come from that single read of the open file description.
 *   2. Facts about the object (name, file type, size, times, socket protocol) come from
 *      an O_PATH descriptor of our own opened through /proc/PID/fd/N (the "pin"): it
 *      refers to the same path and inode for as long as we hold it, whatever the target
 *      does with N.  The pin's inode and mount must be fdinfo's ino and mnt_id, else N
 *      changed between the two reads and the fd is read again (up to MAX_ATTEMPTS times;
 *      an fd that changes on every attempt is left out, like one that closed).
 *   3. Where fdinfo alone determines everything, no pin is needed: fds on the kernel's
 *      internal pipefs, anon_inodefs and pidfs mounts whose name is a function of
 *      fdinfo ("pipe:[ino]", "anon_inode:[timerfd]" for an fd with a clockid field, ...).
 *      Those names are not assumed: each mount's kind and each derived name are learned
 *      in this capture from a pinned read (readlink text compared with the derivation)
 *      before any fd relies on them.
 * An fd whose path is longer than PATH_MAX cannot be read with readlink (the kernel
 * answers ENAMETOOLONG whatever the buffer); it is reported without a name, except a
 * directory, whose path is rebuilt by walking ".." from the pin.
 *
 * HandleCount: fds are grouped by facts that never change for an open file description
 * (mnt_id, inode, kind, access mode and creation flags, eventfd id, timerfd clock).  A
 * socket has exactly one description and an eventfd id names exactly one, so those
 * groups are exact.  Other groups of two or more are ordered with kcmp(KCMP_FILE) (a
 * merge sort: memory-safe even if the target changes fds meanwhile) and then verified
 * pair by pair; equal neighbours share a description.  An fd that closed meanwhile
 * (EBADF) is taken out of its group and counts 1; a group found out of order (an fd was
 * re-pointed during the sort) is sorted again.  No failure of one fd touches another
 * group.  Without kcmp permission the ambiguous groups count 1 each.
 *
 * Speed: a second thread reads half of the fds (while the caller's thread captures the VA
 * space, then joins the reading), probes the anon groups' descriptions in a private fd
 * table (dedup_probe, prober_setup) and sorts half of the large groups.  Self-captures
 * stay on one thread (the pins must not be mistaken for the caller's own fds).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/kcmp.h>
#include <linux/magic.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/epoll.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "pss_internal.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC 0x19800202
#endif
#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif

#define MAX_ATTEMPTS 8
#define READ_CHUNK 32             /* fds a reader takes at a time */
#define PARALLEL_MIN_FDS 512      /* below this a second thread costs more than it saves */
#define SPLIT_GROUP_MIN 1024      /* kcmp groups at least this large are sorted in halves */
#define SORT_ROUNDS 4             /* sort+verify rounds for a group that keeps changing */
#define MAX_MNTS 32

enum fd_kind {
    K_UNKNOWN,
    K_FILE,
    K_DIR,
    K_DEVICE,
    K_PIPE,
    K_SOCKET,
    K_EVENTFD,
    K_PIDFD,
    K_TIMERFD,
    K_SIGNALFD,
    K_EPOLL,
    K_INOTIFY,
    K_FANOTIFY,
    K_USERFAULTFD,
    K_ANON_OTHER,
    K_MEMFD,
    K_SHM,
    K_SECTION,
    K_MQUEUE,
    K_NAMESPACE,
    K_COUNT
};

static const char *const kind_type_name[K_COUNT] = {
    [K_UNKNOWN] = "Unknown",     [K_FILE] = "File",         [K_DIR] = "Directory",
    [K_DEVICE] = "Device",       [K_PIPE] = "Pipe",         [K_SOCKET] = "Socket",
    [K_EVENTFD] = "EventFd",     [K_PIDFD] = "PidFd",       [K_TIMERFD] = "Timer",
    [K_SIGNALFD] = "SignalFd",   [K_EPOLL] = "Epoll",       [K_INOTIFY] = "Inotify",
    [K_FANOTIFY] = "Fanotify",   [K_USERFAULTFD] = "UserFaultFd",
    [K_ANON_OTHER] = "AnonInode", [K_MEMFD] = "MemFd",      [K_SHM] = "Shm",
    [K_SECTION] = "Section",     [K_MQUEUE] = "MessageQueue", [K_NAMESPACE] = "Namespace",
};

/* The readlink text of anon-inode kinds whose fdinfo has fields of their own. */
static const char *const anon_link[K_COUNT] = {
    [K_EVENTFD] = "anon_inode:[eventfd]",  [K_PIDFD] = "anon_inode:[pidfd]",
    [K_TIMERFD] = "anon_inode:[timerfd]",  [K_SIGNALFD] = "anon_inode:[signalfd]",
    [K_EPOLL] = "anon_inode:[eventpoll]",  [K_INOTIFY] = "anon_inode:inotify",
    [K_FANOTIFY] = "anon_inode:[fanotify]",
};

/* ---------------------------------------------------------------------------------
 * fdinfo
 * ------------------------------------------------------------------------------- */

struct fdinfo {
    uint64_t flags;
    uint64_t mnt_id;
    uint64_t ino;
    bool have_ino, have_mnt;
    enum fd_kind sig; /* kind named by the type's own fields; K_UNKNOWN if none */
    uint64_t eventfd_count;
    uint64_t eventfd_id;
    bool have_eventfd_id;
    bool eventfd_semaphore;
    int64_t pid;
    uint64_t clockid;
};

/* An unsigned field as the kernel prints it (base 8, 10 or 16, after blanks); the same
 * value strtoull gives for such text, saturating at UINT64_MAX, without its locale and
 * sign handling (a fifth of the per-fd user time on the 19,000-timerfd process). */
static uint64_t parse_u(const char *s, unsigned base)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
        ((s[2] >= '0' && s[2] <= '9') || ((s[2] | 0x20) >= 'a' && (s[2] | 0x20) <= 'f')))
        s += 2;
    uint64_t v = 0;
    bool over = false;
    for (;; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
            d = (unsigned)((*s | 0x20) - 'a' + 10);
        else
            break;
        if (d >= base)
            break;
        if (v > (UINT64_MAX - d) / base)
            over = true;
        else
            v = v * base + d;
    }
    return over ? UINT64_MAX : v;
}

static void parse_fdinfo(const char *buf, struct fdinfo *fi)
{
    memset(fi, 0, sizeof *fi);
    const char *p = buf;
    while (*p) {
        const char *eol = strchr(p, '\n');
        switch (*p) {
        case 'f':
            if (strncmp(p, "flags:", 6) == 0)
                fi->flags = parse_u(p + 6, 8);
            else if (strncmp(p, "fanotify ", 9) == 0 && fi->sig == K_UNKNOWN)
                fi->sig = K_FANOTIFY;
            break;
        case 'm':
            if (strncmp(p, "mnt_id:", 7) == 0) {
                fi->mnt_id = parse_u(p + 7, 10);
                fi->have_mnt = true;
            }
            break;
        case 'i':
            if (strncmp(p, "ino:", 4) == 0) {
                fi->ino = parse_u(p + 4, 10);
                fi->have_ino = true;
            } else if (strncmp(p, "inotify ", 8) == 0 && fi->sig == K_UNKNOWN) {
                fi->sig = K_INOTIFY;
            }
            break;
        case 'e':
            if (strncmp(p, "eventfd-count:", 14) == 0) {
                fi->eventfd_count = parse_u(p + 14, 16);
                fi->sig = K_EVENTFD;
            } else if (strncmp(p, "eventfd-id:", 11) == 0) {
                fi->eventfd_id = parse_u(p + 11, 10);
                fi->have_eventfd_id = true;
            } else if (strncmp(p, "eventfd-semaphore:", 18) == 0) {
                fi->eventfd_semaphore = parse_u(p + 18, 10) != 0;
            }
            break;
        case 'c':
            if (strncmp(p, "clockid:", 8) == 0) {
                fi->clockid = parse_u(p + 8, 10);
                fi->sig = K_TIMERFD;
            }
            break;
        case 's':
            if (strncmp(p, "sigmask:", 8) == 0)
                fi->sig = K_SIGNALFD;
            break;
        case 'P':
            if (strncmp(p, "Pid:", 4) == 0) {
                fi->pid = strtoll(p + 4, NULL, 10);
                fi->sig = K_PIDFD;
            }
            break;
        case 't':
            if (strncmp(p, "tfd:", 4) == 0 && fi->sig == K_UNKNOWN)
                fi->sig = K_EPOLL;
            break;
        default:
            break;
        }
        if (eol == NULL)
            break;
        p = eol + 1;
    }
}

/* ---------------------------------------------------------------------------------
 * Classification
 * ------------------------------------------------------------------------------- */

static bool starts_with(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(s, prefix, k) == 0;
}

static enum fd_kind classify_link(const char *link, size_t n)
{
    if (n > 0 && link[0] == '/')
        return K_FILE; /* refined by statx */
    if (starts_with(link, n, "anon_inode:")) {
        const char *a = link + 11;
        size_t an = n - 11;
        if (starts_with(a, an, "[eventfd]"))
            return K_EVENTFD;
        if (starts_with(a, an, "[pidfd]"))
            return K_PIDFD;
        if (starts_with(a, an, "[timerfd]"))
            return K_TIMERFD;
        if (starts_with(a, an, "[signalfd]"))
            return K_SIGNALFD;
        if (starts_with(a, an, "[eventpoll]"))
            return K_EPOLL;
        if (starts_with(a, an, "inotify"))
            return K_INOTIFY;
        if (starts_with(a, an, "[fanotify]"))
            return K_FANOTIFY;
        if (starts_with(a, an, "[userfaultfd]"))
            return K_USERFAULTFD;
        return K_ANON_OTHER;
    }
    if (starts_with(link, n, "pipe:["))
        return K_PIPE;
    if (starts_with(link, n, "socket:["))
        return K_SOCKET;
    if (starts_with(link, n, "pidfd:"))
        return K_PIDFD;
    /* "net:[4026531840]" and friends: namespace files. */
    const char *colon = memchr(link, ':', n);
    if (colon != NULL && (size_t)(colon - link) + 1 < n && colon[1] == '[')
        return K_NAMESPACE;
    return K_UNKNOWN;
}

/* The number in "pipe:[123]" / "socket:[123]"; false if the text is not of that form. */
static bool bracket_number(const char *link, size_t n, size_t prefix, uint64_t *out)
{
    if (n < prefix + 2 || link[n - 1] != ']')
        return false;
    uint64_t v = 0;
    for (size_t i = prefix; i < n - 1; i++) {
        if (link[i] < '0' || link[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(link[i] - '0');
    }
    *out = v;
    return true;
}

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * UINT64_C(0x100000001b3);
    return h;
}

static bool is_anon_kind(enum fd_kind k)
{
    return k == K_EVENTFD || k == K_PIDFD || k == K_TIMERFD || k == K_SIGNALFD ||
           k == K_EPOLL || k == K_INOTIFY || k == K_FANOTIFY || k == K_USERFAULTFD ||
           k == K_ANON_OTHER;
}

static bool is_section(enum fd_kind k)
{
    return k == K_MEMFD || k == K_SHM || k == K_SECTION;
}

/* Can this readlink text and this fdinfo describe the same anon-inode file?  The kind
 * named by fdinfo's own fields must be the link's kind; kinds without fields of their
 * own must at least have their fixed access mode. */
static bool anon_consistent(enum fd_kind link_kind, const struct fdinfo *fi)
{
    if (fi->sig != K_UNKNOWN)
        return fi->sig == link_kind;
    switch (link_kind) {
    case K_EVENTFD:
    case K_TIMERFD:
    case K_SIGNALFD:
    case K_PIDFD:
        return false; /* these always print their fields */
    case K_EPOLL:
        return (fi->flags & (O_ACCMODE | O_PATH)) == O_RDWR ||
               (fi->flags & O_PATH) != 0;
    case K_INOTIFY:
        return (fi->flags & (O_ACCMODE | O_PATH)) == O_RDONLY ||
               (fi->flags & O_PATH) != 0;
    default:
        return true;
    }
}

static DWORD granted_access(enum fd_kind kind, uint64_t flags, bool thread_pidfd)
{
    if (flags & O_PATH)
        return FILE_READ_ATTRIBUTES | SYNCHRONIZE;
    uint64_t acc = flags & O_ACCMODE;
    bool rd = acc == O_RDONLY || acc == O_RDWR;
    bool wr = acc == O_WRONLY || acc == O_RDWR;
    switch (kind) {
    case K_EVENTFD:
        return EVENT_ALL_ACCESS;
    case K_PIDFD:
        return (thread_pidfd ? THREAD_QUERY_LIMITED_INFORMATION
                             : PROCESS_QUERY_LIMITED_INFORMATION) |
               SYNCHRONIZE;
    case K_MEMFD:
    case K_SHM:
    case K_SECTION:
        return SECTION_QUERY | SECTION_MAP_READ | (wr ? SECTION_MAP_WRITE : 0u);
    default:
        break;
    }
    DWORD a = 0;
    if (rd)
        a |= FILE_GENERIC_READ;
    if (wr) {
        DWORD w = FILE_GENERIC_WRITE;
        if (flags & O_APPEND)
            w &= ~FILE_WRITE_DATA; /* FILE_APPEND_DATA stays */
        a |= w;
    }
    return a;
}

/* CreationTime: the birth time if the filesystem knows one (non-zero), else the change
 * time if non-zero, else 0 -- "unknown" (sockets have neither). */
static FILETIME creation_time(const struct statx *sx)
{
    const struct statx_timestamp *t = NULL;
    if ((sx->stx_mask & STATX_BTIME) && (sx->stx_btime.tv_sec != 0 || sx->stx_btime.tv_nsec != 0))
        t = &sx->stx_btime;
    else if ((sx->stx_mask & STATX_CTIME) &&
             (sx->stx_ctime.tv_sec != 0 || sx->stx_ctime.tv_nsec != 0))
        t = &sx->stx_ctime;
    if (t == NULL) {
        FILETIME zero = {0, 0};
        return zero;
    }
    return pss_filetime_from_unix_ns((int64_t)t->tv_sec * 1000000000 + t->tv_nsec);
}

/* ---------------------------------------------------------------------------------
 * Per-fd records
 * ------------------------------------------------------------------------------- */

enum fd_status { FD_PENDING, FD_RECORDED, FD_GONE };

/* Membership test of an anon file's open file description (see dedup_probe). */
enum dedup_state { DEDUP_NONE, DEDUP_FIRST, DEDUP_SEEN, DEDUP_UNKNOWN };

enum name_form {
    NAME_NONE,   /* no name (not requested, or a path the kernel cannot render) */
    NAME_ARENA,  /* text in the reader's arena */
    NAME_PIPE,   /* "pipe:[ino]" */
    NAME_SOCKET, /* "socket:[ino]" */
    NAME_ANON,   /* anon_link[kind] */
};

struct fd_rec {
    PSS_HANDLE_ENTRY e; /* everything but the strings */
    int fd;
    uint8_t status;
    uint8_t kind;
    uint8_t name_form;
    uint8_t reader; /* arena owner */
    uint8_t gone;   /* closed before it was counted */
    uint8_t dedup;  /* DEDUP_*: what the epoll membership test said */
    bool exact;     /* the group key alone identifies the open file description */
    uint32_t name_off, name_len;
    char type_name[56];
    /* HandleCount group key: immutable facts of the open file description */
    uint64_t mnt_id, ino, id2;
    uint64_t name_hash; /* of a readlink text (paths); 0 where the key fields imply the name */
    uint32_t key_flags;
    uint32_t dev_major, dev_minor; /* sections: the inode's device */
};

/* What a reader learned about the kernel's internal mounts in this capture. */
enum mnt_cat { MNT_UNKNOWN, MNT_PIPEFS, MNT_SOCKFS, MNT_ANON, MNT_OTHER };

struct mnt_fact {
    uint64_t mnt_id;
    uint8_t cat;
    uint32_t anon_learned; /* bit per kind: anon_link[kind] confirmed by readlink */
};

struct dev_magic {
    dev_t dev;
    long magic;
};

struct handle_pass;

struct reader {
    struct handle_pass *hp;
    int index;
    int fddir, fdinfodir; /* this reader's copies (the helper's own table, see prober_setup) */
    int selffd;           /* /proc/thread-self/fd: readlink and getxattr of our pins */
    bool own_table;       /* the fds above are in this thread's private fd table */
    struct pss_buf arena;
    struct mnt_fact mnts[MAX_MNTS];
    size_t nmnts;
    struct dev_magic devs[16];
    size_t ndevs;
    char link[4096];
    char info[4096];
    int err; /* first fatal -errno of this reader */
};

struct handle_pass {
    struct pss_capture *c;
    int fddir;
    int fdinfodir;
    bool want_name, want_basic, want_specific;
    struct fd_rec *recs;
    size_t n;
    atomic_size_t next;
    atomic_int failed; /* a reader hit a fatal error: the others stop */
    struct reader readers[2];
    int nreaders;
    bool threaded;
    /* Duplicate detection for large anon groups (dedup_probe): done by the helper alone,
     * in its own fd table, for its fds and for the chunks the caller's thread posts. */
    int dedup_pidfd;      /* the target (caller's table); the helper takes a copy */
    pid_t caller_tid;     /* the thread whose fd table holds fddir, fdinfodir, dedup_pidfd */
    int probe_pidfd, probe_epfd, probe_slot; /* the helper's table */
    bool prober;          /* set by the helper before it reads: it probes */
    uint32_t *posted;     /* starts of the caller's finished chunks */
    atomic_size_t nposted;
    size_t nprobed;       /* posted chunks the helper has probed */
    pthread_mutex_t sync_lock;
    pthread_cond_t sync_cond;
    bool sync_init;
    bool main_done;       /* the caller's thread has read (and posted) all it will */
    bool helper_done;     /* the helper has read and probed all it will */
    pthread_t helper;
    bool helper_running;
};

static struct mnt_fact *mnt_lookup(struct reader *rd, uint64_t mnt_id)
{
    for (size_t i = 0; i < rd->nmnts; i++)
        if (rd->mnts[i].mnt_id == mnt_id)
            return &rd->mnts[i];
    return NULL;
}

static struct mnt_fact *mnt_learn(struct reader *rd, uint64_t mnt_id, enum mnt_cat cat)
{
    struct mnt_fact *m = mnt_lookup(rd, mnt_id);
    if (m == NULL) {
        if (rd->nmnts == MAX_MNTS)
            return NULL;
        m = &rd->mnts[rd->nmnts++];
        memset(m, 0, sizeof *m);
        m->mnt_id = mnt_id;
        m->cat = (uint8_t)cat;
    } else if (m->cat != cat) {
        m->cat = MNT_OTHER; /* contradiction: never take a shortcut on this mount */
        m->anon_learned = 0;
    }
    return m;
}

static long fs_magic_of(struct reader *rd, dev_t dev, int pin, bool *ok)
{
    for (size_t i = 0; i < rd->ndevs; i++)
        if (rd->devs[i].dev == dev) {
            *ok = true;
            return rd->devs[i].magic;
        }
    struct statfs sfs;
    if (fstatfs(pin, &sfs) != 0) {
        *ok = false;
        return 0;
    }
    if (rd->ndevs < sizeof rd->devs / sizeof rd->devs[0]) {
        rd->devs[rd->ndevs].dev = dev;
        rd->devs[rd->ndevs].magic = (long)sfs.f_type;
        rd->ndevs++;
    }
    *ok = true;
    return (long)sfs.f_type;
}

static enum fd_kind refine_path_kind(struct reader *rd, const char *link, size_t n,
                                     const struct statx *sx, int pin, bool *hugetlb)
{
    *hugetlb = false;
    mode_t m = sx->stx_mode;
    if (S_ISDIR(m))
        return K_DIR;
    if (S_ISCHR(m) || S_ISBLK(m))
        return K_DEVICE;
    if (S_ISFIFO(m))
        return K_PIPE;
    if (S_ISSOCK(m))
        return K_SOCKET;
    if (!S_ISREG(m))
        return K_FILE;
    bool ok;
    long magic = fs_magic_of(rd, makedev(sx->stx_dev_major, sx->stx_dev_minor), pin, &ok);
    if (!ok)
        return K_FILE;
    if (magic == (long)MQUEUE_MAGIC)
        return K_MQUEUE;
    if (magic != (long)TMPFS_MAGIC && magic != (long)HUGETLBFS_MAGIC)
        return K_FILE;
    *hugetlb = magic == (long)HUGETLBFS_MAGIC;
    if (starts_with(link, n, "/memfd:"))
        return K_MEMFD;
    if (starts_with(link, n, "/dev/shm/"))
        return K_SHM;
    return K_SECTION;
}

/* The path of a directory the kernel cannot render (longer than PATH_MAX): walk ".."
 * from it, finding each directory's name in its parent.  Appends to rd->arena.  False if
 * a step fails (a deleted directory, no permission to list a parent). */
static bool rebuild_dir_path(struct reader *rd, int pin, uint32_t *off, uint32_t *len)
{
    struct pss_buf rev = {NULL, 0, 0}; /* components, last first, each followed by '/' */
    int cur = openat(pin, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bool ok = cur >= 0;
    struct stat cst;
    if (ok && fstat(cur, &cst) != 0)
        ok = false;
    for (int depth = 0; ok && depth < 8192; depth++) {
        int parent = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct stat pst;
        if (parent < 0 || fstat(parent, &pst) != 0) {
            if (parent >= 0)
                close(parent);
            ok = false;
            break;
        }
        if (pst.st_dev == cst.st_dev && pst.st_ino == cst.st_ino) {
            close(parent); /* the root */
            break;
        }
        /* Find cur's name in parent: by d_ino, or (a mount point) by stat of the entry. */
        struct pss_dirent_iter it;
        int dfd = dup(parent);
        bool found = false;
        if (dfd >= 0 && pss_dir_open(&it, dfd) == 0) { /* takes dfd, even on failure */
            const char *nm;
            uint64_t dino;
            unsigned char dtype;
            int r;
            bool same_dev = pst.st_dev == cst.st_dev;
            while (!found && (r = pss_dir_next_entry(&it, &nm, &dino, &dtype)) > 0) {
                if (strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0)
                    continue;
                if (same_dev ? dino != cst.st_ino : (dtype != DT_DIR && dtype != DT_UNKNOWN))
                    continue;
                struct stat est;
                if (fstatat(parent, nm, &est, AT_SYMLINK_NOFOLLOW) != 0 ||
                    est.st_dev != cst.st_dev || est.st_ino != cst.st_ino)
                    continue;
                size_t nl = strlen(nm);
                if (pss_buf_reserve(&rev, nl + 2) != 0)
                    break;
                /* Stored reversed component by component: name then '/'. */
                memcpy(rev.data + rev.len, nm, nl);
                rev.len += nl;
                rev.data[rev.len++] = '/';
                found = true;
            }
            pss_dir_close(&it);
        }
        close(cur);
        cur = parent;
        cst = pst;
        ok = found;
    }
    if (cur >= 0)
        close(cur);
    if (ok && rev.len > 0 && pss_buf_reserve(&rd->arena, rev.len + 1) == 0) {
        /* rev holds "c_n/c_n-1/.../c_1/" (deepest first): emit "/c_1/c_2/.../c_n". */
        *off = (uint32_t)rd->arena.len;
        char *out = rd->arena.data + rd->arena.len;
        size_t o = 0, end = rev.len;
        while (end > 0) {
            size_t start = end - 1; /* the '/' terminating this component */
            size_t b = start;
            while (b > 0 && rev.data[b - 1] != '/')
                b--;
            out[o++] = '/';
            memcpy(out + o, rev.data + b, start - b);
            o += start - b;
            end = b;
        }
        rd->arena.len += o;
        *len = (uint32_t)o;
    } else {
        ok = false;
    }
    pss_buf_free(&rev);
    return ok;
}

/* Fills the type-specific union.  Returns true if the data is valid. */
static bool type_specific(struct handle_pass *hp, enum fd_kind kind, const struct fdinfo *fi,
                          const struct statx *sx, bool hugetlb, PSS_HANDLE_ENTRY *e,
                          FILETIME *pid_start)
{
    switch (kind) {
    case K_EVENTFD:
        if (fi->sig != K_EVENTFD)
            return false;
        if (fi->eventfd_semaphore) {
            e->TypeSpecificInformation.Semaphore.CurrentCount =
                fi->eventfd_count > 0x7FFFFFFF ? 0x7FFFFFFF : (LONG)fi->eventfd_count;
            e->TypeSpecificInformation.Semaphore.MaximumCount = 0x7FFFFFFF;
        } else {
            e->TypeSpecificInformation.Event.ManualReset = 0;
            e->TypeSpecificInformation.Event.Signaled = fi->eventfd_count != 0;
        }
        return true;
    case K_PIDFD: {
        if (fi->sig != K_PIDFD)
            return false;
        if (fi->pid <= 0)
            return true; /* reaped (or outside our PID namespace): all zero */
        pid_t pid = (pid_t)fi->pid;
        if (fi->flags & PIDFD_THREAD) {
            char path[64], buf[2048];
            snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
            uint64_t tgid = 0;
            if (pss_read_small(AT_FDCWD, path, buf, sizeof buf) < 0 ||
                !pss_status_field(buf, "Tgid", &tgid))
                return false;
            snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)tgid, (int)pid);
            ssize_t n = pss_read_small(AT_FDCWD, path, buf, sizeof buf);
            struct pss_stat st;
            if (n < 0 || pss_parse_stat(buf, (size_t)n, &st) != 0)
                return false;
            DWORD cls;
            LONG base;
            pss_priority_class(st.policy, st.rt_priority, st.nice, &cls, &base);
            bool ok;
            e->TypeSpecificInformation.Thread.ExitStatus =
                (st.state == 'Z' || st.state == 'X') ? pss_exit_status_from_wait(st.exit_code)
                                                     : STILL_ACTIVE;
            e->TypeSpecificInformation.Thread.ProcessId = (DWORD)tgid;
            e->TypeSpecificInformation.Thread.ThreadId = (DWORD)pid;
            e->TypeSpecificInformation.Thread.AffinityMask = pss_affinity_of(pid, &ok);
            e->TypeSpecificInformation.Thread.BasePriority = base;
            e->TypeSpecificInformation.Thread.Priority =
                pss_thread_priority(st.policy, st.rt_priority, st.nice, st.nice, base);
            *pid_start = pss_filetime_from_boot_ticks(&hp->c->clock, st.starttime);
            return true;
        }
        uint64_t peb = 0;
        DWORD ppid = 0, flags = 0, exit_status = 0;
        ULONG_PTR aff = 0;
        LONG base = 0;
        if (!pss_describe_other_process(&hp->c->clock, pid, &exit_status, &peb, &aff, &base,
                                        &ppid, &flags, pid_start))
            return false;
        e->TypeSpecificInformation.Process.ExitStatus = exit_status;
        e->TypeSpecificInformation.Process.PebBaseAddress = (void *)(uintptr_t)peb;
        e->TypeSpecificInformation.Process.AffinityMask = aff;
        e->TypeSpecificInformation.Process.BasePriority = base;
        e->TypeSpecificInformation.Process.ProcessId = (DWORD)pid;
        e->TypeSpecificInformation.Process.ParentProcessId = ppid;
        e->TypeSpecificInformation.Process.Flags = flags;
        return true;
    }
    case K_MEMFD:
    case K_SHM:
    case K_SECTION:
        if (sx == NULL)
            return false;
        e->TypeSpecificInformation.Section.AllocationAttributes =
            SEC_COMMIT | (hugetlb ? SEC_LARGE_PAGES : 0u);
        e->TypeSpecificInformation.Section.MaximumSize.QuadPart = (LONGLONG)sx->stx_size;
        /* BaseAddress is filled after the pass, from maps. */
        return true;
    default:
        return false;
    }
}

static void compose_type_name(enum fd_kind kind, const char *link, size_t n, const char *proto,
                              char *out, size_t cap)
{
    if (kind == K_SOCKET && proto != NULL && proto[0] != '\0') {
        snprintf(out, cap, "Socket/%s", proto);
        return;
    }
    if (kind == K_ANON_OTHER && link != NULL && n > 11) {
        const char *a = link + 11;
        size_t an = n - 11;
        if (an > 0 && a[0] == '[') {
            a++;
            an--;
        }
        if (an > 0 && a[an - 1] == ']')
            an--;
        if (an > 40)
            an = 40;
        snprintf(out, cap, "AnonInode/%.*s", (int)an, a);
        return;
    }
    size_t tn = strlen(kind_type_name[kind]);
    if (tn >= cap)
        tn = cap - 1;
    memcpy(out, kind_type_name[kind], tn);
    out[tn] = '\0';
}

/* Decimal text of a non-negative fd number (a /proc path component); out has 12 bytes. */
static void fd_name(int fd, char *out)
{
    char tmp[12];
    size_t n = 0;
    unsigned v = (unsigned)fd;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0 && n < sizeof tmp);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

/* Per-fd open/close call the kernel directly: the libc wrappers are cancellation points
 * (two extra calls each in a multi-threaded process, and no business of a library). */
static void close_raw(int fd)
{
    syscall(SYS_close, fd);
}

/* Opens the pin: our own O_PATH descriptor of whatever fd N refers to now. */
static int open_pin(struct reader *rd, const char *name)
{
    long pin;
    do {
        pin = syscall(SYS_openat, rd->fddir, name, O_PATH | O_CLOEXEC);
    } while (pin < 0 && errno == EINTR);
    return pin < 0 ? -errno : (int)pin;
}

enum { READ_GONE = 0, READ_OK = 1, READ_RETRY = 2 };

/* One attempt at one fd.  READ_OK, READ_GONE, READ_RETRY (it changed between two reads),
 * or -errno. */
static int read_fd_once(struct reader *rd, struct fd_rec *rec, const char *name)
{
    struct handle_pass *hp = rd->hp;
    struct fdinfo fi;
    ssize_t in = pss_read_small(rd->fdinfodir, name, rd->info, sizeof rd->info);
    if (in == -ENOENT || in == -ESRCH)
        return READ_GONE;
    if (in < 0)
        return (int)in;
    parse_fdinfo(rd->info, &fi);
    if (!fi.have_ino || !fi.have_mnt)
        return -EINVAL;

    struct mnt_fact *mf = mnt_lookup(rd, fi.mnt_id);
    const enum mnt_cat cat = mf != NULL ? (enum mnt_cat)mf->cat : MNT_UNKNOWN;
    const size_t arena_mark = rd->arena.len;

    enum fd_kind kind = K_UNKNOWN;
    enum name_form form = NAME_NONE;
    uint32_t name_off = 0, name_len = 0;
    struct statx sx;
    bool have_sx = false, hugetlb = false;
    char proto[48] = "";
    const char *link = NULL;
    size_t link_len = 0;

    if (cat == MNT_PIPEFS) {
        /* pipefs has only pipes, named by their inode. */
        kind = K_PIPE;
        form = NAME_PIPE;
        if (hp->want_basic) {
            if (statx(rd->fddir, name, 0, STATX_TYPE | STATX_INO | STATX_BTIME | STATX_CTIME,
                      &sx) != 0)
                return (errno == ENOENT || errno == ESRCH) ? READ_GONE : -errno;
            if (sx.stx_ino != fi.ino || !S_ISFIFO(sx.stx_mode))
                return READ_RETRY;
            have_sx = true;
        }
    } else if (cat == MNT_ANON && fi.sig != K_UNKNOWN &&
               (mf->anon_learned & (1u << fi.sig)) != 0) {
        /* An anon inode whose own fdinfo fields name its kind: fdinfo is the whole truth. */
        kind = fi.sig;
        form = NAME_ANON;
    } else {
        /* Pin the object, then read everything about it through the pin. */
        int pin = open_pin(rd, name);
        if (pin == -ENOENT || pin == -ESRCH)
            return READ_GONE;
        if (pin < 0)
            return pin;
        int rc = READ_OK;
        char pname[16];
        fd_name(pin, pname);
        if (statx(pin, "", AT_EMPTY_PATH,
                  STATX_TYPE | STATX_MODE | STATX_INO | STATX_SIZE | STATX_BTIME | STATX_CTIME |
                      STATX_MNT_ID,
                  &sx) != 0) {
            rc = -errno;
            goto pin_done;
        }
        have_sx = true;
        if (sx.stx_ino != fi.ino || ((sx.stx_mask & STATX_MNT_ID) && sx.stx_mnt_id != fi.mnt_id)) {
            rc = READ_RETRY; /* N was re-pointed between fdinfo and the pin */
            goto pin_done;
        }
        bool too_long = false;
        ssize_t n = -1;
        if (cat == MNT_SOCKFS) {
            kind = K_SOCKET; /* named by its inode */
            form = NAME_SOCKET;
        } else {
            n = readlinkat(rd->selffd, pname, rd->link, sizeof rd->link - 1);
            if (n < 0) {
                if (errno != ENAMETOOLONG) {
                    rc = -errno;
                    goto pin_done;
                }
                too_long = true; /* a path longer than PATH_MAX */
                n = 0;
            }
            rd->link[n] = '\0';
            link = rd->link;
            link_len = (size_t)n;
            kind = too_long ? K_FILE : classify_link(link, link_len);
        }
        uint64_t num = 0;
        if (too_long || (link_len > 0 && link[0] == '/')) {
            kind = refine_path_kind(rd, link, link_len, &sx, pin, &hugetlb);
            if (cat == MNT_UNKNOWN)
                mnt_learn(rd, fi.mnt_id, MNT_OTHER);
        } else if (kind == K_PIPE) {
            if (!bracket_number(link, link_len, 6, &num) || num != fi.ino) {
                rc = READ_RETRY;
                goto pin_done;
            }
            if (S_ISFIFO(sx.stx_mode))
                mnt_learn(rd, fi.mnt_id, MNT_PIPEFS);
            form = NAME_PIPE;
        } else if (kind == K_SOCKET && form != NAME_SOCKET) {
            if (!bracket_number(link, link_len, 8, &num) || num != fi.ino) {
                rc = READ_RETRY;
                goto pin_done;
            }
            if (S_ISSOCK(sx.stx_mode))
                mnt_learn(rd, fi.mnt_id, MNT_SOCKFS);
            form = NAME_SOCKET;
        } else if (is_anon_kind(kind)) {
            if (!anon_consistent(kind, &fi)) {
                rc = READ_RETRY; /* the link and fdinfo saw different files */
                goto pin_done;
            }
            if (kind == fi.sig && anon_link[kind] != NULL && strcmp(link, anon_link[kind]) == 0) {
                struct mnt_fact *m = mnt_learn(rd, fi.mnt_id, MNT_ANON);
                if (m != NULL && m->cat == MNT_ANON)
                    m->anon_learned |= 1u << kind;
                form = NAME_ANON;
            }
        }
        if (kind == K_SOCKET) {
            char path[64];
            snprintf(path, sizeof path, "/proc/thread-self/fd/%d", pin);
            ssize_t r = getxattr(path, "system.sockprotoname", proto, sizeof proto - 1);
            proto[r > 0 ? r : 0] = '\0';
            if (r <= 0 && form == NAME_SOCKET) {
                rc = READ_RETRY; /* a socket inode always has a protocol name */
                goto pin_done;
            }
        }
        if (hp->want_name && form == NAME_NONE) {
            if (too_long) {
                if (S_ISDIR(sx.stx_mode) && rebuild_dir_path(rd, pin, &name_off, &name_len))
                    form = NAME_ARENA;
            } else {
                if (pss_buf_reserve(&rd->arena, link_len + 1) != 0) {
                    rc = -ENOMEM;
                    goto pin_done;
                }
                name_off = (uint32_t)rd->arena.len;
                name_len = (uint32_t)link_len;
                memcpy(rd->arena.data + rd->arena.len, link, link_len);
                rd->arena.len += link_len;
                form = NAME_ARENA;
            }
        }
    pin_done:
        close_raw(pin);
        if (rc != READ_OK) {
            rd->arena.len = arena_mark;
            return rc;
        }
    }

    /* The entry. */
    PSS_HANDLE_ENTRY *e = &rec->e;
    memset(e, 0, sizeof *e);
    e->Handle = (HANDLE)(uintptr_t)rec->fd;
    e->CaptureTime = pss_filetime_now();
    e->Flags = PSS_HANDLE_HAVE_TYPE;
    const bool thread_pidfd = kind == K_PIDFD && (fi.flags & PIDFD_THREAD);
    switch (kind) {
    case K_EVENTFD:
        e->ObjectType = fi.eventfd_semaphore ? PSS_OBJECT_TYPE_SEMAPHORE : PSS_OBJECT_TYPE_EVENT;
        break;
    case K_PIDFD:
        e->ObjectType = thread_pidfd ? PSS_OBJECT_TYPE_THREAD : PSS_OBJECT_TYPE_PROCESS;
        break;
    case K_MEMFD:
    case K_SHM:
    case K_SECTION:
        e->ObjectType = PSS_OBJECT_TYPE_SECTION;
        break;
    default:
        e->ObjectType = PSS_OBJECT_TYPE_UNKNOWN;
        break;
    }
    FILETIME pid_start = {0, 0};
    if (hp->want_specific &&
        type_specific(hp, kind, &fi, have_sx ? &sx : NULL, hugetlb, e, &pid_start))
        e->Flags |= PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION;
    if (hp->want_basic) {
        e->Flags |= PSS_HANDLE_HAVE_BASIC_INFORMATION;
        e->Attributes = (fi.flags & O_CLOEXEC) ? 0 : OBJ_INHERIT;
        e->GrantedAccess = granted_access(kind, fi.flags, thread_pidfd);
        e->HandleCount = 1;
        e->PointerCount = 1;
        if (kind == K_PIDFD)
            e->CreationTime = pid_start;
        else if (have_sx && !is_anon_kind(kind))
            e->CreationTime = creation_time(&sx);
    }
    compose_type_name(kind, link, link_len, proto, rec->type_name, sizeof rec->type_name);
    rec->kind = (uint8_t)kind;
    rec->name_form = (uint8_t)(hp->want_name ? form : NAME_NONE);
    rec->name_off = name_off;
    rec->name_len = name_len;
    rec->reader = (uint8_t)rd->index;
    rec->mnt_id = fi.mnt_id;
    rec->ino = fi.ino;
    rec->id2 = kind == K_EVENTFD ? fi.eventfd_id : kind == K_TIMERFD ? fi.clockid : 0;
    /* Fds of one description have one path: grouping by it too means that entries
     * counted together always show the same name, even if an inode number was reused
     * while the capture ran (a file deleted and another created). */
    rec->name_hash = (link != NULL && form == NAME_ARENA) ? fnv1a(link, link_len)
                     : form == NAME_ARENA                 ? 1 /* rebuilt long path */
                                                          : 0;
    rec->exact = kind == K_SOCKET || (kind == K_EVENTFD && fi.have_eventfd_id);
    rec->key_flags = (uint32_t)(fi.flags & ~(uint64_t)(O_CLOEXEC | O_APPEND | O_ASYNC | O_DIRECT |
                                                       O_NOATIME | O_NONBLOCK));
    rec->dev_major = have_sx ? sx.stx_dev_major : 0;
    rec->dev_minor = have_sx ? sx.stx_dev_minor : 0;
    return READ_OK;
}

/* Kinds whose open file descriptions share one anon inode and have no id in fdinfo, so
 * only the description itself tells dups apart, and for which a poll registration is
 * harmless (a timerfd's or inotify's wait queue; signalfd polls the poller's own signal
 * state). */
static bool dedup_kind(enum fd_kind k)
{
    return k == K_TIMERFD || k == K_SIGNALFD || k == K_INOTIFY;
}

/* Is this fd's open file description one we have seen before in this capture?  Our own
 * copy of it (pidfd_getfd) is added to an epoll set, whose items are keyed by
 * (description, fd number): EEXIST means that description is already in the set.  One
 * set membership test per fd instead of a kcmp sort (O(n log n) calls) of a group that
 * is, in practice, all distinct.  Only the helper probes, in a private fd table that
 * holds nothing but its own descriptors (prober_setup): every copy lands on the same
 * number, the lowest free one, so no dup3 onto a fixed slot and no lock are needed; a
 * copy that lands elsewhere is not tested (DEDUP_UNKNOWN: its group is sorted).  The
 * copy is closed at once; the set holds no reference, the target sees nothing. */
static uint8_t dedup_probe(struct handle_pass *hp, int fd)
{
    long c = syscall(SYS_pidfd_getfd, hp->probe_pidfd, fd, 0);
    if (c < 0) {
        if (errno != EBADF)
            hp->prober = false; /* no permission (ptrace attach) or no support: stop */
        return DEDUP_UNKNOWN;   /* the group is sorted */
    }
    if (hp->probe_slot < 0)
        hp->probe_slot = (int)c;
    uint8_t res = DEDUP_UNKNOWN;
    if (c == hp->probe_slot) {
        struct epoll_event ev;
        memset(&ev, 0, sizeof ev);
        if (epoll_ctl(hp->probe_epfd, EPOLL_CTL_ADD, (int)c, &ev) == 0)
            res = DEDUP_FIRST;
        else if (errno == EEXIST)
            res = DEDUP_SEEN;
    }
    close_raw((int)c);
    return res;
}

static bool wants_probe(const struct handle_pass *hp, const struct fd_rec *rec)
{
    return rec->status == FD_RECORDED && hp->want_basic && dedup_kind((enum fd_kind)rec->kind);
}

/* The helper probes the chunks the caller's thread has posted so far. */
static void probe_posted(struct handle_pass *hp)
{
    size_t avail = atomic_load_explicit(&hp->nposted, memory_order_acquire);
    for (; hp->nprobed < avail; hp->nprobed++) {
        size_t i = hp->posted[hp->nprobed];
        size_t end = i + READ_CHUNK < hp->n ? i + READ_CHUNK : hp->n;
        for (; i < end; i++)
            if (wants_probe(hp, &hp->recs[i]))
                hp->recs[i].dedup = dedup_probe(hp, hp->recs[i].fd);
    }
}

static int read_fd(struct reader *rd, struct fd_rec *rec)
{
    char name[16];
    fd_name(rec->fd, name);
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        int r = read_fd_once(rd, rec, name);
        if (r == READ_RETRY)
            continue;
        if (r < 0)
            return r;
        rec->status = r == READ_OK ? FD_RECORDED : FD_GONE;
        if (rd->index == 1 && rd->hp->prober && wants_probe(rd->hp, rec))
            rec->dedup = dedup_probe(rd->hp, rec->fd);
        return 0;
    }
    rec->status = FD_GONE; /* it changed on every attempt: left out, like a closed fd */
    return 0;
}

static void reader_run(struct reader *rd)
{
    struct handle_pass *hp = rd->hp;
    while (atomic_load_explicit(&hp->failed, memory_order_relaxed) == 0) {
        size_t i = atomic_fetch_add(&hp->next, READ_CHUNK);
        if (i >= hp->n)
            break;
        size_t end = i + READ_CHUNK < hp->n ? i + READ_CHUNK : hp->n;
        const size_t start = i;
        for (; i < end; i++) {
            int r = read_fd(rd, &hp->recs[i]);
            if (r < 0) {
                rd->err = -r;
                atomic_store(&hp->failed, 1);
                return;
            }
        }
        if (rd->index == 0 && hp->posted != NULL) {
            /* Hand the chunk to the helper for probing (it may not be a prober: then
             * nobody looks).  The release publishes the records. */
            size_t k = atomic_load_explicit(&hp->nposted, memory_order_relaxed);
            hp->posted[k] = (uint32_t)start;
            atomic_store_explicit(&hp->nposted, k + 1, memory_order_release);
            pthread_mutex_lock(&hp->sync_lock);
            pthread_cond_signal(&hp->sync_cond);
            pthread_mutex_unlock(&hp->sync_lock);
        } else if (rd->index == 1 && hp->prober) {
            probe_posted(hp);
        }
    }
}

/* fddir and fdinfodir: the pass's (the caller's table) unless the helper set its own. */
static int reader_init(struct reader *rd, struct handle_pass *hp, int index)
{
    rd->hp = hp;
    rd->index = index;
    if (!rd->own_table) {
        rd->fddir = hp->fddir;
        rd->fdinfodir = hp->fdinfodir;
    }
    rd->selffd = open("/proc/thread-self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return rd->selffd < 0 ? -errno : 0;
}

/* Closes what the reader opened in its thread's table; only ever on that thread (in a
 * private table, the numbers mean nothing to the caller's). */
static void reader_close_fds(struct reader *rd)
{
    if (rd->selffd >= 0)
        close(rd->selffd);
    rd->selffd = -1;
    if (rd->own_table) {
        if (rd->fddir >= 0)
            close(rd->fddir);
        if (rd->fdinfodir >= 0)
            close(rd->fdinfodir);
    }
    rd->fddir = rd->fdinfodir = -1;
}

static void reader_destroy(struct reader *rd)
{
    pss_buf_free(&rd->arena);
}

/* The helper's own fd table, for probing (dedup_probe).  CLOSE_RANGE_UNSHARE gives this
 * thread a private table without copying a single descriptor of the caller's (nothing
 * of theirs is held, not even for an instant), then copies of the few it needs are
 * taken back from the process's table with pidfd_getfd (always permitted within one's
 * own process).  False if any step fails; then the table may already be private and
 * empty, and the helper neither reads nor probes. */
static bool prober_setup(struct handle_pass *hp, struct reader *rd, bool *unshared)
{
    *unshared = false;
    if (syscall(SYS_close_range, 0u, ~0u, CLOSE_RANGE_UNSHARE) != 0)
        return false;
    *unshared = true;
    rd->own_table = true;
    rd->fddir = rd->fdinfodir = -1;
    /* The caller's thread, blocked in this capture until we finish, holds the table
     * (a thread pidfd: right even if the group leader has exited; older kernels lack
     * PIDFD_THREAD, then the process's). */
    int me = (int)syscall(SYS_pidfd_open, hp->caller_tid, PIDFD_THREAD);
    if (me < 0)
        me = (int)syscall(SYS_pidfd_open, getpid(), 0);
    if (me < 0)
        return false;
    rd->fddir = (int)syscall(SYS_pidfd_getfd, me, hp->fddir, 0);
    rd->fdinfodir = (int)syscall(SYS_pidfd_getfd, me, hp->fdinfodir, 0);
    hp->probe_pidfd = (int)syscall(SYS_pidfd_getfd, me, hp->dedup_pidfd, 0);
    close(me);
    if (rd->fddir < 0 || rd->fdinfodir < 0 || hp->probe_pidfd < 0)
        return false;
    hp->probe_epfd = epoll_create1(EPOLL_CLOEXEC);
    return hp->probe_epfd >= 0;
}

static void helper_finish(struct handle_pass *hp)
{
    pthread_mutex_lock(&hp->sync_lock);
    hp->helper_done = true;
    pthread_cond_broadcast(&hp->sync_cond);
    pthread_mutex_unlock(&hp->sync_lock);
}

static void *helper_reader_main(void *arg)
{
    struct handle_pass *hp = arg;
    struct reader *rd = &hp->readers[1];
    bool unshared = false;
    if (hp->dedup_pidfd >= 0)
        hp->prober = prober_setup(hp, rd, &unshared);
    /* Else the caller's thread reads everything. */
    if (!unshared || hp->prober) {
        int r = reader_init(rd, hp, 1);
        if (r == 0)
            reader_run(rd);
        else
            rd->err = -r;
    }
    if (hp->prober) {
        /* Probe what the caller's thread reads, until it has read all it will. */
        pthread_mutex_lock(&hp->sync_lock);
        for (;;) {
            bool last = hp->main_done;
            pthread_mutex_unlock(&hp->sync_lock);
            if (!atomic_load(&hp->failed))
                probe_posted(hp);
            pthread_mutex_lock(&hp->sync_lock);
            if (last)
                break;
            if (atomic_load_explicit(&hp->nposted, memory_order_acquire) == hp->nprobed &&
                !hp->main_done)
                pthread_cond_wait(&hp->sync_cond, &hp->sync_lock);
        }
        pthread_mutex_unlock(&hp->sync_lock);
    }
    reader_close_fds(rd);
    helper_finish(hp);
    /* The epoll set (one removal per item to dismantle: 19,000 for the timerfd process)
     * and the target's pidfd are left to the thread's exit, which releases its private
     * table after pthread_join has returned (the kernel wakes the joiner in exit_mm,
     * before exit_files): the caller's thread counts, builds and returns meanwhile.
     * Without a private table (no prober) there is no epoll set. */
    return NULL;
}

/* Starts a helper thread with every signal blocked (a library thread never takes the
 * caller's signals).  False if it could not be created. */
static bool start_helper(pthread_t *th, void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int err = pthread_create(th, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return err == 0;
}

/* ---------------------------------------------------------------------------------
 * HandleCount
 * ------------------------------------------------------------------------------- */

struct kcmp_ctx {
    pid_t pid;
    struct fd_rec *recs;
    atomic_int unavailable; /* EPERM/ENOSYS/ESRCH: no counting at all */
};

enum { KC_LT = -1, KC_EQ = 0, KC_GT = 1, KC_ERR = 2 };

static int kcmp_raw(struct kcmp_ctx *k, int a, int b)
{
    long r = syscall(SYS_kcmp, k->pid, k->pid, KCMP_FILE, (unsigned long)a, (unsigned long)b);
    if (r == 0)
        return KC_EQ;
    if (r == 1)
        return KC_LT;
    if (r == 2)
        return KC_GT;
    if (r < 0 && errno != EBADF)
        atomic_store(&k->unavailable, 1);
    return KC_ERR;
}

/* After an error between a and b: marks the one(s) that closed. */
static void mark_gone(struct kcmp_ctx *k, uint32_t a, uint32_t b)
{
    if (kcmp_raw(k, k->recs[a].fd, k->recs[a].fd) == KC_ERR)
        k->recs[a].gone = 1;
    if (kcmp_raw(k, k->recs[b].fd, k->recs[b].fd) == KC_ERR)
        k->recs[b].gone = 1;
}

/* Total order for sorting: closed fds last (by index), others by kcmp. */
static int kcmp_order(struct kcmp_ctx *k, uint32_t a, uint32_t b)
{
    struct fd_rec *x = &k->recs[a], *y = &k->recs[b];
    if (x->gone || y->gone || atomic_load_explicit(&k->unavailable, memory_order_relaxed)) {
        if (x->gone != y->gone)
            return x->gone ? 1 : -1;
        return a < b ? -1 : (a > b);
    }
    int r = kcmp_raw(k, x->fd, y->fd);
    if (r == KC_ERR) {
        mark_gone(k, a, b);
        if (x->gone != y->gone)
            return x->gone ? 1 : -1;
        return a < b ? -1 : (a > b);
    }
    return r == KC_EQ ? (a < b ? -1 : (a > b)) : r;
}

/* Top-down merge sort on indexes.  Skips a merge when the halves are already in order,
 * so re-sorting a nearly sorted group costs about one comparison per element.  Whatever
 * the comparator answers, it only ever moves indexes within [0, n). */
static void ksort(struct kcmp_ctx *k, uint32_t *a, uint32_t *tmp, size_t n)
{
    if (n < 2)
        return;
    if (n <= 8) { /* binary insertion sort */
        for (size_t i = 1; i < n; i++) {
            uint32_t v = a[i];
            size_t lo = 0, hi = i;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (kcmp_order(k, v, a[mid]) < 0)
                    hi = mid;
                else
                    lo = mid + 1;
            }
            memmove(a + lo + 1, a + lo, (i - lo) * sizeof *a);
            a[lo] = v;
        }
        return;
    }
    size_t h = n / 2;
    ksort(k, a, tmp, h);
    ksort(k, a + h, tmp, n - h);
    if (kcmp_order(k, a[h - 1], a[h]) <= 0)
        return;
    memcpy(tmp, a, h * sizeof *a);
    size_t i = 0, j = h, o = 0;
    while (i < h && j < n)
        a[o++] = kcmp_order(k, tmp[i], a[j]) <= 0 ? tmp[i++] : a[j++];
    while (i < h)
        a[o++] = tmp[i++];
}

/* Merges the sorted halves a[0,h) and a[h,n). */
static void kmerge(struct kcmp_ctx *k, uint32_t *a, uint32_t *tmp, size_t h, size_t n)
{
    if (h == 0 || h == n || kcmp_order(k, a[h - 1], a[h]) <= 0)
        return;
    memcpy(tmp, a, h * sizeof *a);
    size_t i = 0, j = h, o = 0;
    while (i < h && j < n)
        a[o++] = kcmp_order(k, tmp[i], a[j]) <= 0 ? tmp[i++] : a[j++];
    while (i < h)
        a[o++] = tmp[i++];
}

struct group {
    size_t start, len; /* range in cp->amb */
    size_t split;      /* sorted in two halves [0,split) and [split,len) if non-zero */
};

struct sort_task {
    size_t start, len;
};

struct count_pass {
    struct kcmp_ctx k;
    uint32_t *amb;     /* fd_rec indexes of the ambiguous groups, group after group */
    uint32_t *tmp;     /* scratch, same size */
    int8_t *rel;       /* rel[i]: kcmp of amb[i] and amb[i+1] within a group */
    uint8_t *last;     /* last[i]: amb[i] ends its group */
    size_t namb;
    struct group *groups;
    size_t ngroups;
    struct sort_task *tasks;
    size_t ntasks;
    atomic_size_t next;
    int phase; /* 0 = sort, 1 = verify */
};

#define VERIFY_CHUNK 256

static int8_t relate(struct kcmp_ctx *k, uint32_t a, uint32_t b)
{
    const struct fd_rec *x = &k->recs[a], *y = &k->recs[b];
    return (x->gone || y->gone) ? KC_ERR : (int8_t)kcmp_raw(k, x->fd, y->fd);
}

static void count_work(struct count_pass *cp)
{
    if (cp->phase == 0) {
        for (;;) {
            size_t t = atomic_fetch_add(&cp->next, 1);
            if (t >= cp->ntasks)
                break;
            const struct sort_task *st = &cp->tasks[t];
            ksort(&cp->k, cp->amb + st->start, cp->tmp + st->start, st->len);
        }
        return;
    }
    for (;;) {
        size_t i = atomic_fetch_add(&cp->next, VERIFY_CHUNK);
        if (i >= cp->namb)
            break;
        size_t end = i + VERIFY_CHUNK < cp->namb ? i + VERIFY_CHUNK : cp->namb;
        for (; i < end; i++)
            if (!cp->last[i])
                cp->rel[i] = relate(&cp->k, cp->amb[i], cp->amb[i + 1]);
    }
}

static void *count_helper_main(void *arg)
{
    count_work(arg);
    return NULL;
}

static int cmp_group_key(const void *pa, const void *pb, void *arg)
{
    const struct fd_rec *recs = arg;
    const struct fd_rec *x = &recs[*(const uint32_t *)pa], *y = &recs[*(const uint32_t *)pb];
    if (x->mnt_id != y->mnt_id)
        return x->mnt_id < y->mnt_id ? -1 : 1;
    if (x->ino != y->ino)
        return x->ino < y->ino ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->id2 != y->id2)
        return x->id2 < y->id2 ? -1 : 1;
    if (x->name_hash != y->name_hash)
        return x->name_hash < y->name_hash ? -1 : 1;
    if (x->key_flags != y->key_flags)
        return x->key_flags < y->key_flags ? -1 : 1;
    return x->fd < y->fd ? -1 : (x->fd > y->fd);
}

static bool same_key(const struct fd_rec *x, const struct fd_rec *y)
{
    return x->mnt_id == y->mnt_id && x->ino == y->ino && x->kind == y->kind &&
           x->id2 == y->id2 && x->name_hash == y->name_hash && x->key_flags == y->key_flags;
}

static void set_count(struct fd_rec *r, size_t n)
{
    r->e.HandleCount = (DWORD)n;
    r->e.PointerCount = (DWORD)n;
}

/* After the sort and the (parallel) first verification: takes closed fds out, sorts
 * again while neighbours are found out of order (an fd was re-pointed meanwhile), then
 * counts runs of equal neighbours. */
static void finish_group(struct count_pass *cp, const struct group *g)
{
    uint32_t *a = cp->amb + g->start;
    int8_t *rel = cp->rel + g->start;
    size_t n = g->len;
    for (int round = 0;; round++) {
        if (round > 0)
            for (size_t i = 0; i + 1 < n; i++)
                rel[i] = relate(&cp->k, a[i], a[i + 1]);
        if (atomic_load(&cp->k.unavailable))
            return; /* counts stay 1 */
        bool disorder = false;
        for (size_t i = 0; i + 1 < n; i++) {
            if (rel[i] == KC_ERR && !cp->k.recs[a[i]].gone && !cp->k.recs[a[i + 1]].gone)
                mark_gone(&cp->k, a[i], a[i + 1]);
            disorder |= rel[i] == KC_GT;
        }
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (!cp->k.recs[a[i]].gone)
                a[m++] = a[i]; /* closed fds leave the group: they count 1 */
        bool removed = m != n;
        n = m;
        if (!disorder && !removed)
            break;
        if (round + 1 >= SORT_ROUNDS) {
            if (removed)
                for (size_t i = 0; i + 1 < n; i++)
                    rel[i] = relate(&cp->k, a[i], a[i + 1]);
            break;
        }
        if (disorder)
            ksort(&cp->k, a, cp->tmp + g->start, n); /* nearly sorted: cheap */
    }
    if (atomic_load(&cp->k.unavailable))
        return;
    size_t i = 0;
    while (i < n) {
        size_t j = i + 1;
        while (j < n && rel[j - 1] == KC_EQ)
            j++;
        for (size_t q = i; q < j; q++)
            set_count(&cp->k.recs[a[q]], j - i);
        i = j;
    }
}

/* A group whose members all went through dedup_probe: if every description was new,
 * every count is 1 without a single kcmp; a few fds seen before (or not probed) are
 * matched against the group with kcmp.  False: sort the group instead. */
#define DEDUP_MAX_SCANS 8
static bool dedup_resolves(struct kcmp_ctx *k, uint32_t *a, size_t n)
{
    uint32_t odd[DEDUP_MAX_SCANS];
    size_t nodd = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t d = k->recs[a[i]].dedup;
        if (d == DEDUP_NONE)
            return false;
        if (d != DEDUP_FIRST) {
            if (nodd == DEDUP_MAX_SCANS)
                return false;
            odd[nodd++] = (uint32_t)i;
        }
    }
    if (nodd == 0)
        return true; /* all distinct: the counts stay 1 */
    /* Union-find over group positions, joined by kcmp equality with the odd ones. */
    size_t *parent = malloc(n * sizeof *parent);
    if (parent == NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        parent[i] = i;
    for (size_t o = 0; o < nodd; o++) {
        size_t j = odd[o];
        for (size_t i = 0; i < n && !k->recs[a[j]].gone; i++) {
            if (i == j || k->recs[a[i]].gone)
                continue;
            int r = kcmp_raw(k, k->recs[a[j]].fd, k->recs[a[i]].fd);
            if (r == KC_ERR) {
                mark_gone(k, a[j], a[i]);
                continue;
            }
            if (r != KC_EQ)
                continue;
            size_t x = i, y = j;
            while (parent[x] != x)
                x = parent[x];
            while (parent[y] != y)
                y = parent[y];
            parent[y] = x;
        }
    }
    if (atomic_load(&k->unavailable)) {
        free(parent);
        return true; /* counts stay 1 */
    }
    size_t *size = calloc(n, sizeof *size);
    if (size == NULL) {
        free(parent);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        size_t x = i;
        while (parent[x] != x)
            x = parent[x];
        parent[i] = x;
        size[x] += !k->recs[a[i]].gone;
    }
    for (size_t i = 0; i < n; i++)
        if (!k->recs[a[i]].gone)
            set_count(&k->recs[a[i]], size[parent[i]]);
    free(size);
    free(parent);
    return true;
}

static void count_pass_free(struct count_pass *cp, uint32_t *order)
{
    free(order);
    free(cp->amb);
    free(cp->tmp);
    free(cp->rel);
    free(cp->last);
    free(cp->groups);
    free(cp->tasks);
}

/* Runs count_work on the caller's thread and, if worthwhile, on a helper. */
static void count_phase(struct count_pass *cp, int phase, bool parallel)
{
    cp->phase = phase;
    atomic_store(&cp->next, 0);
    pthread_t th;
    bool helper = parallel && start_helper(&th, count_helper_main, cp);
    count_work(cp);
    if (helper)
        pthread_join(th, NULL);
}

static DWORD count_handles(struct handle_pass *hp)
{
    size_t n = 0;
    for (size_t i = 0; i < hp->n; i++)
        n += hp->recs[i].status == FD_RECORDED;
    if (n < 2)
        return ERROR_SUCCESS;
    struct count_pass cp;
    memset(&cp, 0, sizeof cp);
    cp.k.pid = hp->c->target.pid;
    cp.k.recs = hp->recs;
    uint32_t *order = malloc(n * sizeof *order);
    cp.amb = malloc(n * sizeof *cp.amb);
    cp.tmp = malloc(n * sizeof *cp.tmp);
    cp.rel = malloc(n);
    cp.last = malloc(n);
    cp.groups = malloc(n * sizeof *cp.groups);
    cp.tasks = malloc(n * sizeof *cp.tasks);
    if (order == NULL || cp.amb == NULL || cp.tmp == NULL || cp.rel == NULL ||
        cp.last == NULL || cp.groups == NULL || cp.tasks == NULL) {
        count_pass_free(&cp, order);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    n = 0;
    for (size_t i = 0; i < hp->n; i++)
        if (hp->recs[i].status == FD_RECORDED)
            order[n++] = (uint32_t)i;
    qsort_r(order, n, sizeof *order, cmp_group_key, hp->recs);

    /* Exact groups are counted now; ambiguous ones (2 or more) go to kcmp. */
    bool big = false;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && same_key(&hp->recs[order[j]], &hp->recs[order[i]]))
            j++;
        size_t len = j - i;
        if (len > 1 && dedup_resolves(&cp.k, order + i, len)) {
            /* counted by dedup_resolves */
        } else if (len > 1 && hp->recs[order[i]].exact) {
            for (size_t q = i; q < j; q++)
                set_count(&hp->recs[order[q]], len);
        } else if (len > 1) {
            struct group *g = &cp.groups[cp.ngroups++];
            g->start = cp.namb;
            g->len = len;
            g->split = (hp->threaded && len >= SPLIT_GROUP_MIN) ? len / 2 : 0;
            big |= g->split != 0;
            memcpy(cp.amb + cp.namb, order + i, len * sizeof *order);
            memset(cp.last + cp.namb, 0, len);
            cp.namb += len;
            cp.last[cp.namb - 1] = 1;
            if (g->split) {
                cp.tasks[cp.ntasks++] = (struct sort_task){g->start, g->split};
                cp.tasks[cp.ntasks++] = (struct sort_task){g->start + g->split, len - g->split};
            } else {
                cp.tasks[cp.ntasks++] = (struct sort_task){g->start, len};
            }
        }
        i = j;
    }

    if (cp.ngroups > 0) {
        const bool parallel = hp->threaded && (big || cp.namb >= 4 * SPLIT_GROUP_MIN);
        count_phase(&cp, 0, parallel); /* sort groups and halves */
        for (size_t g = 0; g < cp.ngroups; g++)
            if (cp.groups[g].split)
                kmerge(&cp.k, cp.amb + cp.groups[g].start, cp.tmp + cp.groups[g].start,
                       cp.groups[g].split, cp.groups[g].len);
        count_phase(&cp, 1, parallel); /* verify neighbours */
        for (size_t g = 0; g < cp.ngroups; g++)
            finish_group(&cp, &cp.groups[g]);
    }
    count_pass_free(&cp, order);
    return ERROR_SUCCESS;
}

/* ---------------------------------------------------------------------------------
 * Section BaseAddress
 * ------------------------------------------------------------------------------- */

/* Section BaseAddress = the lowest mapping of the same dev:inode in the target.  One pass
 * over maps with a small hash table of the sections' inodes. */
static DWORD section_bases(struct handle_pass *hp)
{
    size_t ns = 0;
    for (size_t i = 0; i < hp->n; i++) {
        const struct fd_rec *r = &hp->recs[i];
        ns += r->status == FD_RECORDED && is_section((enum fd_kind)r->kind) &&
              (r->e.Flags & PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION);
    }
    if (ns == 0 || pss_capture_load_maps(hp->c) != ERROR_SUCCESS)
        return ERROR_SUCCESS; /* BaseAddress stays 0 without maps access */
    size_t cap = 16;
    while (cap < ns * 2)
        cap *= 2;
    struct slot {
        uint64_t ino;
        uint32_t major, minor;
        uint64_t start; /* 0 = not mapped */
        bool used;
    } *t = calloc(cap, sizeof *t);
    if (t == NULL)
        return ERROR_NOT_ENOUGH_MEMORY;
#define SLOT_OF(ino) ((size_t)(((ino) * UINT64_C(0x9E3779B97F4A7C15)) >> 20) & (cap - 1))
    for (size_t i = 0; i < hp->n; i++) {
        const struct fd_rec *r = &hp->recs[i];
        if (r->status != FD_RECORDED || !is_section((enum fd_kind)r->kind))
            continue;
        size_t s = SLOT_OF(r->ino);
        while (t[s].used && !(t[s].ino == r->ino && t[s].major == r->dev_major &&
                              t[s].minor == r->dev_minor))
            s = (s + 1) & (cap - 1);
        t[s].used = true;
        t[s].ino = r->ino;
        t[s].major = r->dev_major;
        t[s].minor = r->dev_minor;
    }
    const struct pss_maps *m = &hp->c->maps;
    for (size_t v = 0; v < m->n; v++) {
        const struct pss_vma *vma = &m->vma[v];
        if (vma->ino == 0)
            continue;
        for (size_t s = SLOT_OF(vma->ino); t[s].used; s = (s + 1) & (cap - 1))
            if (t[s].ino == vma->ino && t[s].major == vma->dev_major &&
                t[s].minor == vma->dev_minor) {
                if (t[s].start == 0 || vma->start < t[s].start)
                    t[s].start = vma->start;
                break;
            }
    }
    for (size_t i = 0; i < hp->n; i++) {
        struct fd_rec *r = &hp->recs[i];
        if (r->status != FD_RECORDED || !is_section((enum fd_kind)r->kind) ||
            !(r->e.Flags & PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION))
            continue;
        for (size_t s = SLOT_OF(r->ino); t[s].used; s = (s + 1) & (cap - 1))
            if (t[s].ino == r->ino && t[s].major == r->dev_major && t[s].minor == r->dev_minor) {
                r->e.TypeSpecificInformation.Section.BaseAddress = (void *)(uintptr_t)t[s].start;
                break;
            }
    }
#undef SLOT_OF
    free(t);
    return ERROR_SUCCESS;
}

/* ---------------------------------------------------------------------------------
 * Snapshot entries
 * ------------------------------------------------------------------------------- */

struct type_name_cache {
    char text[56];
    struct pss_strref ref;
};

static DWORD build_entries(struct handle_pass *hp)
{
    HPSS s = hp->c->snap;
    size_t n = 0;
    for (size_t i = 0; i < hp->n; i++)
        n += hp->recs[i].status == FD_RECORDED;
    if (n > 0 && pss_grow((void **)&s->handles, &s->cap_handles, n, sizeof *s->handles) != 0)
        return ERROR_NOT_ENOUGH_MEMORY;
    struct type_name_cache names[48];
    size_t nnames = 0;
    struct pss_strref anon_refs[K_COUNT];
    memset(anon_refs, 0, sizeof anon_refs);
    char text[64];
    for (size_t i = 0; i < hp->n; i++) {
        const struct fd_rec *r = &hp->recs[i];
        if (r->status != FD_RECORDED)
            continue;
        struct pss_handle_rec rec;
        memset(&rec, 0, sizeof rec);
        rec.e = r->e;
        size_t k = 0;
        while (k < nnames && strcmp(names[k].text, r->type_name) != 0)
            k++;
        if (k < nnames) {
            rec.type_name = names[k].ref;
        } else {
            if (pss_pool_add_utf8(&s->strings, r->type_name, strlen(r->type_name),
                                  &rec.type_name) != 0)
                return ERROR_NOT_ENOUGH_MEMORY;
            if (nnames < sizeof names / sizeof names[0]) {
                snprintf(names[nnames].text, sizeof names[0].text, "%s", r->type_name);
                names[nnames++].ref = rec.type_name;
            }
        }
        rec.e.TypeNameLength = (WORD)(rec.type_name.len * 2u);
        const char *nm = NULL;
        size_t nl = 0;
        switch (r->name_form) {
        case NAME_ARENA:
            nm = hp->readers[r->reader].arena.data + r->name_off;
            nl = r->name_len;
            break;
        case NAME_PIPE:
            nl = (size_t)snprintf(text, sizeof text, "pipe:[%llu]", (unsigned long long)r->ino);
            nm = text;
            break;
        case NAME_SOCKET:
            nl = (size_t)snprintf(text, sizeof text, "socket:[%llu]", (unsigned long long)r->ino);
            nm = text;
            break;
        case NAME_ANON:
            nm = anon_link[r->kind];
            nl = strlen(nm);
            break;
        default:
            break;
        }
        if (nm != NULL && nl > 0) {
            /* The fixed anon names are stored once per capture and shared. */
            struct pss_strref *shared =
                r->name_form == NAME_ANON ? &anon_refs[r->kind] : NULL;
            if (shared != NULL && shared->len != 0)
                rec.object_name = *shared;
            else if (pss_pool_add_utf8(&s->strings, nm, nl, &rec.object_name) != 0)
                return ERROR_NOT_ENOUGH_MEMORY;
            if (shared != NULL)
                *shared = rec.object_name;
            rec.e.ObjectNameLength = (WORD)(rec.object_name.len * 2u);
            rec.e.Flags |= PSS_HANDLE_HAVE_NAME;
        }
        s->handles[s->nhandles++] = rec;
    }
    return ERROR_SUCCESS;
}

/* ---------------------------------------------------------------------------------
 * The phase
 * ------------------------------------------------------------------------------- */

static void pass_free(struct handle_pass *hp)
{
    if (hp->helper_running)
        pthread_join(hp->helper, NULL);
    hp->helper_running = false;
    reader_close_fds(&hp->readers[0]);
    for (int i = 0; i < 2; i++)
        reader_destroy(&hp->readers[i]);
    if (hp->dedup_pidfd >= 0)
        close(hp->dedup_pidfd);
    if (hp->sync_init) {
        pthread_cond_destroy(&hp->sync_cond);
        pthread_mutex_destroy(&hp->sync_lock);
    }
    free(hp->posted);
    if (hp->fddir >= 0)
        close(hp->fddir);
    if (hp->fdinfodir >= 0)
        close(hp->fdinfodir);
    free(hp->recs);
    free(hp);
}

static DWORD open_dir(struct pss_capture *c, const char *name, int *out)
{
    *out = openat(c->target.procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*out >= 0)
        return ERROR_SUCCESS;
    int err = errno;
    if (err == ENOENT || err == ESRCH)
        return pss_target_gone(c->target.procfd) ? ERROR_PROCESS_ABORTED : ERROR_ACCESS_DENIED;
    return pss_win32_from_errno(err);
}

DWORD pss_capture_handles_begin(struct pss_capture *c, struct handle_pass **out)
{
    *out = NULL;
    struct handle_pass *hp = calloc(1, sizeof *hp);
    if (hp == NULL)
        return ERROR_NOT_ENOUGH_MEMORY;
    hp->c = c;
    hp->fddir = hp->fdinfodir = -1;
    hp->dedup_pidfd = hp->probe_pidfd = hp->probe_epfd = hp->probe_slot = -1;
    for (int i = 0; i < 2; i++)
        hp->readers[i].selffd = hp->readers[i].fddir = hp->readers[i].fdinfodir = -1;
    hp->want_name = (c->flags & PSS_CAPTURE_HANDLE_NAME_INFORMATION) != 0;
    hp->want_basic = (c->flags & PSS_CAPTURE_HANDLE_BASIC_INFORMATION) != 0;
    hp->want_specific = (c->flags & PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION) != 0;

    int listfd = -1;
    DWORD rc = open_dir(c, "fd", &hp->fddir);
    if (rc == ERROR_SUCCESS)
        rc = open_dir(c, "fdinfo", &hp->fdinfodir);
    if (rc == ERROR_SUCCESS)
        rc = open_dir(c, "fd", &listfd);
    if (rc == ERROR_SUCCESS) {
        int r = reader_init(&hp->readers[0], hp, 0);
        if (r < 0)
            rc = pss_win32_from_errno(-r);
    }
    struct pss_dirent_iter it;
    if (rc == ERROR_SUCCESS && pss_dir_open(&it, listfd) != 0) {
        listfd = -1; /* closed by pss_dir_open */
        rc = ERROR_NOT_ENOUGH_MEMORY;
    }
    if (rc != ERROR_SUCCESS) {
        if (listfd >= 0)
            close(listfd);
        pass_free(hp);
        return rc;
    }
    size_t cap = 0;
    const char *name;
    long num;
    int r;
    while ((r = pss_dir_next_number(&it, &name, &num)) > 0) {
        /* Capturing ourselves: leave out the descriptors this capture itself holds. */
        if (c->target.self && (num == it.fd || num == hp->fddir || num == hp->fdinfodir ||
                               num == hp->readers[0].selffd ||
                               (c->target.owns_fd && num == c->target.procfd)))
            continue;
        if (pss_grow((void **)&hp->recs, &cap, hp->n + 1, sizeof *hp->recs) != 0) {
            r = -ENOMEM;
            break;
        }
        memset(&hp->recs[hp->n], 0, sizeof hp->recs[hp->n]);
        hp->recs[hp->n].fd = (int)num;
        hp->n++;
    }
    pss_dir_close(&it);
    if (r < 0) {
        pass_free(hp);
        if (r == -ENOENT || r == -ESRCH)
            return pss_target_gone(c->target.procfd) ? ERROR_PROCESS_ABORTED
                                                     : pss_win32_from_errno(-r);
        return pss_win32_from_errno(-r);
    }
    hp->nreaders = 1;
    if (!c->target.self && hp->n >= PARALLEL_MIN_FDS) {
        if (pthread_mutex_init(&hp->sync_lock, NULL) == 0) {
            if (pthread_cond_init(&hp->sync_cond, NULL) == 0)
                hp->sync_init = true;
            else
                pthread_mutex_destroy(&hp->sync_lock);
        }
        hp->posted = hp->sync_init ? malloc((hp->n / READ_CHUNK + 1) * sizeof *hp->posted) : NULL;
    }
    hp->caller_tid = (pid_t)syscall(SYS_gettid);
    if (hp->posted != NULL && hp->want_basic) {
        /* A pidfd opened now names our target only if it is still unreaped afterwards
         * (its PID cannot have been reused while the /proc directory fd is live). */
        hp->dedup_pidfd = (int)syscall(SYS_pidfd_open, c->target.pid, 0);
        if (hp->dedup_pidfd < 0) /* a live thread of a dead leader (ENOENT or EINVAL) */
            hp->dedup_pidfd = (int)syscall(SYS_pidfd_open, c->target.pid, PIDFD_THREAD);
        if (hp->dedup_pidfd >= 0 && pss_target_gone(c->target.procfd)) {
            close(hp->dedup_pidfd);
            hp->dedup_pidfd = -1;
        }
    }
    if (hp->posted != NULL && start_helper(&hp->helper, helper_reader_main, hp)) {
        hp->helper_running = true;
        hp->threaded = true;
        hp->nreaders = 2;
    }
    *out = hp;
    return ERROR_SUCCESS;
}

DWORD pss_capture_handles_end(struct pss_capture *c, struct handle_pass *hp, bool abandon)
{
    if (hp == NULL)
        return ERROR_SUCCESS;
    if (abandon)
        atomic_store(&hp->failed, 1);
    else
        reader_run(&hp->readers[0]);
    if (hp->helper_running) {
        /* Wait until the helper has read and probed all it will (it may still be
         * dismantling its epoll set: pass_free joins it). */
        pthread_mutex_lock(&hp->sync_lock);
        hp->main_done = true;
        pthread_cond_broadcast(&hp->sync_cond);
        while (!hp->helper_done)
            pthread_cond_wait(&hp->sync_cond, &hp->sync_lock);
        pthread_mutex_unlock(&hp->sync_lock);
    }
    DWORD rc = ERROR_SUCCESS;
    int err = hp->readers[0].err ? hp->readers[0].err : hp->readers[1].err;
    if (!abandon && atomic_load(&hp->failed)) {
        rc = pss_win32_from_errno(err);
        if (rc == ERROR_PROCESS_ABORTED || rc == ERROR_SUCCESS)
            rc = ERROR_GEN_FAILURE; /* mapped below if the target is gone */
    }
    if (!abandon && rc == ERROR_SUCCESS && hp->want_basic)
        rc = count_handles(hp);
    if (!abandon && rc == ERROR_SUCCESS && hp->want_specific)
        rc = section_bases(hp);
    if (!abandon && rc == ERROR_SUCCESS)
        rc = build_entries(hp);
    if (!abandon && rc != ERROR_SUCCESS && pss_target_gone(c->target.procfd))
        rc = ERROR_PROCESS_ABORTED;
    pass_free(hp);
    if (!abandon && rc == ERROR_SUCCESS)
        c->snap->have_handles = true;
    return rc;
}
