/*
 * test_details.c -- the inspection-details extension (PssLinuxCaptureDetails and
 * friends) against the fixture and against this process, compared with what /proc says
 * when read independently here (smaps parsed with sscanf, task/TID/syscall, readlink,
 * fcntl) and with ELF files parsed here.
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "test.h"

#define EXPECT(cond)                                                                      \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            test_fail(__FILE__, __LINE__, "EXPECT(%s)", #cond);                           \
            bad = 1;                                                                      \
            goto out;                                                                     \
        }                                                                                 \
    } while (0)

#define EXPECT_EQ(a, b)                                                                   \
    do {                                                                                  \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);    \
        if (a_ != b_) {                                                                   \
            test_fail(__FILE__, __LINE__, "%s == %s: %llu (0x%llx) != %llu (0x%llx)", #a, \
                      #b, a_, a_, b_, b_);                                                \
            bad = 1;                                                                      \
            goto out;                                                                     \
        }                                                                                 \
    } while (0)

/* ---- reading records ---- */

struct records {
    PSS_DETAILS_INFORMATION info;
    PSS_DETAILS_THREAD *t;
    PSS_DETAILS_HANDLE *h;
    PSS_DETAILS_REGION *r;
    PSS_DETAILS_MODULE *m;
};

static int read_all(HPSSDETAILS d, struct records *x)
{
    memset(x, 0, sizeof *x);
    CHECK_EQ(PssLinuxQueryDetails(d, sizeof x->info, &x->info), ERROR_SUCCESS);
    DWORD n;
    x->t = calloc(x->info.ThreadCount + 1, sizeof *x->t);
    x->h = calloc(x->info.HandleCount + 1, sizeof *x->h);
    x->r = calloc(x->info.RegionCount + 1, sizeof *x->r);
    x->m = calloc(x->info.ModuleCount + 1, sizeof *x->m);
    CHECK(x->t && x->h && x->r && x->m);
    CHECK_EQ(PssLinuxReadDetails(d, PSS_DETAILS_CLASS_THREADS, 0, x->info.ThreadCount,
                                 sizeof *x->t, x->t, &n),
             ERROR_SUCCESS);
    CHECK_EQ(n, x->info.ThreadCount);
    CHECK_EQ(PssLinuxReadDetails(d, PSS_DETAILS_CLASS_HANDLES, 0, x->info.HandleCount,
                                 sizeof *x->h, x->h, &n),
             ERROR_SUCCESS);
    CHECK_EQ(n, x->info.HandleCount);
    /* Regions in two reads, to exercise First. */
    DWORD half = x->info.RegionCount / 2, n2;
    CHECK_EQ(PssLinuxReadDetails(d, PSS_DETAILS_CLASS_REGIONS, 0, half, sizeof *x->r, x->r, &n),
             ERROR_SUCCESS);
    CHECK_EQ(PssLinuxReadDetails(d, PSS_DETAILS_CLASS_REGIONS, half, 0xFFFFFFFFu, sizeof *x->r,
                                 x->r + half, &n2),
             ERROR_SUCCESS);
    CHECK_EQ(n + n2, x->info.RegionCount);
    CHECK_EQ(PssLinuxReadDetails(d, PSS_DETAILS_CLASS_MODULES, 0, x->info.ModuleCount,
                                 sizeof *x->m, x->m, &n),
             ERROR_SUCCESS);
    CHECK_EQ(n, x->info.ModuleCount);
    return 0;
}

static void records_free(struct records *x)
{
    free(x->t);
    free(x->h);
    free(x->r);
    free(x->m);
    memset(x, 0, sizeof *x);
}

static const PSS_DETAILS_THREAD *thread_of(const struct records *x, DWORD tid)
{
    for (DWORD i = 0; i < x->info.ThreadCount; i++)
        if (x->t[i].ThreadId == tid)
            return &x->t[i];
    return NULL;
}

static const PSS_DETAILS_HANDLE *handle_of(const struct records *x, DWORD fd)
{
    for (DWORD i = 0; i < x->info.HandleCount; i++)
        if (x->h[i].Fd == fd)
            return &x->h[i];
    return NULL;
}

static const PSS_DETAILS_REGION *region_containing(const struct records *x, uint64_t a)
{
    for (DWORD i = 0; i < x->info.RegionCount; i++)
        if (x->r[i].BaseAddress <= a && a < x->r[i].EndAddress)
            return &x->r[i];
    return NULL;
}

/* ---- an independent smaps reader (sscanf) ---- */

struct smaps_vma {
    unsigned long long start, end;
    unsigned long long rss, pss, swap, shared_clean, shared_dirty, private_clean,
        private_dirty, locked, anonymous;
};

static int read_smaps(pid_t pid, const char *file, struct smaps_vma **out, size_t *n)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    FILE *f = fopen(path, "re");
    CHECK(f != NULL);
    size_t cap = 64;
    *out = calloc(cap, sizeof **out);
    *n = 0;
    CHECK(*out != NULL);
    char line[4096];
    struct smaps_vma *cur = NULL;
    unsigned long long prev_end = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long a, b, v;
        char key[64];
        if (sscanf(line, "%llx-%llx ", &a, &b) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            if (a < prev_end) { /* a repeat across a generator page */
                cur = NULL;
                continue;
            }
            prev_end = b;
            if (*n == cap) {
                cap *= 2;
                struct smaps_vma *g = realloc(*out, cap * sizeof *g);
                CHECK(g != NULL);
                *out = g;
            }
            cur = &(*out)[(*n)++];
            memset(cur, 0, sizeof *cur);
            cur->start = a;
            cur->end = b;
        } else if (cur && sscanf(line, "%63[A-Za-z_]: %llu kB", key, &v) == 2) {
            v *= 1024;
            if (!strcmp(key, "Rss"))
                cur->rss = v;
            else if (!strcmp(key, "Pss"))
                cur->pss = v;
            else if (!strcmp(key, "Swap"))
                cur->swap = v;
            else if (!strcmp(key, "Shared_Clean"))
                cur->shared_clean = v;
            else if (!strcmp(key, "Shared_Dirty"))
                cur->shared_dirty = v;
            else if (!strcmp(key, "Private_Clean"))
                cur->private_clean = v;
            else if (!strcmp(key, "Private_Dirty"))
                cur->private_dirty = v;
            else if (!strcmp(key, "Locked"))
                cur->locked = v;
            else if (!strcmp(key, "Anonymous"))
                cur->anonymous = v;
        }
    }
    fclose(f);
    return 0;
}

