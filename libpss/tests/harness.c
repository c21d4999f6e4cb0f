/*
 * harness.c -- the test runner (main), the fixture process helper, the counting test
 * allocator and utilities.
 *
 * After every test the runner checks that the test left no child process behind (PID 1
 * on these machines does not reap orphans; clone children included) and no file
 * descriptor open.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

extern char **environ;

/* ---- assertions and runner ---- */

static bool g_skipped;

void test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "    FAIL %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

void test_skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "    SKIP: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    g_skipped = true;
}

bool test_under_valgrind(void)
{
    const char *v = getenv("PSS_TEST_VALGRIND");
    return v != NULL && v[0] == '1';
}

int test_count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] >= '0' && de->d_name[0] <= '9')
            n++;
    closedir(d);
    return n - 1; /* the directory's own fd */
}

struct test_entry {
    const char *name;
    int (*fn)(void);
    int heavy;
};

static const struct test_entry g_tests[] = {
#define PSS_TEST(name, heavy) {#name, test_##name, heavy},
#include "test_list.h"
#undef PSS_TEST
};

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--print-create-times") == 0)
        return test_print_create_times(argv[2]);
    const char *filter = argc > 1 ? argv[1] : NULL;
    const bool vg = test_under_valgrind();
    int failed = 0, passed = 0, skipped = 0;
    signal(SIGPIPE, SIG_IGN);
    /* Tests walk their own handles and expect the standard three to exist; a runner
     * may start us with any of them closed.  Fill the gaps with /dev/null. */
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
            int nfd = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
            if (nfd >= 0 && nfd != fd) {
                dup2(nfd, fd);
                close(nfd);
            }
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (size_t i = 0; i < sizeof g_tests / sizeof g_tests[0]; i++) {
        const struct test_entry *t = &g_tests[i];
        if (filter != NULL && strstr(t->name, filter) == NULL)
            continue;
        if (vg && t->heavy) {
            printf("SKIP %s (heavy; covered by the ASan run)\n", t->name);
            skipped++;
            continue;
        }
        printf("RUN  %s\n", t->name);
        int fds_before = test_count_open_fds();
        g_skipped = false;
        int rc = t->fn();
        int fds_after = test_count_open_fds();
        if (rc == 0 && fds_after != fds_before) {
            fprintf(stderr, "    FAIL: %d fds open before, %d after (leak)\n", fds_before,
                    fds_after);
            rc = 1;
        }
        /* __WALL: libpss's helper tasks (exit signal 0) count as children too. */
        int status;
        pid_t left = waitpid(-1, &status, WNOHANG | __WALL);
        if (left != -1 || errno != ECHILD) {
            fprintf(stderr, "    FAIL: the test left a child process (%d)\n", (int)left);
            while (waitpid(-1, &status, WNOHANG | __WALL) > 0)
                ;
            rc = 1;
        }
        if (rc != 0) {
            printf("FAIL %s\n", t->name);
            failed++;
        } else if (g_skipped) {
            printf("SKIP %s\n", t->name);
            skipped++;
        } else {
            printf("OK   %s\n", t->name);
            passed++;
        }
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}

/* ---- /proc/PID/stat ---- */

const char *test_stat_after_comm(pid_t pid, pid_t tid, char *buf, size_t size)
{
    char path[64];
    if (tid == 0)
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    else
        snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
    FILE *f = fopen(path, "re");
    if (f == NULL || size < 2) {
        if (f != NULL)
            fclose(f);
        return NULL;
    }
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    return p != NULL && p[1] == ' ' ? p + 2 : NULL;
}

char test_task_state(pid_t pid, pid_t tid)
{
    char buf[512];
    const char *s = test_stat_after_comm(pid, tid, buf, sizeof buf);
    return s != NULL ? s[0] : 0;
}

/* ---- fixture ---- */

const char *fixture_path(void)
{
    const char *p = getenv("PSS_FIXTURE");
    return p != NULL ? p : "build/pss-fixture";
}

