/*
 * bench/capture.c -- build/bench-capture PID ITER
 *
 * Times what the app does per refresh: a full capture with every flag it uses
 * (handles + names + basic + type-specific, threads, VA space + section information),
 * a walk of every class to the end with the default allocator, then freeing the marker
 * and the snapshot.  The process handle is opened once, outside the timing (the app
 * keeps it).  Prints {"median_ms":..,"runs":[..]}.
 */
#include "bench_common.h"
#include "processsnapshot.h"

#define APP_FLAGS                                                                         \
    (PSS_CAPTURE_HANDLES | PSS_CAPTURE_HANDLE_NAME_INFORMATION |                          \
     PSS_CAPTURE_HANDLE_BASIC_INFORMATION | PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION | \
     PSS_CAPTURE_THREADS | PSS_CAPTURE_VA_SPACE | PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION)

static int capture_and_walk(HANDLE h, unsigned long *entries)
{
    HPSS s;
    DWORD rc = PssCaptureSnapshot(h, APP_FLAGS, 0, &s);
    if (rc != ERROR_SUCCESS) {
        fprintf(stderr, "bench-capture: PssCaptureSnapshot: %u\n", rc);
        return -1;
    }
    HPSSWALK w;
    rc = PssWalkMarkerCreate(NULL, &w);
    if (rc != ERROR_SUCCESS) {
        PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
        return -1;
    }
    static const DWORD sizes[4] = {sizeof(PSS_AUXILIARY_PAGE_ENTRY), sizeof(PSS_VA_SPACE_ENTRY),
                                   sizeof(PSS_HANDLE_ENTRY), sizeof(PSS_THREAD_ENTRY)};
    union {
        PSS_AUXILIARY_PAGE_ENTRY a;
        PSS_VA_SPACE_ENTRY v;
        PSS_HANDLE_ENTRY h;
        PSS_THREAD_ENTRY t;
    } buf;
    *entries = 0;
    int result = 0;
    for (int c = 0; c < 4 && result == 0; c++) {
        while ((rc = PssWalkSnapshot(s, c, w, &buf, sizes[c])) == ERROR_SUCCESS)
            (*entries)++;
        if (rc != ERROR_NO_MORE_ITEMS) {
            fprintf(stderr, "bench-capture: PssWalkSnapshot(%d): %u\n", c, rc);
            result = -1;
        }
    }
    PssWalkMarkerFree(w);
    PssFreeSnapshot(PSS_CURRENT_PROCESS, s);
    return result;
}

int main(int argc, char **argv)
{
    long pid, iter;
    if (bench_parse_args(argc, argv, &pid, &iter) != 0)
        return 2;
    HANDLE h;
    DWORD rc = PssLinuxOpenProcess((DWORD)pid, &h);
    if (rc != ERROR_SUCCESS) {
        fprintf(stderr, "bench-capture: PssLinuxOpenProcess(%ld): %u\n", pid, rc);
        return 1;
    }
    double *runs = malloc((size_t)iter * sizeof *runs);
    if (runs == NULL)
        return 1;
    unsigned long entries = 0;
    if (capture_and_walk(h, &entries) != 0) /* warm-up */
        return 1;
    for (long i = 0; i < iter; i++) {
        double t0 = bench_now_ms();
        if (capture_and_walk(h, &entries) != 0)
            return 1;
        runs[i] = bench_now_ms() - t0;
    }
    fprintf(stderr, "bench-capture: %lu entries walked per run\n", entries);
    int r = bench_report(runs, iter);
    free(runs);
    PssLinuxCloseProcess(h);
    return r;
}