/* Waits (polling /proc, up to 20 s) until a thread sleeps ('S'): a thread that has just
 * signalled "started" may still be on its way into the kernel. */
static bool wait_sleeping(pid_t pid, pid_t tid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
    for (int i = 0; i < 20000; i++) {
        FILE *f = fopen(path, "re");
        if (f == NULL)
            return false;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        const char *close = strrchr(buf, ')');
        if (close && close[1] == ' ' && close[2] == 'S')
            return true;
        usleep(1000);
    }
    return false;
}

/* ---- argument errors ---- */

int test_details_argument_errors(void)
{
    HPSSDETAILS d = (HPSSDETAILS)(uintptr_t)1;
    CHECK_EQ(PssLinuxCaptureDetails(PSS_CURRENT_PROCESS, PSS_DETAILS_THREADS, NULL),
             ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssLinuxCaptureDetails(PSS_CURRENT_PROCESS, 0, &d), ERROR_INVALID_PARAMETER);
    CHECK(d == NULL);
    CHECK_EQ(PssLinuxCaptureDetails(PSS_CURRENT_PROCESS, 0x20, &d), ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssLinuxCaptureDetails(NULL, PSS_DETAILS_THREADS, &d), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssLinuxCaptureDetails((HANDLE)&d, PSS_DETAILS_THREADS, &d), ERROR_INVALID_HANDLE);
    HPSS s = (HPSS)(uintptr_t)1;
    CHECK_EQ(PssLinuxCaptureSnapshotAndDetails(PSS_CURRENT_PROCESS, 0, 0, PSS_DETAILS_THREADS,
                                               NULL, &d),
             ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssLinuxCaptureSnapshotAndDetails(PSS_CURRENT_PROCESS, 0, 0, 0, &s, &d),
             ERROR_INVALID_PARAMETER);
    CHECK(s == NULL && d == NULL);
    /* A PSS flag error fails the whole call and leaks nothing. */
    CHECK_EQ(PssLinuxCaptureSnapshotAndDetails(PSS_CURRENT_PROCESS, PSS_CAPTURE_VA_CLONE, 0,
                                               PSS_DETAILS_THREADS, &s, &d),
             ERROR_NOT_SUPPORTED);
    CHECK(s == NULL && d == NULL);

    CHECK_EQ(PssLinuxCaptureDetails(PSS_CURRENT_PROCESS, PSS_DETAILS_THREADS, &d), ERROR_SUCCESS);
    PSS_DETAILS_INFORMATION info;
    CHECK_EQ(PssLinuxQueryDetails(NULL, sizeof info, &info), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssLinuxQueryDetails(d, sizeof info - 1, &info), ERROR_BAD_LENGTH);
    CHECK_EQ(PssLinuxQueryDetails(d, sizeof info, NULL), ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssLinuxQueryDetails(d, sizeof info, &info), ERROR_SUCCESS);
    CHECK(info.ThreadCount >= 1);
    CHECK_EQ(info.HandlesError, ERROR_NOT_FOUND); /* not requested */
    CHECK_EQ(info.HandleCount, 0);
    PSS_DETAILS_THREAD t;
    DWORD n = 99;
    CHECK_EQ(PssLinuxReadDetails(d, 4, 0, 1, sizeof t, &t, &n), ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssLinuxReadDetails(d, PSS_DETAILS_CLASS_THREADS, 0, 1, sizeof t + 8, &t, &n),
             ERROR_BAD_LENGTH);
    CHECK_EQ(PssLinuxReadDetails(d, PSS_DETAILS_CLASS_THREADS, 0, 1, sizeof t, &t, NULL),
             ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssLinuxReadDetails(d, PSS_DETAILS_CLASS_THREADS, 0, 1, sizeof t, NULL, &n),
             ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssLinuxReadDetails(d, PSS_DETAILS_CLASS_THREADS, info.ThreadCount + 1, 1,
                                 sizeof t, &t, &n),
             ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssLinuxReadDetails(d, PSS_DETAILS_CLASS_THREADS, info.ThreadCount, 1, sizeof t, &t,
                                 &n),
             ERROR_SUCCESS);
    CHECK_EQ(n, 0); /* the end is not an error */
    CHECK_EQ(PssLinuxReadDetails(d, PSS_DETAILS_CLASS_HANDLES, 0, 4, sizeof(PSS_DETAILS_HANDLE),
                                 NULL, &n),
             ERROR_SUCCESS); /* nothing captured: 0 records, no buffer needed */
    CHECK_EQ(n, 0);
    CHECK_EQ(PssLinuxReadDetails(d, PSS_DETAILS_CLASS_THREADS, 0, 1, sizeof t, &t, &n),
             ERROR_SUCCESS);
    CHECK_EQ(n, 1);
    /* A snapshot handle is not a details handle, and vice versa. */
    HPSS snap;
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, PSS_CAPTURE_NONE, 0, &snap), ERROR_SUCCESS);
    CHECK_EQ(PssLinuxFreeDetails((HPSSDETAILS)(void *)snap), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, (HPSS)(void *)d), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, snap), ERROR_SUCCESS);
    CHECK_EQ(PssLinuxFreeDetails(NULL), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssLinuxFreeDetails(d), ERROR_SUCCESS);
    return 0;
}

/* ---- this process: threads by name, a pipe and a socketpair with their peers ---- */

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static int g_quit, g_started;
static pid_t g_worker_tid;

static void *named_worker(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "pss-t11-worker");
    pthread_mutex_lock(&g_mu);
    g_worker_tid = gettid();
    g_started = 1;
    pthread_cond_broadcast(&g_cv);
    while (!g_quit)
        pthread_cond_wait(&g_cv, &g_mu);
    pthread_mutex_unlock(&g_mu);
    return NULL;
}

