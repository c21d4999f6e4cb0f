/*
 * process_handle.c -- PssLinuxOpenProcess / PssLinuxCloseProcess and the resolution of
 * a process HANDLE into a capture target.
 *
 * A handle holds a pidfd (which pins the identity of the process: its PID cannot be
 * reused while the pidfd's process is unreaped ... and tells us when it was reaped) and
 * an O_DIRECTORY fd of /proc/PID opened while the pidfd showed the process alive, so the
 * directory fd is known to belong to that same process.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pss_internal.h"

static struct pss_process *as_process(HANDLE h)
{
    if (!pss_handle_live(h, PSS_KIND_PROCESS))
        return NULL;
    return (struct pss_process *)h;
}

static int open_proc_dir(pid_t pid)
{
    char path[32];
    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    int fd;
    do {
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : fd;
}

/* Without pidfd support (kernel < 5.3): make sure the PID names a thread-group leader. */
static bool proc_dir_is_process(int procfd, pid_t pid)
{
    char buf[4096];
    if (pss_read_small(procfd, "status", buf, sizeof buf) < 0)
        return false;
    uint64_t tgid = 0;
    return pss_status_field(buf, "Tgid", &tgid) && tgid == (uint64_t)pid;
}

PSS_API DWORD WINAPI PssLinuxOpenProcess(DWORD ProcessId, HANDLE *ProcessHandle)
{
    if (ProcessHandle == NULL)
        return ERROR_INVALID_PARAMETER;
    *ProcessHandle = NULL;
    if (ProcessId == 0 || ProcessId > 0x3FFFFFFFu)
        return ERROR_INVALID_PARAMETER;
    pid_t pid = (pid_t)ProcessId;

    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) {
        int err = errno;
        if (err == EMFILE || err == ENFILE)
            return ERROR_TOO_MANY_OPEN_FILES;
        if (err == ENOMEM)
            return ERROR_NOT_ENOUGH_MEMORY;
        if (err != ENOSYS)
            return ERROR_INVALID_PARAMETER; /* ESRCH: no such process; EINVAL: a thread */
        pidfd = -1;
    }

    int procfd = open_proc_dir(pid);
    if (procfd < 0) {
        if (pidfd >= 0)
            close(pidfd);
        if (procfd == -EMFILE || procfd == -ENFILE)
            return ERROR_TOO_MANY_OPEN_FILES;
        if (procfd == -EACCES || procfd == -EPERM)
            return ERROR_ACCESS_DENIED;
        return ERROR_INVALID_PARAMETER;
    }

    /* If the pidfd's process was still unreaped after the directory was opened, the
     * directory is that process's (PIDs are only reused after the reap). */
    bool same = true;
    if (pidfd >= 0) {
        if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) != 0 && errno == ESRCH)
            same = false;
    } else {
        same = proc_dir_is_process(procfd, pid);
    }
    if (!same) {
        close(procfd);
        if (pidfd >= 0)
            close(pidfd);
        return ERROR_INVALID_PARAMETER;
    }

    struct pss_process *p = malloc(sizeof *p);
    if (p == NULL) {
        close(procfd);
        if (pidfd >= 0)
            close(pidfd);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    p->pid = pid;
    p->pidfd = pidfd;
    p->procfd = procfd;
    DWORD rc = pss_handle_register(p, PSS_KIND_PROCESS);
    if (rc != ERROR_SUCCESS) {
        close(procfd);
        if (pidfd >= 0)
            close(pidfd);
        free(p);
        return rc;
    }
    *ProcessHandle = (HANDLE)p;
    return ERROR_SUCCESS;
}

PSS_API DWORD WINAPI PssLinuxCloseProcess(HANDLE ProcessHandle)
{
    if (ProcessHandle == PSS_CURRENT_PROCESS)
        return ERROR_SUCCESS;
    if (!pss_handle_unregister(ProcessHandle, PSS_KIND_PROCESS))
        return ERROR_INVALID_HANDLE;
    struct pss_process *p = (struct pss_process *)ProcessHandle;
    close(p->procfd);
    if (p->pidfd >= 0)
        close(p->pidfd);
    free(p);
    return ERROR_SUCCESS;
}

DWORD pss_target_resolve(HANDLE h, struct pss_target *t)
{
    memset(t, 0, sizeof *t);
    t->procfd = -1;
    if (h == PSS_CURRENT_PROCESS) {
        int fd;
        do {
            fd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        } while (fd < 0 && errno == EINTR);
        if (fd < 0)
            return pss_win32_from_errno(errno);
        t->pid = getpid();
        t->procfd = fd;
        t->self = true;
        t->owns_fd = true;
        return ERROR_SUCCESS;
    }
    struct pss_process *p = as_process(h);
    if (p == NULL)
        return ERROR_INVALID_HANDLE;
    t->pid = p->pid;
    t->procfd = p->procfd;
    t->self = p->pid == getpid();
    t->owns_fd = false;
    return ERROR_SUCCESS;
}

void pss_target_release(struct pss_target *t)
{
    if (t->owns_fd && t->procfd >= 0)
        close(t->procfd);
    t->procfd = -1;
    t->owns_fd = false;
}

bool pss_handle_is_self(HANDLE h, bool *valid)
{
    if (h == PSS_CURRENT_PROCESS) {
        *valid = true;
        return true;
    }
    struct pss_process *p = as_process(h);
    if (p == NULL) {
        *valid = false;
        return false;
    }
    *valid = true;
    return p->pid == getpid();
}
