/*
 * liballoctrace's unit tests: every strategy, the fault injector, the contract checks, the
 * ring (and its overflow), user libraries and their errors.  Run under ASan/UBSan and
 * valgrind by `make test`, and under Wine for the Windows build (`make test-wine`).  The
 * samples' directory comes from $AT_SAMPLES.
 */
#include "alloctrace.h"
#include "../src/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(_WIN32)
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#define SO ".so"
#define LIBPREFIX "lib"
#else
#define SO ".dll"
#define LIBPREFIX "lib"
#endif

static int failures;
static const char *current;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "FAIL %s (%s:%d): %s: ", current, __FILE__, __LINE__, #cond);           \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
        }                                                                                          \
    } while (0)

#define CAP 1024u
static uint64_t ring_mem[(AT_RING_HEADER + CAP * AT_EVENT_SIZE) / 8];
static at_event drained[8192];
static uint32_t ndrained;

static at_config base_config(uint32_t strategy) {
    at_config c;
    memset(&c, 0, sizeof c);
    c.strategy = strategy;
    c.marker_id = 1;
    c.arena_capacity = 64 * 1024;
    c.red_zone = 32;
    c.blocks_per_slab = 4;
    c.pool_class_count = 3;
    c.pool_classes[0] = 16;
    c.pool_classes[1] = 64;
    c.pool_classes[2] = 256;
    c.budget_bytes = -1;
    return c;
}

/* Copies every record out of the ring (and overflow) into drained[]. */
static void drain(at_tracer *t, void *ring, uint32_t cap) {
    uint32_t *hdr = ring;
    at_event *rec = (at_event *)((unsigned char *)ring + AT_RING_HEADER);
    while (hdr[AT_RING_TAIL] != hdr[AT_RING_HEAD] && ndrained < 8192)
        drained[ndrained++] = rec[hdr[AT_RING_TAIL]++ & (cap - 1)];
    while (hdr[AT_RING_OVERFLOW] > 0 && ndrained < 8192)
        ndrained += at_drain_overflow(t, &drained[ndrained], 8192 - ndrained);
}

static at_tracer *make(at_config c) {
    char err[256];
    at_tracer *t = NULL;
    ndrained = 0;
    int rc = at_create(&c, ring_mem, CAP, 0, &t, err, sizeof err);
    CHECK(rc == AT_OK && t, "at_create: %d %s", rc, err);
    return t;
}

static uint32_t count_kind(uint32_t kind) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < ndrained; i++) n += drained[i].kind == kind;
    return n;
}

static const at_event *find_kind(uint32_t kind, uint32_t nth) {
    for (uint32_t i = 0; i < ndrained; i++)
        if (drained[i].kind == kind && nth-- == 0) return &drained[i];
    return NULL;
}

static void check_seqs(void) {
    for (uint32_t i = 0; i < ndrained; i++)
        CHECK(drained[i].seq == (double)i, "record %u has seq %g", i, drained[i].seq);
    for (uint32_t i = 1; i < ndrained; i++)
        CHECK(drained[i].time_ns >= drained[i - 1].time_ns, "time goes back at %u", i);
}

static void *A(at_tracer *t, uint32_t size) {
    const at_pss_allocator *a = at_allocator(t);
    return a->AllocRoutine(a->Context, size);
}

static void F(at_tracer *t, void *p) {
    const at_pss_allocator *a = at_allocator(t);
    a->FreeRoutine(a->Context, p);
}

static double stat_of(at_tracer *t, uint32_t i) {
    double s[AT_S_COUNT];
    at_stats(t, s, AT_S_COUNT);
    return s[i];
}

/* A marker's life as libpss drives it: create, a few walk allocations, free. */
static void lifecycle(at_tracer *t, uint32_t leak) {
    at_enter(t, 1, 255);
    void *m = A(t, 200);
    at_leave(t, 0);
    at_marker_created(t);
    at_enter(t, 2, 3);
    void *s1 = A(t, 40);
    void *s2 = A(t, 5000);
    at_leave(t, 0);
    at_walk_step(t, 3, 0, 0);
    at_enter(t, 3, 255);
    F(t, s1);
    if (!leak) F(t, s2);
    F(t, NULL);
    F(t, m);
    at_leave(t, 0);
    at_marker_freed(t);
}

