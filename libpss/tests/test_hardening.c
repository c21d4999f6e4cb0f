/*
 * test_hardening.c -- issue 8 (core slice): garbage handles never crash, a process whose
 * main thread has exited is captured alive, marker memory stays bounded over re-walks,
 * a set position survives a switch of snapshot, and CreateTime is stable across
 * captures and across processes (library loads).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

extern char **environ;

/* ---- garbage handles ---- */

/* The magics libpss used to recognise its objects by; a block of them is what a forged
 * (or reused, or coincidental) handle looks like to a check that reads memory. */
static const uint64_t forged_magic[3] = {UINT64_C(0x5053534450535344),
                                         UINT64_C(0x5053534D5053534D),
                                         UINT64_C(0x5053535050535350)};

struct probe_log {
    int fd;       /* the child's end of the pipe */
    int failures; /* probes that returned something else */
};

static void plog(struct probe_log *pl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void plog(struct probe_log *pl, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
    while (len > 0) {
        ssize_t w = write(pl->fd, buf, len);
        if (w <= 0)
            return;
        len -= (size_t)w;
    }
}

/* Logs "start <label>" before the call (so the parent can name the probe that crashed)
 * and the result after it. */
#define PROBE(pl, label, call, expect)                                                    \
    do {                                                                                  \
        plog((pl), "start %s\n", (label));                                                \
        DWORD rc_ = (call);                                                               \
        if (rc_ != (DWORD)(expect)) {                                                     \
            plog((pl), "FAIL %s: %s returned %u, expected %u\n", (label), #call, rc_,     \
                 (unsigned)(expect));                                                     \
            (pl)->failures++;                                                             \
        }                                                                                 \
        plog((pl), "done\n");                                                             \
    } while (0)

/* Every entry point that takes a handle, given the bad value v in that handle's place. */
static void probe_everything(struct probe_log *pl, const char *what, void *v, HPSS good_s,
                             HPSSWALK good_m)
{
    unsigned char buf[1024];
    HPSS out = NULL;
    ULONG_PTR pos = 0;
    char label[160];
#define L(fn) (snprintf(label, sizeof label, "%s(%s)", fn, what), label)
    PROBE(pl, L("PssCaptureSnapshot"), PssCaptureSnapshot((HANDLE)v, PSS_CAPTURE_NONE, 0, &out),
          ERROR_INVALID_HANDLE);
    PROBE(pl, L("PssFreeSnapshot/process"), PssFreeSnapshot((HANDLE)v, good_s),
          ERROR_INVALID_HANDLE);
    PROBE(pl, L("PssFreeSnapshot/snapshot"), PssFreeSnapshot(PSS_CURRENT_PROCESS, (HPSS)v),
          ERROR_INVALID_HANDLE);
    PROBE(pl, L("PssQuerySnapshot"),
          PssQuerySnapshot((HPSS)v, PSS_QUERY_PROCESS_INFORMATION, buf,
                           sizeof(PSS_PROCESS_INFORMATION)),
          ERROR_INVALID_HANDLE);
    PROBE(pl, L("PssWalkSnapshot/snapshot"),
          PssWalkSnapshot((HPSS)v, PSS_WALK_THREADS, good_m, buf, sizeof(PSS_THREAD_ENTRY)),
          ERROR_INVALID_HANDLE);
    PROBE(pl, L("PssWalkSnapshot/marker"),
          PssWalkSnapshot(good_s, PSS_WALK_THREADS, (HPSSWALK)v, buf, sizeof(PSS_THREAD_ENTRY)),
          ERROR_INVALID_HANDLE);
    PROBE(pl, L("PssDuplicateSnapshot/source"),
          PssDuplicateSnapshot((HANDLE)v, good_s, PSS_CURRENT_PROCESS, &out, 0),
          ERROR_INVALID_HANDLE);
    PROBE(pl, L("PssDuplicateSnapshot/snapshot"),
          PssDuplicateSnapshot(PSS_CURRENT_PROCESS, (HPSS)v, PSS_CURRENT_PROCESS, &out, 0),
          ERROR_INVALID_HANDLE);
    PROBE(pl, L("PssDuplicateSnapshot/target"),
          PssDuplicateSnapshot(PSS_CURRENT_PROCESS, good_s, (HANDLE)v, &out, 0),
          ERROR_INVALID_HANDLE);
    PROBE(pl, L("PssWalkMarkerGetPosition"), PssWalkMarkerGetPosition((HPSSWALK)v, &pos),
          ERROR_INVALID_HANDLE);
    PROBE(pl, L("PssWalkMarkerSetPosition"),
          PssWalkMarkerSetPosition((HPSSWALK)v, UINT64_C(0x5053000000000000)),
          ERROR_INVALID_HANDLE);
    PROBE(pl, L("PssWalkMarkerSeekToBeginning"), PssWalkMarkerSeekToBeginning((HPSSWALK)v),
          ERROR_INVALID_HANDLE);
    PROBE(pl, L("PssWalkMarkerFree"), PssWalkMarkerFree((HPSSWALK)v), ERROR_INVALID_HANDLE);
    PROBE(pl, L("PssLinuxCloseProcess"), PssLinuxCloseProcess((HANDLE)v), ERROR_INVALID_HANDLE);
#undef L
}

/* The child: builds the bad values, probes every function with each, checks that the
 * good handles still work, frees them.  Exit code = number of failed probes (capped). */
static int garbage_child(int fd)
{
    struct probe_log pl = {fd, 0};
    HPSS s;
    HPSSWALK m;
    HANDLE h;
    if (PssCaptureSnapshot(PSS_CURRENT_PROCESS, PSS_CAPTURE_THREADS, 0, &s) != ERROR_SUCCESS ||
        PssWalkMarkerCreate(NULL, &m) != ERROR_SUCCESS ||
        PssLinuxOpenProcess((DWORD)getpid(), &h) != ERROR_SUCCESS) {
        plog(&pl, "FAIL setup\n");
        return 100;
    }
    const long page = sysconf(_SC_PAGESIZE);
    /* A page that was mapped and is not any more. */
    char *unmapped = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                          -1, 0);
    /* A page that is mapped but cannot be read. */
    char *noaccess = mmap(NULL, (size_t)page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    /* Memory that is ours to read but not a libpss object: full of the old magics. */
    uint64_t *forged = malloc((size_t)page * 4);
    if (unmapped == MAP_FAILED || noaccess == MAP_FAILED || forged == NULL) {
        plog(&pl, "FAIL setup (mmap)\n");
        return 100;
    }
    munmap(unmapped, (size_t)page);
    uint64_t stack_forged[64];
    struct {
        const char *name;
        void *v;
    } bad[32];
    size_t nbad = 0;
#define BAD(label, value)                                                                 \
    do {                                                                                  \
        bad[nbad].name = (label);                                                         \
        bad[nbad].v = (void *)(value);                                                    \
        nbad++;                                                                           \
    } while (0)
    BAD("0x10", (uintptr_t)0x10);
    BAD("0x1", (uintptr_t)0x1);
    BAD("our pid", (uintptr_t)getpid());
    BAD("our pid rounded to 8", (uintptr_t)getpid() & ~(uintptr_t)7);
    BAD("pid 1", (uintptr_t)1);
    BAD("4096", (uintptr_t)4096);
    BAD("0xdead0000", (uintptr_t)0xdead0000u);
    BAD("0x7ffffffff000", UINT64_C(0x7ffffffff000));
    BAD("vsyscall page", UINT64_C(0xffffffffff600000));
    BAD("kernel address", UINT64_C(0xffff888000000000));
    BAD("(HANDLE)-2", UINTPTR_MAX - 1);
    BAD("unmapped page", (uintptr_t)unmapped);
    BAD("PROT_NONE page", (uintptr_t)noaccess);
    BAD("end of PROT_NONE page - 8", (uintptr_t)noaccess + (uintptr_t)page - 8);
    BAD("inside a snapshot (+8)", (uintptr_t)s + 8);
    BAD("inside a snapshot (+1)", (uintptr_t)s + 1);
    BAD("inside a marker (+16)", (uintptr_t)m + 16);
    BAD("forged heap block", (uintptr_t)forged);
    BAD("forged stack block", (uintptr_t)stack_forged);
    BAD("a function", (uintptr_t)&garbage_child);
#undef BAD
    /* Three forged blocks, one per old magic, each repeated over the whole block: a
     * check that reads the first word believes them. */
    for (size_t i = 0; i < (size_t)page * 4 / 8; i++)
        forged[i] = forged_magic[0];
    for (size_t i = 0; i < 64; i++)
        stack_forged[i] = forged_magic[(i / 8) % 3];
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < (size_t)page * 4 / 8; i++)
            forged[i] = forged_magic[k];
        for (size_t i = 0; i < nbad; i++)
            probe_everything(&pl, bad[i].name, bad[i].v, s, m);
    }

    /* Random values: mostly unmapped addresses, some in our heap or stacks. */
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    plog(&pl, "random seed %u\n", seed);
    for (int i = 0; i < 300; i++) {
        uintptr_t v = ((uintptr_t)(unsigned)rand_r(&seed) << 33) ^
                      ((uintptr_t)(unsigned)rand_r(&seed) << 2) ^ (uintptr_t)(unsigned)rand_r(&seed);
        if (i % 3 == 1) /* near our own heap */
            v = (uintptr_t)forged + ((uintptr_t)(unsigned)rand_r(&seed) % (1u << 24)) * 8u;
        else if (i % 3 == 2)
            v &= UINT64_C(0x00007ffffffffff8); /* aligned, user half */
        if (v == (uintptr_t)s || v == (uintptr_t)m || v == (uintptr_t)h)
            continue; /* the live handles themselves (a chance of 1 in millions) */
        char label[48];
        snprintf(label, sizeof label, "random 0x%llx", (unsigned long long)v);
        probe_everything(&pl, label, (void *)v, s, m);
    }

    /* Handles of the wrong kind. */
    PROBE(&pl, "PssQuerySnapshot(marker)",
          PssQuerySnapshot((HPSS)m, PSS_QUERY_PROCESS_INFORMATION, forged,
                           sizeof(PSS_PROCESS_INFORMATION)),
          ERROR_INVALID_HANDLE);
    PROBE(&pl, "PssFreeSnapshot(marker as process)", PssFreeSnapshot((HANDLE)m, s),
          ERROR_INVALID_HANDLE);
    PROBE(&pl, "PssWalkSnapshot(marker, snapshot)",
          PssWalkSnapshot((HPSS)m, PSS_WALK_THREADS, (HPSSWALK)s, forged, sizeof(PSS_THREAD_ENTRY)),
          ERROR_INVALID_HANDLE);
    PROBE(&pl, "PssLinuxCloseProcess(marker)", PssLinuxCloseProcess((HANDLE)m),
          ERROR_INVALID_HANDLE);
    PROBE(&pl, "PssWalkMarkerSeekToBeginning(process)", PssWalkMarkerSeekToBeginning((HPSSWALK)h),
          ERROR_INVALID_HANDLE);
    PROBE(&pl, "PssQuerySnapshot(process handle)",
          PssQuerySnapshot((HPSS)h, PSS_QUERY_PROCESS_INFORMATION, forged,
                           sizeof(PSS_PROCESS_INFORMATION)),
          ERROR_INVALID_HANDLE);
    PROBE(&pl, "PssWalkMarkerFree(snapshot)", PssWalkMarkerFree((HPSSWALK)s), ERROR_INVALID_HANDLE);
    PROBE(&pl, "PssLinuxCloseProcess(snapshot)", PssLinuxCloseProcess((HANDLE)s),
          ERROR_INVALID_HANDLE);
    PROBE(&pl, "PssCaptureSnapshot(snapshot)",
          PssCaptureSnapshot((HANDLE)s, PSS_CAPTURE_NONE, 0, (HPSS *)&forged[0]),
          ERROR_INVALID_HANDLE);

    /* The good handles are untouched. */
    PSS_THREAD_ENTRY t;
    PROBE(&pl, "good walk", PssWalkSnapshot(s, PSS_WALK_THREADS, m, &t, sizeof t), ERROR_SUCCESS);
    HPSS s2 = NULL;
    PROBE(&pl, "good capture", PssCaptureSnapshot(h, PSS_CAPTURE_NONE, 0, &s2), ERROR_SUCCESS);

    /* Freed handles: every function says so (and reads nothing that was freed).  The
     * second marker is made first, so it cannot take the freed one's address. */
    HPSSWALK m2;
    PROBE(&pl, "new marker", PssWalkMarkerCreate(NULL, &m2), ERROR_SUCCESS);
    PROBE(&pl, "free snapshot", PssFreeSnapshot(PSS_CURRENT_PROCESS, s2), ERROR_SUCCESS);
    PROBE(&pl, "free marker", PssWalkMarkerFree(m), ERROR_SUCCESS);
    PROBE(&pl, "close process", PssLinuxCloseProcess(h), ERROR_SUCCESS);
    probe_everything(&pl, "freed snapshot", (void *)s2, s, m2);
    probe_everything(&pl, "freed marker", (void *)m, s, m2);
    probe_everything(&pl, "closed process", (void *)h, s, m2);
    PROBE(&pl, "free the last snapshot", PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
    PROBE(&pl, "free it again", PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_INVALID_HANDLE);
    PROBE(&pl, "free the last marker", PssWalkMarkerFree(m2), ERROR_SUCCESS);
    PROBE(&pl, "free it again", PssWalkMarkerFree(m2), ERROR_INVALID_HANDLE);
    munmap(noaccess, (size_t)page);
    free(forged);
    plog(&pl, "END %d\n", pl.failures);
    return pl.failures > 99 ? 99 : pl.failures;
}

