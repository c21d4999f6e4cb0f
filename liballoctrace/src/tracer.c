/*
 * The tracer: routines libpss calls (at_alloc_routine / at_free_routine), the strategies
 * behind them, the fault injector, contract checks, and the event ring.  Semantics follow
 * src-main/alloc (tracer.ts and the strategies) event for event.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#include <windows.h>
#else
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* User library loading lives in userlib.c. */
int userlib_open(const char *path, void **handle, at_user_alloc_fn *alloc_fn,
                 at_user_free_fn *free_fn, at_user_ctor_fn *ctor, at_user_dtor_fn *dtor,
                 char *err, uint32_t err_len);
void userlib_close(void *handle);

#define QUARANTINE_BLOCKS 256u
#define CANARY_BYTE 0xfd
#define PAINT_WHOLE_MAX 1024u
#define UNDERRUN_REPORTED 1u
#define OVERRUN_REPORTED 2u
#define FIELDS 8
#define CLASS_ROWS 6
enum { F_CALLS, F_ERRORS, F_ALLOCS, F_ALLOC_BYTES, F_FAILURES, F_FREES, F_FREE_BYTES, F_FREE_NULLS };

struct at_tracer {
    at_pss_allocator pss; /* Context = this */
    uint32_t kind;        /* AT_HEAP .. AT_USER */
    uint8_t code;         /* strategy byte of the events */
    uint32_t marker_id;

    /* ring */
    uint32_t *hdr;
    at_event *rec;
    uint32_t ring_mask;
    at_event *ovf;
    uint32_t ovf_len, ovf_read, ovf_cap;
    uint64_t seq;

    /* clock (see stamp) */
    at_clock clk;
    double zero;        /* event time = zero + ticks × clk.scale (see reanchor) */
    int64_t clock_base; /* CLOCK_MONOTONIC ns at at_create */
    double time_offset_ns;
    double last_time;  /* the events' time: ns since the session started, never going back */
    double enter_time; /* last_time at at_enter */
    uint32_t call_ns;  /* the duration of the call at_leave ended, until its marker event */
    uint32_t call_api;

    /* call context */
    uint32_t api, cls, tid;
    bool marker_live, released, release_pending;

    /* blocks the allocator handed out and that were not freed (leaked ones flagged) */
    at_table live;
    uint32_t leaked;
    uint32_t outstanding_after_release;

    /* tracer counters */
    double events, allocations, failures, frees, free_nulls, bytes_allocated, bytes_freed,
        live_bytes, peak_live_bytes;
    double violations[VIOLATION_COUNT];
    double by_api[API_COUNT * FIELDS];
    double by_class[CLASS_ROWS * FIELDS];

    /* strategy counters */
    double s_allocs, s_failures, s_frees, s_free_nulls, s_bad_frees, s_live_bytes, s_peak,
        s_total;

    /* arena */
    unsigned char *arena;
    uint32_t arena_cap, arena_start, arena_offset, arena_high;
    double arena_freed, arena_padding, arena_exhausted, arena_resets;

    /* pool */
    uint32_t nclasses, classes[AT_MAX_POOL_CLASSES], blocks_per_slab, max_class;
    uint8_t *class_of;
    uintptr_t *stack[AT_MAX_POOL_CLASSES];
    uint32_t top[AT_MAX_POOL_CLASSES], stack_cap[AT_MAX_POOL_CLASSES];
    uint32_t in_use[AT_MAX_POOL_CLASSES], slab_count[AT_MAX_POOL_CLASSES];
    double requests[AT_MAX_POOL_CLASSES];
    void **slabs;
    uint32_t nslabs, slabs_cap;
    double slab_bytes, fb_allocs, fb_live, fb_bytes;

    /* guard */
    uint32_t rz;
    unsigned char *ref;
    at_table quarantine;
    uintptr_t qring[QUARANTINE_BLOCKS];
    uint32_t qnext;
    double held_bytes, overruns, underruns, double_frees, unknown_frees, checks;

    /* faulty */
    bool faulty;
    uint32_t *fail_nth, fail_nth_count, fail_nth_next;
    uint32_t prng;
    double probability, budget;
    double attempts, f_nth, f_prob, f_budget, f_inner;

    /* at_bind_walk */
    uint32_t slot;
    at_walk_fn bound_walk;
    void *bound_snapshot, *bound_marker, *bound_buffer;
    unsigned char *batch; /* at_bind_batch */
    uint32_t batch_bytes;

    /* user library */
    void *dl;
    at_user_alloc_fn user_alloc;
    at_user_free_fn user_free;
    at_user_dtor_fn user_dtor;
    void *user_ctx;
};

/* ---- platform ------------------------------------------------------------------------- */

/*
 * Event times (clock.c): every routine call and both ends of every Pss call read the cheap
 * event clock (RDTSC where the TSC is invariant), converted to CLOCK_MONOTONIC ns through the
 * tracer's anchor, which is re-taken at marker events and after ~1 ms of ticks.  Whole ns since
 * the session started, never going back.
 */
/* A fresh anchor; the events' time of tick 0 under it, so that a stamp is one multiply-add. */
static void reanchor(at_tracer *t) {
    clock_anchor(&t->clk);
    t->zero = (double)(t->clk.ns - t->clock_base) + t->time_offset_ns -
              (double)(int64_t)t->clk.tick * t->clk.scale;
}

static void stamp(at_tracer *t) {
    uint64_t k = clock_ticks();
    if (k - t->clk.tick > t->clk.period) {
        reanchor(t);
        k = t->clk.tick;
    }
    double ns = t->zero + (double)(int64_t)k * t->clk.scale;
    ns = (double)(int64_t)(ns + 0.5);
    if (ns > t->last_time) t->last_time = ns;
}

/* A fresh anchor, then a stamp (marker events: rare, so they keep the conversion exact). */
static void resync(at_tracer *t) {
    reanchor(t);
    stamp(t);
}

static _Thread_local uint32_t tls_tid __attribute__((tls_model("initial-exec")));

static uint32_t current_tid(void) {
    if (tls_tid == 0) {
#if defined(_WIN32)
        tls_tid = (uint32_t)GetCurrentThreadId();
#else
        tls_tid = (uint32_t)syscall(SYS_gettid);
#endif
    }
    return tls_tid;
}

static uint32_t clamp_u32(double v) {
    return v > 4294967295.0 ? 0xffffffffu : (uint32_t)v;
}

