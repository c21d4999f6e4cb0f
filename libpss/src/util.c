/*
 * util.c -- error mapping, clocks and FILETIME conversion, priority mapping, growable
 * buffers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pss_internal.h"

/* 100-ns intervals between 1601-01-01 and 1970-01-01. */
#define PSS_EPOCH_DIFF_100NS INT64_C(116444736000000000)

DWORD pss_win32_from_errno(int err)
{
    switch (err) {
    case 0:
        return ERROR_SUCCESS;
    case EACCES:
    case EPERM:
        return ERROR_ACCESS_DENIED;
    case ENOMEM:
        return ERROR_NOT_ENOUGH_MEMORY;
    case ESRCH:
    case ENOENT:
        return ERROR_PROCESS_ABORTED;
    case EMFILE:
    case ENFILE:
        return ERROR_TOO_MANY_OPEN_FILES;
    case EINVAL:
        return ERROR_INVALID_DATA;
    default:
        return ERROR_GEN_FAILURE;
    }
}

void pss_buf_free(struct pss_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int pss_buf_reserve(struct pss_buf *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return 0;
    size_t need = b->len + extra;
    if (need < b->len)
        return -ENOMEM;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return -ENOMEM;
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (p == NULL)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int pss_grow(void **array, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > SIZE_MAX / 2 / elem)
            return -ENOMEM;
        n *= 2;
    }
    void *p = realloc(*array, n * elem);
    if (p == NULL)
        return -ENOMEM;
    *array = p;
    *cap = n;
    return 0;
}

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The boot epoch, read once per library load and immutable afterwards (README "Boot
 * epoch"): the kernel's own `btime` (/proc/stat, whole seconds of CLOCK_REALTIME at boot, in
 * the caller's time namespace), as ps(1) and the app's process list use.  It is an exact
 * integer the kernel derives from its clock offsets, so every process that loads the library
 * gets the same one: sampling CLOCK_REALTIME - CLOCK_BOOTTIME ourselves gave each load an
 * epoch ~100 ns off the last, and the same thread a different CreateTime in two processes'
 * captures (a CLI walk and the next).  Without /proc/stat: the sampled offset, in whole
 * seconds like btime. */
static pthread_once_t g_epoch_once = PTHREAD_ONCE_INIT;
static int64_t g_boot_realtime_ns;

/* btime from /proc/stat, or -1.  The file's "intr" line may be tens of KB, so it is read in
 * pieces and the key is matched at line starts across piece boundaries. */
static int64_t read_btime(void)
{
    int fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    static const char key[] = "btime ";
    char buf[4096];
    size_t matched = 0; /* bytes of "btime " matched so far, from a line start */
    bool at_line_start = true, in_value = false;
    int64_t v = -1;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++) {
            char c = buf[i];
            if (in_value) {
                if (c >= '0' && c <= '9' && v < INT64_C(1) << 40) {
                    v = (v < 0 ? 0 : v * 10) + (c - '0');
                    continue;
                }
                goto done;
            }
            if (at_line_start || matched > 0) {
                if (c == key[matched]) {
                    at_line_start = false;
                    if (++matched == sizeof key - 1)
                        in_value = true;
                    continue;
                }
                matched = 0;
            }
            at_line_start = c == '\n';
        }
    }
done:
    close(fd);
    return in_value ? v : -1;
}

static void read_boot_epoch(void)
{
    int64_t btime = read_btime();
    if (btime > 0) {
        g_boot_realtime_ns = btime * 1000000000;
        return;
    }
    /* The tightest of a few samples of the boot clock between two realtime reads. */
    int64_t best_gap = INT64_MAX, epoch = 0;
    for (int i = 0; i < 5; i++) {
        int64_t r1 = clock_ns(CLOCK_REALTIME);
        int64_t b = clock_ns(CLOCK_BOOTTIME);
        int64_t r2 = clock_ns(CLOCK_REALTIME);
        if (r2 - r1 < best_gap) {
            best_gap = r2 - r1;
            epoch = r1 + (r2 - r1) / 2 - b;
        }
    }
    g_boot_realtime_ns = epoch - epoch % 1000000000;
}

void pss_clock_init(struct pss_clock *c)
{
    pthread_once(&g_epoch_once, read_boot_epoch);
    c->boot_realtime_ns = g_boot_realtime_ns;
    c->clk_tck = sysconf(_SC_CLK_TCK);
    if (c->clk_tck <= 0)
        c->clk_tck = 100;
    c->page_size = sysconf(_SC_PAGESIZE);
    if (c->page_size <= 0)
        c->page_size = 4096;
}

