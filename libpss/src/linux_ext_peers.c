/*
 * linux_ext_peers.c -- who holds the other end of the target's pipes and sockets
 * (PSS_DETAILS_HANDLE_PEERS), the way lsof +E finds it: every /proc/N/fd we may read is
 * listed and its links compared with the inodes we look for.
 *   pipe      same pipe:[ino], opened in the other direction (fdinfo flags), not the fd
 *             itself
 *   socket    socket:[PeerInode] (UNIX peers from sock_diag, TCP loopback peers)
 * A process whose fd/ we may not list counts in ProcessesDenied (PeersError
 * ERROR_PARTIAL_COPY); processes that vanish while we look are skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linux_ext.h"

struct want {
    uint64_t ino;
    bool pipe;
};

struct holder {
    uint64_t ino;
    uint32_t pid, fd;
    uint32_t accmode; /* O_ACCMODE bits, pipes only; 3 = unknown */
};

static int cmp_want(const void *a, const void *b)
{
    uint64_t x = ((const struct want *)a)->ino, y = ((const struct want *)b)->ino;
    return x < y ? -1 : x > y;
}

static bool link_inode(const char *link, size_t n, const char *prefix, uint64_t *ino)
{
    size_t k = strlen(prefix);
    if (n <= k + 1 || memcmp(link, prefix, k) != 0)
        return false;
    uint64_t v = 0;
    size_t i = k;
    for (; i < n && link[i] >= '0' && link[i] <= '9'; i++)
        v = v * 10 + (uint64_t)(link[i] - '0');
    if (i == k || i >= n || link[i] != ']')
        return false;
    *ino = v;
    return true;
}

static uint32_t read_accmode(int pidfd_dir, const char *fdname)
{
    char path[48], buf[512];
    snprintf(path, sizeof path, "fdinfo/%s", fdname);
    ssize_t r = pss_read_small(pidfd_dir, path, buf, sizeof buf);
    if (r < 0)
        return 3;
    const char *f = strstr(buf, "flags:");
    if (f == NULL)
        return 3;
    f += 6;
    while (*f == ' ' || *f == '\t')
        f++;
    uint64_t o = 0;
    while (*f >= '0' && *f <= '7')
        o = (o << 3) | (uint64_t)(*f++ - '0');
    return (uint32_t)(o & O_ACCMODE);
}

static void comm_of(int procdir, uint32_t pid, char out[16])
{
    char path[32], buf[64];
    snprintf(path, sizeof path, "%u/comm", pid);
    ssize_t r = pss_read_small(procdir, path, buf, sizeof buf);
    size_t n = r > 0 ? (size_t)r : 0;
    while (n > 0 && buf[n - 1] == '\n')
        n--;
    if (n > 15)
        n = 15;
    memcpy(out, buf, n);
    out[n] = '\0';
}

/* Is h (held by pid/fd) an acceptable peer of the target's handle t? */
static bool is_peer(const PSS_DETAILS_HANDLE *t, uint32_t target_pid, const struct holder *h)
{
    if (h->pid == target_pid && h->fd == t->Fd)
        return false;
    if (t->Kind != PSS_FD_KIND_PIPE)
        return true;
    uint32_t mine = t->FdinfoError == ERROR_SUCCESS ? (t->OpenFlags & O_ACCMODE) : 3u;
    if (mine == 3 || h->accmode == 3 || mine == O_RDWR || h->accmode == O_RDWR)
        return true;
    return mine != h->accmode; /* a reader's peer is a writer and vice versa */
}

