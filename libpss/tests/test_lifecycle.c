/*
 * test_lifecycle.c -- processes that are gone, dying, zombies, or not ours; concurrent
 * use; and the final check that every child was reaped.
 */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int count_tasks(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] >= '0' && de->d_name[0] <= '9';
    closedir(d);
    return n;
}

int test_nonexistent_pid(void)
{
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    CHECK(p > 0);
    CHECK_EQ(waitpid(p, NULL, 0), p);
    HANDLE h = (HANDLE)0x1;
    CHECK_EQ(PssLinuxOpenProcess((DWORD)p, &h), ERROR_INVALID_PARAMETER);
    CHECK(h == NULL);
    CHECK_EQ(PssLinuxOpenProcess(0x3FFFFFFFu, &h), ERROR_INVALID_PARAMETER);
    return 0;
}

int test_process_exits_before_capture(void)
{
    struct fixture f;
    const char *args[] = {"--threads", "2", "--pipes", "2", NULL};
    TRY(fixture_start(&f, args));
    HANDLE h;
    CHECK_EQ(PssLinuxOpenProcess((DWORD)f.pid, &h), ERROR_SUCCESS);
    fixture_kill(&f); /* killed and reaped: the handle now names a gone process */
    HPSS s = (HPSS)0x1;
    static const DWORD flag_sets[] = {
        PSS_CAPTURE_NONE, PSS_CAPTURE_THREADS, PSS_CAPTURE_HANDLES | PSS_CAPTURE_HANDLE_NAME_INFORMATION,
        PSS_CAPTURE_VA_SPACE, TEST_ALL_FLAGS, TEST_ALL_FLAGS | PSS_CAPTURE_THREAD_CONTEXT};
    for (size_t i = 0; i < sizeof flag_sets / sizeof flag_sets[0]; i++) {
        CHECK_EQ(PssCaptureSnapshot(h, flag_sets[i], CONTEXT_ALL, &s), ERROR_PROCESS_ABORTED);
        CHECK(s == NULL);
    }
    CHECK_EQ(PssLinuxCloseProcess(h), ERROR_SUCCESS);
    return 0;
}

int test_zombie_capture(void)
{
    struct fixture f;
    const char *args[] = {"--threads", "2", "--pipes", "2", NULL};
    TRY(fixture_start(&f, args));
    HANDLE h;
    CHECK_EQ(PssLinuxOpenProcess((DWORD)f.pid, &h), ERROR_SUCCESS);
    kill(f.pid, SIGKILL);
    /* Wait until the leader is a zombie and its sibling threads are gone. */
    char task_dir[64];
    snprintf(task_dir, sizeof task_dir, "/proc/%d/task", (int)f.pid);
    for (int i = 0;
         i < 10000 && (test_task_state(f.pid, 0) != 'Z' || count_tasks(task_dir) != 1); i++)
        sleep_us(200);
    int bad = test_task_state(f.pid, 0) != 'Z' || count_tasks(task_dir) != 1;
    if (bad)
        test_fail(__FILE__, __LINE__, "the killed fixture did not settle as a zombie");
    HPSS s = NULL;
    DWORD rc = PssCaptureSnapshot(h, TEST_ALL_FLAGS, 0, &s);
    if (!bad && rc != ERROR_SUCCESS) {
        test_fail(__FILE__, __LINE__, "zombie capture: %u", rc);
        bad = 1;
    }
    if (!bad) {
        PSS_PROCESS_INFORMATION pi;
        PSS_THREAD_INFORMATION ti;
        PSS_HANDLE_INFORMATION hi;
        PssQuerySnapshot(s, PSS_QUERY_PROCESS_INFORMATION, &pi, sizeof pi);
        PssQuerySnapshot(s, PSS_QUERY_THREAD_INFORMATION, &ti, sizeof ti);
        PssQuerySnapshot(s, PSS_QUERY_HANDLE_INFORMATION, &hi, sizeof hi);
        if (pi.ExitStatus != 128 + SIGKILL || hi.HandlesCaptured != 0) {
            test_fail(__FILE__, __LINE__, "zombie: ExitStatus %u, %u handles", pi.ExitStatus,
                      hi.HandlesCaptured);
            bad = 1;
        }
        HPSSWALK w;
        PssWalkMarkerCreate(NULL, &w);
        PSS_THREAD_ENTRY t;
        for (DWORD i = 0; !bad && i < ti.ThreadsCaptured; i++) {
            PssWalkSnapshot(s, PSS_WALK_THREADS, w, &t, sizeof t);
            if (t.Flags != PSS_THREAD_FLAGS_TERMINATED) {
                test_fail(__FILE__, __LINE__, "zombie thread %u flags %u", t.ThreadId, t.Flags);
                bad = 1;
            }
        }
        PssWalkMarkerFree(w);
        PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
    }
    fixture_kill(&f);
    CHECK_EQ(PssCaptureSnapshot(h, TEST_ALL_FLAGS, 0, &s), ERROR_PROCESS_ABORTED);
    CHECK_EQ(PssLinuxCloseProcess(h), ERROR_SUCCESS);
    return bad;
}

