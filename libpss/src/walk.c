/*
 * walk.c -- walk markers and PssWalkSnapshot.
 *
 * Allocator contract (see PSS_ALLOCATOR in processsnapshot.h):
 *   - the marker itself, every per-class state, every string/context copy handed out,
 *     and the table that tracks those copies come from AllocRoutine;
 *   - the PSS_ALLOCATOR is kept by pointer for the marker's lifetime;
 *   - routines run only synchronously on the calling thread, inside Create, Walk, Free;
 *   - a PssWalkSnapshot call is a transaction: all of its allocations are made first,
 *     and if one fails every block it obtained is released, the marker is left exactly
 *     as it was (cursor, class states, table) and ERROR_NOT_ENOUGH_MEMORY is returned.
 *
 * Cursors live in the marker itself so that SetPosition/SeekToBeginning never allocate.
 * The per-class state records the walk of one class (created on the first call for
 * that class that passes validation).
 *
 * Re-walks (README "Re-walking"): a snapshot is immutable, so the copy made for one
 * field of one entry can be handed out again.  For the snapshot the marker is bound to,
 * a per-class cache (one AllocRoutine block of count x fields pointers, made on the
 * first copy of that class) remembers each copy; walking the same entry again returns
 * the same pointer and allocates nothing, so any number of passes with SeekToBeginning
 * or SetPosition costs the memory of one.  Every copy stays owned by the blocks table
 * and valid until PssWalkMarkerFree, as Windows documents; binding to another snapshot
 * only drops the caches (the index), never a copy.
 *
 * Positions and other snapshots (README "Positions"): the marker walks whatever
 * snapshot it is given; walking a different one than last time restarts every class at
 * 0 -- except classes whose cursor was set explicitly (SetPosition, SeekToBeginning,
 * or a fresh marker) since that class was last walked: the position set is where the
 * next walk starts, on whichever snapshot (clamped to its entry count).
 */
#include <stdlib.h>
#include <string.h>

#include "pss_internal.h"

#define PSS_POSITION_TAG UINT64_C(0x5053000000000000)
#define PSS_POSITION_TAG_MASK UINT64_C(0xFFFF000000000000)
#define PSS_POSITION_RESERVED_MASK UINT64_C(0x0000FF0000000000)

struct pss_class_state {
    int32_t walk_class;
    uint32_t entry_size;
    uint64_t entries_returned;
    uint64_t blocks_copied;
};

struct HPSSWALK__ {
    const PSS_ALLOCATOR *allocator; /* NULL: malloc/free */
    const struct HPSS__ *snapshot;  /* last snapshot walked (identity only, never read
                                       without a validated handle) */
    uint64_t snapshot_id;
    bool bound;
    int32_t last_class; /* -1: none since creation/seek */
    uint32_t pinned; /* bit c: cursor[c] was set explicitly since class c was walked */
    uint32_t cursor[PSS_WALK_CLASS_COUNT];
    uint32_t count[PSS_WALK_CLASS_COUNT]; /* entries per class in the bound snapshot */
    struct pss_class_state *state[PSS_WALK_CLASS_COUNT];
    /* Per class, for the bound snapshot: count x fields_per_entry() slots, the copy
     * already handed out for that field of that entry, or NULL.  Owned by the marker;
     * the copies themselves are owned by blocks. */
    void **cache[PSS_WALK_CLASS_COUNT];
    void **blocks; /* copies handed out (strings, contexts) */
    uint32_t nblocks;
    uint32_t capblocks;
};

#define ALL_CLASSES ((1u << PSS_WALK_CLASS_COUNT) - 1u)

/* Pointer fields per entry of a class (the copies an entry can need). */
static uint32_t fields_per_entry(int c)
{
    switch (c) {
    case PSS_WALK_VA_SPACE: return 1;  /* MappedFileName */
    case PSS_WALK_HANDLES: return 2;   /* TypeName, ObjectName */
    case PSS_WALK_THREADS: return 1;   /* ContextRecord */
    default: return 0;
    }
}

static void *walk_alloc(const struct HPSSWALK__ *m, size_t size)
{
    if (size > UINT32_MAX)
        return NULL;
    if (m->allocator == NULL)
        return malloc(size ? size : 1);
    return m->allocator->AllocRoutine(m->allocator->Context, (DWORD)size);
}

