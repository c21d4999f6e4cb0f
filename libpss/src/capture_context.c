/*
 * capture_context.c -- the ptrace freeze used for PSS_CAPTURE_THREAD_CONTEXT, and the
 * mapping of Linux registers into an x64 CONTEXT.
 *
 * Freeze: PTRACE_SEIZE + PTRACE_INTERRUPT every thread listed in /proc/PID/task, wait
 * for each to reach its ptrace stop, and re-list until a pass finds no new thread (a
 * running thread may create threads until it is stopped).  The whole capture then runs
 * with the target stopped; PTRACE_DETACH resumes every thread at the end, re-injecting
 * a signal that we caught in a signal-delivery stop.  A thread that was already in a
 * job-control stop reports that at its first ptrace stop and stays stopped after the
 * detach.  The capture runs on a short-lived helper thread (capture.c): ptrace links
 * belong to the tracer thread, so when it exits the kernel detaches anything we could
 * not detach ourselves (a thread stuck in uninterruptible sleep past the timeout).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pss_internal.h"

#define STOP_TIMEOUT_NS UINT64_C(2000000000)

const struct pss_frozen_thread *pss_freeze_find(const struct pss_freeze *f, pid_t tid)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->t[i].tid == tid)
            return &f->t[i];
    return NULL;
}

static bool has_foreign_tracer(int procfd, pid_t tid)
{
    char path[48], buf[4096];
    snprintf(path, sizeof path, "task/%d/status", (int)tid);
    if (pss_read_small(procfd, path, buf, sizeof buf) < 0)
        return false;
    uint64_t tracer = 0;
    return pss_status_field(buf, "TracerPid", &tracer) && tracer != 0;
}

static bool is_group_stop_signal(int sig)
{
    return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/*
 * Looks at tid's next wait event without consuming an exit of the group leader: the
 * target may be a child of the calling process, and reaping its leader here would steal
 * the exit status from the caller's own waitpid().  Exits of other threads are consumed
 * (that releases them and lets a dying leader become reportable).  Returns 0 = nothing
 * yet, 1 = stopped (the stop is consumed into *status), 2 = exited or no longer ours.
 */
static int peek_event(pid_t tid, pid_t leader, int *status)
{
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)tid, &si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL) != 0) {
            if (errno == EINTR)
                continue;
            return 2; /* ECHILD */
        }
        if (si.si_pid == 0)
            return 0;
        if (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED) {
            if (tid != leader)
                while (waitpid(tid, status, __WALL | WNOHANG) < 0 && errno == EINTR)
                    ;
            return 2;
        }
        pid_t r = waitpid(tid, status, __WALL | WNOHANG);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == tid && WIFSTOPPED(*status))
            return 1;
        if (r < 0)
            return 2;
        return 0; /* consumed by someone else meanwhile: look again next round */
    }
}

/* Polls one seized thread once.  Returns true when it has settled (stopped or exited). */
static bool poll_stop(struct pss_frozen_thread *t, pid_t leader)
{
    int status = 0;
    switch (peek_event(t->tid, leader, &status)) {
    case 1: {
        int sig = WSTOPSIG(status);
        int event = (status >> 16) & 0xFF;
        if (event == PTRACE_EVENT_STOP) {
            if (is_group_stop_signal(sig))
                t->job_stopped = true;
        } else if (sig != SIGTRAP) {
            t->pending_signal = sig; /* signal-delivery stop: deliver at detach */
        }
        t->stopped = true;
        return true;
    }
    case 2:
        t->exited = true;
        return true;
    default:
        return false;
    }
}

/* A stopped tracee that was SIGKILLed meanwhile reports its exit; collect it. */
static void reap_if_exited(struct pss_frozen_thread *t, pid_t leader)
{
    int status = 0;
    if (peek_event(t->tid, leader, &status) == 2) {
        t->exited = true;
        t->stopped = false;
    }
}

/*
 * Waits until every thread in [first, n) has reached its ptrace stop or exited.  All of
 * them are polled in turn rather than one after the other: when the target is killed
 * meanwhile, a dying group leader is only reported after its (traced, zombie) sibling
 * threads have been reaped by us.  ERROR_SUCCESS or ERROR_TIMEOUT after 2 s.
 */
