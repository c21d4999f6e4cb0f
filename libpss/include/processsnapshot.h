/*
 * processsnapshot.h -- libpss: the Windows Process Snapshotting API (PSS) on Linux.
 *
 * This is the one public header of libpss.  It mirrors the Windows SDK header of the
 * same name: the same function names and argument order, the same enum values, and
 * structures with exactly the Windows x64 layout (every size and key offset is pinned
 * by _Static_assert below), so that a binding written for kernel32.dll (koffi, ctypes,
 * ...) can load libpss.so on Linux x86-64 with the same type declarations.
 *
 * Conventions
 *   - Fixed-width types only: DWORD is uint32_t, LONG is int32_t, BOOL is int32_t,
 *     WCHAR is uint16_t (never wchar_t, which is 4 bytes on Linux), ULONG_PTR is
 *     uint64_t, FILETIME is two uint32_t (alignment 4).
 *   - Functions use the normal SysV x86-64 calling convention (WINAPI is empty).  So
 *     do the PSS_ALLOCATOR callbacks.
 *   - Every function returns a Win32 error code; ERROR_SUCCESS (0) means success.
 *     errno and any "last error" are never part of the contract.  Out-parameters are
 *     last.  Nothing aborts or exits; every failure is a returned code.
 *   - No global mutable state: different snapshots and markers may be used from
 *     different threads at the same time.  One snapshot or marker must not be used
 *     by two threads at once (as on Windows).
 *   - Strings reachable from walk entries are UTF-16LE (converted from the raw bytes
 *     Linux reports; bytes that are not valid UTF-8 become U+FFFD, one per byte).
 *     Their length fields count BYTES and do not include the terminating NUL; libpss
 *     always stores a NUL after the text.
 *
 * Handles
 *   - A process HANDLE is either (HANDLE)-1 (PSS_CURRENT_PROCESS, the calling process,
 *     like GetCurrentProcess()) or a handle from PssLinuxOpenProcess.
 *   - HPSS and HPSSWALK are pointers to distinct opaque structures.  Each carries a
 *     magic value that is checked on entry and cleared when the object is freed, so
 *     NULL, (HANDLE)-1, a handle of the wrong kind, and (usually) an already freed
 *     handle are rejected with ERROR_INVALID_HANDLE.  Detecting a freed handle is
 *     best effort: it works while the freed block has not been handed out again by
 *     the allocator; after reuse the behaviour is undefined, exactly as on Windows.
 *
 * Permissions (see README.md for the full table)
 *   - Process information and threads need only a visible /proc/PID (world-readable
 *     files); fields that need more are filled with documented fallbacks.
 *   - Handles (PSS_CAPTURE_HANDLES) need read+search access to /proc/PID/fd: same uid
 *     as the target, or root (CAP_SYS_PTRACE + CAP_DAC_READ_SEARCH).
 *   - VA space (PSS_CAPTURE_VA_SPACE) needs /proc/PID/maps: same uid or CAP_SYS_PTRACE.
 *   - Thread contexts (PSS_CAPTURE_THREAD_CONTEXT) need ptrace attach rights.
 *   Denied access is ERROR_ACCESS_DENIED (5).
 */
#ifndef PSS_PROCESSSNAPSHOT_H
#define PSS_PROCESSSNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define PSS_API __attribute__((visibility("default")))
#else
#define PSS_API
#endif

#ifndef WINAPI
#define WINAPI /* SysV x86-64 on Linux; Windows x64 has a single convention anyway */
#endif

/* ------------------------------------------------------------------------------------
 * Windows base types, fixed width (Windows x64 / LLP64 sizes)
 * ---------------------------------------------------------------------------------- */

typedef uint32_t DWORD;
typedef uint32_t ULONG;
typedef uint32_t UINT;
typedef int32_t LONG;
typedef int32_t BOOL;
typedef uint16_t WORD;
typedef uint16_t WCHAR;
typedef uint8_t BYTE;
typedef uint64_t UINT64;
typedef uint64_t DWORD64;
typedef uint64_t ULONGLONG;
typedef int64_t LONGLONG;
typedef uint64_t ULONG_PTR;
typedef uint64_t SIZE_T;
typedef void *HANDLE;
typedef void *PVOID;

/* FILETIME: 100-ns intervals since 1601-01-01 UTC, as two 32-bit halves (align 4). */
typedef struct _FILETIME {
    DWORD dwLowDateTime;
    DWORD dwHighDateTime;
} FILETIME;

typedef union _LARGE_INTEGER {
    struct {
        DWORD LowPart;
        LONG HighPart;
    } u;
    LONGLONG QuadPart;
} LARGE_INTEGER;

typedef struct _MEMORY_BASIC_INFORMATION {
    PVOID BaseAddress;
    PVOID AllocationBase;
    DWORD AllocationProtect;
    WORD PartitionId; /* always 0 on Linux */
    SIZE_T RegionSize;
    DWORD State;
    DWORD Protect;
    DWORD Type;
} MEMORY_BASIC_INFORMATION;

/* Opaque handle types (DECLARE_HANDLE style: distinct pointer types). */
typedef struct HPSS__ *HPSS;
typedef struct HPSSWALK__ *HPSSWALK;

/* The calling process, like GetCurrentProcess(). */
#define PSS_CURRENT_PROCESS ((HANDLE)(intptr_t)-1)

/* ------------------------------------------------------------------------------------
 * Win32 error codes returned by libpss
 * ---------------------------------------------------------------------------------- */

#define ERROR_SUCCESS 0u
#define ERROR_TOO_MANY_OPEN_FILES 4u   /* EMFILE/ENFILE in the calling process */
#define ERROR_ACCESS_DENIED 5u         /* EACCES/EPERM reading /proc or attaching with ptrace */
#define ERROR_INVALID_HANDLE 6u        /* NULL, wrong kind, or freed HPSS/HPSSWALK/process handle */
#define ERROR_NOT_ENOUGH_MEMORY 8u     /* malloc or PSS_ALLOCATOR.AllocRoutine returned NULL */
#define ERROR_INVALID_DATA 13u         /* a /proc file could not be parsed */
#define ERROR_BAD_LENGTH 24u           /* BufferLength is not exactly sizeof the structure */
#define ERROR_GEN_FAILURE 31u          /* an unexpected system call failure (errno not mapped) */
#define ERROR_NOT_SUPPORTED 50u        /* feature that has no Linux implementation (see flags) */
#define ERROR_INVALID_PARAMETER 87u    /* bad argument, unknown class, reserved/unknown flag bits */
#define ERROR_MORE_DATA 234u           /* walk with Buffer == NULL and an entry available */
#define ERROR_NO_MORE_ITEMS 259u       /* the walk of this class is finished */
#define ERROR_PROCESS_ABORTED 1067u    /* the target was reaped (gone) during the capture */
#define ERROR_NOT_FOUND 1168u          /* the information class was not captured */
#define ERROR_TIMEOUT 1460u            /* a thread did not reach a ptrace stop within 2 s */

/* ------------------------------------------------------------------------------------
 * Constants used in the structures
 * ---------------------------------------------------------------------------------- */

#define STILL_ACTIVE 259u
#define MAX_PATH 260

#define MEM_COMMIT 0x00001000u
#define MEM_RESERVE 0x00002000u
#define MEM_FREE 0x00010000u
#define MEM_PRIVATE 0x00020000u
#define MEM_MAPPED 0x00040000u
#define MEM_IMAGE 0x01000000u

#define PAGE_NOACCESS 0x00000001u
#define PAGE_READONLY 0x00000002u
#define PAGE_READWRITE 0x00000004u
#define PAGE_WRITECOPY 0x00000008u
#define PAGE_EXECUTE 0x00000010u
#define PAGE_EXECUTE_READ 0x00000020u
#define PAGE_EXECUTE_READWRITE 0x00000040u
#define PAGE_EXECUTE_WRITECOPY 0x00000080u
#define PAGE_GUARD 0x00000100u       /* never produced on Linux */
#define PAGE_NOCACHE 0x00000200u     /* never produced on Linux */
#define PAGE_WRITECOMBINE 0x00000400u /* never produced on Linux */

#define NORMAL_PRIORITY_CLASS 0x00000020u
#define IDLE_PRIORITY_CLASS 0x00000040u
#define HIGH_PRIORITY_CLASS 0x00000080u
#define REALTIME_PRIORITY_CLASS 0x00000100u
#define BELOW_NORMAL_PRIORITY_CLASS 0x00004000u
#define ABOVE_NORMAL_PRIORITY_CLASS 0x00008000u

#define MEM_EXECUTE_OPTION_DISABLE 0x1u
#define MEM_EXECUTE_OPTION_ENABLE 0x2u
#define MEM_EXECUTE_OPTION_PERMANENT 0x8u

/* PSS_HANDLE_ENTRY.Attributes */
#define OBJ_INHERIT 0x00000002u

/* PSS_HANDLE_ENTRY.GrantedAccess values produced on Linux */
#define SYNCHRONIZE 0x00100000u
#define FILE_READ_ATTRIBUTES 0x00000080u
#define FILE_GENERIC_READ 0x00120089u
#define FILE_GENERIC_WRITE 0x00120116u
#define FILE_APPEND_DATA 0x00000004u
#define FILE_WRITE_DATA 0x00000002u
#define EVENT_ALL_ACCESS 0x001F0003u
#define SEMAPHORE_ALL_ACCESS 0x001F0003u
#define PROCESS_QUERY_LIMITED_INFORMATION 0x00001000u
#define THREAD_QUERY_LIMITED_INFORMATION 0x00000800u
#define SECTION_QUERY 0x00000001u
#define SECTION_MAP_WRITE 0x00000002u
#define SECTION_MAP_READ 0x00000004u

/* TypeSpecificInformation.Section.AllocationAttributes */
#define SEC_COMMIT 0x08000000u
#define SEC_LARGE_PAGES 0x80000000u

/* x64 CONTEXT.ContextFlags / PssCaptureSnapshot ThreadContextFlags */
#define CONTEXT_AMD64 0x00100000u
#define CONTEXT_CONTROL (CONTEXT_AMD64 | 0x00000001u)
#define CONTEXT_INTEGER (CONTEXT_AMD64 | 0x00000002u)
#define CONTEXT_SEGMENTS (CONTEXT_AMD64 | 0x00000004u)
#define CONTEXT_FLOATING_POINT (CONTEXT_AMD64 | 0x00000008u)
#define CONTEXT_DEBUG_REGISTERS (CONTEXT_AMD64 | 0x00000010u)
#define CONTEXT_FULL (CONTEXT_CONTROL | CONTEXT_INTEGER | CONTEXT_FLOATING_POINT)
#define CONTEXT_ALL                                                                      \
    (CONTEXT_CONTROL | CONTEXT_INTEGER | CONTEXT_SEGMENTS | CONTEXT_FLOATING_POINT |      \
     CONTEXT_DEBUG_REGISTERS)
#define CONTEXT_XSTATE (CONTEXT_AMD64 | 0x00000040u) /* not supported: ERROR_NOT_SUPPORTED */

/* Resolution of the ...WallClockPeriod counters: ticks per second (microseconds). */
#define PSS_PERF_RESOLUTION 1000000u

/* ------------------------------------------------------------------------------------
 * Enumerations (passed and stored as 32-bit integers)
 * ---------------------------------------------------------------------------------- */