/* Runs garbage_child in a child process, so that a crash is reported as the probe that
 * caused it instead of ending the suite. */
int test_garbage_handles_never_crash(void)
{
    int p[2];
    CHECK(pipe2(p, O_CLOEXEC) == 0);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        close(p[0]);
        _exit(garbage_child(p[1]));
    }
    close(p[1]);
    size_t cap = 1 << 20, len = 0;
    char *log = malloc(cap);
    CHECK(log != NULL);
    ssize_t r;
    while (len + 1 < cap && ((r = read(p[0], log + len, cap - 1 - len)) > 0 || (r < 0 && errno == EINTR)))
        if (r > 0)
            len += (size_t)r;
    log[len] = '\0';
    close(p[0]);
    int st = 0;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR)
        ;
    int bad = 0;
    const char *last_start = NULL;
    long probes = 0;
    for (char *line = strtok(log, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        if (strncmp(line, "start ", 6) == 0) {
            last_start = line + 6;
            probes++;
        } else if (strcmp(line, "done") == 0) {
            last_start = NULL;
        } else if (strncmp(line, "random seed", 11) == 0) {
            printf("    %s\n", line);
        } else if (strncmp(line, "FAIL", 4) == 0) {
            test_fail(__FILE__, __LINE__, "%s", line);
            bad = 1;
        }
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        if (WIFSIGNALED(st))
            test_fail(__FILE__, __LINE__, "the probe child died of signal %d in %s",
                      WTERMSIG(st), last_start ? last_start : "(no probe)");
        else
            test_fail(__FILE__, __LINE__, "the probe child exited %d%s%s", WEXITSTATUS(st),
                      last_start ? " in " : "", last_start ? last_start : "");
        bad = 1;
    }
    free(log);
    if (!bad)
        printf("    %ld probes answered as expected\n", probes);
    return bad;
}