static uint32_t align16(uint32_t n) {
    return (n + 15u) & ~15u;
}

/* ---- events --------------------------------------------------------------------------- */

static at_event *next_record(at_tracer *t) {
    if (t->ovf_len == t->ovf_read) {
        uint32_t head = t->hdr[AT_RING_HEAD];
        uint32_t tail = __atomic_load_n(&t->hdr[AT_RING_TAIL], __ATOMIC_ACQUIRE);
        if (head - tail <= t->ring_mask) return &t->rec[head & t->ring_mask];
        t->ovf_len = t->ovf_read = 0;
    }
    if (t->ovf_len == t->ovf_cap) {
        uint32_t cap = t->ovf_cap ? t->ovf_cap * 2 : 1024;
        at_event *bigger = realloc(t->ovf, (size_t)cap * sizeof(at_event));
        if (!bigger) return NULL;
        t->ovf = bigger;
        t->ovf_cap = cap;
    }
    return &t->ovf[t->ovf_len];
}

static void commit_record(at_tracer *t, at_event *e) {
    if (e >= t->rec && e <= t->rec + t->ring_mask) {
        __atomic_store_n(&t->hdr[AT_RING_HEAD], t->hdr[AT_RING_HEAD] + 1, __ATOMIC_RELEASE);
    } else {
        t->ovf_len++;
        t->hdr[AT_RING_OVERFLOW] = t->ovf_len - t->ovf_read;
    }
}

static void write_event(at_tracer *t, uint32_t kind, uint32_t api, uint32_t cls, uint32_t tid,
                        uintptr_t addr, uint32_t size, uint32_t aux0, uint32_t aux1) {
    /* The event ending a Pss call carries the call's duration (at_enter to at_leave) as its
       size: layout.ts, "call-ending events". */
    if (kind >= K_MARKER_CREATED && kind <= K_API_ERROR && t->call_ns != 0 && api == t->call_api) {
        size = t->call_ns;
        t->call_ns = 0;
    }
    at_event *e = next_record(t);
    if (!e) return; /* out of memory for the overflow: the event is lost, counters too */
    e->seq = (double)t->seq++;
    e->time_ns = t->last_time;
    e->addr_lo = (uint32_t)((uint64_t)addr & 0xffffffffu);
    e->addr_hi = (uint32_t)((uint64_t)addr >> 32);
    e->size = size;
    e->kind = (uint8_t)kind;
    e->api = (uint8_t)api;
    e->walk_class = (uint8_t)cls;
    e->strategy = t->code;
    e->marker_id = t->marker_id;
    e->thread_id = tid;
    e->aux0 = aux0;
    e->aux1 = aux1;
    commit_record(t, e);
    t->hdr[AT_RING_WRITTEN] = (uint32_t)t->seq; /* a crashed process's count (ring-format.ts) */
    t->events++;
    if (kind >= FIRST_VIOLATION && kind < FIRST_VIOLATION + VIOLATION_COUNT)
        t->violations[kind - FIRST_VIOLATION]++;
}

static void emit(at_tracer *t, uint32_t kind, uintptr_t addr, uint32_t size, uint32_t aux0,
                 uint32_t aux1) {
    write_event(t, kind, t->api, t->cls, t->tid, addr, size, aux0, aux1);
}

static uint32_t class_row(uint32_t cls) {
    return cls == NO_CLASS ? CLASS_ROWS - 1 : (cls < CLASS_ROWS - 1 ? cls : CLASS_ROWS - 1);
}

static void count(at_tracer *t, int field, double v) {
    t->by_api[t->api * FIELDS + (uint32_t)field] += v;
    t->by_class[class_row(t->cls) * FIELDS + (uint32_t)field] += v;
}

/* ---- strategies ----------------------------------------------------------------------- */

static void guard_quarantine_evict_all(at_tracer *t);

static bool pool_add_slab(at_tracer *t, uint32_t c) {
    uint32_t bs = t->classes[c];
    size_t bytes = (size_t)bs * t->blocks_per_slab;
    uint32_t need = (t->slab_count[c] + 1) * t->blocks_per_slab;
    if (need > t->stack_cap[c]) {
        uint32_t cap = t->stack_cap[c] * 2 > need ? t->stack_cap[c] * 2 : need;
        uintptr_t *s = realloc(t->stack[c], (size_t)cap * sizeof(uintptr_t));
        if (!s) return false;
        t->stack[c] = s;
        t->stack_cap[c] = cap;
    }
    if (t->nslabs == t->slabs_cap) {
        uint32_t cap = t->slabs_cap ? t->slabs_cap * 2 : 16;
        void **s = realloc(t->slabs, (size_t)cap * sizeof(void *));
        if (!s) return false;
        t->slabs = s;
        t->slabs_cap = cap;
    }
    unsigned char *slab = malloc(bytes);
    if (!slab) return false;
    t->slabs[t->nslabs++] = slab;
    t->slab_bytes += (double)bytes;
    t->slab_count[c]++;
    /* pushed in reverse so that blocks are handed out in address order */
    for (uint32_t b = t->blocks_per_slab; b-- > 0;)
        t->stack[c][t->top[c]++] = (uintptr_t)(slab + (size_t)b * bs);
    return true;
}

/*
 * The base strategy's alloc: returns the block (NULL when it cannot), its fact (aux0) and tag,
 * and counts the strategy's own books.  The caller inserts the block into the live table.
 */
static void *strategy_alloc(at_tracer *t, uint32_t size, uint32_t *fact, uint32_t *tag) {
    *fact = 0;
    *tag = 0;
    switch (t->kind) {
    case AT_HEAP:
        return malloc(size);
    case AT_USER:
        return t->user_alloc(t->user_ctx, size);
    case AT_ARENA: {
        uint32_t need = size <= 16 ? 16 : align16(size);
        uint32_t at = t->arena_offset;
        if ((uint64_t)at + need > t->arena_cap) {
            t->arena_exhausted++;
            return NULL;
        }
        t->arena_offset = at + need;
        if (t->arena_offset > t->arena_high) t->arena_high = t->arena_offset;
        t->arena_padding += need - size;
        *fact = at;
        *tag = need;
        return t->arena + at;
    }
    case AT_POOL: {
        if (size > t->max_class) {
            void *p = malloc(size);
            if (!p) return NULL;
            t->fb_allocs++;
            t->fb_live++;
            t->fb_bytes += size;
            *fact = *tag = POOL_LARGE_FACT;
            return p;
        }
        uint32_t c = t->class_of[(size + 15) >> 4];
        t->requests[c]++;
        if (t->top[c] == 0 && !pool_add_slab(t, c)) return NULL;
        t->in_use[c]++;
        *fact = *tag = c;
        return (void *)t->stack[c][--t->top[c]];
    }
    case AT_GUARD: {
        size_t total = (size_t)t->rz * 2 + size;
        unsigned char *base = malloc(total);
        if (!base) return NULL;
        if (size <= PAINT_WHOLE_MAX) {
            memset(base, CANARY_BYTE, total);
        } else {
            memset(base, CANARY_BYTE, t->rz);
            memset(base + t->rz + size, CANARY_BYTE, t->rz);
        }
        t->held_bytes += (double)total;
        *fact = t->rz;
        return base + t->rz;
    }
    default:
        return NULL;
    }
}

