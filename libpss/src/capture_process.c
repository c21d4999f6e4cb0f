/*
 * capture_process.c -- PSS_PROCESS_INFORMATION (always captured) from stat, status,
 * exe and personality (linux-mapping.md section 1.1).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pss_internal.h"

#define KB 1024u

/* status is owned by root while its Uid: line names someone else -> non-dumpable. */
static bool status_says_nondumpable(int procfd, const char *status)
{
    uint64_t uid = 0;
    if (!pss_status_field(status, "Uid", &uid) || uid == 0)
        return false;
    struct stat st;
    if (fstatat(procfd, "status", &st, 0) != 0)
        return false;
    return st.st_uid == 0;
}

static void image_name(int procfd, const char *status, PSS_PROCESS_INFORMATION *pi,
                       bool *denied)
{
    char path[4096];
    ssize_t n = readlinkat(procfd, "exe", path, sizeof path);
    *denied = n < 0 && (errno == EACCES || errno == EPERM);
    if (n > 0) {
        pss_utf8_to_utf16_fixed(path, (size_t)n, pi->ImageFileName, MAX_PATH);
        return;
    }
    /* Fallbacks: argv[0] from cmdline (world-readable), then comm. */
    char cmd[4096];
    ssize_t c = pss_read_small(procfd, "cmdline", cmd, sizeof cmd);
    if (c > 0 && cmd[0] != '\0') {
        pss_utf8_to_utf16_fixed(cmd, strnlen(cmd, (size_t)c), pi->ImageFileName, MAX_PATH);
        return;
    }
    const char *name = strstr(status, "Name:");
    if (name != NULL) {
        name += 5;
        while (*name == '\t' || *name == ' ')
            name++;
        pss_utf8_to_utf16_fixed(name, strcspn(name, "\n"), pi->ImageFileName, MAX_PATH);
    }
}

static DWORD execute_flags(int procfd)
{
    char buf[64];
    if (pss_read_small(procfd, "personality", buf, sizeof buf) > 0) {
        unsigned long v = strtoul(buf, NULL, 16);
        if (v & READ_IMPLIES_EXEC)
            return MEM_EXECUTE_OPTION_ENABLE;
    }
    return MEM_EXECUTE_OPTION_DISABLE | MEM_EXECUTE_OPTION_PERMANENT;
}

/* Reads and parses the stat file at dirfd.  0 or -errno. */
static int read_stat(int dirfd, const char *path, struct pss_stat *st)
{
    char buf[1024];
    ssize_t n = pss_read_small(dirfd, path, buf, sizeof buf);
    if (n < 0)
        return (int)n;
    return pss_parse_stat(buf, (size_t)n, st);
}

/* A thread that has not exited and still has its address space (do_exit detaches the
 * mm before the files and sets the exit state after both, so vsize > 0 means neither
 * has gone yet). */
static bool thread_has_mm(const struct pss_stat *st)
{
    return st->state != 'Z' && st->state != 'X' && st->vsize > 0;
}

/* The leader has exited: looks for a live thread and opens its task directory into
 * c->datafd.  Returns false if there is none (the process is a zombie). */
