/*
 * The C side of a traced allocation, without any FFI: N blocks allocated and freed through a
 * tracer's AllocRoutine/FreeRoutine (inside a PssWalkSnapshot bracket), against plain
 * malloc/free, per strategy.  Prints ns per event (one event per routine call).
 *
 *   make bench   (build/bench-routines)
 */
#include "alloctrace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N 4096
#define ROUNDS 200
#define CAP 16384u

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint32_t sizes[N];
static void *blocks[N];

static double run_plain(void) {
    double best = 1e300;
    for (int r = 0; r < ROUNDS; r++) {
        double t = now();
        for (int i = 0; i < N; i++) blocks[i] = malloc(sizes[i]);
        for (int i = 0; i < N; i++) free(blocks[i]);
        double d = now() - t;
        if (d < best) best = d;
    }
    return best / (2.0 * N);
}

static double run_traced(uint32_t strategy) {
    static uint64_t ring[(AT_RING_HEADER + CAP * AT_EVENT_SIZE) / 8];
    at_config c;
    memset(&c, 0, sizeof c);
    c.strategy = strategy;
    c.red_zone = 32;
    c.arena_capacity = 64u << 20;
    c.blocks_per_slab = 64;
    c.pool_class_count = 9;
    for (uint32_t i = 0; i < 9; i++) c.pool_classes[i] = 16u << i;
    c.budget_bytes = -1;
    at_tracer *t;
    char err[128];
    if (at_create(&c, ring, CAP, 0, &t, err, sizeof err) != AT_OK) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    const at_pss_allocator *a = at_allocator(t);
    uint32_t *hdr = (uint32_t *)ring;
    double best = 1e300;
    for (int r = 0; r < ROUNDS; r++) {
        hdr[AT_RING_TAIL] = hdr[AT_RING_HEAD]; /* the consumer keeps up */
        double t0 = now();
        at_enter(t, 2, 1);
        for (int i = 0; i < N; i++) blocks[i] = a->AllocRoutine(a->Context, sizes[i]);
        at_leave(t, 0);
        hdr[AT_RING_TAIL] = hdr[AT_RING_HEAD];
        at_enter(t, 2, 1);
        for (int i = 0; i < N; i++) a->FreeRoutine(a->Context, blocks[i]);
        at_leave(t, 0);
        double d = now() - t0;
        if (d < best) best = d;
        if (strategy == AT_ARENA) {
            at_marker_freed(t); /* rewinds the arena */
        }
    }
    at_destroy(t);
    return best / (2.0 * N);
}

int main(void) {
    srand(1);
    for (int i = 0; i < N; i++) sizes[i] = 16 + (uint32_t)(rand() % 600);
    double plain = run_plain();
    printf("malloc/free alone: %.1f ns per call\n", plain);
    const char *names[] = {"heap", "arena", "pool", "guard"};
    for (uint32_t s = 0; s < 4; s++) {
        double v = run_traced(s);
        printf("traced %-5s: %.1f ns per event (%.1f ns over malloc/free)\n", names[s], v,
               v - plain);
    }
    return 0;
}
