/*
 * test_api.c -- layouts, constants, and every documented argument/error path of the
 * twelve functions.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

int test_layout_sizes_and_offsets(void)
{
    CHECK_EQ(sizeof(FILETIME), 8);
    CHECK_EQ(_Alignof(FILETIME), 4);
    CHECK_EQ(sizeof(MEMORY_BASIC_INFORMATION), 48);
    CHECK_EQ(sizeof(PSS_ALLOCATOR), 24);
    CHECK_EQ(offsetof(PSS_ALLOCATOR, AllocRoutine), 8);
    CHECK_EQ(sizeof(PSS_PROCESS_INFORMATION), 704);
    CHECK_EQ(offsetof(PSS_PROCESS_INFORMATION, ParentProcessId), 32);
    CHECK_EQ(offsetof(PSS_PROCESS_INFORMATION, UserTime), 64);
    CHECK_EQ(offsetof(PSS_PROCESS_INFORMATION, PrivateUsage), 168);
    CHECK_EQ(offsetof(PSS_PROCESS_INFORMATION, ImageFileName), 180);
    CHECK_EQ(sizeof(PSS_VA_CLONE_INFORMATION), 8);
    CHECK_EQ(sizeof(PSS_AUXILIARY_PAGES_INFORMATION), 4);
    CHECK_EQ(sizeof(PSS_VA_SPACE_INFORMATION), 4);
    CHECK_EQ(sizeof(PSS_HANDLE_INFORMATION), 4);
    CHECK_EQ(sizeof(PSS_THREAD_INFORMATION), 8);
    CHECK_EQ(sizeof(PSS_HANDLE_TRACE_INFORMATION), 16);
    CHECK_EQ(offsetof(PSS_HANDLE_TRACE_INFORMATION, Size), 8);
    CHECK_EQ(sizeof(PSS_PERFORMANCE_COUNTERS), 96);
    CHECK_EQ(sizeof(PSS_AUXILIARY_PAGE_ENTRY), 80);
    CHECK_EQ(offsetof(PSS_AUXILIARY_PAGE_ENTRY, BasicInformation), 8);
    CHECK_EQ(sizeof(PSS_VA_SPACE_ENTRY), 80);
    CHECK_EQ(offsetof(PSS_VA_SPACE_ENTRY, AllocationProtect), 16);
    CHECK_EQ(offsetof(PSS_VA_SPACE_ENTRY, Protect), 36);
    CHECK_EQ(offsetof(PSS_VA_SPACE_ENTRY, Type), 40);
    CHECK_EQ(offsetof(PSS_VA_SPACE_ENTRY, SizeOfImage), 48);
    CHECK_EQ(offsetof(PSS_VA_SPACE_ENTRY, MappedFileName), 72);
    CHECK_EQ(sizeof(PSS_HANDLE_ENTRY), 136);
    CHECK_EQ(offsetof(PSS_HANDLE_ENTRY, ObjectType), 12);
    CHECK_EQ(offsetof(PSS_HANDLE_ENTRY, Attributes), 24);
    CHECK_EQ(offsetof(PSS_HANDLE_ENTRY, GrantedAccess), 28);
    CHECK_EQ(offsetof(PSS_HANDLE_ENTRY, NonPagedPoolCharge), 44);
    CHECK_EQ(offsetof(PSS_HANDLE_ENTRY, TypeName), 64);
    CHECK_EQ(offsetof(PSS_HANDLE_ENTRY, ObjectName), 80);
    CHECK_EQ(offsetof(PSS_HANDLE_ENTRY, TypeSpecificInformation), 88);
    CHECK_EQ(offsetof(PSS_HANDLE_ENTRY, TypeSpecificInformation.Process.PebBaseAddress), 96);
    CHECK_EQ(offsetof(PSS_HANDLE_ENTRY, TypeSpecificInformation.Process.AffinityMask), 104);
    CHECK_EQ(offsetof(PSS_HANDLE_ENTRY, TypeSpecificInformation.Process.ParentProcessId), 120);
    CHECK_EQ(offsetof(PSS_HANDLE_ENTRY, TypeSpecificInformation.Thread.ThreadId), 108);
    CHECK_EQ(offsetof(PSS_HANDLE_ENTRY, TypeSpecificInformation.Thread.Priority), 120);
    CHECK_EQ(offsetof(PSS_HANDLE_ENTRY, TypeSpecificInformation.Event.Signaled), 92);
    CHECK_EQ(offsetof(PSS_HANDLE_ENTRY, TypeSpecificInformation.Section.MaximumSize), 104);
    CHECK_EQ(offsetof(PSS_HANDLE_ENTRY, TypeSpecificInformation.Semaphore.CurrentCount), 88);
    CHECK_EQ(sizeof(PSS_THREAD_ENTRY), 120);
    CHECK_EQ(offsetof(PSS_THREAD_ENTRY, ThreadId), 20);
    CHECK_EQ(offsetof(PSS_THREAD_ENTRY, Priority), 32);
    CHECK_EQ(offsetof(PSS_THREAD_ENTRY, LastSyscallFirstArgument), 40);
    CHECK_EQ(offsetof(PSS_THREAD_ENTRY, CreateTime), 52);
    CHECK_EQ(offsetof(PSS_THREAD_ENTRY, ExitTime), 60);
    CHECK_EQ(offsetof(PSS_THREAD_ENTRY, KernelTime), 68);
    CHECK_EQ(offsetof(PSS_THREAD_ENTRY, ContextRecord), 112);
    CHECK_EQ(sizeof(PSS_THREAD_NAME), 16);
    CHECK_EQ(sizeof(CONTEXT), 1232);
    CHECK_EQ(offsetof(CONTEXT, ContextFlags), 0x30);
    CHECK_EQ(offsetof(CONTEXT, Rsp), 0x98);
    CHECK_EQ(offsetof(CONTEXT, Rip), 0xF8);
    CHECK_EQ(offsetof(CONTEXT, FltSave), 0x100);
    CHECK_EQ(offsetof(CONTEXT, Xmm15), 0x290);
    CHECK_EQ(offsetof(CONTEXT, DebugControl), 0x4A8);
    CHECK_EQ(sizeof(HPSS), 8);
    CHECK_EQ(sizeof(HPSSWALK), 8);
    CHECK_EQ(sizeof(WCHAR), 2);
    CHECK_EQ(sizeof(BOOL), 4);
    CHECK_EQ(sizeof(LONG), 4);
    return 0;
}

int test_constants_match_windows(void)
{
    CHECK_EQ(PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION, 0x1000);
    CHECK_EQ(PSS_CAPTURE_IPT_TRACE, 0x2000);
    CHECK_EQ(PSS_CAPTURE_RESERVED_00004000, 0x4000);
    CHECK_EQ(PSS_CREATE_RELEASE_SECTION, 0x80000000u);
    CHECK_EQ(PSS_CREATE_MEASURE_PERFORMANCE, 0x40000000u);
    CHECK_EQ(PSS_QUERY_PERFORMANCE_COUNTERS, 7);
    CHECK_EQ(PSS_WALK_THREADS, 3);
    CHECK_EQ(PSS_WALK_THREAD_NAME, 4);
    CHECK_EQ(PSS_OBJECT_TYPE_SEMAPHORE, 6);
    CHECK_EQ(PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION, 8);
    CHECK_EQ(PSS_PROCESS_FLAGS_FROZEN, 0x10);
    CHECK_EQ(PSS_PERF_RESOLUTION, 1000000);
    CHECK_EQ(ERROR_BAD_LENGTH, 24);
    CHECK_EQ(ERROR_MORE_DATA, 234);
    CHECK_EQ(ERROR_NO_MORE_ITEMS, 259);
    CHECK_EQ(ERROR_NOT_FOUND, 1168);
    CHECK_EQ(ERROR_PROCESS_ABORTED, 1067);
    CHECK_EQ(MEM_IMAGE, 0x01000000);
    CHECK_EQ(PAGE_EXECUTE_WRITECOPY, 0x80);
    CHECK_EQ(CONTEXT_ALL, 0x0010001F);
    CHECK_EQ(CONTEXT_FULL, 0x0010000B);
    CHECK_EQ(CONTEXT_XSTATE, 0x00100040);
    CHECK_EQ((uintptr_t)PSS_CURRENT_PROCESS, UINTPTR_MAX);
    return 0;
}

static void *thread_report_tid(void *arg)
{
    pid_t *out = arg;
    *out = (pid_t)syscall(SYS_gettid);
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    return NULL;
}

/* A PID that was just freed (a reaped child). */
static pid_t dead_pid(void)
{
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    if (p > 0)
        waitpid(p, NULL, 0);
    return p;
}