/* Many live handles at once (the registry grows, shrinks and deletes from the middle):
 * each stays valid until it is freed, and is rejected after. */
int test_many_live_handles(void)
{
    enum { N = 1500 };
    HPSSWALK *m = calloc(N, sizeof *m);
    CHECK(m != NULL);
    for (int i = 0; i < N; i++)
        CHECK_EQ(PssWalkMarkerCreate(NULL, &m[i]), ERROR_SUCCESS);
    HPSS s[8];
    for (int i = 0; i < 8; i++)
        CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, PSS_CAPTURE_NONE, 0, &s[i]), ERROR_SUCCESS);
    /* Free in a scattered order; after every free, check a sample of the others. */
    unsigned seed = 12345;
    int freed = 0;
    bool *gone = calloc(N, sizeof *gone);
    CHECK(gone != NULL);
    while (freed < N) {
        int i = (int)(rand_r(&seed) % N);
        while (gone[i])
            i = (i + 1) % N;
        CHECK_EQ(PssWalkMarkerFree(m[i]), ERROR_SUCCESS);
        gone[i] = true;
        freed++;
        for (int k = 0; k < 40; k++) {
            int j = (int)(rand_r(&seed) % N);
            ULONG_PTR pos;
            DWORD rc = PssWalkMarkerGetPosition(m[j], &pos);
            /* A freed marker's address may have been reused by nothing else here (no
             * allocation happens in this loop), so it must be rejected exactly. */
            CHECK_MSG(rc == (gone[j] ? ERROR_INVALID_HANDLE : ERROR_SUCCESS),
                      "marker %d (freed %d): %u", j, gone[j], rc);
        }
        if (freed % 300 == 0)
            for (int k = 0; k < 8; k++) {
                PSS_PROCESS_INFORMATION pi;
                CHECK_EQ(PssQuerySnapshot(s[k], PSS_QUERY_PROCESS_INFORMATION, &pi, sizeof pi),
                         ERROR_SUCCESS);
            }
    }
    for (int i = 0; i < 8; i++)
        CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s[i]), ERROR_SUCCESS);
    for (int i = 0; i < 8; i++) {
        PSS_PROCESS_INFORMATION pi;
        CHECK_EQ(PssQuerySnapshot(s[i], PSS_QUERY_PROCESS_INFORMATION, &pi, sizeof pi),
                 ERROR_INVALID_HANDLE);
    }
    free(gone);
    free(m);
    return 0;
}

/* The walk remembers the last (snapshot, marker) pair it found live: freeing either one,
 * here or on another thread, must still be seen by the very next walk of that pair. */
struct free_on_thread {
    HPSS s;
    HPSSWALK m;
    DWORD rc;
};

static void *free_snapshot_main(void *p)
{
    struct free_on_thread *f = p;
    f->rc = PssFreeSnapshot(PSS_CURRENT_PROCESS, f->s);
    return NULL;
}

static void *free_marker_main(void *p)
{
    struct free_on_thread *f = p;
    f->rc = PssWalkMarkerFree(f->m);
    return NULL;
}

int test_walk_sees_free_of_cached_pair(void)
{
    for (int which = 0; which < 4; which++) { /* snapshot or marker; here or another thread */
        HPSS s;
        HPSSWALK m;
        PSS_THREAD_ENTRY t;
        CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, PSS_CAPTURE_THREADS, 0, &s),
                 ERROR_SUCCESS);
        CHECK_EQ(PssWalkMarkerCreate(NULL, &m), ERROR_SUCCESS);
        CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_THREADS, m, &t, sizeof t), ERROR_SUCCESS);
        CHECK_EQ(PssWalkMarkerSeekToBeginning(m), ERROR_SUCCESS);
        CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_THREADS, m, &t, sizeof t), ERROR_SUCCESS);
        struct free_on_thread f = {s, m, ERROR_GEN_FAILURE};
        const bool snapshot = which % 2 == 0;
        if (which < 2) {
            f.rc = snapshot ? PssFreeSnapshot(PSS_CURRENT_PROCESS, s) : PssWalkMarkerFree(m);
        } else {
            pthread_t th;
            CHECK(pthread_create(&th, NULL, snapshot ? free_snapshot_main : free_marker_main,
                                 &f) == 0);
            CHECK(pthread_join(th, NULL) == 0);
        }
        CHECK_EQ(f.rc, ERROR_SUCCESS);
        CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_THREADS, m, &t, sizeof t), ERROR_INVALID_HANDLE);
        CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_THREADS, m, NULL, 0), ERROR_INVALID_HANDLE);
        if (snapshot)
            CHECK_EQ(PssWalkMarkerFree(m), ERROR_SUCCESS);
        else
            CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
    }
    /* A pair checked on one thread is not taken as checked on another. */
    HPSS s;
    HPSSWALK m;
    PSS_THREAD_ENTRY t;
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, PSS_CAPTURE_THREADS, 0, &s), ERROR_SUCCESS);
    CHECK_EQ(PssWalkMarkerCreate(NULL, &m), ERROR_SUCCESS);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_THREADS, m, &t, sizeof t), ERROR_SUCCESS);
    CHECK_EQ(PssWalkSnapshot((HPSS)m, PSS_WALK_THREADS, (HPSSWALK)s, &t, sizeof t),
             ERROR_INVALID_HANDLE); /* the same two pointers, kinds swapped */
    CHECK_EQ(PssWalkMarkerFree(m), ERROR_SUCCESS);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
    return 0;
}