struct killer {
    pid_t pid;
    long delay_us;
    pid_t reaped;
    int status;
};

static void *killer_main(void *p)
{
    struct killer *k = p;
    sleep_us(k->delay_us);
    kill(k->pid, SIGKILL);
    while ((k->reaped = waitpid(k->pid, &k->status, 0)) < 0 && errno == EINTR)
        ;
    return NULL;
}

static int walk_everything(HPSS s)
{
    HPSSWALK w;
    CHECK_EQ(PssWalkMarkerCreate(NULL, &w), ERROR_SUCCESS);
    unsigned char buf[256];
    static const DWORD sizes[4] = {80, 80, 136, 120};
    for (int c = 0; c < 4; c++) {
        DWORD rc;
        while ((rc = PssWalkSnapshot(s, c, w, buf, sizes[c])) == ERROR_SUCCESS)
            ;
        CHECK(rc == ERROR_NO_MORE_ITEMS || rc == ERROR_NOT_FOUND);
    }
    CHECK_EQ(PssWalkMarkerFree(w), ERROR_SUCCESS);
    return 0;
}

int test_stress_capture_while_killed(void)
{
    const char *args[] = {"--threads", "6", "--pipes", "10", "--eventfds", "5", "--memfds", "3",
                          "--maps", "40", "--pidfds", "2", NULL};
    unsigned seed = (unsigned)time(NULL);
    long results[2] = {0, 0};
    for (int iter = 0; iter < 150; iter++) {
        struct fixture f;
        TRY(fixture_start(&f, args));
        HANDLE h;
        CHECK_EQ(PssLinuxOpenProcess((DWORD)f.pid, &h), ERROR_SUCCESS);
        struct killer k = {f.pid, (long)(rand_r(&seed) % 4000), 0, 0};
        DWORD flags = TEST_ALL_FLAGS | ((iter % 3 == 0) ? PSS_CAPTURE_THREAD_CONTEXT : 0u);
        pthread_t th;
        CHECK(pthread_create(&th, NULL, killer_main, &k) == 0);
        DWORD rc = ERROR_SUCCESS;
        int bad = 0;
        for (int n = 0; n < 1000 && rc == ERROR_SUCCESS; n++) {
            HPSS s = NULL;
            rc = PssCaptureSnapshot(h, flags, CONTEXT_ALL, &s);
            if (rc == ERROR_SUCCESS) {
                results[0]++;
                bad = walk_everything(s);
                PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
                if (bad)
                    break;
            } else if (rc != ERROR_PROCESS_ABORTED) {
                test_fail(__FILE__, __LINE__, "iteration %d: capture returned %u", iter, rc);
                bad = 1;
            } else {
                results[1]++;
                CHECK(s == NULL);
            }
        }
        pthread_join(th, NULL);
        f.pid = -1; /* reaped by the killer */
        fixture_kill(&f);
        /* The parent's waitpid got the real exit status: libpss (which waits for its
         * ptrace stops) never reaped the caller's child itself. */
        if (!bad && (k.reaped != k.pid || !WIFSIGNALED(k.status) ||
                     WTERMSIG(k.status) != SIGKILL)) {
            test_fail(__FILE__, __LINE__, "iteration %d: waitpid -> %d status 0x%x", iter,
                      (int)k.reaped, k.status);
            bad = 1;
        }
        if (!bad) {
            HPSS s;
            DWORD last = PssCaptureSnapshot(h, flags, CONTEXT_ALL, &s);
            if (last != ERROR_PROCESS_ABORTED) {
                test_fail(__FILE__, __LINE__, "after the reap: %u", last);
                bad = 1;
            }
        }
        CHECK_EQ(PssLinuxCloseProcess(h), ERROR_SUCCESS);
        if (bad)
            return 1;
    }
    printf("    %ld successful captures, %ld ERROR_PROCESS_ABORTED\n", results[0], results[1]);
    CHECK(results[1] >= 150);
    return 0;
}

/* ---- permission denied ---- */

static int run_cmd(const char *cmd)
{
    int st = system(cmd);
    return st == -1 ? -1 : (WIFEXITED(st) ? WEXITSTATUS(st) : 128);
}