static void walk_free(const struct HPSSWALK__ *m, void *p)
{
    if (m->allocator == NULL)
        free(p);
    else
        m->allocator->FreeRoutine(m->allocator->Context, p);
}

static struct HPSSWALK__ *as_marker(HPSSWALK h)
{
    if (!pss_handle_live(h, PSS_KIND_MARKER))
        return NULL;
    return h;
}

static bool aligned8(const void *p)
{
    return ((uintptr_t)p & 7u) == 0;
}

PSS_API DWORD WINAPI PssWalkMarkerCreate(PSS_ALLOCATOR const *Allocator,
                                         HPSSWALK *WalkMarkerHandle)
{
    if (WalkMarkerHandle == NULL)
        return ERROR_INVALID_PARAMETER;
    *WalkMarkerHandle = NULL;
    if (Allocator != NULL && (Allocator->AllocRoutine == NULL || Allocator->FreeRoutine == NULL))
        return ERROR_INVALID_PARAMETER;
    struct HPSSWALK__ proto;
    memset(&proto, 0, sizeof proto);
    proto.allocator = Allocator;
    struct HPSSWALK__ *m = walk_alloc(&proto, sizeof *m);
    if (m == NULL)
        return ERROR_NOT_ENOUGH_MEMORY;
    if (!aligned8(m)) {
        walk_free(&proto, m);
        return ERROR_INVALID_PARAMETER;
    }
    memset(m, 0, sizeof *m);
    m->allocator = Allocator;
    m->last_class = -1;
    m->pinned = ALL_CLASSES; /* a fresh marker starts at 0 on the first snapshot */
    DWORD rc = pss_handle_register(m, PSS_KIND_MARKER);
    if (rc != ERROR_SUCCESS) {
        walk_free(&proto, m);
        return rc;
    }
    *WalkMarkerHandle = m;
    return ERROR_SUCCESS;
}

PSS_API DWORD WINAPI PssWalkMarkerFree(HPSSWALK WalkMarkerHandle)
{
    if (!pss_handle_unregister(WalkMarkerHandle, PSS_KIND_MARKER))
        return ERROR_INVALID_HANDLE;
    struct HPSSWALK__ *m = WalkMarkerHandle;
    for (uint32_t i = 0; i < m->nblocks; i++)
        walk_free(m, m->blocks[i]);
    walk_free(m, m->blocks); /* NULL if no copy was ever made: deliberate */
    for (int c = 0; c < PSS_WALK_CLASS_COUNT; c++)
        walk_free(m, m->state[c]); /* NULL for classes never walked: deliberate */
    for (int c = 0; c < PSS_WALK_CLASS_COUNT; c++)
        if (m->cache[c] != NULL)
            walk_free(m, m->cache[c]);
    walk_free(m, m);
    return ERROR_SUCCESS;
}

PSS_API DWORD WINAPI PssWalkMarkerGetPosition(HPSSWALK WalkMarkerHandle, ULONG_PTR *Position)
{
    struct HPSSWALK__ *m = as_marker(WalkMarkerHandle);
    if (m == NULL)
        return ERROR_INVALID_HANDLE;
    if (Position == NULL)
        return ERROR_INVALID_PARAMETER;
    if (m->last_class < 0) {
        *Position = PSS_POSITION_TAG;
        return ERROR_SUCCESS;
    }
    *Position = PSS_POSITION_TAG | ((uint64_t)(m->last_class + 1) << 32) |
                m->cursor[m->last_class];
    return ERROR_SUCCESS;
}

static void seek_all(struct HPSSWALK__ *m)
{
    for (int c = 0; c < PSS_WALK_CLASS_COUNT; c++)
        m->cursor[c] = 0;
    m->last_class = -1;
    m->pinned = ALL_CLASSES;
}