/* Guard: compares the zones of a live block; writes findings (once per block). */
static uint32_t guard_check(at_tracer *t, at_slot *s) {
    unsigned char *p = (unsigned char *)s->addr;
    t->checks++;
    bool head_ok = memcmp(p - t->rz, t->ref, t->rz) == 0;
    bool tail_ok = memcmp(p + s->size, t->ref, t->rz) == 0;
    if (head_ok && tail_ok) return V_OK;
    uintptr_t addr = s->addr;
    uint32_t size = s->size, flags = s->tag;
    s->tag = flags | (tail_ok ? 0 : OVERRUN_REPORTED) | (head_ok ? 0 : UNDERRUN_REPORTED);
    if (!tail_ok && !(flags & OVERRUN_REPORTED)) {
        t->overruns++;
        emit(t, K_GUARD, addr, size, V_OVERRUN, 0);
    }
    if (!head_ok && !(flags & UNDERRUN_REPORTED)) {
        t->underruns++;
        emit(t, K_GUARD, addr, size, V_UNDERRUN, 0);
    }
    return tail_ok ? V_UNDERRUN : V_OVERRUN;
}

static void guard_quarantine_push(at_tracer *t, uintptr_t addr, uint32_t size) {
    uintptr_t old = t->qring[t->qnext];
    if (old != 0) {
        at_slot *q = table_find(&t->quarantine, old);
        if (q) {
            t->held_bytes -= (double)q->size + 2.0 * t->rz;
            table_remove(&t->quarantine, q);
            free((unsigned char *)old - t->rz);
        }
    }
    t->qring[t->qnext] = addr;
    t->qnext = (t->qnext + 1) % QUARANTINE_BLOCKS;
    at_slot *s = table_insert(&t->quarantine, addr);
    if (s) {
        s->size = size;
    } else { /* no memory to remember it: give it back now */
        t->qring[(t->qnext + QUARANTINE_BLOCKS - 1) % QUARANTINE_BLOCKS] = 0;
        t->held_bytes -= (double)size + 2.0 * t->rz;
        free((unsigned char *)addr - t->rz);
    }
}

static void guard_quarantine_evict_all(at_tracer *t) {
    for (uint32_t i = 0; i < QUARANTINE_BLOCKS; i++) {
        uintptr_t a = t->qring[i];
        if (a && table_find(&t->quarantine, a)) free((unsigned char *)a - t->rz);
        t->qring[i] = 0;
    }
    table_free(&t->quarantine);
}

/*
 * Frees live block `s` in the strategy (s is removed by the caller afterwards).  Returns the
 * fact for the Free event; guard findings are written after the Free event by the caller
 * through *pending_check.
 */
static uint32_t strategy_free(at_tracer *t, at_slot *s) {
    void *p = (void *)s->addr;
    switch (t->kind) {
    case AT_HEAP:
        free(p);
        return 0;
    case AT_USER:
        t->user_free(t->user_ctx, p);
        return 0;
    case AT_ARENA:
        t->arena_freed += s->tag;
        t->arena_padding -= s->tag - s->size;
        return (uint32_t)(s->addr - (uintptr_t)t->arena);
    case AT_POOL: {
        uint32_t c = s->tag;
        if (c == POOL_LARGE_FACT) {
            t->fb_live--;
            t->fb_bytes -= s->size;
            free(p);
            return c;
        }
        t->in_use[c]--;
        t->stack[c][t->top[c]++] = s->addr;
        return c;
    }
    default:
        return 0;
    }
}

static void strategy_reset(at_tracer *t) {
    if (t->kind == AT_ARENA && t->live.count == 0) {
        t->arena_offset = t->arena_start;
        t->arena_freed = 0;
        t->arena_padding = 0;
        t->arena_resets++;
    }
}

static double strategy_native_bytes(const at_tracer *t) {
    if (t->released) return 0;
    switch (t->kind) {
    case AT_ARENA:
        return t->arena_cap;
    case AT_POOL:
        return t->slab_bytes + t->fb_bytes;
    case AT_GUARD:
        return t->held_bytes + t->rz;
    default:
        return t->s_live_bytes;
    }
}

static void strategy_release(at_tracer *t) {
    for (uint32_t i = 0; t->live.slots && i <= t->live.mask; i++) {
        at_slot *s = &t->live.slots[i];
        if (s->addr == 0) continue;
        void *p = (void *)s->addr;
        if (t->kind == AT_HEAP || (t->kind == AT_POOL && s->tag == POOL_LARGE_FACT)) free(p);
        else if (t->kind == AT_GUARD) free((unsigned char *)p - t->rz);
        else if (t->kind == AT_USER) t->user_free(t->user_ctx, p);
    }
    t->outstanding_after_release = t->live.count;
    table_free(&t->live);
    t->s_live_bytes = 0;
    free(t->arena);
    t->arena = NULL;
    for (uint32_t i = 0; i < t->nslabs; i++) free(t->slabs[i]);
    free(t->slabs);
    t->slabs = NULL;
    t->nslabs = t->slabs_cap = 0;
    for (uint32_t c = 0; c < AT_MAX_POOL_CLASSES; c++) {
        free(t->stack[c]);
        t->stack[c] = NULL;
        t->top[c] = t->in_use[c] = t->stack_cap[c] = 0;
    }
    t->slab_bytes = t->fb_bytes = t->fb_live = 0;
    if (t->kind == AT_GUARD) guard_quarantine_evict_all(t);
    free(t->ref);
    t->ref = NULL;
    t->held_bytes = 0;
    if (t->user_dtor && t->user_ctx) t->user_dtor(t->user_ctx);
    t->user_ctx = NULL;
    t->user_dtor = NULL;
}

