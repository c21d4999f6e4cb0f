/*
 * bench/floor.c -- build/bench-floor PID ITER
 *
 * The floor for a full capture: plain C doing the straightforward kernel reads that
 * gather the facts a capture with the app's flags reports (what ls -l, lsof and pmap
 * read), with the minimum of parsing and no snapshot, strings or walk:
 *   process   stat, status, readlink exe, fstatat status, exe ELF ident, personality,
 *             sched_getaffinity
 *   VA space  /proc/sys/vm/mmap_min_addr; maps read with large reads and split into
 *             (start, end, perms, offset, dev, inode, name); one open + pread + fstat of
 *             map_files/START-END per distinct file mapped at offset 0 (ELF headers)
 *   handles   fd/ getdents; per fd readlinkat, fdinfo/N open+read+close (libpss reads it
 *             because BASIC_INFORMATION needs O_CLOEXEC and the access mode), statx for
 *             path/pipe/socket fds, getxattr system.sockprotoname for sockets, statfs once
 *             per device of regular files, /proc/<pid>/stat + affinity for pidfds
 *   threads   task/ getdents; per thread task/TID/stat and sched_getaffinity
 *   end       stat again (libpss's "was the target reaped" check)
 * Not included: HandleCount (libpss's kcmp and epoll work) and everything libpss
 * computes.  libpss itself skips some of these reads where fdinfo already tells
 * everything (readlink of pipes and of anon inodes whose fdinfo names their kind) and
 * adds others (an O_PATH pin per path/socket fd), see libpss/README.md.
 * Prints {"median_ms":..,"runs":[..]}.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "bench_common.h"

struct vma {
    unsigned long long start, end, off, ino;
    unsigned maj, min;
    char perms[5];
    const char *name;
    size_t name_len;
};

struct state {
    char *maps;
    size_t maps_cap;
    struct vma *vma;
    size_t vma_cap;
    char getdents[65536];
    unsigned long sink; /* keeps the work observable */
};

