/*
 * capture_threads.c -- PSS_CAPTURE_THREADS: one PSS_THREAD_ENTRY per /proc/PID/task/TID
 * (linux-mapping.md section 1.2), plus the register context of each thread when the
 * capture runs under the ptrace freeze.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pss_internal.h"

static DWORD add_context(HPSS s, int32_t *index)
{
    if (pss_grow((void **)&s->contexts, &s->cap_contexts, s->ncontexts + 1,
                 sizeof *s->contexts) != 0)
        return ERROR_NOT_ENOUGH_MEMORY;
    memset(&s->contexts[s->ncontexts], 0, sizeof(CONTEXT));
    *index = (int32_t)s->ncontexts++;
    return ERROR_SUCCESS;
}

/* Fills e from task/TID/stat.  Returns 1 = filled, 0 = thread gone, <0 = -errno. */
static int read_thread(struct pss_capture *c, int taskfd, const char *name, pid_t tid,
                       PSS_THREAD_ENTRY *e, char *state)
{
    char path[48], buf[1024];
    snprintf(path, sizeof path, "%s/stat", name);
    ssize_t n = pss_read_small(taskfd, path, buf, sizeof buf);
    if (n == -ENOENT || n == -ESRCH)
        return 0;
    if (n < 0)
        return (int)n;
    struct pss_stat st;
    if (pss_parse_stat(buf, (size_t)n, &st) != 0)
        return -EINVAL;
    FILETIME now = pss_filetime_now();
    memset(e, 0, sizeof *e);
    const bool dead = st.state == 'Z' || st.state == 'X';
    e->ExitStatus = dead ? pss_exit_status_from_wait(st.exit_code) : STILL_ACTIVE;
    e->ProcessId = (DWORD)c->target.pid;
    e->ThreadId = (DWORD)tid;
    bool ok;
    e->AffinityMask = pss_affinity_of(tid, &ok);
    if (!ok)
        e->AffinityMask = c->snap->process.AffinityMask;
    e->BasePriority = c->process_base_priority;
    e->Priority = pss_thread_priority(st.policy, st.rt_priority, st.nice, c->process_nice,
                                      c->process_base_priority);
    e->CreateTime = pss_filetime_from_boot_ticks(&c->clock, st.starttime);
    e->KernelTime = pss_filetime_from_duration_ticks(&c->clock, st.stime);
    e->UserTime = pss_filetime_from_duration_ticks(&c->clock, st.utime);
    e->CaptureTime = now;
    e->Flags = dead ? PSS_THREAD_FLAGS_TERMINATED : PSS_THREAD_FLAGS_NONE;
    e->SuspendCount = (st.state == 'T' || st.state == 't') ? 1 : 0;
    *state = st.state;
    return 1;
}

DWORD pss_capture_threads(struct pss_capture *c)
{
    HPSS s = c->snap;
    const bool want_context = (c->flags & PSS_CAPTURE_THREAD_CONTEXT) != 0;
    int fd = openat(c->target.procfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        if (err == ENOENT || err == ESRCH)
            return pss_target_gone(c->target.procfd) ? ERROR_PROCESS_ABORTED
                                                     : ERROR_ACCESS_DENIED;
        return pss_win32_from_errno(err);
    }
    int taskfd = dup(fd);
    if (taskfd < 0) {
        close(fd);
        return pss_win32_from_errno(errno);
    }
    struct pss_dirent_iter it;
    if (pss_dir_open(&it, fd) != 0) {
        close(taskfd);
        return ERROR_NOT_ENOUGH_MEMORY;
    }

    DWORD rc = ERROR_SUCCESS;
    bool all_suspended = true; /* every live thread is stopped */
    size_t live = 0;
    const char *name;
    long tid;
    int r;
    while ((r = pss_dir_next_number(&it, &name, &tid)) > 0) {
        PSS_THREAD_ENTRY e;
        char state = 0;
        int got = read_thread(c, taskfd, name, (pid_t)tid, &e, &state);
        if (got == 0)
            continue;
        if (got < 0) {
            rc = pss_win32_from_errno(-got);
            break;
        }
        int32_t ctx_index = -1;
        if (c->frozen) {
            /* Our own freeze shows as 't'; report only a stop that predates it. */
            const struct pss_frozen_thread *ft = pss_freeze_find(&c->freeze, (pid_t)tid);
            bool prior = ft != NULL && (ft->job_stopped || ft->foreign_tracer);
            if (e.SuspendCount && !prior && state == 't')
                e.SuspendCount = 0;
            if (ft != NULL && ft->stopped && !ft->exited && want_context) {
                rc = add_context(s, &ctx_index);
                if (rc != ERROR_SUCCESS)
                    break;
                uint64_t fs_base = 0, arg0 = 0;
                int64_t nr = -1;
                if (pss_read_context(&c->freeze, (pid_t)tid, c->context_flags,
                                     &s->contexts[ctx_index], &fs_base, &nr, &arg0) == 0) {
                    e.TebBaseAddress = (void *)(uintptr_t)fs_base;
                    if (nr >= 0 && nr <= 0xFFFF) {
                        e.LastSyscallNumber = (WORD)nr;
                        e.LastSyscallFirstArgument = (void *)(uintptr_t)arg0;
                    }
                    e.SizeOfContextRecord = (WORD)sizeof(CONTEXT);
                } else {
                    s->ncontexts--; /* the thread went away under us */
                    ctx_index = -1;
                }
            }
        }
        /* An exited thread (a leader that called pthread_exit() stays listed, as a
         * zombie, until the process ends) neither runs nor holds the process frozen. */
        if (!(e.Flags & PSS_THREAD_FLAGS_TERMINATED)) {
            live++;
            if (e.SuspendCount == 0)
                all_suspended = false;
        }
        if (pss_grow((void **)&s->threads, &s->cap_threads, s->nthreads + 1,
                     sizeof *s->threads) != 0) {
            rc = ERROR_NOT_ENOUGH_MEMORY;
            break;
        }
        s->threads[s->nthreads].e = e;
        s->threads[s->nthreads].context = ctx_index;
        s->nthreads++;
    }
    if (r < 0 && rc == ERROR_SUCCESS)
        rc = (r == -ENOENT || r == -ESRCH) ? ERROR_PROCESS_ABORTED : pss_win32_from_errno(-r);
    pss_dir_close(&it);
    close(taskfd);
    if (rc != ERROR_SUCCESS)
        return rc;

    s->have_threads = true;
    s->have_contexts = want_context;
    if (live > 0 && all_suspended)
        s->process.Flags |= PSS_PROCESS_FLAGS_FROZEN;
    else
        s->process.Flags &= ~PSS_PROCESS_FLAGS_FROZEN;
    return ERROR_SUCCESS;
}
