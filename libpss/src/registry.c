/*
 * registry.c -- the set of live handles (snapshots, walk markers, process handles).
 *
 * A handle is valid exactly while it is in this set: it is added when the object is
 * handed to the caller and removed (atomically with the check) when the caller frees it.
 * Validation therefore never reads the memory a handle points to, so any value -- NULL,
 * a PID, a small integer, an address that is unmapped, unreadable, someone else's, or a
 * handle already freed -- is answered with ERROR_INVALID_HANDLE and cannot crash, even
 * under AddressSanitizer or valgrind.  (README "Handle validation" explains the choice.)
 *
 * The set is an open-addressing hash table (linear probing, backward-shift deletion)
 * of tagged pointers: every object is at least 8-byte aligned, so the low 3 bits hold
 * its kind.  It is the library's only mutable global and is guarded by one mutex, held
 * for a few instructions per call (a lookup is one hash probe); no caller code
 * (allocator routines) ever runs while it is held.  A fork handler holds it across
 * fork() so a child never inherits it locked.  (A mutex, not an rwlock: glibc decides
 * how to release an rwlock by the owner's TID, which a forked child does not have.)
 * The table is freed when the last handle goes, so an idle library holds no memory.
 *
 * The walk checks two handles per entry (hundreds of thousands of calls for a big
 * process).  Each thread remembers the last pair it found live together with the
 * registry's generation, a counter bumped (under the lock) by every removal: while the
 * generation is unchanged nothing has been removed, so the pair is still live and the
 * check is one atomic load.  Adding handles never invalidates a pair.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "pss_internal.h"

#define KIND_MASK ((uintptr_t)7)
#define MIN_CAP 64u

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static uintptr_t *g_slot; /* 0 = empty; else pointer | kind */
static size_t g_cap;      /* power of two, or 0 when there is no table */
static size_t g_count;
static pthread_once_t g_fork_once = PTHREAD_ONCE_INIT;
static _Atomic uint64_t g_generation = 1; /* bumped by every removal; never 0 */

/* The last pair this thread's pss_handle_live2 found live, and the generation then
 * (0: none). */
static __thread struct {
    uintptr_t v1, v2;
    uint64_t generation;
} t_live2;

static void fork_prepare(void)
{
    pthread_mutex_lock(&g_lock);
}

static void fork_release(void)
{
    pthread_mutex_unlock(&g_lock);
}

static void install_fork_handlers(void)
{
    /* glibc removes these at dlclose (they are registered with our DSO handle). */
    pthread_atfork(fork_prepare, fork_release, fork_release);
}

static size_t home_of(uintptr_t p, size_t cap)
{
    uint64_t h = (uint64_t)(p >> 3) * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 32) & (cap - 1);
}

/* Index of p's slot, or SIZE_MAX.  Caller holds the lock. */
static size_t find(uintptr_t p)
{
    if (g_cap == 0)
        return SIZE_MAX;
    size_t i = home_of(p, g_cap);
    for (;;) {
        uintptr_t e = g_slot[i];
        if (e == 0)
            return SIZE_MAX;
        if ((e & ~KIND_MASK) == p)
            return i;
        i = (i + 1) & (g_cap - 1);
    }
}

static void place(uintptr_t *slot, size_t cap, uintptr_t e)
{
    size_t i = home_of(e & ~KIND_MASK, cap);
    while (slot[i] != 0)
        i = (i + 1) & (cap - 1);
    slot[i] = e;
}

/* Caller holds the lock exclusively.  0 or -1 (no memory; nothing changed). */
static int grow(void)
{
    size_t cap = g_cap ? g_cap * 2 : MIN_CAP;
    uintptr_t *slot = calloc(cap, sizeof *slot);
    if (slot == NULL)
        return -1;
    for (size_t i = 0; i < g_cap; i++)
        if (g_slot[i] != 0)
            place(slot, cap, g_slot[i]);
    free(g_slot);
    g_slot = slot;
    g_cap = cap;
    return 0;
}

