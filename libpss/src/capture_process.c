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

    char status[8192];
    n = pss_read_small(procfd, "status", status, sizeof status);
    if (n < 0)
        return top_level_error(procfd, (int)-n);

    const bool zombie = st.state == 'Z' || st.state == 'X';
    pi->ExitStatus = zombie ? pss_exit_status_from_wait(st.exit_code) : STILL_ACTIVE;
    pi->PebBaseAddress = (void *)(uintptr_t)st.startstack;
    bool ok;
    pi->AffinityMask = pss_affinity_of(c->target.pid, &ok);
    pss_priority_class(st.policy, st.rt_priority, st.nice, &pi->PriorityClass,
                       &pi->BasePriority);
    c->process_nice = st.nice;
    c->process_base_priority = pi->BasePriority;
    pi->ProcessId = (DWORD)c->target.pid;
    pi->ParentProcessId = st.ppid > 0 ? (DWORD)st.ppid : 0;

    bool denied = false;
    image_name(procfd, status, pi, &denied);
    if (denied || status_says_nondumpable(procfd, status))
        pi->Flags |= PSS_PROCESS_FLAGS_PROTECTED;
    if (!zombie && pss_exe_is_elf32(procfd))
        pi->Flags |= PSS_PROCESS_FLAGS_WOW64;
    /* FROZEN is decided by the thread phase (all threads in T/t before we looked); for a
     * capture without threads the main thread's state stands for the process. */
    if (!c->frozen && (st.state == 'T' || st.state == 't'))
        pi->Flags |= PSS_PROCESS_FLAGS_FROZEN;

    pi->CreateTime = pss_filetime_from_boot_ticks(&c->clock, st.starttime);
    pi->KernelTime = pss_filetime_from_duration_ticks(&c->clock, st.stime);
    pi->UserTime = pss_filetime_from_duration_ticks(&c->clock, st.utime);

    uint64_t v = 0;
    uint64_t vmsize = 0, vmpte = 0, vmdata = 0, vmstk = 0;
    if (pss_status_field(status, "VmSize", &vmsize))
        pi->VirtualSize = vmsize * KB;
    else
        pi->VirtualSize = st.vsize;
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
    pi->ExecuteFlags = execute_flags(procfd);
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