/*
 * PSS_CAPTURE_FLAGS -- what PssCaptureSnapshot does on Linux:
 *
 *   Honoured
 *     PSS_CAPTURE_NONE                 process information only (always captured)
 *     PSS_CAPTURE_HANDLES              one entry per /proc/PID/fd entry; Handle = fd number;
 *                                      ObjectType and TypeName are always filled
 *                                      (PSS_HANDLE_HAVE_TYPE)
 *     PSS_CAPTURE_HANDLE_NAME_INFORMATION   ObjectName = readlink text
 *     PSS_CAPTURE_HANDLE_BASIC_INFORMATION  Attributes, GrantedAccess, HandleCount,
 *                                      PointerCount, CreationTime (from fdinfo + statx)
 *     PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION  Process/Thread (pidfd), Event and
 *                                      Semaphore (eventfd), Section (memfd, tmpfs, shm)
 *     PSS_CAPTURE_THREADS              one entry per /proc/PID/task/TID
 *     PSS_CAPTURE_THREAD_CONTEXT       x64 CONTEXT of each thread via ptrace (implies
 *                                      PSS_CAPTURE_THREADS); the whole capture then runs
 *                                      with every thread ptrace-stopped
 *                                      (ThreadContextFlags must contain CONTEXT_AMD64; any
 *                                      bits outside CONTEXT_ALL -> ERROR_INVALID_PARAMETER,
 *                                      CONTEXT_XSTATE -> ERROR_NOT_SUPPORTED).  Capturing
 *                                      the calling process itself -> ERROR_NOT_SUPPORTED
 *                                      (a process cannot ptrace its own threads).
 *     PSS_CAPTURE_VA_SPACE             one entry per /proc/PID/maps line plus MEM_FREE gaps
 *     PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION  MappedFileName and the image fields
 *     PSS_CREATE_MEASURE_PERFORMANCE   PSS_PERFORMANCE_COUNTERS (rdtsc cycles, CLOCK_MONOTONIC
 *                                      wall time in microseconds = PSS_PERF_RESOLUTION)
 *
 *   Not supported -> ERROR_NOT_SUPPORTED (50)
 *     PSS_CAPTURE_VA_CLONE, PSS_CAPTURE_HANDLE_TRACE, PSS_CAPTURE_IPT_TRACE,
 *     PSS_CAPTURE_THREAD_CONTEXT_EXTENDED
 *
 *   Rejected -> ERROR_INVALID_PARAMETER (87)
 *     PSS_CAPTURE_RESERVED_00000002, PSS_CAPTURE_RESERVED_00000400,
 *     PSS_CAPTURE_RESERVED_00004000, and every unnamed bit (0x00008000-0x02000000)
 *
 *   Accepted and ignored (they only describe the VA clone, which libpss never makes)
 *     PSS_CREATE_BREAKAWAY_OPTIONAL, PSS_CREATE_BREAKAWAY, PSS_CREATE_FORCE_BREAKAWAY,
 *     PSS_CREATE_RELEASE_SECTION
 *
 *   Accepted and recorded
 *     PSS_CREATE_USE_VM_ALLOCATIONS    libpss allocates the snapshot with malloc either
 *                                      way (there is no separate "process heap" to avoid);
 *                                      the flag is remembered only because it is the
 *                                      documented precondition of PSS_DUPLICATE_CLOSE_SOURCE.
 *
 * Checks are made in this order: SnapshotHandle NULL, reserved/unknown bits, unsupported
 * features, ThreadContextFlags, the process handle, THREAD_CONTEXT on the caller itself.
 */
typedef uint32_t PSS_CAPTURE_FLAGS;
#define PSS_CAPTURE_NONE 0x00000000u
#define PSS_CAPTURE_VA_CLONE 0x00000001u
#define PSS_CAPTURE_RESERVED_00000002 0x00000002u
#define PSS_CAPTURE_HANDLES 0x00000004u
#define PSS_CAPTURE_HANDLE_NAME_INFORMATION 0x00000008u
#define PSS_CAPTURE_HANDLE_BASIC_INFORMATION 0x00000010u
#define PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION 0x00000020u
#define PSS_CAPTURE_HANDLE_TRACE 0x00000040u
#define PSS_CAPTURE_THREADS 0x00000080u
#define PSS_CAPTURE_THREAD_CONTEXT 0x00000100u
#define PSS_CAPTURE_THREAD_CONTEXT_EXTENDED 0x00000200u
#define PSS_CAPTURE_RESERVED_00000400 0x00000400u
#define PSS_CAPTURE_VA_SPACE 0x00000800u
#define PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION 0x00001000u
#define PSS_CAPTURE_IPT_TRACE 0x00002000u
#define PSS_CAPTURE_RESERVED_00004000 0x00004000u
#define PSS_CREATE_BREAKAWAY_OPTIONAL 0x04000000u
#define PSS_CREATE_BREAKAWAY 0x08000000u
#define PSS_CREATE_FORCE_BREAKAWAY 0x10000000u
#define PSS_CREATE_USE_VM_ALLOCATIONS 0x20000000u
#define PSS_CREATE_MEASURE_PERFORMANCE 0x40000000u
#define PSS_CREATE_RELEASE_SECTION 0x80000000u

typedef int32_t PSS_QUERY_INFORMATION_CLASS;
#define PSS_QUERY_PROCESS_INFORMATION 0
#define PSS_QUERY_VA_CLONE_INFORMATION 1
#define PSS_QUERY_AUXILIARY_PAGES_INFORMATION 2
#define PSS_QUERY_VA_SPACE_INFORMATION 3
#define PSS_QUERY_HANDLE_INFORMATION 4
#define PSS_QUERY_THREAD_INFORMATION 5
#define PSS_QUERY_HANDLE_TRACE_INFORMATION 6
#define PSS_QUERY_PERFORMANCE_COUNTERS 7

typedef int32_t PSS_WALK_INFORMATION_CLASS;
#define PSS_WALK_AUXILIARY_PAGES 0
#define PSS_WALK_VA_SPACE 1
#define PSS_WALK_HANDLES 2
#define PSS_WALK_THREADS 3
#define PSS_WALK_THREAD_NAME 4 /* always ERROR_INVALID_PARAMETER, as on real Windows */

typedef uint32_t PSS_DUPLICATE_FLAGS;
#define PSS_DUPLICATE_NONE 0x00u
#define PSS_DUPLICATE_CLOSE_SOURCE 0x01u

typedef uint32_t PSS_PROCESS_FLAGS;
#define PSS_PROCESS_FLAGS_NONE 0x00000000u
#define PSS_PROCESS_FLAGS_PROTECTED 0x00000001u
#define PSS_PROCESS_FLAGS_WOW64 0x00000002u
#define PSS_PROCESS_FLAGS_RESERVED_03 0x00000004u
#define PSS_PROCESS_FLAGS_RESERVED_04 0x00000008u
#define PSS_PROCESS_FLAGS_FROZEN 0x00000010u

typedef uint32_t PSS_THREAD_FLAGS;
#define PSS_THREAD_FLAGS_NONE 0x0000u
#define PSS_THREAD_FLAGS_TERMINATED 0x0001u

typedef uint32_t PSS_HANDLE_FLAGS;
#define PSS_HANDLE_NONE 0x00u
#define PSS_HANDLE_HAVE_TYPE 0x01u
#define PSS_HANDLE_HAVE_NAME 0x02u
#define PSS_HANDLE_HAVE_BASIC_INFORMATION 0x04u
#define PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION 0x08u

typedef int32_t PSS_OBJECT_TYPE;
#define PSS_OBJECT_TYPE_UNKNOWN 0
#define PSS_OBJECT_TYPE_PROCESS 1
#define PSS_OBJECT_TYPE_THREAD 2
#define PSS_OBJECT_TYPE_MUTANT 3 /* never produced: Linux has no fd-based mutex */
#define PSS_OBJECT_TYPE_EVENT 4
#define PSS_OBJECT_TYPE_SECTION 5
#define PSS_OBJECT_TYPE_SEMAPHORE 6

/* ------------------------------------------------------------------------------------
 * Allocator for walk markers
 * ---------------------------------------------------------------------------------- */

/*
 * PSS_ALLOCATOR -- how libpss uses it (the structure is kept by pointer, NOT copied: it
 * must stay valid until PssWalkMarkerFree returns):
 *
 *   PssWalkMarkerCreate  AllocRoutine(Context, sizeof marker) for the marker itself.
 *   PssWalkSnapshot      AllocRoutine for: the per-class walk state, once per class, on
 *                        the first call for that class that passes argument validation;
 *                        one block per string an entry points to (TypeName, ObjectName,
 *                        MappedFileName: byte length + 2 for the NUL) and one block per
 *                        ContextRecord (sizeof(CONTEXT)); the table that tracks those
 *                        blocks (grown by allocate-new, copy, free-old).  If any call
 *                        fails, everything allocated by that PssWalkSnapshot call is
 *                        released again, the marker is not advanced, and the call returns
 *                        ERROR_NOT_ENOUGH_MEMORY; the marker stays fully usable.
 *   PssWalkMarkerFree    FreeRoutine for every block above, then for the marker.  It
 *                        calls FreeRoutine once for each of the four per-class state slots
 *                        (classes 0..3) and once for the tracking table, passing NULL for
 *                        a slot or table that was never allocated: FreeRoutine must accept
 *                        NULL (as the Windows contract requires).
 *   Set/GetPosition, SeekToBeginning never call the routines.
 *
 * The routines are only ever called synchronously, on the calling thread, from inside
 * PssWalkMarkerCreate, PssWalkSnapshot and PssWalkMarkerFree.  Allocator == NULL means
 * malloc/free.  Blocks need no particular alignment for libpss (it copies with memcpy);
 * a CONTEXT is only 16-byte aligned if AllocRoutine returns 16-byte aligned memory.
 */
typedef struct PSS_ALLOCATOR {
    void *Context;
    void *(WINAPI *AllocRoutine)(void *Context, DWORD Size);
    void(WINAPI *FreeRoutine)(void *Context, void *Address);
} PSS_ALLOCATOR;

/* ------------------------------------------------------------------------------------
 * Query structures
 * ---------------------------------------------------------------------------------- */

/*
 * PSS_PROCESS_INFORMATION -- always captured.  On Linux:
 *   ExitStatus        STILL_ACTIVE; for a zombie the exit code (WEXITSTATUS, or 128+signal)
 *   PebBaseAddress    start of the main stack's initial process block (stat start_stack);
 *                     0 without ptrace-read access
 *   AffinityMask      sched_getaffinity of the main thread, CPUs 0..63
 *   BasePriority      from policy/nice (README "Priority mapping")
 *   ParentProcessId   stat ppid (0 if the parent is outside our PID namespace)
 *   Flags             PROTECTED if the target is non-dumpable or /proc/PID/exe is denied;
 *                     WOW64 if the executable is ELFCLASS32; FROZEN if every thread was in
 *                     a job-control or tracing stop (T/t) before libpss looked
 *   CreateTime        boot time (CLOCK_REALTIME - CLOCK_BOOTTIME) + stat starttime
 *   ExitTime          0 (not exported by Linux)
 *   KernelTime/UserTime  stat stime/utime (10 ms resolution at CLK_TCK=100)
 *   PeakVirtualSize, VirtualSize, PeakWorkingSetSize, WorkingSetSize  status VmPeak,
 *                     VmSize, VmHWM, VmRSS
 *   PageFaultCount    stat minflt + majflt
 *   QuotaPagedPoolUsage, QuotaPeakPagedPoolUsage  0
 *   QuotaNonPagedPoolUsage, QuotaPeakNonPagedPoolUsage  VmPTE + 16 KiB per thread
 *   PagefileUsage, PeakPagefileUsage, PrivateUsage  VmData + VmStk (no peak on Linux)
 *   ExecuteFlags      MEM_EXECUTE_OPTION_ENABLE if personality has READ_IMPLIES_EXEC, else
 *                     MEM_EXECUTE_OPTION_DISABLE | MEM_EXECUTE_OPTION_PERMANENT
 *   ImageFileName     readlink /proc/PID/exe (else argv[0], else comm), UTF-16, NUL
 *                     terminated, truncated to 259 characters
 */