/* Threads creating, using and freeing handles while others validate garbage. */
struct reg_worker {
    int iterations;
    int result;
};

static void *reg_worker_main(void *p)
{
    struct reg_worker *w = p;
    w->result = 0;
    for (int i = 0; i < w->iterations && w->result == 0; i++) {
        HPSS s;
        HPSSWALK m;
        PSS_THREAD_ENTRY t;
        PSS_PROCESS_INFORMATION pi;
        if (PssCaptureSnapshot(PSS_CURRENT_PROCESS, PSS_CAPTURE_THREADS, 0, &s) != ERROR_SUCCESS ||
            PssWalkMarkerCreate(NULL, &m) != ERROR_SUCCESS) {
            w->result = 1;
            break;
        }
        if (PssWalkSnapshot(s, PSS_WALK_THREADS, m, &t, sizeof t) != ERROR_SUCCESS ||
            PssQuerySnapshot((HPSS)m, PSS_QUERY_PROCESS_INFORMATION, &pi, sizeof pi) !=
                ERROR_INVALID_HANDLE ||
            PssQuerySnapshot((HPSS)(uintptr_t)0xdead0000u, PSS_QUERY_PROCESS_INFORMATION, &pi,
                             sizeof pi) != ERROR_INVALID_HANDLE ||
            PssWalkMarkerFree((HPSSWALK)s) != ERROR_INVALID_HANDLE)
            w->result = 2;
        if (PssWalkMarkerFree(m) != ERROR_SUCCESS || PssFreeSnapshot(PSS_CURRENT_PROCESS, s) != 0)
            w->result = 3;
    }
    return NULL;
}

int test_handle_checks_from_many_threads(void)
{
    struct reg_worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i].iterations = test_under_valgrind() ? 30 : 150;
        CHECK(pthread_create(&th[i], NULL, reg_worker_main, &w[i]) == 0);
    }
    int bad = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        if (w[i].result != 0) {
            test_fail(__FILE__, __LINE__, "worker %d: step %d failed", i, w[i].result);
            bad = 1;
        }
    }
    return bad;
}

/* ---- a process whose main thread has exited ---- */

static long count_numbers(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    long n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] >= '0' && de->d_name[0] <= '9';
    closedir(d);
    return n;
}

static long count_lines(const char *path)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -1;
    long n = 0;
    int c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static int walk_class(HPSS s, HPSSWALK w, int cls, void *out, size_t elem, DWORD count)
{
    static const DWORD sizes[4] = {sizeof(PSS_AUXILIARY_PAGE_ENTRY), sizeof(PSS_VA_SPACE_ENTRY),
                                   sizeof(PSS_HANDLE_ENTRY), sizeof(PSS_THREAD_ENTRY)};
    DWORD rc;
    DWORD n = 0;
    while ((rc = PssWalkSnapshot(s, cls, w, (char *)out + (size_t)n * elem, sizes[cls])) ==
           ERROR_SUCCESS)
        CHECK(++n <= count);
    CHECK_EQ(rc, ERROR_NO_MORE_ITEMS);
    CHECK_EQ(n, count);
    return 0;
}

static size_t wlen16(const WCHAR *s, size_t cap)
{
    size_t n = 0;
    while (n < cap && s[n] != 0)
        n++;
    return n;
}