static void test_strategies(void) {
    for (uint32_t s = AT_HEAP; s <= AT_GUARD; s++) {
        current = "strategies";
        at_tracer *t = make(base_config(s));
        lifecycle(t, 1);
        CHECK(at_release(t) == 1, "release after marker free");
        drain(t, ring_mem, CAP);
        check_seqs();
        CHECK(count_kind(K_ALLOC) == 3, "strategy %u: %u allocs", s, count_kind(K_ALLOC));
        CHECK(count_kind(K_FREE) == 2, "strategy %u: %u frees", s, count_kind(K_FREE));
        CHECK(count_kind(K_FREE_NULL) == 1, "strategy %u", s);
        CHECK(count_kind(K_LEAK) == 1, "strategy %u: %u leaks", s, count_kind(K_LEAK));
        const at_event *leak = find_kind(K_LEAK, 0);
        const at_event *big = find_kind(K_ALLOC, 2);
        CHECK(leak && big && leak->size == 5000 && leak->aux0 == (uint32_t)big->seq,
              "leak names its Alloc's seq");
        const at_event *mf = find_kind(K_MARKER_FREED, 0);
        CHECK(mf && mf->aux0 == 1 && mf->aux1 == 5000, "MarkerFreed counts the leak");
        const at_event *a1 = find_kind(K_ALLOC, 1);
        CHECK(a1 && a1->api == 2 && a1->walk_class == 3 && a1->strategy == s &&
                  a1->marker_id == 1 && a1->thread_id != 0,
              "alloc context");
        CHECK(stat_of(t, AT_S_EVENTS) == ndrained, "events stat %g vs %u",
              stat_of(t, AT_S_EVENTS), ndrained);
        CHECK(stat_of(t, AT_S_VIOLATIONS + 2) == 1, "leak violation counted");
        CHECK(stat_of(t, AT_S_BY_API + 2 * 8 + 2) == 2, "allocs in PssWalkSnapshot");
        if (s == AT_POOL) CHECK(big && big->aux0 == POOL_LARGE_FACT, "pool fallback fact");
        if (s == AT_GUARD) CHECK(a1 && a1->aux0 == 32, "guard fact is the red zone");
        if (s == AT_ARENA) CHECK(a1 && (a1->aux0 % 16) == 0 && a1->aux0 >= 208, "arena offset");
        at_destroy(t);
    }
}

static void test_bad_frees_and_context(void) {
    current = "bad frees";
    at_tracer *t = make(base_config(AT_HEAP));
    int local;
    void *outside = A(t, 8); /* no at_enter: outside any call */
    at_enter(t, 2, 0);
    F(t, &local);
    F(t, outside);
    F(t, outside);
    at_leave(t, 0);
    drain(t, ring_mem, CAP);
    CHECK(count_kind(K_WRONG_THREAD) == 1 && find_kind(K_WRONG_THREAD, 0)->aux0 == 1,
          "outside-call violation");
    CHECK(count_kind(K_UNKNOWN_FREE) == 2, "unknown frees: %u", count_kind(K_UNKNOWN_FREE));
    CHECK(count_kind(K_FREE) == 1, "the real free");
    at_destroy(t);

    current = "guard double free, overrun, underrun";
    t = make(base_config(AT_GUARD));
    at_enter(t, 2, 0);
    unsigned char *p = A(t, 24);
    unsigned char *q = A(t, 24);
    unsigned char *r = A(t, 2000);
    p[24] = 1;      /* overrun */
    q[-1] = 1;      /* underrun */
    r[2000 + 5] = 1; /* overrun of a large block, seen at marker free */
    F(t, p);
    F(t, p);
    F(t, q);
    at_leave(t, 0);
    at_marker_freed(t);
    at_release(t);
    drain(t, ring_mem, CAP);
    check_seqs();
    CHECK(count_kind(K_DOUBLE_FREE) == 1, "double free");
    CHECK(count_kind(K_GUARD) == 3, "guard findings: %u", count_kind(K_GUARD));
    const at_event *g0 = find_kind(K_GUARD, 0);
    const at_event *g1 = find_kind(K_GUARD, 1);
    const at_event *g2 = find_kind(K_GUARD, 2);
    CHECK(g0 && g0->aux0 == V_OVERRUN && g1 && g1->aux0 == V_UNDERRUN && g2 &&
              g2->aux0 == V_OVERRUN && g2->size == 2000,
          "finding order and verdicts");
    const at_event *f0 = find_kind(K_FREE, 0);
    CHECK(f0 && f0->aux0 == V_OVERRUN && f0->seq + 1 == g0->seq, "Free then its finding");
    CHECK(count_kind(K_LEAK) == 1, "the large block leaked");
    at_destroy(t);
}