typedef struct PSS_PROCESS_INFORMATION {
    DWORD ExitStatus;
    void *PebBaseAddress;
    ULONG_PTR AffinityMask;
    LONG BasePriority;
    DWORD ProcessId;
    DWORD ParentProcessId;
    PSS_PROCESS_FLAGS Flags;
    FILETIME CreateTime;
    FILETIME ExitTime;
    FILETIME KernelTime;
    FILETIME UserTime;
    DWORD PriorityClass;
    ULONG_PTR PeakVirtualSize;
    ULONG_PTR VirtualSize;
    DWORD PageFaultCount;
    ULONG_PTR PeakWorkingSetSize;
    ULONG_PTR WorkingSetSize;
    ULONG_PTR QuotaPeakPagedPoolUsage;
    ULONG_PTR QuotaPagedPoolUsage;
    ULONG_PTR QuotaPeakNonPagedPoolUsage;
    ULONG_PTR QuotaNonPagedPoolUsage;
    ULONG_PTR PagefileUsage;
    ULONG_PTR PeakPagefileUsage;
    ULONG_PTR PrivateUsage;
    DWORD ExecuteFlags;
    WCHAR ImageFileName[MAX_PATH];
} PSS_PROCESS_INFORMATION;

/* Never captured on Linux: PssQuerySnapshot returns ERROR_NOT_FOUND. */
typedef struct PSS_VA_CLONE_INFORMATION {
    HANDLE VaCloneHandle;
} PSS_VA_CLONE_INFORMATION;

/* libpss never captures auxiliary pages: AuxPagesCaptured is always 0 and the
 * PSS_WALK_AUXILIARY_PAGES walk ends at once with ERROR_NO_MORE_ITEMS. */
typedef struct PSS_AUXILIARY_PAGES_INFORMATION {
    DWORD AuxPagesCaptured;
} PSS_AUXILIARY_PAGES_INFORMATION;

/* RegionCount includes the MEM_FREE entries. */
typedef struct PSS_VA_SPACE_INFORMATION {
    DWORD RegionCount;
} PSS_VA_SPACE_INFORMATION;

typedef struct PSS_HANDLE_INFORMATION {
    DWORD HandlesCaptured;
} PSS_HANDLE_INFORMATION;

/* ContextLength is sizeof(CONTEXT) (1232) when contexts were captured, else 0. */
typedef struct PSS_THREAD_INFORMATION {
    DWORD ThreadsCaptured;
    DWORD ContextLength;
} PSS_THREAD_INFORMATION;

/* Never captured on Linux: PssQuerySnapshot returns ERROR_NOT_FOUND. */
typedef struct PSS_HANDLE_TRACE_INFORMATION {
    HANDLE SectionHandle;
    DWORD Size;
} PSS_HANDLE_TRACE_INFORMATION;

/*
 * Captured with PSS_CREATE_MEASURE_PERFORMANCE.  CycleCount fields are rdtsc deltas
 * (constant-rate TSC cycles, i.e. wall-clock cycles, not per-thread CPU cycles);
 * WallClockPeriod fields are CLOCK_MONOTONIC deltas in MICROSECONDS (units of
 * 1/PSS_PERF_RESOLUTION s; the SDK constant and sample agree on microseconds, one
 * Learn page says 100 ns).  VaClone and AuxPages phases are always 0; the Threads
 * phase includes the ptrace freeze and register reads.
 */
typedef struct PSS_PERFORMANCE_COUNTERS {
    UINT64 TotalCycleCount;
    UINT64 TotalWallClockPeriod;
    UINT64 VaCloneCycleCount;
    UINT64 VaCloneWallClockPeriod;
    UINT64 VaSpaceCycleCount;
    UINT64 VaSpaceWallClockPeriod;
    UINT64 AuxPagesCycleCount;
    UINT64 AuxPagesWallClockPeriod;
    UINT64 HandlesCycleCount;
    UINT64 HandlesWallClockPeriod;
    UINT64 ThreadsCycleCount;
    UINT64 ThreadsWallClockPeriod;
} PSS_PERFORMANCE_COUNTERS;

/* ------------------------------------------------------------------------------------
 * Walk entries
 * ---------------------------------------------------------------------------------- */

/* Never produced by libpss (see PSS_AUXILIARY_PAGES_INFORMATION). */
typedef struct PSS_AUXILIARY_PAGE_ENTRY {
    void *Address;
    MEMORY_BASIC_INFORMATION BasicInformation;
    FILETIME CaptureTime;
    void *PageContents;
    DWORD PageSize;
} PSS_AUXILIARY_PAGE_ENTRY;

/*
 * PSS_VA_SPACE_ENTRY -- one per /proc/PID/maps line (two for a VMA that crosses an image
 * end, see Type), in address order, plus one MEM_FREE
 * entry per gap between /proc/sys/vm/mmap_min_addr and 0x7ffffffff000 (the top of the
 * 47-bit user range; 0x00fffffffffff000 if a mapping lies above it).  Lines whose start
 * is below the previous end (maps is not atomic) are dropped.  [vsyscall] comes last.
 *
 *   State      MEM_RESERVE for anonymous "---p" (guard pages, PROT_NONE reservations),
 *              MEM_FREE for gaps, MEM_COMMIT otherwise.
 *   Protect    ---  NOACCESS | r-- READONLY | rw-, -w- READWRITE (WRITECOPY if private
 *              and file-backed) | --x EXECUTE | r-x EXECUTE_READ | rwx, -wx
 *              EXECUTE_READWRITE (EXECUTE_WRITECOPY if private and file-backed).
 *              MEM_FREE: PAGE_NOACCESS.
 *   AllocationProtect  Protect of the first VMA of the allocation (see AllocationBase).
 *   AllocationBase     images: the load base (the VMA that maps file offset 0); other
 *              file mappings: first VMA of an address- and offset-contiguous run of the
 *              same file; anonymous memory: the VMA itself (Linux merges adjacent
 *              anonymous mmaps, so original allocation boundaries are lost); MEM_FREE: 0.
 *   Type       MEM_IMAGE for the VMAs of a loaded ELF image (ET_EXEC/ET_DYN whose first
 *              executable PT_LOAD is mapped executable at its offset from the load base)
 *              including its anonymous .bss tail, and [vdso] (a VMA crossing the image
 *              end -- anonymous memory the kernel merged into .bss -- is split there, the
 *              part past it is MEM_PRIVATE); MEM_MAPPED for all other
 *              file-backed VMAs (data-mapped ELF files, memfd, /dev/shm, SysV shm,
 *              shared anonymous memory, devices) and [vvar], [vvar_vclock], [vsyscall];
 *              MEM_PRIVATE for private anonymous memory ([heap], [stack], unnamed);
 *              0 for MEM_FREE.
 *   With PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION only (else 0/NULL):
 *   MappedFileName  the maps path column as the kernel prints it (a newline in a path
 *              appears as "\012"; deleted files end in " (deleted)"); on Linux also set
 *              for kernel-named private regions ([heap], [stack], [anon:NAME]).
 *   ImageBase  MEM_IMAGE only: preferred base = lowest PT_LOAD p_vaddr (0 for PIE/DSO).
 *   SizeOfImage  MEM_IMAGE only: page_up(max p_vaddr+p_memsz) - page_down(min p_vaddr).
 *   CheckSum   MEM_IMAGE only: first 4 bytes of the GNU build-id (little-endian DWORD).
 *   TimeDateStamp  MEM_IMAGE only: low 32 bits of the file's st_mtime (0 for [vdso]).
 */
typedef struct PSS_VA_SPACE_ENTRY {
    void *BaseAddress;
    void *AllocationBase;
    DWORD AllocationProtect;
    ULONG_PTR RegionSize;
    DWORD State;
    DWORD Protect;
    DWORD Type;
    DWORD TimeDateStamp;
    DWORD SizeOfImage;
    void *ImageBase;
    DWORD CheckSum;
    WORD MappedFileNameLength;
    WCHAR const *MappedFileName;
} PSS_VA_SPACE_ENTRY;

/*
 * PSS_HANDLE_ENTRY -- one per /proc/PID/fd entry (fds that vanish during the capture are
 * skipped; every entry describes one object as it was during one complete read -- an fd
 * re-pointed between reads is read again, see libpss/README.md).  On Linux:
 *   Handle           the fd number
 *   ObjectType       EVENT (eventfd), SEMAPHORE (eventfd in semaphore mode), PROCESS
 *                    (pidfd), THREAD (PIDFD_THREAD pidfd), SECTION (memfd, /dev/shm and
 *                    other tmpfs/hugetlbfs regular files), UNKNOWN for everything else
 *   TypeName         "EventFd", "PidFd", "MemFd", "Shm", "Section", "File", "Directory",
 *                    "Device", "Pipe", "Socket/<proto>" (system.sockprotoname, e.g.
 *                    "Socket/UNIX-STREAM", "Socket/TCP"), "Epoll", "Timer", "SignalFd",
 *                    "Inotify", "Fanotify", "UserFaultFd", "MessageQueue", "Namespace",
 *                    "AnonInode/<name>" for other anon inodes, "Unknown"
 *   ObjectName       readlink text (HANDLE_NAME_INFORMATION); a path longer than 4,095
 *                    bytes (which readlink cannot return): a directory's path rebuilt
 *                    through "..", nothing (no PSS_HANDLE_HAVE_NAME) for other files
 *   Attributes       OBJ_INHERIT unless the fd is close-on-exec (BASIC_INFORMATION)
 *   GrantedAccess    from the open mode: read FILE_GENERIC_READ, write FILE_GENERIC_WRITE
 *                    (FILE_APPEND_DATA instead of FILE_WRITE_DATA with O_APPEND), both
 *                    OR-ed, O_PATH FILE_READ_ATTRIBUTES|SYNCHRONIZE, eventfd
 *                    EVENT_ALL_ACCESS/SEMAPHORE_ALL_ACCESS, pidfd
 *                    PROCESS_QUERY_LIMITED_INFORMATION|SYNCHRONIZE, sections
 *                    SECTION_QUERY|SECTION_MAP_READ (+SECTION_MAP_WRITE if writable)
 *   HandleCount      number of fds of the target that share this open file description
 *                    (grouped by immutable description facts, confirmed with kcmp or an
 *                    epoll membership test; 1 if neither is permitted)
 *   PointerCount     = HandleCount;  PagedPoolCharge, NonPagedPoolCharge  0
 *   CreationTime     statx btime of the inode if non-zero, else ctime if non-zero,
 *                    else 0 = unknown (sockets); pidfd: the process start time; anon
 *                    inodes: 0
 *   TypeSpecificInformation (HANDLE_TYPE_SPECIFIC_INFORMATION):
 *     Process   the pidfd's process, like PSS_PROCESS_INFORMATION (ExitStatus 0 and
 *               ProcessId 0 if it has been reaped)
 *     Thread    ProcessId/ThreadId/AffinityMask/priorities; TebBaseAddress and
 *               Win32StartAddress 0
 *     Event     ManualReset FALSE (a read consumes the counter), Signaled = counter != 0
 *     Semaphore CurrentCount = counter (clipped to LONG), MaximumCount 0x7FFFFFFF
 *     Section   BaseAddress = first mapping of the same inode in the target (else 0),
 *               AllocationAttributes SEC_COMMIT (| SEC_LARGE_PAGES on hugetlbfs),
 *               MaximumSize = file size
 */
