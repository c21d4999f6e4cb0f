/*
 * procdir.c -- reading /proc relative to a directory fd.
 *
 * Every reader opens with openat() relative to the /proc/PID directory fd of the
 * target, so a PID that was reused after the target was reaped is never read: the old
 * directory fd then answers ESRCH/ENOENT.  Readers return -errno; the callers decide
 * whether a vanished entry is "skip it" (a thread or fd) or "the process is gone".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pss_internal.h"

static int open_ro(int dirfd, const char *path)
{
    int fd;
    do {
        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    } while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : fd;
}

/* The small-file reader runs once per fd, thread and file of a capture (tens of thousands
 * of times for a large process), from two threads: it calls the kernel directly.  The
 * libc wrappers are cancellation points, which in a multi-threaded process cost two extra
 * calls each; a library has no business being a cancellation point anyway. */
ssize_t pss_read_small(int dirfd, const char *path, char *buf, size_t cap)
{
    long fd;
    do {
        fd = syscall(SYS_openat, dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return -errno;
    size_t len = 0;
    int err = 0;
    while (len + 1 < cap) {
        size_t want = cap - 1 - len;
        ssize_t r = syscall(SYS_read, fd, buf + len, want);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            err = errno;
            break;
        }
        len += (size_t)r;
        /* The small /proc files (stat, status, fdinfo, ...) are generated whole on the
         * first read: a short read is the end, which saves a read() per file. */
        if (r == 0 || (size_t)r < want)
            break;
    }
    syscall(SYS_close, fd);
    if (err != 0)
        return -err;
    buf[len] = '\0';
    return (ssize_t)len;
}

int pss_read_all(int dirfd, const char *path, struct pss_buf *b)
{
    int fd = open_ro(dirfd, path);
    if (fd < 0)
        return fd;
    b->len = 0;
    int err = 0;
    for (;;) {
        /* Large reads: seq_file fills as much of the buffer as it can per call. */
        if (pss_buf_reserve(b, 256 * 1024 + 1) != 0) {
            err = ENOMEM;
            break;
        }
        ssize_t r = read(fd, b->data + b->len, b->cap - b->len - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            err = errno;
            break;
        }
        if (r == 0)
            break;
        b->len += (size_t)r;
    }
    close(fd);
    if (err != 0)
        return -err;
    b->data[b->len] = '\0';
    return 0;
}

/* Parses an unsigned or negative decimal; advances *p.  Returns false on no digits and on
 * numbers beyond 64 bits (the kernel never writes those: the text is not what we think).
 * Values above INT64_MAX come back as their uint64_t bit pattern (callers read those fields
 * as unsigned). */
bool pss_parse_i64(const char **p, const char *end, int64_t *out)
{
    const char *s = *p;
    bool neg = false;
    if (s < end && *s == '-') {
        neg = true;
        s++;
    }
    if (s >= end || *s < '0' || *s > '9')
        return false;
    uint64_t v = 0;
    while (s < end && *s >= '0' && *s <= '9') {
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
        s++;
    }
    if (neg && v > (uint64_t)INT64_MAX + 1)
        return false;
    *p = s;
    if (!neg)
        *out = (int64_t)v;
    else if (v == (uint64_t)INT64_MAX + 1)
        *out = INT64_MIN;
    else
        *out = -(int64_t)v;
    return true;
}

int pss_parse_stat(const char *buf, size_t len, struct pss_stat *st)
{
    memset(st, 0, sizeof *st);
    const char *end = buf + len;
    /* comm may contain spaces and ')' -- fields start after the LAST ')'. */
    const char *rp = NULL;
    for (const char *q = end; q > buf; q--)
        if (q[-1] == ')') {
            rp = q - 1;
            break;
        }
    if (rp == NULL || rp + 2 >= end)
        return -EINVAL;
    const char *p = rp + 2; /* ") " */
    st->state = *p++;
    int field = 3;
    int64_t v;
    while (p < end && field < 52) {
        while (p < end && *p == ' ')
            p++;
        if (p >= end || *p == '\n')
            break;
        field++;
        if (!pss_parse_i64(&p, end, &v))
            return -EINVAL;
        switch (field) {
        case 4: st->ppid = v; break;
        case 10: st->minflt = (uint64_t)v; break;
        case 12: st->majflt = (uint64_t)v; break;
        case 14: st->utime = (uint64_t)v; break;
        case 15: st->stime = (uint64_t)v; break;
        case 18: st->priority = v; break;
        case 19: st->nice = v; break;
        case 20: st->num_threads = v; break;
        case 22: st->starttime = (uint64_t)v; break;
        case 23: st->vsize = (uint64_t)v; break;
        case 28: st->startstack = (uint64_t)v; break;
        case 40: st->rt_priority = (uint64_t)v; break;
        case 41: st->policy = (uint64_t)v; break;
        case 52: st->exit_code = v; break;
        default: break;
        }
    }
    if (field < 22)
        return -EINVAL;
    return 0;
}

bool pss_status_field(const char *buf, const char *key, uint64_t *value)
{
    size_t klen = strlen(key);
    const char *p = buf;
    while (p != NULL && *p != '\0') {
        if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
            const char *v = p + klen + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            int64_t n;
            const char *e = v + strcspn(v, "\n");
            if (!pss_parse_i64(&v, e, &n))
                return false;
            *value = (uint64_t)n;
            return true;
        }
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return false;
}

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

int pss_dir_open(struct pss_dirent_iter *it, int fd)
{
    it->fd = fd;
    it->cap = 64 * 1024;
    it->buf = malloc(it->cap);
    it->len = 0;
    it->pos = 0;
    if (it->buf == NULL) {
        close(fd);
        it->fd = -1;
        return -ENOMEM;
    }
    return 0;
}

int pss_dir_next_number(struct pss_dirent_iter *it, const char **name, long *num)
{
    for (;;) {
        if (it->pos >= (size_t)it->len) {
            long r = syscall(SYS_getdents64, it->fd, it->buf, it->cap);
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                return -errno;
            }
            if (r == 0)
                return 0;
            it->len = r;
            it->pos = 0;
        }
        struct linux_dirent64 *d = (struct linux_dirent64 *)(void *)(it->buf + it->pos);
        it->pos += d->d_reclen;
        const char *s = d->d_name;
        if (*s < '0' || *s > '9')
            continue;
        long v = 0;
        bool ok = true;
        for (; *s; s++) {
            if (*s < '0' || *s > '9' || v > 214748364L) {
                ok = false;
                break;
            }
            v = v * 10 + (*s - '0');
        }
        if (!ok)
            continue;
        *name = d->d_name;
        *num = v;
        return 1;
    }
}

int pss_dir_next_entry(struct pss_dirent_iter *it, const char **name, uint64_t *ino,
                       unsigned char *type)
{
    for (;;) {
        if (it->pos >= (size_t)it->len) {
            long r = syscall(SYS_getdents64, it->fd, it->buf, it->cap);
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                return -errno;
            }
            if (r == 0)
                return 0;
            it->len = r;
            it->pos = 0;
        }
        struct linux_dirent64 *d = (struct linux_dirent64 *)(void *)(it->buf + it->pos);
        it->pos += d->d_reclen;
        *name = d->d_name;
        *ino = d->d_ino;
        *type = d->d_type;
        return 1;
    }
}

void pss_dir_close(struct pss_dirent_iter *it)
{
    if (it->fd >= 0)
        close(it->fd);
    it->fd = -1;
    free(it->buf);
    it->buf = NULL;
}

bool pss_target_gone(int procfd)
{
    char buf[512];
    ssize_t r = pss_read_small(procfd, "stat", buf, sizeof buf);
    return r == -ESRCH || r == -ENOENT;
}
