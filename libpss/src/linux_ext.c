/*
 * linux_ext.c -- the inspection-details object: PssLinuxCaptureDetails, Query, Read, Free.
 *
 * The details are a second, independent capture made right after PssCaptureSnapshot with
 * the same process handle.  Phases (each in its own file):
 *   threads   linux_ext_threads.c  task/TID/{stat,status,wchan,syscall,schedstat}
 *   handles   linux_ext_handles.c  fd/, fdinfo/, statx, /proc/PID/net/{tcp,unix,..}, sock_diag
 *   peers     linux_ext_peers.c    every readable /proc/N/fd, for pipe and socket peers
 *   regions   linux_ext_regions.c  maps or smaps (+ smaps_rollup), kinds, arenas
 *   modules   linux_ext_modules.c  ELF headers of mapped files: build-id, soname
 * A phase that cannot read what it needs records its error and the capture goes on; only
 * running out of memory or the target being reaped fail the call.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linux_ext.h"

DWORD lx_read_error(int neg_errno)
{
    int e = -neg_errno;
    if (e == EACCES || e == EPERM)
        return ERROR_ACCESS_DENIED;
    if (e == ENOENT || e == ESRCH)
        return ERROR_PROCESS_ABORTED;
    return pss_win32_from_errno(e);
}

int lx_add_string(HPSSDETAILS d, const char *s, size_t n, uint32_t *off)
{
    if (d->strings_len + n + 1 > UINT32_MAX)
        return -ENOMEM;
    if (pss_grow((void **)&d->strings, &d->strings_cap, d->strings_len + n + 1, 1) != 0)
        return -ENOMEM;
    memcpy(d->strings + d->strings_len, s, n);
    d->strings[d->strings_len + n] = '\0';
    *off = (uint32_t)d->strings_len;
    d->strings_len += n + 1;
    return 0;
}

static void details_destroy(HPSSDETAILS d)
{
    if (d == NULL)
        return;
    free(d->threads);
    free(d->handles);
    free(d->regions);
    free(d->mods);
    free(d->modules);
    free(d->strings);
    free(d);
}

/* A live details handle, checked in the registry (never by reading the pointer). */
static HPSSDETAILS as_details(HPSSDETAILS h)
{
    return pss_handle_live(h, PSS_KIND_DETAILS) ? h : NULL;
}

/* Module records get their string pointers once the pool no longer moves. */
static DWORD finalise_modules(HPSSDETAILS d)
{
    if (d->nmods == 0)
        return ERROR_SUCCESS;
    d->modules = calloc(d->nmods, sizeof *d->modules);
    if (d->modules == NULL)
        return ERROR_NOT_ENOUGH_MEMORY;
    for (size_t i = 0; i < d->nmods; i++) {
        PSS_DETAILS_MODULE *m = &d->modules[i];
        *m = d->mods[i].m;
        m->Path = m->PathLength ? d->strings + d->mods[i].path_off : NULL;
        m->Soname = m->SonameLength ? d->strings + d->mods[i].soname_off : NULL;
    }
    return ERROR_SUCCESS;
}

static bool fatal(DWORD rc)
{
    return rc == ERROR_NOT_ENOUGH_MEMORY || rc == ERROR_PROCESS_ABORTED;
}