int test_details_self(void)
{
    int bad = 0;
    int p[2] = {-1, -1}, sv[2] = {-1, -1};
    pthread_t th;
    bool started = false;
    HPSSDETAILS d = NULL;
    struct records x;
    memset(&x, 0, sizeof x);
    g_quit = g_started = 0;
    EXPECT(pthread_create(&th, NULL, named_worker, NULL) == 0);
    started = true;
    pthread_mutex_lock(&g_mu);
    while (!g_started)
        pthread_cond_wait(&g_cv, &g_mu);
    pthread_mutex_unlock(&g_mu);
    EXPECT(test_under_valgrind() || wait_sleeping(getpid(), g_worker_tid));
    EXPECT(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0);
    EXPECT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    EXPECT(write(p[1], "abc", 3) == 3);

    EXPECT_EQ(PssLinuxCaptureDetails(PSS_CURRENT_PROCESS, PSS_DETAILS_ALL, &d), ERROR_SUCCESS);
    EXPECT(read_all(d, &x) == 0);
    EXPECT_EQ(x.info.ProcessId, getpid());
    EXPECT_EQ(x.info.ThreadsError, ERROR_SUCCESS);
    EXPECT_EQ(x.info.HandlesError, ERROR_SUCCESS);
    EXPECT_EQ(x.info.RegionsError, ERROR_SUCCESS);
    EXPECT_EQ(x.info.UsageError, ERROR_SUCCESS);

    const PSS_DETAILS_THREAD *w = thread_of(&x, (DWORD)g_worker_tid);
    EXPECT(w != NULL);
    EXPECT(strcmp(w->Name, "pss-t11-worker") == 0);
    if (!test_under_valgrind()) { /* valgrind schedules threads itself */
        EXPECT(w->State == 'S');  /* waits on the condition variable */
        EXPECT_EQ(w->SyscallError, ERROR_SUCCESS);
        EXPECT_EQ(w->SyscallNumber, 202); /* futex */
    } else if (w->SyscallError != ERROR_SUCCESS) {
        goto usage; /* no stack pointer to check the stack with */
    }
    EXPECT_EQ(w->AffinityError, ERROR_SUCCESS);
    EXPECT(w->Affinity[0] != 0);
    /* Its stack: the region holding its SP is a Stack of that thread. */
    const PSS_DETAILS_REGION *st = region_containing(&x, w->StackPointer);
    EXPECT(st != NULL);
    EXPECT_EQ(st->Kind, PSS_REGION_KIND_STACK);
    EXPECT_EQ(st->KindThreadId, g_worker_tid);
    if (!test_under_valgrind()) {
        /* This thread runs while it captures itself: reading its own syscall file, it
         * is in read(2) (the kernel answers for the current task without waiting). */
        const PSS_DETAILS_THREAD *me = thread_of(&x, (DWORD)gettid());
        EXPECT(me != NULL && me->State == 'R');
        EXPECT_EQ(me->SyscallError, ERROR_SUCCESS);
        EXPECT_EQ(me->SyscallNumber, 0);
        EXPECT_EQ(me->WaitChannelError, ERROR_NOT_FOUND);
    }
usage:;

    const PSS_DETAILS_HANDLE *r = handle_of(&x, (DWORD)p[0]), *wr = handle_of(&x, (DWORD)p[1]);
    EXPECT(r != NULL && wr != NULL);
    EXPECT_EQ(r->Kind, PSS_FD_KIND_PIPE);
    EXPECT_EQ(r->FdinfoError, ERROR_SUCCESS);
    EXPECT_EQ(r->OpenFlags & (O_ACCMODE | O_NONBLOCK | O_CLOEXEC),
              O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    EXPECT_EQ(wr->OpenFlags & O_ACCMODE, O_WRONLY);
    EXPECT_EQ(r->PeerError, ERROR_SUCCESS);
    EXPECT_EQ(r->PeerProcessId, getpid());
    EXPECT_EQ(r->PeerFd, p[1]);
    EXPECT_EQ(wr->PeerFd, p[0]);
    EXPECT_EQ(r->CreationSource, PSS_CREATION_NONE);
    struct stat sb;
    EXPECT(fstat(p[0], &sb) == 0);
    EXPECT_EQ(r->Inode, sb.st_ino);

    const PSS_DETAILS_HANDLE *s0 = handle_of(&x, (DWORD)sv[0]), *s1 = handle_of(&x, (DWORD)sv[1]);
    EXPECT(s0 != NULL && s1 != NULL);
    EXPECT_EQ(s0->Kind, PSS_FD_KIND_SOCKET);
    EXPECT_EQ(s0->SocketError, ERROR_SUCCESS);
    EXPECT_EQ(s0->Family, AF_UNIX);
    EXPECT_EQ(s0->Type, SOCK_STREAM);
    EXPECT_EQ(s0->State, 3); /* SS_CONNECTED */
    EXPECT(s0->SocketFlags & PSS_SOCKET_HAVE_PEER_INODE);
    EXPECT_EQ(s0->PeerInode, s1->Inode);
    EXPECT_EQ(s0->PeerProcessId, getpid());
    EXPECT_EQ(s0->PeerFd, sv[1]);

    /* Usage: the sum over regions equals smaps_rollup up to what this running process
     * changed in between (it allocates); the main stack is one region. */
    unsigned long long rss = 0;
    bool main_stack = false;
    for (DWORD i = 0; i < x.info.RegionCount; i++) {
        EXPECT(x.r[i].KindFlags & PSS_REGION_HAVE_USAGE);
        EXPECT(x.r[i].Usage.Present & 1u); /* Rss */
        rss += x.r[i].Usage.Rss;
        main_stack |= (x.r[i].KindFlags & PSS_REGION_MAIN_STACK) != 0;
    }
    EXPECT(main_stack);
    EXPECT_EQ(x.info.RollupError, ERROR_SUCCESS);
    EXPECT(x.info.Rollup.Present & 1u);
    EXPECT(rss > 0 && x.info.Rollup.Rss > 0);
    EXPECT(x.info.UsageBytesRead > 0);
    EXPECT(x.info.ModuleCount >= 3);
out:
    if (started) {
        pthread_mutex_lock(&g_mu);
        g_quit = 1;
        pthread_cond_broadcast(&g_cv);
        pthread_mutex_unlock(&g_mu);
        pthread_join(th, NULL);
    }
    records_free(&x);
    if (d)
        PssLinuxFreeDetails(d);
    for (int i = 0; i < 2; i++) {
        if (p[i] >= 0)
            close(p[i]);
        if (sv[i] >= 0)
            close(sv[i]);
    }
    return bad;
}

/* ---- the fixture (quiescent: it waits on stdin) ---- */

static bool read_syscall_file(pid_t pid, pid_t tid, long *nr, unsigned long long *sp)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/task/%d/syscall", (int)pid, (int)tid);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return false;
    bool ok = fgets(buf, sizeof buf, f) != NULL;
    fclose(f);
    if (!ok)
        return false;
    unsigned long long a[8];
    if (sscanf(buf, "%ld %llx %llx %llx %llx %llx %llx %llx %llx", nr, &a[0], &a[1], &a[2],
               &a[3], &a[4], &a[5], &a[6], &a[7]) == 9) {
        *sp = a[6];
        return true;
    }
    if (sscanf(buf, "%ld %llx", nr, &a[0]) == 2) {
        *sp = a[0];
        return true;
    }
    return false;
}