PSS_API DWORD WINAPI PssWalkMarkerSetPosition(HPSSWALK WalkMarkerHandle, ULONG_PTR Position)
{
    struct HPSSWALK__ *m = as_marker(WalkMarkerHandle);
    if (m == NULL)
        return ERROR_INVALID_HANDLE;
    if ((Position & PSS_POSITION_TAG_MASK) != PSS_POSITION_TAG ||
        (Position & PSS_POSITION_RESERVED_MASK) != 0)
        return ERROR_INVALID_PARAMETER;
    uint32_t cls1 = (uint32_t)((Position >> 32) & 0xFFu);
    uint32_t index = (uint32_t)(Position & 0xFFFFFFFFu);
    if (cls1 == 0) {
        if (index != 0)
            return ERROR_INVALID_PARAMETER;
        seek_all(m);
        return ERROR_SUCCESS;
    }
    if (cls1 > PSS_WALK_CLASS_COUNT)
        return ERROR_INVALID_PARAMETER;
    int c = (int)cls1 - 1;
    if (m->bound && index > m->count[c])
        return ERROR_INVALID_PARAMETER;
    m->cursor[c] = index;
    m->last_class = c;
    m->pinned |= 1u << c;
    return ERROR_SUCCESS;
}

PSS_API DWORD WINAPI PssWalkMarkerSeekToBeginning(HPSSWALK WalkMarkerHandle)
{
    struct HPSSWALK__ *m = as_marker(WalkMarkerHandle);
    if (m == NULL)
        return ERROR_INVALID_HANDLE;
    seek_all(m);
    return ERROR_SUCCESS;
}

/* Entry count of a class; false if the class was not captured. */
static bool class_count(const struct HPSS__ *s, int c, uint32_t *count)
{
    switch (c) {
    case PSS_WALK_AUXILIARY_PAGES:
        *count = 0; /* always "captured", never any pages */
        return true;
    case PSS_WALK_VA_SPACE:
        *count = (uint32_t)s->nva;
        return s->have_va;
    case PSS_WALK_HANDLES:
        *count = (uint32_t)s->nhandles;
        return s->have_handles;
    case PSS_WALK_THREADS:
        *count = (uint32_t)s->nthreads;
        return s->have_threads;
    default:
        return false;
    }
}

static DWORD entry_size(int c)
{
    switch (c) {
    case PSS_WALK_AUXILIARY_PAGES: return sizeof(PSS_AUXILIARY_PAGE_ENTRY);
    case PSS_WALK_VA_SPACE: return sizeof(PSS_VA_SPACE_ENTRY);
    case PSS_WALK_HANDLES: return sizeof(PSS_HANDLE_ENTRY);
    case PSS_WALK_THREADS: return sizeof(PSS_THREAD_ENTRY);
    default: return 0;
    }
}

/* One block the entry needs: copy size bytes from src (followed by pad zero bytes). */
struct copy_req {
    const void *src;
    size_t size;   /* bytes to copy */
    size_t pad;    /* zero bytes appended (the UTF-16 NUL) */
    uint32_t slot; /* field slot: index * fields_per_entry + field */
    bool cached;   /* dst is the copy handed out before (nothing to allocate) */
    void *dst;
};

#define MAX_COPIES 2

static void add_string(struct copy_req *req, int *n, const struct HPSS__ *s,
                       struct pss_strref ref, uint32_t slot)
{
    if (ref.len == 0)
        return;
    req[*n].src = s->strings.data + ref.off;
    req[*n].size = (size_t)ref.len * 2u;
    req[*n].pad = 2;
    req[*n].slot = slot;
    req[*n].cached = false;
    req[*n].dst = NULL;
    (*n)++;
}