DWORD pss_handle_register(const void *p, enum pss_handle_kind kind)
{
    uintptr_t v = (uintptr_t)p;
    if (v == 0 || (v & KIND_MASK) != 0)
        return ERROR_INVALID_PARAMETER;
    pthread_once(&g_fork_once, install_fork_handlers);
    DWORD rc = ERROR_SUCCESS;
    pthread_mutex_lock(&g_lock);
    if (find(v) != SIZE_MAX)
        rc = ERROR_INVALID_PARAMETER; /* an allocator handed out live memory twice */
    else if ((g_count + 1) * 2 > g_cap && grow() != 0)
        rc = ERROR_NOT_ENOUGH_MEMORY;
    else {
        place(g_slot, g_cap, v | (uintptr_t)kind);
        g_count++;
    }
    pthread_mutex_unlock(&g_lock);
    return rc;
}

bool pss_handle_live(const void *p, enum pss_handle_kind kind)
{
    uintptr_t v = (uintptr_t)p;
    if (v == 0 || (v & KIND_MASK) != 0)
        return false; /* also NULL and the (HANDLE)-1 pseudo-handle */
    pthread_mutex_lock(&g_lock);
    size_t i = find(v);
    bool live = i != SIZE_MAX && (g_slot[i] & KIND_MASK) == (uintptr_t)kind;
    pthread_mutex_unlock(&g_lock);
    return live;
}

bool pss_handle_live2(const void *p1, enum pss_handle_kind k1, const void *p2,
                      enum pss_handle_kind k2)
{
    uintptr_t v1 = (uintptr_t)p1, v2 = (uintptr_t)p2;
    if (v1 == 0 || (v1 & KIND_MASK) != 0 || v2 == 0 || (v2 & KIND_MASK) != 0)
        return false;
    /* The tags carry the kinds, so a cached pair also matches only the same kinds. */
    const uintptr_t t1 = v1 | (uintptr_t)k1, t2 = v2 | (uintptr_t)k2;
    if (t_live2.generation != 0 && t_live2.v1 == t1 && t_live2.v2 == t2 &&
        atomic_load_explicit(&g_generation, memory_order_acquire) == t_live2.generation)
        return true;
    pthread_mutex_lock(&g_lock);
    size_t i = find(v1);
    bool live = i != SIZE_MAX && (g_slot[i] & KIND_MASK) == (uintptr_t)k1;
    if (live) {
        i = find(v2);
        live = i != SIZE_MAX && (g_slot[i] & KIND_MASK) == (uintptr_t)k2;
    }
    if (live) {
        t_live2.v1 = t1;
        t_live2.v2 = t2;
        t_live2.generation = atomic_load_explicit(&g_generation, memory_order_relaxed);
    }
    pthread_mutex_unlock(&g_lock);
    return live;
}

bool pss_handle_unregister(const void *p, enum pss_handle_kind kind)
{
    uintptr_t v = (uintptr_t)p;
    if (v == 0 || (v & KIND_MASK) != 0)
        return false;
    pthread_mutex_lock(&g_lock);
    size_t i = find(v);
    bool live = i != SIZE_MAX && (g_slot[i] & KIND_MASK) == (uintptr_t)kind;
    if (live) {
        /* Backward-shift deletion: pull later members of the probe run into the hole
         * when their home slot does not lie (cyclically) between the hole and them. */
        const size_t mask = g_cap - 1;
        size_t j = i;
        for (;;) {
            j = (j + 1) & mask;
            uintptr_t e = g_slot[j];
            if (e == 0)
                break;
            size_t k = home_of(e & ~KIND_MASK, g_cap);
            bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
            if (!stays) {
                g_slot[i] = e;
                i = j;
            }
        }
        g_slot[i] = 0;
        atomic_fetch_add_explicit(&g_generation, 1, memory_order_release);
        if (--g_count == 0) {
            free(g_slot);
            g_slot = NULL;
            g_cap = 0;
        }
    }
    pthread_mutex_unlock(&g_lock);
    return live;
}