typedef struct PSS_HANDLE_ENTRY {
    HANDLE Handle;
    PSS_HANDLE_FLAGS Flags;
    PSS_OBJECT_TYPE ObjectType;
    FILETIME CaptureTime;
    DWORD Attributes;
    DWORD GrantedAccess;
    DWORD HandleCount;
    DWORD PointerCount;
    DWORD PagedPoolCharge;
    DWORD NonPagedPoolCharge;
    FILETIME CreationTime;
    WORD TypeNameLength;
    WCHAR const *TypeName;
    WORD ObjectNameLength;
    WCHAR const *ObjectName;
    union {
        struct {
            DWORD ExitStatus;
            void *PebBaseAddress;
            ULONG_PTR AffinityMask;
            LONG BasePriority;
            DWORD ProcessId;
            DWORD ParentProcessId;
            DWORD Flags;
        } Process;
        struct {
            DWORD ExitStatus;
            void *TebBaseAddress;
            DWORD ProcessId;
            DWORD ThreadId;
            ULONG_PTR AffinityMask;
            int32_t Priority;
            int32_t BasePriority;
            void *Win32StartAddress;
        } Thread;
        struct {
            LONG CurrentCount;
            BOOL Abandoned;
            DWORD OwnerProcessId;
            DWORD OwnerThreadId;
        } Mutant;
        struct {
            BOOL ManualReset;
            BOOL Signaled;
        } Event;
        struct {
            void *BaseAddress;
            DWORD AllocationAttributes;
            LARGE_INTEGER MaximumSize;
        } Section;
        struct {
            LONG CurrentCount;
            LONG MaximumCount;
        } Semaphore;
    } TypeSpecificInformation;
} PSS_HANDLE_ENTRY;

/*
 * PSS_THREAD_ENTRY -- one per /proc/PID/task/TID.  On Linux:
 *   ExitStatus       STILL_ACTIVE, or the exit code of a zombie thread
 *   TebBaseAddress   fs_base (glibc's struct pthread) -- only with THREAD_CONTEXT, else 0
 *   AffinityMask     sched_getaffinity(TID) (Linux affinity is per thread)
 *   Priority         class base + (process nice - thread nice) clamped to +-2; real-time
 *                    threads 16 + rt_priority*15/99
 *   BasePriority     the process base priority
 *   LastSyscallNumber/LastSyscallFirstArgument  Linux x86-64 syscall number (orig_rax) and
 *                    rdi at the ptrace stop, only with THREAD_CONTEXT and only if the thread
 *                    was inside a system call; else 0
 *   CreateTime, KernelTime, UserTime  task stat starttime/stime/utime; ExitTime 0
 *   Win32StartAddress  0 (glibc keeps start_routine in private TCB fields)
 *   Flags            PSS_THREAD_FLAGS_TERMINATED for a zombie/dead thread (state Z/X)
 *   SuspendCount     1 if the thread was in a job-control stop (T) or traced by another
 *                    tracer (t) before libpss looked, else 0 (libpss's own freeze is not
 *                    counted)
 *   SizeOfContextRecord/ContextRecord  sizeof(CONTEXT) and a copy owned by the walk
 *                    marker, with THREAD_CONTEXT; 0/NULL for a thread that exited or was
 *                    traced by someone else
 */
typedef struct PSS_THREAD_ENTRY {
    DWORD ExitStatus;
    void *TebBaseAddress;
    DWORD ProcessId;
    DWORD ThreadId;
    ULONG_PTR AffinityMask;
    int32_t Priority;
    int32_t BasePriority;
    void *LastSyscallFirstArgument;
    WORD LastSyscallNumber;
    FILETIME CreateTime;
    FILETIME ExitTime;
    FILETIME KernelTime;
    FILETIME UserTime;
    void *Win32StartAddress;
    FILETIME CaptureTime;
    PSS_THREAD_FLAGS Flags;
    WORD SuspendCount;
    WORD SizeOfContextRecord;
    struct _CONTEXT *ContextRecord;
} PSS_THREAD_ENTRY;

/* Declared for completeness; PSS_WALK_THREAD_NAME is rejected (ERROR_INVALID_PARAMETER). */
typedef struct PSS_THREAD_NAME {
    WORD ThreadNameSize;
    WCHAR const *ThreadName;
} PSS_THREAD_NAME;

/* ------------------------------------------------------------------------------------
 * x64 CONTEXT (1232 bytes, 16-byte aligned), identical to the Windows SDK layout.
 * On Linux it is filled from PTRACE_GETREGS/GETFPREGS/PEEKUSER according to
 * ContextFlags: CONTROL (SegCs, SegSs, EFlags, Rsp, Rip), INTEGER (the other GPRs),
 * SEGMENTS (SegDs/Es/Fs/Gs selectors; fs_base is in PSS_THREAD_ENTRY.TebBaseAddress),
 * FLOATING_POINT (FltSave = the FXSAVE image, MxCsr), DEBUG_REGISTERS (Dr0-3, Dr6, Dr7).
 * P1Home..P6Home, VectorRegister, VectorControl, DebugControl and the LastBranch/
 * LastException fields are 0.
 * ---------------------------------------------------------------------------------- */

typedef struct _M128A {
    ULONGLONG Low;
    LONGLONG High;
} __attribute__((aligned(16))) M128A;

typedef struct _XSAVE_FORMAT {
    WORD ControlWord;
    WORD StatusWord;
    BYTE TagWord;
    BYTE Reserved1;
    WORD ErrorOpcode;
    DWORD ErrorOffset;
    WORD ErrorSelector;
    WORD Reserved2;
    DWORD DataOffset;
    WORD DataSelector;
    WORD Reserved3;
    DWORD MxCsr;
    DWORD MxCsr_Mask;
    M128A FloatRegisters[8];
    M128A XmmRegisters[16];
    BYTE Reserved4[96];
} __attribute__((aligned(16))) XSAVE_FORMAT, XMM_SAVE_AREA32;

typedef struct _CONTEXT {
    DWORD64 P1Home;
    DWORD64 P2Home;
    DWORD64 P3Home;
    DWORD64 P4Home;
    DWORD64 P5Home;
    DWORD64 P6Home;
    DWORD ContextFlags;
    DWORD MxCsr;
    WORD SegCs;
    WORD SegDs;
    WORD SegEs;
    WORD SegFs;
    WORD SegGs;
    WORD SegSs;
    DWORD EFlags;
    DWORD64 Dr0;
    DWORD64 Dr1;
    DWORD64 Dr2;
    DWORD64 Dr3;
    DWORD64 Dr6;
    DWORD64 Dr7;
    DWORD64 Rax;
    DWORD64 Rcx;
    DWORD64 Rdx;
    DWORD64 Rbx;
    DWORD64 Rsp;
    DWORD64 Rbp;
    DWORD64 Rsi;
    DWORD64 Rdi;
    DWORD64 R8;
    DWORD64 R9;
    DWORD64 R10;
    DWORD64 R11;
    DWORD64 R12;
    DWORD64 R13;
    DWORD64 R14;
    DWORD64 R15;
    DWORD64 Rip;
    union {
        XMM_SAVE_AREA32 FltSave;
        struct {
            M128A Header[2];
            M128A Legacy[8];
            M128A Xmm0, Xmm1, Xmm2, Xmm3, Xmm4, Xmm5, Xmm6, Xmm7;
            M128A Xmm8, Xmm9, Xmm10, Xmm11, Xmm12, Xmm13, Xmm14, Xmm15;
        };
    };
    M128A VectorRegister[26];
    DWORD64 VectorControl;
    DWORD64 DebugControl;
    DWORD64 LastBranchToRip;
    DWORD64 LastBranchFromRip;
    DWORD64 LastExceptionToRip;
    DWORD64 LastExceptionFromRip;
} __attribute__((aligned(16))) CONTEXT, *PCONTEXT;

/* ------------------------------------------------------------------------------------
 * Layout checks (Windows x64 numbers, see pss-api.md section 5)
 * ---------------------------------------------------------------------------------- */

#if !defined(__cplusplus)
#define PSS_ASSERT_(cond, msg) _Static_assert(cond, msg)
PSS_ASSERT_(sizeof(FILETIME) == 8 && _Alignof(FILETIME) == 4, "FILETIME");
PSS_ASSERT_(sizeof(LARGE_INTEGER) == 8 && _Alignof(LARGE_INTEGER) == 8, "LARGE_INTEGER");
PSS_ASSERT_(sizeof(MEMORY_BASIC_INFORMATION) == 48, "MEMORY_BASIC_INFORMATION");
PSS_ASSERT_(offsetof(MEMORY_BASIC_INFORMATION, PartitionId) == 20, "MBI.PartitionId");
PSS_ASSERT_(offsetof(MEMORY_BASIC_INFORMATION, RegionSize) == 24, "MBI.RegionSize");
PSS_ASSERT_(offsetof(MEMORY_BASIC_INFORMATION, Type) == 40, "MBI.Type");
PSS_ASSERT_(sizeof(PSS_ALLOCATOR) == 24, "PSS_ALLOCATOR");
PSS_ASSERT_(offsetof(PSS_ALLOCATOR, FreeRoutine) == 16, "PSS_ALLOCATOR.FreeRoutine");
PSS_ASSERT_(sizeof(PSS_PROCESS_INFORMATION) == 704, "PSS_PROCESS_INFORMATION");
PSS_ASSERT_(offsetof(PSS_PROCESS_INFORMATION, PebBaseAddress) == 8, "PI.PebBaseAddress");
PSS_ASSERT_(offsetof(PSS_PROCESS_INFORMATION, CreateTime) == 40, "PI.CreateTime");
PSS_ASSERT_(offsetof(PSS_PROCESS_INFORMATION, PriorityClass) == 72, "PI.PriorityClass");
PSS_ASSERT_(offsetof(PSS_PROCESS_INFORMATION, PeakVirtualSize) == 80, "PI.PeakVirtualSize");
PSS_ASSERT_(offsetof(PSS_PROCESS_INFORMATION, PageFaultCount) == 96, "PI.PageFaultCount");
PSS_ASSERT_(offsetof(PSS_PROCESS_INFORMATION, PeakWorkingSetSize) == 104, "PI.PeakWSS");
PSS_ASSERT_(offsetof(PSS_PROCESS_INFORMATION, ExecuteFlags) == 176, "PI.ExecuteFlags");
PSS_ASSERT_(offsetof(PSS_PROCESS_INFORMATION, ImageFileName) == 180, "PI.ImageFileName");
PSS_ASSERT_(sizeof(PSS_VA_CLONE_INFORMATION) == 8, "PSS_VA_CLONE_INFORMATION");
PSS_ASSERT_(sizeof(PSS_AUXILIARY_PAGES_INFORMATION) == 4, "PSS_AUXILIARY_PAGES_INFORMATION");
PSS_ASSERT_(sizeof(PSS_VA_SPACE_INFORMATION) == 4, "PSS_VA_SPACE_INFORMATION");
PSS_ASSERT_(sizeof(PSS_HANDLE_INFORMATION) == 4, "PSS_HANDLE_INFORMATION");
PSS_ASSERT_(sizeof(PSS_THREAD_INFORMATION) == 8 && _Alignof(PSS_THREAD_INFORMATION) == 4,
            "PSS_THREAD_INFORMATION");