int test_open_process_errors(void)
{
    HANDLE h = (HANDLE)0x1234;
    CHECK_EQ(PssLinuxOpenProcess(0, &h), ERROR_INVALID_PARAMETER);
    CHECK(h == NULL);
    CHECK_EQ(PssLinuxOpenProcess((DWORD)getpid(), NULL), ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssLinuxOpenProcess(0xFFFFFFF0u, &h), ERROR_INVALID_PARAMETER);
    pid_t gone = dead_pid();
    CHECK(gone > 0);
    CHECK_EQ(PssLinuxOpenProcess((DWORD)gone, &h), ERROR_INVALID_PARAMETER);

    /* A thread id is not a process id (as OpenProcess). */
    pthread_t th;
    volatile pid_t tid = 0;
    CHECK(pthread_create(&th, NULL, thread_report_tid, (void *)&tid) == 0);
    while (tid == 0)
        sched_yield();
    DWORD rc = PssLinuxOpenProcess((DWORD)tid, &h);
    pthread_join(th, NULL);
    CHECK_EQ(rc, ERROR_INVALID_PARAMETER);

    CHECK_EQ(PssLinuxCloseProcess(NULL), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssLinuxCloseProcess(PSS_CURRENT_PROCESS), ERROR_SUCCESS);
    uint64_t garbage[4] = {1, 2, 3, 4};
    CHECK_EQ(PssLinuxCloseProcess((HANDLE)garbage), ERROR_INVALID_HANDLE);

    CHECK_EQ(PssLinuxOpenProcess((DWORD)getpid(), &h), ERROR_SUCCESS);
    CHECK(h != NULL && h != PSS_CURRENT_PROCESS);
    CHECK_EQ(PssLinuxCloseProcess(h), ERROR_SUCCESS);
    /* A freed handle is no longer registered: rejected without reading it. */
    CHECK_EQ(PssLinuxCloseProcess(h), ERROR_INVALID_HANDLE);
    return 0;
}

int test_capture_argument_errors(void)
{
    HPSS s = (HPSS)0x1234;
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, 0, 0, NULL), ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssCaptureSnapshot(NULL, 0, 0, &s), ERROR_INVALID_HANDLE);
    CHECK(s == NULL);
    uint64_t garbage[4] = {1, 2, 3, 4};
    CHECK_EQ(PssCaptureSnapshot((HANDLE)garbage, 0, 0, &s), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssCaptureSnapshot((HANDLE)((char *)garbage + 1), 0, 0, &s), ERROR_INVALID_HANDLE);

    /* A snapshot handle is not a process handle. */
    HPSS real;
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, 0, 0, &real), ERROR_SUCCESS);
    CHECK_EQ(PssCaptureSnapshot((HANDLE)real, 0, 0, &s), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, real), ERROR_SUCCESS);
    return 0;
}

