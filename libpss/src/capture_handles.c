/*
 * capture_handles.c -- PSS_CAPTURE_HANDLES: one PSS_HANDLE_ENTRY per /proc/PID/fd entry
 * (linux-mapping.md section 1.3).
 *
 * Per fd, only what the requested flags need is read:
 *   readlinkat(fd/N)      always (classification; ObjectName)
 *   fdinfo/N              BASIC or TYPE_SPECIFIC requested, or the fd is an eventfd or a
 *                         pidfd (semaphore mode and thread pidfds change ObjectType)
 *   statx(fd/N)           fds named by a path (file type, tmpfs, size), and pipes and
 *                         sockets when BASIC is requested (CreationTime)
 *   statfs                once per distinct st_dev of regular files (tmpfs -> SECTION)
 *   getxattr              sockets: system.sockprotoname ("Socket/UNIX-STREAM")
 * An fd that disappears (ENOENT/ESRCH) is skipped.  If fdinfo and statx disagree on the
 * inode, the fd number was reused in between and the fd is read again.
 * HandleCount: fds are grouped by (mnt_id, inode, kind, eventfd-id, access mode) -- all
 * immutable for an open file description -- and each group of two or more is sorted with
 * kcmp(KCMP_FILE), whose ordering is stable, so equal open file descriptions are
 * adjacent; the count is the run length.  Without kcmp every count is 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
};

static const char *const kind_type_name[] = {
    [K_UNKNOWN] = "Unknown",     [K_FILE] = "File",         [K_DIR] = "Directory",
    [K_DEVICE] = "Device",       [K_PIPE] = "Pipe",         [K_SOCKET] = "Socket",
    [K_EVENTFD] = "EventFd",     [K_PIDFD] = "PidFd",       [K_TIMERFD] = "Timer",
    [K_SIGNALFD] = "SignalFd",   [K_EPOLL] = "Epoll",       [K_INOTIFY] = "Inotify",
    [K_FANOTIFY] = "Fanotify",   [K_USERFAULTFD] = "UserFaultFd",
    [K_ANON_OTHER] = "AnonInode", [K_MEMFD] = "MemFd",      [K_SHM] = "Shm",
    [K_SECTION] = "Section",     [K_MQUEUE] = "MessageQueue", [K_NAMESPACE] = "Namespace",
};

struct fdinfo {
    bool ok;
    uint64_t flags;
    uint64_t mnt_id;
    uint64_t ino;
    bool have_ino;
    bool have_eventfd;
    uint64_t eventfd_count;
    uint64_t eventfd_id;
    bool eventfd_semaphore;
    bool have_pid;
    int64_t pid;
};

/* Per-fd facts needed after the first pass (grouping, type-specific data). */
struct fd_extra {
    int fd;
    enum fd_kind kind;
    uint64_t mnt_id, ino;
    uint64_t eventfd_id;  /* distinguishes eventfds, which all share one anon inode */
    uint32_t access_mode; /* O_ACCMODE | O_PATH bits: immutable per open description */
    uint32_t dev_major, dev_minor; /* from statx, for fds named by a path */
    bool groupable;
    uint32_t rec; /* index into snap->handles */
};

struct dev_magic {
    dev_t dev;
    long magic;
};

struct type_name_cache {
    char text[96];
    struct pss_strref ref;
};

struct handle_pass {
    struct pss_capture *c;
    int fddir;
    int fdinfodir;
    bool want_name, want_basic, want_specific;
    struct dev_magic *devs;
    size_t ndevs, capdevs;
    struct type_name_cache names[32];
    size_t nnames;
    struct fd_extra *extra;
    size_t nextra, capextra;
};

/* --- fdinfo -------------------------------------------------------------------- */

static uint64_t parse_u(const char *s, int base)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return strtoull(s, NULL, base);
}

