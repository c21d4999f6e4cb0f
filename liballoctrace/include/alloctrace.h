/*
 * liballoctrace -- native PSS_ALLOCATOR strategies and tracer for PSS Inspector.
 *
 * A tracer owns one allocator (a built-in strategy: heap, arena, pool, guard; or the routines
 * of a user's shared library), optionally behind a fault injector, and hands out a
 * PSS_ALLOCATOR whose AllocRoutine/FreeRoutine are C functions of this library: libpss calls
 * them directly, no JavaScript runs per allocation.  Every routine call, and every marker
 * event the caller reports (at_enter/at_leave bracket each Pss call), becomes one 48-byte
 * record (src-shared/events/layout.ts) in a single-producer ring the caller owns and reads in
 * place.  Contract checks (a routine outside a Pss call or on another thread, unknown and
 * double frees, blocks still outstanding at marker free, guard red-zone damage, a user
 * allocator returning misaligned or already-live blocks) are written as events too.
 *
 * Threading: a tracer is used by one thread at a time (the walking thread).  Its routines
 * never crash or abort on bad input: a bad free is reported and ignored.
 */
#ifndef ALLOCTRACE_H
#define ALLOCTRACE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define AT_WINAPI __stdcall
#define AT_API __declspec(dllexport)
#else
#define AT_WINAPI
#define AT_API __attribute__((visibility("default")))
#endif

/* PSS_ALLOCATOR, as processsnapshot.h declares it (24 bytes on x86-64). */
typedef struct at_pss_allocator {
    void *Context;
    void *(AT_WINAPI *AllocRoutine)(void *Context, uint32_t Size);
    void(AT_WINAPI *FreeRoutine)(void *Context, void *Address);
} at_pss_allocator;

/* The signatures a user allocator library exports (docs/user-allocator.md). */
typedef void *(AT_WINAPI *at_user_alloc_fn)(void *Context, uint32_t Size);
typedef void(AT_WINAPI *at_user_free_fn)(void *Context, void *Address);
typedef void *(AT_WINAPI *at_user_ctor_fn)(void);
typedef void(AT_WINAPI *at_user_dtor_fn)(void *Context);

/* PssWalkSnapshot's signature, for at_walk. */
typedef uint32_t(AT_WINAPI *at_walk_fn)(void *Snapshot, int32_t Class, void *Marker, void *Buffer,
                                        uint32_t Length);

enum {
    AT_HEAP = 0,
    AT_ARENA = 1,
    AT_POOL = 2,
    AT_GUARD = 3,
    AT_USER = 4, /* the routines of a user library (config.user_library) */
};

#define AT_MAX_POOL_CLASSES 32u
#define AT_EVENT_SIZE 48u
/* The ring: a 64-byte header, then capacity records of 48 bytes. */
#define AT_RING_HEADER 64u

/*
 * Ring header (little-endian u32 words, read in place by the consumer):
 *   word 0  head      records written so far (mod 2^32); the producer's
 *   word 1  tail      records consumed so far (mod 2^32); the consumer's
 *   word 2  capacity  records the ring holds (a power of two)
 *   word 3  overflow  records waiting in the overflow buffer (at_drain_overflow)
 *   word 4  last code the code of the last call at_step_n made
 *   word 5  written   records written in all, into the ring or the overflow (mod 2^32): the
 *                     next record's seq; with the records' own seqs, a reader of a ring file
 *                     whose writer died can tell exactly which records never reached it
 * Records i in [tail, head) are at AT_RING_HEADER + (i & (capacity-1)) * 48.  When the ring
 * is full, records go to a growing overflow buffer (and keep going there until it is drained,
 * so order is kept): drain the ring first, then the overflow.
 */
enum {
    AT_RING_HEAD = 0,
    AT_RING_TAIL = 1,
    AT_RING_CAPACITY = 2,
    AT_RING_OVERFLOW = 3,
    AT_RING_LAST_CODE = 4,
    AT_RING_WRITTEN = 5
};

typedef struct at_config {
    uint32_t strategy;        /* AT_HEAP .. AT_USER */
    uint32_t marker_id;       /* the events' markerId */
    uint32_t arena_capacity;  /* arena: bytes (4 KiB .. 1 GiB) */
    uint32_t red_zone;        /* guard: bytes of each red zone (1 .. 4096, rounded up to 16) */
    uint32_t blocks_per_slab; /* pool */
    uint32_t pool_class_count;
    uint32_t pool_classes[AT_MAX_POOL_CLASSES]; /* ascending multiples of 16 */
    uint32_t faulty;          /* non-zero: a fault injector sits in front */
    uint32_t seed;            /* faulty: mulberry32 seed */
    double fail_probability;  /* faulty: [0, 1] */
    double budget_bytes;      /* faulty: < 0 = no budget */
    const uint32_t *fail_nth; /* faulty: 1-based attempt numbers, ascending, unique */
    uint32_t fail_nth_count;
    uint32_t reserved;
    const char *user_library; /* AT_USER: path of the shared library */
} at_config;

