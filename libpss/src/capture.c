/*
 * capture.c -- PssCaptureSnapshot: argument checks, the order of the capture phases,
 * performance counters, and cleanup.
 *
 * Phases: process information (always), handles (begun: fds listed, maybe a helper
 * thread reading them), VA space, threads, handles (finished).  With
 * PSS_CAPTURE_THREAD_CONTEXT every thread is ptrace-stopped first and all phases run
 * while the target is frozen; that capture runs on a short-lived helper thread because
 * ptrace links belong to the tracer thread (its exit detaches anything left behind).
 * A capture succeeds only if the target was still there (alive or an unreaped zombie)
 * after the last phase; a target reaped in between yields ERROR_PROCESS_ABORTED.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pss_internal.h"

#define SUPPORTED_CAPTURE_BITS                                                            \
    (PSS_CAPTURE_HANDLES | PSS_CAPTURE_HANDLE_NAME_INFORMATION |                          \
     PSS_CAPTURE_HANDLE_BASIC_INFORMATION | PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION | \
     PSS_CAPTURE_THREADS | PSS_CAPTURE_THREAD_CONTEXT | PSS_CAPTURE_VA_SPACE |            \
     PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION)
#define UNSUPPORTED_CAPTURE_BITS                                                          \
    (PSS_CAPTURE_VA_CLONE | PSS_CAPTURE_HANDLE_TRACE | PSS_CAPTURE_THREAD_CONTEXT_EXTENDED | \
     PSS_CAPTURE_IPT_TRACE)
#define IGNORED_CREATE_BITS                                                               \
    (PSS_CREATE_BREAKAWAY_OPTIONAL | PSS_CREATE_BREAKAWAY | PSS_CREATE_FORCE_BREAKAWAY |  \
     PSS_CREATE_USE_VM_ALLOCATIONS | PSS_CREATE_MEASURE_PERFORMANCE |                     \
     PSS_CREATE_RELEASE_SECTION)
#define KNOWN_BITS (SUPPORTED_CAPTURE_BITS | UNSUPPORTED_CAPTURE_BITS | IGNORED_CREATE_BITS)

struct phase_clock {
    uint64_t tsc;
    uint64_t ns;
};

static struct phase_clock phase_start(void)
{
    struct phase_clock p = {pss_rdtsc(), pss_monotonic_ns()};
    return p;
}

/* Adds the elapsed cycles and microseconds (PSS_PERF_RESOLUTION) since p. */
static void phase_end(struct phase_clock p, UINT64 *cycles, UINT64 *wall_us)
{
    *cycles += pss_rdtsc() - p.tsc;
    *wall_us += (pss_monotonic_ns() - p.ns) / 1000u;
}

static DWORD capture_body(struct pss_capture *c)
{
    HPSS s = c->snap;
    PSS_PERFORMANCE_COUNTERS *pc = &s->perf;
    const struct phase_clock total = phase_start();
    DWORD rc = ERROR_SUCCESS;

    if (c->flags & PSS_CAPTURE_THREAD_CONTEXT) {
        struct phase_clock p = phase_start();
        rc = pss_freeze_all(c);
        phase_end(p, &pc->ThreadsCycleCount, &pc->ThreadsWallClockPeriod);
    }
    if (rc == ERROR_SUCCESS)
        rc = pss_capture_process(c);
    /* Handles begin first: a helper thread may read fds while this thread reads the VA
     * space and the threads, then this thread joins the fd reading. */
    struct handle_pass *hp = NULL;
    if (rc == ERROR_SUCCESS && (c->flags & PSS_CAPTURE_HANDLES)) {
        struct phase_clock p = phase_start();
        rc = pss_capture_handles_begin(c, &hp);
        phase_end(p, &pc->HandlesCycleCount, &pc->HandlesWallClockPeriod);
    }
    if (rc == ERROR_SUCCESS && (c->flags & PSS_CAPTURE_VA_SPACE)) {
        struct phase_clock p = phase_start();
        rc = pss_capture_vaspace(c);
        phase_end(p, &pc->VaSpaceCycleCount, &pc->VaSpaceWallClockPeriod);
    }
    if (rc == ERROR_SUCCESS && (c->flags & PSS_CAPTURE_THREADS)) {
        struct phase_clock p = phase_start();
        rc = pss_capture_threads(c);
        phase_end(p, &pc->ThreadsCycleCount, &pc->ThreadsWallClockPeriod);
    }
    if (hp != NULL) {
        struct phase_clock p = phase_start();
        DWORD hrc = pss_capture_handles_end(c, hp, rc != ERROR_SUCCESS);
        if (rc == ERROR_SUCCESS)
            rc = hrc;
        phase_end(p, &pc->HandlesCycleCount, &pc->HandlesWallClockPeriod);
    }
    if (c->frozen) {
        struct phase_clock p = phase_start();
        pss_thaw_all(c);
        phase_end(p, &pc->ThreadsCycleCount, &pc->ThreadsWallClockPeriod);
    }
    /* A reaped target invalidates whatever was read. */
    if (pss_target_gone(c->target.procfd))
        rc = ERROR_PROCESS_ABORTED;
    phase_end(total, &pc->TotalCycleCount, &pc->TotalWallClockPeriod);
    s->have_perf = (c->flags & PSS_CREATE_MEASURE_PERFORMANCE) != 0;
    if (!s->have_perf)
        memset(pc, 0, sizeof *pc);
    return rc;
}