static DWORD wait_for_stops(struct pss_freeze *f, size_t first, pid_t leader)
{
    const uint64_t deadline = pss_monotonic_ns() + STOP_TIMEOUT_NS;
    unsigned idle_rounds = 0;
    for (;;) {
        bool pending = false, progress = false;
        for (size_t i = first; i < f->n; i++) {
            struct pss_frozen_thread *t = &f->t[i];
            if (t->stopped || t->exited || t->foreign_tracer)
                continue;
            if (poll_stop(t, leader))
                progress = true;
            else
                pending = true;
        }
        if (!pending)
            return ERROR_SUCCESS;
        if (!progress && idle_rounds >= 8) {
            /* Stuck: the target may have been killed.  A dying group leader is only
             * reported after its traced sibling threads (stopped earlier, zombies now)
             * have been reaped by us, so collect those exits. */
            for (size_t i = 0; i < f->n; i++)
                if (f->t[i].stopped && !f->t[i].exited)
                    reap_if_exited(&f->t[i], leader);
        }
        if (pss_monotonic_ns() > deadline)
            return ERROR_TIMEOUT;
        if (progress)
            idle_rounds = 0;
        else if (++idle_rounds < 64)
            sched_yield();
        else {
            struct timespec ts = {0, 20000};
            nanosleep(&ts, NULL);
        }
    }
}

/* One pass over task/: seize and interrupt every thread not seen yet.  *added receives
 * how many were new. */
static DWORD seize_pass(struct pss_capture *c, size_t *added)
{
    struct pss_freeze *f = &c->freeze;
    *added = 0;
    int fd = openat(c->target.procfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return (errno == ENOENT || errno == ESRCH) ? ERROR_PROCESS_ABORTED
                                                   : pss_win32_from_errno(errno);
    struct pss_dirent_iter it;
    if (pss_dir_open(&it, fd) != 0)
        return ERROR_NOT_ENOUGH_MEMORY;
    const size_t first_new = f->n;
    DWORD rc = ERROR_SUCCESS;
    const char *name;
    long tid;
    int r;
    while ((r = pss_dir_next_number(&it, &name, &tid)) > 0) {
        if (pss_freeze_find(f, (pid_t)tid) != NULL)
            continue;
        if (pss_grow((void **)&f->t, &f->cap, f->n + 1, sizeof *f->t) != 0) {
            rc = ERROR_NOT_ENOUGH_MEMORY;
            break;
        }
        struct pss_frozen_thread *t = &f->t[f->n++];
        memset(t, 0, sizeof *t);
        t->tid = (pid_t)tid;
        (*added)++;
        if (ptrace(PTRACE_SEIZE, t->tid, NULL, NULL) != 0) {
            int err = errno;
            if (err == ESRCH) {
                t->exited = true;
                continue;
            }
            if (err == EPERM && has_foreign_tracer(c->target.procfd, t->tid)) {
                t->foreign_tracer = true;
                continue;
            }
            if (err == EPERM) {
                /* Also EPERM: the thread is exiting (a zombie cannot be attached). */
                char path[48], buf[512];
                snprintf(path, sizeof path, "task/%ld/stat", tid);
                ssize_t n = pss_read_small(c->target.procfd, path, buf, sizeof buf);
                struct pss_stat st;
                if (n < 0 || (pss_parse_stat(buf, (size_t)n, &st) == 0 &&
                              (st.state == 'Z' || st.state == 'X'))) {
                    t->exited = true;
                    continue;
                }
            }
            rc = pss_win32_from_errno(err);
            break;
        }
        if (ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL) != 0) {
            /* Seized but gone already: the exit is reported by waitpid below. */
        }
    }
    if (r < 0 && rc == ERROR_SUCCESS)
        rc = pss_win32_from_errno(-r);
    pss_dir_close(&it);

    /* Collect the stops of everything seized in this pass. */
    DWORD w = wait_for_stops(f, first_new, c->target.pid);
    if (rc == ERROR_SUCCESS)
        rc = w;
    return rc;
}