PSS_ASSERT_(sizeof(PSS_HANDLE_TRACE_INFORMATION) == 16, "PSS_HANDLE_TRACE_INFORMATION");
PSS_ASSERT_(sizeof(PSS_PERFORMANCE_COUNTERS) == 96, "PSS_PERFORMANCE_COUNTERS");
PSS_ASSERT_(offsetof(PSS_PERFORMANCE_COUNTERS, ThreadsWallClockPeriod) == 88, "PC.Threads");
PSS_ASSERT_(sizeof(PSS_AUXILIARY_PAGE_ENTRY) == 80, "PSS_AUXILIARY_PAGE_ENTRY");
PSS_ASSERT_(offsetof(PSS_AUXILIARY_PAGE_ENTRY, CaptureTime) == 56, "APE.CaptureTime");
PSS_ASSERT_(offsetof(PSS_AUXILIARY_PAGE_ENTRY, PageContents) == 64, "APE.PageContents");
PSS_ASSERT_(offsetof(PSS_AUXILIARY_PAGE_ENTRY, PageSize) == 72, "APE.PageSize");
PSS_ASSERT_(sizeof(PSS_VA_SPACE_ENTRY) == 80, "PSS_VA_SPACE_ENTRY");
PSS_ASSERT_(offsetof(PSS_VA_SPACE_ENTRY, RegionSize) == 24, "VAE.RegionSize");
PSS_ASSERT_(offsetof(PSS_VA_SPACE_ENTRY, State) == 32, "VAE.State");
PSS_ASSERT_(offsetof(PSS_VA_SPACE_ENTRY, TimeDateStamp) == 44, "VAE.TimeDateStamp");
PSS_ASSERT_(offsetof(PSS_VA_SPACE_ENTRY, ImageBase) == 56, "VAE.ImageBase");
PSS_ASSERT_(offsetof(PSS_VA_SPACE_ENTRY, CheckSum) == 64, "VAE.CheckSum");
PSS_ASSERT_(offsetof(PSS_VA_SPACE_ENTRY, MappedFileNameLength) == 68, "VAE.MFNLength");
PSS_ASSERT_(offsetof(PSS_VA_SPACE_ENTRY, MappedFileName) == 72, "VAE.MappedFileName");
PSS_ASSERT_(sizeof(PSS_HANDLE_ENTRY) == 136, "PSS_HANDLE_ENTRY");
PSS_ASSERT_(offsetof(PSS_HANDLE_ENTRY, Flags) == 8, "HE.Flags");
PSS_ASSERT_(offsetof(PSS_HANDLE_ENTRY, CaptureTime) == 16, "HE.CaptureTime");
PSS_ASSERT_(offsetof(PSS_HANDLE_ENTRY, HandleCount) == 32, "HE.HandleCount");
PSS_ASSERT_(offsetof(PSS_HANDLE_ENTRY, CreationTime) == 48, "HE.CreationTime");
PSS_ASSERT_(offsetof(PSS_HANDLE_ENTRY, TypeNameLength) == 56, "HE.TypeNameLength");
PSS_ASSERT_(offsetof(PSS_HANDLE_ENTRY, TypeName) == 64, "HE.TypeName");
PSS_ASSERT_(offsetof(PSS_HANDLE_ENTRY, ObjectNameLength) == 72, "HE.ObjectNameLength");
PSS_ASSERT_(offsetof(PSS_HANDLE_ENTRY, ObjectName) == 80, "HE.ObjectName");
PSS_ASSERT_(offsetof(PSS_HANDLE_ENTRY, TypeSpecificInformation) == 88, "HE.TSI");
PSS_ASSERT_(sizeof(((PSS_HANDLE_ENTRY *)0)->TypeSpecificInformation) == 48, "HE.TSI size");
PSS_ASSERT_(offsetof(PSS_HANDLE_ENTRY, TypeSpecificInformation.Process.ProcessId) == 116,
            "HE.TSI.Process.ProcessId");
PSS_ASSERT_(offsetof(PSS_HANDLE_ENTRY, TypeSpecificInformation.Process.Flags) == 124,
            "HE.TSI.Process.Flags");
PSS_ASSERT_(offsetof(PSS_HANDLE_ENTRY, TypeSpecificInformation.Thread.AffinityMask) == 112,
            "HE.TSI.Thread.AffinityMask");
PSS_ASSERT_(offsetof(PSS_HANDLE_ENTRY, TypeSpecificInformation.Thread.Win32StartAddress) ==
                128,
            "HE.TSI.Thread.Win32StartAddress");
PSS_ASSERT_(offsetof(PSS_HANDLE_ENTRY, TypeSpecificInformation.Mutant.OwnerThreadId) == 100,
            "HE.TSI.Mutant.OwnerThreadId");
PSS_ASSERT_(offsetof(PSS_HANDLE_ENTRY, TypeSpecificInformation.Section.AllocationAttributes) ==
                96,
            "HE.TSI.Section.AllocationAttributes");
PSS_ASSERT_(offsetof(PSS_HANDLE_ENTRY, TypeSpecificInformation.Section.MaximumSize) == 104,
            "HE.TSI.Section.MaximumSize");
PSS_ASSERT_(offsetof(PSS_HANDLE_ENTRY, TypeSpecificInformation.Semaphore.MaximumCount) == 92,
            "HE.TSI.Semaphore.MaximumCount");
PSS_ASSERT_(sizeof(PSS_THREAD_ENTRY) == 120, "PSS_THREAD_ENTRY");
PSS_ASSERT_(offsetof(PSS_THREAD_ENTRY, TebBaseAddress) == 8, "TE.TebBaseAddress");
PSS_ASSERT_(offsetof(PSS_THREAD_ENTRY, AffinityMask) == 24, "TE.AffinityMask");
PSS_ASSERT_(offsetof(PSS_THREAD_ENTRY, LastSyscallNumber) == 48, "TE.LastSyscallNumber");
PSS_ASSERT_(offsetof(PSS_THREAD_ENTRY, CreateTime) == 52, "TE.CreateTime");
PSS_ASSERT_(offsetof(PSS_THREAD_ENTRY, UserTime) == 76, "TE.UserTime");
PSS_ASSERT_(offsetof(PSS_THREAD_ENTRY, Win32StartAddress) == 88, "TE.Win32StartAddress");
PSS_ASSERT_(offsetof(PSS_THREAD_ENTRY, CaptureTime) == 96, "TE.CaptureTime");
PSS_ASSERT_(offsetof(PSS_THREAD_ENTRY, Flags) == 104, "TE.Flags");
PSS_ASSERT_(offsetof(PSS_THREAD_ENTRY, SuspendCount) == 108, "TE.SuspendCount");
PSS_ASSERT_(offsetof(PSS_THREAD_ENTRY, SizeOfContextRecord) == 110, "TE.SizeOfContextRecord");
PSS_ASSERT_(offsetof(PSS_THREAD_ENTRY, ContextRecord) == 112, "TE.ContextRecord");
PSS_ASSERT_(sizeof(PSS_THREAD_NAME) == 16, "PSS_THREAD_NAME");
PSS_ASSERT_(sizeof(M128A) == 16 && _Alignof(M128A) == 16, "M128A");
PSS_ASSERT_(sizeof(XMM_SAVE_AREA32) == 512, "XMM_SAVE_AREA32");
PSS_ASSERT_(offsetof(XMM_SAVE_AREA32, XmmRegisters) == 160, "XMM_SAVE_AREA32.XmmRegisters");
PSS_ASSERT_(sizeof(CONTEXT) == 1232 && _Alignof(CONTEXT) == 16, "CONTEXT");
PSS_ASSERT_(offsetof(CONTEXT, ContextFlags) == 0x30, "CONTEXT.ContextFlags");
PSS_ASSERT_(offsetof(CONTEXT, MxCsr) == 0x34, "CONTEXT.MxCsr");
PSS_ASSERT_(offsetof(CONTEXT, SegCs) == 0x38, "CONTEXT.SegCs");
PSS_ASSERT_(offsetof(CONTEXT, SegSs) == 0x42, "CONTEXT.SegSs");
PSS_ASSERT_(offsetof(CONTEXT, EFlags) == 0x44, "CONTEXT.EFlags");
PSS_ASSERT_(offsetof(CONTEXT, Dr0) == 0x48, "CONTEXT.Dr0");
PSS_ASSERT_(offsetof(CONTEXT, Dr7) == 0x70, "CONTEXT.Dr7");
PSS_ASSERT_(offsetof(CONTEXT, Rax) == 0x78, "CONTEXT.Rax");
PSS_ASSERT_(offsetof(CONTEXT, Rsp) == 0x98, "CONTEXT.Rsp");
PSS_ASSERT_(offsetof(CONTEXT, Rdi) == 0xB0, "CONTEXT.Rdi");
PSS_ASSERT_(offsetof(CONTEXT, R15) == 0xF0, "CONTEXT.R15");
PSS_ASSERT_(offsetof(CONTEXT, Rip) == 0xF8, "CONTEXT.Rip");
PSS_ASSERT_(offsetof(CONTEXT, FltSave) == 0x100, "CONTEXT.FltSave");
PSS_ASSERT_(offsetof(CONTEXT, Xmm0) == 0x1A0, "CONTEXT.Xmm0");
PSS_ASSERT_(offsetof(CONTEXT, VectorRegister) == 0x300, "CONTEXT.VectorRegister");
PSS_ASSERT_(offsetof(CONTEXT, VectorControl) == 0x4A0, "CONTEXT.VectorControl");
PSS_ASSERT_(offsetof(CONTEXT, LastExceptionFromRip) == 0x4C8, "CONTEXT.LastExceptionFromRip");
#undef PSS_ASSERT_
#endif /* !__cplusplus */

/* ------------------------------------------------------------------------------------
 * Functions
 * ---------------------------------------------------------------------------------- */

/*
 * PssCaptureSnapshot -- point-in-time copy of a process into an immutable snapshot.
 *   ProcessHandle      PSS_CURRENT_PROCESS or a PssLinuxOpenProcess handle; anything
 *                      else -> ERROR_INVALID_HANDLE.
 *   CaptureFlags       see PSS_CAPTURE_FLAGS above.
 *   ThreadContextFlags CONTEXT_* flags, used only with PSS_CAPTURE_THREAD_CONTEXT.
 *   SnapshotHandle     receives the snapshot (NULL -> ERROR_INVALID_PARAMETER); set to
 *                      NULL on failure.
 * Returns ERROR_SUCCESS, ERROR_INVALID_PARAMETER, ERROR_NOT_SUPPORTED,
 * ERROR_INVALID_HANDLE, ERROR_ACCESS_DENIED, ERROR_PROCESS_ABORTED (the target was
 * reaped; a zombie that has not been reaped is still captured), ERROR_NOT_ENOUGH_MEMORY,
 * ERROR_TOO_MANY_OPEN_FILES, ERROR_TIMEOUT (thread context: a thread stayed in the
 * kernel for 2 s), ERROR_INVALID_DATA, ERROR_GEN_FAILURE.
 * Ownership: free the snapshot with PssFreeSnapshot(PSS_CURRENT_PROCESS, h).
 */
