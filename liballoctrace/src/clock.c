/*
 * Event clock: a per-call timestamp cheap enough to read at every routine call and at both ends
 * of every Pss call.
 *
 * x86-64 Linux with an invariant TSC (/proc/cpuinfo: constant_tsc and nonstop_tsc): ticks are
 * RDTSC (~10-25 ns, no system call, no vDSO page walk), converted to CLOCK_MONOTONIC ns by a
 * per-tracer anchor (a TSC reading and a CLOCK_MONOTONIC reading taken back to back) and a
 * scale (ns per tick).  The scale is first calibrated over ~200 µs when the library is first
 * used, then refined at every anchor against the first pair of the process (so after 10 ms it
 * is exact to ~1e-5).  Anchors are re-taken by the tracer at marker events and whenever 1 ms
 * of ticks has passed, so a converted time is within ~1e-5 × 1 ms plus the anchor's own
 * uncertainty (half a clock_gettime, tens of ns) of CLOCK_MONOTONIC.
 *
 * Anywhere else (no invariant TSC, another architecture, or AT_CLOCK=monotonic in the
 * environment): ticks are CLOCK_MONOTONIC ns themselves (scale 1), read every time.
 * Windows: ticks are QueryPerformanceCounter (itself TSC-based where the TSC is invariant).
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#include <windows.h>
#else
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#endif
#if defined(__x86_64__) && !defined(_WIN32)
#include <x86intrin.h>
#define HAVE_TSC 1
#endif

static struct {
    bool tsc;      /* ticks are RDTSC */
    double scale;  /* ns per tick from the calibration (1 when ticks are ns) */
    uint64_t tick; /* the process's first pair: the long baseline the scale is refined on */
    int64_t ns;
    int source;    /* AT_CLOCK_* */
} g;

int64_t clock_mono_ns(void) {
#if defined(_WIN32)
    static LARGE_INTEGER freq;
    LARGE_INTEGER c;
    if (freq.QuadPart == 0) QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&c);
    return (int64_t)((double)c.QuadPart * 1e9 / (double)freq.QuadPart);
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
#endif
}

#if defined(HAVE_TSC)
/* Both flags on the first "flags" line of /proc/cpuinfo (every CPU lists the same). */
static bool invariant_tsc(void) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return false;
    char line[8192];
    bool found = false, constant = false, nonstop = false;
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0) continue;
        found = true;
        for (char *tok = strtok(line, " \t\n:"); tok; tok = strtok(NULL, " \t\n:")) {
            if (strcmp(tok, "constant_tsc") == 0) constant = true;
            if (strcmp(tok, "nonstop_tsc") == 0) nonstop = true;
        }
    }
    fclose(f);
    return constant && nonstop;
}

/*
 * A TSC reading and a CLOCK_MONOTONIC reading at the same moment: the TSC's midpoint around
 * the clock_gettime, the tightest of three tries (an interrupt or a preemption in between
 * would widen the uncertainty).
 */
static void pair(uint64_t *tick, int64_t *ns) {
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 3; i++) {
        uint64_t a = __rdtsc();
        int64_t n = clock_mono_ns();
        uint64_t b = __rdtsc();
        if (b - a < best) {
            best = b - a;
            *tick = a + (b - a) / 2;
            *ns = n;
        }
    }
}
#endif

static void init_once(void) {
    g.scale = 1;
    g.source = AT_CLOCK_MONOTONIC;
#if defined(_WIN32)
    LARGE_INTEGER freq;
    QueryPerformanceFrequency(&freq);
    g.scale = 1e9 / (double)freq.QuadPart;
    g.source = AT_CLOCK_QPC;
#elif defined(HAVE_TSC)
    const char *env = getenv("AT_CLOCK");
    if (env && strcmp(env, "monotonic") == 0) return;
    if (!invariant_tsc()) return;
    uint64_t t0, t1;
    int64_t n0, n1;
    pair(&t0, &n0);
    do pair(&t1, &n1);
    while (n1 - n0 < 200000);
    if (t1 <= t0) return;
    g.scale = (double)(n1 - n0) / (double)(t1 - t0);
    g.tick = t0;
    g.ns = n0;
    g.tsc = true;
    g.source = AT_CLOCK_TSC;
#endif
}

#if defined(_WIN32)
static INIT_ONCE once = INIT_ONCE_STATIC_INIT;
static BOOL CALLBACK init_cb(PINIT_ONCE o, PVOID p, PVOID *c) {
    (void)o;
    (void)p;
    (void)c;
    init_once();
    return TRUE;
}
static void clock_init(void) {
    InitOnceExecuteOnce(&once, init_cb, NULL, NULL);
}
#else
static pthread_once_t once = PTHREAD_ONCE_INIT;
static void clock_init(void) {
    pthread_once(&once, init_once);
}
#endif

int clock_source(void) {
    clock_init();
    return g.source;
}

uint64_t clock_ticks(void) {
#if defined(_WIN32)
    LARGE_INTEGER c;
    QueryPerformanceCounter(&c);
    return (uint64_t)c.QuadPart;
#else
#if defined(HAVE_TSC)
    if (g.tsc) return __rdtsc();
#endif
    return (uint64_t)clock_mono_ns();
#endif
}

void clock_anchor(at_clock *c) {
    clock_init();
#if defined(_WIN32)
    LARGE_INTEGER q;
    QueryPerformanceCounter(&q);
    c->tick = (uint64_t)q.QuadPart;
    c->ns = (int64_t)((double)c->tick * g.scale);
    c->scale = g.scale;
#else
#if defined(HAVE_TSC)
    if (g.tsc) {
        pair(&c->tick, &c->ns);
        c->scale = g.scale;
        /* refine on the process's whole lifetime once it is long enough (10 ms) */
        if (c->ns - g.ns >= 10000000 && c->tick > g.tick)
            c->scale = (double)(c->ns - g.ns) / (double)(c->tick - g.tick);
        c->period = (uint64_t)(1e6 / c->scale); /* re-anchor after ~1 ms */
        return;
    }
#endif
    c->ns = clock_mono_ns();
    c->tick = (uint64_t)c->ns;
    c->scale = 1;
#endif
    c->period = UINT64_MAX;
}
