/*
 * test_context.c -- PSS_CAPTURE_THREAD_CONTEXT has no side effects on the caller, and
 * concurrent context captures of one target from many threads are all correct.
 *
 * The ptrace work runs in a helper task of its own thread group, so: a caller thread
 * blocked in waitpid(-1) never sees the target's stops; the caller gets no SIGCHLD; no
 * clone child, zombie or fd is left after a capture; eight threads capturing the same
 * target all get every context and no FROZEN / SuspendCount; a genuinely foreign tracer
 * (another process that ptrace-stopped the target) is still reported.
 *
 * Nothing here depends on timing: every wait is for a state (a thread blocked in wait4,
 * a thread stop reported by waitpid), never for a duration.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#define CONTEXT_FLAGS_ALL                                                                 \
    (PSS_CAPTURE_THREADS | PSS_CAPTURE_THREAD_CONTEXT | PSS_CAPTURE_VA_SPACE |            \
     PSS_CAPTURE_HANDLES)

/* The 9-thread fixture of the issue's measurements (8 threads + main). */
static const char *const nine_threads[] = {"--threads", "8", "--pipes", "2", NULL};

static void nap(void)
{
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
}

/* No clone child (a libpss helper task) of ours is alive or a zombie. */
static bool no_clone_children(void)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WCLONE) == -1 &&
           errno == ECHILD;
}

static bool is_fixture_tid(const struct fixture *f, long tid)
{
    const struct json *tids = json_get(f->json, "tids");
    for (const struct json *t = tids ? tids->child : NULL; t != NULL; t = t->next)
        if (t->inum == tid)
            return true;
    return false;
}

/*
 * Captures f with thread contexts and checks the snapshot: every thread listed with a
 * full context, nobody suspended, the process not FROZEN.  Returns 0 if all is well;
 * otherwise 1 and a message (rc receives the capture's return code).
 */
static int capture_full_contexts(const struct fixture *f, DWORD *rc_out)
{
    HPSS s = NULL;
    DWORD rc = test_capture_pid(f->pid, CONTEXT_FLAGS_ALL, CONTEXT_ALL, &s);
    *rc_out = rc;
    CHECK_MSG(rc == ERROR_SUCCESS, "capture with contexts returned %u", rc);
    int bad = 0;
    PSS_PROCESS_INFORMATION pi;
    PSS_THREAD_INFORMATION ti;
    HPSSWALK w = NULL;
    if (PssQuerySnapshot(s, PSS_QUERY_PROCESS_INFORMATION, &pi, sizeof pi) != ERROR_SUCCESS ||
        PssQuerySnapshot(s, PSS_QUERY_THREAD_INFORMATION, &ti, sizeof ti) != ERROR_SUCCESS ||
        PssWalkMarkerCreate(NULL, &w) != ERROR_SUCCESS) {
        test_fail(__FILE__, __LINE__, "query/marker failed");
        bad = 1;
    }
    const size_t expected = json_get(f->json, "tids")->count;
    if (!bad && (pi.Flags & PSS_PROCESS_FLAGS_FROZEN)) {
        test_fail(__FILE__, __LINE__, "process reported FROZEN");
        bad = 1;
    }
    if (!bad && ti.ThreadsCaptured != expected) {
        test_fail(__FILE__, __LINE__, "%u threads captured, %zu expected", ti.ThreadsCaptured,
                  expected);
        bad = 1;
    }
    PSS_THREAD_ENTRY te;
    size_t n = 0;
    while (!bad && PssWalkSnapshot(s, PSS_WALK_THREADS, w, &te, sizeof te) == ERROR_SUCCESS) {
        n++;
        if (te.SuspendCount != 0 || te.ContextRecord == NULL ||
            te.SizeOfContextRecord != sizeof(CONTEXT) ||
            te.ContextRecord->ContextFlags != CONTEXT_ALL || te.ContextRecord->Rip == 0 ||
            te.ContextRecord->Rsp == 0 || te.ContextRecord->SegCs != 0x33 ||
            te.TebBaseAddress == NULL || !is_fixture_tid(f, te.ThreadId)) {
            test_fail(__FILE__, __LINE__,
                      "thread %u: SuspendCount %u, context %p (%u bytes), Rip 0x%llx", te.ThreadId,
                      te.SuspendCount, (const void *)te.ContextRecord, te.SizeOfContextRecord,
                      te.ContextRecord ? (unsigned long long)te.ContextRecord->Rip : 0ull);
            bad = 1;
        }
    }
    if (!bad && n != expected) {
        test_fail(__FILE__, __LINE__, "walked %zu threads, %zu expected", n, expected);
        bad = 1;
    }
    if (w != NULL)
        PssWalkMarkerFree(w);
    PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
    return bad;
}