int test_capture_unsupported_and_ignored_flags(void)
{
    static const DWORD unsupported[] = {PSS_CAPTURE_VA_CLONE, PSS_CAPTURE_HANDLE_TRACE,
                                        PSS_CAPTURE_IPT_TRACE,
                                        PSS_CAPTURE_THREAD_CONTEXT_EXTENDED};
    static const DWORD invalid[] = {PSS_CAPTURE_RESERVED_00000002,
                                    PSS_CAPTURE_RESERVED_00000400,
                                    PSS_CAPTURE_RESERVED_00004000, 0x00008000u, 0x00100000u,
                                    0x02000000u};
    static const DWORD ignored[] = {PSS_CREATE_BREAKAWAY_OPTIONAL, PSS_CREATE_BREAKAWAY,
                                    PSS_CREATE_FORCE_BREAKAWAY, PSS_CREATE_USE_VM_ALLOCATIONS,
                                    PSS_CREATE_RELEASE_SECTION};
    HPSS s;
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
        s = (HPSS)0x1;
        CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, unsupported[i], 0, &s),
                 ERROR_NOT_SUPPORTED);
        CHECK(s == NULL);
    }
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
        CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, invalid[i] | PSS_CAPTURE_THREADS, 0, &s),
                 ERROR_INVALID_PARAMETER);
    /* Reserved bits win over unsupported ones. */
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS,
                                PSS_CAPTURE_VA_CLONE | PSS_CAPTURE_RESERVED_00000002, 0, &s),
             ERROR_INVALID_PARAMETER);
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++) {
        CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, ignored[i] | PSS_CAPTURE_THREADS, 0, &s),
                 ERROR_SUCCESS);
        CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
    }
    /* Thread context flag checks come before the target. */
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, PSS_CAPTURE_THREAD_CONTEXT, 0, &s),
             ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, PSS_CAPTURE_THREAD_CONTEXT, 0x1F, &s),
             ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, PSS_CAPTURE_THREAD_CONTEXT,
                                CONTEXT_ALL | 0x80u, &s),
             ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, PSS_CAPTURE_THREAD_CONTEXT,
                                CONTEXT_ALL | CONTEXT_XSTATE, &s),
             ERROR_NOT_SUPPORTED);
    /* ThreadContextFlags are ignored without PSS_CAPTURE_THREAD_CONTEXT. */
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, PSS_CAPTURE_THREADS, 0xFFFFFFFFu, &s),
             ERROR_SUCCESS);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
    return 0;
}

int test_capture_self_minimal(void)
{
    HPSS s;
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, PSS_CAPTURE_NONE, 0, &s), ERROR_SUCCESS);
    PSS_PROCESS_INFORMATION pi;
    CHECK_EQ(PssQuerySnapshot(s, PSS_QUERY_PROCESS_INFORMATION, &pi, sizeof pi), ERROR_SUCCESS);
    CHECK_EQ(pi.ProcessId, getpid());
    CHECK_EQ(pi.ParentProcessId, getppid());
    CHECK_EQ(pi.ExitStatus, STILL_ACTIVE);
    CHECK(pi.VirtualSize > 0 && pi.PeakVirtualSize >= pi.VirtualSize);
    CHECK(pi.WorkingSetSize > 0 && pi.PeakWorkingSetSize >= pi.WorkingSetSize);
    CHECK(pi.AffinityMask != 0);
    DWORD want_class;
    LONG want_base;
    test_expected_priority(&want_class, &want_base);
    CHECK_EQ(pi.PriorityClass, want_class);
    CHECK_EQ(pi.BasePriority, want_base);
    CHECK_EQ(pi.ExecuteFlags, MEM_EXECUTE_OPTION_DISABLE | MEM_EXECUTE_OPTION_PERMANENT);
    char exe[4096], name[600];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    CHECK(n > 0);
    exe[n] = '\0';
    size_t len = 0;
    while (len < MAX_PATH && pi.ImageFileName[len])
        len++;
    test_utf16_to_ascii(pi.ImageFileName, (WORD)(len * 2), name, sizeof name);
    /* Under valgrind /proc/self/exe is the tool; only the test's own readlink is faked. */
    if (!test_under_valgrind())
        CHECK_MSG(strcmp(name, exe) == 0, "ImageFileName %s != %s", name, exe);
    /* CreateTime is in the past and after 2020. */
    uint64_t ct = ((uint64_t)pi.CreateTime.dwHighDateTime << 32) | pi.CreateTime.dwLowDateTime;
    uint64_t now = (uint64_t)time(NULL) * 10000000u + 116444736000000000u;
    CHECK(ct <= now + 20000000u);
    CHECK(ct > 132223104000000000u);
    CHECK(pi.Flags == 0);

    PSS_THREAD_INFORMATION ti;
    CHECK_EQ(PssQuerySnapshot(s, PSS_QUERY_THREAD_INFORMATION, &ti, sizeof ti), ERROR_NOT_FOUND);
    PSS_AUXILIARY_PAGES_INFORMATION ai = {99};
    CHECK_EQ(PssQuerySnapshot(s, PSS_QUERY_AUXILIARY_PAGES_INFORMATION, &ai, sizeof ai),
             ERROR_SUCCESS);
    CHECK_EQ(ai.AuxPagesCaptured, 0);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
    return 0;
}

