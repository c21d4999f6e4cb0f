/*
 * bench_common.h -- argument parsing, timing and the JSON result line shared by
 * bench-floor and bench-capture.  Output (stdout, one line):
 *   {"median_ms":M,"runs":[r1,r2,...]}
 * Diagnostics go to stderr.
 */
#ifndef PSS_BENCH_COMMON_H
#define PSS_BENCH_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static inline int bench_parse_args(int argc, char **argv, long *pid, long *iter)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s PID ITER\n", argv[0]);
        return -1;
    }
    char *end;
    errno = 0;
    *pid = strtol(argv[1], &end, 10);
    if (errno || *end || *pid <= 0) {
        fprintf(stderr, "%s: bad PID %s\n", argv[0], argv[1]);
        return -1;
    }
    *iter = strtol(argv[2], &end, 10);
    if (errno || *end || *iter <= 0 || *iter > 100000) {
        fprintf(stderr, "%s: bad ITER %s\n", argv[0], argv[2]);
        return -1;
    }
    return 0;
}

/* Prints the JSON line; sorts a copy for the median. */
static inline int bench_report(const double *runs, long n)
{
    double *sorted = malloc((size_t)n * sizeof *sorted);
    if (sorted == NULL)
        return 1;
    memcpy(sorted, runs, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, bench_cmp_double);
    double median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    free(sorted);
    printf("{\"median_ms\":%.4f,\"runs\":[", median);
    for (long i = 0; i < n; i++)
        printf("%s%.4f", i ? "," : "", runs[i]);
    printf("]}\n");
    return fflush(stdout) == 0 ? 0 : 1;
}

#endif