/* ---- fault injection (src-main/alloc/faulty.ts) --------------------------------------- */

/* mulberry32, bit for bit as faulty.ts: floats in [0, 1). */
static double prng_next(at_tracer *t) {
    uint32_t a = t->prng += 0x6d2b79f5u;
    uint32_t x = a;
    x = (x ^ (x >> 15)) * (x | 1u);
    x ^= x + (x ^ (x >> 7)) * (x | 61u);
    return (double)(x ^ (x >> 14)) / 4294967296.0;
}

static uint32_t inject(at_tracer *t, uint32_t size) {
    double attempt = ++t->attempts;
    double draw = prng_next(t);
    while (t->fail_nth_next < t->fail_nth_count && t->fail_nth[t->fail_nth_next] < attempt)
        t->fail_nth_next++;
    if (t->fail_nth_next < t->fail_nth_count && t->fail_nth[t->fail_nth_next] == attempt) {
        t->f_nth++;
        return FAIL_NTH;
    }
    if (draw < t->probability) {
        t->f_prob++;
        return FAIL_PROBABILITY;
    }
    if (t->budget >= 0 && t->s_live_bytes + size > t->budget) {
        t->f_budget++;
        return FAIL_BUDGET;
    }
    return FAIL_NONE;
}

/* ---- the routines --------------------------------------------------------------------- */

static void check_context(at_tracer *t, uintptr_t addr, uint32_t size) {
    stamp(t); /* every routine call has its own time */
    if (t->api == API_NONE) {
        emit(t, K_WRONG_THREAD, addr, size, 1, 0);
        return;
    }
    uint32_t tid = current_tid();
    if (tid != t->tid) write_event(t, K_WRONG_THREAD, t->api, t->cls, tid, addr, size, 2, t->tid);
}

static void *note_failed(at_tracer *t, uint32_t size, uint32_t reason) {
    t->failures++;
    count(t, F_FAILURES, 1);
    emit(t, K_ALLOC_FAILED, 0, size, reason, clamp_u32(t->live_bytes));
    return NULL;
}

static void *AT_WINAPI at_alloc_routine(void *context, uint32_t size) {
    at_tracer *t = context;
    check_context(t, 0, size);
    if (t->released) {
        emit(t, K_RELEASED, 0, size, 2, 0);
        return note_failed(t, size, FAIL_EXHAUSTED);
    }
    if (t->faulty) {
        uint32_t reason = inject(t, size);
        if (reason != FAIL_NONE) return note_failed(t, size, reason);
    }
    uint32_t fact, tag;
    void *p = strategy_alloc(t, size, &fact, &tag);
    if (!p) {
        t->s_failures++;
        if (t->faulty) t->f_inner++;
        return note_failed(t, size, FAIL_EXHAUSTED);
    }
    uintptr_t a = (uintptr_t)p;
    if (t->kind == AT_USER) {
        if (a & 15u) emit(t, K_USER_ALLOCATOR, a, size, USER_MISALIGNED, 0);
        at_slot *dup = table_find(&t->live, a);
        if (dup) {
            /* the user's allocator handed out a block that is still live: the old one is
               forgotten (the API now holds two structures in one block) */
            emit(t, K_USER_ALLOCATOR, a, size, USER_OVERLAP, dup->size);
            t->s_live_bytes -= dup->size;
            t->live_bytes -= dup->size;
            if (dup->flags & SLOT_LEAKED) t->leaked--;
            table_remove(&t->live, dup);
        }
    }
    at_slot *s = table_insert(&t->live, a);
    if (!s) { /* no memory to track it: give it back and fail the call */
        at_slot tmp = {a, size, 0, tag, 0};
        if (t->kind == AT_GUARD) free((unsigned char *)p - t->rz);
        else strategy_free(t, &tmp);
        t->s_failures++;
        return note_failed(t, size, FAIL_EXHAUSTED);
    }
    s->size = size;
    s->seq = (uint32_t)t->seq;
    s->tag = t->kind == AT_GUARD ? 0 : tag;
    t->s_allocs++;
    t->s_total += size;
    t->s_live_bytes += size;
    if (t->s_live_bytes > t->s_peak) t->s_peak = t->s_live_bytes;
    t->allocations++;
    t->bytes_allocated += size;
    t->live_bytes += size;
    if (t->live_bytes > t->peak_live_bytes) t->peak_live_bytes = t->live_bytes;
    count(t, F_ALLOCS, 1);
    count(t, F_ALLOC_BYTES, size);
    emit(t, K_ALLOC, a, size, fact, clamp_u32(t->live_bytes));
    return p;
}

static void AT_WINAPI at_free_routine(void *context, void *address) {
    at_tracer *t = context;
    uintptr_t a = (uintptr_t)address;
    check_context(t, a, 0);
    if (t->released) {
        emit(t, K_RELEASED, a, 0, 2, 0);
        return;
    }
    if (a == 0) {
        t->s_free_nulls++;
        t->free_nulls++;
        count(t, F_FREE_NULLS, 1);
        emit(t, K_FREE_NULL, 0, 0, 0, clamp_u32(t->live_bytes));
        /* FreeRoutine must accept NULL: a user's routine is called to prove it does */
        if (t->kind == AT_USER) t->user_free(t->user_ctx, NULL);
        return;
    }
    at_slot *s = table_find(&t->live, a);
    if (!s) {
        uint32_t verdict = V_UNKNOWN;
        if (t->kind == AT_GUARD && table_find(&t->quarantine, a)) {
            verdict = V_DOUBLE_FREE;
            t->double_frees++;
        } else if (t->kind == AT_GUARD) {
            t->unknown_frees++;
        }
        t->s_bad_frees++;
        emit(t, verdict == V_DOUBLE_FREE ? K_DOUBLE_FREE : K_UNKNOWN_FREE, a, 0, verdict, 0);
        return;
    }
    uint32_t size = s->size;
    if (s->flags & SLOT_LEAKED) t->leaked--;
    t->s_frees++;
    t->s_live_bytes -= size;
    t->frees++;
    t->bytes_freed += size;
    t->live_bytes -= size;
    count(t, F_FREES, 1);
    count(t, F_FREE_BYTES, size);
    if (t->kind == AT_GUARD) {
        /* the Free event first, then what the check found (as the JS tracer orders them) */
        at_slot copy = *s;
        bool head_ok = memcmp((unsigned char *)a - t->rz, t->ref, t->rz) == 0;
        bool tail_ok = memcmp((unsigned char *)a + size, t->ref, t->rz) == 0;
        uint32_t verdict = head_ok && tail_ok ? V_OK : (tail_ok ? V_UNDERRUN : V_OVERRUN);
        table_remove(&t->live, s);
        emit(t, K_FREE, a, size, verdict, clamp_u32(t->live_bytes));
        t->checks++;
        if (!tail_ok && !(copy.tag & OVERRUN_REPORTED)) {
            t->overruns++;
            emit(t, K_GUARD, a, size, V_OVERRUN, 0);
        }
        if (!head_ok && !(copy.tag & UNDERRUN_REPORTED)) {
            t->underruns++;
            emit(t, K_GUARD, a, size, V_UNDERRUN, 0);
        }
        guard_quarantine_push(t, a, size);
        return;
    }
    uint32_t fact = strategy_free(t, s);
    table_remove(&t->live, s);
    emit(t, K_FREE, a, size, fact, clamp_u32(t->live_bytes));
}