int test_query_errors_and_classes(void)
{
    HPSS s;
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, TEST_ALL_FLAGS, 0, &s), ERROR_SUCCESS);
    unsigned char buf[1024];
    CHECK_EQ(PssQuerySnapshot(NULL, 0, buf, 704), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssQuerySnapshot((HPSS)PSS_CURRENT_PROCESS, 0, buf, 704), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssQuerySnapshot(s, 0, NULL, 704), ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssQuerySnapshot(s, 8, buf, 8), ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssQuerySnapshot(s, -1, buf, 8), ERROR_INVALID_PARAMETER);
    static const DWORD sizes[8] = {704, 8, 4, 4, 4, 8, 16, 96};
    for (int c = 0; c < 8; c++) {
        CHECK_EQ(PssQuerySnapshot(s, c, buf, sizes[c] - 1), ERROR_BAD_LENGTH);
        CHECK_EQ(PssQuerySnapshot(s, c, buf, sizes[c] + 1), ERROR_BAD_LENGTH);
        CHECK_EQ(PssQuerySnapshot(s, c, buf, 0), ERROR_BAD_LENGTH);
    }
    CHECK_EQ(PssQuerySnapshot(s, PSS_QUERY_VA_CLONE_INFORMATION, buf, 8), ERROR_NOT_FOUND);
    CHECK_EQ(PssQuerySnapshot(s, PSS_QUERY_HANDLE_TRACE_INFORMATION, buf, 16), ERROR_NOT_FOUND);

    PSS_VA_SPACE_INFORMATION vi;
    PSS_HANDLE_INFORMATION hi;
    PSS_THREAD_INFORMATION ti;
    PSS_PERFORMANCE_COUNTERS pc;
    CHECK_EQ(PssQuerySnapshot(s, PSS_QUERY_VA_SPACE_INFORMATION, &vi, sizeof vi), ERROR_SUCCESS);
    CHECK_EQ(PssQuerySnapshot(s, PSS_QUERY_HANDLE_INFORMATION, &hi, sizeof hi), ERROR_SUCCESS);
    CHECK_EQ(PssQuerySnapshot(s, PSS_QUERY_THREAD_INFORMATION, &ti, sizeof ti), ERROR_SUCCESS);
    CHECK_EQ(PssQuerySnapshot(s, PSS_QUERY_PERFORMANCE_COUNTERS, &pc, sizeof pc), ERROR_SUCCESS);
    CHECK(vi.RegionCount > 10);
    CHECK(hi.HandlesCaptured >= 3);
    CHECK_EQ(ti.ThreadsCaptured, 1);
    CHECK_EQ(ti.ContextLength, 0);
    CHECK(pc.TotalCycleCount > 0);
    CHECK(pc.TotalCycleCount >= pc.HandlesCycleCount + pc.VaSpaceCycleCount);
    CHECK(pc.TotalWallClockPeriod >= pc.VaSpaceWallClockPeriod);
    CHECK(pc.TotalWallClockPeriod >= pc.HandlesWallClockPeriod);
    CHECK_EQ(pc.VaCloneCycleCount, 0);
    CHECK_EQ(pc.AuxPagesWallClockPeriod, 0);
    /* A capture takes more than 0 and less than 10 s (the unit is microseconds). */
    CHECK(pc.TotalWallClockPeriod < 10u * PSS_PERF_RESOLUTION);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);

    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, PSS_CAPTURE_THREADS, 0, &s), ERROR_SUCCESS);
    CHECK_EQ(PssQuerySnapshot(s, PSS_QUERY_PERFORMANCE_COUNTERS, &pc, sizeof pc), ERROR_NOT_FOUND);
    CHECK_EQ(PssQuerySnapshot(s, PSS_QUERY_VA_SPACE_INFORMATION, &vi, sizeof vi), ERROR_NOT_FOUND);
    CHECK_EQ(PssQuerySnapshot(s, PSS_QUERY_HANDLE_INFORMATION, &hi, sizeof hi), ERROR_NOT_FOUND);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
    return 0;
}

int test_walk_errors(void)
{
    HPSS s;
    HPSSWALK w;
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, PSS_CAPTURE_THREADS | PSS_CAPTURE_HANDLES,
                                0, &s),
             ERROR_SUCCESS);
    CHECK_EQ(PssWalkMarkerCreate(NULL, &w), ERROR_SUCCESS);
    unsigned char buf[256];
    CHECK_EQ(PssWalkSnapshot(NULL, PSS_WALK_THREADS, w, buf, 120), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssWalkSnapshot((HPSS)PSS_CURRENT_PROCESS, PSS_WALK_THREADS, w, buf, 120),
             ERROR_INVALID_HANDLE);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_THREADS, NULL, buf, 120), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_THREADS, (HPSSWALK)PSS_CURRENT_PROCESS, buf, 120),
             ERROR_INVALID_HANDLE);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_THREADS, (HPSSWALK)s, buf, 120), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssWalkSnapshot((HPSS)w, PSS_WALK_THREADS, w, buf, 120), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_THREAD_NAME, w, buf, 16), ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssWalkSnapshot(s, 5, w, buf, 16), ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssWalkSnapshot(s, -1, w, buf, 16), ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_VA_SPACE, w, buf, 80), ERROR_NOT_FOUND);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_VA_SPACE, w, NULL, 0), ERROR_NOT_FOUND);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_THREADS, w, buf, 119), ERROR_BAD_LENGTH);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_THREADS, w, buf, 121), ERROR_BAD_LENGTH);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_HANDLES, w, buf, 135), ERROR_BAD_LENGTH);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_HANDLES, w, buf, 0), ERROR_BAD_LENGTH);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_AUXILIARY_PAGES, w, buf, 79), ERROR_BAD_LENGTH);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_AUXILIARY_PAGES, w, buf, 80), ERROR_NO_MORE_ITEMS);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_AUXILIARY_PAGES, w, NULL, 0), ERROR_NO_MORE_ITEMS);
    /* A failed call does not move anything: the first thread is still next. */
    PSS_THREAD_ENTRY t;
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_THREADS, w, &t, sizeof t), ERROR_SUCCESS);
    CHECK_EQ(t.ThreadId, getpid());
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_THREADS, w, &t, sizeof t), ERROR_NO_MORE_ITEMS);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_THREADS, w, &t, sizeof t), ERROR_NO_MORE_ITEMS);
    CHECK_EQ(PssWalkMarkerFree(w), ERROR_SUCCESS);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
    return 0;
}