/* Child side: as an unprivileged uid, try to capture a root-owned process. */
static int unprivileged_child(uid_t uid, gid_t gid, pid_t target)
{
    if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0)
        return 10;
    HANDLE h;
    if (PssLinuxOpenProcess((DWORD)target, &h) != ERROR_SUCCESS)
        return 11; /* opening needs no privilege */
    HPSS s;
    int code = 0;
    if (PssCaptureSnapshot(h, PSS_CAPTURE_HANDLES, 0, &s) != ERROR_ACCESS_DENIED)
        code = 12;
    else if (PssCaptureSnapshot(h, PSS_CAPTURE_VA_SPACE, 0, &s) != ERROR_ACCESS_DENIED)
        code = 13;
    else if (PssCaptureSnapshot(h, PSS_CAPTURE_THREADS | PSS_CAPTURE_THREAD_CONTEXT,
                                CONTEXT_ALL, &s) != ERROR_ACCESS_DENIED)
        code = 14;
    else if (PssCaptureSnapshot(h, TEST_ALL_FLAGS, 0, &s) != ERROR_ACCESS_DENIED)
        code = 15;
    else if (PssCaptureSnapshot(h, PSS_CAPTURE_THREADS, 0, &s) != ERROR_SUCCESS)
        code = 16; /* world-readable parts still work */
    else {
        PSS_PROCESS_INFORMATION pi;
        PSS_THREAD_INFORMATION ti;
        if (PssQuerySnapshot(s, PSS_QUERY_PROCESS_INFORMATION, &pi, sizeof pi) != 0 ||
            PssQuerySnapshot(s, PSS_QUERY_THREAD_INFORMATION, &ti, sizeof ti) != 0)
            code = 17;
        else if (!(pi.Flags & PSS_PROCESS_FLAGS_PROTECTED) || ti.ThreadsCaptured != 3)
            code = 18;
        else if (pi.ImageFileName[0] == 0)
            code = 19; /* falls back to argv[0] */
        PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
    }
    PssLinuxCloseProcess(h);
    return code;
}

int test_permission_denied_other_user(void)
{
    if (geteuid() != 0) {
        test_skip("not running as root: cannot switch to another uid");
        return 0;
    }
    /* A user of our own, named after our pid, so parallel runs never share one. */
    char user[32], cmd[160];
    snprintf(user, sizeof user, "pss_t%ld", (long)getpid());
    if (getpwnam(user) != NULL) {
        test_fail(__FILE__, __LINE__, "user %s already exists (left over by a crashed run?)",
                  user);
        return 1;
    }
    if (access("/usr/sbin/useradd", X_OK) != 0) {
        test_skip("useradd is not available");
        return 0;
    }
    snprintf(cmd, sizeof cmd, "/usr/sbin/useradd -M -s /usr/sbin/nologin %s >/dev/null 2>&1",
             user);
    if (run_cmd(cmd) != 0) {
        test_skip("useradd %s failed", user);
        return 0;
    }
    struct passwd *pw = getpwnam(user);
    int bad = pw == NULL;
    uid_t uid = pw ? pw->pw_uid : 0;
    gid_t gid = pw ? pw->pw_gid : 0;

    struct fixture f;
    const char *args[] = {"--threads", "2", "--pipes", "2", NULL};
    if (!bad && fixture_start(&f, args) != 0)
        bad = 1;
    if (!bad) {
        pid_t child = fork();
        if (child == 0)
            _exit(unprivileged_child(uid, gid, f.pid));
        int st = 0;
        waitpid(child, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            test_fail(__FILE__, __LINE__, "unprivileged child failed with code %d",
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

/* ---- thread safety ---- */

struct worker {
    pid_t target;
    int iterations;
    int result;
};

static void *capture_worker(void *p)
{
    struct worker *wk = p;
    wk->result = 0;
    for (int i = 0; i < wk->iterations; i++) {
        HPSS s;
        DWORD rc = wk->target ? test_capture_pid(wk->target, TEST_ALL_FLAGS, 0, &s)
                              : PssCaptureSnapshot(PSS_CURRENT_PROCESS, TEST_ALL_FLAGS, 0, &s);
        if (rc != ERROR_SUCCESS || walk_everything(s) != 0) {
            wk->result = 1;
            if (rc == ERROR_SUCCESS)
                PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
            return NULL;
        }
        PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
    }
    return NULL;
}

int test_concurrent_captures(void)
{
    struct fixture f;
    const char *args[] = {"--threads", "8", "--pipes", "20", "--maps", "50", "--memfds", "4",
                          NULL};
    TRY(fixture_start(&f, args));
    struct worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i].target = i % 2 ? f.pid : 0;
        w[i].iterations = 40;
        CHECK(pthread_create(&th[i], NULL, capture_worker, &w[i]) == 0);
    }
    int bad = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        bad |= w[i].result;
    }
    CHECK_EQ(fixture_stop(&f), 0);
    CHECK_EQ(bad, 0);
    return 0;
}

int test_no_children_left(void)
{
    CHECK_EQ(waitpid(-1, NULL, WNOHANG), -1);
    CHECK_EQ(errno, ECHILD);
    DIR *d = opendir("/proc/self/task");
    CHECK(d != NULL);
    struct dirent *de;
    int bad = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        char path[300], buf[256];
        snprintf(path, sizeof path, "/proc/self/task/%s/children", de->d_name);
        FILE *f = fopen(path, "re");
        if (f == NULL)
            continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        if (n > 0 && strspn(buf, " \n") != n) {
            test_fail(__FILE__, __LINE__, "children left: %s", buf);
            bad = 1;
        }
    }
    closedir(d);
    return bad;
}