/* ---- marker events -------------------------------------------------------------------- */

/* fresh: read the clock; otherwise the call starts at the last reading (see at_step_n) */
static void enter_call(at_tracer *t, uint32_t api, uint32_t walk_class, bool fresh) {
    t->api = api;
    t->cls = walk_class <= 4 ? walk_class : NO_CLASS;
    t->tid = current_tid();
    t->call_ns = 0;
    if (fresh) stamp(t);
    t->enter_time = t->last_time;
    t->by_api[api * FIELDS + F_CALLS]++;
    t->by_class[class_row(t->cls) * FIELDS + F_CALLS]++;
}

AT_API void at_enter(at_tracer *t, uint32_t api, uint32_t walk_class) {
    if (!t || api == API_NONE || api >= API_COUNT) return;
    enter_call(t, api, walk_class, true);
}


static void do_release(at_tracer *t);

AT_API void at_leave(at_tracer *t, uint32_t code) {
    if (!t || t->api == API_NONE) return;
    uint32_t api = t->api;
    stamp(t);
    double d = t->last_time - t->enter_time;
    /* a duration of 0 would read as "not recorded": a call that took < 0.5 ns took 1 */
    t->call_ns = d < 1 ? 1u : clamp_u32(d);
    t->call_api = api;
    if (code != WIN32_SUCCESS && code != WIN32_NO_MORE_ITEMS && code != WIN32_MORE_DATA) {
        t->by_api[api * FIELDS + F_ERRORS]++;
        t->by_class[class_row(t->cls) * FIELDS + F_ERRORS]++;
    }
    t->api = API_NONE;
    t->cls = NO_CLASS;
    if (api == API_CREATE && code == WIN32_SUCCESS) t->marker_live = true;
    if (t->release_pending && !t->marker_live) do_release(t);
}


AT_API void at_marker_created(at_tracer *t) {
    if (!t) return;
    t->marker_live = true;
    resync(t);
    write_event(t, K_MARKER_CREATED, API_CREATE, NO_CLASS, t->tid, 0, 0, 0, 0);
}

/* A marker event right after at_leave happens at the leave's time; otherwise now. */
static void stamp_marker(at_tracer *t, uint32_t api) {
    if (t->call_ns == 0 || t->call_api != api) stamp(t);
}

AT_API void at_walk_step(at_tracer *t, uint32_t walk_class, uint32_t entry_index,
                         uint32_t code) {
    if (!t) return;
    stamp_marker(t, API_WALK);
    write_event(t, K_WALK_STEP, API_WALK, walk_class, t->tid, 0, 0, entry_index, code);
}

AT_API void at_walk_end(at_tracer *t, uint32_t walk_class, uint32_t n) {
    if (!t) return;
    stamp_marker(t, API_WALK);
    write_event(t, K_WALK_END, API_WALK, walk_class, t->tid, 0, 0, n, WIN32_NO_MORE_ITEMS);
}

AT_API void at_position(at_tracer *t, uint32_t set, uint32_t lo, uint32_t hi) {
    if (!t) return;
    resync(t);
    write_event(t, set ? K_POSITION_SET : K_POSITION_GET, set ? 5u : 6u, NO_CLASS, t->tid, 0, 0,
                lo, hi);
}

AT_API void at_seek(at_tracer *t) {
    if (!t) return;
    resync(t);
    write_event(t, K_SEEK, 4, NO_CLASS, t->tid, 0, 0, 0, 0);
}

AT_API void at_api_error(at_tracer *t, uint32_t api, uint32_t code) {
    if (!t) return;
    stamp_marker(t, api);
    write_event(t, K_API_ERROR, api, api == t->api ? t->cls : NO_CLASS, t->tid, 0, 0, 0, code);
}

static uint32_t walk_call(at_tracer *t, at_walk_fn walk, void *snapshot, int32_t walk_class,
                          void *marker, void *buffer, uint32_t length, uint32_t entry_index,
                          bool fresh) {
    uint32_t cls = (uint32_t)walk_class;
    enter_call(t, API_WALK, cls, fresh);
    uint32_t code = walk(snapshot, walk_class, marker, buffer, length);
    at_leave(t, code);
    if (code == WIN32_SUCCESS) at_walk_step(t, cls, entry_index, code);
    else if (code == WIN32_NO_MORE_ITEMS) at_walk_end(t, cls, entry_index);
    else at_api_error(t, API_WALK, code);
    return code;
}

AT_API uint32_t at_walk(at_tracer *t, at_walk_fn walk, void *snapshot, int32_t walk_class,
                        void *marker, void *buffer, uint32_t length, uint32_t entry_index) {
    uint32_t cls = (uint32_t)walk_class;
    at_enter(t, API_WALK, cls);
    uint32_t code = walk(snapshot, walk_class, marker, buffer, length);
    at_leave(t, code);
    if (code == WIN32_SUCCESS) at_walk_step(t, cls, entry_index, code);
    else if (code == WIN32_NO_MORE_ITEMS) at_walk_end(t, cls, entry_index);
    else at_api_error(t, API_WALK, code);
    return code;
}

/* ---- walk slots ------------------------------------------------------------------------ */

