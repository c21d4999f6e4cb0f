/**
 * Every Process Snapshotting structure, declared once with koffi, with the Windows x64 layout
 * of ../shared/pss-api.md §5 (types.test.ts checks every size and offset against that table).
 * FILETIME is two uint32 (alignment 4), WCHAR is uint16, LARGE_INTEGER is int64.
 */
import koffi, { type TypeObject } from 'koffi';

export const FILETIME = koffi.struct('FILETIME', {
  dwLowDateTime: 'uint32',
  dwHighDateTime: 'uint32',
});

export const MEMORY_BASIC_INFORMATION = koffi.struct('MEMORY_BASIC_INFORMATION', {
  BaseAddress: 'void *',
  AllocationBase: 'void *',
  AllocationProtect: 'uint32',
  PartitionId: 'uint16',
  RegionSize: 'uint64',
  State: 'uint32',
  Protect: 'uint32',
  Type: 'uint32',
});

export const AllocRoutine = koffi.proto('void *PssAllocRoutine(void *Context, uint32_t Size)');
export const FreeRoutine = koffi.proto('void PssFreeRoutine(void *Context, void *Address)');

export const PSS_ALLOCATOR = koffi.struct('PSS_ALLOCATOR', {
  Context: 'void *',
  AllocRoutine: 'void *',
  FreeRoutine: 'void *',
});

export const PSS_PROCESS_INFORMATION = koffi.struct('PSS_PROCESS_INFORMATION', {
  ExitStatus: 'uint32',
  PebBaseAddress: 'void *',
  AffinityMask: 'uint64',
  BasePriority: 'int32',
  ProcessId: 'uint32',
  ParentProcessId: 'uint32',
  Flags: 'uint32',
  CreateTime: FILETIME,
  ExitTime: FILETIME,
  KernelTime: FILETIME,
  UserTime: FILETIME,
  PriorityClass: 'uint32',
  PeakVirtualSize: 'uint64',
  VirtualSize: 'uint64',
  PageFaultCount: 'uint32',
  PeakWorkingSetSize: 'uint64',
  WorkingSetSize: 'uint64',
  QuotaPeakPagedPoolUsage: 'uint64',
  QuotaPagedPoolUsage: 'uint64',
  QuotaPeakNonPagedPoolUsage: 'uint64',
  QuotaNonPagedPoolUsage: 'uint64',
  PagefileUsage: 'uint64',
  PeakPagefileUsage: 'uint64',
  PrivateUsage: 'uint64',
  ExecuteFlags: 'uint32',
  ImageFileName: koffi.array('uint16', 260),
});

export const PSS_VA_CLONE_INFORMATION = koffi.struct('PSS_VA_CLONE_INFORMATION', {
  VaCloneHandle: 'void *',
});

export const PSS_AUXILIARY_PAGES_INFORMATION = koffi.struct('PSS_AUXILIARY_PAGES_INFORMATION', {
  AuxPagesCaptured: 'uint32',
});

export const PSS_VA_SPACE_INFORMATION = koffi.struct('PSS_VA_SPACE_INFORMATION', {
  RegionCount: 'uint32',
});

export const PSS_HANDLE_INFORMATION = koffi.struct('PSS_HANDLE_INFORMATION', {
  HandlesCaptured: 'uint32',
});

export const PSS_THREAD_INFORMATION = koffi.struct('PSS_THREAD_INFORMATION', {
  ThreadsCaptured: 'uint32',
  ContextLength: 'uint32',
});

export const PSS_HANDLE_TRACE_INFORMATION = koffi.struct('PSS_HANDLE_TRACE_INFORMATION', {
  SectionHandle: 'void *',
  Size: 'uint32',
});

export const PSS_PERFORMANCE_COUNTERS = koffi.struct('PSS_PERFORMANCE_COUNTERS', {
  TotalCycleCount: 'uint64',
  TotalWallClockPeriod: 'uint64',
  VaCloneCycleCount: 'uint64',
  VaCloneWallClockPeriod: 'uint64',
  VaSpaceCycleCount: 'uint64',
  VaSpaceWallClockPeriod: 'uint64',
  AuxPagesCycleCount: 'uint64',
  AuxPagesWallClockPeriod: 'uint64',
  HandlesCycleCount: 'uint64',
  HandlesWallClockPeriod: 'uint64',
  ThreadsCycleCount: 'uint64',
  ThreadsWallClockPeriod: 'uint64',
});

export const PSS_AUXILIARY_PAGE_ENTRY = koffi.struct('PSS_AUXILIARY_PAGE_ENTRY', {
  Address: 'void *',
  BasicInformation: MEMORY_BASIC_INFORMATION,
  CaptureTime: FILETIME,
  PageContents: 'void *',
  PageSize: 'uint32',
});

export const PSS_VA_SPACE_ENTRY = koffi.struct('PSS_VA_SPACE_ENTRY', {
  BaseAddress: 'void *',
  AllocationBase: 'void *',
  AllocationProtect: 'uint32',
  RegionSize: 'uint64',
  State: 'uint32',
  Protect: 'uint32',
  Type: 'uint32',
  TimeDateStamp: 'uint32',
  SizeOfImage: 'uint32',
  ImageBase: 'void *',
  CheckSum: 'uint32',
  MappedFileNameLength: 'uint16',
  MappedFileName: 'void *',
});