/* ---- a caller thread blocked in waitpid(-1) ---- */

struct waiter {
    int flags;             /* 0 or __WALL */
    pid_t fixture;         /* the only child whose exit it expects */
    const struct fixture *f;
    volatile pid_t tid;
    int fixture_status;    /* status of the fixture's exit, -1 if never seen */
    int stops;             /* WIFSTOPPED statuses received */
    int target_tids;       /* results naming a thread of the target other than its exit */
    int others;            /* exits of other children (libpss helpers, with __WALL) */
};

static void *waiter_main(void *p)
{
    struct waiter *w = p;
    w->tid = (pid_t)syscall(SYS_gettid);
    for (;;) {
        int st = 0;
        pid_t r = waitpid(-1, &st, w->flags);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break; /* ECHILD: nothing left */
        }
        if (WIFSTOPPED(st))
            w->stops++;
        if (r == w->fixture && (WIFEXITED(st) || WIFSIGNALED(st))) {
            w->fixture_status = st;
            break;
        }
        if (is_fixture_tid(w->f, r))
            w->target_tids++;
        else
            w->others++;
    }
    return NULL;
}

/* Waits until thread tid of this process is blocked in wait4 (a state, not a delay). */
static bool blocked_in_wait4(pid_t tid)
{
    char path[64], buf[128];
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
    for (long i = 0; i < 100000; i++) {
        FILE *fp = fopen(path, "re");
        if (fp == NULL)
            return false;
        size_t n = fread(buf, 1, sizeof buf - 1, fp);
        fclose(fp);
        buf[n] = '\0';
        if (strncmp(buf, "61 ", 3) == 0) /* __NR_wait4 */
            return true;
        nap();
    }
    return false;
}

static int waiter_during_captures(int wait_flags)
{
    struct fixture f;
    TRY(fixture_start(&f, nine_threads));
    struct waiter w;
    memset(&w, 0, sizeof w);
    w.flags = wait_flags;
    w.fixture = f.pid;
    w.f = &f;
    w.fixture_status = -1;
    pthread_t th;
    CHECK(pthread_create(&th, NULL, waiter_main, &w) == 0);
    while (w.tid == 0)
        nap();
    int bad = !blocked_in_wait4(w.tid);
    if (bad)
        test_fail(__FILE__, __LINE__, "the waiter thread never blocked in waitpid");
    int ok = 0, failed = 0;
    DWORD first_bad = ERROR_SUCCESS;
    for (int i = 0; i < 40 && !bad; i++) {
        DWORD rc;
        if (capture_full_contexts(&f, &rc) == 0)
            ok++;
        else {
            failed++;
            if (first_bad == ERROR_SUCCESS)
                first_bad = rc;
        }
    }
    /* Release the waiter: the fixture exits, which is all it may ever receive. */
    if (f.stdin_fd >= 0)
        close(f.stdin_fd);
    f.stdin_fd = -1;
    pthread_join(th, NULL);
    if (w.fixture_status != -1)
        f.pid = -1; /* reaped by the waiter */
    fixture_kill(&f);
    printf("    %d of 40 captures complete; waiter: %d stops, %d target tids, %d other exits\n",
           ok, w.stops, w.target_tids, w.others);
    CHECK_EQ(bad, 0);
    CHECK_MSG(failed == 0, "%d of 40 captures failed (first code %u)", failed, first_bad);
    CHECK_EQ(w.stops, 0);
    CHECK_EQ(w.target_tids, 0);
    if (wait_flags == 0)
        CHECK_EQ(w.others, 0);
    CHECK_MSG(w.fixture_status != -1 && WIFEXITED(w.fixture_status) &&
                  WEXITSTATUS(w.fixture_status) == 0,
              "the waiter did not get the fixture's own exit (status %d)", w.fixture_status);
    CHECK(no_clone_children());
    return 0;
}