#define MAX_SLOTS 4096u
static at_tracer *slots[MAX_SLOTS];
#if defined(_WIN32)
static SRWLOCK slot_lock = SRWLOCK_INIT;
#define SLOT_LOCK() AcquireSRWLockExclusive(&slot_lock)
#define SLOT_UNLOCK() ReleaseSRWLockExclusive(&slot_lock)
#else
#include <pthread.h>
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
#define SLOT_LOCK() pthread_mutex_lock(&slot_lock)
#define SLOT_UNLOCK() pthread_mutex_unlock(&slot_lock)
#endif

AT_API uint32_t at_bind_walk(at_tracer *t, at_walk_fn walk, void *snapshot, void *marker,
                             void *buffer) {
    if (!t || !walk) return 0;
    if (t->slot == 0) {
        SLOT_LOCK();
        for (uint32_t i = 1; i < MAX_SLOTS; i++)
            if (!slots[i]) {
                slots[i] = t;
                t->slot = i;
                break;
            }
        SLOT_UNLOCK();
        if (t->slot == 0) return 0;
    }
    t->bound_walk = walk;
    t->bound_snapshot = snapshot;
    t->bound_marker = marker;
    t->bound_buffer = buffer;
    return t->slot;
}

AT_API uint32_t at_step(uint32_t slot, int32_t walk_class, uint32_t length, uint32_t entry_index) {
    at_tracer *t = slot < MAX_SLOTS ? slots[slot] : NULL;
    if (!t || !t->bound_walk) return 6u; /* ERROR_INVALID_HANDLE */
    return at_walk(t, t->bound_walk, t->bound_snapshot, walk_class, t->bound_marker,
                   t->bound_buffer, length, entry_index);
}

AT_API uint32_t at_bind_batch(uint32_t slot, void *area, uint32_t bytes) {
    at_tracer *t = slot < MAX_SLOTS ? slots[slot] : NULL;
    if (!t) return 6u;
    t->batch = area;
    t->batch_bytes = area ? bytes : 0;
    return 0;
}

AT_API uint32_t at_step_n(uint32_t slot, int32_t walk_class, uint32_t length, uint32_t entry_index,
                          uint32_t max_steps) {
    at_tracer *t = slot < MAX_SLOTS ? slots[slot] : NULL;
    if (!t || !t->bound_walk || !t->batch || length == 0 || max_steps == 0) {
        if (t) t->hdr[AT_RING_LAST_CODE] = 6u; /* ERROR_INVALID_HANDLE */
        return 0;
    }
    uint32_t room = t->batch_bytes / length;
    if (max_steps > room) max_steps = room;
    uint32_t code = 6u, k = 0;
    while (k < max_steps) {
        /* a call after the first starts where the one before ended (one clock read less per
           step: ~25 ns under a hypervisor); the few ns between them are the tracer's own */
        bool fresh = k == 0;
        code = walk_call(t, t->bound_walk, t->bound_snapshot, walk_class, t->bound_marker,
                         t->batch + (size_t)k * length, length, entry_index + k, fresh);
        k++;
        if (code != WIN32_SUCCESS) break;
    }
    t->hdr[AT_RING_LAST_CODE] = code;
    return k;
}

static void unbind(at_tracer *t) {
    if (t->slot == 0) return;
    SLOT_LOCK();
    slots[t->slot] = NULL;
    SLOT_UNLOCK();
    t->slot = 0;
}

static void check_all(at_tracer *t) {
    if (t->released || t->kind != AT_GUARD || !t->live.slots) return;
    for (uint32_t i = 0; i <= t->live.mask; i++)
        if (t->live.slots[i].addr) guard_check(t, &t->live.slots[i]);
}

static int by_seq(const void *a, const void *b) {
    uint32_t x = (*(at_slot *const *)a)->seq, y = (*(at_slot *const *)b)->seq;
    return x < y ? -1 : x > y;
}

/* One Leak event per outstanding block not reported yet (in Alloc order). */
static void report_leaks(at_tracer *t, uint32_t api, uint32_t *blocks, double *bytes) {
    *blocks = 0;
    *bytes = 0;
    uint32_t n = t->live.count - t->leaked;
    if (n == 0) return;
    at_slot **list = malloc((size_t)n * sizeof *list);
    uint32_t k = 0;
    for (uint32_t i = 0; i <= t->live.mask; i++) {
        at_slot *s = &t->live.slots[i];
        if (s->addr == 0 || (s->flags & SLOT_LEAKED)) continue;
        if (list) list[k] = s;
        k++;
    }
    if (list) qsort(list, k, sizeof *list, by_seq);
    for (uint32_t i = 0, j = 0; i < k; j++) {
        at_slot *s = list ? list[i] : &t->live.slots[j];
        if (!list && (s->addr == 0 || (s->flags & SLOT_LEAKED))) continue;
        write_event(t, K_LEAK, api, NO_CLASS, t->tid, s->addr, s->size, s->seq, 0);
        s->flags |= SLOT_LEAKED;
        *bytes += s->size;
        i++;
    }
    t->leaked += k;
    *blocks = k;
    free(list);
}

AT_API void at_marker_freed(at_tracer *t) {
    if (!t) return;
    resync(t);
    check_all(t);
    uint32_t blocks = 0;
    double bytes = 0;
    if (!t->released) report_leaks(t, API_FREE, &blocks, &bytes);
    t->marker_live = false;
    write_event(t, K_MARKER_FREED, API_FREE, NO_CLASS, t->tid, 0, 0, blocks, clamp_u32(bytes));
    if (!t->released) strategy_reset(t);
    if (t->release_pending && t->api == API_NONE) do_release(t);
}

static void do_release(at_tracer *t) {
    check_all(t);
    uint32_t blocks;
    double bytes;
    report_leaks(t, API_NONE, &blocks, &bytes);
    strategy_release(t);
    t->released = true;
    t->release_pending = false;
}

AT_API int at_release(at_tracer *t) {
    if (!t) return 1;
    if (t->released) return 1;
    resync(t);
    if (t->marker_live || t->api != API_NONE) {
        if (!t->release_pending) {
            t->release_pending = true;
            emit(t, K_RELEASED, 0, 0, 1, 0);
        }
        return 0;
    }
    do_release(t);
    return 1;
}

/* ---- lifetime ------------------------------------------------------------------------- */

static void set_err(char *err, uint32_t len, const char *msg) {
    if (err && len) snprintf(err, len, "%s", msg);
}