struct helper_arg {
    struct pss_capture *c;
    DWORD rc;
};

static void *capture_helper(void *p)
{
    struct helper_arg *a = p;
    a->rc = capture_body(a->c);
    return NULL;
}

static DWORD check_flags(PSS_CAPTURE_FLAGS flags, DWORD context_flags)
{
    if (flags & ~KNOWN_BITS)
        return ERROR_INVALID_PARAMETER; /* reserved and unnamed bits */
    if (flags & UNSUPPORTED_CAPTURE_BITS)
        return ERROR_NOT_SUPPORTED;
    if (flags & PSS_CAPTURE_THREAD_CONTEXT) {
        if ((context_flags & CONTEXT_AMD64) == 0)
            return ERROR_INVALID_PARAMETER;
        if ((context_flags & ~(CONTEXT_ALL | CONTEXT_XSTATE)) != 0)
            return ERROR_INVALID_PARAMETER;
        if ((context_flags & CONTEXT_XSTATE) == CONTEXT_XSTATE)
            return ERROR_NOT_SUPPORTED;
    }
    return ERROR_SUCCESS;
}

PSS_API DWORD WINAPI PssCaptureSnapshot(HANDLE ProcessHandle, PSS_CAPTURE_FLAGS CaptureFlags,
                                        DWORD ThreadContextFlags, HPSS *SnapshotHandle)
{
    if (SnapshotHandle == NULL)
        return ERROR_INVALID_PARAMETER;
    *SnapshotHandle = NULL;
    DWORD rc = check_flags(CaptureFlags, ThreadContextFlags);
    if (rc != ERROR_SUCCESS)
        return rc;

    struct pss_capture c;
    memset(&c, 0, sizeof c);
    c.flags = CaptureFlags;
    if (c.flags & PSS_CAPTURE_THREAD_CONTEXT)
        c.flags |= PSS_CAPTURE_THREADS; /* contexts are per-thread entries */
    c.context_flags = ThreadContextFlags;
    rc = pss_target_resolve(ProcessHandle, &c.target);
    if (rc != ERROR_SUCCESS)
        return rc;
    if ((c.flags & PSS_CAPTURE_THREAD_CONTEXT) && c.target.self) {
        pss_target_release(&c.target);
        return ERROR_NOT_SUPPORTED; /* a process cannot ptrace its own threads */
    }
    pss_clock_init(&c.clock);
    c.snap = pss_snapshot_new();
    if (c.snap == NULL) {
        pss_target_release(&c.target);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    c.snap->capture_flags = CaptureFlags;
    c.snap->context_flags = ThreadContextFlags;

    if (c.flags & PSS_CAPTURE_THREAD_CONTEXT) {
        struct helper_arg arg = {&c, ERROR_GEN_FAILURE};
        pthread_t th;
        int err = pthread_create(&th, NULL, capture_helper, &arg);
        if (err != 0)
            rc = err == EAGAIN ? ERROR_NOT_ENOUGH_MEMORY : pss_win32_from_errno(err);
        else {
            pthread_join(th, NULL);
            rc = arg.rc;
        }
    } else {
        rc = capture_body(&c);
    }

    pss_maps_free(&c.maps);
    pss_target_release(&c.target);
    if (rc != ERROR_SUCCESS) {
        pss_snapshot_destroy(c.snap);
        return rc;
    }
    *SnapshotHandle = c.snap;
    return ERROR_SUCCESS;
}