#if !defined(_WIN32)
static void *other_thread(void *arg) {
    at_tracer *t = arg;
    F(t, A(t, 16));
    return NULL;
}

static void test_wrong_thread(void) {
    current = "wrong thread";
    at_tracer *t = make(base_config(AT_HEAP));
    pthread_t th;
    at_enter(t, 2, 1);
    pthread_create(&th, NULL, other_thread, t);
    pthread_join(th, NULL);
    at_leave(t, 0);
    drain(t, ring_mem, CAP);
    CHECK(count_kind(K_WRONG_THREAD) == 2, "two mismatches: %u", count_kind(K_WRONG_THREAD));
    const at_event *w = find_kind(K_WRONG_THREAD, 0);
    CHECK(w && w->aux0 == 2 && w->aux1 != w->thread_id, "mismatch names both threads");
    at_destroy(t);
}
#endif

static void test_arena_and_pool(void) {
    current = "arena";
    at_config c = base_config(AT_ARENA);
    c.arena_capacity = 4096;
    at_tracer *t = make(c);
    at_enter(t, 2, 0);
    void *blocks[300];
    uint32_t got = 0;
    for (int i = 0; i < 300; i++)
        if ((blocks[got] = A(t, 20)) != NULL) got++;
    CHECK(got == 4096 / 32, "arena fits %u blocks of 32", got);
    CHECK(count_kind(K_ALLOC_FAILED) == 0 && (drain(t, ring_mem, CAP), 1), "drained");
    CHECK(count_kind(K_ALLOC_FAILED) == 300 - got, "exhausted");
    CHECK(find_kind(K_ALLOC_FAILED, 0)->aux0 == FAIL_EXHAUSTED, "reason");
    for (uint32_t i = 0; i < got; i++) F(t, blocks[i]);
    at_leave(t, 0);
    at_marker_freed(t);
    CHECK(stat_of(t, AT_S_FACTS + 7) == 1, "arena reset once");
    CHECK(stat_of(t, AT_S_FACTS + 1) == 0, "arena rewound");
    at_destroy(t);

    current = "pool";
    t = make(base_config(AT_POOL));
    at_enter(t, 2, 0);
    void *a = A(t, 10);
    F(t, a);
    void *b = A(t, 16);
    CHECK(a == b, "a freed block is the next of its class");
    void *x = A(t, 17);
    drain(t, ring_mem, CAP);
    CHECK(find_kind(K_ALLOC, 2) && find_kind(K_ALLOC, 2)->aux0 == 1, "class index fact");
    F(t, b);
    F(t, x);
    at_leave(t, 0);
    CHECK(stat_of(t, AT_S_POOL + 3) == 1 && stat_of(t, AT_S_POOL + 4) == 2, "class 0 books");
    at_destroy(t);
}