static ssize_t read_small(int dirfd, const char *path, char *buf, size_t cap)
{
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    for (;;) {
        size_t want = cap - 1 - len;
        ssize_t r = read(fd, buf + len, want);
        if (r <= 0)
            break;
        len += (size_t)r;
        if ((size_t)r < want || len + 1 >= cap) /* same short-read rule as libpss */
            break;
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

static void affinity(struct state *st, pid_t tid)
{
    cpu_set_t set;
    if (sched_getaffinity(tid, sizeof set, &set) == 0)
        st->sink += (unsigned long)CPU_COUNT(&set);
}

static int process_phase(struct state *st, int procfd, pid_t pid)
{
    char buf[8192], link[4096];
    if (read_small(procfd, "stat", buf, 1024) < 0 || read_small(procfd, "status", buf, sizeof buf) < 0)
        return -1;
    affinity(st, pid);
    ssize_t n = readlinkat(procfd, "exe", link, sizeof link);
    st->sink += (unsigned long)n;
    struct stat sb;
    fstatat(procfd, "status", &sb, 0);
    int fd = openat(procfd, "exe", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        n = pread(fd, buf, 16, 0);
        st->sink += (unsigned long)n;
        close(fd);
    }
    read_small(procfd, "personality", buf, 64);
    return 0;
}

static int va_phase(struct state *st, int procfd)
{
    char small[64];
    read_small(AT_FDCWD, "/proc/sys/vm/mmap_min_addr", small, sizeof small);
    int fd = openat(procfd, "maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    for (;;) {
        if (st->maps_cap - len < 256 * 1024 + 1) {
            st->maps_cap = st->maps_cap ? st->maps_cap * 2 : 1 << 20;
            st->maps = realloc(st->maps, st->maps_cap);
            if (st->maps == NULL)
                return -1;
        }
        ssize_t r = read(fd, st->maps + len, st->maps_cap - len - 1);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    st->maps[len] = '\0';
    size_t nv = 0;
    char *p = st->maps, *end = st->maps + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            nl = end;
        if (nv == st->vma_cap) {
            st->vma_cap = st->vma_cap ? st->vma_cap * 2 : 4096;
            st->vma = realloc(st->vma, st->vma_cap * sizeof *st->vma);
            if (st->vma == NULL)
                return -1;
        }
        struct vma *v = &st->vma[nv++];
        char *q = p;
        v->start = strtoull(q, &q, 16);
        v->end = strtoull(q + 1, &q, 16);
        memcpy(v->perms, q + 1, 4);
        v->perms[4] = '\0';
        v->off = strtoull(q + 6, &q, 16);
        v->maj = (unsigned)strtoul(q + 1, &q, 16);
        v->min = (unsigned)strtoul(q + 1, &q, 16);
        v->ino = strtoull(q + 1, &q, 10);
        while (q < nl && *q == ' ')
            q++;
        v->name = q;
        v->name_len = (size_t)(nl - q);
        p = nl + 1;
    }
    /* ELF headers: once per distinct file mapped at offset 0. */
    static const struct vma *seen[1024];
    size_t nseen = 0;
    for (size_t i = 0; i < nv; i++) {
        const struct vma *v = &st->vma[i];
        if (v->ino == 0 || v->off != 0)
            continue;
        bool known = false;
        for (size_t k = 0; k < nseen && !known; k++)
            known = seen[k]->ino == v->ino && seen[k]->maj == v->maj && seen[k]->min == v->min;
        if (known)
            continue;
        if (nseen < 1024)
            seen[nseen++] = v;
        char path[64], hdr[4096];
        snprintf(path, sizeof path, "map_files/%llx-%llx", v->start, v->end);
        int efd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
        if (efd < 0)
            continue;
        ssize_t n = pread(efd, hdr, sizeof hdr, 0);
        struct stat sb;
        fstat(efd, &sb);
        st->sink += (unsigned long)n;
        close(efd);
    }
    st->sink += nv;
    return 0;
}

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static int handles_phase(struct state *st, int procfd)
{
    int fddir = openat(procfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int infodir = openat(procfd, "fdinfo", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fddir < 0 || infodir < 0)
        return -1;
    dev_t devs[64];
    size_t ndevs = 0;
    for (;;) {
        long n = syscall(SYS_getdents64, fddir, st->getdents, sizeof st->getdents);
        if (n <= 0)
            break;
        for (long pos = 0; pos < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(void *)(st->getdents + pos);
            pos += d->d_reclen;
            const char *name = d->d_name;
            if (name[0] < '0' || name[0] > '9')
                continue;
            char link[4096], info[2048];
            ssize_t ln = readlinkat(fddir, name, link, sizeof link - 1);
            if (ln < 0)
                continue;
            link[ln] = '\0';
            bool path = link[0] == '/';
            bool sock = strncmp(link, "socket:[", 8) == 0;
            struct statx sx;
            if (path || sock || strncmp(link, "pipe:[", 6) == 0) {
                if (statx(fddir, name, 0, STATX_TYPE | STATX_MODE | STATX_INO | STATX_SIZE |
                                               STATX_BTIME | STATX_CTIME,
                          &sx) != 0)
                    continue;
                if (path && S_ISREG(sx.stx_mode)) {
                    dev_t dev = ((dev_t)sx.stx_dev_major << 32) | sx.stx_dev_minor;
                    bool known = false;
                    for (size_t k = 0; k < ndevs && !known; k++)
                        known = devs[k] == dev;
                    if (!known && ndevs < 64) {
                        char fp[96];
                        struct statfs sfs;
                        snprintf(fp, sizeof fp, "/proc/self/fd/%d/%s", fddir, name);
                        if (statfs(fp, &sfs) == 0)
                            devs[ndevs++] = dev;
                    }
                }
            }
            ssize_t in = read_small(infodir, name, info, sizeof info);
            st->sink += (unsigned long)in;
            if (sock) {
                char fp[96], proto[40];
                snprintf(fp, sizeof fp, "/proc/self/fd/%d/%s", fddir, name);
                st->sink += (unsigned long)getxattr(fp, "system.sockprotoname", proto, sizeof proto);
            }
            if (strncmp(link, "anon_inode:[pidfd]", 18) == 0 && in > 0) {
                const char *pl = strstr(info, "Pid:");
                long ppid = pl ? strtol(pl + 4, NULL, 10) : 0;
                if (ppid > 0) {
                    char sp[64], sb[1024];
                    snprintf(sp, sizeof sp, "/proc/%ld/stat", ppid);
                    read_small(AT_FDCWD, sp, sb, sizeof sb);
                    affinity(st, (pid_t)ppid);
                }
            }
        }
    }
    close(fddir);
    close(infodir);
    return 0;
}

static int threads_phase(struct state *st, int procfd)
{
    int taskfd = openat(procfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (taskfd < 0)
        return -1;
    for (;;) {
        long n = syscall(SYS_getdents64, taskfd, st->getdents, sizeof st->getdents);
        if (n <= 0)
            break;
        for (long pos = 0; pos < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(void *)(st->getdents + pos);
            pos += d->d_reclen;
            if (d->d_name[0] < '0' || d->d_name[0] > '9')
                continue;
            char path[64], buf[1024];
            snprintf(path, sizeof path, "%s/stat", d->d_name);
            if (read_small(taskfd, path, buf, sizeof buf) > 0)
                affinity(st, (pid_t)atoi(d->d_name));
        }
    }
    close(taskfd);
    return 0;
}

int main(int argc, char **argv)
{
    long pid, iter;
    if (bench_parse_args(argc, argv, &pid, &iter) != 0)
        return 2;
    char path[32];
    snprintf(path, sizeof path, "/proc/%ld", pid);
    int procfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (procfd < 0) {
        fprintf(stderr, "bench-floor: %s: %s\n", path, strerror(errno));
        return 1;
    }
    static struct state st;
    double *runs = malloc((size_t)iter * sizeof *runs);
    if (runs == NULL)
        return 1;
    for (long i = -1; i < iter; i++) { /* i == -1: warm-up */
        double t0 = bench_now_ms();
        char buf[1024];
        if (process_phase(&st, procfd, (pid_t)pid) != 0 || va_phase(&st, procfd) != 0 ||
            handles_phase(&st, procfd) != 0 || threads_phase(&st, procfd) != 0 ||
            read_small(procfd, "stat", buf, sizeof buf) < 0) {
            fprintf(stderr, "bench-floor: reading /proc/%ld failed\n", pid);
            return 1;
        }
        if (i >= 0)
            runs[i] = bench_now_ms() - t0;
    }
    fprintf(stderr, "bench-floor: sink %lu\n", st.sink);
    int r = bench_report(runs, iter);
    free(runs);
    free(st.maps);
    free(st.vma);
    close(procfd);
    return r;
}