export const HandleProcessInfo = koffi.struct('PSS_HANDLE_ENTRY_PROCESS', {
  ExitStatus: 'uint32',
  PebBaseAddress: 'void *',
  AffinityMask: 'uint64',
  BasePriority: 'int32',
  ProcessId: 'uint32',
  ParentProcessId: 'uint32',
  Flags: 'uint32',
});
export const HandleThreadInfo = koffi.struct('PSS_HANDLE_ENTRY_THREAD', {
  ExitStatus: 'uint32',
  TebBaseAddress: 'void *',
  ProcessId: 'uint32',
  ThreadId: 'uint32',
  AffinityMask: 'uint64',
  Priority: 'int32',
  BasePriority: 'int32',
  Win32StartAddress: 'void *',
});
export const HandleMutantInfo = koffi.struct('PSS_HANDLE_ENTRY_MUTANT', {
  CurrentCount: 'int32',
  Abandoned: 'int32',
  OwnerProcessId: 'uint32',
  OwnerThreadId: 'uint32',
});
export const HandleEventInfo = koffi.struct('PSS_HANDLE_ENTRY_EVENT', {
  ManualReset: 'int32',
  Signaled: 'int32',
});
export const HandleSectionInfo = koffi.struct('PSS_HANDLE_ENTRY_SECTION', {
  BaseAddress: 'void *',
  AllocationAttributes: 'uint32',
  MaximumSize: 'int64',
});
export const HandleSemaphoreInfo = koffi.struct('PSS_HANDLE_ENTRY_SEMAPHORE', {
  CurrentCount: 'int32',
  MaximumCount: 'int32',
});

export const PSS_HANDLE_TYPE_SPECIFIC = koffi.union('PSS_HANDLE_TYPE_SPECIFIC', {
  Process: HandleProcessInfo,
  Thread: HandleThreadInfo,
  Mutant: HandleMutantInfo,
  Event: HandleEventInfo,
  Section: HandleSectionInfo,
  Semaphore: HandleSemaphoreInfo,
});

export const PSS_HANDLE_ENTRY = koffi.struct('PSS_HANDLE_ENTRY', {
  Handle: 'void *',
  Flags: 'uint32',
  ObjectType: 'int32',
  CaptureTime: FILETIME,
  Attributes: 'uint32',
  GrantedAccess: 'uint32',
  HandleCount: 'uint32',
  PointerCount: 'uint32',
  PagedPoolCharge: 'uint32',
  NonPagedPoolCharge: 'uint32',
  CreationTime: FILETIME,
  TypeNameLength: 'uint16',
  TypeName: 'void *',
  ObjectNameLength: 'uint16',
  ObjectName: 'void *',
  TypeSpecificInformation: PSS_HANDLE_TYPE_SPECIFIC,
});

export const PSS_THREAD_ENTRY = koffi.struct('PSS_THREAD_ENTRY', {
  ExitStatus: 'uint32',
  TebBaseAddress: 'void *',
  ProcessId: 'uint32',
  ThreadId: 'uint32',
  AffinityMask: 'uint64',
  Priority: 'int32',
  BasePriority: 'int32',
  LastSyscallFirstArgument: 'void *',
  LastSyscallNumber: 'uint16',
  CreateTime: FILETIME,
  ExitTime: FILETIME,
  KernelTime: FILETIME,
  UserTime: FILETIME,
  Win32StartAddress: 'void *',
  CaptureTime: FILETIME,
  Flags: 'uint32',
  SuspendCount: 'uint16',
  SizeOfContextRecord: 'uint16',
  ContextRecord: 'void *',
});

export const PSS_THREAD_NAME = koffi.struct('PSS_THREAD_NAME', {
  ThreadNameSize: 'uint16',
  ThreadName: 'void *',
});

/** Every declared structure by its Windows name (the layout test walks this). */
export const ALL_STRUCTS = {
  FILETIME,
  MEMORY_BASIC_INFORMATION,
  PSS_ALLOCATOR,
  PSS_PROCESS_INFORMATION,
  PSS_VA_CLONE_INFORMATION,
  PSS_AUXILIARY_PAGES_INFORMATION,
  PSS_VA_SPACE_INFORMATION,
  PSS_HANDLE_INFORMATION,
  PSS_THREAD_INFORMATION,
  PSS_HANDLE_TRACE_INFORMATION,
  PSS_PERFORMANCE_COUNTERS,
  PSS_AUXILIARY_PAGE_ENTRY,
  PSS_VA_SPACE_ENTRY,
  PSS_HANDLE_ENTRY,
  PSS_THREAD_ENTRY,
  PSS_THREAD_NAME,
} as const;

/** Byte offsets of a struct's members, computed by koffi (so decoders share one truth). */
export function offsetsOf<T extends string>(type: TypeObject, ...members: T[]): Record<T, number> {
  const out = {} as Record<T, number>;
  for (const m of members) out[m] = koffi.offsetof(type, m);
  return out;
}