DWORD lx_capture_peers(struct lx_capture *c)
{
    HPSSDETAILS d = c->d;
    struct want *want = NULL;
    size_t nwant = 0, capwant = 0;
    for (size_t i = 0; i < d->nhandles; i++) {
        const PSS_DETAILS_HANDLE *h = &d->handles[i];
        struct want w = {0, false};
        if (h->Kind == PSS_FD_KIND_PIPE && h->Inode)
            w = (struct want){h->Inode, true};
        else if (h->Kind == PSS_FD_KIND_SOCKET && h->PeerInode)
            w = (struct want){h->PeerInode, false};
        else
            continue;
        if (pss_grow((void **)&want, &capwant, nwant + 1, sizeof *want) != 0) {
            free(want);
            return ERROR_NOT_ENOUGH_MEMORY;
        }
        want[nwant++] = w;
    }
    if (nwant == 0) {
        free(want);
        return ERROR_SUCCESS;
    }
    qsort(want, nwant, sizeof *want, cmp_want);

    int procdir = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (procdir < 0) {
        free(want);
        return pss_win32_from_errno(errno);
    }
    int listfd = fcntl(procdir, F_DUPFD_CLOEXEC, 0);
    if (listfd < 0) {
        DWORD e = pss_win32_from_errno(errno);
        close(procdir);
        free(want);
        return e;
    }
    struct pss_dirent_iter it;
    if (pss_dir_open(&it, listfd) < 0) { /* it closed listfd */
        close(procdir);
        free(want);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    struct holder *hold = NULL;
    size_t nhold = 0, caphold = 0;
    DWORD rc = ERROR_SUCCESS;
    const char *pname;
    long pid;
    int r;
    while ((r = pss_dir_next_number(&it, &pname, &pid)) > 0) {
        int piddir = openat(procdir, pname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (piddir < 0)
            continue;
        int fdd = openat(piddir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fdd < 0) {
            if (errno == EACCES || errno == EPERM)
                d->info.ProcessesDenied++;
            close(piddir);
            continue;
        }
        d->info.ProcessesScanned++;
        struct pss_dirent_iter fit;
        if (pss_dir_open(&fit, fdd) < 0) {
            close(piddir);
            rc = ERROR_NOT_ENOUGH_MEMORY;
            break;
        }
        const char *fname;
        long fd;
        while (pss_dir_next_number(&fit, &fname, &fd) > 0) {
            char link[64];
            ssize_t n = readlinkat(fdd, fname, link, sizeof link - 1);
            if (n <= 0)
                continue;
            struct want key;
            bool pipe;
            if (link_inode(link, (size_t)n, "pipe:[", &key.ino))
                pipe = true;
            else if (link_inode(link, (size_t)n, "socket:[", &key.ino))
                pipe = false;
            else
                continue;
            const struct want *w = bsearch(&key, want, nwant, sizeof *want, cmp_want);
            if (w == NULL || w->pipe != pipe)
                continue;
            if (pss_grow((void **)&hold, &caphold, nhold + 1, sizeof *hold) != 0) {
                rc = ERROR_NOT_ENOUGH_MEMORY;
                break;
            }
            hold[nhold++] = (struct holder){key.ino, (uint32_t)pid, (uint32_t)fd,
                                            pipe ? read_accmode(piddir, fname) : 3u};
        }
        pss_dir_close(&fit);
        close(piddir);
        if (rc != ERROR_SUCCESS)
            break;
    }
    pss_dir_close(&it);

    if (rc == ERROR_SUCCESS) {
        const uint32_t self = (uint32_t)c->target.pid;
        for (size_t i = 0; i < d->nhandles; i++) {
            PSS_DETAILS_HANDLE *h = &d->handles[i];
            uint64_t ino;
            if (h->Kind == PSS_FD_KIND_PIPE && h->Inode)
                ino = h->Inode;
            else if (h->Kind == PSS_FD_KIND_SOCKET && h->PeerInode)
                ino = h->PeerInode;
            else
                continue;
            const struct holder *best = NULL;
            DWORD count = 0;
            for (size_t j = 0; j < nhold; j++) {
                const struct holder *x = &hold[j];
                if (x->ino != ino || !is_peer(h, self, x))
                    continue;
                count++;
                /* Another process first, then the lowest pid/fd (deterministic). */
                if (best == NULL || (best->pid == self && x->pid != self) ||
                    ((best->pid == self) == (x->pid == self) &&
                     (x->pid < best->pid || (x->pid == best->pid && x->fd < best->fd))))
                    best = x;
            }
            if (best == NULL)
                continue;
            h->PeerError = ERROR_SUCCESS;
            h->PeerProcessId = best->pid;
            h->PeerFd = best->fd;
            h->PeerCount = count;
            comm_of(procdir, best->pid, h->PeerName);
        }
        if (d->info.ProcessesDenied > 0)
            rc = ERROR_PARTIAL_COPY;
    }
    close(procdir);
    free(hold);
    free(want);
    return rc;
}