static void test_faulty(void) {
    current = "faulty nth";
    at_config c = base_config(AT_HEAP);
    uint32_t nth[] = {2, 5};
    c.faulty = 1;
    c.fail_nth = nth;
    c.fail_nth_count = 2;
    c.seed = 1;
    at_tracer *t = make(c);
    at_enter(t, 2, 0);
    void *keep[6];
    for (int i = 0; i < 6; i++) keep[i] = A(t, 100);
    CHECK(!keep[1] && !keep[4] && keep[0] && keep[2] && keep[3] && keep[5], "2nd and 5th fail");
    for (int i = 0; i < 6; i++) F(t, keep[i]);
    at_leave(t, 0);
    drain(t, ring_mem, CAP);
    CHECK(find_kind(K_ALLOC_FAILED, 0)->aux0 == FAIL_NTH, "reason FailNth");
    CHECK(find_kind(K_ALLOC, 0)->strategy == (AT_HEAP | FAULTY_BIT), "faulty bit");
    CHECK(stat_of(t, AT_S_FAULTS + 2) == 2 && stat_of(t, AT_S_STRATEGY + 1) == 2, "counted");
    at_destroy(t);

    /* mulberry32(1) draws 0.6270739405881613, 0.002735721180215478, 0.5274470399599522 (JS) */
    current = "faulty probability";
    c = base_config(AT_HEAP);
    c.faulty = 1;
    c.seed = 1;
    c.fail_probability = 0.1;
    t = make(c);
    at_enter(t, 2, 0);
    void *p1 = A(t, 8), *p2 = A(t, 8), *p3 = A(t, 8);
    CHECK(p1 && !p2 && p3, "the second draw is below 0.1");
    F(t, p1);
    F(t, p3);
    at_leave(t, 0);
    at_destroy(t);

    current = "faulty budget";
    c = base_config(AT_GUARD);
    c.faulty = 1;
    c.budget_bytes = 250;
    t = make(c);
    at_enter(t, 2, 0);
    void *b1 = A(t, 200), *b2 = A(t, 100), *b3 = A(t, 50);
    CHECK(b1 && !b2 && b3, "budget");
    drain(t, ring_mem, CAP);
    CHECK(find_kind(K_ALLOC_FAILED, 0)->aux0 == FAIL_BUDGET, "reason Budget");
    F(t, b1);
    F(t, b3);
    at_leave(t, 0);
    at_destroy(t);
}

static void test_ring_overflow_and_release(void) {
    current = "overflow";
    static uint64_t small[(AT_RING_HEADER + 16 * AT_EVENT_SIZE) / 8];
    at_config c = base_config(AT_HEAP);
    char err[128];
    at_tracer *t = NULL;
    CHECK(at_create(&c, small, 16, 0, &t, err, sizeof err) == AT_OK, "%s", err);
    ndrained = 0;
    at_enter(t, 2, 0);
    void *ps[100];
    for (int i = 0; i < 100; i++) ps[i] = A(t, 32);
    uint32_t *hdr = (uint32_t *)small;
    CHECK(hdr[AT_RING_HEAD] == 16 && hdr[AT_RING_OVERFLOW] == 84 && hdr[AT_RING_WRITTEN] == 100,
          "16 in the ring, 84 over, 100 written");
    drain(t, small, 16);
    for (int i = 0; i < 100; i++) ps[i] = (F(t, ps[i]), NULL);
    at_leave(t, 0);
    drain(t, small, 16);
    check_seqs();
    CHECK(ndrained == 200, "all 200 events, in order: %u", ndrained);
    at_destroy(t);

    current = "release while the marker lives";
    t = make(base_config(AT_HEAP));
    at_enter(t, 1, 255);
    void *m = A(t, 64);
    at_leave(t, 0);
    at_marker_created(t);
    CHECK(at_release(t) == 0, "deferred");
    at_enter(t, 3, 255);
    F(t, m);
    at_leave(t, 0);
    at_marker_freed(t);
    CHECK(stat_of(t, AT_S_RELEASED) == 1, "released at marker free");
    F(t, m);
    drain(t, ring_mem, CAP);
    CHECK(count_kind(K_RELEASED) == 2, "deferred + used after release");
    at_destroy(t);
}

static void test_bad_config(void) {
    current = "config";
    char err[256];
    at_tracer *t;
    at_config c = base_config(AT_ARENA);
    c.arena_capacity = 10;
    CHECK(at_create(&c, ring_mem, CAP, 0, &t, err, sizeof err) == AT_E_ARGUMENT &&
              strstr(err, "arena"),
          "%s", err);
    c = base_config(AT_POOL);
    c.pool_classes[1] = 24;
    CHECK(at_create(&c, ring_mem, CAP, 0, &t, err, sizeof err) == AT_E_ARGUMENT, "%s", err);
    c = base_config(AT_HEAP);
    CHECK(at_create(&c, ring_mem, 100, 0, &t, err, sizeof err) == AT_E_ARGUMENT, "%s", err);
    c = base_config(9);
    CHECK(at_create(&c, ring_mem, CAP, 0, &t, err, sizeof err) == AT_E_ARGUMENT, "%s", err);
}