static bool find_live_thread(struct pss_capture *c)
{
    int fd = openat(c->target.procfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    int taskfd = dup(fd);
    struct pss_dirent_iter it;
    if (taskfd < 0 || pss_dir_open(&it, fd) != 0) {
        if (taskfd >= 0)
            close(taskfd);
        else
            close(fd);
        return false;
    }
    const char *name;
    long tid;
    while (c->datafd < 0 && pss_dir_next_number(&it, &name, &tid) > 0) {
        char path[48];
        struct pss_stat st;
        snprintf(path, sizeof path, "%s/stat", name);
        if (tid == c->target.pid || read_stat(taskfd, path, &st) != 0 || !thread_has_mm(&st))
            continue;
        int d = openat(taskfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d >= 0) {
            c->datafd = d;
            c->data_tid = (pid_t)tid;
        }
    }
    pss_dir_close(&it);
    close(taskfd);
    return c->datafd >= 0;
}

bool pss_capture_source_intact(const struct pss_capture *c)
{
    struct pss_stat st;
    if (c->datafd >= 0)
        return read_stat(c->datafd, "stat", &st) == 0 && thread_has_mm(&st);
    if (c->leader_dead)
        return true; /* a zombie: nothing more to read anywhere */
    /* The leader was alive: if it has exited since, its files may have read empty. */
    return read_stat(c->target.procfd, "stat", &st) != 0 || (st.state != 'Z' && st.state != 'X');
}

/* Maps a failed top-level read: gone -> PROCESS_ABORTED, otherwise by errno. */
static DWORD top_level_error(int procfd, int err)
{
    if (err == ESRCH || err == ENOENT)
        return pss_target_gone(procfd) ? ERROR_PROCESS_ABORTED : ERROR_ACCESS_DENIED;
    return pss_win32_from_errno(err);
}

DWORD pss_capture_process(struct pss_capture *c)
{
    PSS_PROCESS_INFORMATION *pi = &c->snap->process;
    const int procfd = c->target.procfd;
    memset(pi, 0, sizeof *pi);

    char statbuf[1024];
    ssize_t n = pss_read_small(procfd, "stat", statbuf, sizeof statbuf);
    if (n < 0)
        return top_level_error(procfd, (int)-n);
    struct pss_stat st;
    if (pss_parse_stat(statbuf, (size_t)n, &st) != 0)
        return ERROR_INVALID_DATA;

    /* A leader that has exited while other threads live (pthread_exit() in main): the
     * process is alive, and the per-process files that depend on the address space and
     * the fd table (status memory lines, exe, cmdline, maps, fd/) are read from a live
     * thread's task directory instead; stat's whole-process fields (times, faults,
     * start time) stay the leader's. */
    c->leader_dead = st.state == 'Z' || st.state == 'X';
    if (c->leader_dead && c->datafd < 0)
        find_live_thread(c);
    const bool zombie = c->leader_dead && c->datafd < 0;
    const int datafd = c->datafd >= 0 ? c->datafd : procfd;
    struct pss_stat mmst = st; /* address-space fields: start_stack, vsize */
    if (c->datafd >= 0 && read_stat(datafd, "stat", &mmst) != 0)
        mmst = st; /* it just exited: PssCaptureSnapshot notices and captures again */

    char status[8192];
    n = pss_read_small(datafd, "status", status, sizeof status);
    if (n < 0 && datafd != procfd)
        n = pss_read_small(procfd, "status", status, sizeof status);
    if (n < 0)
        return top_level_error(procfd, (int)-n);

    pi->ExitStatus = zombie ? pss_exit_status_from_wait(st.exit_code) : STILL_ACTIVE;
    pi->PebBaseAddress = (void *)(uintptr_t)mmst.startstack;
    bool ok;
    pi->AffinityMask = pss_affinity_of(c->target.pid, &ok);
    pss_priority_class(st.policy, st.rt_priority, st.nice, &pi->PriorityClass,
                       &pi->BasePriority);
    c->process_nice = st.nice;
    c->process_base_priority = pi->BasePriority;
    pi->ProcessId = (DWORD)c->target.pid;
    pi->ParentProcessId = st.ppid > 0 ? (DWORD)st.ppid : 0;

    bool denied = false;
    image_name(datafd, status, pi, &denied);
    if (denied || status_says_nondumpable(datafd, status))
        pi->Flags |= PSS_PROCESS_FLAGS_PROTECTED;
    if (!zombie && pss_exe_is_elf32(datafd))
        pi->Flags |= PSS_PROCESS_FLAGS_WOW64;
    /* FROZEN is decided by the thread phase (all threads in T/t before we looked); for a
     * capture without threads the main thread's state (or, if it has exited, the state
     * of the live thread the data comes from) stands for the process. */
    if (!c->frozen && (mmst.state == 'T' || mmst.state == 't'))
        pi->Flags |= PSS_PROCESS_FLAGS_FROZEN;

    pi->CreateTime = pss_filetime_from_boot_ticks(&c->clock, st.starttime);
    pi->KernelTime = pss_filetime_from_duration_ticks(&c->clock, st.stime);
    pi->UserTime = pss_filetime_from_duration_ticks(&c->clock, st.utime);

    uint64_t v = 0;
    uint64_t vmsize = 0, vmpte = 0, vmdata = 0, vmstk = 0;
    if (pss_status_field(status, "VmSize", &vmsize))
        pi->VirtualSize = vmsize * KB;
    else
        pi->VirtualSize = mmst.vsize;
    pi->PeakVirtualSize = pss_status_field(status, "VmPeak", &v) ? v * KB : pi->VirtualSize;
    if (pss_status_field(status, "VmRSS", &v))
        pi->WorkingSetSize = v * KB;
    pi->PeakWorkingSetSize = pss_status_field(status, "VmHWM", &v) ? v * KB : pi->WorkingSetSize;
    pi->PageFaultCount = (DWORD)(st.minflt + st.majflt);
    pss_status_field(status, "VmPTE", &vmpte);
    uint64_t threads = st.num_threads > 0 ? (uint64_t)st.num_threads : 1;
    pi->QuotaNonPagedPoolUsage = vmpte * KB + threads * 16u * KB;
    pi->QuotaPeakNonPagedPoolUsage = pi->QuotaNonPagedPoolUsage;
    pss_status_field(status, "VmData", &vmdata);
    pss_status_field(status, "VmStk", &vmstk);
    pi->PagefileUsage = (vmdata + vmstk) * KB;
    pi->PeakPagefileUsage = pi->PagefileUsage;
    pi->PrivateUsage = pi->PagefileUsage;
    pi->ExecuteFlags = execute_flags(datafd);
    return ERROR_SUCCESS;
}

bool pss_describe_other_process(const struct pss_clock *clock, pid_t pid, DWORD *exit_status,
                                uint64_t *peb, ULONG_PTR *affinity, LONG *base_priority,
                                DWORD *ppid, DWORD *flags, FILETIME *create_time)
{
    char path[48];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char buf[1024];
    ssize_t n = pss_read_small(AT_FDCWD, path, buf, sizeof buf);
    if (n < 0)
        return false;
    struct pss_stat st;
    if (pss_parse_stat(buf, (size_t)n, &st) != 0)
        return false;
    bool zombie = st.state == 'Z' || st.state == 'X';
    *exit_status = zombie ? pss_exit_status_from_wait(st.exit_code) : STILL_ACTIVE;
    *peb = st.startstack;
    bool ok;
    *affinity = pss_affinity_of(pid, &ok);
    DWORD cls;
    pss_priority_class(st.policy, st.rt_priority, st.nice, &cls, base_priority);
    *ppid = st.ppid > 0 ? (DWORD)st.ppid : 0;
    *flags = (st.state == 'T' || st.state == 't') ? PSS_PROCESS_FLAGS_FROZEN : 0;
    *create_time = pss_filetime_from_boot_ticks(clock, st.starttime);
    return true;
}