/* Result codes of at_create / at_check_library. */
enum {
    AT_OK = 0,
    AT_E_ARGUMENT = 1,      /* a config value out of range */
    AT_E_MEMORY = 2,        /* no memory for the tracer or the strategy's up-front block */
    AT_E_NOT_READABLE = 3,  /* the user library cannot be opened for reading */
    AT_E_NOT_SHARED = 4,    /* it is not a shared object of this platform */
    AT_E_LOAD = 5,          /* the loader refused it (dlerror / GetLastError) */
    AT_E_SYMBOLS = 6,       /* AllocRoutine or FreeRoutine is missing */
    AT_E_CONTEXT = 7,       /* AllocatorContextCreate returned NULL */
};

typedef struct at_tracer at_tracer;

/* Stats layout (at_stats fills doubles at these indices). */
enum {
    AT_S_EVENTS = 0,
    AT_S_ALLOCATIONS,
    AT_S_FAILURES,
    AT_S_FREES,
    AT_S_FREE_NULLS,
    AT_S_BYTES_ALLOCATED,
    AT_S_BYTES_FREED,
    AT_S_LIVE_BYTES,
    AT_S_PEAK_LIVE_BYTES,
    AT_S_OUTSTANDING_BLOCKS,
    AT_S_MARKER_LIVE,
    AT_S_RELEASED,
    AT_S_RELEASE_PENDING,
    /* 6 violation counters, in VIOLATION_KINDS order (kinds 20..25), then kind 26 */
    AT_S_VIOLATIONS = 13,
    /* 7 APIs x 8 fields, then 6 class rows x 8 fields:
       calls, errors, allocations, allocBytes, failures, frees, freeBytes, freeNulls */
    AT_S_BY_API = 20,
    AT_S_BY_CLASS = 20 + 56,
    /* the strategy's counters */
    AT_S_STRATEGY = 20 + 56 + 48, /* = 124 */
    /* allocations, failures, frees, freeNulls, badFrees, liveBlocks, liveBytes, peakBytes,
       totalBytes, nativeBytes (10) */
    AT_S_FACTS = AT_S_STRATEGY + 10, /* = 134; strategy facts, see at_stats */
    AT_S_FAULTS = AT_S_FACTS + 16,   /* = 150: injected, attempts, failNth, probability,
                                        budget, innerFailures */
    AT_S_POOL = AT_S_FAULTS + 6,     /* = 156: pool classes, 5 each: size, inUse, free,
                                        slabs, requests */
    AT_S_COUNT = AT_S_POOL + 5 * AT_MAX_POOL_CLASSES /* = 316 */
};

/*
 * Creates a tracer writing into `ring` (AT_RING_HEADER + capacity * 48 bytes, capacity a
 * power of two >= 16; the tracer initialises the header).  time_offset_ns is added to the
 * events' clock (ns since now), so they continue the caller's session clock.  On failure
 * returns an AT_E_* code and a message naming the problem in err (NUL-terminated).
 */
AT_API int at_create(const at_config *config, void *ring, uint32_t capacity,
                     double time_offset_ns, at_tracer **out, char *err, uint32_t err_len);

/*
 * Puts the events' time 0 at origin_mono_ns, a CLOCK_MONOTONIC reading in ns (on Windows, QPC
 * in ns): events then carry CLOCK_MONOTONIC - origin, the same time base as a caller that
 * reads that clock (Node's process.hrtime and performance.now do), with no gap for the time
 * at_create took.  Ignored once an event was written.
 */
AT_API void at_set_origin(at_tracer *t, double origin_mono_ns);

/* Releases everything (as at_release, then the tracer itself).  NULL is ignored. */
AT_API void at_destroy(at_tracer *t);

/* The PSS_ALLOCATOR to hand to PssWalkMarkerCreate; it lives as long as the tracer. */
AT_API const at_pss_allocator *at_allocator(at_tracer *t);

/* Brackets of each Pss call on the marker: api is an ApiCall, walk_class 0..4 or 255. */
AT_API void at_enter(at_tracer *t, uint32_t api, uint32_t walk_class);
AT_API void at_leave(at_tracer *t, uint32_t result_code);