static char samples_dir[512];

static void sample(char *out, size_t n, const char *name) {
    snprintf(out, n, "%s/" LIBPREFIX "%s" SO, samples_dir, name);
}

static void test_user_libraries(void) {
    char path[600], err[512];
    at_tracer *t;

    current = "user library: good";
    at_config c = base_config(AT_USER);
    sample(path, sizeof path, "good_alloc");
    c.user_library = path;
    t = make(c);
    if (!t) return;
    lifecycle(t, 0);
    at_release(t);
    drain(t, ring_mem, CAP);
    check_seqs();
    CHECK(count_kind(K_ALLOC) == 3 && count_kind(K_FREE) == 3 && count_kind(K_USER_ALLOCATOR) == 0,
          "clean run");
    CHECK(find_kind(K_ALLOC, 0)->strategy == AT_USER, "user strategy byte");
    at_destroy(t);

    current = "user library: faults around it";
    c.faulty = 1;
    uint32_t first[] = {1};
    c.fail_nth = first;
    c.fail_nth_count = 1;
    t = make(c);
    at_enter(t, 1, 255);
    CHECK(A(t, 10) == NULL, "the first call fails before the user's routine");
    at_leave(t, 8);
    drain(t, ring_mem, CAP);
    CHECK(find_kind(K_ALLOC_FAILED, 0)->strategy == (AT_USER | FAULTY_BIT), "code");
    at_destroy(t);

    current = "user library: sloppy";
    c = base_config(AT_USER);
    sample(path, sizeof path, "sloppy_alloc");
    c.user_library = path;
#if !defined(_WIN32)
    /* The sample "frees" onto a list in its own globals, on purpose: held open here (never
       closed), the list stays reachable for the leak checkers after the tracer unloads it. */
    CHECK(dlopen(path, RTLD_NOW) != NULL, "dlopen %s", path);
#endif
    t = make(c);
    lifecycle(t, 0);
    drain(t, ring_mem, CAP);
    CHECK(count_kind(K_USER_ALLOCATOR) == 3, "every block misaligned: %u",
          count_kind(K_USER_ALLOCATOR));
    CHECK(find_kind(K_USER_ALLOCATOR, 0)->aux0 == USER_MISALIGNED, "reason");
    CHECK(stat_of(t, AT_S_VIOLATIONS + 6) == 3, "counted");
    at_destroy(t);

    current = "user library errors";
    CHECK(at_check_library("/nonexistent/liballoc.so", err, sizeof err) == AT_E_NOT_READABLE &&
              strstr(err, "cannot read"),
          "%s", err);
    snprintf(path, sizeof path, "%s", samples_dir);
#if !defined(_WIN32)
    CHECK(at_check_library(path, err, sizeof err) == AT_E_NOT_READABLE, "a directory: %s", err);
    snprintf(path, sizeof path, "%s/good_alloc.o", samples_dir);
    CHECK(at_check_library(path, err, sizeof err) == AT_E_NOT_SHARED &&
              strstr(err, "relocatable"),
          "%s", err);
#endif
    snprintf(path, sizeof path, "%s/not-a-library.txt", samples_dir);
    CHECK(at_check_library(path, err, sizeof err) == AT_E_NOT_SHARED, "%s", err);
    sample(path, sizeof path, "no_symbols");
    CHECK(at_check_library(path, err, sizeof err) == AT_E_SYMBOLS &&
              strstr(err, "AllocRoutine and FreeRoutine"),
          "%s", err);
    c = base_config(AT_USER);
    c.user_library = path;
    CHECK(at_create(&c, ring_mem, CAP, 0, &t, err, sizeof err) == AT_E_SYMBOLS, "%s", err);
    sample(path, sizeof path, "good_alloc");
    CHECK(at_check_library(path, err, sizeof err) == AT_OK, "%s", err);

#if !defined(_WIN32)
    current = "user library: crash";
    sample(path, sizeof path, "crash_alloc");
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        at_config cc = base_config(AT_USER);
        cc.user_library = path;
        at_tracer *ct = NULL;
        char e[256];
        if (at_create(&cc, ring_mem, CAP, 0, &ct, e, sizeof e) != AT_OK) _exit(3);
        at_enter(ct, 3, 255);
        F(ct, NULL);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "FreeRoutine(NULL) crashes: %d",
          status);
