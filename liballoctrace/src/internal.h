/* liballoctrace internals: the address table, the strategies, the tracer. */
#ifndef ALLOCTRACE_INTERNAL_H
#define ALLOCTRACE_INTERNAL_H

#include "alloctrace.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- event record (src-shared/events/layout.ts) ---------------------------------------- */
typedef struct at_event {
    double seq;
    double time_ns;
    uint32_t addr_lo;
    uint32_t addr_hi;
    uint32_t size;
    uint8_t kind;
    uint8_t api;
    uint8_t walk_class;
    uint8_t strategy;
    uint32_t marker_id;
    uint32_t thread_id;
    uint32_t aux0;
    uint32_t aux1;
} at_event;

enum {
    K_ALLOC = 0,
    K_ALLOC_FAILED = 1,
    K_FREE = 2,
    K_FREE_NULL = 3,
    K_MARKER_CREATED = 10,
    K_WALK_STEP = 11,
    K_WALK_END = 12,
    K_POSITION_GET = 13,
    K_POSITION_SET = 14,
    K_SEEK = 15,
    K_MARKER_FREED = 16,
    K_API_ERROR = 17,
    K_WRONG_THREAD = 20,
    K_UNKNOWN_FREE = 21,
    K_LEAK = 22,
    K_RELEASED = 23,
    K_GUARD = 24,
    K_DOUBLE_FREE = 25,
    K_USER_ALLOCATOR = 26,
};
#define FIRST_VIOLATION 20
#define VIOLATION_COUNT 7

enum { API_NONE = 0, API_CREATE = 1, API_WALK = 2, API_FREE = 3, API_COUNT = 7 };
#define NO_CLASS 255u
#define FAULTY_BIT 0x80u

enum { FAIL_NONE = 0, FAIL_EXHAUSTED = 1, FAIL_NTH = 2, FAIL_PROBABILITY = 3, FAIL_BUDGET = 4 };
enum {
    V_OK = 0,
    V_OVERRUN = 1,
    V_UNDERRUN = 2,
    V_DOUBLE_FREE = 3,
    V_UNKNOWN = 4,
};
/* aux0 of K_USER_ALLOCATOR */
enum { USER_MISALIGNED = 1, USER_OVERLAP = 2 };

#define WIN32_SUCCESS 0u
#define WIN32_NO_MORE_ITEMS 259u
#define WIN32_MORE_DATA 234u

#define POOL_LARGE_FACT 0xffffu

/* ---- address table: open addressing, linear probing, backward-shift delete ------------- */
typedef struct at_slot {
    uintptr_t addr; /* 0 = empty */
    uint32_t size;
    uint32_t seq;   /* low 32 bits of the Alloc event's seq */
    uint32_t tag;   /* strategy-specific (arena: rounded size, pool: class, guard: flags) */
    uint32_t flags; /* SLOT_LEAKED: reported as a leak at marker free */
} at_slot;
#define SLOT_LEAKED 1u

typedef struct at_table {
    at_slot *slots;
    uint32_t mask; /* capacity - 1 */
    uint32_t count;
} at_table;

bool table_init(at_table *t, uint32_t capacity);
void table_free(at_table *t);
at_slot *table_find(const at_table *t, uintptr_t addr);
/* Inserts (addr must not be present); NULL when out of memory. */
at_slot *table_insert(at_table *t, uintptr_t addr);
void table_remove(at_table *t, at_slot *slot);

/* ---- event clock (clock.c) ------------------------------------------------------------ */
enum { AT_CLOCK_MONOTONIC = 0, AT_CLOCK_TSC = 1, AT_CLOCK_QPC = 2 };

/* Converts ticks to CLOCK_MONOTONIC ns: ns + (ticks - tick) * scale. */
typedef struct at_clock {
    uint64_t tick;   /* ticks at the anchor */
    int64_t ns;      /* CLOCK_MONOTONIC ns at the anchor */
    double scale;    /* ns per tick */
    uint64_t period; /* ticks after which the owner should re-anchor */
} at_clock;

int64_t clock_mono_ns(void);
/* Which clock ticks are (AT_CLOCK_*), deciding it on first use. */
int clock_source(void);
/* The cheap per-event reading (valid after the first clock_anchor or clock_source). */
uint64_t clock_ticks(void);
/* Takes an anchor now. */
void clock_anchor(at_clock *c);

static inline double clock_to_ns(const at_clock *c, uint64_t ticks) {
    return (double)c->ns + (double)(int64_t)(ticks - c->tick) * c->scale;
}

#endif