/* The details' regions and usage of pid are exactly its smaps, field by field, read
 * independently right after; the sums are the rollup. */
static int check_regions_match_smaps(pid_t pid, const struct records *xp)
{
    int bad = 0;
    const struct records x = *xp;
    struct smaps_vma *sm = NULL;
    size_t nsm = 0;
    EXPECT(read_smaps(pid, "smaps", &sm, &nsm) == 0);
    EXPECT_EQ(x.info.RegionCount, nsm);
    unsigned long long sum_rss = 0, sum_pss = 0, sum_swap = 0, sum_shared = 0;
    for (size_t i = 0; i < nsm; i++) {
        const PSS_DETAILS_REGION *r = &x.r[i];
        EXPECT_EQ(r->BaseAddress, sm[i].start);
        EXPECT_EQ(r->EndAddress, sm[i].end);
        EXPECT_EQ(r->Usage.Rss, sm[i].rss);
        /* Pss of pages shared with other processes moves as they come and go (this
         * machine runs other work): exact for unshared regions, bounded by Rss else. */
        if (sm[i].shared_clean + sm[i].shared_dirty == 0)
            EXPECT_EQ(r->Usage.Pss, sm[i].pss);
        else
            EXPECT(r->Usage.Pss <= r->Usage.Rss);
        EXPECT_EQ(r->Usage.Swap, sm[i].swap);
        EXPECT_EQ(r->Usage.SharedClean, sm[i].shared_clean);
        EXPECT_EQ(r->Usage.SharedDirty, sm[i].shared_dirty);
        EXPECT_EQ(r->Usage.PrivateClean, sm[i].private_clean);
        EXPECT_EQ(r->Usage.PrivateDirty, sm[i].private_dirty);
        EXPECT_EQ(r->Usage.Locked, sm[i].locked);
        EXPECT_EQ(r->Usage.Anonymous, sm[i].anonymous);
        sum_rss += r->Usage.Rss;
        sum_pss += r->Usage.Pss;
        sum_swap += r->Usage.Swap;
        sum_shared += r->Usage.SharedClean + r->Usage.SharedDirty;
    }
    EXPECT_EQ(x.info.RollupError, ERROR_SUCCESS);
    EXPECT_EQ(sum_rss, x.info.Rollup.Rss);
    EXPECT_EQ(sum_swap, x.info.Rollup.Swap);
    /* Pss: per-VMA values are rounded down to kB (the rollup is summed before rounding),
     * and shared pages' Pss moves with other processes between the two reads. */
    const unsigned long long slack = 1024ull * nsm + sum_shared;
    EXPECT(sum_pss <= x.info.Rollup.Pss + slack && x.info.Rollup.Pss <= sum_pss + slack);

out:
    free(sm);
    return bad;
}