int test_walk_more_data_does_not_advance(void)
{
    HPSS s;
    HPSSWALK w;
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, TEST_ALL_FLAGS, 0, &s), ERROR_SUCCESS);
    CHECK_EQ(PssWalkMarkerCreate(NULL, &w), ERROR_SUCCESS);
    PSS_HANDLE_ENTRY a, b;
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_HANDLES, w, NULL, 0), ERROR_MORE_DATA);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_HANDLES, w, NULL, 12345), ERROR_MORE_DATA);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_HANDLES, w, &a, sizeof a), ERROR_SUCCESS);
    CHECK_EQ((uintptr_t)a.Handle, 0); /* fd 0 is first */
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_HANDLES, w, NULL, 0), ERROR_MORE_DATA);
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_HANDLES, w, &b, sizeof b), ERROR_SUCCESS);
    CHECK((uintptr_t)b.Handle > (uintptr_t)a.Handle);
    while (PssWalkSnapshot(s, PSS_WALK_HANDLES, w, &b, sizeof b) == ERROR_SUCCESS)
        ;
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_HANDLES, w, NULL, 0), ERROR_NO_MORE_ITEMS);
    CHECK_EQ(PssWalkMarkerFree(w), ERROR_SUCCESS);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
    return 0;
}

int test_marker_errors(void)
{
    HPSSWALK w;
    CHECK_EQ(PssWalkMarkerCreate(NULL, NULL), ERROR_INVALID_PARAMETER);
    PSS_ALLOCATOR bad = {NULL, NULL, NULL};
    w = (HPSSWALK)0x1;
    CHECK_EQ(PssWalkMarkerCreate(&bad, &w), ERROR_INVALID_PARAMETER);
    CHECK(w == NULL);
    ULONG_PTR pos;
    CHECK_EQ(PssWalkMarkerGetPosition(NULL, &pos), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssWalkMarkerSetPosition(NULL, 0), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssWalkMarkerSeekToBeginning(NULL), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssWalkMarkerFree(NULL), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssWalkMarkerFree((HPSSWALK)PSS_CURRENT_PROCESS), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssWalkMarkerSeekToBeginning((HPSSWALK)PSS_CURRENT_PROCESS), ERROR_INVALID_HANDLE);

    CHECK_EQ(PssWalkMarkerCreate(NULL, &w), ERROR_SUCCESS);
    CHECK_EQ(PssWalkMarkerGetPosition(w, NULL), ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssWalkMarkerGetPosition(w, &pos), ERROR_SUCCESS);
    CHECK_EQ(pos, UINT64_C(0x5053000000000000));
    CHECK_EQ(PssWalkMarkerSetPosition(w, 0), ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssWalkMarkerSetPosition(w, 12345), ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssWalkMarkerSetPosition(w, UINT64_C(0x5053010000000000)), ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssWalkMarkerSetPosition(w, UINT64_C(0x5053000500000000)), ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssWalkMarkerSetPosition(w, UINT64_C(0x5053000000000001)), ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssWalkMarkerSetPosition(w, UINT64_C(0x5053000000000000)), ERROR_SUCCESS);
    /* Unbound marker: any index of a valid class is accepted. */
    CHECK_EQ(PssWalkMarkerSetPosition(w, UINT64_C(0x5053000400000007)), ERROR_SUCCESS);
    CHECK_EQ(PssWalkMarkerGetPosition(w, &pos), ERROR_SUCCESS);
    CHECK_EQ(pos, UINT64_C(0x5053000400000007));

    /* Bound marker: an index beyond the class's entry count is rejected. */
    CHECK_EQ(PssWalkMarkerSeekToBeginning(w), ERROR_SUCCESS);
    HPSS s;
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, PSS_CAPTURE_THREADS, 0, &s), ERROR_SUCCESS);
    PSS_THREAD_ENTRY t;
    CHECK_EQ(PssWalkSnapshot(s, PSS_WALK_THREADS, w, &t, sizeof t), ERROR_SUCCESS);
    CHECK_EQ(PssWalkMarkerSetPosition(w, UINT64_C(0x5053000400000002)), ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssWalkMarkerSetPosition(w, UINT64_C(0x5053000400000001)), ERROR_SUCCESS);
    CHECK_EQ(PssWalkMarkerSetPosition(w, UINT64_C(0x5053000400000000)), ERROR_SUCCESS);
    CHECK_EQ(PssWalkMarkerSetPosition(w, UINT64_C(0x5053000100000001)), ERROR_INVALID_PARAMETER);

    CHECK_EQ(PssWalkMarkerFree((HPSSWALK)s), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssWalkMarkerFree(w), ERROR_SUCCESS);
    /* A freed marker is no longer registered: rejected without reading it. */
    CHECK_EQ(PssWalkMarkerFree(w), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
    return 0;
}

int test_free_snapshot_errors_and_double_free(void)
{
    HPSS s;
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, PSS_CAPTURE_THREADS, 0, &s), ERROR_SUCCESS);
    CHECK_EQ(PssFreeSnapshot(NULL, s), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, NULL), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, (HPSS)PSS_CURRENT_PROCESS), ERROR_INVALID_HANDLE);
    HPSSWALK w;
    CHECK_EQ(PssWalkMarkerCreate(NULL, &w), ERROR_SUCCESS);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, (HPSS)w), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssWalkMarkerFree(w), ERROR_SUCCESS);

    /* Another process's handle: a snapshot never lives there. */
    struct fixture f;
    const char *args[] = {NULL};
    TRY(fixture_start(&f, args));
    HANDLE other;
    CHECK_EQ(PssLinuxOpenProcess((DWORD)f.pid, &other), ERROR_SUCCESS);
    DWORD rc = PssFreeSnapshot(other, s);
    CHECK_EQ(PssLinuxCloseProcess(other), ERROR_SUCCESS);
    CHECK_EQ(fixture_stop(&f), 0);
    CHECK_EQ(rc, ERROR_NOT_SUPPORTED);

    /* A handle of our own pid counts as the current process. */
    HANDLE self;
    CHECK_EQ(PssLinuxOpenProcess((DWORD)getpid(), &self), ERROR_SUCCESS);
    CHECK_EQ(PssFreeSnapshot(self, s), ERROR_SUCCESS);
    CHECK_EQ(PssLinuxCloseProcess(self), ERROR_SUCCESS);
    /* A freed snapshot is no longer registered: rejected without reading it. */
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_INVALID_HANDLE);
    return 0;
}