FILETIME pss_filetime_from_unix_ns(int64_t ns)
{
    FILETIME ft = {0, 0};
    int64_t v = ns / 100 + PSS_EPOCH_DIFF_100NS;
    if (v < 0)
        return ft;
    ft.dwLowDateTime = (DWORD)((uint64_t)v & 0xFFFFFFFFu);
    ft.dwHighDateTime = (DWORD)((uint64_t)v >> 32);
    return ft;
}

FILETIME pss_filetime_now(void)
{
    return pss_filetime_from_unix_ns(clock_ns(CLOCK_REALTIME));
}

FILETIME pss_filetime_from_boot_ticks(const struct pss_clock *c, uint64_t ticks)
{
    int64_t ns = (int64_t)(ticks * (1000000000u / (uint64_t)c->clk_tck));
    return pss_filetime_from_unix_ns(c->boot_realtime_ns + ns);
}

FILETIME pss_filetime_from_duration_ticks(const struct pss_clock *c, uint64_t ticks)
{
    uint64_t v = ticks * (10000000u / (uint64_t)c->clk_tck);
    FILETIME ft;
    ft.dwLowDateTime = (DWORD)(v & 0xFFFFFFFFu);
    ft.dwHighDateTime = (DWORD)(v >> 32);
    return ft;
}

uint64_t pss_monotonic_ns(void)
{
    return (uint64_t)clock_ns(CLOCK_MONOTONIC);
}

uint64_t pss_rdtsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
    uint32_t lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
#else
    return pss_monotonic_ns();
#endif
}

uint64_t pss_random_id(const void *salt)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v)
        v = pss_rdtsc() ^ ((uint64_t)(uintptr_t)salt << 16) ^ pss_monotonic_ns();
    return v ? v : 1;
}

/*
 * Priority mapping (mirrors php-src win32/nice.c in reverse):
 *   FIFO/RR/DEADLINE -> REALTIME, base 16 + rt_priority*15/99
 *   IDLE             -> IDLE, base 4
 *   OTHER/BATCH by nice: <= -10 HIGH 13, -9..-5 ABOVE_NORMAL 10, -4..4 NORMAL 8,
 *                        5..9 BELOW_NORMAL 6, >= 10 IDLE 4
 */
void pss_priority_class(uint64_t policy, uint64_t rt_priority, int64_t nice,
                        DWORD *priority_class, LONG *base_priority)
{
    switch (policy) {
    case SCHED_FIFO:
    case SCHED_RR:
    case 6: /* SCHED_DEADLINE */
        *priority_class = REALTIME_PRIORITY_CLASS;
        *base_priority = (LONG)(16 + (rt_priority > 99 ? 99 : rt_priority) * 15 / 99);
        return;
    case SCHED_IDLE:
        *priority_class = IDLE_PRIORITY_CLASS;
        *base_priority = 4;
        return;
    default:
        break;
    }
    if (nice <= -10) {
        *priority_class = HIGH_PRIORITY_CLASS;
        *base_priority = 13;
    } else if (nice <= -5) {
        *priority_class = ABOVE_NORMAL_PRIORITY_CLASS;
        *base_priority = 10;
    } else if (nice <= 4) {
        *priority_class = NORMAL_PRIORITY_CLASS;
        *base_priority = 8;
    } else if (nice <= 9) {
        *priority_class = BELOW_NORMAL_PRIORITY_CLASS;
        *base_priority = 6;
    } else {
        *priority_class = IDLE_PRIORITY_CLASS;
        *base_priority = 4;
    }
}

int32_t pss_thread_priority(uint64_t policy, uint64_t rt_priority, int64_t thread_nice,
                            int64_t process_nice, LONG process_base)
{
    if (policy == SCHED_FIFO || policy == SCHED_RR || policy == 6)
        return (int32_t)(16 + (rt_priority > 99 ? 99 : rt_priority) * 15 / 99);
    if (policy == SCHED_IDLE)
        return 1;
    int64_t step = process_nice - thread_nice;
    if (step > 2)
        step = 2;
    if (step < -2)
        step = -2;
    int64_t p = process_base + step;
    if (p < 1)
        p = 1;
    if (p > 15)
        p = 15;
    return (int32_t)p;
}

DWORD pss_exit_status_from_wait(int64_t wait_status)
{
    int ws = (int)wait_status;
    if (WIFEXITED(ws))
        return (DWORD)WEXITSTATUS(ws);
    if (WIFSIGNALED(ws))
        return (DWORD)(128 + WTERMSIG(ws));
    return 0;
}

ULONG_PTR pss_affinity_of(pid_t tid, bool *ok)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(tid, sizeof set, &set) != 0) {
        *ok = false;
        return 0;
    }
    ULONG_PTR mask = 0;
    for (int i = 0; i < 64 && i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &set))
            mask |= (ULONG_PTR)1 << i;
    *ok = true;
    return mask;
}