static int check_leader_exit_snapshot(const struct fixture *f, HPSS s)
{
    const struct json *j = f->json;
    const struct json *tids = json_get(j, "tids");
    const struct json *fds = json_get(j, "fds");
    const struct json *maps = json_get(j, "maps");
    CHECK(tids != NULL && fds != NULL && maps != NULL);
    const pid_t keeper = (pid_t)json_at(tids, tids->count - 1)->inum;
    char path[96];

    PSS_PROCESS_INFORMATION pi;
    CHECK_EQ(PssQuerySnapshot(s, PSS_QUERY_PROCESS_INFORMATION, &pi, sizeof pi), ERROR_SUCCESS);
    CHECK_MSG(pi.ExitStatus == STILL_ACTIVE, "ExitStatus %u: reported dead", pi.ExitStatus);
    CHECK_EQ(pi.ProcessId, f->pid);
    CHECK_EQ(pi.ParentProcessId, getpid());
    CHECK(pi.VirtualSize > 0 && pi.WorkingSetSize > 0 && pi.PrivateUsage > 0);
    CHECK(pi.PebBaseAddress != NULL); /* start_stack from a live thread */
    CHECK(pi.AffinityMask != 0);
    CHECK_EQ(pi.Flags & PSS_PROCESS_FLAGS_PROTECTED, 0);
    char image[600];
    test_utf16_to_ascii(pi.ImageFileName, (WORD)(wlen16(pi.ImageFileName, MAX_PATH) * 2), image,
                        sizeof image);
    CHECK_MSG(strstr(image, "pss-fixture") != NULL && image[0] == '/', "ImageFileName %s", image);

    PSS_THREAD_INFORMATION ti;
    PSS_HANDLE_INFORMATION hi;
    PSS_VA_SPACE_INFORMATION vi;
    CHECK_EQ(PssQuerySnapshot(s, PSS_QUERY_THREAD_INFORMATION, &ti, sizeof ti), ERROR_SUCCESS);
    CHECK_EQ(PssQuerySnapshot(s, PSS_QUERY_HANDLE_INFORMATION, &hi, sizeof hi), ERROR_SUCCESS);
    CHECK_EQ(PssQuerySnapshot(s, PSS_QUERY_VA_SPACE_INFORMATION, &vi, sizeof vi), ERROR_SUCCESS);

    /* Handles: exactly the fixture's fds (the leader's fd/ reads empty). */
    snprintf(path, sizeof path, "/proc/%d/task/%d/fd", (int)f->pid, (int)keeper);
    CHECK_MSG(hi.HandlesCaptured == fds->count, "%u handles, the fixture has %zu fds",
              hi.HandlesCaptured, fds->count);
    CHECK_EQ(hi.HandlesCaptured, count_numbers(path));
    /* VA space: one entry per line of a live thread's maps (plus the free gaps). */
    snprintf(path, sizeof path, "/proc/%d/task/%d/maps", (int)f->pid, (int)keeper);
    long vmas = count_lines(path);
    CHECK(vmas > 10);

    HPSSWALK w;
    CHECK_EQ(PssWalkMarkerCreate(NULL, &w), ERROR_SUCCESS);
    PSS_THREAD_ENTRY *te = calloc(ti.ThreadsCaptured + 1, sizeof *te);
    PSS_HANDLE_ENTRY *he = calloc(hi.HandlesCaptured + 1, sizeof *he);
    PSS_VA_SPACE_ENTRY *ve = calloc(vi.RegionCount + 1, sizeof *ve);
    CHECK(te != NULL && he != NULL && ve != NULL);
    int bad = walk_class(s, w, PSS_WALK_THREADS, te, sizeof *te, ti.ThreadsCaptured) ||
              walk_class(s, w, PSS_WALK_HANDLES, he, sizeof *he, hi.HandlesCaptured) ||
              walk_class(s, w, PSS_WALK_VA_SPACE, ve, sizeof *ve, vi.RegionCount);

    /* Threads: every tid; the leader is a terminated thread (exit code 0, pthread_exit),
     * the others are live. */
    if (!bad && ti.ThreadsCaptured != tids->count) {
        test_fail(__FILE__, __LINE__, "%u threads, fixture has %zu", ti.ThreadsCaptured,
                  tids->count);
        bad = 1;
    }
    for (const struct json *t = tids->child; !bad && t != NULL; t = t->next) {
        const PSS_THREAD_ENTRY *e = NULL;
        for (DWORD i = 0; i < ti.ThreadsCaptured; i++)
            if (te[i].ThreadId == (DWORD)t->inum)
                e = &te[i];
        if (e == NULL) {
            test_fail(__FILE__, __LINE__, "thread %lld not walked", t->inum);
            bad = 1;
            break;
        }
        const bool leader = t->inum == f->pid;
        DWORD want_flags = leader ? PSS_THREAD_FLAGS_TERMINATED : 0;
        DWORD want_exit = leader ? 0 : STILL_ACTIVE;
        if (e->Flags != want_flags || e->ExitStatus != want_exit || e->SuspendCount != 0 ||
            e->ProcessId != (DWORD)f->pid || e->CreateTime.dwHighDateTime == 0) {
            test_fail(__FILE__, __LINE__,
                      "thread %u: Flags %u ExitStatus %u SuspendCount %u ProcessId %u",
                      e->ThreadId, e->Flags, e->ExitStatus, e->SuspendCount, e->ProcessId);
            bad = 1;
        }
    }

    /* Handles: names, types and counts as the fixture says. */
    for (const struct json *fd = fds->child; !bad && fd != NULL; fd = fd->next) {
        long num = (long)json_int(fd, "fd", -1);
        const PSS_HANDLE_ENTRY *e = NULL;
        for (DWORD i = 0; i < hi.HandlesCaptured; i++)
            if ((long)(uintptr_t)he[i].Handle == num)
                e = &he[i];
        char name[4200];
        if (e == NULL || e->ObjectName == NULL) {
            test_fail(__FILE__, __LINE__, "fd %ld not walked or without a name", num);
            bad = 1;
            break;
        }
        test_utf16_to_ascii(e->ObjectName, e->ObjectNameLength, name, sizeof name);
        const char *want = json_str(fd, "name");
        if (want == NULL || strcmp(name, want) != 0) {
            test_fail(__FILE__, __LINE__, "fd %ld: name %s, expected %s", num, name,
                      want ? want : "(null)");
            bad = 1;
        }
        if (!json_is_null(fd, "handle_count") &&
            (e->HandleCount != (DWORD)json_int(fd, "handle_count", -1) ||
             e->GrantedAccess != (DWORD)json_int(fd, "granted_access", -1) ||
             e->ObjectType != json_int(fd, "object_type", -1))) {
            test_fail(__FILE__, __LINE__, "fd %ld: HandleCount %u GrantedAccess 0x%x type %d",
                      num, e->HandleCount, e->GrantedAccess, e->ObjectType);
            bad = 1;
        }
    }

    /* VA space: every VMA of the live thread's maps, the fixture's maps exactly. */
    long nonfree = 0;
    for (DWORD i = 0; i < vi.RegionCount; i++)
        nonfree += ve[i].State != MEM_FREE;
    if (!bad && nonfree != vmas) {
        test_fail(__FILE__, __LINE__, "%ld VMAs walked, %ld lines in %s", nonfree, vmas, path);
        bad = 1;
    }
    for (const struct json *mp = maps->child; !bad && mp != NULL; mp = mp->next) {
        uint64_t start = strtoull(json_str(mp, "start"), NULL, 16);
        const PSS_VA_SPACE_ENTRY *e = NULL;
        for (DWORD i = 0; i < vi.RegionCount; i++)
            if ((uint64_t)(uintptr_t)ve[i].BaseAddress == start)
                e = &ve[i];
        if (e == NULL || e->RegionSize != (SIZE_T)json_int(mp, "size", 0) ||
            e->Protect != (DWORD)json_int(mp, "protect", -1) ||
            e->Type != (DWORD)json_int(mp, "type", -1) ||
            e->State != (DWORD)json_int(mp, "state", -1)) {
            test_fail(__FILE__, __LINE__, "map 0x%llx: missing or different",
                      (unsigned long long)start);
            bad = 1;
        }
    }
    /* The executable is recognised as an image (through a live thread's files). */
    size_t images = 0;
    for (DWORD i = 0; !bad && i < vi.RegionCount; i++) {
        if (ve[i].Type != MEM_IMAGE || ve[i].MappedFileName == NULL)
            continue;
        char nm[4200];
        test_utf16_to_ascii(ve[i].MappedFileName, ve[i].MappedFileNameLength, nm, sizeof nm);
        images += strcmp(nm, image) == 0;
    }
    if (!bad && images < 3) {
        test_fail(__FILE__, __LINE__, "only %zu image VMAs of %s", images, image);
        bad = 1;
    }
    free(te);
    free(he);
    free(ve);
    CHECK_EQ(PssWalkMarkerFree(w), ERROR_SUCCESS);
    return bad;
}