PSS_API DWORD WINAPI PssCaptureSnapshot(HANDLE ProcessHandle, PSS_CAPTURE_FLAGS CaptureFlags,
                                        DWORD ThreadContextFlags, HPSS *SnapshotHandle);

/*
 * PssFreeSnapshot -- frees a snapshot.  ProcessHandle must be PSS_CURRENT_PROCESS or a
 * PssLinuxOpenProcess handle of the calling process itself; a handle of another process
 * -> ERROR_NOT_SUPPORTED (snapshots never live in another address space on Linux);
 * anything else -> ERROR_INVALID_HANDLE.  A NULL, foreign or (usually) already freed
 * SnapshotHandle -> ERROR_INVALID_HANDLE.  Free walk markers' strings stay valid: they
 * are copies owned by the markers.
 */
PSS_API DWORD WINAPI PssFreeSnapshot(HANDLE ProcessHandle, HPSS SnapshotHandle);

/*
 * PssQuerySnapshot -- copies one fixed-size record.  Checks in order: handle
 * (ERROR_INVALID_HANDLE), Buffer NULL (ERROR_INVALID_PARAMETER), class
 * (ERROR_INVALID_PARAMETER), BufferLength == sizeof the record (ERROR_BAD_LENGTH),
 * captured (ERROR_NOT_FOUND).  PROCESS_INFORMATION and AUXILIARY_PAGES_INFORMATION (0
 * pages) always succeed; VA_CLONE_INFORMATION and HANDLE_TRACE_INFORMATION are never
 * captured (ERROR_NOT_FOUND); PERFORMANCE_COUNTERS needs PSS_CREATE_MEASURE_PERFORMANCE.
 */
PSS_API DWORD WINAPI PssQuerySnapshot(HPSS SnapshotHandle,
                                      PSS_QUERY_INFORMATION_CLASS InformationClass,
                                      void *Buffer, DWORD BufferLength);

/*
 * PssWalkSnapshot -- returns the entry at the marker's cursor for this class and
 * advances that cursor.  Checks in order: snapshot handle, marker handle
 * (ERROR_INVALID_HANDLE); class: PSS_WALK_THREAD_NAME or unknown -> ERROR_INVALID_PARAMETER;
 * not captured -> ERROR_NOT_FOUND (threads/handles/VA space not requested; auxiliary pages
 * count as captured with 0 entries); Buffer != NULL and BufferLength != sizeof the entry
 * -> ERROR_BAD_LENGTH; allocation of the per-class state -> ERROR_NOT_ENOUGH_MEMORY;
 * cursor at the end -> ERROR_NO_MORE_ITEMS; Buffer == NULL -> ERROR_MORE_DATA (cursor not
 * advanced); copying the entry's strings/context -> ERROR_NOT_ENOUGH_MEMORY (cursor not
 * advanced, nothing kept).  A marker is bound to the first snapshot it walks (cursors set
 * before that with PssWalkMarkerSetPosition are kept, clamped to the entry counts); if it
 * is later used with a different snapshot, every cursor restarts at the beginning.
 * Pointers in the entry stay valid until PssWalkMarkerFree, even after PssFreeSnapshot.
 */
PSS_API DWORD WINAPI PssWalkSnapshot(HPSS SnapshotHandle,
                                     PSS_WALK_INFORMATION_CLASS InformationClass,
                                     HPSSWALK WalkMarkerHandle, void *Buffer,
                                     DWORD BufferLength);

/*
 * PssDuplicateSnapshot -- on Linux only duplication within the calling process is
 * possible: SourceProcessHandle and TargetProcessHandle must both be PSS_CURRENT_PROCESS
 * (or a PssLinuxOpenProcess handle of the calling process); the result is an independent
 * deep copy that must be freed separately.  Any other process -> ERROR_NOT_SUPPORTED
 * (nothing is freed).  Bad handles -> ERROR_INVALID_HANDLE; TargetSnapshotHandle NULL or
 * unknown Flags bits -> ERROR_INVALID_PARAMETER.
 * PSS_DUPLICATE_CLOSE_SOURCE: as documented, valid only for a snapshot captured with
 * PSS_CREATE_USE_VM_ALLOCATIONS; otherwise ERROR_INVALID_PARAMETER and nothing happens.
 * With it, the source is freed whether or not the copy succeeds.
 */
PSS_API DWORD WINAPI PssDuplicateSnapshot(HANDLE SourceProcessHandle, HPSS SnapshotHandle,
                                          HANDLE TargetProcessHandle,
                                          HPSS *TargetSnapshotHandle, PSS_DUPLICATE_FLAGS Flags);

/*
 * PssWalkMarkerCreate -- Allocator may be NULL (malloc/free).  The marker comes from
 * AllocRoutine; NULL from it -> ERROR_NOT_ENOUGH_MEMORY with nothing leaked.  An
 * Allocator whose routines are NULL -> ERROR_INVALID_PARAMETER.  WalkMarkerHandle NULL ->
 * ERROR_INVALID_PARAMETER.  The marker is not bound to a snapshot until first used.
 */
PSS_API DWORD WINAPI PssWalkMarkerCreate(PSS_ALLOCATOR const *Allocator,
                                         HPSSWALK *WalkMarkerHandle);

/* PssWalkMarkerFree -- frees the marker and every block it handed out (see PSS_ALLOCATOR). */
PSS_API DWORD WINAPI PssWalkMarkerFree(HPSSWALK WalkMarkerHandle);

/*
 * PssWalkMarkerGetPosition -- the opaque position of the class walked last:
 *   bits 63..48  0x5053 ('PS'), a tag that rejects random values
 *   bits 47..40  0
 *   bits 39..32  walk class + 1 (0 = no class walked since creation/seek)
 *   bits 31..0   index of the next entry of that class
 * A fresh or rewound marker reports 0x5053000000000000.
 */
PSS_API DWORD WINAPI PssWalkMarkerGetPosition(HPSSWALK WalkMarkerHandle, ULONG_PTR *Position);

/*
 * PssWalkMarkerSetPosition -- restores a position from PssWalkMarkerGetPosition (of any
 * marker): sets that class's cursor and makes it the "last walked" class; the other
 * classes keep their cursors.  The class-0 form rewinds everything like
 * PssWalkMarkerSeekToBeginning.  Wrong tag, non-zero reserved bits, class > 3, or an index
 * beyond the number of entries of that class in the snapshot the marker is bound to ->
 * ERROR_INVALID_PARAMETER (a marker not bound yet accepts any index and clamps it when it
 * binds).  Never allocates.
 */
PSS_API DWORD WINAPI PssWalkMarkerSetPosition(HPSSWALK WalkMarkerHandle, ULONG_PTR Position);

/* PssWalkMarkerSeekToBeginning -- every class cursor back to 0.  Never allocates. */
PSS_API DWORD WINAPI PssWalkMarkerSeekToBeginning(HPSSWALK WalkMarkerHandle);

/* ------------------------------------------------------------------------------------
 * Linux extensions
 * ---------------------------------------------------------------------------------- */

/*
 * PssLinuxOpenProcess -- the OpenProcess analogue.  Holds a pidfd (pins the process
 * identity) and an O_DIRECTORY fd of /proc/PID; every read of a capture is made with
 * openat() relative to that fd, so a reused PID is never read.  Needs no privilege (like
 * opening with PROCESS_QUERY_LIMITED_INFORMATION); the capture checks access.
 *   ProcessId 0, a PID that does not exist, a thread id that is not a process, or a
 *   process already reaped -> ERROR_INVALID_PARAMETER (as OpenProcess);
 *   ProcessHandle NULL -> ERROR_INVALID_PARAMETER; EMFILE -> ERROR_TOO_MANY_OPEN_FILES.
 * Ownership: close with PssLinuxCloseProcess.  The handle may be used from any thread.
 */
PSS_API DWORD WINAPI PssLinuxOpenProcess(DWORD ProcessId, HANDLE *ProcessHandle);

/*
 * PssLinuxCloseProcess -- closes a handle from PssLinuxOpenProcess.  NULL, foreign or
 * already closed handles -> ERROR_INVALID_HANDLE; PSS_CURRENT_PROCESS -> ERROR_SUCCESS
 * (closing the pseudo-handle does nothing, as CloseHandle(GetCurrentProcess())).
 */
PSS_API DWORD WINAPI PssLinuxCloseProcess(HANDLE ProcessHandle);

/* ====================================================================================
 * Linux extensions: inspection details (issue 11)
 *
 * Facts that tools such as VMMap and System Informer show but that the PSS structures
 * have no field for: thread names, states, wait channels and current system calls;
 * socket endpoints, pipe peers and open flags of handles; per-region memory usage
 * (smaps), region kinds and the module list.  They are captured by a separate call made
 * right after PssCaptureSnapshot with the same process handle, into a separate opaque
 * object, and joined with the snapshot's entries by key (thread id, fd number, region
 * address).  The PSS functions and structures above are not changed by any of this.
 *
 * Windows sources of the same facts (so a Windows build can fill the same columns):
 *   threads   NtQueryInformationThread (ThreadBasicInformation, ThreadTimes,
 *             ThreadLastSystemCall, ThreadNameInformation / GetThreadDescription),
 *             NtQuerySystemInformation(SystemProcessInformation) for thread state and
 *             wait reason, GetThreadContext for IP/SP
 *   handles   NtQueryObject (ObjectTypeInformation), GetFileInformationByHandleEx,
 *             GetExtendedTcpTable / GetExtendedUdpTable (socket endpoints by owning pid),
 *             GetNamedPipeClientProcessId / ServerProcessId (pipe peers)
 *   regions   QueryWorkingSetEx (per page: valid, shared, share count, locked),
 *             VirtualQueryEx, heap walks (HeapWalk / RtlQueryProcessHeapInformation),
 *             NtQueryInformationThread(ThreadBasicInformation) -> TEB StackBase/Limit
 *   modules   EnumProcessModulesEx + GetModuleInformation + the PE debug directory
 *             (CodeView GUID/age plays the part of the build-id)
 *
 * Conventions as for the functions above: Win32 error codes, out-parameters last,
 * opaque handles checked against the library's registry of live handles (never read to
 * be validated), no other global state.  Every optional fact carries its
 * own error field: 0 means the value is valid; anything else is the reason it is not
 * (never a zero that looks like data).
 * ==================================================================================== */

#ifndef ERROR_BUSY
#define ERROR_BUSY 170u /* the thread was running on a CPU at every look */
#endif
#ifndef ERROR_PARTIAL_COPY
#define ERROR_PARTIAL_COPY 299u /* a search covered only the processes we may read */
#endif

typedef struct HPSSDETAILS__ *HPSSDETAILS;

/* What PssLinuxCaptureDetails captures (DetailFlags). */
#define PSS_DETAILS_THREADS 0x00000001u      /* per thread: PSS_DETAILS_THREAD */
#define PSS_DETAILS_HANDLES 0x00000002u      /* per fd: PSS_DETAILS_HANDLE */
#define PSS_DETAILS_HANDLE_PEERS 0x00000004u /* + search every readable process's fds for
                                              * the other end of pipes and sockets */
