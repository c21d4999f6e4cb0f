/*
 * snapshot.c -- the snapshot object: allocation, PssFreeSnapshot, PssQuerySnapshot and
 * PssDuplicateSnapshot.
 *
 * A snapshot is a set of malloc'd arrays filled once by PssCaptureSnapshot and never
 * modified afterwards.  Strings live in one UTF-16 pool and are referenced by offset;
 * the walk hands out copies (walk.c), so nothing outside the snapshot ever points into
 * it.
 */
#include <stdlib.h>
#include <string.h>

#include "pss_internal.h"

HPSS pss_snapshot_new(void)
{
    HPSS s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->id = pss_random_id(s);
    return s;
}

static void snapshot_release(HPSS s)
{
    free(s->threads);
    free(s->contexts);
    free(s->handles);
    free(s->va);
    pss_pool_free(&s->strings);
    free(s);
}

void pss_snapshot_destroy(HPSS s)
{
    if (s == NULL)
        return;
    pss_handle_unregister(s, PSS_KIND_SNAPSHOT); /* no-op if it was never handed out */
    snapshot_release(s);
}

bool pss_snapshot_valid(HPSS s)
{
    return pss_handle_live(s, PSS_KIND_SNAPSHOT);
}

PSS_API DWORD WINAPI PssFreeSnapshot(HANDLE ProcessHandle, HPSS SnapshotHandle)
{
    bool valid;
    bool self = pss_handle_is_self(ProcessHandle, &valid);
    if (!valid)
        return ERROR_INVALID_HANDLE;
    if (!self)
        return ERROR_NOT_SUPPORTED; /* snapshots never live in another process on Linux */
    if (!pss_handle_unregister(SnapshotHandle, PSS_KIND_SNAPSHOT))
        return ERROR_INVALID_HANDLE;
    snapshot_release(SnapshotHandle);
    return ERROR_SUCCESS;
}

static DWORD query_size(PSS_QUERY_INFORMATION_CLASS c)
{
    switch (c) {
    case PSS_QUERY_PROCESS_INFORMATION: return sizeof(PSS_PROCESS_INFORMATION);
    case PSS_QUERY_VA_CLONE_INFORMATION: return sizeof(PSS_VA_CLONE_INFORMATION);
    case PSS_QUERY_AUXILIARY_PAGES_INFORMATION: return sizeof(PSS_AUXILIARY_PAGES_INFORMATION);
    case PSS_QUERY_VA_SPACE_INFORMATION: return sizeof(PSS_VA_SPACE_INFORMATION);
    case PSS_QUERY_HANDLE_INFORMATION: return sizeof(PSS_HANDLE_INFORMATION);
    case PSS_QUERY_THREAD_INFORMATION: return sizeof(PSS_THREAD_INFORMATION);
    case PSS_QUERY_HANDLE_TRACE_INFORMATION: return sizeof(PSS_HANDLE_TRACE_INFORMATION);
    case PSS_QUERY_PERFORMANCE_COUNTERS: return sizeof(PSS_PERFORMANCE_COUNTERS);
    default: return 0;
    }
}

PSS_API DWORD WINAPI PssQuerySnapshot(HPSS SnapshotHandle,
                                      PSS_QUERY_INFORMATION_CLASS InformationClass,
                                      void *Buffer, DWORD BufferLength)
{
    if (!pss_snapshot_valid(SnapshotHandle))
        return ERROR_INVALID_HANDLE;
    if (Buffer == NULL)
        return ERROR_INVALID_PARAMETER;
    DWORD size = query_size(InformationClass);
    if (size == 0)
        return ERROR_INVALID_PARAMETER;
    if (BufferLength != size)
        return ERROR_BAD_LENGTH;
    const struct HPSS__ *s = SnapshotHandle;
    switch (InformationClass) {
    case PSS_QUERY_PROCESS_INFORMATION:
        memcpy(Buffer, &s->process, size);
        return ERROR_SUCCESS;
    case PSS_QUERY_AUXILIARY_PAGES_INFORMATION: {
        PSS_AUXILIARY_PAGES_INFORMATION a = {0};
        memcpy(Buffer, &a, size);
        return ERROR_SUCCESS;
    }
    case PSS_QUERY_VA_SPACE_INFORMATION: {
        if (!s->have_va)
            return ERROR_NOT_FOUND;
        PSS_VA_SPACE_INFORMATION v = {(DWORD)s->nva};
        memcpy(Buffer, &v, size);
        return ERROR_SUCCESS;
    }
    case PSS_QUERY_HANDLE_INFORMATION: {
        if (!s->have_handles)
            return ERROR_NOT_FOUND;
        PSS_HANDLE_INFORMATION h = {(DWORD)s->nhandles};
        memcpy(Buffer, &h, size);
        return ERROR_SUCCESS;
    }
    case PSS_QUERY_THREAD_INFORMATION: {
        if (!s->have_threads)
            return ERROR_NOT_FOUND;
        PSS_THREAD_INFORMATION t = {(DWORD)s->nthreads,
                                    s->have_contexts ? (DWORD)sizeof(CONTEXT) : 0};
        memcpy(Buffer, &t, size);
        return ERROR_SUCCESS;
    }
    case PSS_QUERY_PERFORMANCE_COUNTERS:
        if (!s->have_perf)
            return ERROR_NOT_FOUND;
        memcpy(Buffer, &s->perf, size);
        return ERROR_SUCCESS;
    case PSS_QUERY_VA_CLONE_INFORMATION:
    case PSS_QUERY_HANDLE_TRACE_INFORMATION:
    default:
        return ERROR_NOT_FOUND; /* never captured on Linux */
    }
}