int fixture_start(struct fixture *f, const char *const *args)
{
    memset(f, 0, sizeof *f);
    f->pid = -1;
    f->stdin_fd = -1;
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0)
        return -1;
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return -1;
    }
    const char *argv[64];
    size_t n = 0;
    argv[n++] = fixture_path();
    for (size_t i = 0; args != NULL && args[i] != NULL && n < 62; i++)
        argv[n++] = args[i];
    argv[n] = NULL;

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    int err = posix_spawn(&f->pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    if (err != 0) {
        fprintf(stderr, "    cannot start %s: %s\n", argv[0], strerror(err));
        close(in[1]);
        close(out[0]);
        f->pid = -1;
        return -1;
    }
    f->stdin_fd = in[1];

    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    bool ready = false;
    while (buf != NULL && !ready) {
        if (len + 4096 > cap) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (nb == NULL)
                break;
            buf = nb;
        }
        ssize_t r = read(out[0], buf + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = '\0';
        ready = len >= 6 && strcmp(buf + len - 6, "READY\n") == 0;
    }
    close(out[0]);
    if (!ready) {
        fprintf(stderr, "    fixture did not report READY\n");
        free(buf);
        fixture_kill(f);
        return -1;
    }
    char *nl = strchr(buf, '\n');
    *nl = '\0';
    f->line = buf;
    f->json = json_parse(buf);
    if (f->json == NULL) {
        fprintf(stderr, "    fixture JSON did not parse\n");
        fixture_kill(f);
        return -1;
    }
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* A fixture that was killed cannot remove its temporary directory itself. */
static void remove_fixture_tmpdir(const struct fixture *f)
{
    const char *dir = f->json ? json_str(f->json, "tmpdir") : NULL;
    if (dir == NULL || strstr(dir, "/pss-fixture-") == NULL || access(dir, F_OK) != 0)
        return;
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void fixture_release(struct fixture *f)
{
    if (f->pid <= 0)
        remove_fixture_tmpdir(f); /* the process is gone (reaped) */
    if (f->stdin_fd >= 0)
        close(f->stdin_fd);
    f->stdin_fd = -1;
    json_free(f->json);
    f->json = NULL;
    free(f->line);
    f->line = NULL;
}

int fixture_stop(struct fixture *f)
{
    if (f->stdin_fd >= 0)
        close(f->stdin_fd); /* EOF: the fixture cleans up and exits */
    f->stdin_fd = -1;
    if (f->pid <= 0) {
        fixture_release(f);
        return -1;
    }
    int status = 0;
    while (waitpid(f->pid, &status, 0) < 0 && errno == EINTR)
        ;
    f->pid = -1;
    fixture_release(f);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void fixture_kill(struct fixture *f)
{
    if (f->pid > 0) {
        kill(f->pid, SIGKILL);
        while (waitpid(f->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    f->pid = -1;
    fixture_release(f);
}

/* ---- test allocator ---- */

#define BLOCK_MAGIC UINT64_C(0x74657374424C4B21)
#define BLOCK_DEAD UINT64_C(0x64656164424C4B21)

struct block_header {
    uint64_t magic;
    uint64_t size;
};

static void *test_alloc_routine(void *ctx, DWORD size)
{
    struct test_alloc *a = ctx;
    long index = a->allocs++;
    if (a->check_thread && !pthread_equal(pthread_self(), a->expected_thread))
        a->wrong_thread_calls++;
    if (a->fail_at >= 0 && index >= a->fail_at && index < a->fail_at + a->fail_count)
        return NULL;
    struct block_header *h = malloc(sizeof *h + size);
    if (h == NULL)
        return NULL;
    h->magic = BLOCK_MAGIC;
    h->size = size;
    a->outstanding++;
    a->bytes_outstanding += size;
    memset(h + 1, 0xA5, size); /* catch reads of uninitialised bytes in tests */
    return h + 1;
}

static void test_free_routine(void *ctx, void *p)
{
    struct test_alloc *a = ctx;
    if (a->check_thread && !pthread_equal(pthread_self(), a->expected_thread))
        a->wrong_thread_calls++;
    if (p == NULL) {
        a->null_frees++;
        return;
    }
    struct block_header *h = (struct block_header *)p - 1;
    if (h->magic != BLOCK_MAGIC) {
        a->foreign_frees++;
        return;
    }
    h->magic = BLOCK_DEAD;
    a->frees++;
    a->outstanding--;
    a->bytes_outstanding -= (long long)h->size;
    free(h);
}

void test_alloc_init(struct test_alloc *a)
{
    memset(a, 0, sizeof *a);
    a->allocator.Context = a;
    a->allocator.AllocRoutine = test_alloc_routine;
    a->allocator.FreeRoutine = test_free_routine;
    a->fail_at = -1;
    a->fail_count = 1;
}

void test_alloc_destroy(struct test_alloc *a)
{
    (void)a;
}

bool test_alloc_owns(const struct test_alloc *a, const void *p)
{
    (void)a;
    if (p == NULL)
        return false;
    const struct block_header *h = (const struct block_header *)p - 1;
    return h->magic == BLOCK_MAGIC;
}

/* ---- utilities ---- */

void test_utf16_to_ascii(const WCHAR *s, WORD bytes, char *out, size_t cap)
{
    size_t n = bytes / 2u, o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++)
        out[o++] = s[i] < 0x80 ? (char)s[i] : '?';
    out[o] = '\0';
}

DWORD test_capture_pid(pid_t pid, DWORD flags, DWORD ctx_flags, HPSS *out)
{
    HANDLE h = NULL;
    DWORD rc = PssLinuxOpenProcess((DWORD)pid, &h);
    if (rc != ERROR_SUCCESS)
        return rc;
    rc = PssCaptureSnapshot(h, flags, ctx_flags, out);
    DWORD rc2 = PssLinuxCloseProcess(h);
    if (rc == ERROR_SUCCESS && rc2 != ERROR_SUCCESS) {
        PssFreeSnapshot(PSS_CURRENT_PROCESS, *out);
        return rc2;
    }
    return rc;
}

void test_expected_priority(DWORD *priority_class, LONG *base_priority)
{
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, 0);
    if (nice == -1 && errno != 0)
        nice = 0;
    if (nice <= -10) {
        *priority_class = HIGH_PRIORITY_CLASS;
        *base_priority = 13;
    } else if (nice <= -5) {
        *priority_class = ABOVE_NORMAL_PRIORITY_CLASS;
        *base_priority = 10;
    } else if (nice <= 4) {
        *priority_class = NORMAL_PRIORITY_CLASS;
        *base_priority = 8;
    } else if (nice <= 9) {
        *priority_class = BELOW_NORMAL_PRIORITY_CLASS;
        *base_priority = 6;
    } else {
        *priority_class = IDLE_PRIORITY_CLASS;
        *base_priority = 4;
    }
}