int test_details_fixture_matches_proc(void)
{
    int bad = 0;
    struct fixture f;
    const char *args[] = {"--threads", "4",  "--pipes", "6",  "--sockets", "4", "--files",
                          "3",         "--dirs", "1",  "--maps", "300", "--memfds", "2",
                          "--devices", "1",  NULL};
    TRY(fixture_start(&f, args));
    HANDLE h = NULL;
    HPSSDETAILS d = NULL;
    HPSS snap = NULL;
    struct records x;
    memset(&x, 0, sizeof x);
    const struct json *tids = json_get(f.json, "tids");
    EXPECT(tids != NULL);
    for (size_t i = 0; i < tids->count; i++)
        EXPECT(wait_sleeping(f.pid, (pid_t)json_at(tids, i)->inum));
    EXPECT_EQ(PssLinuxOpenProcess((DWORD)f.pid, &h), ERROR_SUCCESS);
    EXPECT_EQ(PssLinuxCaptureSnapshotAndDetails(h, PSS_CAPTURE_VA_SPACE | PSS_CAPTURE_THREADS, 0,
                                                PSS_DETAILS_ALL, &snap, &d),
              ERROR_SUCCESS);
    EXPECT(read_all(d, &x) == 0);

    /* Threads: every tid of the fixture, named like it, sleeping, in the syscall and
     * with the stack pointer /proc/TID/syscall shows. */
    EXPECT_EQ(x.info.ThreadCount, tids->count);
    for (size_t i = 0; i < tids->count; i++) {
        pid_t tid = (pid_t)json_at(tids, i)->inum;
        const PSS_DETAILS_THREAD *t = thread_of(&x, (DWORD)tid);
        EXPECT(t != NULL);
        EXPECT(strcmp(t->Name, "pss-fixture") == 0);
        EXPECT(t->State == 'S');
        EXPECT_EQ(t->SyscallError, ERROR_SUCCESS);
        long nr;
        unsigned long long sp;
        EXPECT(read_syscall_file(f.pid, tid, &nr, &sp));
        EXPECT_EQ(t->SyscallNumber, nr);
        EXPECT_EQ(t->StackPointer, sp);
        EXPECT_EQ(t->WaitChannelError, ERROR_SUCCESS);
        EXPECT(t->WaitChannel[0] != '\0');
        const PSS_DETAILS_REGION *st = region_containing(&x, t->StackPointer);
        EXPECT(st != NULL && st->Kind == PSS_REGION_KIND_STACK);
        EXPECT(i == 0 ? (st->KindFlags & PSS_REGION_MAIN_STACK) != 0
                      : st->KindThreadId == (DWORD)tid);
    }

    /* Handles: kinds by the fixture's truth; pipe ends and socketpairs find each other. */
    const struct json *fds = json_get(f.json, "fds");
    for (size_t i = 0; fds && i < fds->count; i++) {
        const struct json *fd = json_at(fds, i);
        const char *kind = json_str(fd, "kind");
        const PSS_DETAILS_HANDLE *hd = handle_of(&x, (DWORD)json_int(fd, "fd", -1));
        EXPECT(hd != NULL);
        EXPECT_EQ(hd->FdinfoError, ERROR_SUCCESS);
        if (strcmp(kind, "pipe") == 0) {
            EXPECT_EQ(hd->Kind, PSS_FD_KIND_PIPE);
            if (hd->PeerError == ERROR_SUCCESS) { /* the last pipe may have one end only */
                EXPECT_EQ(hd->PeerProcessId, f.pid);
                const PSS_DETAILS_HANDLE *other = handle_of(&x, hd->PeerFd);
                EXPECT(other != NULL && other->Inode == hd->Inode);
                EXPECT((other->OpenFlags & O_ACCMODE) != (hd->OpenFlags & O_ACCMODE));
            }
        } else if (strcmp(kind, "socket") == 0) {
            EXPECT_EQ(hd->Kind, PSS_FD_KIND_SOCKET);
            EXPECT_EQ(hd->SocketError, ERROR_SUCCESS);
            if (hd->Family == AF_UNIX && hd->PeerInode) {
                EXPECT_EQ(hd->PeerError, ERROR_SUCCESS);
                EXPECT_EQ(hd->PeerProcessId, f.pid);
                EXPECT_EQ(handle_of(&x, hd->PeerFd)->Inode, hd->PeerInode);
            }
        } else if (strcmp(kind, "file") == 0) {
            EXPECT_EQ(hd->Kind, PSS_FD_KIND_FILE);
            EXPECT_EQ(hd->CreationSource, PSS_CREATION_FILE_BIRTH);
            EXPECT(hd->CreationTime.dwHighDateTime != 0);
        } else if (strcmp(kind, "dir") == 0) {
            EXPECT_EQ(hd->Kind, PSS_FD_KIND_DIRECTORY);
        } else if (strcmp(kind, "memfd") == 0) {
            EXPECT_EQ(hd->Kind, PSS_FD_KIND_MEMFD);
        } else if (strcmp(kind, "device") == 0) {
            EXPECT_EQ(hd->Kind, PSS_FD_KIND_CHAR_DEVICE);
            EXPECT_EQ(hd->CreationSource, PSS_CREATION_NONE);
            EXPECT_EQ(hd->CreationTime.dwHighDateTime, 0);
        }
    }

    /* Regions and usage: exactly smaps, field by field, and the sum is the rollup. */
    if (check_regions_match_smaps(f.pid, &x) != 0)
        bad = 1;

    /* The snapshot's VA entries (taken at the same moment) are the same VMAs. */
    PSS_VA_SPACE_INFORMATION vi;
    EXPECT_EQ(PssQuerySnapshot(snap, PSS_QUERY_VA_SPACE_INFORMATION, &vi, sizeof vi),
              ERROR_SUCCESS);
    HPSSWALK wk;
    EXPECT_EQ(PssWalkMarkerCreate(NULL, &wk), ERROR_SUCCESS);
    PSS_VA_SPACE_ENTRY e;
    unsigned long long covered = 0, total = 0;
    while (PssWalkSnapshot(snap, PSS_WALK_VA_SPACE, wk, &e, sizeof e) == ERROR_SUCCESS) {
        if (e.State == MEM_FREE)
            continue;
        /* Every entry lies in one VMA (PSS may split a .bss VMA at an image's end). */
        uint64_t b = (uint64_t)(uintptr_t)e.BaseAddress;
        const PSS_DETAILS_REGION *r = region_containing(&x, b);
        if (r == NULL || b + e.RegionSize > r->EndAddress) {
            test_fail(__FILE__, __LINE__, "entry %llx+%llx is in no VMA of the details",
                      (unsigned long long)b, (unsigned long long)e.RegionSize);
            bad = 1;
            continue;
        }
        covered += e.RegionSize;
        /* One source of truth: a whole-VMA image entry is an Image region. */
        if (e.Type == MEM_IMAGE && r->BaseAddress == b && r->EndAddress == b + e.RegionSize &&
            r->Kind != PSS_REGION_KIND_IMAGE) {
            test_fail(__FILE__, __LINE__, "region %llx: MEM_IMAGE but kind %u",
                      (unsigned long long)r->BaseAddress, r->Kind);
            bad = 1;
        }
    }
    PssWalkMarkerFree(wk);
    for (DWORD i = 0; i < x.info.RegionCount; i++)
        total += x.r[i].EndAddress - x.r[i].BaseAddress;
    EXPECT_EQ(covered, total); /* the entries tile the VMAs exactly */
    EXPECT(bad == 0);
out:
    records_free(&x);
    if (d)
        PssLinuxFreeDetails(d);
    if (snap)
        PssFreeSnapshot(PSS_CURRENT_PROCESS, snap);
    if (h)
        PssLinuxCloseProcess(h);
    if (fixture_stop(&f) != 0)
        bad = 1;
    return bad;
}

/* TCP peers are found by the swapped endpoints in the namespace's socket table (sorted and
 * searched, linux_ext_handles.c): 300 loopback connections over IPv4 (and 300 over IPv6
 * where ::1 exists) in this process; every client's PeerInode is its accepted socket and
 * back, the listeners have none. */