int test_leader_exit_captured_alive(void)
{
    struct fixture f;
    const char *args[] = {"--leader-exit", "--threads", "3", "--pipes", "4", "--eventfds", "2",
                          "--files", "3", "--dups", "2", "--memfds", "2", "--maps", "12", NULL};
    TRY(fixture_start(&f, args));
    int bad = 0;
    /* The fixture says READY once its main thread is a zombie. */
    if (test_task_state(f.pid, f.pid) != 'Z') {
        test_fail(__FILE__, __LINE__, "the fixture's main thread is in state %c",
                  test_task_state(f.pid, f.pid));
        bad = 1;
    }
    /* Through a handle, and with every flag the app uses; twice, the second time with a
     * capture of threads only (whose FROZEN/ExitStatus logic differs). */
    HPSS s = NULL;
    DWORD rc = bad ? ERROR_SUCCESS : test_capture_pid(f.pid, TEST_ALL_FLAGS, 0, &s);
    if (!bad && rc != ERROR_SUCCESS) {
        test_fail(__FILE__, __LINE__, "capture: %u", rc);
        bad = 1;
    }
    if (!bad) {
        bad = check_leader_exit_snapshot(&f, s);
        PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
    }
    if (!bad) {
        rc = test_capture_pid(f.pid, PSS_CAPTURE_NONE, 0, &s);
        PSS_PROCESS_INFORMATION pi;
        if (rc != ERROR_SUCCESS ||
            PssQuerySnapshot(s, PSS_QUERY_PROCESS_INFORMATION, &pi, sizeof pi) != 0 ||
            pi.ExitStatus != STILL_ACTIVE || (pi.Flags & PSS_PROCESS_FLAGS_FROZEN)) {
            test_fail(__FILE__, __LINE__, "process-only capture: rc %u", rc);
            bad = 1;
        }
        if (rc == ERROR_SUCCESS)
            PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
    }
    /* Stopped (SIGSTOP): every live thread is, so the process is FROZEN; the exited
     * leader neither counts as running nor as stopped. */
    if (!bad && kill(f.pid, SIGSTOP) == 0) {
        const struct json *tids = json_get(f.json, "tids");
        for (int i = 0; i < 20000; i++) {
            bool all = true;
            for (const struct json *t = tids->child->next; t != NULL; t = t->next)
                all = all && test_task_state(f.pid, (pid_t)t->inum) == 'T';
            if (all)
                break;
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
        }
        rc = test_capture_pid(f.pid, PSS_CAPTURE_THREADS, 0, &s);
        PSS_PROCESS_INFORMATION pi;
        if (rc != ERROR_SUCCESS ||
            PssQuerySnapshot(s, PSS_QUERY_PROCESS_INFORMATION, &pi, sizeof pi) != 0 ||
            pi.ExitStatus != STILL_ACTIVE || !(pi.Flags & PSS_PROCESS_FLAGS_FROZEN)) {
            test_fail(__FILE__, __LINE__, "stopped: rc %u, not FROZEN or not alive", rc);
            bad = 1;
        }
        if (rc == ERROR_SUCCESS)
            PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
        kill(f.pid, SIGCONT);
    }
    /* The keeper thread cleans up and exits 0 when stdin closes. */
    int code = fixture_stop(&f);
    if (code != 0) {
        test_fail(__FILE__, __LINE__, "fixture exit code %d", code);
        bad = 1;
    }
    return bad;
}

/* A process whose main thread has exited captures itself: the same, plus none of the
 * descriptors the capture holds (the live thread's task directory) is listed. */
static void *self_capture_after_leader_exit(void *arg)
{
    (void)arg;
    const pid_t pid = getpid();
    for (int i = 0; i < 100000 && test_task_state(pid, pid) != 'Z'; i++) {
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
    if (test_task_state(pid, pid) != 'Z')
        _exit(10);
    long nfds = count_numbers("/proc/thread-self/fd") - 1; /* minus opendir's own fd */
    HPSS s;
    if (PssCaptureSnapshot(PSS_CURRENT_PROCESS, TEST_ALL_FLAGS, 0, &s) != ERROR_SUCCESS)
        _exit(11);
    PSS_PROCESS_INFORMATION pi;
    PSS_HANDLE_INFORMATION hi;
    PSS_VA_SPACE_INFORMATION vi;
    PSS_THREAD_INFORMATION ti;
    if (PssQuerySnapshot(s, PSS_QUERY_PROCESS_INFORMATION, &pi, sizeof pi) != 0 ||
        PssQuerySnapshot(s, PSS_QUERY_HANDLE_INFORMATION, &hi, sizeof hi) != 0 ||
        PssQuerySnapshot(s, PSS_QUERY_VA_SPACE_INFORMATION, &vi, sizeof vi) != 0 ||
        PssQuerySnapshot(s, PSS_QUERY_THREAD_INFORMATION, &ti, sizeof ti) != 0)
        _exit(12);
    if (pi.ExitStatus != STILL_ACTIVE)
        _exit(13);
    if ((long)hi.HandlesCaptured != nfds)
        _exit(14);
    if (vi.RegionCount < 10 || ti.ThreadsCaptured != 2)
        _exit(15);
    HPSSWALK w;
    PSS_HANDLE_ENTRY h;
    if (PssWalkMarkerCreate(NULL, &w) != 0)
        _exit(16);
    while (PssWalkSnapshot(s, PSS_WALK_HANDLES, w, &h, sizeof h) == ERROR_SUCCESS) {
        char name[4200];
        test_utf16_to_ascii(h.ObjectName, h.ObjectNameLength, name, sizeof name);
        if (strncmp(name, "/proc/", 6) == 0)
            _exit(17); /* one of the capture's own directory fds */
    }
    PssWalkMarkerFree(w);
    PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
    _exit(0);
}

int test_leader_exit_self_capture(void)
{
    if (test_under_valgrind()) {
        /* In a forked child whose main thread has exited, valgrind's exit-time leak check
         * reports glibc's cached thread-stack TLS (allocate_dtv) as possibly lost and
         * turns it into exit code 1.  The ASan run covers this test. */
        test_skip("valgrind: glibc's cached thread TLS is 'possibly lost' after the "
                  "main thread of a forked child exits");
        return 0;
    }
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        pthread_t th;
        if (pthread_create(&th, NULL, self_capture_after_leader_exit, NULL) != 0)
            _exit(9);
        pthread_exit(NULL);
    }
    int st = 0;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR)
        ;
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0,
              "the self-capturing child failed: %s %d (see the _exit codes in the test)",
              WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    return 0;
}

/* ---- marker memory over re-walks ---- */

static int walk_pass(HPSS s, HPSSWALK w, const WCHAR **first_name, WORD *first_len,
                     size_t *entries)
{
    static const DWORD sizes[4] = {sizeof(PSS_AUXILIARY_PAGE_ENTRY), sizeof(PSS_VA_SPACE_ENTRY),
                                   sizeof(PSS_HANDLE_ENTRY), sizeof(PSS_THREAD_ENTRY)};
    unsigned char buf[256];
    *entries = 0;
    for (int c = 0; c < 4; c++) {
        DWORD rc;
        while ((rc = PssWalkSnapshot(s, c, w, buf, sizes[c])) == ERROR_SUCCESS) {
            (*entries)++;
            const PSS_HANDLE_ENTRY *he = (const PSS_HANDLE_ENTRY *)buf;
            if (c == PSS_WALK_HANDLES && *first_name == NULL) {
                *first_name = he->ObjectName;
                *first_len = he->ObjectNameLength;
            }
        }
        CHECK_EQ(rc, ERROR_NO_MORE_ITEMS);
    }
    return 0;
}