static void *dup_array(const void *src, size_t n, size_t elem)
{
    if (n == 0 || src == NULL)
        return NULL;
    void *p = malloc(n * elem);
    if (p != NULL)
        memcpy(p, src, n * elem);
    return p;
}

/* Deep copy.  Returns NULL on allocation failure (nothing leaked). */
static HPSS snapshot_clone(const struct HPSS__ *src)
{
    HPSS d = pss_snapshot_new();
    if (d == NULL)
        return NULL;
    uint64_t id = d->id;
    d->capture_flags = src->capture_flags;
    d->context_flags = src->context_flags;
    d->have_threads = src->have_threads;
    d->have_contexts = src->have_contexts;
    d->have_handles = src->have_handles;
    d->have_va = src->have_va;
    d->have_perf = src->have_perf;
    d->process = src->process;
    d->perf = src->perf;
    d->id = id;
    d->threads = dup_array(src->threads, src->nthreads, sizeof *src->threads);
    d->contexts = dup_array(src->contexts, src->ncontexts, sizeof *src->contexts);
    d->handles = dup_array(src->handles, src->nhandles, sizeof *src->handles);
    d->va = dup_array(src->va, src->nva, sizeof *src->va);
    d->strings.data = dup_array(src->strings.data, src->strings.len, sizeof(uint16_t));
    if ((src->nthreads && !d->threads) || (src->ncontexts && !d->contexts) ||
        (src->nhandles && !d->handles) || (src->nva && !d->va) ||
        (src->strings.len && !d->strings.data)) {
        pss_snapshot_destroy(d);
        return NULL;
    }
    d->nthreads = d->cap_threads = src->nthreads;
    d->ncontexts = d->cap_contexts = src->ncontexts;
    d->nhandles = d->cap_handles = src->nhandles;
    d->nva = d->cap_va = src->nva;
    d->strings.len = d->strings.cap = src->strings.len;
    if (pss_handle_register(d, PSS_KIND_SNAPSHOT) != ERROR_SUCCESS) {
        snapshot_release(d);
        return NULL;
    }
    return d;
}

PSS_API DWORD WINAPI PssDuplicateSnapshot(HANDLE SourceProcessHandle, HPSS SnapshotHandle,
                                          HANDLE TargetProcessHandle,
                                          HPSS *TargetSnapshotHandle, PSS_DUPLICATE_FLAGS Flags)
{
    bool src_valid, dst_valid;
    bool src_self = pss_handle_is_self(SourceProcessHandle, &src_valid);
    bool dst_self = pss_handle_is_self(TargetProcessHandle, &dst_valid);
    if (!src_valid || !dst_valid)
        return ERROR_INVALID_HANDLE;
    if (TargetSnapshotHandle == NULL || (Flags & ~PSS_DUPLICATE_CLOSE_SOURCE) != 0)
        return ERROR_INVALID_PARAMETER;
    if (!src_self || !dst_self)
        return ERROR_NOT_SUPPORTED;
    if (!pss_snapshot_valid(SnapshotHandle))
        return ERROR_INVALID_HANDLE;
    if ((Flags & PSS_DUPLICATE_CLOSE_SOURCE) &&
        !(SnapshotHandle->capture_flags & PSS_CREATE_USE_VM_ALLOCATIONS))
        return ERROR_INVALID_PARAMETER;

    *TargetSnapshotHandle = NULL;
    HPSS copy = snapshot_clone(SnapshotHandle);
    if (Flags & PSS_DUPLICATE_CLOSE_SOURCE)
        pss_snapshot_destroy(SnapshotHandle); /* freed even when the copy failed */
    if (copy == NULL)
        return ERROR_NOT_ENOUGH_MEMORY;
    *TargetSnapshotHandle = copy;
    return ERROR_SUCCESS;
}