int test_context_caller_waitpid_untouched(void)
{
    return waiter_during_captures(0);
}

/* __WALL also waits for clone children: such a waiter may reap a libpss helper's exit
 * (documented), but never a stop status or a thread of the target, and every capture
 * still succeeds. */
int test_context_caller_wall_waiter(void)
{
    return waiter_during_captures(__WALL);
}

/* ---- SIGCHLD ---- */

static volatile sig_atomic_t g_sigchld_count;
static volatile sig_atomic_t g_sigchld_foreign; /* the handler ran in another task */
static pid_t g_test_pid;

static void count_sigchld(int sig)
{
    (void)sig;
    g_sigchld_count++;
    if ((pid_t)syscall(SYS_getpid) != g_test_pid)
        g_sigchld_foreign++;
}

static bool sigchld_pending(void)
{
    sigset_t pend;
    sigemptyset(&pend);
    return sigpending(&pend) == 0 && sigismember(&pend, SIGCHLD);
}

int test_context_no_sigchld_in_caller(void)
{
    struct fixture f;
    TRY(fixture_start(&f, nine_threads));
    g_test_pid = getpid();
    g_sigchld_count = 0;
    g_sigchld_foreign = 0;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = count_sigchld;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    CHECK(sigaction(SIGCHLD, &sa, &old) == 0);
    const int fds = test_count_open_fds();
    int bad = 0, ok = 0;
    /* 1: SIGCHLD handled: the handler must never run (in this process or a helper). */
    for (int i = 0; i < 40 && !bad; i++) {
        DWORD rc;
        bad = capture_full_contexts(&f, &rc);
        ok += !bad;
        if (!bad && (!no_clone_children() || test_count_open_fds() != fds)) {
            test_fail(__FILE__, __LINE__, "capture %d left a child or an fd", i);
            bad = 1;
        }
    }
    const long handled = g_sigchld_count, foreign = g_sigchld_foreign;
    /* 2: SIGCHLD blocked (this is the only thread): nothing may become pending. */
    sigset_t chld, oldmask;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &chld, &oldmask);
    const bool pending_before = sigchld_pending();
    for (int i = 0; i < 40 && !bad; i++) {
        DWORD rc;
        bad = capture_full_contexts(&f, &rc);
        ok += !bad;
    }
    const bool pending_after = sigchld_pending();
    if (pending_after) { /* consume it so that it does not leak into other tests */
        int sig;
        sigwait(&chld, &sig);
    }
    pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
    sigaction(SIGCHLD, &old, NULL);
    CHECK_EQ(fixture_stop(&f), 0);
    printf("    %d of 80 captures complete; SIGCHLD handled %ld times (%ld outside this "
           "process), pending when blocked: %s\n",
           ok, handled, foreign, pending_after ? "yes" : "no");
    CHECK_EQ(bad, 0);
    CHECK_EQ(handled, 0);
    CHECK_EQ(foreign, 0);
    CHECK(!pending_before);
    CHECK(!pending_after);
    return 0;
}

/* ---- concurrent captures of one target ---- */

#define CONTEXT_WORKERS 8
#define PLAIN_WORKERS 2