int test_rewalk_memory_bounded(void)
{
    struct fixture f;
    const char *args[] = {"--threads", "4", "--pipes", "20", "--files", "10", "--maps", "40",
                          NULL};
    TRY(fixture_start(&f, args));
    HPSS s;
    DWORD rc = test_capture_pid(f.pid, TEST_ALL_FLAGS, 0, &s);
    CHECK_EQ(fixture_stop(&f), 0);
    CHECK_EQ(rc, ERROR_SUCCESS);
    struct test_alloc a;
    test_alloc_init(&a);
    HPSSWALK w;
    CHECK_EQ(PssWalkMarkerCreate(&a.allocator, &w), ERROR_SUCCESS);
    const WCHAR *name1 = NULL;
    WORD len1 = 0;
    size_t entries1 = 0;
    TRY(walk_pass(s, w, &name1, &len1, &entries1));
    CHECK(name1 != NULL && len1 > 0 && entries1 > 50);
    char text1[4200];
    test_utf16_to_ascii(name1, len1, text1, sizeof text1);
    const long blocks1 = a.outstanding;
    const long long bytes1 = a.bytes_outstanding;
    int new_copies = 0;
    for (int pass = 2; pass <= 20; pass++) {
        CHECK_EQ(PssWalkMarkerSeekToBeginning(w), ERROR_SUCCESS);
        const WCHAR *name = NULL;
        WORD len = 0;
        size_t entries = 0;
        TRY(walk_pass(s, w, &name, &len, &entries));
        CHECK_EQ(entries, entries1);
        new_copies += name != name1;
    }
    printf("    one pass: %ld live blocks (%lld bytes); after 20 passes: %ld (%lld bytes)\n",
           blocks1, bytes1, a.outstanding, a.bytes_outstanding);
    CHECK_MSG(a.outstanding <= blocks1 + 2, "live blocks grew from %ld to %ld over 20 passes",
              blocks1, a.outstanding);
    /* The same entry of the same snapshot gives the same (immutable) copy. */
    CHECK_MSG(new_copies == 0, "%d passes made a new copy of the first handle's name",
              new_copies);
    /* Pointers from the first pass are still valid and unchanged. */
    char text[4200];
    test_utf16_to_ascii(name1, len1, text, sizeof text);
    CHECK(test_alloc_owns(&a, name1));
    CHECK_EQ(strcmp(text, text1), 0);
    CHECK_EQ(PssWalkMarkerFree(w), ERROR_SUCCESS);
    CHECK_EQ(a.outstanding, 0);
    CHECK_EQ(a.foreign_frees, 0);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
    return 0;
}

/* ---- a position set after the marker walked another snapshot ---- */

int test_set_position_after_other_snapshot(void)
{
    HPSS a, b;
    HPSSWALK w;
    /* The walk below needs at least four handles; CI may start us with only
     * stdin/stdout/stderr (or fewer), so hold two pipes of our own. */
    int fds[4];
    CHECK_EQ(pipe(fds), 0);
    CHECK_EQ(pipe(fds + 2), 0);
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, TEST_ALL_FLAGS, 0, &a), ERROR_SUCCESS);
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, PSS_CAPTURE_HANDLES | PSS_CAPTURE_THREADS, 0,
                                &b),
             ERROR_SUCCESS);
    CHECK_EQ(PssWalkMarkerCreate(NULL, &w), ERROR_SUCCESS);
    PSS_HANDLE_ENTRY ha[4], hb, h;
    ULONG_PTR pos = 0;
    for (int i = 0; i < 4; i++) {
        if (i == 3)
            CHECK_EQ(PssWalkMarkerGetPosition(w, &pos), ERROR_SUCCESS);
        CHECK_EQ(PssWalkSnapshot(a, PSS_WALK_HANDLES, w, &ha[i], sizeof ha[i]), ERROR_SUCCESS);
    }
    CHECK_EQ(pos, UINT64_C(0x5053000300000003));

    /* The marker walks b (and restarts there), then is set back to a's position. */
    CHECK_EQ(PssWalkSnapshot(b, PSS_WALK_HANDLES, w, &hb, sizeof hb), ERROR_SUCCESS);
    CHECK(hb.Handle == ha[0].Handle);
    CHECK_EQ(PssWalkMarkerSetPosition(w, pos), ERROR_SUCCESS);
    /* The next walk of a starts where the position says, not at 0. */
    CHECK_EQ(PssWalkSnapshot(a, PSS_WALK_HANDLES, w, &h, sizeof h), ERROR_SUCCESS);
    CHECK_MSG(h.Handle == ha[3].Handle, "walk after SetPosition returned handle %lu, expected %lu",
              (unsigned long)(uintptr_t)h.Handle, (unsigned long)(uintptr_t)ha[3].Handle);

    /* Other classes were not set: a switch of snapshot restarts them. */
    PSS_THREAD_ENTRY t0, t;
    CHECK_EQ(PssWalkSnapshot(a, PSS_WALK_THREADS, w, &t0, sizeof t0), ERROR_SUCCESS);
    CHECK_EQ(PssWalkSnapshot(b, PSS_WALK_THREADS, w, &t, sizeof t), ERROR_SUCCESS);
    CHECK_EQ(t.ThreadId, t0.ThreadId);

    /* SeekToBeginning also holds across a switch (every class starts at 0). */
    CHECK_EQ(PssWalkSnapshot(a, PSS_WALK_HANDLES, w, &h, sizeof h), ERROR_SUCCESS);
    CHECK_EQ(PssWalkMarkerSeekToBeginning(w), ERROR_SUCCESS);
    CHECK_EQ(PssWalkSnapshot(b, PSS_WALK_HANDLES, w, &h, sizeof h), ERROR_SUCCESS);
    CHECK(h.Handle == hb.Handle);

    /* A position beyond the snapshot the marker is bound to is an error, not success. */
    PSS_HANDLE_INFORMATION hib;
    CHECK_EQ(PssQuerySnapshot(b, PSS_QUERY_HANDLE_INFORMATION, &hib, sizeof hib), ERROR_SUCCESS);
    CHECK_EQ(PssWalkMarkerSetPosition(w, UINT64_C(0x5053000300000001) + hib.HandlesCaptured),
             ERROR_INVALID_PARAMETER);
    /* ... and changes nothing. */
    CHECK_EQ(PssWalkSnapshot(b, PSS_WALK_HANDLES, w, &h, sizeof h), ERROR_SUCCESS);

    CHECK_EQ(PssWalkMarkerFree(w), ERROR_SUCCESS);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, a), ERROR_SUCCESS);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, b), ERROR_SUCCESS);
    for (int i = 0; i < 4; i++)
        close(fds[i]);
    return 0;
}

/* ---- CreateTime across captures ---- */

static uint64_t ft64(FILETIME ft)
{
    return ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
}

