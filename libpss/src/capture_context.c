/*
 * capture_context.c -- the ptrace freeze used for PSS_CAPTURE_THREAD_CONTEXT, the
 * helper task that owns the ptrace links, the per-target capture locks, and the mapping
 * of Linux registers into an x64 CONTEXT.
 *
 * Freeze: PTRACE_SEIZE + PTRACE_INTERRUPT every thread listed in /proc/PID/task, wait
 * for each to reach its ptrace stop, and re-list until a pass finds no new thread (a
 * running thread may create threads until it is stopped).  The whole capture then runs
 * with the target stopped; PTRACE_DETACH resumes every thread at the end, re-injecting
 * a signal that we caught in a signal-delivery stop.  A thread that was already in a
 * job-control stop reports that at its first ptrace stop and stays stopped after the
 * detach.
 *
 * The helper task (libpss/README.md, "Thread context without side effects"): the kernel
 * reports a tracee's stops and exits to the tracer's *thread group* -- to any thread of
 * it blocked in wait()/waitpid(-1) -- and sends that group SIGCHLD.  So the tracer must
 * not be a thread of the caller.  It is a task made with clone(CLONE_VM | CLONE_FS |
 * CLONE_FILES | CLONE_UNTRACED | CLONE_CHILD_CLEARTID [| CLONE_PIDFD]) and exit signal 0:
 * its own thread group (no CLONE_THREAD, no CLONE_SIGHAND) sharing our memory and fd
 * table, on a stack we mmap, with every signal blocked.  It runs no libc code at all
 * (it shares the calling thread's TLS, so errno, malloc and the sanitizers' per-thread
 * state stay the caller's): it only executes batches of raw ptrace()/wait4() system
 * calls that the calling thread posts through a futex, and the calling thread does all
 * the rest of the capture itself.  Its exit is announced by the kernel through
 * CLONE_CHILD_CLEARTID (so a helper killed from outside never hangs us) and it is reaped
 * with waitid(P_PIDFD, __WCLONE) -- a plain waitpid(-1) of the caller cannot see a child
 * with exit signal 0.  PR_SET_PDEATHSIG kills it if the calling thread dies, and its
 * exit detaches anything it still traces (a thread stuck past the timeout).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pss_internal.h"

#if !defined(__x86_64__)
#error "libpss maps x86-64 registers; the helper task issues raw x86-64 system calls"
#endif

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define STOP_TIMEOUT_NS UINT64_C(2000000000)

/* ---------------------------------------------------------------------------------
 * Per-target capture locks
 * ------------------------------------------------------------------------------- */

/*
 * Captures of one target by threads of this process must not see each other's freeze:
 * a second tracer's PTRACE_SEIZE fails (the thread looks foreign-traced), and a plain
 * capture sees the threads in 't'.  So captures of a target are serialised: a
 * THREAD_CONTEXT capture holds its target's lock exclusively from the first seize to
 * the helper's reaping, a plain capture holds it shared.  The locks are a fixed array
 * indexed by pid (targets that share a slot just wait for each other); writers are
 * preferred so that a stream of plain captures cannot starve a context capture.
 */
#define TARGET_LOCKS 64
static pthread_rwlock_t g_target_locks[TARGET_LOCKS] = {
    [0 ... TARGET_LOCKS - 1] = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP};

static pthread_rwlock_t *target_lock(pid_t pid)
{
    return &g_target_locks[(uint32_t)pid % TARGET_LOCKS];
}

void pss_target_lock(pid_t pid, bool exclusive)
{
    int err;
    do
        err = exclusive ? pthread_rwlock_wrlock(target_lock(pid))
                        : pthread_rwlock_rdlock(target_lock(pid));
    while (err == EAGAIN); /* too many readers: wait for one to leave */
}

void pss_target_unlock(pid_t pid)
{
    pthread_rwlock_unlock(target_lock(pid));
}

/* ---------------------------------------------------------------------------------
 * The helper task
 * ------------------------------------------------------------------------------- */

/* Code that runs on the helper task: raw system calls and plain loads/stores only.  It
 * is not instrumented (the sanitizer runtimes keep per-thread state in the TLS, which
 * the helper shares with the blocked calling thread). */