#endif
}

static uint32_t AT_WINAPI fake_walk(void *s, int32_t cls, void *m, void *buf, uint32_t len) {
    (void)cls;
    (void)m;
    (void)buf;
    (void)len;
    int *n = s;
    return (*n)-- > 0 ? 0u : 259u;
}

/* A walk of *n entries that writes entry number i (counting from 1) into every byte of buf. */
static uint32_t AT_WINAPI fill_walk(void *s, int32_t cls, void *m, void *buf, uint32_t len) {
    (void)cls;
    (void)m;
    int *n = s;
    if (n[0] == n[1]) return 259u;
    memset(buf, ++n[1], len);
    return 0u;
}

static void test_step_n(void) {
    current = "at_step_n";
    at_tracer *t = make(base_config(AT_HEAP));
    int walk[2] = {5, 0}; /* entries, walked */
    unsigned char area[3 * 8 + 4];
    memset(area, 0xee, sizeof area);
    uint32_t *hdr = (uint32_t *)ring_mem;
    uint32_t slot = at_bind_walk(t, fill_walk, walk, NULL, NULL);
    CHECK(at_step_n(slot, 1, 8, 0, 10) == 0 && hdr[AT_RING_LAST_CODE] == 6, "no area: no call");
    CHECK(at_bind_batch(slot, area, 3 * 8 + 4) == 0, "bound");
    CHECK(at_bind_batch(999999, area, 8) == 6, "a bad slot");
    /* room for 3 entries of 8 bytes: 3 calls, all successful */
    CHECK(at_step_n(slot, 1, 8, 0, 10) == 3 && hdr[AT_RING_LAST_CODE] == 0, "three calls");
    CHECK(area[0] == 1 && area[8] == 2 && area[23] == 3 && area[24] == 0xee, "entry k at k * 8");
    /* 2 more entries, then the end: 3 calls, the last one's code ERROR_NO_MORE_ITEMS */
    CHECK(at_step_n(slot, 1, 8, 3, 10) == 3 && hdr[AT_RING_LAST_CODE] == 259, "to the end");
    CHECK(area[0] == 4 && area[8] == 5, "entries 4 and 5");
    CHECK(at_step_n(slot, 1, 0, 0, 10) == 0 && hdr[AT_RING_LAST_CODE] == 6, "length 0");
    drain(t, ring_mem, CAP);
    check_seqs();
    CHECK(count_kind(K_WALK_STEP) == 5 && count_kind(K_WALK_END) == 1, "5 steps and the end");
    for (uint32_t i = 0; i < 5; i++)
        CHECK(find_kind(K_WALK_STEP, i)->aux0 == i && find_kind(K_WALK_STEP, i)->size > 0,
              "step %u: its index and duration", i);
    CHECK(find_kind(K_WALK_END, 0)->aux0 == 5, "the end after 5 entries");
    CHECK(stat_of(t, AT_S_BY_API + 2 * 8) == 6, "six PssWalkSnapshot calls");
    at_destroy(t);
    CHECK(at_step_n(slot, 1, 8, 0, 1) == 0, "a freed slot");
}