static void parse_fdinfo(const char *buf, struct fdinfo *fi)
{
    const char *p = buf;
    while (*p) {
        const char *eol = strchr(p, '\n');
        if (strncmp(p, "flags:", 6) == 0) {
            fi->flags = parse_u(p + 6, 8);
        } else if (strncmp(p, "mnt_id:", 7) == 0) {
            fi->mnt_id = parse_u(p + 7, 10);
        } else if (strncmp(p, "ino:", 4) == 0) {
            fi->ino = parse_u(p + 4, 10);
            fi->have_ino = true;
        } else if (strncmp(p, "eventfd-count:", 14) == 0) {
            fi->eventfd_count = parse_u(p + 14, 16);
            fi->have_eventfd = true;
        } else if (strncmp(p, "eventfd-id:", 11) == 0) {
            fi->eventfd_id = parse_u(p + 11, 10);
        } else if (strncmp(p, "eventfd-semaphore:", 18) == 0) {
            fi->eventfd_semaphore = parse_u(p + 18, 10) != 0;
        } else if (strncmp(p, "Pid:", 4) == 0) {
            fi->pid = strtoll(p + 4, NULL, 10);
            fi->have_pid = true;
        }
        if (eol == NULL)
            break;
        p = eol + 1;
    }
}

/* 1 = read, 0 = fd gone, <0 = -errno. */
static int read_fdinfo(int dirfd, const char *name, struct fdinfo *fi)
{
    char buf[2048];
    memset(fi, 0, sizeof *fi);
    ssize_t n = pss_read_small(dirfd, name, buf, sizeof buf);
    if (n == -ENOENT || n == -ESRCH)
        return 0;
    if (n < 0)
        return (int)n;
    parse_fdinfo(buf, fi);
    fi->ok = true;
    return 1;
}

/* --- classification ------------------------------------------------------------- */

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

static long fs_magic_of(struct handle_pass *hp, dev_t dev, const char *name, bool *ok)
{
    for (size_t i = 0; i < hp->ndevs; i++)
        if (hp->devs[i].dev == dev) {
            *ok = true;
            return hp->devs[i].magic;
        }
    /* statfs has no *at form: go through our own fd of the fd directory. */
    char path[96];
    snprintf(path, sizeof path, "/proc/self/fd/%d/%s", hp->fddir, name);
    struct statfs sfs;
    if (statfs(path, &sfs) != 0) {
        *ok = false;
        return 0;
    }
    if (pss_grow((void **)&hp->devs, &hp->capdevs, hp->ndevs + 1, sizeof *hp->devs) == 0) {
        hp->devs[hp->ndevs].dev = dev;
        hp->devs[hp->ndevs].magic = (long)sfs.f_type;
        hp->ndevs++;
    }
    *ok = true;
    return (long)sfs.f_type;
}

static enum fd_kind refine_path_kind(struct handle_pass *hp, const char *link, size_t n,
                                     const struct statx *sx, const char *name, bool *hugetlb)
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
    long magic = fs_magic_of(hp, makedev(sx->stx_dev_major, sx->stx_dev_minor), name, &ok);
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

static bool is_section(enum fd_kind k)
{
    return k == K_MEMFD || k == K_SHM || k == K_SECTION;
}

/* --- strings -------------------------------------------------------------------- */

static int type_name_ref(struct handle_pass *hp, const char *text, struct pss_strref *out)
{
    for (size_t i = 0; i < hp->nnames; i++)
        if (strcmp(hp->names[i].text, text) == 0) {
            *out = hp->names[i].ref;
            return 0;
        }
    int r = pss_pool_add_utf8(&hp->c->snap->strings, text, strlen(text), out);
    if (r != 0)
        return r;
    if (hp->nnames < sizeof hp->names / sizeof hp->names[0]) {
        snprintf(hp->names[hp->nnames].text, sizeof hp->names[0].text, "%s", text);
        hp->names[hp->nnames].ref = *out;
        hp->nnames++;
    }
    return 0;
}

