/*
 * linux_ext_threads.c -- PSS_DETAILS_THREAD per /proc/PID/task/TID, without stopping
 * anything:
 *   stat        state, name (comm), utime/stime, priority, nice, policy, rt_priority, cpu
 *   status      Cpus_allowed, voluntary/nonvoluntary_ctxt_switches
 *   wchan       the kernel function a sleeping thread waits in
 *   syscall     "NR a0..a5 SP IP", "-1 SP IP" (blocked outside a syscall) or "running";
 *               the kernel takes it while the thread is off the CPU (wait_task_inactive),
 *               so a running thread says "running": we look up to three times
 *   schedstat   exact CPU time and run-queue delay in ns
 * A thread that disappears between the directory listing and its reads is skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linux_ext.h"

#define SYSCALL_TRIES 3

static const char *skip_spaces(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* Blanks, then a decimal integer: pss_parse_i64 (which refuses values beyond 64 bits). */
static bool parse_i64(const char **pp, const char *end, int64_t *out)
{
    const char *p = skip_spaces(*pp, end);
    if (!pss_parse_i64(&p, end, out))
        return false;
    *pp = p;
    return true;
}

static bool parse_hex(const char **pp, const char *end, uint64_t *out)
{
    const char *p = skip_spaces(*pp, end);
    if (end - p >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        p += 2;
    uint64_t v = 0;
    int digits = 0;
    while (p < end) {
        char ch = *p;
        unsigned dv;
        if (ch >= '0' && ch <= '9')
            dv = (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            dv = (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            dv = (unsigned)(ch - 'A' + 10);
        else
            break;
        if (++digits > 16)
            return false;
        v = (v << 4) | dv;
        p++;
    }
    if (digits == 0)
        return false;
    *out = v;
    *pp = p;
    return true;
}

/* stat: "tid (comm) S f4 f5 ..." -- comm may contain spaces and parentheses. */
static bool parse_task_stat(const char *buf, size_t len, PSS_DETAILS_THREAD *t)
{
    const char *end = buf + len;
    const char *open = memchr(buf, '(', len);
    const char *close = NULL;
    for (const char *p = end; p > buf; p--)
        if (p[-1] == ')') {
            close = p - 1;
            break;
        }
    if (open == NULL || close == NULL || close < open)
        return false;
    size_t nlen = (size_t)(close - open - 1);
    if (nlen >= sizeof t->Name)
        nlen = sizeof t->Name - 1;
    memcpy(t->Name, open + 1, nlen);
    t->Name[nlen] = '\0';
    const char *p = skip_spaces(close + 1, end);
    if (p >= end)
        return false;
    t->State = (BYTE)*p++;
    /* Fields 4.. as integers; field n is at index n - 4. */
    int64_t f[52 - 3];
    size_t nf = 0;
    while (nf < sizeof f / sizeof f[0] && parse_i64(&p, end, &f[nf]))
        nf++;
    if (nf < 39 - 3) /* need up to field 39 (processor) */
        return false;
#define F(n) f[(n) - 4]
    t->UserTime100ns = (ULONGLONG)F(14);
    t->KernelTime100ns = (ULONGLONG)F(15);
    t->KernelPriority = (LONG)F(18);
    t->Nice = (LONG)F(19);
    t->LastCpu = (LONG)F(39);
    if (nf >= 41 - 3) {
        t->RtPriority = (DWORD)F(40);
        t->Policy = (DWORD)F(41);
    }
#undef F
    return true;
}

/* status: Cpus_allowed (comma-separated 32-bit hex groups, most significant first) and
 * the context-switch counters. */
static void parse_task_status(const char *buf, size_t len, PSS_DETAILS_THREAD *t)
{
    const char *end = buf + len;
    const char *line = buf;
    t->AffinityError = ERROR_NOT_FOUND;
    while (line < end) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *le = nl ? nl : end;
        size_t n = (size_t)(le - line);
        if (n > 13 && memcmp(line, "Cpus_allowed:", 13) == 0) {
            /* Collect groups, then place them from the least significant end. */
            uint32_t groups[64];
            size_t ng = 0;
            const char *p = line + 13;
            for (;;) {
                uint64_t v;
                if (ng == 64 || !parse_hex(&p, le, &v))
                    break;
                groups[ng++] = (uint32_t)v;
                if (p < le && *p == ',')
                    p++;
                else
                    break;
            }
            if (ng > 0) {
                memset(t->Affinity, 0, sizeof t->Affinity);
                for (size_t g = 0; g < ng && g < 32; g++) {
                    uint64_t v = groups[ng - 1 - g];
                    t->Affinity[g / 2] |= v << (32 * (g % 2));
                }
                t->AffinityError = ERROR_SUCCESS;
            }
        } else if (n > 24 && memcmp(line, "voluntary_ctxt_switches:", 24) == 0) {
            const char *p = line + 24;
            int64_t v;
            if (parse_i64(&p, le, &v))
                t->VoluntarySwitches = (ULONGLONG)v;
        } else if (n > 27 && memcmp(line, "nonvoluntary_ctxt_switches:", 27) == 0) {
            const char *p = line + 27;
            int64_t v;
            if (parse_i64(&p, le, &v))
                t->InvoluntarySwitches = (ULONGLONG)v;
        }
        line = nl ? nl + 1 : end;
    }
}

/* syscall: returns ERROR_SUCCESS with the fields set, ERROR_BUSY for "running". */
static DWORD parse_syscall(const char *buf, size_t len, PSS_DETAILS_THREAD *t)
{
    const char *end = buf + len;
    const char *p = buf;
    if (len >= 7 && memcmp(buf, "running", 7) == 0)
        return ERROR_BUSY;
    int64_t nr;
    if (!parse_i64(&p, end, &nr))
        return ERROR_INVALID_DATA;
    uint64_t v[8];
    size_t nv = 0;
    while (nv < 8 && parse_hex(&p, end, &v[nv]))
        nv++;
    if (nr == -1 && nv >= 2) {
        t->SyscallNumber = -1;
        t->StackPointer = v[0];
        t->InstructionPointer = v[1];
        return ERROR_SUCCESS;
    }
    /* The kernel prints the number as an int: anything outside LONG's range is not its text
     * (and would be truncated into some other number, even -1). */
    if (nv != 8 || nr < INT32_MIN || nr > INT32_MAX)
        return ERROR_INVALID_DATA;
    t->SyscallNumber = (LONG)nr;
    for (int i = 0; i < 6; i++)
        t->SyscallArguments[i] = v[i];
    t->StackPointer = v[6];
    t->InstructionPointer = v[7];
    return ERROR_SUCCESS;
}

static int add_sp(struct lx_capture *c, uint32_t tid, uint64_t sp)
{
    if (pss_grow((void **)&c->sps, &c->cap_sps, c->nsps + 1, sizeof *c->sps) != 0)
        return -ENOMEM;
    c->sps[c->nsps].tid = tid;
    c->sps[c->nsps].sp = sp;
    c->nsps++;
    return 0;
}

/* Reads one thread.  1 = record filled, 0 = the thread is gone, -ENOMEM. */
static int read_thread(struct lx_capture *c, int taskfd, long tid, PSS_DETAILS_THREAD *t)
{
    char path[48];
    char buf[4096];
    memset(t, 0, sizeof *t);
    t->ThreadId = (DWORD)tid;

    snprintf(path, sizeof path, "%ld/stat", tid);
    ssize_t r = pss_read_small(taskfd, path, buf, sizeof buf);
    if (r < 0)
        return 0; /* gone (ESRCH/ENOENT); stat is world-readable otherwise */
    if (!parse_task_stat(buf, (size_t)r, t))
        return 0;

    snprintf(path, sizeof path, "%ld/status", tid);
    r = pss_read_small(taskfd, path, buf, sizeof buf);
    if (r >= 0)
        parse_task_status(buf, (size_t)r, t);
    else
        t->AffinityError = lx_read_error((int)r);

    snprintf(path, sizeof path, "%ld/syscall", tid);
    t->SyscallError = ERROR_BUSY;
    for (int i = 0; i < SYSCALL_TRIES && t->SyscallError == ERROR_BUSY; i++) {
        if (i > 0)
            sched_yield();
        r = pss_read_small(taskfd, path, buf, sizeof buf);
        if (r == -ENOENT) {
            /* The file is absent without CONFIG_HAVE_ARCH_TRACEHOOK -- or the thread is
             * gone; the stat read above tells them apart. */
            char sp[48];
            snprintf(sp, sizeof sp, "%ld/stat", tid);
            t->SyscallError =
                pss_read_small(taskfd, sp, buf, sizeof buf) < 0 ? ERROR_PROCESS_ABORTED
                                                                : ERROR_NOT_SUPPORTED;
        } else if (r < 0) {
            t->SyscallError = lx_read_error((int)r);
        } else {
            t->SyscallError = parse_syscall(buf, (size_t)r, t);
        }
    }
    if (t->SyscallError == ERROR_SUCCESS && add_sp(c, t->ThreadId, t->StackPointer) != 0)
        return -ENOMEM;

    snprintf(path, sizeof path, "%ld/wchan", tid);
    r = pss_read_small(taskfd, path, buf, sizeof buf);
    if (r < 0) {
        t->WaitChannelError = lx_read_error((int)r);
    } else {
        size_t n = (size_t)r;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
            n--;
        if (n == 0 || (n == 1 && buf[0] == '0')) {
            /* "0": running, or not shown to us (wchan needs ptrace-read access; the
             * syscall file's stricter check tells us we lack it). */
            t->WaitChannelError = t->State != 'R' && t->SyscallError == ERROR_ACCESS_DENIED
                                      ? ERROR_ACCESS_DENIED
                                      : ERROR_NOT_FOUND;
        } else {
            if (n >= sizeof t->WaitChannel)
                n = sizeof t->WaitChannel - 1;
            memcpy(t->WaitChannel, buf, n);
            t->WaitChannel[n] = '\0';
        }
    }

    snprintf(path, sizeof path, "%ld/schedstat", tid);
    r = pss_read_small(taskfd, path, buf, sizeof buf);
    if (r == -ENOENT) {
        t->CpuTimeError = ERROR_NOT_SUPPORTED; /* CONFIG_SCHED_INFO off */
    } else if (r < 0) {
        t->CpuTimeError = lx_read_error((int)r);
    } else {
        const char *p = buf;
        int64_t run, delay;
        if (parse_i64(&p, buf + r, &run) && parse_i64(&p, buf + r, &delay)) {
            t->CpuTimeNanoseconds = (ULONGLONG)run;
            t->RunDelayNanoseconds = (ULONGLONG)delay;
        } else {
            t->CpuTimeError = ERROR_INVALID_DATA;
        }
    }
    /* stat times are in clock ticks; convert to 100-ns units. */
    uint64_t tick100 = c->clock.clk_tck > 0 ? (uint64_t)(10000000 / c->clock.clk_tck) : 100000;
    t->UserTime100ns *= tick100;
    t->KernelTime100ns *= tick100;
    return 1;
}

DWORD lx_capture_threads(struct lx_capture *c)
{
    HPSSDETAILS d = c->d;
    int taskfd = openat(c->target.procfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (taskfd < 0)
        return lx_read_error(-errno);
    struct pss_dirent_iter it; /* owns taskfd; the reads are relative to it too */
    int r = pss_dir_open(&it, taskfd);
    if (r < 0)
        return pss_win32_from_errno(-r);
    DWORD rc = ERROR_SUCCESS;
    const char *name;
    long tid;
    while ((r = pss_dir_next_number(&it, &name, &tid)) > 0) {
        if (pss_grow((void **)&d->threads, &d->cap_threads, d->nthreads + 1,
                     sizeof *d->threads) != 0) {
            rc = ERROR_NOT_ENOUGH_MEMORY;
            break;
        }
        int k = read_thread(c, taskfd, tid, &d->threads[d->nthreads]);
        if (k < 0) {
            rc = ERROR_NOT_ENOUGH_MEMORY;
            break;
        }
        if (k > 0)
            d->nthreads++;
    }
    if (r < 0 && rc == ERROR_SUCCESS)
        rc = lx_read_error(r);
    pss_dir_close(&it);
    if (rc == ERROR_SUCCESS && d->nthreads == 0)
        rc = ERROR_PROCESS_ABORTED;
    return rc;
}