#define PSS_DETAILS_REGIONS 0x00000008u      /* per VMA: kind; + the module list */
#define PSS_DETAILS_REGION_USAGE 0x00000010u /* + smaps counters per VMA and smaps_rollup
                                              * (several times slower than maps) */
#define PSS_DETAILS_ALL 0x0000001Fu

/* Record classes of PssLinuxReadDetails. */
#define PSS_DETAILS_CLASS_THREADS 0u
#define PSS_DETAILS_CLASS_HANDLES 1u
#define PSS_DETAILS_CLASS_REGIONS 2u
#define PSS_DETAILS_CLASS_MODULES 3u

/*
 * Memory counters of one region (smaps) or of the whole process (smaps_rollup), in
 * bytes.  Present has one bit per field (1 << index, in field order: Rss = bit 0 ...
 * Locked = bit 19) for the fields the kernel printed; a field whose bit is clear is not
 * known (an older kernel, or Pss_Anon/File/Shmem, which smaps prints only in the rollup).
 * Windows: QueryWorkingSetEx per page (Rss = valid pages, Shared* = shared pages,
 * Private* = the others, Locked = locked pages); Pss has no Windows equivalent.
 */
typedef struct PSS_DETAILS_MEMORY {
    ULONGLONG Rss;
    ULONGLONG Pss;
    ULONGLONG PssDirty;
    ULONGLONG PssAnon;
    ULONGLONG PssFile;
    ULONGLONG PssShmem;
    ULONGLONG SharedClean;
    ULONGLONG SharedDirty;
    ULONGLONG PrivateClean;
    ULONGLONG PrivateDirty;
    ULONGLONG Referenced;
    ULONGLONG Anonymous;
    ULONGLONG LazyFree;
    ULONGLONG AnonHugePages;
    ULONGLONG ShmemPmdMapped;
    ULONGLONG SharedHugetlb;
    ULONGLONG PrivateHugetlb;
    ULONGLONG Swap;
    ULONGLONG SwapPss;
    ULONGLONG Locked;
    DWORD Present;
    DWORD Reserved;
} PSS_DETAILS_MEMORY;

/*
 * PSS_DETAILS_INFORMATION -- PssLinuxQueryDetails.  What was captured, why a part could
 * not be, what each part cost, and the whole-process usage totals.
 *   *Error           0, or the Win32 code of that part (ERROR_ACCESS_DENIED ...); a part
 *                    not requested is ERROR_NOT_FOUND
 *   PeersError       ERROR_PARTIAL_COPY when some processes' fds could not be read
 *                    (ProcessesDenied of ProcessesScanned), the peers found are still valid
 *   *Nanoseconds     CLOCK_MONOTONIC time of each part
 *   UsageBytesRead   size of the smaps text read (0 without REGION_USAGE)
 *   Rollup           /proc/PID/smaps_rollup, read right after smaps (RollupError)
 *   CaptureTime      when the capture started (FILETIME)
 */
typedef struct PSS_DETAILS_INFORMATION {
    DWORD Flags;            /* DetailFlags as requested */
    DWORD ProcessId;
    DWORD ThreadCount;
    DWORD HandleCount;
    DWORD RegionCount;
    DWORD ModuleCount;
    DWORD ThreadsError;
    DWORD HandlesError;
    DWORD PeersError;
    DWORD RegionsError;
    DWORD UsageError;
    DWORD RollupError;
    DWORD ProcessesScanned;
    DWORD ProcessesDenied;
    FILETIME CaptureTime;
    ULONGLONG TotalNanoseconds;
    ULONGLONG ThreadsNanoseconds;
    ULONGLONG HandlesNanoseconds;
    ULONGLONG PeersNanoseconds;
    ULONGLONG RegionsNanoseconds; /* maps or smaps: read + parse + kinds */
    ULONGLONG ModulesNanoseconds; /* ELF headers of the mapped files */
    ULONGLONG RollupNanoseconds;
    ULONGLONG UsageBytesRead;
    PSS_DETAILS_MEMORY Rollup;
} PSS_DETAILS_INFORMATION;

/*
 * PSS_DETAILS_THREAD -- one per /proc/PID/task/TID (Windows: NtQueryInformationThread,
 * SystemProcessInformation's SYSTEM_THREAD_INFORMATION, GetThreadDescription).
 *   State              the task stat letter: R running, S sleeping, D disk wait
 *                      (uninterruptible), T stopped, t tracing stop, Z zombie, X dead,
 *                      I idle, P parked
 *   Name               comm (task/TID/comm; pthread_setname_np), NUL-terminated
 *   WaitChannel        task/TID/wchan: the kernel function the thread sleeps in;
 *                      WaitChannelError ERROR_NOT_FOUND when the kernel names none
 *                      (running, or hidden from us: wchan needs ptrace-read access)
 *   Syscall*           task/TID/syscall, read without stopping the thread: number, the
 *                      six arguments, user stack and instruction pointer.  Number -1 =
 *                      blocked outside a system call (only SP/IP valid).  SyscallError:
 *                      ERROR_BUSY the thread was running at every look (3 tries);
 *                      ERROR_ACCESS_DENIED needs ptrace attach rights (same uid or
 *                      CAP_SYS_PTRACE); ERROR_NOT_SUPPORTED the kernel lacks the file
 *   CpuTimeNanoseconds / RunDelayNanoseconds  task/TID/schedstat (exact, ns): time on a
 *                      CPU and time waiting for one (CpuTimeError if absent)
 *   UserTime100ns/KernelTime100ns  task stat utime/stime (10 ms resolution)
 *   Nice, KernelPriority, Policy (SCHED_*), RtPriority, LastCpu  task stat fields 19,
 *                      18, 41, 40, 39
 *   Affinity           task/TID/status Cpus_allowed, CPUs 0..1023 (bit n of word n/64);
 *                      AffinityError if absent
 *   VoluntarySwitches/InvoluntarySwitches  status *_ctxt_switches
 */
typedef struct PSS_DETAILS_THREAD {
    DWORD ThreadId;
    BYTE State;
    BYTE Reserved1[3];
    char Name[16];
    char WaitChannel[64];
    DWORD WaitChannelError;
    DWORD SyscallError;
    LONG SyscallNumber;
    DWORD CpuTimeError;
    ULONGLONG SyscallArguments[6];
    ULONGLONG StackPointer;
    ULONGLONG InstructionPointer;
    ULONGLONG CpuTimeNanoseconds;
    ULONGLONG RunDelayNanoseconds;
    ULONGLONG UserTime100ns;
    ULONGLONG KernelTime100ns;
    LONG Nice;
    LONG KernelPriority;
    DWORD Policy;
    DWORD RtPriority;
    LONG LastCpu;
    DWORD AffinityError;
    ULONGLONG Affinity[16];
    ULONGLONG VoluntarySwitches;
    ULONGLONG InvoluntarySwitches;
} PSS_DETAILS_THREAD;

/* PSS_DETAILS_HANDLE.Kind: what the fd refers to (st_mode and the link text). */
#define PSS_FD_KIND_UNKNOWN 0u
#define PSS_FD_KIND_FILE 1u
#define PSS_FD_KIND_DIRECTORY 2u
#define PSS_FD_KIND_CHAR_DEVICE 3u
#define PSS_FD_KIND_BLOCK_DEVICE 4u
#define PSS_FD_KIND_PIPE 5u      /* anonymous pipe (pipe:[ino]) */
#define PSS_FD_KIND_FIFO 6u      /* named pipe on a file system */
#define PSS_FD_KIND_SOCKET 7u
#define PSS_FD_KIND_SYMLINK 8u   /* O_PATH|O_NOFOLLOW on a symbolic link */
#define PSS_FD_KIND_ANON_INODE 9u /* eventfd, epoll, timerfd, signalfd, inotify, ... */
#define PSS_FD_KIND_MEMFD 10u
#define PSS_FD_KIND_PIDFD 11u

/* PSS_DETAILS_HANDLE.CreationSource: what CreationTime means. */
#define PSS_CREATION_NONE 0u       /* not meaningful: see CreationSource below */
#define PSS_CREATION_FILE_BIRTH 1u /* statx btime of the file (files, dirs, FIFOs, memfds) */

/*
 * PSS_DETAILS_HANDLE -- one per /proc/PID/fd entry (Windows: NtQueryObject type names,
 * GetFileInformationByHandleEx, GetExtendedTcpTable/UdpTable, named pipe client/server
 * process ids).
 *   OpenFlags, Position, MountId  fdinfo flags (O_* including O_CLOEXEC), pos, mnt_id;
 *                      FdinfoError if fdinfo could not be read
 *   Inode, Device*, Rdev*, Size, Mode  statx of the fd's object; StatError
 *   CreationSource/CreationTime  FILE_BIRTH: the file's birth time (statx btime) for
 *                      regular files, directories, named pipes and memfds on file systems
 *                      that record it.  NONE (CreationTime 0) everywhere else, because no
 *                      time there means "created": a device node's dates are the node's
 *                      (made at boot), a pipe's change with every write, sockets carry 0,
 *                      and eventfd/epoll/timerfd/... share one anonymous inode
 *   Socket*            SocketError 0: Family (AF_*), Type (SOCK_*), Protocol (IPPROTO_*),
 *                      State (TCP_* 1..12 for TCP; SS_* 1..4 for UNIX, with
 *                      SOCKET_LISTENING in SocketFlags), endpoints (IPv4 in the first 4
 *                      bytes, network byte order; ports in host order), queues; UnixPath
 *                      (abstract names start with '@'); PeerInode the other end (UNIX via
 *                      sock_diag, in the caller's network namespace only; TCP when both
 *                      ends are in the target's namespace).  From /proc/PID/net/{tcp,tcp6,
 *                      udp,udp6,raw,raw6,unix,netlink,packet}.  SocketError
 *                      ERROR_NOT_FOUND: the inode is in none of those tables
 *   Peer*              with PSS_DETAILS_HANDLE_PEERS, for pipes, FIFOs and sockets with a
 *                      PeerInode: a process holding the other end (another process
 *                      first, else this one), its fd and comm; PeerCount = holders found.
 *                      PeerError ERROR_NOT_FOUND nobody found (or not searched: the peer
 *                      search was not requested or does not apply)
 */
#define PSS_SOCKET_LISTENING 0x1u
#define PSS_SOCKET_HAVE_PEER_INODE 0x2u

typedef struct PSS_DETAILS_HANDLE {
    DWORD Fd;
    DWORD Kind;
    DWORD FdinfoError;
    DWORD OpenFlags;
    ULONGLONG Position;
    DWORD MountId;
    DWORD StatError;
    ULONGLONG Inode;
    DWORD DeviceMajor;
    DWORD DeviceMinor;
    DWORD RdevMajor;
    DWORD RdevMinor;
    ULONGLONG Size;
    DWORD Mode;
    DWORD CreationSource;
    FILETIME CreationTime;
    DWORD SocketError;
    WORD Family;
    WORD Type;
    DWORD Protocol;
    DWORD State;
    DWORD SocketFlags;
    WORD LocalPort;
    WORD RemotePort;
    BYTE LocalAddress[16];
    BYTE RemoteAddress[16];
    DWORD ReceiveQueue;
    DWORD SendQueue;
    ULONGLONG PeerInode;
    char UnixPath[112];
    DWORD PeerError;
    DWORD PeerProcessId;
    DWORD PeerFd;
    DWORD PeerCount;
    char PeerName[16];
} PSS_DETAILS_HANDLE;