static int count_class(HPSS s, int cls, DWORD size, DWORD *count)
{
    HPSSWALK w;
    unsigned char buf[256];
    *count = 0;
    CHECK_EQ(PssWalkMarkerCreate(NULL, &w), ERROR_SUCCESS);
    DWORD rc;
    while ((rc = PssWalkSnapshot(s, cls, w, buf, size)) == ERROR_SUCCESS)
        (*count)++;
    CHECK_EQ(rc, ERROR_NO_MORE_ITEMS);
    CHECK_EQ(PssWalkMarkerFree(w), ERROR_SUCCESS);
    return 0;
}

int test_duplicate_snapshot(void)
{
    HPSS s, d = NULL;
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS, TEST_ALL_FLAGS, 0, &s), ERROR_SUCCESS);
    CHECK_EQ(PssDuplicateSnapshot(PSS_CURRENT_PROCESS, s, PSS_CURRENT_PROCESS, NULL, 0),
             ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssDuplicateSnapshot(PSS_CURRENT_PROCESS, s, PSS_CURRENT_PROCESS, &d, 2),
             ERROR_INVALID_PARAMETER);
    CHECK_EQ(PssDuplicateSnapshot(NULL, s, PSS_CURRENT_PROCESS, &d, 0), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssDuplicateSnapshot(PSS_CURRENT_PROCESS, s, NULL, &d, 0), ERROR_INVALID_HANDLE);
    CHECK_EQ(PssDuplicateSnapshot(PSS_CURRENT_PROCESS, NULL, PSS_CURRENT_PROCESS, &d, 0),
             ERROR_INVALID_HANDLE);
    /* CLOSE_SOURCE needs a PSS_CREATE_USE_VM_ALLOCATIONS snapshot; nothing happens. */
    CHECK_EQ(PssDuplicateSnapshot(PSS_CURRENT_PROCESS, s, PSS_CURRENT_PROCESS, &d,
                                  PSS_DUPLICATE_CLOSE_SOURCE),
             ERROR_INVALID_PARAMETER);
    /* Other processes. */
    struct fixture f;
    const char *args[] = {NULL};
    TRY(fixture_start(&f, args));
    HANDLE other;
    CHECK_EQ(PssLinuxOpenProcess((DWORD)f.pid, &other), ERROR_SUCCESS);
    DWORD rc1 = PssDuplicateSnapshot(PSS_CURRENT_PROCESS, s, other, &d, 0);
    DWORD rc2 = PssDuplicateSnapshot(other, s, PSS_CURRENT_PROCESS, &d, 0);
    CHECK_EQ(PssLinuxCloseProcess(other), ERROR_SUCCESS);
    CHECK_EQ(fixture_stop(&f), 0);
    CHECK_EQ(rc1, ERROR_NOT_SUPPORTED);
    CHECK_EQ(rc2, ERROR_NOT_SUPPORTED);

    /* A deep copy, independent of the source. */
    CHECK_EQ(PssDuplicateSnapshot(PSS_CURRENT_PROCESS, s, PSS_CURRENT_PROCESS, &d, 0),
             ERROR_SUCCESS);
    CHECK(d != NULL && d != s);
    DWORD n_src[4], n_dup[4];
    static const DWORD sizes[4] = {80, 80, 136, 120};
    for (int c = 1; c < 4; c++)
        TRY(count_class(s, c, sizes[c], &n_src[c]));
    PSS_PROCESS_INFORMATION a, b;
    CHECK_EQ(PssQuerySnapshot(s, PSS_QUERY_PROCESS_INFORMATION, &a, sizeof a), ERROR_SUCCESS);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
    CHECK_EQ(PssQuerySnapshot(d, PSS_QUERY_PROCESS_INFORMATION, &b, sizeof b), ERROR_SUCCESS);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    for (int c = 1; c < 4; c++) {
        TRY(count_class(d, c, sizes[c], &n_dup[c]));
        CHECK_EQ(n_dup[c], n_src[c]);
    }
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, d), ERROR_SUCCESS);

    /* CLOSE_SOURCE on a USE_VM_ALLOCATIONS snapshot frees the source. */
    CHECK_EQ(PssCaptureSnapshot(PSS_CURRENT_PROCESS,
                                PSS_CAPTURE_THREADS | PSS_CREATE_USE_VM_ALLOCATIONS, 0, &s),
             ERROR_SUCCESS);
    CHECK_EQ(PssDuplicateSnapshot(PSS_CURRENT_PROCESS, s, PSS_CURRENT_PROCESS, &d,
                                  PSS_DUPLICATE_CLOSE_SOURCE),
             ERROR_SUCCESS);
    /* A freed source is no longer registered: rejected without reading it. */
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_INVALID_HANDLE);
    TRY(count_class(d, PSS_WALK_THREADS, 120, &n_dup[3]));
    CHECK_EQ(n_dup[3], 1);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, d), ERROR_SUCCESS);
    return 0;
}

/* ---- UTF-8 -> UTF-16 ---- */

#include "../src/linux_ext.h"
#include "../src/pss_internal.h"

static int conv(const char *in, size_t n, const uint16_t *expect, size_t expect_n)
{
    uint16_t out[32];
    size_t got = pss_utf8_to_utf16_fixed(in, n, out, 32);
    CHECK_EQ(got, expect_n);
    for (size_t i = 0; i < expect_n; i++)
        CHECK_MSG(out[i] == expect[i], "unit %zu: 0x%04x != 0x%04x", i, out[i], expect[i]);
    CHECK_EQ(out[got], 0);
    return 0;
}