struct context_worker {
    const struct fixture *f;
    pthread_barrier_t *barrier;
    int rounds;
    bool contexts;     /* THREAD_CONTEXT captures, else plain THREADS captures */
    int failures;
    DWORD first_rc;
};

/* A plain capture while other threads freeze the target: libpss's own freeze of the
 * same process is never reported as a suspension. */
static int capture_plain_not_frozen(const struct fixture *f, DWORD *rc_out)
{
    HPSS s = NULL;
    DWORD rc = test_capture_pid(f->pid, PSS_CAPTURE_THREADS, 0, &s);
    *rc_out = rc;
    CHECK_MSG(rc == ERROR_SUCCESS, "plain capture returned %u", rc);
    PSS_PROCESS_INFORMATION pi;
    HPSSWALK w = NULL;
    int bad = PssQuerySnapshot(s, PSS_QUERY_PROCESS_INFORMATION, &pi, sizeof pi) !=
                  ERROR_SUCCESS ||
              PssWalkMarkerCreate(NULL, &w) != ERROR_SUCCESS;
    if (!bad && (pi.Flags & PSS_PROCESS_FLAGS_FROZEN)) {
        test_fail(__FILE__, __LINE__, "plain capture: process reported FROZEN");
        bad = 1;
    }
    PSS_THREAD_ENTRY te;
    while (!bad && PssWalkSnapshot(s, PSS_WALK_THREADS, w, &te, sizeof te) == ERROR_SUCCESS)
        if (te.SuspendCount != 0) {
            test_fail(__FILE__, __LINE__, "plain capture: thread %u SuspendCount %u",
                      te.ThreadId, te.SuspendCount);
            bad = 1;
        }
    if (w != NULL)
        PssWalkMarkerFree(w);
    PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
    return bad;
}

static void *context_worker_main(void *p)
{
    struct context_worker *cw = p;
    for (int r = 0; r < cw->rounds; r++) {
        pthread_barrier_wait(cw->barrier);
        DWORD rc;
        int bad = cw->contexts ? capture_full_contexts(cw->f, &rc)
                               : capture_plain_not_frozen(cw->f, &rc);
        if (bad && cw->failures++ == 0)
            cw->first_rc = rc;
    }
    return NULL;
}

int test_context_concurrent_same_target(void)
{
    struct fixture f;
    TRY(fixture_start(&f, nine_threads));
    const int rounds = test_under_valgrind() ? 3 : 10;
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, CONTEXT_WORKERS + PLAIN_WORKERS);
    struct context_worker cw[CONTEXT_WORKERS + PLAIN_WORKERS];
    pthread_t th[CONTEXT_WORKERS + PLAIN_WORKERS];
    int started = 0;
    for (int i = 0; i < CONTEXT_WORKERS + PLAIN_WORKERS; i++) {
        memset(&cw[i], 0, sizeof cw[i]);
        cw[i].f = &f;
        cw[i].barrier = &barrier;
        cw[i].rounds = rounds;
        cw[i].contexts = i < CONTEXT_WORKERS;
        if (pthread_create(&th[i], NULL, context_worker_main, &cw[i]) != 0)
            break;
        started++;
    }
    CHECK_EQ(started, CONTEXT_WORKERS + PLAIN_WORKERS); /* else the barrier never opens */
    int failures = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        if (cw[i].failures)
            printf("    worker %d (%s): %d of %d captures wrong, first code %u\n", i,
                   cw[i].contexts ? "contexts" : "plain", cw[i].failures, rounds,
                   cw[i].first_rc);
        failures += cw[i].failures;
    }
    pthread_barrier_destroy(&barrier);
    CHECK_EQ(fixture_stop(&f), 0);
    CHECK_EQ(failures, 0);
    CHECK(no_clone_children());
    return 0;
}

/* ---- a foreign tracer is still reported ---- */

/* Child side: seize and interrupt every thread of the target, report, hold them stopped
 * until the parent closes the pipe, then detach. */