static int setup_strategy(at_tracer *t, const at_config *c, char *err, uint32_t err_len) {
    char msg[160];
    switch (c->strategy) {
    case AT_HEAP:
    case AT_USER:
        return AT_OK;
    case AT_ARENA:
        if (c->arena_capacity < 4096u || c->arena_capacity > (1u << 30)) {
            snprintf(msg, sizeof msg, "arena capacity %u out of range (4 KiB to 1 GiB)",
                     c->arena_capacity);
            set_err(err, err_len, msg);
            return AT_E_ARGUMENT;
        }
        t->arena_cap = c->arena_capacity;
        t->arena = malloc(t->arena_cap);
        if (!t->arena) return AT_E_MEMORY;
        t->arena_start = (uint32_t)(align16((uint32_t)((uintptr_t)t->arena & 15u)) -
                                    ((uintptr_t)t->arena & 15u));
        t->arena_offset = t->arena_high = t->arena_start;
        return AT_OK;
    case AT_POOL: {
        uint32_t n = c->pool_class_count, prev = 0;
        if (n < 1 || n > AT_MAX_POOL_CLASSES || c->blocks_per_slab < 1 ||
            c->blocks_per_slab > 65536u) {
            set_err(err, err_len, "pool: 1 to 32 classes and 1 to 65536 blocks per slab");
            return AT_E_ARGUMENT;
        }
        for (uint32_t i = 0; i < n; i++) {
            uint32_t cs = c->pool_classes[i];
            if (cs % 16 != 0 || cs <= prev || cs > (1u << 20) ||
                (uint64_t)cs * c->blocks_per_slab > (64u << 20)) {
                snprintf(msg, sizeof msg, "pool: bad class size %u", cs);
                set_err(err, err_len, msg);
                return AT_E_ARGUMENT;
            }
            t->classes[i] = prev = cs;
        }
        t->nclasses = n;
        t->blocks_per_slab = c->blocks_per_slab;
        t->max_class = prev;
        t->class_of = malloc(prev / 16 + 1);
        if (!t->class_of) return AT_E_MEMORY;
        uint32_t k = 0;
        for (uint32_t g = 0; g <= prev / 16; g++) {
            while (t->classes[k] < g * 16) k++;
            t->class_of[g] = (uint8_t)k;
        }
        return AT_OK;
    }
    case AT_GUARD:
        if (c->red_zone < 1 || c->red_zone > 4096) {
            snprintf(msg, sizeof msg, "guard: red zone %u out of range (1 to 4096)", c->red_zone);
            set_err(err, err_len, msg);
            return AT_E_ARGUMENT;
        }
        t->rz = align16(c->red_zone);
        t->ref = malloc(t->rz);
        if (!t->ref || !table_init(&t->quarantine, QUARANTINE_BLOCKS * 2)) return AT_E_MEMORY;
        memset(t->ref, CANARY_BYTE, t->rz);
        return AT_OK;
    default:
        snprintf(msg, sizeof msg, "unknown strategy %u", c->strategy);
        set_err(err, err_len, msg);
        return AT_E_ARGUMENT;
    }
}

AT_API int at_create(const at_config *c, void *ring, uint32_t capacity, double time_offset_ns,
                     at_tracer **out, char *err, uint32_t err_len) {
    if (err && err_len) err[0] = 0;
    if (!out) return AT_E_ARGUMENT;
    *out = NULL;
    if (!c || !ring || capacity < 16 || (capacity & (capacity - 1)) != 0) {
        set_err(err, err_len, "a config and a ring of a power-of-two capacity >= 16 are needed");
        return AT_E_ARGUMENT;
    }
    if (c->faulty) {
        if (!(c->fail_probability >= 0 && c->fail_probability <= 1) ||
            (c->fail_nth_count > 0 && !c->fail_nth)) {
            set_err(err, err_len, "faulty: probability must be in [0, 1]");
            return AT_E_ARGUMENT;
        }
        for (uint32_t i = 1; i < c->fail_nth_count; i++)
            if (c->fail_nth[i] <= c->fail_nth[i - 1]) {
                set_err(err, err_len, "faulty: failNth must be ascending and unique");
                return AT_E_ARGUMENT;
            }
    }
    at_tracer *t = calloc(1, sizeof *t);
    if (!t) return AT_E_MEMORY;
    t->kind = c->strategy;
    int rc = setup_strategy(t, c, err, err_len);
    if (rc == AT_OK && c->strategy == AT_USER) {
        at_user_ctor_fn ctor = NULL;
        rc = userlib_open(c->user_library, &t->dl, &t->user_alloc, &t->user_free, &ctor,
                          &t->user_dtor, err, err_len);
        if (rc == AT_OK && ctor) {
            t->user_ctx = ctor();
            if (!t->user_ctx) {
                set_err(err, err_len, "AllocatorContextCreate returned NULL");
                t->user_dtor = NULL;
                rc = AT_E_CONTEXT;
            }
        }
    }
    /* a walk keeps a few thousand blocks live (libpss holds every string until marker free):
       sized for them up front, the table does not rehash its way up during the walk */
    if (rc == AT_OK && !table_init(&t->live, 4096)) rc = AT_E_MEMORY;
    if (rc == AT_OK && c->faulty && c->fail_nth_count > 0) {
        t->fail_nth = malloc((size_t)c->fail_nth_count * sizeof(uint32_t));
        if (!t->fail_nth) rc = AT_E_MEMORY;
        else memcpy(t->fail_nth, c->fail_nth, (size_t)c->fail_nth_count * sizeof(uint32_t));
        t->fail_nth_count = c->fail_nth_count;
    }
    if (rc != AT_OK) {
        if (rc == AT_E_MEMORY) set_err(err, err_len, "out of memory creating the allocator");
        t->released = true;
        strategy_release(t);
        if (t->dl) userlib_close(t->dl);
        free(t->class_of);
        free(t->fail_nth);
        free(t);
        return rc;
    }
    t->pss.Context = t;
    t->pss.AllocRoutine = at_alloc_routine;
    t->pss.FreeRoutine = at_free_routine;
    t->code = (uint8_t)(c->strategy | (c->faulty ? FAULTY_BIT : 0));
    t->marker_id = c->marker_id;
    t->faulty = c->faulty != 0;
    t->prng = c->seed;
    t->probability = c->faulty ? c->fail_probability : 0;
    t->budget = c->faulty ? c->budget_bytes : -1;
    t->hdr = ring;
    t->rec = (at_event *)((unsigned char *)ring + AT_RING_HEADER);
    t->ring_mask = capacity - 1;
    memset(ring, 0, AT_RING_HEADER);
    t->hdr[AT_RING_CAPACITY] = capacity;
    clock_anchor(&t->clk);
    t->clock_base = t->clk.ns;
    t->time_offset_ns = time_offset_ns;
    t->last_time = time_offset_ns;
    reanchor(t);
    t->api = API_NONE;
    t->cls = NO_CLASS;
    t->tid = current_tid();
    *out = t;
    return AT_OK;
}

