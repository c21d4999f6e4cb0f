/*
 * bench/usage.c -- build/bench-usage PID ITER
 *
 * The optional usage capture (PSS_DETAILS_REGION_USAGE: smaps per VMA + smaps_rollup +
 * region kinds + modules) next to its floor, a plain C read of /proc/PID/smaps (1 MiB
 * read() calls until EOF, nothing parsed), in the same run and interleaved so that
 * machine load hits all of them alike:
 *   floor    plain read of smaps
 *   usage    PssLinuxCaptureDetails(REGIONS | REGION_USAGE) + PssLinuxFreeDetails
 *   app      what the app does for "capture with usage":
 *            PssLinuxCaptureSnapshotAndDetails(VA_SPACE | VA_SPACE_SECTION_INFORMATION,
 *            REGIONS | REGION_USAGE): the snapshot (maps) on a helper thread while the
 *            usage capture (smaps) runs on this one
 *   maps     plain read of /proc/PID/maps (for scale)
 * The process handle is opened once, outside the timing.  Prints one JSON line:
 *   {"floor":{"median_ms":..},"usage":{..},"app":{..},"maps":{..},"usage_ratio":R,
 *    "app_ratio":R,"regions":N,"bytes":B}
 * where the ratios are medians of per-round ratios to that round's floor.
 */
#include <fcntl.h>
#include <unistd.h>

#include "bench_common.h"
#include "processsnapshot.h"

static char chunk[1 << 20];

static int plain_read(long pid, const char *file, unsigned long long *bytes)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/%s", pid, file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    unsigned long long total = 0;
    ssize_t r;
    while ((r = read(fd, chunk, sizeof chunk)) > 0)
        total += (unsigned long long)r;
    close(fd);
    *bytes = total;
    return r < 0 ? -1 : 0;
}

static int usage_capture(HANDLE h, DWORD *regions)
{
    HPSSDETAILS d;
    DWORD rc = PssLinuxCaptureDetails(h, PSS_DETAILS_REGIONS | PSS_DETAILS_REGION_USAGE, &d);
    if (rc != ERROR_SUCCESS) {
        fprintf(stderr, "bench-usage: PssLinuxCaptureDetails: %u\n", rc);
        return -1;
    }
    PSS_DETAILS_INFORMATION info;
    rc = PssLinuxQueryDetails(d, sizeof info, &info);
    if (rc != ERROR_SUCCESS || info.UsageError != ERROR_SUCCESS) {
        fprintf(stderr, "bench-usage: usage error %u/%u\n", rc, info.UsageError);
        PssLinuxFreeDetails(d);
        return -1;
    }
    *regions = info.RegionCount;
    PssLinuxFreeDetails(d);
    return 0;
}

static int app_capture(HANDLE h, DWORD *regions)
{
    HPSS s;
    HPSSDETAILS d;
    DWORD rc = PssLinuxCaptureSnapshotAndDetails(
        h, PSS_CAPTURE_VA_SPACE | PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION, 0,
        PSS_DETAILS_REGIONS | PSS_DETAILS_REGION_USAGE, &s, &d);
    if (rc != ERROR_SUCCESS) {
        fprintf(stderr, "bench-usage: PssLinuxCaptureSnapshotAndDetails: %u\n", rc);
        return -1;
    }
    PSS_DETAILS_INFORMATION info;
    rc = PssLinuxQueryDetails(d, sizeof info, &info);
    *regions = info.RegionCount;
    PssLinuxFreeDetails(d);
    PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
    return rc == ERROR_SUCCESS && info.UsageError == ERROR_SUCCESS ? 0 : -1;
}

static double median_of(double *v, long n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    long pid, iter;
    if (bench_parse_args(argc, argv, &pid, &iter) != 0)
        return 2;
    HANDLE h;
    DWORD rc = PssLinuxOpenProcess((DWORD)pid, &h);
    if (rc != ERROR_SUCCESS) {
        fprintf(stderr, "bench-usage: PssLinuxOpenProcess(%ld): %u\n", pid, rc);
        return 1;
    }
    double *runs = malloc(4 * (size_t)iter * sizeof *runs);
    if (runs == NULL)
        return 1;
    double *floor_ms = runs, *usage_ms = runs + iter, *app_ms = runs + 2 * iter,
           *maps_ms = runs + 3 * iter;
    unsigned long long bytes = 0, mbytes = 0;
    DWORD regions = 0;
    /* warm-up */
    if (plain_read(pid, "smaps", &bytes) != 0 || usage_capture(h, &regions) != 0)
        return 1;
    for (long i = 0; i < iter; i++) {
        /* rotate the order so no variant always runs first */
        for (int k = 0; k < 4; k++) {
            int which = (int)((k + i) % 4);
            double t0 = bench_now_ms();
            int r = which == 0   ? plain_read(pid, "smaps", &bytes)
                    : which == 1 ? usage_capture(h, &regions)
                    : which == 2 ? app_capture(h, &regions)
                                 : plain_read(pid, "maps", &mbytes);
            double dt = bench_now_ms() - t0;
            if (r != 0)
                return 1;
            (which == 0 ? floor_ms : which == 1 ? usage_ms : which == 2 ? app_ms : maps_ms)[i] =
                dt;
        }
    }
    /* Per-iteration ratios (each against the floor of the same round) resist load
     * changes between rounds better than a ratio of medians. */
    double *ru = malloc(2 * (size_t)iter * sizeof *ru);
    if (ru == NULL)
        return 1;
    double *ra = ru + iter;
    for (long i = 0; i < iter; i++) {
        ru[i] = usage_ms[i] / floor_ms[i];
        ra[i] = app_ms[i] / floor_ms[i];
    }
    double mru = median_of(ru, iter), mra = median_of(ra, iter);
    printf("{\"floor\":{\"median_ms\":%.3f},\"usage\":{\"median_ms\":%.3f},"
           "\"app\":{\"median_ms\":%.3f},\"maps\":{\"median_ms\":%.3f},"
           "\"usage_ratio\":%.3f,\"app_ratio\":%.3f,\"regions\":%u,\"bytes\":%llu}\n",
           median_of(floor_ms, iter), median_of(usage_ms, iter), median_of(app_ms, iter),
           median_of(maps_ms, iter), mru, mra, regions, bytes);
    free(ru);
    free(runs);
    PssLinuxCloseProcess(h);
    return fflush(stdout) == 0 ? 0 : 1;
}