int test_create_time_stable_across_captures(void)
{
    struct fixture f;
    const char *args[] = {"--threads", "8", NULL};
    TRY(fixture_start(&f, args));
    enum { CAPTURES = 50, MAXT = 16 };
    DWORD tid0[MAXT];
    uint64_t ct0[MAXT], proc0 = 0;
    DWORD n0 = 0;
    int bad = 0;
    long differing = 0;
    HANDLE h;
    CHECK_EQ(PssLinuxOpenProcess((DWORD)f.pid, &h), ERROR_SUCCESS);
    for (int k = 0; k < CAPTURES && !bad; k++) {
        HPSS s;
        HPSSWALK w;
        if (PssCaptureSnapshot(h, PSS_CAPTURE_THREADS, 0, &s) != ERROR_SUCCESS) {
            test_fail(__FILE__, __LINE__, "capture %d failed", k);
            bad = 1;
            break;
        }
        PSS_PROCESS_INFORMATION pi;
        PssQuerySnapshot(s, PSS_QUERY_PROCESS_INFORMATION, &pi, sizeof pi);
        PssWalkMarkerCreate(NULL, &w);
        PSS_THREAD_ENTRY t;
        DWORD n = 0;
        while (!bad && PssWalkSnapshot(s, PSS_WALK_THREADS, w, &t, sizeof t) == ERROR_SUCCESS) {
            if (n >= MAXT) {
                bad = 1;
                break;
            }
            if (k == 0) {
                tid0[n] = t.ThreadId;
                ct0[n] = ft64(t.CreateTime);
            } else if (t.ThreadId != tid0[n]) {
                test_fail(__FILE__, __LINE__, "thread order changed");
                bad = 1;
            } else if (ft64(t.CreateTime) != ct0[n]) {
                differing++;
                if (differing <= 3)
                    test_fail(__FILE__, __LINE__,
                              "capture %d: thread %u CreateTime %llu, first capture %llu", k,
                              t.ThreadId, (unsigned long long)ft64(t.CreateTime),
                              (unsigned long long)ct0[n]);
            }
            n++;
        }
        if (k == 0) {
            n0 = n;
            proc0 = ft64(pi.CreateTime);
        } else if (n != n0) {
            test_fail(__FILE__, __LINE__, "capture %d: %u threads, first capture %u", k, n, n0);
            bad = 1;
        } else if (ft64(pi.CreateTime) != proc0) {
            differing++;
            if (differing <= 3)
                test_fail(__FILE__, __LINE__, "capture %d: process CreateTime %llu, first %llu",
                          k, (unsigned long long)ft64(pi.CreateTime),
                          (unsigned long long)proc0);
        }
        PssWalkMarkerFree(w);
        PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
    }
    CHECK_EQ(PssLinuxCloseProcess(h), ERROR_SUCCESS);
    CHECK_EQ(fixture_stop(&f), 0);
    if (differing > 0) {
        test_fail(__FILE__, __LINE__, "%ld CreateTime values differed from the first capture",
                  differing);
        bad = 1;
    }
    CHECK_EQ(n0, 9);
    return bad;
}

/* ---- CreateTime across library loads (processes) ---- */

/* Lines "P <process CreateTime>" and "T <tid> <CreateTime>" for every thread of `pid`, as
 * this process's load of libpss captures them. */
static int write_create_times(pid_t pid, FILE *out)
{
    HANDLE h;
    HPSS s;
    HPSSWALK w;
    if (PssLinuxOpenProcess((DWORD)pid, &h) != ERROR_SUCCESS)
        return 1;
    if (PssCaptureSnapshot(h, PSS_CAPTURE_THREADS, 0, &s) != ERROR_SUCCESS) {
        PssLinuxCloseProcess(h);
        return 1;
    }
    PSS_PROCESS_INFORMATION pi;
    int rc = PssQuerySnapshot(s, PSS_QUERY_PROCESS_INFORMATION, &pi, sizeof pi) == ERROR_SUCCESS &&
                     PssWalkMarkerCreate(NULL, &w) == ERROR_SUCCESS
                 ? 0
                 : 1;
    if (rc == 0) {
        fprintf(out, "P %llu\n", (unsigned long long)ft64(pi.CreateTime));
        PSS_THREAD_ENTRY t;
        while (PssWalkSnapshot(s, PSS_WALK_THREADS, w, &t, sizeof t) == ERROR_SUCCESS)
            fprintf(out, "T %u %llu\n", t.ThreadId, (unsigned long long)ft64(t.CreateTime));
        PssWalkMarkerFree(w);
    }
    PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
    PssLinuxCloseProcess(h);
    return rc;
}

int test_print_create_times(const char *pid)
{
    return write_create_times((pid_t)atoi(pid), stdout);
}

/* What another process (a fresh load of the library) reports: runs this test program with
 * --print-create-times.  Returns its output (malloc'd) or NULL. */
static char *create_times_from_another_load(pid_t pid)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return NULL;
    self[n] = '\0';
    char pidtxt[16];
    snprintf(pidtxt, sizeof pidtxt, "%d", (int)pid);
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0)
        return NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    char *const argv[] = {self, (char *)"--print-create-times", pidtxt, NULL};
    pid_t child;
    int err = posix_spawn(&child, self, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    if (err != 0) {
        close(out[0]);
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (ssize_t r = 1; buf != NULL && r > 0;) {
        if (len + 1 >= cap) {
            char *nb = realloc(buf, cap *= 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        r = read(out[0], buf + len, cap - len - 1);
        if (r > 0)
            len += (size_t)r;
    }
    close(out[0]);
    int status;
    waitpid(child, &status, 0);
    if (buf == NULL || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

/* The process's start as ps(1) computes it: /proc/stat btime + starttime / CLK_TCK. */
static uint64_t ps_start_filetime(pid_t pid)
{
    char buf[8192];
    const char *s = test_stat_after_comm(pid, 0, buf, sizeof buf);
    /* s is at the state, field 3; starttime is field 22 */
    for (int field = 3; s != NULL && field < 22; field++) {
        s = strchr(s, ' ');
        if (s != NULL)
            s++;
    }
    unsigned long long start = s != NULL ? strtoull(s, NULL, 10) : 0;
    long long btime = -1;
    FILE *f = fopen("/proc/stat", "re");
    char line[256];
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "btime %lld", &btime) == 1)
            break;
    if (f != NULL)
        fclose(f);
    if (btime < 0)
        return 0;
    long hz = sysconf(_SC_CLK_TCK);
    uint64_t unix100ns = (uint64_t)btime * 10000000u + start * (10000000u / (uint64_t)hz);
    return unix100ns + UINT64_C(116444736000000000);
}

int test_create_time_same_in_every_load(void)
{
    struct fixture f;
    const char *args[] = {"--threads", "4", NULL};
    TRY(fixture_start(&f, args));
    char *mine = NULL;
    size_t mine_len = 0;
    FILE *mf = open_memstream(&mine, &mine_len);
    CHECK(mf != NULL);
    CHECK_EQ(write_create_times(f.pid, mf), 0);
    fclose(mf);
    int bad = 0;
    unsigned long long proc_ct = 0;
    CHECK(sscanf(mine, "P %llu", &proc_ct) == 1);
    uint64_t ps = ps_start_filetime(f.pid);
    if (proc_ct != ps) {
        test_fail(__FILE__, __LINE__, "process CreateTime %llu, ps's start (btime + ticks) %llu",
                  proc_ct, (unsigned long long)ps);
        bad = 1;
    }
    for (int k = 0; k < 8 && !bad; k++) {
        char *theirs = create_times_from_another_load(f.pid);
        if (theirs == NULL) {
            test_fail(__FILE__, __LINE__, "another load could not capture the fixture");
            bad = 1;
        } else if (strcmp(theirs, mine) != 0) {
            test_fail(__FILE__, __LINE__,
                      "load %d saw other CreateTimes:\n--- this process\n%s--- another\n%s", k,
                      mine, theirs);
            bad = 1;
        }
        free(theirs);
    }
    free(mine);
    CHECK_EQ(fixture_stop(&f), 0);
    return bad;
}
