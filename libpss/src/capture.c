/*
 * capture.c -- PssCaptureSnapshot: argument checks, the order of the capture phases,
 * performance counters, and cleanup.
 *
 * Phases: process information (always), handles (begun: fds listed, maybe a helper
 * thread reading them), VA space, handles (finished), threads.  With
 * PSS_CAPTURE_THREAD_CONTEXT every thread is ptrace-stopped first and all phases run
 * while the target is frozen; the ptrace calls themselves are made by a helper task of
 * its own thread group (capture_context.c), everything else on the calling thread.
 * Captures of one target are serialised within the process (pss_target_lock): a
 * context capture exclusively, other captures shared.
 * A capture succeeds only if the target was still there (alive or an unreaped zombie)
 * after the last phase; a target reaped in between yields ERROR_PROCESS_ABORTED.
 *
 * A dead group leader (README "A dead group leader"): when the process phase finds the
 * leader exited but other threads alive, it opens a live thread's task directory
 * (c->datafd); the VA space and handle phases then read maps, map_files, fd/ and
 * fdinfo/ there, because target.procfd and target.pid are swapped to that thread for
 * their duration.  If the thread the data came from exits during the capture (or the
 * leader exits during a capture that read the leader's files), what was read may be
 * empty, so the capture is made again (at most PSS_CAPTURE_ATTEMPTS times).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
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

#define PSS_CAPTURE_ATTEMPTS 4

/* Points the target at the live thread chosen by the process phase, if any. */
static void use_data_thread(struct pss_capture *c, struct pss_target *saved)
{
    *saved = c->target;
    if (c->datafd < 0)
        return;
    if (c->target.self && c->target.owns_fd) {
        /* A self-capture lists our own fds and leaves out target.procfd: close the
         * /proc/self fd for the duration, so the only directory fd we hold is datafd. */
        close(c->target.procfd);
        saved->procfd = -1;
    }
    c->target.procfd = c->datafd;
    c->target.pid = c->data_tid;
    c->target.owns_fd = c->target.self; /* excluded from a self-capture; never closed */
}

static DWORD restore_target(struct pss_capture *c, const struct pss_target *saved)
{
    if (c->datafd < 0)
        return ERROR_SUCCESS;
    c->target = *saved;
    if (c->target.self && c->target.owns_fd && c->target.procfd < 0) {
        int fd;
        do {
            fd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        } while (fd < 0 && errno == EINTR);
        if (fd < 0)
            return pss_win32_from_errno(errno);
        c->target.procfd = fd;
    }
    return ERROR_SUCCESS;
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
    struct pss_target saved;
    use_data_thread(c, &saved);
    /* Handles begin before the VA space: the fds are listed and, for a large table, a
     * helper thread reads them while this thread reads the VA space; then this thread
     * joins the fd reading.  Both run while the target may point at the data thread. */
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
    if (hp != NULL) {
        struct phase_clock p = phase_start();
        DWORD hrc = pss_capture_handles_end(c, hp, rc != ERROR_SUCCESS);
        if (rc == ERROR_SUCCESS)
            rc = hrc;
        phase_end(p, &pc->HandlesCycleCount, &pc->HandlesWallClockPeriod);
    }
    DWORD restored = restore_target(c, &saved);
    if (rc == ERROR_SUCCESS)
        rc = restored;
    if (rc == ERROR_SUCCESS && (c->flags & PSS_CAPTURE_THREADS)) {
        struct phase_clock p = phase_start();
        rc = pss_capture_threads(c);
        phase_end(p, &pc->ThreadsCycleCount, &pc->ThreadsWallClockPeriod);
    }
    if (c->frozen) {
        struct phase_clock p = phase_start();
        DWORD thaw = pss_thaw_all(c);
        if (rc == ERROR_SUCCESS)
            rc = thaw;
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

    const uint32_t flags = CaptureFlags | ((CaptureFlags & PSS_CAPTURE_THREAD_CONTEXT)
                                               ? PSS_CAPTURE_THREADS /* per-thread entries */
                                               : 0u);
    struct pss_target target;
    rc = pss_target_resolve(ProcessHandle, &target);
    if (rc != ERROR_SUCCESS)
        return rc;
    if ((flags & PSS_CAPTURE_THREAD_CONTEXT) && target.self) {
        pss_target_release(&target);
        return ERROR_NOT_SUPPORTED; /* a process cannot ptrace its own threads */
    }

    HPSS snap = NULL;
    const pid_t lock_pid = target.pid;
    for (int attempt = 1;; attempt++) {
        struct pss_capture c;
        memset(&c, 0, sizeof c);
        c.flags = flags;
        c.context_flags = ThreadContextFlags;
        c.target = target;
        c.datafd = -1;
        pss_clock_init(&c.clock);
        c.snap = pss_snapshot_new();
        if (c.snap == NULL) {
            rc = ERROR_NOT_ENOUGH_MEMORY;
            break;
        }
        c.snap->capture_flags = CaptureFlags;
        c.snap->context_flags = ThreadContextFlags;

        if (c.target.self) {
            rc = capture_body(&c); /* never frozen by us: no lock */
        } else {
            /* Captures of one target are serialised (a context capture exclusively); the
             * lock is keyed by the process id, not by the live thread a phase may read. */
            const bool exclusive = (c.flags & PSS_CAPTURE_THREAD_CONTEXT) != 0;
            pss_target_lock(lock_pid, exclusive);
            rc = capture_body(&c);
            pss_target_unlock(lock_pid);
        }
        pss_maps_free(&c.maps);
        target = c.target; /* a self-capture may have reopened its /proc/self fd */
        /* The thread whose files were read exited meanwhile: they may have read empty. */
        bool again = attempt < PSS_CAPTURE_ATTEMPTS && target.procfd >= 0 &&
                     !pss_capture_source_intact(&c) && !pss_target_gone(target.procfd);
        if (c.datafd >= 0)
            close(c.datafd);
        if (again) {
            pss_snapshot_destroy(c.snap);
            continue;
        }
        snap = c.snap;
        break;
    }
    pss_target_release(&target);
    if (rc == ERROR_SUCCESS)
        rc = pss_handle_register(snap, PSS_KIND_SNAPSHOT); /* now it is a handle */
    if (rc != ERROR_SUCCESS) {
        pss_snapshot_destroy(snap);
        return rc;
    }
    *SnapshotHandle = snap;
    return ERROR_SUCCESS;
}