static int tcp_pairs(int family, int n, int *lis, int *cli, int *srv)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        len = sizeof *a;
    }
    *lis = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (*lis < 0 || bind(*lis, (struct sockaddr *)&ss, len) != 0 || listen(*lis, n) != 0 ||
        getsockname(*lis, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    for (int i = 0; i < n; i++) {
        cli[i] = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (cli[i] < 0 || connect(cli[i], (struct sockaddr *)&ss, len) != 0)
            return -1;
        srv[i] = accept4(*lis, NULL, NULL, SOCK_CLOEXEC);
        if (srv[i] < 0)
            return -1;
    }
    return 0;
}

static uint64_t ino_of(int fd)
{
    struct stat sb;
    return fstat(fd, &sb) == 0 ? (uint64_t)sb.st_ino : 0;
}

int test_details_tcp_peers_many(void)
{
    enum { N = 300 };
    int bad = 0, lis[2] = {-1, -1}, cli[2][N], srv[2][N];
    memset(cli, -1, sizeof cli);
    memset(srv, -1, sizeof srv);
    HPSSDETAILS d = NULL;
    struct records x;
    memset(&x, 0, sizeof x);
    struct rlimit rl;
    EXPECT(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    struct rlimit saved = rl;
    if (rl.rlim_cur < 4 * N + 256 && rl.rlim_max >= 4 * N + 256) {
        rl.rlim_cur = 4 * N + 256;
        EXPECT(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    }
    EXPECT(tcp_pairs(AF_INET, N, &lis[0], cli[0], srv[0]) == 0);
    int families = tcp_pairs(AF_INET6, N, &lis[1], cli[1], srv[1]) == 0 ? 2 : 1;
    EXPECT_EQ(PssLinuxCaptureDetails(PSS_CURRENT_PROCESS, PSS_DETAILS_HANDLES, &d),
              ERROR_SUCCESS);
    EXPECT(read_all(d, &x) == 0);
    for (int f = 0; f < families; f++) {
        const PSS_DETAILS_HANDLE *l = handle_of(&x, (DWORD)lis[f]);
        EXPECT(l != NULL && l->SocketError == ERROR_SUCCESS);
        EXPECT(l->SocketFlags & PSS_SOCKET_LISTENING);
        EXPECT_EQ(l->PeerInode, 0);
        for (int i = 0; i < N; i++) {
            const PSS_DETAILS_HANDLE *c = handle_of(&x, (DWORD)cli[f][i]),
                                     *s = handle_of(&x, (DWORD)srv[f][i]);
            EXPECT(c != NULL && s != NULL);
            EXPECT_EQ(c->SocketError, ERROR_SUCCESS);
            EXPECT_EQ(c->Family, f == 0 ? AF_INET : AF_INET6);
            EXPECT_EQ(c->PeerInode, ino_of(srv[f][i]));
            EXPECT_EQ(s->PeerInode, ino_of(cli[f][i]));
        }
    }
    if (families == 1)
        fprintf(stderr, "  (no IPv6 loopback here: IPv4 pairs only)\n");
out:
    records_free(&x);
    if (d)
        PssLinuxFreeDetails(d);
    for (int f = 0; f < 2; f++) {
        if (lis[f] >= 0)
            close(lis[f]);
        for (int i = 0; i < N; i++) {
            if (cli[f][i] >= 0)
                close(cli[f][i]);
            if (srv[f][i] >= 0)
                close(srv[f][i]);
        }
    }
    setrlimit(RLIMIT_NOFILE, &saved);
    return bad;
}

/* smaps is read on a helper thread while the caller parses (linux_ext_regions.c): with
 * 4,000 mappings its ~3 MB of text pass through the four 256 KiB buffers several times
 * round, lines split at every buffer's end.  The regions are still exactly smaps, and the
 * reader thread is gone when the call returns. */
static int task_count(void)
{
    int n = 0;
    DIR *dir = opendir("/proc/self/task");
    if (dir == NULL)
        return -1;
    for (struct dirent *e; (e = readdir(dir)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(dir);
    return n;
}

int test_details_usage_streams_across_buffers(void)
{
    int bad = 0;
    struct fixture f;
    const char *args[] = {"--maps", "4000", NULL};
    TRY(fixture_start(&f, args));
    HANDLE h = NULL;
    HPSSDETAILS d = NULL;
    struct records x;
    memset(&x, 0, sizeof x);
    EXPECT(wait_sleeping(f.pid, f.pid));
    EXPECT_EQ(PssLinuxOpenProcess((DWORD)f.pid, &h), ERROR_SUCCESS);
    int before = task_count();
    EXPECT(before > 0);
    EXPECT_EQ(PssLinuxCaptureDetails(h, PSS_DETAILS_REGIONS | PSS_DETAILS_REGION_USAGE, &d),
              ERROR_SUCCESS);
    EXPECT_EQ(task_count(), before);
    EXPECT(read_all(d, &x) == 0);
    EXPECT(x.info.UsageBytesRead > 8 * (256u << 10)); /* more than twice the ring */
    EXPECT(x.info.RegionCount > 4000);
    EXPECT_EQ(x.info.UsageError, ERROR_SUCCESS);
    if (check_regions_match_smaps(f.pid, &x) != 0)
        bad = 1;
out:
    records_free(&x);
    if (d)
        PssLinuxFreeDetails(d);
    if (h)
        PssLinuxCloseProcess(h);
    if (fixture_stop(&f) != 0)
        bad = 1;
    return bad;
}

/* ---- modules: build-id and soname against the ELF files themselves ---- */

/* An independent reader: section headers (not the program headers libpss uses). */
static bool elf_sections(const char *path, unsigned char *bid, unsigned *bid_len, char *soname,
                         size_t cap)
{
    *bid_len = 0;
    soname[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    Elf64_Ehdr eh;
    bool ok = fread(&eh, sizeof eh, 1, f) == 1 && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
              eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_shentsize == sizeof(Elf64_Shdr);
    Elf64_Shdr *sh = NULL;
    if (ok) {
        sh = calloc(eh.e_shnum, sizeof *sh);
        ok = sh != NULL && fseek(f, (long)eh.e_shoff, SEEK_SET) == 0 &&
             fread(sh, sizeof *sh, eh.e_shnum, f) == eh.e_shnum;
    }
    for (unsigned i = 0; ok && i < eh.e_shnum; i++) {
        if (sh[i].sh_type == SHT_NOTE && sh[i].sh_size < 4096) {
            unsigned char buf[4096];
            if (fseek(f, (long)sh[i].sh_offset, SEEK_SET) || fread(buf, sh[i].sh_size, 1, f) != 1)
                continue;
            for (size_t pos = 0; pos + 12 <= sh[i].sh_size;) {
                uint32_t nsz, dsz, type;
                memcpy(&nsz, buf + pos, 4);
                memcpy(&dsz, buf + pos + 4, 4);
                memcpy(&type, buf + pos + 8, 4);
                size_t desc = pos + 12 + ((nsz + 3) & ~3u);
                if (type == NT_GNU_BUILD_ID && desc + dsz <= sh[i].sh_size && dsz <= 64) {
                    memcpy(bid, buf + desc, dsz);
                    *bid_len = dsz;
                }
                pos = desc + ((dsz + 3) & ~3u);
            }
        } else if (sh[i].sh_type == SHT_DYNAMIC && sh[i].sh_link < eh.e_shnum) {
            const Elf64_Shdr *strs = &sh[sh[i].sh_link];
            size_t nd = sh[i].sh_size / sizeof(Elf64_Dyn);
            for (size_t k = 0; k < nd; k++) {
                Elf64_Dyn dy;
                if (fseek(f, (long)(sh[i].sh_offset + k * sizeof dy), SEEK_SET) ||
                    fread(&dy, sizeof dy, 1, f) != 1 || dy.d_tag == DT_NULL)
                    break;
                if (dy.d_tag == DT_SONAME && fseek(f, (long)(strs->sh_offset + dy.d_un.d_val),
                                                   SEEK_SET) == 0) {
                    if (fgets(soname, (int)cap, f) == NULL)
                        soname[0] = '\0';
                }
            }
        }
    }
    free(sh);
    fclose(f);
    return ok;
}

int test_details_modules_match_elf_files(void)
{
    int bad = 0;
    struct fixture f;
    const char *args[] = {"--threads", "1", NULL};
    TRY(fixture_start(&f, args));
    HANDLE h = NULL;
    HPSSDETAILS d = NULL;
    struct records x;
    memset(&x, 0, sizeof x);
    char exe[4096] = "";
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", (int)f.pid);
    ssize_t n = readlink(path, exe, sizeof exe - 1);
    EXPECT(n > 0);
    exe[n] = '\0';
    EXPECT_EQ(PssLinuxOpenProcess((DWORD)f.pid, &h), ERROR_SUCCESS);
    EXPECT_EQ(PssLinuxCaptureDetails(h, PSS_DETAILS_REGIONS, &d), ERROR_SUCCESS);
    EXPECT(read_all(d, &x) == 0);
    EXPECT_EQ(x.info.UsageError, ERROR_NOT_FOUND); /* not requested */
    EXPECT_EQ(x.info.UsageBytesRead, 0);
    bool saw_exe = false, saw_libc = false, saw_vdso = false;
    for (DWORD i = 0; i < x.info.ModuleCount; i++) {
        const PSS_DETAILS_MODULE *m = &x.m[i];
        EXPECT(m->Path != NULL && strlen(m->Path) == m->PathLength);
        EXPECT(m->EndAddress > m->BaseAddress);
        if (i > 0)
            EXPECT(m->BaseAddress >= x.m[i - 1].EndAddress);
        if (m->Flags & PSS_MODULE_VDSO) {
            saw_vdso = true;
            if (test_under_valgrind() && m->ElfError == ERROR_NOT_SUPPORTED)
                continue; /* valgrind hides this process's vDSO */
            EXPECT_EQ(m->ElfError, ERROR_SUCCESS);
            EXPECT(m->Soname != NULL && strncmp(m->Soname, "linux-vdso", 10) == 0);
            EXPECT(m->BuildIdLength > 0);
            continue;
        }
        EXPECT_EQ(m->ElfError, ERROR_SUCCESS);
        /* Every region of the image span is reported as Image. */
        const PSS_DETAILS_REGION *r = region_containing(&x, m->BaseAddress);
        EXPECT(r != NULL && r->Kind == PSS_REGION_KIND_IMAGE);
        unsigned char bid[64];
        unsigned bid_len;
        char soname[256];
        EXPECT(elf_sections(m->Path, bid, &bid_len, soname, sizeof soname));
        EXPECT_EQ(m->BuildIdLength, bid_len);
        EXPECT(memcmp(m->BuildId, bid, bid_len) == 0);
        EXPECT(strcmp(m->Soname ? m->Soname : "", soname) == 0);
        if (strcmp(m->Path, exe) == 0) {
            saw_exe = true;
            EXPECT(m->Flags & PSS_MODULE_MAIN_EXECUTABLE);
        } else {
            EXPECT(!(m->Flags & PSS_MODULE_MAIN_EXECUTABLE));
        }
        saw_libc |= m->Soname && strcmp(m->Soname, "libc.so.6") == 0;
    }
    EXPECT(saw_exe && saw_libc && saw_vdso);
out:
    records_free(&x);
    if (d)
        PssLinuxFreeDetails(d);
    if (h)
        PssLinuxCloseProcess(h);
    if (fixture_stop(&f) != 0)
        bad = 1;
    return bad;
}

/* ---- lifecycle: reaped and unreadable targets ---- */

int test_details_process_gone(void)
{
    int bad = 0;
    struct fixture f;
    TRY(fixture_start(&f, NULL));
    HANDLE h = NULL;
    HPSSDETAILS d = NULL;
    EXPECT_EQ(PssLinuxOpenProcess((DWORD)f.pid, &h), ERROR_SUCCESS);
    EXPECT(fixture_stop(&f) == 0); /* exits and is reaped */
    f.pid = -1;
    EXPECT_EQ(PssLinuxCaptureDetails(h, PSS_DETAILS_ALL, &d), ERROR_PROCESS_ABORTED);
    EXPECT(d == NULL);
out:
    if (h)
        PssLinuxCloseProcess(h);
    if (f.pid > 0)
        fixture_kill(&f);
    return bad;
}

static int run_cmd(const char *cmd)
{
    int st = system(cmd);
    return st == -1 ? -1 : (WIFEXITED(st) ? WEXITSTATUS(st) : 128);
}

/* As another uid: the details of a root process still come back, with every part we may
 * not read marked ERROR_ACCESS_DENIED (never zeros that look like data). */
static int other_uid_child(uid_t uid, gid_t gid, pid_t target)
{
    if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0)
        return 10;
    HANDLE h;
    if (PssLinuxOpenProcess((DWORD)target, &h) != ERROR_SUCCESS)
        return 11;
    HPSSDETAILS d;
    if (PssLinuxCaptureDetails(h, PSS_DETAILS_ALL, &d) != ERROR_SUCCESS)
        return 12;
    PSS_DETAILS_INFORMATION info;
    PSS_DETAILS_THREAD t;
    DWORD n;
    int code = 0;
    if (PssLinuxQueryDetails(d, sizeof info, &info) != ERROR_SUCCESS)
        code = 13;
    else if (info.ThreadsError != ERROR_SUCCESS || info.ThreadCount != 2)
        code = 14; /* stat/status are world-readable */
    else if (info.HandlesError != ERROR_ACCESS_DENIED || info.HandleCount != 0)
        code = 15;
    else if (info.RegionsError != ERROR_ACCESS_DENIED || info.UsageError != ERROR_ACCESS_DENIED ||
             info.RegionCount != 0 || info.ModuleCount != 0)
        code = 16;
    else if (PssLinuxReadDetails(d, PSS_DETAILS_CLASS_THREADS, 0, 1, sizeof t, &t, &n) != 0 ||
             n != 1)
        code = 17;
    else if (t.SyscallError != ERROR_ACCESS_DENIED || t.StackPointer != 0)
        code = 18;
    else if (t.WaitChannelError != ERROR_ACCESS_DENIED || t.Name[0] == '\0')
        code = 19;
    PssLinuxFreeDetails(d);
    PssLinuxCloseProcess(h);
    return code;
}

int test_details_other_user(void)
{
    if (geteuid() != 0) {
        test_skip("not running as root: cannot switch to another uid");
        return 0;
    }
    if (access("/usr/sbin/useradd", X_OK) != 0) {
        test_skip("useradd is not available");
        return 0;
    }
    char user[32], cmd[128];
    snprintf(user, sizeof user, "pss_t11_%d", (int)getpid());
    snprintf(cmd, sizeof cmd, "/usr/sbin/useradd -M -s /usr/sbin/nologin %s >/dev/null 2>&1",
             user);
    if (getpwnam(user) != NULL || run_cmd(cmd) != 0) {
        test_skip("useradd %s failed", user);
        return 0;
    }
    int bad = 0;
    struct passwd *pw = getpwnam(user);
    uid_t uid = pw ? pw->pw_uid : 0;
    gid_t gid = pw ? pw->pw_gid : 0;
    struct fixture f;
    const char *args[] = {"--threads", "1", "--pipes", "2", NULL};
    if (pw == NULL || fixture_start(&f, args) != 0) {
        bad = 1;
    } else {
        pid_t child = fork();
        if (child == 0)
            _exit(other_uid_child(uid, gid, f.pid));
        int st = 0;
        waitpid(child, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            test_fail(__FILE__, __LINE__, "child as %s failed with code %d", user,
                      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
            bad = 1;
        }
        fixture_stop(&f);
    }
    snprintf(cmd, sizeof cmd, "/usr/sbin/userdel %s >/dev/null 2>&1", user);
    if (run_cmd(cmd) != 0) {
        test_fail(__FILE__, __LINE__, "userdel %s failed", user);
        bad = 1;
    }
    return bad;
}

/* Garbage, freed and wrong-kind handles are refused without being read (the registry of
 * live handles), by every details function. */
int test_details_garbage_handles(void)
{
    HPSSDETAILS live;
    CHECK_EQ(PssLinuxCaptureDetails(PSS_CURRENT_PROCESS, PSS_DETAILS_THREADS, &live),
             ERROR_SUCCESS);
    HPSSDETAILS freed;
    CHECK_EQ(PssLinuxCaptureDetails(PSS_CURRENT_PROCESS, PSS_DETAILS_THREADS, &freed),
             ERROR_SUCCESS);
    CHECK_EQ(PssLinuxFreeDetails(freed), ERROR_SUCCESS);
    HPSS snap;
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, PSS_CAPTURE_NONE, 0, &snap), ERROR_SUCCESS);
    HPSSWALK marker;
    CHECK_EQ(PssWalkMarkerCreate(NULL, &marker), ERROR_SUCCESS);
    uintptr_t bogus[] = {0,
                         1,
                         8,
                         0x1000,
                         UINTPTR_MAX,
                         UINTPTR_MAX - 7,
                         (uintptr_t)0xdeadbeefdeadbee8ull,
                         (uintptr_t)freed,
                         (uintptr_t)snap,
                         (uintptr_t)marker,
                         (uintptr_t)live + 8,
                         (uintptr_t)&bogus};
    unsigned seed = (unsigned)getpid();
    for (size_t i = 0; i < sizeof bogus / sizeof bogus[0] + 64; i++) {
        uintptr_t v;
        if (i < sizeof bogus / sizeof bogus[0]) {
            v = bogus[i];
        } else {
            seed = seed * 1103515245u + 12345u;
            v = ((uintptr_t)seed << 32 | (uintptr_t)(seed * 2654435761u)) & ~(uintptr_t)7;
        }
        HPSSDETAILS h = (HPSSDETAILS)v;
        PSS_DETAILS_INFORMATION info;
        PSS_DETAILS_THREAD t;
        DWORD n;
        CHECK_EQ(PssLinuxQueryDetails(h, sizeof info, &info), ERROR_INVALID_HANDLE);
        CHECK_EQ(PssLinuxReadDetails(h, PSS_DETAILS_CLASS_THREADS, 0, 1, sizeof t, &t, &n),
                 ERROR_INVALID_HANDLE);
        CHECK_EQ(PssLinuxFreeDetails(h), ERROR_INVALID_HANDLE);
    }
    /* The live one is untouched by all of that. */
    PSS_DETAILS_INFORMATION info;
    CHECK_EQ(PssLinuxQueryDetails(live, sizeof info, &info), ERROR_SUCCESS);
    CHECK(info.ThreadCount >= 1);
    CHECK_EQ(PssLinuxFreeDetails(live), ERROR_SUCCESS);
    CHECK_EQ(PssLinuxFreeDetails(live), ERROR_INVALID_HANDLE); /* double free */
    CHECK_EQ(PssWalkMarkerFree(marker), ERROR_SUCCESS);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, snap), ERROR_SUCCESS);
    return 0;
}