DWORD pss_freeze_all(struct pss_capture *c)
{
    c->frozen = true;
    for (int pass = 0; pass < 1000; pass++) {
        size_t added;
        DWORD rc = seize_pass(c, &added);
        if (rc != ERROR_SUCCESS)
            return rc;
        if (added == 0)
            return ERROR_SUCCESS;
    }
    return ERROR_TIMEOUT; /* the thread set never settled */
}

void pss_thaw_all(struct pss_capture *c)
{
    struct pss_freeze *f = &c->freeze;
    for (size_t i = 0; i < f->n; i++) {
        struct pss_frozen_thread *t = &f->t[i];
        if (t->exited || t->foreign_tracer)
            continue;
        /* A seized thread that never reached its stop (timeout) cannot be detached
         * here (ESRCH); the capture runs on a helper thread whose exit makes the kernel
         * detach every remaining tracee. */
        ptrace(PTRACE_DETACH, t->tid, NULL, (void *)(intptr_t)t->pending_signal);
    }
    free(f->t);
    f->t = NULL;
    f->n = f->cap = 0;
    c->frozen = false;
}

int pss_read_context(pid_t tid, DWORD flags, CONTEXT *ctx, uint64_t *fs_base,
                     int64_t *syscall_nr, uint64_t *syscall_arg0)
{
    struct user_regs_struct regs;
    if (ptrace(PTRACE_GETREGS, tid, NULL, &regs) != 0)
        return -errno;
    *fs_base = regs.fs_base;
    *syscall_nr = (int64_t)regs.orig_rax;
    *syscall_arg0 = regs.rdi;

    ctx->ContextFlags = flags & CONTEXT_ALL;
    if ((flags & CONTEXT_CONTROL) == CONTEXT_CONTROL) {
        ctx->SegCs = (WORD)regs.cs;
        ctx->SegSs = (WORD)regs.ss;
        ctx->EFlags = (DWORD)regs.eflags;
        ctx->Rsp = regs.rsp;
        ctx->Rip = regs.rip;
    }
    if ((flags & CONTEXT_INTEGER) == CONTEXT_INTEGER) {
        ctx->Rax = regs.rax;
        ctx->Rcx = regs.rcx;
        ctx->Rdx = regs.rdx;
        ctx->Rbx = regs.rbx;
        ctx->Rbp = regs.rbp;
        ctx->Rsi = regs.rsi;
        ctx->Rdi = regs.rdi;
        ctx->R8 = regs.r8;
        ctx->R9 = regs.r9;
        ctx->R10 = regs.r10;
        ctx->R11 = regs.r11;
        ctx->R12 = regs.r12;
        ctx->R13 = regs.r13;
        ctx->R14 = regs.r14;
        ctx->R15 = regs.r15;
    }
    if ((flags & CONTEXT_SEGMENTS) == CONTEXT_SEGMENTS) {
        ctx->SegDs = (WORD)regs.ds;
        ctx->SegEs = (WORD)regs.es;
        ctx->SegFs = (WORD)regs.fs;
        ctx->SegGs = (WORD)regs.gs;
    }
    if ((flags & CONTEXT_FLOATING_POINT) == CONTEXT_FLOATING_POINT) {
        struct user_fpregs_struct fp;
        _Static_assert(sizeof fp == sizeof ctx->FltSave, "FXSAVE layout");
        if (ptrace(PTRACE_GETFPREGS, tid, NULL, &fp) != 0)
            return -errno;
        memcpy(&ctx->FltSave, &fp, sizeof fp);
        ctx->MxCsr = fp.mxcsr;
    }
    if ((flags & CONTEXT_DEBUG_REGISTERS) == CONTEXT_DEBUG_REGISTERS) {
        static const int idx[6] = {0, 1, 2, 3, 6, 7};
        DWORD64 *dst[6] = {&ctx->Dr0, &ctx->Dr1, &ctx->Dr2, &ctx->Dr3, &ctx->Dr6, &ctx->Dr7};
        for (int i = 0; i < 6; i++) {
            errno = 0;
            long v = ptrace(PTRACE_PEEKUSER, tid,
                            (void *)(offsetof(struct user, u_debugreg) +
                                     (size_t)idx[i] * sizeof(long)),
                            NULL);
            if (errno != 0)
                return -errno;
            *dst[i] = (DWORD64)v;
        }
    }
    return 0;
}