/* Marker events, as the walk session reports them. */
AT_API void at_marker_created(at_tracer *t);
AT_API void at_walk_step(at_tracer *t, uint32_t walk_class, uint32_t entry_index,
                         uint32_t result_code);
AT_API void at_walk_end(at_tracer *t, uint32_t walk_class, uint32_t count);
AT_API void at_position(at_tracer *t, uint32_t set, uint32_t lo, uint32_t hi);
AT_API void at_seek(at_tracer *t);
AT_API void at_api_error(at_tracer *t, uint32_t api, uint32_t code);

/*
 * One PssWalkSnapshot call bracketed and reported in one go: enter, walk, leave, then
 * WalkStep (SUCCESS), WalkEnd (ERROR_NO_MORE_ITEMS, count = entry_index) or ApiError.
 * Returns the call's code.
 */
AT_API uint32_t at_walk(at_tracer *t, at_walk_fn walk, void *snapshot, int32_t walk_class,
                        void *marker, void *buffer, uint32_t length, uint32_t entry_index);

/*
 * The same as at_walk, for callers whose per-call overhead dominates (a JavaScript FFI pays
 * for every pointer argument): at_bind_walk fixes the function, snapshot, marker and buffer
 * once and returns a small slot number (0 when none is free); at_step(slot, ...) then walks
 * with numbers only.  A slot stays the tracer's until at_destroy.  at_step on a slot that is
 * not bound returns ERROR_INVALID_HANDLE (6).
 */
AT_API uint32_t at_bind_walk(at_tracer *t, at_walk_fn walk, void *snapshot, void *marker,
                             void *buffer);
AT_API uint32_t at_step(uint32_t slot, int32_t walk_class, uint32_t length, uint32_t entry_index);

/*
 * Several steps per call, for callers that walk many entries in a row: at_bind_batch gives the
 * slot an area of `bytes`; at_step_n(slot, cls, length, index, max) then makes up to `max`
 * at_walk calls (entries index, index + 1, ...), the k-th walking into area + k * length (as
 * many as fit), and stops after the first call that does not return ERROR_SUCCESS.  Returns
 * the number of calls made; the last one's code is ring header word AT_RING_LAST_CODE
 * (ERROR_INVALID_HANDLE with 0 calls when the slot has no walk or no area).  Every call is
 * bracketed and reported exactly as at_walk's, except that a call after the first starts at
 * the previous one's end (no clock read in between: its duration includes the few ns the
 * tracer spends writing the previous call's event).
 */
AT_API uint32_t at_bind_batch(uint32_t slot, void *area, uint32_t bytes);
AT_API uint32_t at_step_n(uint32_t slot, int32_t walk_class, uint32_t length, uint32_t entry_index,
                          uint32_t max_steps);

/* PssWalkMarkerFree returned: guard check, one Leak per outstanding block, MarkerFreed. */
AT_API void at_marker_freed(at_tracer *t);

/* Returns the strategy's memory (deferred while the marker lives: returns 0 then). */
AT_API int at_release(at_tracer *t);

/* Moves up to max_events overflow records into dst; returns how many. */
AT_API uint32_t at_drain_overflow(at_tracer *t, void *dst, uint32_t max_events);

/* Fills out[0..n) with the counters (layout above); returns AT_S_COUNT. */
AT_API uint32_t at_stats(at_tracer *t, double *out, uint32_t n);

/* Checks a user library without keeping it: AT_OK or an AT_E_* code with a message. */
AT_API int at_check_library(const char *path, char *err, uint32_t err_len);

/* The address of `symbol` in the already-loaded module `module` (NULL if absent). */
AT_API void *at_resolve(const char *module, const char *symbol);

/*
 * A ring in a file the caller created (mapped shared, so whoever reads the file sees every
 * record written, even after this process dies): `bytes` are mapped from offset 0 and the
 * file is grown to that size.  NULL on failure (and always on Windows: use memory there).
 */
AT_API void *at_map_ring(const char *path, uint32_t bytes);
AT_API void at_unmap_ring(void *ring, uint32_t bytes);

/*
 * What the events' clock reads: 0 CLOCK_MONOTONIC at every event, 1 the TSC (invariant; RDTSC
 * converted to CLOCK_MONOTONIC ns), 2 QueryPerformanceCounter.  Set AT_CLOCK=monotonic in the
 * environment before the first tracer to force 0.
 */
AT_API int at_clock_source(void);

/* Bumped when this header changes incompatibly. */
AT_API uint32_t at_version(void);
#define AT_VERSION 1u

#ifdef __cplusplus
}
#endif
#endif