int test_utf16_conversion(void)
{
    TRY(conv("abc", 3, (const uint16_t[]){'a', 'b', 'c'}, 3));
    TRY(conv("\xc3\xa9", 2, (const uint16_t[]){0xE9}, 1));                 /* é */
    TRY(conv("\xe2\x82\xac", 3, (const uint16_t[]){0x20AC}, 1));           /* € */
    TRY(conv("\xf0\x9f\x98\x80", 4, (const uint16_t[]){0xD83D, 0xDE00}, 2)); /* U+1F600 */
    TRY(conv("a\xffz", 3, (const uint16_t[]){'a', 0xFFFD, 'z'}, 3));
    TRY(conv("\xc0\x80", 2, (const uint16_t[]){0xFFFD, 0xFFFD}, 2));       /* overlong NUL */
    TRY(conv("\xed\xa0\x80", 3, (const uint16_t[]){0xFFFD, 0xFFFD, 0xFFFD}, 3)); /* surrogate */
    TRY(conv("\xe2\x82", 2, (const uint16_t[]){0xFFFD, 0xFFFD}, 2));       /* truncated */
    TRY(conv("\xf4\x90\x80\x80", 4, (const uint16_t[]){0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD}, 4));
    /* Truncation never splits a surrogate pair. */
    uint16_t small[3];
    CHECK_EQ(pss_utf8_to_utf16_fixed("a\xf0\x9f\x98\x80", 5, small, 3), 1);
    CHECK_EQ(small[1], 0);

    /* Through a real handle: a file name that is not UTF-8. */
    char path[] = "/var/tmp/pss-test-\xff-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    unlink(path);
    HPSS s;
    HPSSWALK w;
    DWORD rc = PssCaptureSnapshot(PSS_CURRENT_PROCESS,
                                  PSS_CAPTURE_HANDLES | PSS_CAPTURE_HANDLE_NAME_INFORMATION, 0, &s);
    int open_now = test_count_open_fds();
    close(fd);
    CHECK_EQ(rc, ERROR_SUCCESS);
    CHECK_EQ(PssWalkMarkerCreate(NULL, &w), ERROR_SUCCESS);
    PSS_HANDLE_ENTRY h;
    int seen = 0, handles = 0;
    while (PssWalkSnapshot(s, PSS_WALK_HANDLES, w, &h, sizeof h) == ERROR_SUCCESS) {
        handles++;
        if ((int)(uintptr_t)h.Handle != fd)
            continue;
        seen = 1;
        CHECK(h.ObjectNameLength >= 2 * 19);
        CHECK_EQ(h.ObjectName[18], 0xFFFD); /* "/var/tmp/pss-test-" is 18 units */
        CHECK_EQ(h.ObjectName[19], '-');
    }
    /* A self-capture lists the process's fds, not the ones the capture itself held. */
    CHECK_EQ(handles, open_now);
    CHECK(seen);
    CHECK_EQ(PssWalkMarkerFree(w), ERROR_SUCCESS);
    CHECK_EQ(PssFreeSnapshot(PSS_CURRENT_PROCESS, s), ERROR_SUCCESS);
    return 0;
}

/* ---- the maps parser on synthetic text ---- */

static int write_maps(const char *dir, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/maps", dir);
    FILE *f = fopen(path, "we");
    CHECK(f != NULL);
    fputs(text, f);
    CHECK(fclose(f) == 0);
    return 0;
}

int test_maps_parser(void)
{
    char dir[] = "/var/tmp/pss-maps-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(dfd >= 0);
    int bad = write_maps(dir,
                         "00400000-00401000 r-xp 00000000 08:01 1234       /usr/bin/x y (deleted)\n"
                         "00401000-00402000 rw-s 00001000 fd:1a 99    /dev/shm/a\\012b\n"
                         /* repeated (maps is generated page by page): dropped */
                         "00401000-00402000 rw-s 00001000 fd:1a 99    /dev/shm/a\\012b\n"
                         "00401800-00403000 rw-p 00000000 00:00 0 \n"
                         "7ffc0000-7ffc1000 ---p 00000000 00:00 0\n"
                         "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]");
    struct pss_maps m;
    memset(&m, 0, sizeof m);
    DWORD rc = bad ? ERROR_GEN_FAILURE : pss_maps_read(dfd, &m);
    if (rc == ERROR_SUCCESS) {
        bad |= m.n != 4;
        bad |= m.vma[0].start != 0x400000 || m.vma[0].end != 0x401000 || !m.vma[0].x ||
               m.vma[0].w || m.vma[0].ino != 1234 || m.vma[0].dev_major != 8 ||
               m.vma[0].dev_minor != 1;
        bad |= m.vma[0].name_len != strlen("/usr/bin/x y (deleted)") ||
               memcmp(m.vma[0].name, "/usr/bin/x y (deleted)", m.vma[0].name_len) != 0;
        bad |= !m.vma[1].shared || m.vma[1].offset != 0x1000 || m.vma[1].dev_major != 0xfd ||
               m.vma[1].dev_minor != 0x1a;
        bad |= m.vma[2].start != 0x7ffc0000 || m.vma[2].r || m.vma[2].name_len != 0;
        bad |= m.vma[3].start != UINT64_C(0xffffffffff600000) || m.vma[3].name_len != 10;
        if (bad)
            test_fail(__FILE__, __LINE__, "parsed maps differ (%zu entries)", m.n);
    } else {
        test_fail(__FILE__, __LINE__, "pss_maps_read: %u", rc);
        bad = 1;
    }
    pss_maps_free(&m);
    /* Malformed text is ERROR_INVALID_DATA, not a crash. */
    static const char *const broken[] = {"zzzz-1000 r--p 0 0:0 0\n", "1000-2000 r--p\n",
                                         "2000-1000 r--p 00000000 00:00 0\n",
                                         "1000-2000 r--p 00000000 00:00\n"};
    for (size_t i = 0; !bad && i < sizeof broken / sizeof broken[0]; i++) {
        bad = write_maps(dir, broken[i]);
        memset(&m, 0, sizeof m);
        if (!bad && pss_maps_read(dfd, &m) != ERROR_INVALID_DATA) {
            test_fail(__FILE__, __LINE__, "broken line %zu accepted", i);
            bad = 1;
        }
        pss_maps_free(&m);
    }
    close(dfd);
    char path[256];
    snprintf(path, sizeof path, "%s/maps", dir);
    unlink(path);
    rmdir(dir);
    return bad;
}