static void test_walk(void) {
    current = "at_walk";
    at_tracer *t = make(base_config(AT_HEAP));
    int entries = 2;
    uint32_t codes[3];
    for (uint32_t i = 0; i < 3; i++) codes[i] = at_walk(t, fake_walk, &entries, 1, NULL, NULL, 0, i);
    drain(t, ring_mem, CAP);
    CHECK(codes[0] == 0 && codes[1] == 0 && codes[2] == 259, "codes");
    CHECK(count_kind(K_WALK_STEP) == 2 && count_kind(K_WALK_END) == 1, "steps and end");
    CHECK(find_kind(K_WALK_END, 0)->aux0 == 2 && find_kind(K_WALK_END, 0)->walk_class == 1, "end");
    CHECK(stat_of(t, AT_S_BY_API + 2 * 8) == 3, "three PssWalkSnapshot calls");
    entries = 1;
    uint32_t slot = at_bind_walk(t, fake_walk, &entries, NULL, NULL);
    CHECK(slot != 0, "a slot");
    CHECK(at_step(slot, 0, 0, 0) == 0 && at_step(slot, 0, 0, 1) == 259, "steps through the slot");
    CHECK(stat_of(t, AT_S_BY_API + 2 * 8) == 5, "two more calls");
    at_destroy(t);
    CHECK(at_step(slot, 0, 0, 0) == 6, "a freed slot is an invalid handle");
    CHECK(at_step(999999, 0, 0, 0) == 6, "out of range");
#if !defined(_WIN32)
    current = "ring in a file";
    char path[] = "/tmp/alloctrace-ring-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    close(fd);
    uint32_t bytes = AT_RING_HEADER + 64 * AT_EVENT_SIZE;
    void *ring = at_map_ring(path, bytes);
    CHECK(ring != NULL, "mapped");
    at_config c = base_config(AT_HEAP);
    char err[128];
    CHECK(at_create(&c, ring, 64, 0, &t, err, sizeof err) == AT_OK, "%s", err);
    at_enter(t, 2, 0);
    F(t, A(t, 8));
    at_leave(t, 0);
    FILE *f = fopen(path, "rb");
    uint32_t hdr6[6] = {0, 0, 0, 0, 0, 0};
    CHECK(f && fread(hdr6, 4, 6, f) == 6 && hdr6[AT_RING_HEAD] == 2 &&
              hdr6[AT_RING_CAPACITY] == 64 && hdr6[AT_RING_WRITTEN] == 2,
          "the file holds the records: head %u, written %u", hdr6[0], hdr6[AT_RING_WRITTEN]);
    if (f) fclose(f);
    at_destroy(t);
    at_unmap_ring(ring, bytes);
    unlink(path);
    CHECK(at_map_ring("/nonexistent/ring", bytes) == NULL, "no file, no ring");

    CHECK(at_resolve("libc.so.6", "malloc") != NULL, "resolve malloc in libc");
    CHECK(at_resolve("libc.so.6", "NoSuchSymbol") == NULL, "absent symbol");
#endif
}

/* Busy-waits `ns` of CLOCK_MONOTONIC (so that consecutive events are apart by a known time). */
static void spin(int64_t ns) {
    int64_t until = clock_mono_ns() + ns;
    while (clock_mono_ns() < until) {
    }
}

/*
 * Event times: every routine call and every Pss call gets its own time, on CLOCK_MONOTONIC's
 * time base (checked against readings taken right before and after the call writing each
 * event), never going back; a call's ending event carries its duration (enter to leave).
 * Pauses of 3 ms between rounds cross the clock's re-anchoring period.
 */