#define HELPER_CODE __attribute__((no_sanitize("address", "undefined")))

#define HELPER_STACK_SIZE (64u * 1024u)
#define SEQ_START 1u /* 0 is what the kernel writes into `done` when the helper exits */

/* One system call for the helper: ret = syscall(nr, a[0..4]) (-errno on failure);
 * `status` receives a wait4 status. */
struct hcall {
    long nr;
    long a[5];
    long ret;
    int status;
};

struct pss_ptracer {
    _Atomic uint32_t req;  /* caller -> helper: sequence number of the posted batch */
    _Atomic uint32_t done; /* helper -> caller: last batch executed; 0 once it exited
                              (CLONE_CHILD_CLEARTID: the kernel clears it and wakes us) */
    bool quit;             /* the posted request is "exit" */
    struct hcall *calls;   /* the batch */
    size_t ncalls, cap;
    uint32_t seq;          /* last sequence number posted (caller only) */
    bool dead;             /* the helper exited before it was asked to */
    pid_t parent;          /* our pid, checked by the helper after PR_SET_PDEATHSIG */
    pid_t pid;
    int pidfd;             /* -1 on kernels without CLONE_PIDFD */
    char *stack;           /* mapping: guard page + HELPER_STACK_SIZE */
    size_t map_size;
};

HELPER_CODE static inline long raw_syscall5(long nr, long a1, long a2, long a3, long a4,
                                            long a5)
{
    long ret;
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
                     : "rcx", "r11", "memory");
    return ret;
}

HELPER_CODE static int helper_main(void *arg)
{
    struct pss_ptracer *t = arg;
    /* Every signal blocked, including the two glibc reserves for itself (the calling
     * thread blocked the others before clone() already): no handler of the caller ever
     * runs here, and the SIGCHLD our tracees send us stays pending until we exit. */
    const uint64_t all = ~UINT64_C(0);
    raw_syscall5(SYS_rt_sigprocmask, SIG_SETMASK, (long)&all, 0, 8, 0);
    /* Die with the calling thread (its process exiting or exec'ing). */
    raw_syscall5(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (raw_syscall5(SYS_getppid, 0, 0, 0, 0, 0) != t->parent)
        return 0;
    uint32_t seen = SEQ_START;
    for (;;) {
        uint32_t r;
        while ((r = atomic_load_explicit(&t->req, memory_order_acquire)) == seen)
            raw_syscall5(SYS_futex, (long)&t->req, FUTEX_WAIT, (long)seen, 0, 0);
        seen = r;
        if (t->quit)
            return 0;
        for (size_t i = 0; i < t->ncalls; i++) {
            struct hcall *c = &t->calls[i];
            c->ret = raw_syscall5(c->nr, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4]);
        }
        atomic_store_explicit(&t->done, r, memory_order_release);
        raw_syscall5(SYS_futex, (long)&t->done, FUTEX_WAKE, 1, 0, 0);
    }
}