PSS_API DWORD WINAPI PssWalkSnapshot(HPSS SnapshotHandle,
                                     PSS_WALK_INFORMATION_CLASS InformationClass,
                                     HPSSWALK WalkMarkerHandle, void *Buffer,
                                     DWORD BufferLength)
{
    if (!pss_handle_live2(SnapshotHandle, PSS_KIND_SNAPSHOT, WalkMarkerHandle, PSS_KIND_MARKER))
        return ERROR_INVALID_HANDLE;
    struct HPSSWALK__ *m = WalkMarkerHandle;
    if (InformationClass < 0 || InformationClass >= PSS_WALK_CLASS_COUNT)
        return ERROR_INVALID_PARAMETER; /* includes PSS_WALK_THREAD_NAME */
    const struct HPSS__ *s = SnapshotHandle;
    const int c = InformationClass;
    uint32_t count;
    if (!class_count(s, c, &count))
        return ERROR_NOT_FOUND;
    const DWORD size = entry_size(c);
    if (Buffer != NULL && BufferLength != size)
        return ERROR_BAD_LENGTH;

    /* Effective cursor: a different snapshot restarts every class whose position was
     * not set explicitly since it was last walked (a fresh marker's are). */
    const bool rebind = !m->bound || m->snapshot != s || m->snapshot_id != s->id;
    uint32_t index = rebind && !(m->pinned & (1u << c)) ? 0 : m->cursor[c];
    if (index > count)
        index = count;
    /* The copies already handed out for this snapshot (none after a rebind). */
    void **const cache = rebind ? NULL : m->cache[c];
    const uint32_t fields = fields_per_entry(c);

    /* Allocation 1: the per-class state on first use. */
    struct pss_class_state *new_state = NULL;
    if (m->state[c] == NULL) {
        new_state = walk_alloc(m, sizeof *new_state);
        if (new_state == NULL)
            return ERROR_NOT_ENOUGH_MEMORY;
        if (!aligned8(new_state)) {
            walk_free(m, new_state);
            return ERROR_INVALID_PARAMETER;
        }
        new_state->walk_class = c;
        new_state->entry_size = size;
        new_state->entries_returned = 0;
        new_state->blocks_copied = 0;
    }

    /* From here on nothing can fail for the "no data" outcomes; commit the binding. */
    DWORD rc;
    union {
        PSS_VA_SPACE_ENTRY va;
        PSS_HANDLE_ENTRY h;
        PSS_THREAD_ENTRY t;
    } out;
    struct copy_req req[MAX_COPIES];
    int nreq = 0;
    int nnew = 0; /* requests that need a new block */
    void **new_table = NULL;
    uint32_t new_cap = 0;
    void **new_cache = NULL;

    if (index >= count) {
        rc = ERROR_NO_MORE_ITEMS;
        goto commit_no_advance;
    }
    if (Buffer == NULL) {
        rc = ERROR_MORE_DATA;
        goto commit_no_advance;
    }

    /* Build the entry and the list of blocks it points to. */
    switch (c) {
    case PSS_WALK_VA_SPACE: {
        const struct pss_va_rec *r = &s->va[index];
        out.va = r->e;
        add_string(req, &nreq, s, r->file_name, index);
        break;
    }
    case PSS_WALK_HANDLES: {
        const struct pss_handle_rec *r = &s->handles[index];
        out.h = r->e;
        add_string(req, &nreq, s, r->type_name, index * 2u);
        add_string(req, &nreq, s, r->object_name, index * 2u + 1u);
        break;
    }
    case PSS_WALK_THREADS: {
        const struct pss_thread_rec *r = &s->threads[index];
        out.t = r->e;
        if (r->context >= 0) {
            req[nreq].src = &s->contexts[r->context];
            req[nreq].size = sizeof(CONTEXT);
            req[nreq].pad = 0;
            req[nreq].slot = index;
            req[nreq].cached = false;
            req[nreq].dst = NULL;
            nreq++;
        }
        break;
    }
    default:
        /* PSS_WALK_AUXILIARY_PAGES never has entries (count is 0). */
        rc = ERROR_NO_MORE_ITEMS;
        goto commit_no_advance;
    }

    /* Copies handed out before for these fields are handed out again. */
    for (int i = 0; i < nreq; i++) {
        if (cache != NULL && cache[req[i].slot] != NULL) {
            req[i].dst = cache[req[i].slot];
            req[i].cached = true;
        } else {
            nnew++;
        }
    }

    /* Allocation 2: this class's cache for the bound snapshot, on its first copy. */
    if (nnew > 0 && cache == NULL) {
        size_t slots = (size_t)count * fields;
        new_cache = walk_alloc(m, slots * sizeof(void *));
        if (new_cache == NULL)
            goto nomem;
        if (!aligned8(new_cache)) {
            walk_free(m, new_cache);
            new_cache = NULL;
            rc = ERROR_INVALID_PARAMETER;
            goto fail;
        }
        memset(new_cache, 0, slots * sizeof(void *));
    }

    /* Allocation 3: grow the tracking table (new block; the old one is freed only on
     * success). */
    if (nnew > 0 && m->nblocks + (uint32_t)nnew > m->capblocks) {
        new_cap = m->capblocks ? m->capblocks * 2 : 64;
        while (new_cap < m->nblocks + (uint32_t)nnew)
            new_cap *= 2;
        new_table = walk_alloc(m, (size_t)new_cap * sizeof(void *));
        if (new_table == NULL)
            goto nomem;
        if (!aligned8(new_table)) {
            walk_free(m, new_table);
            new_table = NULL;
            rc = ERROR_INVALID_PARAMETER;
            goto fail;
        }
    }

    /* Allocations 4..: one block per string / context not handed out before. */
    for (int i = 0; i < nreq; i++) {
        if (req[i].cached)
            continue;
        req[i].dst = walk_alloc(m, req[i].size + req[i].pad);
        if (req[i].dst == NULL)
            goto nomem;
        memcpy(req[i].dst, req[i].src, req[i].size);
        memset((char *)req[i].dst + req[i].size, 0, req[i].pad);
    }

    /* Success: point the entry at the copies and commit everything. */
    switch (c) {
    case PSS_WALK_VA_SPACE:
        if (nreq == 1)
            out.va.MappedFileName = req[0].dst;
        break;
    case PSS_WALK_HANDLES: {
        int k = 0;
        const struct pss_handle_rec *r = &s->handles[index];
        if (r->type_name.len)
            out.h.TypeName = req[k++].dst;
        if (r->object_name.len)
            out.h.ObjectName = req[k++].dst;
        break;
    }
    case PSS_WALK_THREADS:
        if (nreq == 1)
            out.t.ContextRecord = req[0].dst;
        break;
    default:
        break;
    }
    if (new_table != NULL) {
        if (m->nblocks)
            memcpy(new_table, m->blocks, (size_t)m->nblocks * sizeof(void *));
        walk_free(m, m->blocks);
        m->blocks = new_table;
        m->capblocks = new_cap;
    }
    memcpy(Buffer, &out, size);
    rc = ERROR_SUCCESS;

commit_no_advance:
    if (rebind) {
        /* The caches indexed the previous snapshot's copies (which stay in blocks). */
        for (int k = 0; k < PSS_WALK_CLASS_COUNT; k++) {
            if (m->cache[k] != NULL)
                walk_free(m, m->cache[k]);
            m->cache[k] = NULL;
        }
        m->snapshot = s;
        m->snapshot_id = s->id;
        m->bound = true;
        for (int k = 0; k < PSS_WALK_CLASS_COUNT; k++) {
            uint32_t n = 0;
            m->count[k] = class_count(s, k, &n) ? n : 0;
            if (!(m->pinned & (1u << k)))
                m->cursor[k] = 0;
            else if (m->cursor[k] > m->count[k])
                m->cursor[k] = m->count[k];
        }
        m->pinned = 0;
    }
    m->pinned &= ~(1u << c);
    if (new_cache != NULL)
        m->cache[c] = new_cache;
    for (int i = 0; i < nreq; i++) {
        if (req[i].cached)
            continue;
        m->blocks[m->nblocks++] = req[i].dst;
        m->cache[c][req[i].slot] = req[i].dst;
    }
    if (new_state != NULL)
        m->state[c] = new_state;
    m->last_class = c;
    if (rc == ERROR_SUCCESS) {
        m->cursor[c] = index + 1;
        m->state[c]->entries_returned++;
        m->state[c]->blocks_copied += (uint64_t)nnew;
    }
    return rc;

nomem:
    rc = ERROR_NOT_ENOUGH_MEMORY;
fail:
    for (int i = nreq - 1; i >= 0; i--)
        if (!req[i].cached && req[i].dst != NULL)
            walk_free(m, req[i].dst);
    if (new_table != NULL)
        walk_free(m, new_table);
    if (new_cache != NULL)
        walk_free(m, new_cache);
    if (new_state != NULL)
        walk_free(m, new_state);
    return rc;
}