static void compose_type_name(struct handle_pass *hp, enum fd_kind kind, const char *link,
                              size_t n, const char *name, char *out, size_t cap)
{
    if (kind == K_SOCKET) {
        char path[96], proto[40];
        snprintf(path, sizeof path, "/proc/self/fd/%d/%s", hp->fddir, name);
        ssize_t r = getxattr(path, "system.sockprotoname", proto, sizeof proto - 1);
        if (r > 0) {
            proto[r] = '\0';
            snprintf(out, cap, "Socket/%s", proto);
            return;
        }
    } else if (kind == K_ANON_OTHER) {
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
    snprintf(out, cap, "%s", kind_type_name[kind]);
}

/* --- one fd ---------------------------------------------------------------------- */

static bool want_statx(const struct handle_pass *hp, enum fd_kind kind, bool path)
{
    if (path)
        return true;
    return hp->want_basic && (kind == K_PIPE || kind == K_SOCKET);
}

static bool want_fdinfo(const struct handle_pass *hp, enum fd_kind kind)
{
    return hp->want_basic || hp->want_specific || kind == K_EVENTFD || kind == K_PIDFD;
}

static FILETIME statx_time(const struct statx *sx)
{
    const struct statx_timestamp *t = (sx->stx_mask & STATX_BTIME) ? &sx->stx_btime
                                                                    : &sx->stx_ctime;
    return pss_filetime_from_unix_ns((int64_t)t->tv_sec * 1000000000 + t->tv_nsec);
}

/* Fills the type-specific union.  Returns true if the data is valid. */
static bool type_specific(struct handle_pass *hp, enum fd_kind kind, const struct fdinfo *fi,
                          const struct statx *sx, bool hugetlb, PSS_HANDLE_ENTRY *e,
                          FILETIME *pid_start)
{
    switch (kind) {
    case K_EVENTFD:
        if (!fi->ok || !fi->have_eventfd)
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
        if (!fi->ok || !fi->have_pid)
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

/* 1 = recorded, 0 = gone/reused (skip or retry), <0 = -errno. */
static int capture_one(struct handle_pass *hp, const char *name, int fd, bool *reused)
{
    HPSS s = hp->c->snap;
    char link[4096];
    *reused = false;
    ssize_t n = readlinkat(hp->fddir, name, link, sizeof link - 1);
    if (n < 0)
        return (errno == ENOENT || errno == ESRCH) ? 0 : -errno;
    link[n] = '\0';
    const bool path = n > 0 && link[0] == '/';
    enum fd_kind kind = classify_link(link, (size_t)n);

    struct statx sx;
    bool have_sx = false, hugetlb = false;
    if (want_statx(hp, kind, path)) {
        if (statx(hp->fddir, name, 0,
                  STATX_TYPE | STATX_MODE | STATX_INO | STATX_SIZE | STATX_BTIME | STATX_CTIME,
                  &sx) != 0)
            return (errno == ENOENT || errno == ESRCH) ? 0 : -errno;
        have_sx = true;
        if (path)
            kind = refine_path_kind(hp, link, (size_t)n, &sx, name, &hugetlb);
    }

    struct fdinfo fi;
    memset(&fi, 0, sizeof fi);
    if (want_fdinfo(hp, kind)) {
        int r = read_fdinfo(hp->fdinfodir, name, &fi);
        if (r <= 0)
            return r;
        if (have_sx && fi.have_ino && fi.ino != sx.stx_ino) {
            *reused = true; /* fd number reused between the reads */
            return 0;
        }
    }

    PSS_HANDLE_ENTRY e;
    memset(&e, 0, sizeof e);
    e.Handle = (HANDLE)(uintptr_t)fd;
    e.CaptureTime = pss_filetime_now();
    e.Flags = PSS_HANDLE_HAVE_TYPE;
    const bool thread_pidfd = kind == K_PIDFD && fi.ok && (fi.flags & PIDFD_THREAD);
    switch (kind) {
    case K_EVENTFD:
        e.ObjectType = fi.eventfd_semaphore ? PSS_OBJECT_TYPE_SEMAPHORE : PSS_OBJECT_TYPE_EVENT;
        break;
    case K_PIDFD:
        e.ObjectType = thread_pidfd ? PSS_OBJECT_TYPE_THREAD : PSS_OBJECT_TYPE_PROCESS;
        break;
    case K_MEMFD:
    case K_SHM:
    case K_SECTION:
        e.ObjectType = PSS_OBJECT_TYPE_SECTION;
        break;
    default:
        e.ObjectType = PSS_OBJECT_TYPE_UNKNOWN;
        break;
    }

    FILETIME pid_start = {0, 0};
    if (hp->want_specific &&
        type_specific(hp, kind, &fi, have_sx ? &sx : NULL, hugetlb, &e, &pid_start))
        e.Flags |= PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION;

    if (hp->want_basic && fi.ok) {
        e.Flags |= PSS_HANDLE_HAVE_BASIC_INFORMATION;
        e.Attributes = (fi.flags & O_CLOEXEC) ? 0 : OBJ_INHERIT;
        e.GrantedAccess = granted_access(kind, fi.flags, thread_pidfd);
        e.HandleCount = 1;
        e.PointerCount = 1;
        if (have_sx)
            e.CreationTime = statx_time(&sx);
        else if (kind == K_PIDFD)
            e.CreationTime = pid_start;
    }

    struct pss_handle_rec rec;
    memset(&rec, 0, sizeof rec);
    char tname[96];
    compose_type_name(hp, kind, link, (size_t)n, name, tname, sizeof tname);
    if (type_name_ref(hp, tname, &rec.type_name) != 0)
        return -ENOMEM;
    e.TypeNameLength = (WORD)(rec.type_name.len * 2u);
    if (hp->want_name) {
        if (pss_pool_add_utf8(&s->strings, link, (size_t)n, &rec.object_name) != 0)
            return -ENOMEM;
        e.ObjectNameLength = (WORD)(rec.object_name.len * 2u);
        e.Flags |= PSS_HANDLE_HAVE_NAME;
    }
    rec.e = e;

    if (pss_grow((void **)&s->handles, &s->cap_handles, s->nhandles + 1, sizeof *s->handles) != 0)
        return -ENOMEM;
    if (pss_grow((void **)&hp->extra, &hp->capextra, hp->nextra + 1, sizeof *hp->extra) != 0)
        return -ENOMEM;
    s->handles[s->nhandles] = rec;
    struct fd_extra *x = &hp->extra[hp->nextra++];
    x->fd = fd;
    x->kind = kind;
    x->mnt_id = fi.mnt_id;
    x->ino = fi.have_ino ? fi.ino : (have_sx ? sx.stx_ino : 0);
    x->eventfd_id = fi.eventfd_id;
    x->access_mode = (uint32_t)(fi.flags & (O_ACCMODE | O_PATH));
    x->dev_major = have_sx ? sx.stx_dev_major : 0;
    x->dev_minor = have_sx ? sx.stx_dev_minor : 0;
    x->groupable = fi.ok && fi.have_ino;
    x->rec = (uint32_t)s->nhandles;
    s->nhandles++;
    return 1;
}

/* --- HandleCount ----------------------------------------------------------------- */

struct kcmp_ctx {
    pid_t pid;
    bool failed;
};

static int cmp_group_key(const void *a, const void *b)
{
    const struct fd_extra *x = a, *y = b;
    if (x->groupable != y->groupable)
        return x->groupable ? -1 : 1;
    if (x->mnt_id != y->mnt_id)
        return x->mnt_id < y->mnt_id ? -1 : 1;
    if (x->ino != y->ino)
        return x->ino < y->ino ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->eventfd_id != y->eventfd_id)
        return x->eventfd_id < y->eventfd_id ? -1 : 1;
    if (x->access_mode != y->access_mode)
        return x->access_mode < y->access_mode ? -1 : 1;
    return x->fd < y->fd ? -1 : (x->fd > y->fd);
}

/* Same key: the fds may share an open file description (kcmp decides). */
static bool same_group(const struct fd_extra *x, const struct fd_extra *y)
{
    return x->groupable && y->groupable && x->mnt_id == y->mnt_id && x->ino == y->ino &&
           x->kind == y->kind && x->eventfd_id == y->eventfd_id &&
           x->access_mode == y->access_mode;
}

static int cmp_kcmp(const void *a, const void *b, void *arg)
{
    const struct fd_extra *x = a, *y = b;
    struct kcmp_ctx *k = arg;
    if (k->failed)
        return x->fd < y->fd ? -1 : (x->fd > y->fd);
    long r = syscall(SYS_kcmp, k->pid, k->pid, KCMP_FILE, (unsigned long)x->fd,
                     (unsigned long)y->fd);
    switch (r) {
    case 0:
        return x->fd < y->fd ? -1 : (x->fd > y->fd);
    case 1:
        return -1;
    case 2:
        return 1;
    default:
        k->failed = true; /* EPERM, ENOSYS, EBADF (fd closed since), or unordered */
        return x->fd < y->fd ? -1 : (x->fd > y->fd);
    }
}

static void count_handles(struct handle_pass *hp)
{
    HPSS s = hp->c->snap;
    size_t n = hp->nextra;
    if (n < 2)
        return;
    qsort(hp->extra, n, sizeof *hp->extra, cmp_group_key);
    struct kcmp_ctx k = {hp->c->target.pid, false};
    size_t i = 0;
    while (i < n && hp->extra[i].groupable) {
        size_t j = i + 1;
        while (j < n && same_group(&hp->extra[j], &hp->extra[i]))
            j++;
        if (j - i > 1 && !k.failed) {
            qsort_r(hp->extra + i, j - i, sizeof *hp->extra, cmp_kcmp, &k);
            /* Runs of equal descriptions are now adjacent. */
            size_t a = i;
            while (a < j && !k.failed) {
                size_t b = a + 1;
                while (b < j) {
                    long r = syscall(SYS_kcmp, k.pid, k.pid, KCMP_FILE,
                                     (unsigned long)hp->extra[a].fd,
                                     (unsigned long)hp->extra[b].fd);
                    if (r != 0) {
                        if (r < 0)
                            k.failed = true;
                        break;
                    }
                    b++;
                }
                if (k.failed)
                    break;
                for (size_t q = a; q < b; q++) {
                    PSS_HANDLE_ENTRY *e = &s->handles[hp->extra[q].rec].e;
                    e->HandleCount = (DWORD)(b - a);
                    e->PointerCount = (DWORD)(b - a);
                }
                a = b;
            }
            if (k.failed) {
                for (size_t q = i; q < j; q++) {
                    PSS_HANDLE_ENTRY *e = &s->handles[hp->extra[q].rec].e;
                    e->HandleCount = 1;
                    e->PointerCount = 1;
                }
            }
        }
        i = j;
    }
}

/* --- Section BaseAddress ----------------------------------------------------------- */

struct file_vma {
    uint64_t ino;
    uint32_t dev_major, dev_minor;
    uint64_t start;
};

static int cmp_file_vma(const void *a, const void *b)
{
    const struct file_vma *x = a, *y = b;
    if (x->ino != y->ino)
        return x->ino < y->ino ? -1 : 1;
    if (x->dev_major != y->dev_major)
        return x->dev_major < y->dev_major ? -1 : 1;
    if (x->dev_minor != y->dev_minor)
        return x->dev_minor < y->dev_minor ? -1 : 1;
    return x->start < y->start ? -1 : (x->start > y->start);
}

/* Section BaseAddress = the lowest mapping of the same dev:inode in the target. */
static DWORD section_bases(struct handle_pass *hp)
{
    HPSS s = hp->c->snap;
    bool any = false;
    for (size_t i = 0; i < hp->nextra && !any; i++)
        any = is_section(hp->extra[i].kind) &&
              (s->handles[hp->extra[i].rec].e.Flags & PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION);
    if (!any || pss_capture_load_maps(hp->c) != ERROR_SUCCESS)
        return ERROR_SUCCESS; /* BaseAddress stays 0 without maps access */
    const struct pss_maps *m = &hp->c->maps;
    size_t nf = 0;
    for (size_t v = 0; v < m->n; v++)
        nf += m->vma[v].ino != 0;
    if (nf == 0)
        return ERROR_SUCCESS;
    struct file_vma *fv = malloc(nf * sizeof *fv);
    if (fv == NULL)
        return ERROR_NOT_ENOUGH_MEMORY;
    nf = 0;
    for (size_t v = 0; v < m->n; v++)
        if (m->vma[v].ino != 0)
            fv[nf++] = (struct file_vma){m->vma[v].ino, m->vma[v].dev_major,
                                         m->vma[v].dev_minor, m->vma[v].start};
    qsort(fv, nf, sizeof *fv, cmp_file_vma);
    for (size_t i = 0; i < hp->nextra; i++) {
        const struct fd_extra *x = &hp->extra[i];
        PSS_HANDLE_ENTRY *e = &s->handles[x->rec].e;
        if (!is_section(x->kind) || !(e->Flags & PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION))
            continue;
        struct file_vma key = {x->ino, x->dev_major, x->dev_minor, 0};
        size_t lo = 0, hi = nf;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (cmp_file_vma(&fv[mid], &key) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < nf && fv[lo].ino == x->ino && fv[lo].dev_major == x->dev_major &&
            fv[lo].dev_minor == x->dev_minor)
            e->TypeSpecificInformation.Section.BaseAddress = (void *)(uintptr_t)fv[lo].start;
    }
    free(fv);
    return ERROR_SUCCESS;
}

/* --- the phase -------------------------------------------------------------------- */

DWORD pss_capture_handles(struct pss_capture *c)
{
    struct handle_pass hp;
    memset(&hp, 0, sizeof hp);
    hp.c = c;
    hp.fdinfodir = -1;
    hp.want_name = (c->flags & PSS_CAPTURE_HANDLE_NAME_INFORMATION) != 0;
    hp.want_basic = (c->flags & PSS_CAPTURE_HANDLE_BASIC_INFORMATION) != 0;
    hp.want_specific = (c->flags & PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION) != 0;

    int fd = openat(c->target.procfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        if (err == ENOENT || err == ESRCH)
            return pss_target_gone(c->target.procfd) ? ERROR_PROCESS_ABORTED
                                                     : ERROR_ACCESS_DENIED;
        return pss_win32_from_errno(err);
    }
    hp.fddir = dup(fd);
    if (hp.fddir < 0) {
        int err = errno;
        close(fd);
        return pss_win32_from_errno(err);
    }
    hp.fdinfodir = openat(c->target.procfd, "fdinfo", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (hp.fdinfodir < 0) {
        int err = errno;
        close(fd);
        close(hp.fddir);
        if (err == ENOENT || err == ESRCH)
            return pss_target_gone(c->target.procfd) ? ERROR_PROCESS_ABORTED
                                                     : ERROR_ACCESS_DENIED;
        return pss_win32_from_errno(err);
    }
    struct pss_dirent_iter it;
    if (pss_dir_open(&it, fd) != 0) {
        close(hp.fddir);
        close(hp.fdinfodir);
        return ERROR_NOT_ENOUGH_MEMORY;
    }

    DWORD rc = ERROR_SUCCESS;
    const char *name;
    long num;
    int r;
    while ((r = pss_dir_next_number(&it, &name, &num)) > 0) {
        /* Capturing ourselves: leave out the descriptors this capture itself holds. */
        if (c->target.self &&
            (num == it.fd || num == hp.fddir || num == hp.fdinfodir ||
             (c->target.owns_fd && num == c->target.procfd)))
            continue;
        for (int attempt = 0; attempt < 3; attempt++) {
            bool reused = false;
            int got = capture_one(&hp, name, (int)num, &reused);
            if (got < 0) {
                rc = pss_win32_from_errno(-got);
                if (rc == ERROR_PROCESS_ABORTED)
                    rc = ERROR_GEN_FAILURE; /* mapped below if the target is gone */
                break;
            }
            if (!reused)
                break;
        }
        if (rc != ERROR_SUCCESS)
            break;
    }
    if (r < 0 && rc == ERROR_SUCCESS)
        rc = (r == -ENOENT || r == -ESRCH) ? ERROR_PROCESS_ABORTED : pss_win32_from_errno(-r);
    pss_dir_close(&it);

    if (rc == ERROR_SUCCESS && hp.want_basic)
        count_handles(&hp);
    if (rc == ERROR_SUCCESS && hp.want_specific)
        rc = section_bases(&hp);
    if (rc != ERROR_SUCCESS && pss_target_gone(c->target.procfd))
        rc = ERROR_PROCESS_ABORTED;

    close(hp.fddir);
    close(hp.fdinfodir);
    free(hp.devs);
    free(hp.extra);
    if (rc == ERROR_SUCCESS)
        c->snap->have_handles = true;
    return rc;
}