PSS_API DWORD WINAPI PssLinuxCaptureDetails(HANDLE ProcessHandle, DWORD DetailFlags,
                                            HPSSDETAILS *Details)
{
    if (Details == NULL)
        return ERROR_INVALID_PARAMETER;
    *Details = NULL;
    if (DetailFlags == 0 || (DetailFlags & ~PSS_DETAILS_ALL) != 0)
        return ERROR_INVALID_PARAMETER;
    if (DetailFlags & PSS_DETAILS_REGION_USAGE)
        DetailFlags |= PSS_DETAILS_REGIONS;
    if (DetailFlags & PSS_DETAILS_HANDLE_PEERS)
        DetailFlags |= PSS_DETAILS_HANDLES;

    struct lx_capture c;
    memset(&c, 0, sizeof c);
    DWORD rc = pss_target_resolve(ProcessHandle, &c.target);
    if (rc != ERROR_SUCCESS)
        return rc;
    uint64_t t0 = pss_monotonic_ns();
    pss_clock_init(&c.clock);
    c.flags = DetailFlags;
    c.keep_threads = (DetailFlags & PSS_DETAILS_THREADS) != 0;
    c.d = calloc(1, sizeof *c.d);
    if (c.d == NULL) {
        pss_target_release(&c.target);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    HPSSDETAILS d = c.d;
    d->info.Flags = DetailFlags;
    d->info.ProcessId = (DWORD)c.target.pid;
    d->info.CaptureTime = pss_filetime_now();
    d->info.ThreadsError = d->info.HandlesError = d->info.PeersError = ERROR_NOT_FOUND;
    d->info.RegionsError = d->info.UsageError = d->info.RollupError = ERROR_NOT_FOUND;

    if (pss_target_gone(c.target.procfd)) {
        rc = ERROR_PROCESS_ABORTED;
        goto out;
    }
    /* Threads first: the regions phase finds stacks by the threads' stack pointers. */
    if (DetailFlags & (PSS_DETAILS_THREADS | PSS_DETAILS_REGIONS)) {
        uint64_t t = pss_monotonic_ns();
        rc = lx_capture_threads(&c);
        d->info.ThreadsNanoseconds = pss_monotonic_ns() - t;
        if (fatal(rc))
            goto out;
        if (c.keep_threads)
            d->info.ThreadsError = rc;
    }
    if (DetailFlags & PSS_DETAILS_HANDLES) {
        uint64_t t = pss_monotonic_ns();
        rc = lx_capture_handles(&c);
        d->info.HandlesNanoseconds = pss_monotonic_ns() - t;
        if (fatal(rc))
            goto out;
        d->info.HandlesError = rc;
        if ((DetailFlags & PSS_DETAILS_HANDLE_PEERS) && rc == ERROR_SUCCESS) {
            t = pss_monotonic_ns();
            rc = lx_capture_peers(&c);
            d->info.PeersNanoseconds = pss_monotonic_ns() - t;
            if (rc == ERROR_NOT_ENOUGH_MEMORY)
                goto out;
            d->info.PeersError = rc;
        }
    }
    if (DetailFlags & PSS_DETAILS_REGIONS) {
        rc = lx_capture_regions(&c); /* sets its own errors and timings */
        if (fatal(rc))
            goto out;
    }
    if (!c.keep_threads)
        d->nthreads = 0;
    rc = finalise_modules(d);
    if (rc != ERROR_SUCCESS)
        goto out;
    if (pss_target_gone(c.target.procfd)) {
        rc = ERROR_PROCESS_ABORTED;
        goto out;
    }
    d->info.ThreadCount = (DWORD)d->nthreads;
    d->info.HandleCount = (DWORD)d->nhandles;
    d->info.RegionCount = (DWORD)d->nregions;
    d->info.ModuleCount = (DWORD)d->nmods;
    d->info.TotalNanoseconds = pss_monotonic_ns() - t0;
    rc = pss_handle_register(d, PSS_KIND_DETAILS); /* now it is a handle */
out:
    free(c.sps);
    pss_target_release(&c.target);
    if (rc != ERROR_SUCCESS) {
        details_destroy(d);
        return rc;
    }
    *Details = d;
    return ERROR_SUCCESS;
}

PSS_API DWORD WINAPI PssLinuxQueryDetails(HPSSDETAILS Details, DWORD BufferLength,
                                          PSS_DETAILS_INFORMATION *Buffer)
{
    HPSSDETAILS d = as_details(Details);
    if (d == NULL)
        return ERROR_INVALID_HANDLE;
    if (Buffer == NULL)
        return ERROR_INVALID_PARAMETER;
    if (BufferLength != sizeof *Buffer)
        return ERROR_BAD_LENGTH;
    memcpy(Buffer, &d->info, sizeof *Buffer);
    return ERROR_SUCCESS;
}

PSS_API DWORD WINAPI PssLinuxReadDetails(HPSSDETAILS Details, DWORD Class, DWORD First,
                                         DWORD Count, DWORD RecordLength, void *Buffer,
                                         DWORD *Read)
{
    HPSSDETAILS d = as_details(Details);
    if (d == NULL)
        return ERROR_INVALID_HANDLE;
    if (Read == NULL)
        return ERROR_INVALID_PARAMETER;
    *Read = 0;
    const void *src;
    size_t n, size;
    switch (Class) {
    case PSS_DETAILS_CLASS_THREADS:
        src = d->threads, n = d->nthreads, size = sizeof *d->threads;
        break;
    case PSS_DETAILS_CLASS_HANDLES:
        src = d->handles, n = d->nhandles, size = sizeof *d->handles;
        break;
    case PSS_DETAILS_CLASS_REGIONS:
        src = d->regions, n = d->nregions, size = sizeof *d->regions;
        break;
    case PSS_DETAILS_CLASS_MODULES:
        src = d->modules, n = d->nmods, size = sizeof *d->modules;
        break;
    default:
        return ERROR_INVALID_PARAMETER;
    }
    if (RecordLength != size)
        return ERROR_BAD_LENGTH;
    if (First > n)
        return ERROR_INVALID_PARAMETER;
    size_t k = n - First < Count ? n - First : Count;
    if (k > 0 && Buffer == NULL)
        return ERROR_INVALID_PARAMETER;
    if (k > 0)
        memcpy(Buffer, (const char *)src + First * size, k * size);
    *Read = (DWORD)k;
    return ERROR_SUCCESS;
}

PSS_API DWORD WINAPI PssLinuxFreeDetails(HPSSDETAILS Details)
{
    /* Check and removal in one step: of two concurrent frees exactly one succeeds. */
    if (!pss_handle_unregister(Details, PSS_KIND_DETAILS))
        return ERROR_INVALID_HANDLE;
    details_destroy(Details);
    return ERROR_SUCCESS;
}

/* ---- snapshot and details at the same moment ---- */

struct snapshot_job {
    HANDLE process;
    PSS_CAPTURE_FLAGS flags;
    DWORD context_flags;
    HPSS snapshot;
    DWORD rc;
};

static void *snapshot_thread(void *arg)
{
    struct snapshot_job *j = arg;
    j->rc = PssCaptureSnapshot(j->process, j->flags, j->context_flags, &j->snapshot);
    return NULL;
}

PSS_API DWORD WINAPI PssLinuxCaptureSnapshotAndDetails(HANDLE ProcessHandle,
                                                       PSS_CAPTURE_FLAGS CaptureFlags,
                                                       DWORD ThreadContextFlags,
                                                       DWORD DetailFlags,
                                                       HPSS *SnapshotHandle,
                                                       HPSSDETAILS *Details)
{
    if (SnapshotHandle == NULL || Details == NULL)
        return ERROR_INVALID_PARAMETER;
    *SnapshotHandle = NULL;
    *Details = NULL;
    if (DetailFlags == 0 || (DetailFlags & ~PSS_DETAILS_ALL) != 0)
        return ERROR_INVALID_PARAMETER;
    struct snapshot_job job = {ProcessHandle, CaptureFlags, ThreadContextFlags, NULL, 0};
    HPSSDETAILS d = NULL;
    DWORD drc;
    bool together = (CaptureFlags & PSS_CAPTURE_THREAD_CONTEXT) == 0;
    pthread_t th;
    if (together) {
        /* The helper blocks every signal: they stay with the caller's threads. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        together = pthread_create(&th, NULL, snapshot_thread, &job) == 0;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    if (together) {
        drc = PssLinuxCaptureDetails(ProcessHandle, DetailFlags, &d);
        pthread_join(th, NULL);
    } else {
        snapshot_thread(&job);
        drc = job.rc == ERROR_SUCCESS ? PssLinuxCaptureDetails(ProcessHandle, DetailFlags, &d)
                                      : ERROR_SUCCESS;
    }
    if (job.rc != ERROR_SUCCESS || drc != ERROR_SUCCESS) {
        if (job.snapshot != NULL)
            PssFreeSnapshot(PSS_CURRENT_PROCESS, job.snapshot);
        if (d != NULL)
            PssLinuxFreeDetails(d);
        return job.rc != ERROR_SUCCESS ? job.rc : drc;
    }
    *SnapshotHandle = job.snapshot;
    *Details = d;
    return ERROR_SUCCESS;
}