/* PSS_DETAILS_REGION.Kind (VMMap's classification, Linux flavour). */
#define PSS_REGION_KIND_PRIVATE 0u   /* anonymous private memory (Private Data) */
#define PSS_REGION_KIND_IMAGE 1u     /* a loaded ELF image, incl. its .bss tail, [vdso] */
#define PSS_REGION_KIND_MAPPED 2u    /* a file mapping that is not a loaded image */
#define PSS_REGION_KIND_SHARED 3u    /* shared memory: MAP_SHARED anonymous, shm, memfd, SysV */
#define PSS_REGION_KIND_HEAP 4u      /* [heap] (brk), malloc arenas (see KindFlags) */
#define PSS_REGION_KIND_STACK 5u     /* a thread's stack: KindThreadId */
#define PSS_REGION_KIND_RESERVED 6u  /* anonymous ---p address space (no access) */
#define PSS_REGION_KIND_KERNEL 7u    /* [vvar], [vvar_vclock], [vsyscall] */

#define PSS_REGION_HEAP_ARENA 0x1u       /* a glibc malloc arena heap (not brk) */
#define PSS_REGION_ARENA_VERIFIED 0x2u   /* its heap_info header was read and is consistent */
#define PSS_REGION_GUARD 0x4u            /* the no-access guard below a stack / arena tail */
#define PSS_REGION_MAIN_STACK 0x8u       /* [stack] */
#define PSS_REGION_STACK_BY_SP 0x10u     /* found by the thread's stack pointer */
#define PSS_REGION_HAVE_USAGE 0x100u     /* Usage and VmFlags are valid */

/*
 * PSS_DETAILS_REGION -- one per VMA, in address order (the same VMAs PSS_WALK_VA_SPACE
 * reports as non-free entries, read a moment later; join by BaseAddress and check
 * EndAddress).  VmFlags: one bit per smaps VmFlags code (PSS_VMFLAG_*).
 */
typedef struct PSS_DETAILS_REGION {
    ULONGLONG BaseAddress;
    ULONGLONG EndAddress;
    DWORD Kind;
    DWORD KindFlags;
    DWORD KindThreadId; /* STACK: the thread whose SP is inside (or the main thread) */
    DWORD VmFlags;
    PSS_DETAILS_MEMORY Usage;
} PSS_DETAILS_REGION;

#define PSS_VMFLAG_RD 0x1u        /* rd readable */
#define PSS_VMFLAG_WR 0x2u        /* wr writeable */
#define PSS_VMFLAG_EX 0x4u        /* ex executable */
#define PSS_VMFLAG_SH 0x8u        /* sh shared */
#define PSS_VMFLAG_GD 0x10u       /* gd stack segment grows down */
#define PSS_VMFLAG_LO 0x20u       /* lo pages are locked in memory */
#define PSS_VMFLAG_IO 0x40u       /* io memory mapped I/O area */
#define PSS_VMFLAG_DC 0x80u       /* dc do not copy area on fork */
#define PSS_VMFLAG_DD 0x100u      /* dd do not include area into core dump */
#define PSS_VMFLAG_HT 0x200u      /* ht area uses huge tlb pages */
#define PSS_VMFLAG_NR 0x400u      /* nr swap space is not reserved */
#define PSS_VMFLAG_AC 0x800u      /* ac area is accountable */
#define PSS_VMFLAG_HG 0x1000u     /* hg huge page advise */
#define PSS_VMFLAG_NH 0x2000u     /* nh no huge page advise */
#define PSS_VMFLAG_MG 0x4000u     /* mg mergeable advise */
#define PSS_VMFLAG_UW 0x8000u     /* uw userfaultfd wp */
#define PSS_VMFLAG_SD 0x10000u    /* sd soft dirty */
#define PSS_VMFLAG_WF 0x20000u    /* wf wipe on fork */
#define PSS_VMFLAG_SS 0x40000u    /* ss shadow stack */
#define PSS_VMFLAG_SL 0x80000u    /* sl sealed */

/*
 * PSS_DETAILS_MODULE -- one per loaded ELF image (a file with a PT_LOAD segment mapped
 * executable at its offset), and [vdso].  Windows: EnumProcessModulesEx,
 * GetModuleInformation, the CodeView record of the PE debug directory.
 *   BaseAddress/EndAddress  the image's mappings (load base .. end of its last segment,
 *                      incl. the .bss tail)
 *   Path/PathLength    the mapped file name as maps shows it (UTF-8, owned by the
 *                      details object, valid until PssLinuxFreeDetails)
 *   Soname             DT_SONAME of the dynamic section (SonameLength 0: none)
 *   BuildId            NT_GNU_BUILD_ID (BuildIdLength 0: none)
 *   ElfError           0, or why the file's ELF facts could not be read (ERROR_ACCESS_DENIED:
 *                      neither map_files/ nor the path is readable; ERROR_INVALID_DATA)
 */
#define PSS_MODULE_MAIN_EXECUTABLE 0x1u /* the file /proc/PID/exe names */
#define PSS_MODULE_VDSO 0x2u
#define PSS_MODULE_DELETED 0x4u         /* the file was deleted or replaced */
#define PSS_MODULE_ELF32 0x8u
#define PSS_MODULE_POSITION_INDEPENDENT 0x10u /* ET_DYN */

typedef struct PSS_DETAILS_MODULE {
    ULONGLONG BaseAddress;
    ULONGLONG EndAddress;
    ULONGLONG Inode;
    DWORD DeviceMajor;
    DWORD DeviceMinor;
    DWORD Flags;
    DWORD ElfError;
    DWORD RegionCount;
    DWORD BuildIdLength;
    BYTE BuildId[64];
    char const *Path;
    char const *Soname;
    DWORD PathLength;
    DWORD SonameLength;
} PSS_DETAILS_MODULE;

#if !defined(__cplusplus)
_Static_assert(sizeof(PSS_DETAILS_MEMORY) == 168, "PSS_DETAILS_MEMORY");
_Static_assert(sizeof(PSS_DETAILS_INFORMATION) == 296, "PSS_DETAILS_INFORMATION");
_Static_assert(offsetof(PSS_DETAILS_INFORMATION, Rollup) == 128, "DI.Rollup");
_Static_assert(sizeof(PSS_DETAILS_THREAD) == 368, "PSS_DETAILS_THREAD");
_Static_assert(offsetof(PSS_DETAILS_THREAD, SyscallArguments) == 104, "DT.SyscallArguments");
_Static_assert(offsetof(PSS_DETAILS_THREAD, Affinity) == 224, "DT.Affinity");
_Static_assert(sizeof(PSS_DETAILS_HANDLE) == 296, "PSS_DETAILS_HANDLE");
_Static_assert(offsetof(PSS_DETAILS_HANDLE, LocalAddress) == 104, "DH.LocalAddress");
_Static_assert(offsetof(PSS_DETAILS_HANDLE, PeerInode) == 144, "DH.PeerInode");
_Static_assert(offsetof(PSS_DETAILS_HANDLE, PeerName) == 280, "DH.PeerName");
_Static_assert(sizeof(PSS_DETAILS_REGION) == 200, "PSS_DETAILS_REGION");
_Static_assert(sizeof(PSS_DETAILS_MODULE) == 136, "PSS_DETAILS_MODULE");
_Static_assert(offsetof(PSS_DETAILS_MODULE, Path) == 112, "DM.Path");
#endif

/*
 * PssLinuxCaptureDetails -- captures the details DetailFlags asks for (PSS_DETAILS_*),
 * of the process ProcessHandle denotes (PSS_CURRENT_PROCESS or a PssLinuxOpenProcess
 * handle), into a new immutable object.  Call it right after PssCaptureSnapshot with the
 * same handle.  Nothing is stopped or frozen; every read is relative to the handle's
 * /proc directory.  A part that cannot be read (permissions) does not fail the call: its
 * error is in PSS_DETAILS_INFORMATION and per record.
 *   NULL Details, DetailFlags 0 or outside PSS_DETAILS_ALL -> ERROR_INVALID_PARAMETER;
 *   bad handle -> ERROR_INVALID_HANDLE; target reaped -> ERROR_PROCESS_ABORTED;
 *   out of memory -> ERROR_NOT_ENOUGH_MEMORY.  *Details is NULL on failure.
 * Ownership: free with PssLinuxFreeDetails.  Not tied to any snapshot.
 */
PSS_API DWORD WINAPI PssLinuxCaptureDetails(HANDLE ProcessHandle, DWORD DetailFlags,
                                            HPSSDETAILS *Details);

/*
 * PssLinuxCaptureSnapshotAndDetails -- PssCaptureSnapshot(ProcessHandle, CaptureFlags,
 * ThreadContextFlags) and PssLinuxCaptureDetails(ProcessHandle, DetailFlags) at the same
 * moment: the snapshot is captured on a short-lived helper thread (joined before the
 * call returns) while the details are captured on the calling thread, so the two read
 * the same state of the process and the call takes about as long as the slower of the
 * two.  With PSS_CAPTURE_THREAD_CONTEXT the two run one after the other (snapshot first)
 * so that libpss's own ptrace stop is not reported as the threads' state; if the helper
 * thread cannot be created they also run one after the other.
 * Arguments and errors are those of the two functions (flags are checked before anything
 * is captured); on any failure nothing is returned (*SnapshotHandle and *Details NULL).
 * Ownership: PssFreeSnapshot and PssLinuxFreeDetails.
 */
PSS_API DWORD WINAPI PssLinuxCaptureSnapshotAndDetails(HANDLE ProcessHandle,
                                                       PSS_CAPTURE_FLAGS CaptureFlags,
                                                       DWORD ThreadContextFlags,
                                                       DWORD DetailFlags,
                                                       HPSS *SnapshotHandle,
                                                       HPSSDETAILS *Details);

/*
 * PssLinuxQueryDetails -- copies the PSS_DETAILS_INFORMATION of Details.  BufferLength
 * must be sizeof(PSS_DETAILS_INFORMATION) (else ERROR_BAD_LENGTH); NULL Buffer ->
 * ERROR_INVALID_PARAMETER; bad Details -> ERROR_INVALID_HANDLE.
 */
PSS_API DWORD WINAPI PssLinuxQueryDetails(HPSSDETAILS Details, DWORD BufferLength,
                                          PSS_DETAILS_INFORMATION *Buffer);

/*
 * PssLinuxReadDetails -- copies records First .. First+Count-1 of Class
 * (PSS_DETAILS_CLASS_*) into Buffer, an array of Count records of RecordLength bytes.
 * RecordLength must be the size of that class's record (ERROR_BAD_LENGTH), Class known
 * and First <= the record count (ERROR_INVALID_PARAMETER).  Copies min(Count, remaining)
 * records and stores that number in *Read (0 at the end: ERROR_SUCCESS, not an error).
 * A class that was not captured has 0 records.  Strings records point to stay owned by
 * Details.  Never allocates.
 */
PSS_API DWORD WINAPI PssLinuxReadDetails(HPSSDETAILS Details, DWORD Class, DWORD First,
                                         DWORD Count, DWORD RecordLength, void *Buffer,
                                         DWORD *Read);

/* PssLinuxFreeDetails -- frees Details; NULL, foreign or freed -> ERROR_INVALID_HANDLE. */
PSS_API DWORD WINAPI PssLinuxFreeDetails(HPSSDETAILS Details);

#ifdef __cplusplus
}
#endif

#endif /* PSS_PROCESSSNAPSHOT_H */