/* Starts the helper.  ERROR_SUCCESS and *out, or an error with nothing left behind. */
static DWORD ptracer_start(struct pss_ptracer **out)
{
    *out = NULL;
    struct pss_ptracer *t = calloc(1, sizeof *t);
    if (t == NULL)
        return ERROR_NOT_ENOUGH_MEMORY;
    const size_t guard = (size_t)sysconf(_SC_PAGESIZE);
    t->map_size = guard + HELPER_STACK_SIZE;
    t->stack = mmap(NULL, t->map_size, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (t->stack == MAP_FAILED) {
        free(t);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    mprotect(t->stack, guard, PROT_NONE); /* stack overflow faults instead of writing */
    atomic_init(&t->req, SEQ_START);
    atomic_init(&t->done, SEQ_START);
    t->seq = SEQ_START;
    t->parent = getpid();
    t->pidfd = -1;

    /* Exit signal 0 (the low byte of the flags): the caller is never signalled, and
     * only waits with __WCLONE or __WALL can see the helper at all. */
    const int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_UNTRACED | CLONE_CHILD_CLEARTID;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* inherited by the helper */
    void *top = t->stack + t->map_size;
    pid_t pid = clone(helper_main, top, flags | CLONE_PIDFD, t, &t->pidfd, NULL, &t->done);
    if (pid < 0 && errno == EINVAL) { /* kernel < 5.2: no CLONE_PIDFD */
        t->pidfd = -1;
        pid = clone(helper_main, top, flags, t, NULL, NULL, &t->done);
    }
    const int err = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        munmap(t->stack, t->map_size);
        free(t);
        return err == EAGAIN ? ERROR_NOT_ENOUGH_MEMORY : pss_win32_from_errno(err);
    }
    t->pid = pid;
    *out = t;
    return ERROR_SUCCESS;
}

static long futex_op(_Atomic uint32_t *word, int op, uint32_t val)
{
    return syscall(SYS_futex, word, op, val, NULL, NULL, 0);
}

/* Posts a request and waits until the helper executed it.  false if the helper is gone
 * (then it traces nothing any more: its exit detached every tracee). */
static bool ptracer_post(struct pss_ptracer *t)
{
    if (t->dead)
        return false;
    const uint32_t seq = ++t->seq; /* never wraps to 0: ~3 requests per thread */
    atomic_store_explicit(&t->req, seq, memory_order_release);
    futex_op(&t->req, FUTEX_WAKE, 1);
    for (;;) {
        uint32_t v = atomic_load_explicit(&t->done, memory_order_acquire);
        if (v == seq)
            return true;
        if (v == 0) {
            t->dead = true;
            return false;
        }
        futex_op(&t->done, FUTEX_WAIT, v); /* EINTR, EAGAIN: look again */
    }
}

/* Asks the helper to exit and reaps it.  Returns false if it had died before. */
static bool ptracer_stop(struct pss_ptracer *t)
{
    const bool was_alive = !t->dead;
    t->quit = true;
    if (!t->dead) {
        atomic_store_explicit(&t->req, ++t->seq, memory_order_release);
        futex_op(&t->req, FUTEX_WAKE, 1);
    }
    uint32_t v;
    while ((v = atomic_load_explicit(&t->done, memory_order_acquire)) != 0)
        futex_op(&t->done, FUTEX_WAIT, v);
    /* Reap it: once waitid returns, the kernel has also detached whatever it traced.
     * ECHILD: a thread of the caller waiting with __WALL reaped it first (documented). */
    bool reaped = false;
    if (t->pidfd >= 0) {
        siginfo_t si;
        int r;
        while ((r = waitid((idtype_t)P_PIDFD, (id_t)t->pidfd, &si, WEXITED | __WCLONE)) != 0 &&
               errno == EINTR)
            ;
        reaped = r == 0 || errno != EINVAL; /* EINVAL: kernel 5.2/5.3, no P_PIDFD yet */
        close(t->pidfd);
    }
    if (!reaped)
        while (waitpid(t->pid, NULL, __WCLONE) < 0 && errno == EINTR)
            ;
    munmap(t->stack, t->map_size);
    free(t->calls);
    free(t);
    return was_alive;
}

/* Starts a batch of n calls; false if out of memory. */
static bool batch_begin(struct pss_ptracer *t, size_t n)
{
    t->ncalls = 0;
    return pss_grow((void **)&t->calls, &t->cap, n > 0 ? n : 1, sizeof *t->calls) == 0;
}

/* Appends a call (within the reserved size) and returns it. */
static struct hcall *batch_add(struct pss_ptracer *t, long nr, long a0, long a1, long a2,
                               long a3)
{
    struct hcall *c = &t->calls[t->ncalls++];
    c->nr = nr;
    c->a[0] = a0;
    c->a[1] = a1;
    c->a[2] = a2;
    c->a[3] = a3;
    c->a[4] = 0;
    c->ret = -ENOSYS;
    c->status = 0;
    return c;
}

static struct hcall *batch_ptrace(struct pss_ptracer *t, int req, pid_t tid, void *addr,
                                  void *data)
{
    return batch_add(t, SYS_ptrace, req, tid, (long)addr, (long)data);
}

/* wait4(tid, &status, WNOHANG | __WALL): the status lands in the call itself. */
static struct hcall *batch_poll(struct pss_ptracer *t, pid_t tid)
{
    struct hcall *c = batch_add(t, SYS_wait4, tid, 0, WNOHANG | __WALL, 0);
    c->a[1] = (long)&c->status;
    return c;
}

/* ---------------------------------------------------------------------------------
 * Freeze and thaw
 * ------------------------------------------------------------------------------- */

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

static bool awaiting_stop(const struct pss_frozen_thread *t)
{
    return t->seized && !t->stopped && !t->exited;
}

/* Applies the result of a wait4(WNOHANG) on t.  Returns true if t settled. */
static bool apply_poll(struct pss_frozen_thread *t, const struct hcall *c)
{
    if (c->ret == 0)
        return false; /* nothing yet */
    if (c->ret == t->tid && WIFSTOPPED(c->status)) {
        int sig = WSTOPSIG(c->status);
        int event = (c->status >> 16) & 0xFF;
        if (event == PTRACE_EVENT_STOP) {
            if (is_group_stop_signal(sig))
                t->job_stopped = true;
        } else if (sig != SIGTRAP) {
            t->pending_signal = sig; /* signal-delivery stop: deliver at detach */
        }
        t->stopped = true;
        return true;
    }
    /* Exited or killed (the helper is not the target's parent, so reaping even the
     * group leader here leaves its exit status to its real parent), or ECHILD: no
     * longer ours. */
    t->exited = true;
    t->stopped = false;
    return true;
}

/*
 * Waits until every thread in [first, n) has reached its ptrace stop or exited.  All of
 * them are polled in turn rather than one after the other: when the target is killed
 * meanwhile, a dying group leader is only reported after its (traced, zombie) sibling
 * threads have been reaped by us, so when nothing moves the exits of threads stopped
 * earlier are collected as well.  ERROR_SUCCESS or ERROR_TIMEOUT after 2 s.
 */
static DWORD wait_for_stops(struct pss_freeze *f, size_t first)
{
    struct pss_ptracer *t = f->tracer;
    const uint64_t deadline = pss_monotonic_ns() + STOP_TIMEOUT_NS;
    unsigned idle_rounds = 0;
    for (;;) {
        const bool collect_exits = idle_rounds >= 8;
        size_t pending = 0;
        for (size_t i = first; i < f->n; i++)
            pending += awaiting_stop(&f->t[i]);
        if (pending == 0)
            return ERROR_SUCCESS;
        if (!batch_begin(t, collect_exits ? f->n : f->n - first))
            return ERROR_NOT_ENOUGH_MEMORY;
        for (size_t i = collect_exits ? 0 : first; i < f->n; i++) {
            const struct pss_frozen_thread *ft = &f->t[i];
            if (awaiting_stop(ft) || (collect_exits && ft->stopped))
                batch_poll(t, ft->tid);
        }
        if (!ptracer_post(t))
            return ERROR_GEN_FAILURE;
        bool progress = false;
        size_t k = 0;
        for (size_t i = collect_exits ? 0 : first; i < f->n; i++) {
            struct pss_frozen_thread *ft = &f->t[i];
            if (!(awaiting_stop(ft) || (collect_exits && ft->stopped)))
                continue;
            const struct hcall *c = &t->calls[k++];
            if (awaiting_stop(ft))
                progress |= apply_poll(ft, c);
            else if (c->ret != 0 && !(c->ret == ft->tid && WIFSTOPPED(c->status)))
                ft->exited = true, ft->stopped = false; /* a stopped thread was killed */
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

/* After a failed PTRACE_SEIZE: why?  ERROR_SUCCESS if the thread is to be skipped
 * (gone, exiting, or traced by someone else), else the error. */
static DWORD seize_failed(struct pss_capture *c, struct pss_frozen_thread *t, int err)
{
    if (err == ESRCH) {
        t->exited = true;
        return ERROR_SUCCESS;
    }
    if (err == EPERM && has_foreign_tracer(c->target.procfd, t->tid)) {
        t->foreign_tracer = true;
        return ERROR_SUCCESS;
    }
    if (err == EPERM) {
        /* Also EPERM: the thread is exiting (a zombie cannot be attached). */
        char path[48], buf[512];
        snprintf(path, sizeof path, "task/%d/stat", (int)t->tid);
        ssize_t n = pss_read_small(c->target.procfd, path, buf, sizeof buf);
        struct pss_stat st;
        if (n < 0 || (pss_parse_stat(buf, (size_t)n, &st) == 0 &&
                      (st.state == 'Z' || st.state == 'X'))) {
            t->exited = true;
            return ERROR_SUCCESS;
        }
    }
    return pss_win32_from_errno(err);
}

/* One pass over task/: seize and interrupt every thread not seen yet.  *added receives
 * how many were new. */
static DWORD seize_pass(struct pss_capture *c, size_t *added)
{
    struct pss_freeze *f = &c->freeze;
    *added = 0;
    int fd = openat(c->target.procfd, "task", O_RDONLY | O_CLOEXEC | O_DIRECTORY);
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
    }
    if (r < 0 && rc == ERROR_SUCCESS)
        rc = pss_win32_from_errno(-r);
    pss_dir_close(&it);
    *added = f->n - first_new;
    if (rc != ERROR_SUCCESS || *added == 0)
        return rc;

    /* One batch: SEIZE + INTERRUPT for each new thread (an INTERRUPT after a failed
     * SEIZE fails with ESRCH and changes nothing). */
    struct pss_ptracer *pt = f->tracer;
    if (!batch_begin(pt, 2 * *added))
        return ERROR_NOT_ENOUGH_MEMORY;
    for (size_t i = first_new; i < f->n; i++) {
        batch_ptrace(pt, PTRACE_SEIZE, f->t[i].tid, NULL, NULL);
        batch_ptrace(pt, PTRACE_INTERRUPT, f->t[i].tid, NULL, NULL);
    }
    if (!ptracer_post(pt))
        return ERROR_GEN_FAILURE;
    for (size_t i = first_new, k = 0; i < f->n; i++, k += 2) {
        struct pss_frozen_thread *t = &f->t[i];
        const long seize = pt->calls[k].ret;
        if (seize == 0)
            t->seized = true;
        else if (rc == ERROR_SUCCESS)
            rc = seize_failed(c, t, (int)-seize);
        else
            t->exited = true; /* not ours; the capture fails anyway */
    }
    /* Collect the stops of everything seized in this pass. */
    DWORD w = wait_for_stops(f, first_new);
    if (rc == ERROR_SUCCESS)
        rc = w;
    return rc;
}

/* The registers of one stopped thread as ptrace returns them. */
struct pss_raw_context {
    struct user_regs_struct regs;
    struct user_fpregs_struct fp;
    unsigned long dr[6]; /* DR0-3, DR6, DR7 */
    int err;             /* 0, or -errno of the first request that failed */
};

/*
 * Reads the registers of every stopped thread in one batch (a round trip to the helper
 * per thread would cost more than the reads).  The threads stay stopped until the thaw,
 * so these are the registers the capture reports.
 */
static DWORD read_all_contexts(struct pss_freeze *f, DWORD flags)
{
    static const int dr_index[6] = {0, 1, 2, 3, 6, 7};
    const bool want_fp = (flags & CONTEXT_FLOATING_POINT) == CONTEXT_FLOATING_POINT;
    const bool want_dr = (flags & CONTEXT_DEBUG_REGISTERS) == CONTEXT_DEBUG_REGISTERS;
    struct pss_ptracer *t = f->tracer;
    f->ctx = calloc(f->n > 0 ? f->n : 1, sizeof *f->ctx);
    if (f->ctx == NULL || !batch_begin(t, 8 * f->n))
        return ERROR_NOT_ENOUGH_MEMORY;
    for (size_t i = 0; i < f->n; i++) {
        if (!f->t[i].stopped || f->t[i].exited)
            continue;
        struct pss_raw_context *rc = &f->ctx[i];
        const pid_t tid = f->t[i].tid;
        batch_ptrace(t, PTRACE_GETREGS, tid, NULL, &rc->regs);
        if (want_fp)
            batch_ptrace(t, PTRACE_GETFPREGS, tid, NULL, &rc->fp);
        for (int k = 0; want_dr && k < 6; k++) /* raw PEEKUSER stores the word at data */
            batch_ptrace(t, PTRACE_PEEKUSER, tid,
                         (void *)(offsetof(struct user, u_debugreg) +
                                  (size_t)dr_index[k] * sizeof(long)),
                         &rc->dr[k]);
    }
    if (!ptracer_post(t))
        return ERROR_GEN_FAILURE;
    size_t k = 0;
    const size_t per_thread = 1u + (want_fp ? 1u : 0u) + (want_dr ? 6u : 0u);
    for (size_t i = 0; i < f->n; i++) {
        if (!f->t[i].stopped || f->t[i].exited)
            continue;
        for (size_t j = 0; j < per_thread; j++, k++)
            if (t->calls[k].ret != 0 && f->ctx[i].err == 0)
                f->ctx[i].err = (int)t->calls[k].ret; /* the thread went away */
    }
    return ERROR_SUCCESS;
}

DWORD pss_freeze_all(struct pss_capture *c)
{
    c->frozen = true;
    DWORD rc = ptracer_start(&c->freeze.tracer);
    if (rc != ERROR_SUCCESS)
        return rc;
    for (int pass = 0; pass < 1000; pass++) {
        size_t added;
        rc = seize_pass(c, &added);
        if (rc != ERROR_SUCCESS)
            return rc;
        if (added == 0)
            return read_all_contexts(&c->freeze, c->context_flags);
    }
    return ERROR_TIMEOUT; /* the thread set never settled */
}

DWORD pss_thaw_all(struct pss_capture *c)
{
    struct pss_freeze *f = &c->freeze;
    struct pss_ptracer *pt = f->tracer;
    bool helper_ok = true;
    if (pt != NULL) {
        /* A seized thread that never reached its stop (timeout) cannot be detached
         * (ESRCH); the helper's exit makes the kernel detach every remaining tracee. */
        if (batch_begin(pt, f->n)) {
            for (size_t i = 0; i < f->n; i++) {
                const struct pss_frozen_thread *t = &f->t[i];
                if (t->seized && !t->exited)
                    batch_ptrace(pt, PTRACE_DETACH, t->tid, NULL,
                                 (void *)(intptr_t)t->pending_signal);
            }
            if (pt->ncalls > 0)
                ptracer_post(pt);
        }
        helper_ok = ptracer_stop(pt);
        f->tracer = NULL;
    }
    free(f->t);
    free(f->ctx);
    f->t = NULL;
    f->ctx = NULL;
    f->n = f->cap = 0;
    c->frozen = false;
    /* A helper that died under us (killed from outside) lost its ptrace links: nothing
     * read through it can be trusted. */
    return helper_ok ? ERROR_SUCCESS : ERROR_GEN_FAILURE;
}

/* ---------------------------------------------------------------------------------
 * Registers -> CONTEXT
 * ------------------------------------------------------------------------------- */

int pss_read_context(const struct pss_freeze *f, pid_t tid, DWORD flags, CONTEXT *ctx,
                     uint64_t *fs_base, int64_t *syscall_nr, uint64_t *syscall_arg0)
{
    const struct pss_frozen_thread *ft = pss_freeze_find(f, tid);
    if (ft == NULL || f->ctx == NULL || !ft->stopped || ft->exited)
        return -ESRCH;
    const struct pss_raw_context *raw = &f->ctx[ft - f->t];
    if (raw->err != 0)
        return raw->err;
    const struct user_regs_struct regs = raw->regs;
    _Static_assert(sizeof raw->fp == sizeof ctx->FltSave, "FXSAVE layout");
    const bool want_fp = (flags & CONTEXT_FLOATING_POINT) == CONTEXT_FLOATING_POINT;
    const bool want_dr = (flags & CONTEXT_DEBUG_REGISTERS) == CONTEXT_DEBUG_REGISTERS;
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
    if (want_fp) {
        memcpy(&ctx->FltSave, &raw->fp, sizeof raw->fp);
        ctx->MxCsr = raw->fp.mxcsr;
    }
    if (want_dr) {
        ctx->Dr0 = raw->dr[0];
        ctx->Dr1 = raw->dr[1];
        ctx->Dr2 = raw->dr[2];
        ctx->Dr3 = raw->dr[3];
        ctx->Dr6 = raw->dr[4];
        ctx->Dr7 = raw->dr[5];
    }
    return 0;
}