AT_API void at_destroy(at_tracer *t) {
    if (!t) return;
    unbind(t);
    if (!t->released) {
        t->released = true;
        strategy_release(t);
    }
    if (t->dl) userlib_close(t->dl);
    free(t->class_of);
    free(t->fail_nth);
    free(t->ovf);
    free(t);
}

AT_API void at_set_origin(at_tracer *t, double origin_mono_ns) {
    if (!t || !(origin_mono_ns >= 0) || t->seq != 0) return; /* before the first event only */
    t->clock_base = (int64_t)origin_mono_ns;
    t->time_offset_ns = 0;
    t->last_time = 0;
    resync(t);
}

AT_API const at_pss_allocator *at_allocator(at_tracer *t) {
    return t ? &t->pss : NULL;
}

AT_API uint32_t at_drain_overflow(at_tracer *t, void *dst, uint32_t max_events) {
    if (!t || !dst) return 0;
    uint32_t n = t->ovf_len - t->ovf_read;
    if (n > max_events) n = max_events;
    memcpy(dst, t->ovf + t->ovf_read, (size_t)n * sizeof(at_event));
    t->ovf_read += n;
    if (t->ovf_read == t->ovf_len) t->ovf_read = t->ovf_len = 0;
    t->hdr[AT_RING_OVERFLOW] = t->ovf_len - t->ovf_read;
    return n;
}

AT_API uint32_t at_stats(at_tracer *t, double *out, uint32_t n) {
    if (!t || !out) return AT_S_COUNT;
    double s[AT_S_COUNT];
    memset(s, 0, sizeof s);
    s[AT_S_EVENTS] = t->events;
    s[AT_S_ALLOCATIONS] = t->allocations;
    s[AT_S_FAILURES] = t->failures;
    s[AT_S_FREES] = t->frees;
    s[AT_S_FREE_NULLS] = t->free_nulls;
    s[AT_S_BYTES_ALLOCATED] = t->bytes_allocated;
    s[AT_S_BYTES_FREED] = t->bytes_freed;
    s[AT_S_LIVE_BYTES] = t->live_bytes;
    s[AT_S_PEAK_LIVE_BYTES] = t->peak_live_bytes;
    s[AT_S_OUTSTANDING_BLOCKS] = t->released ? t->outstanding_after_release : t->live.count;
    s[AT_S_MARKER_LIVE] = t->marker_live;
    s[AT_S_RELEASED] = t->released;
    s[AT_S_RELEASE_PENDING] = t->release_pending;
    memcpy(&s[AT_S_VIOLATIONS], t->violations, sizeof t->violations);
    memcpy(&s[AT_S_BY_API], t->by_api, sizeof t->by_api);
    memcpy(&s[AT_S_BY_CLASS], t->by_class, sizeof t->by_class);
    double *st = &s[AT_S_STRATEGY];
    st[0] = t->s_allocs;
    st[1] = t->s_failures + (t->f_nth + t->f_prob + t->f_budget);
    st[2] = t->s_frees;
    st[3] = t->s_free_nulls;
    st[4] = t->s_bad_frees;
    st[5] = t->released ? 0 : t->live.count;
    st[6] = t->s_live_bytes;
    st[7] = t->s_peak;
    st[8] = t->s_total;
    st[9] = strategy_native_bytes(t);
    double *f = &s[AT_S_FACTS];
    switch (t->kind) {
    case AT_ARENA: {
        double used = (double)t->arena_offset - t->arena_start;
        f[0] = t->arena_cap;
        f[1] = used;
        f[2] = (double)t->arena_high - t->arena_start;
        f[3] = t->arena_freed;
        f[4] = t->arena_padding;
        f[5] = used - t->s_live_bytes;
        f[6] = t->arena_exhausted;
        f[7] = t->arena_resets;
        break;
    }
    case AT_POOL:
        f[0] = t->blocks_per_slab;
        f[1] = t->nclasses;
        f[2] = t->fb_allocs;
        f[3] = t->fb_live;
        f[4] = t->fb_bytes;
        for (uint32_t c = 0; c < t->nclasses; c++) {
            double *p = &s[AT_S_POOL + 5 * c];
            p[0] = t->classes[c];
            p[1] = t->in_use[c];
            p[2] = t->top[c];
            p[3] = t->slab_count[c];
            p[4] = t->requests[c];
        }
        break;
    case AT_GUARD:
        f[0] = t->rz;
        f[1] = CANARY_BYTE;
        f[2] = t->overruns;
        f[3] = t->underruns;
        f[4] = t->double_frees;
        f[5] = t->unknown_frees;
        f[6] = t->checks;
        f[7] = t->quarantine.count;
        break;
    default:
        break;
    }
    double *q = &s[AT_S_FAULTS];
    q[0] = t->f_nth + t->f_prob + t->f_budget;
    q[1] = t->attempts;
    q[2] = t->f_nth;
    q[3] = t->f_prob;
    q[4] = t->f_budget;
    q[5] = t->f_inner;
    memcpy(out, s, (size_t)(n < AT_S_COUNT ? n : AT_S_COUNT) * sizeof(double));
    return AT_S_COUNT;
}

AT_API int at_clock_source(void) {
    return clock_source();
}

AT_API uint32_t at_version(void) {
    return AT_VERSION;
}

_Static_assert(sizeof(at_event) == AT_EVENT_SIZE, "event record is 48 bytes");
_Static_assert(offsetof(at_event, addr_lo) == 16 && offsetof(at_event, size) == 24 &&
                   offsetof(at_event, kind) == 28 && offsetof(at_event, marker_id) == 32 &&
                   offsetof(at_event, aux1) == 44,
               "event layout matches src-shared/events/layout.ts");
_Static_assert(sizeof(at_pss_allocator) == 24, "PSS_ALLOCATOR is 24 bytes");