static void test_clock(void) {
    current = "event clock";
    const int64_t tol = 10000; /* 10 µs: a conversion error beyond this is a bug */
    int src = at_clock_source();
    CHECK(src == AT_CLOCK_MONOTONIC || src == AT_CLOCK_TSC || src == AT_CLOCK_QPC, "source %d", src);
    printf("event clock: %s\n", src == AT_CLOCK_TSC ? "TSC" : src == AT_CLOCK_QPC ? "QPC" : "CLOCK_MONOTONIC");
    enum { ROUNDS = 12, PER = 3 };
    int64_t lo[ROUNDS * PER], hi[ROUNDS * PER], enter_lo[ROUNDS], leave_hi[ROUNDS];
    int64_t b0 = clock_mono_ns();
    at_tracer *t = make(base_config(AT_HEAP));
    int64_t b1 = clock_mono_ns(); /* the tracer's time 0 is within [b0, b1] */
    for (int r = 0; r < ROUNDS; r++) {
        enter_lo[r] = clock_mono_ns();
        at_enter(t, 2, 1);
        spin(2000);
        lo[r * PER] = clock_mono_ns();
        void *p = A(t, 100);
        hi[r * PER] = clock_mono_ns();
        spin(2000);
        lo[r * PER + 1] = clock_mono_ns();
        F(t, p);
        hi[r * PER + 1] = clock_mono_ns();
        spin(2000);
        lo[r * PER + 2] = clock_mono_ns();
        at_leave(t, 0);
        at_walk_step(t, 1, (uint32_t)r, 0);
        hi[r * PER + 2] = leave_hi[r] = clock_mono_ns();
        if (r % 4 == 3) spin(3000000);
    }
    drain(t, ring_mem, CAP);
    check_seqs();
    CHECK(ndrained == ROUNDS * PER, "%u events", ndrained);
    for (uint32_t i = 0; i < ndrained && i < ROUNDS * PER; i++) {
        double tn = drained[i].time_ns;
        CHECK(tn + (double)b1 >= (double)(lo[i] - tol) && tn + (double)b0 <= (double)(hi[i] + tol),
              "event %u at %.0f ns, expected within [%lld, %lld] (+/- %lld) of the session start",
              i, tn, (long long)(lo[i] - b1), (long long)(hi[i] - b0), (long long)tol);
        if (i > 0)
            CHECK(tn > drained[i - 1].time_ns, "event %u: the same time as the one before", i);
    }
    for (uint32_t r = 0; r < ROUNDS; r++) {
        const at_event *s = find_kind(K_WALK_STEP, r);
        /* the call spun 3 x 2 µs between enter and leave */
        CHECK(s && s->size >= 6000 && s->size <= leave_hi[r] - enter_lo[r] + tol,
              "step %u lasted %u ns (spun 6000, bracket %lld)", r, s ? s->size : 0,
              (long long)(leave_hi[r] - enter_lo[r]));
        const at_event *a = find_kind(K_ALLOC, r);
        CHECK(a && a->size == 100, "an Alloc's size stays the block's");
    }
    /* a marker event without a call before it has no duration (size 0: not recorded) */
    at_walk_end(t, 1, 12);
    ndrained = 0;
    drain(t, ring_mem, CAP);
    CHECK(ndrained == 1 && drained[0].size == 0, "WalkEnd outside a call: duration not recorded");
    at_destroy(t);

    current = "event clock: origin";
    t = make(base_config(AT_HEAP));
    int64_t origin = clock_mono_ns() - 5000000; /* the session started 5 ms ago */
    at_set_origin(t, (double)origin);
    int64_t l = clock_mono_ns();
    at_enter(t, 2, 0);
    F(t, A(t, 8));
    at_leave(t, 0);
    at_walk_step(t, 0, 0, 0);
    int64_t h = clock_mono_ns();
    at_set_origin(t, 0); /* after the first event: ignored */
    at_enter(t, 2, 0);
    at_leave(t, 0);
    at_walk_step(t, 0, 1, 0);
    drain(t, ring_mem, CAP);
    check_seqs();
    CHECK(ndrained == 4, "%u events", ndrained);
    for (uint32_t i = 0; i < 3 && i < ndrained; i++)
        CHECK(drained[i].time_ns >= (double)(l - origin - tol) &&
                  drained[i].time_ns <= (double)(h - origin + tol),
              "event %u at %.0f, expected [%lld, %lld]", i, drained[i].time_ns,
              (long long)(l - origin), (long long)(h - origin));
    CHECK(ndrained == 4 && drained[3].time_ns < 1e9, "a second origin is ignored");
    at_destroy(t);
}

int main(void) {
    const char *dir = getenv("AT_SAMPLES");
    snprintf(samples_dir, sizeof samples_dir, "%s", dir ? dir : "build/samples");
    test_strategies();
    test_bad_frees_and_context();
#if !defined(_WIN32)
    test_wrong_thread();
#endif
    test_arena_and_pool();
    test_faulty();
    test_ring_overflow_and_release();
    test_bad_config();
    test_user_libraries();
    test_walk();
    test_step_n();
    test_clock();
    if (failures) {
        fprintf(stderr, "liballoctrace: %d check(s) failed\n", failures);
        return 1;
    }
    printf("liballoctrace: all tests passed\n");
    return 0;
}