/* /proc/PID/stat and status text (procdir.c), including the numbers libFuzzer found: a
 * negated INT64_MIN was undefined behaviour, digits beyond 64 bits wrapped silently. */
int test_stat_and_status_parsers(void)
{
    struct pss_stat st;
    const char *good = "42 (a) b) (c) S 1 42 42 0 -1 4194560 7 0 8 0 11 12 0 0 20 -5 3 0 "
                       "123 4096 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 2 0 0 0 "
                       "0 0 0 0 0 0 0 256"; /* field 52 (exit code) = 256 */
    CHECK_EQ(pss_parse_stat(good, strlen(good), &st), 0);
    CHECK_EQ(st.state, 'S');
    CHECK_EQ(st.ppid, 1);
    CHECK_EQ(st.minflt, 7u);
    CHECK_EQ(st.utime, 11u);
    CHECK_EQ(st.nice, -5);
    CHECK_EQ(st.num_threads, 3);
    CHECK_EQ(st.vsize, 4096u);
    CHECK_EQ(st.policy, 2u);
    CHECK_EQ(st.exit_code, 256);
    /* INT64_MIN is representable; one more is not, nor are 20+ digit numbers. */
    const char *min = "1 (x) R -9223372036854775808 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1";
    CHECK_EQ(pss_parse_stat(min, strlen(min), &st), 0);
    CHECK_EQ(st.ppid, INT64_MIN);
    const char *under = "1 (x) R -9223372036854775809 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1";
    CHECK_EQ(pss_parse_stat(under, strlen(under), &st), -EINVAL);
    const char *huge = "1 (x) R -200000000000000000000000000000000000000000000000000 1 1 1 1 1 1 "
                       "1 1 1 1 1 1 1 1 1 1 1 1";
    CHECK_EQ(pss_parse_stat(huge, strlen(huge), &st), -EINVAL);
    const char *wrap = "1 (x) R 1 1 1 1 1 1 1 1 1 1 18446744073709551616 1 1 1 1 1 1 1 1";
    CHECK_EQ(pss_parse_stat(wrap, strlen(wrap), &st), -EINVAL);
    /* Too few fields, no ')' at all, and nothing after it. */
    CHECK_EQ(pss_parse_stat("1 (x) R 1 2 3", 13, &st), -EINVAL);
    CHECK_EQ(pss_parse_stat("1 x R 1", 7, &st), -EINVAL);
    CHECK_EQ(pss_parse_stat("1 (x)", 5, &st), -EINVAL);

    uint64_t v = 0;
    CHECK(pss_status_field("Name:\tx\nUid:\t0\t0\nVmRSS:\t  1234 kB\n", "VmRSS", &v));
    CHECK_EQ(v, 1234u);
    CHECK(!pss_status_field("VmRSS:\t99999999999999999999999 kB\n", "VmRSS", &v));
    CHECK(!pss_status_field("VmRSSx:\t1\n", "VmRSS", &v));
    CHECK(!pss_status_field("", "Uid", &v));
    return 0;
}

/* pss_parse_i64, procdir.c's decimal parser, which the threads phase (task stat, status,
 * syscall) uses too since fuzz_tasks found its own copy negating INT64_MIN. */
int test_decimal_parser_bounds(void)
{
    static const struct {
        const char *text;
        bool ok;
        int64_t value;
        size_t used;
    } cases[] = {
        {"0", true, 0, 1},
        {"-1 ", true, -1, 2},
        {"42abc", true, 42, 2},
        {"9223372036854775807", true, INT64_MAX, 19},
        {"-9223372036854775808", true, INT64_MIN, 20},
        {"18446744073709551615", true, -1, 20}, /* above INT64_MAX: the bit pattern */
        {"-9223372036854775809", false, 0, 0},
        {"18446744073709551616", false, 0, 0},
        {"99999999999999999999999", false, 0, 0},
        {"-", false, 0, 0},
        {" 1", false, 0, 0}, /* callers skip blanks first */
        {"", false, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = cases[i].text, *end = p + strlen(p);
        int64_t v = 12345;
        CHECK_EQ(pss_parse_i64(&p, end, &v), cases[i].ok);
        CHECK_EQ(v, cases[i].ok ? cases[i].value : 12345);
        CHECK_EQ((size_t)(p - cases[i].text), cases[i].used);
    }
    return 0;
}

/* The modules phase's ELF reader (linux_ext_modules.c): a PT_LOAD whose page-rounded end
 * passes 2^64 once gave a span whose end was below its start (fuzz_elf,
 * regressions/elf/pt-load-span-wraps); now the file is not an image.  The same header with
 * the segment one page lower is one. */
int test_elf_span_never_wraps(void)
{
    struct one_load {
        Elf64_Ehdr h;
        Elf64_Phdr p;
    } img;
    memset(&img, 0, sizeof img);
    memcpy(img.h.e_ident, ELFMAG, SELFMAG);
    img.h.e_ident[EI_CLASS] = ELFCLASS64;
    img.h.e_type = ET_DYN;
    img.h.e_phoff = offsetof(struct one_load, p);
    img.h.e_phentsize = sizeof(Elf64_Phdr);
    img.h.e_phnum = 1;
    img.p.p_type = PT_LOAD;
    img.p.p_flags = PF_R | PF_X;
    img.p.p_vaddr = UINT64_MAX - 0x1fff; /* [2^64 - 8 KiB, +16 KiB): wraps */
    img.p.p_memsz = 0x4000;
    struct lx_elf e;
    lx_elf_parse_memory(&img, sizeof img, 4096, &e);
    CHECK(!e.ok);
    img.p.p_vaddr = UINT64_MAX - 0x5fff;
    lx_elf_parse_memory(&img, sizeof img, 4096, &e);
    CHECK(e.ok);
    CHECK(e.min_vaddr < e.max_vaddr);
    CHECK_EQ(e.max_vaddr, UINT64_MAX - 0x1fff); /* its end, page-rounded */
    return 0;
}