static int foreign_tracer_main(const pid_t *tids, size_t n, int ready_fd, int release_fd)
{
    for (size_t i = 0; i < n; i++) {
        if (ptrace(PTRACE_SEIZE, tids[i], NULL, NULL) != 0)
            return 10;
        if (ptrace(PTRACE_INTERRUPT, tids[i], NULL, NULL) != 0)
            return 11;
    }
    for (size_t i = 0; i < n; i++) {
        int st;
        if (waitpid(tids[i], &st, __WALL) != tids[i] || !WIFSTOPPED(st))
            return 12;
    }
    if (write(ready_fd, "R", 1) != 1)
        return 13;
    char c;
    while (read(release_fd, &c, 1) < 0 && errno == EINTR)
        ;
    for (size_t i = 0; i < n; i++)
        if (ptrace(PTRACE_DETACH, tids[i], NULL, NULL) != 0)
            return 14;
    return 0;
}

static int capture_sees_foreign_freeze(const struct fixture *f, DWORD flags)
{
    HPSS s = NULL;
    DWORD rc = test_capture_pid(f->pid, flags, CONTEXT_ALL, &s);
    CHECK_EQ(rc, ERROR_SUCCESS);
    PSS_PROCESS_INFORMATION pi;
    CHECK_EQ(PssQuerySnapshot(s, PSS_QUERY_PROCESS_INFORMATION, &pi, sizeof pi), ERROR_SUCCESS);
    HPSSWALK w;
    CHECK_EQ(PssWalkMarkerCreate(NULL, &w), ERROR_SUCCESS);
    PSS_THREAD_ENTRY te;
    size_t n = 0;
    int bad = 0;
    while (PssWalkSnapshot(s, PSS_WALK_THREADS, w, &te, sizeof te) == ERROR_SUCCESS) {
        n++;
        if (te.SuspendCount != 1 || te.ContextRecord != NULL) {
            test_fail(__FILE__, __LINE__, "thread %u: SuspendCount %u, context %p", te.ThreadId,
                      te.SuspendCount, (const void *)te.ContextRecord);
            bad = 1;
        }
    }
    PssWalkMarkerFree(w);
    PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
    CHECK_EQ(bad, 0);
    CHECK_EQ(n, json_get(f->json, "tids")->count);
    CHECK_EQ(pi.Flags & PSS_PROCESS_FLAGS_FROZEN, PSS_PROCESS_FLAGS_FROZEN);
    return 0;
}

int test_context_foreign_tracer_reported(void)
{
    struct fixture f;
    TRY(fixture_start(&f, nine_threads));
    const struct json *tj = json_get(f.json, "tids");
    pid_t tids[64];
    size_t n = 0;
    for (const struct json *t = tj->child; t != NULL && n < 64; t = t->next)
        tids[n++] = (pid_t)t->inum;
    int ready[2], release[2];
    CHECK(pipe2(ready, O_CLOEXEC) == 0);
    CHECK(pipe2(release, O_CLOEXEC) == 0);
    pid_t tracer = fork();
    if (tracer == 0) {
        close(ready[0]);
        close(release[1]);
        _exit(foreign_tracer_main(tids, n, ready[1], release[0]));
    }
    close(ready[1]);
    close(release[0]);
    char c = 0;
    ssize_t got;
    while ((got = read(ready[0], &c, 1)) < 0 && errno == EINTR)
        ;
    close(ready[0]);
    int bad = tracer < 0 || got != 1;
    if (bad)
        test_fail(__FILE__, __LINE__, "the foreign tracer did not stop the fixture");
    /* Frozen by another process: reported, with contexts and without. */
    if (!bad)
        bad = capture_sees_foreign_freeze(&f, CONTEXT_FLAGS_ALL);
    if (!bad)
        bad = capture_sees_foreign_freeze(&f, PSS_CAPTURE_THREADS);
    close(release[1]);
    int st = 0;
    if (tracer > 0)
        waitpid(tracer, &st, 0);
    if (!bad && (!WIFEXITED(st) || WEXITSTATUS(st) != 0)) {
        test_fail(__FILE__, __LINE__, "foreign tracer exit status 0x%x", st);
        bad = 1;
    }
    /* Released: full contexts again. */
    DWORD rc;
    if (!bad)
        bad = capture_full_contexts(&f, &rc);
    if (bad) {
        fixture_kill(&f);
        return 1;
    }
    CHECK_EQ(fixture_stop(&f), 0);
    return 0;
}

/* ---- a helper killed from outside ---- */

struct helper_killer {
    pid_t fixture;
    volatile int stop;
    int kills;
};

/* Kills every child of this process that is not the fixture: libpss's helper tasks. */
static void *helper_killer_main(void *p)
{
    struct helper_killer *k = p;
    char path[320], buf[4096];
    while (!k->stop) {
        DIR *d = opendir("/proc/self/task");
        if (d == NULL)
            break;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] < '0' || de->d_name[0] > '9')
                continue;
            snprintf(path, sizeof path, "/proc/self/task/%s/children", de->d_name);
            FILE *fp = fopen(path, "re");
            if (fp == NULL)
                continue;
            size_t n = fread(buf, 1, sizeof buf - 1, fp);
            fclose(fp);
            buf[n] = '\0';
            for (char *s = buf, *end; *s != '\0'; s = end) {
                long pid = strtol(s, &end, 10);
                if (end == s)
                    break;
                if (pid > 0 && pid != k->fixture && kill((pid_t)pid, SIGKILL) == 0)
                    k->kills++;
            }
        }
        closedir(d);
        sched_yield();
    }
    return NULL;
}

/* Whatever moment the helper dies at, the capture returns (no hang), says so honestly,
 * and leaves the target running and untraced, with no child behind. */
int test_context_helper_killed(void)
{
    struct fixture f;
    const char *args[] = {"--threads", "63", NULL};
    TRY(fixture_start(&f, args));
    struct helper_killer k = {f.pid, 0, 0};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, helper_killer_main, &k) == 0);
    int ok = 0, failed = 0, bad = 0;
    for (int i = 0; i < 100 && !bad; i++) {
        HPSS s = NULL;
        DWORD rc = test_capture_pid(f.pid, CONTEXT_FLAGS_ALL, CONTEXT_ALL, &s);
        if (rc == ERROR_SUCCESS) {
            ok++;
            PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
        } else if (rc == ERROR_GEN_FAILURE) {
            failed++;
        } else {
            test_fail(__FILE__, __LINE__, "capture %d returned %u", i, rc);
            bad = 1;
        }
        const struct json *tids = json_get(f.json, "tids");
        for (const struct json *t = tids->child; t != NULL && !bad; t = t->next) {
            char path[64], line[256];
            snprintf(path, sizeof path, "/proc/%d/task/%lld/status", (int)f.pid, t->inum);
            FILE *fp = fopen(path, "re");
            long tracer = -1;
            while (fp != NULL && fgets(line, sizeof line, fp))
                if (strncmp(line, "TracerPid:", 10) == 0)
                    tracer = strtol(line + 10, NULL, 10);
            if (fp != NULL)
                fclose(fp);
            if (tracer != 0) {
                test_fail(__FILE__, __LINE__, "after capture %d thread %lld: TracerPid %ld", i,
                          t->inum, tracer);
                bad = 1;
            }
        }
        if (!bad && !no_clone_children()) {
            test_fail(__FILE__, __LINE__, "capture %d left a clone child", i);
            bad = 1;
        }
    }
    k.stop = 1;
    pthread_join(th, NULL);
    printf("    %d captures complete, %d ERROR_GEN_FAILURE, %d kill() calls\n", ok, failed,
           k.kills);
    if (bad) {
        fixture_kill(&f);
        return 1;
    }
    /* The fixture still runs normally: it exits 0 on stdin EOF. */
    CHECK_EQ(fixture_stop(&f), 0);
    return 0;
}
