/**
 * Decoders from native PSS structures to the plain objects of src-shared/pss/entries.ts.
 * They read a DataView over a native buffer at offsets koffi computed from the declarations in
 * ./types.ts, so the layout is stated once. Strings are UTF-16 with byte lengths (§3.4).
 */
import koffi from 'koffi';
import type {
  AuxPageEntry,
  HandleEntry,
  HandleTypeSpecific,
  HexAddress,
  PerformanceCounters,
  ProcessInformation,
  ThreadContextSummary,
  ThreadEntry,
  VaSpaceEntry,
} from '../../src-shared/pss/entries';
import { PssHandleFlags, PssObjectType } from '../../src-shared/pss/constants';
import { fileTimeFromParts, type FileTime } from '../../src-shared/pss/filetime';
import {
  MEMORY_BASIC_INFORMATION,
  PSS_AUXILIARY_PAGE_ENTRY,
  PSS_HANDLE_ENTRY,
  PSS_HANDLE_TYPE_SPECIFIC,
  HandleProcessInfo,
  HandleThreadInfo,
  HandleMutantInfo,
  HandleEventInfo,
  HandleSectionInfo,
  HandleSemaphoreInfo,
  PSS_PERFORMANCE_COUNTERS,
  PSS_PROCESS_INFORMATION,
  PSS_THREAD_ENTRY,
  PSS_VA_SPACE_ENTRY,
  offsetsOf,
} from './types';

const TWO_POW_32 = 4294967296;

export function hexAt(dv: DataView, off: number): HexAddress {
  const lo = dv.getUint32(off, true);
  const hi = dv.getUint32(off + 4, true);
  return hi === 0
    ? '0x' + lo.toString(16)
    : '0x' + hi.toString(16) + lo.toString(16).padStart(8, '0');
}

/** A pointer field as bigint (for following it into native memory). */
export function ptrAt(dv: DataView, off: number): bigint {
  return dv.getBigUint64(off, true);
}

/** u64 as a number (exact below 2^53: sizes, counters). */
export function u64At(dv: DataView, off: number): number {
  return dv.getUint32(off + 4, true) * TWO_POW_32 + dv.getUint32(off, true);
}

/** FILETIME → its exact decimal text ("0" stays "0"); never a float. */
export function fileTimeAt(dv: DataView, off: number): FileTime {
  return fileTimeFromParts(dv.getUint32(off + 4, true), dv.getUint32(off, true));
}

/**
 * FILETIME used as a duration (100-ns units) → an integer number. Exact: a duration reaches
 * 2^53 only after 28 years of CPU time, and a larger value is refused rather than rounded.
 */
export function durationAt(dv: DataView, off: number): number {
  const v = dv.getUint32(off + 4, true) * TWO_POW_32 + dv.getUint32(off, true);
  if (!Number.isSafeInteger(v)) throw new RangeError(`duration at offset ${off} exceeds 2^53`);
  return v;
}

/** UTF-16 text of `byteLength` bytes at a native address; a trailing NUL is dropped. */
export function utf16At(address: bigint, byteLength: number): string {
  if (address === 0n || byteLength < 2) return '';
  const s = koffi.decode(address, 'char16_t', byteLength >>> 1) as string;
  return s.endsWith('\0') ? s.slice(0, -1) : s;
}

const TH = offsetsOf(
  PSS_THREAD_ENTRY,
  'ExitStatus',
  'TebBaseAddress',
  'ProcessId',
  'ThreadId',
  'AffinityMask',
  'Priority',
  'BasePriority',
  'LastSyscallFirstArgument',
  'LastSyscallNumber',
  'CreateTime',
  'ExitTime',
  'KernelTime',
  'UserTime',
  'Win32StartAddress',
  'CaptureTime',
  'Flags',
  'SuspendCount',
  'SizeOfContextRecord',
  'ContextRecord',
);

/** x64 CONTEXT offsets (winnt.h): ContextFlags, Rsp, Rbp, Rip. */
const CONTEXT_FLAGS = 0x30;
const CONTEXT_RSP = 0x98;
const CONTEXT_RBP = 0xa0;
const CONTEXT_RIP = 0xf8;

function contextSummary(record: bigint, size: number): ThreadContextSummary | null {
  if (record === 0n || size < CONTEXT_RIP + 8) return null;
  const view = new DataView(koffi.view(record, CONTEXT_RIP + 8));
  return {
    contextFlags: view.getUint32(CONTEXT_FLAGS, true),
    rsp: hexAt(view, CONTEXT_RSP),
    rbp: hexAt(view, CONTEXT_RBP),
    rip: hexAt(view, CONTEXT_RIP),
  };
}

export function decodeThread(dv: DataView): ThreadEntry {
  const sizeOfContextRecord = dv.getUint16(TH.SizeOfContextRecord, true);
  return {
    kind: 'thread',
    exitStatus: dv.getUint32(TH.ExitStatus, true),
    tebBaseAddress: hexAt(dv, TH.TebBaseAddress),
    processId: dv.getUint32(TH.ProcessId, true),
    threadId: dv.getUint32(TH.ThreadId, true),
    affinityMask: hexAt(dv, TH.AffinityMask),
    priority: dv.getInt32(TH.Priority, true),
    basePriority: dv.getInt32(TH.BasePriority, true),
    lastSyscallFirstArgument: hexAt(dv, TH.LastSyscallFirstArgument),
    lastSyscallNumber: dv.getUint16(TH.LastSyscallNumber, true),
    createTime: fileTimeAt(dv, TH.CreateTime),
    exitTime: fileTimeAt(dv, TH.ExitTime),
    kernelTime: durationAt(dv, TH.KernelTime),
    userTime: durationAt(dv, TH.UserTime),
    win32StartAddress: hexAt(dv, TH.Win32StartAddress),
    captureTime: fileTimeAt(dv, TH.CaptureTime),
    flags: dv.getUint32(TH.Flags, true),
    suspendCount: dv.getUint16(TH.SuspendCount, true),
    sizeOfContextRecord,
    context: contextSummary(ptrAt(dv, TH.ContextRecord), sizeOfContextRecord),
  };
}

const HE = offsetsOf(
  PSS_HANDLE_ENTRY,
  'Handle',
  'Flags',
  'ObjectType',
  'CaptureTime',
  'Attributes',
  'GrantedAccess',
  'HandleCount',
  'PointerCount',
  'PagedPoolCharge',
  'NonPagedPoolCharge',
  'CreationTime',
  'TypeNameLength',
  'TypeName',
  'ObjectNameLength',
  'ObjectName',
  'TypeSpecificInformation',
);
/** The union starts at HE.TypeSpecificInformation; every member struct starts at its offset 0. */
const TS =
  HE.TypeSpecificInformation + (PSS_HANDLE_TYPE_SPECIFIC.members?.['Process']?.offset ?? 0);
const TP = offsetsOf(
  HandleProcessInfo,
  'ExitStatus',
  'PebBaseAddress',
  'AffinityMask',
  'BasePriority',
  'ProcessId',
  'ParentProcessId',
  'Flags',
);
const TT = offsetsOf(
  HandleThreadInfo,
  'ExitStatus',
  'TebBaseAddress',
  'ProcessId',
  'ThreadId',
  'AffinityMask',
  'Priority',
  'BasePriority',
  'Win32StartAddress',
);
const TM = offsetsOf(
  HandleMutantInfo,
  'CurrentCount',
  'Abandoned',
  'OwnerProcessId',
  'OwnerThreadId',
);
const TE = offsetsOf(HandleEventInfo, 'ManualReset', 'Signaled');
const TX = offsetsOf(HandleSectionInfo, 'BaseAddress', 'AllocationAttributes', 'MaximumSize');
const TZ = offsetsOf(HandleSemaphoreInfo, 'CurrentCount', 'MaximumCount');

function decodeTypeSpecific(dv: DataView, objectType: number): HandleTypeSpecific | null {
  const b = TS;
  switch (objectType) {
    case PssObjectType.PROCESS:
      return {
        type: 'process',
        exitStatus: dv.getUint32(b + TP.ExitStatus, true),
        pebBaseAddress: hexAt(dv, b + TP.PebBaseAddress),
        affinityMask: hexAt(dv, b + TP.AffinityMask),
        basePriority: dv.getInt32(b + TP.BasePriority, true),
        processId: dv.getUint32(b + TP.ProcessId, true),
        parentProcessId: dv.getUint32(b + TP.ParentProcessId, true),
        flags: dv.getUint32(b + TP.Flags, true),
      };
    case PssObjectType.THREAD:
      return {
        type: 'thread',
        exitStatus: dv.getUint32(b + TT.ExitStatus, true),
        tebBaseAddress: hexAt(dv, b + TT.TebBaseAddress),
        processId: dv.getUint32(b + TT.ProcessId, true),
        threadId: dv.getUint32(b + TT.ThreadId, true),
        affinityMask: hexAt(dv, b + TT.AffinityMask),
        priority: dv.getInt32(b + TT.Priority, true),
        basePriority: dv.getInt32(b + TT.BasePriority, true),
        win32StartAddress: hexAt(dv, b + TT.Win32StartAddress),
      };
    case PssObjectType.MUTANT:
      return {
        type: 'mutant',
        currentCount: dv.getInt32(b + TM.CurrentCount, true),
        abandoned: dv.getInt32(b + TM.Abandoned, true) !== 0,
        ownerProcessId: dv.getUint32(b + TM.OwnerProcessId, true),
        ownerThreadId: dv.getUint32(b + TM.OwnerThreadId, true),
      };
    case PssObjectType.EVENT:
      return {
        type: 'event',
        manualReset: dv.getInt32(b + TE.ManualReset, true) !== 0,
        signaled: dv.getInt32(b + TE.Signaled, true) !== 0,
      };
    case PssObjectType.SECTION:
      return {
        type: 'section',
        baseAddress: hexAt(dv, b + TX.BaseAddress),
        allocationAttributes: dv.getUint32(b + TX.AllocationAttributes, true),
        maximumSize: Number(dv.getBigInt64(b + TX.MaximumSize, true)),
      };
    case PssObjectType.SEMAPHORE:
      return {
        type: 'semaphore',
        currentCount: dv.getInt32(b + TZ.CurrentCount, true),
        maximumCount: dv.getInt32(b + TZ.MaximumCount, true),
      };
    default:
      return null;
  }
}

export function decodeHandle(dv: DataView): HandleEntry {
  const flags = dv.getUint32(HE.Flags, true);
  const objectType = dv.getInt32(HE.ObjectType, true);
  return {
    kind: 'handle',
    handle: u64At(dv, HE.Handle),
    flags,
    objectType,
    captureTime: fileTimeAt(dv, HE.CaptureTime),
    attributes: dv.getUint32(HE.Attributes, true),
    grantedAccess: dv.getUint32(HE.GrantedAccess, true),
    handleCount: dv.getUint32(HE.HandleCount, true),
    pointerCount: dv.getUint32(HE.PointerCount, true),
    pagedPoolCharge: dv.getUint32(HE.PagedPoolCharge, true),
    nonPagedPoolCharge: dv.getUint32(HE.NonPagedPoolCharge, true),
    creationTime: fileTimeAt(dv, HE.CreationTime),
    typeName: utf16At(ptrAt(dv, HE.TypeName), dv.getUint16(HE.TypeNameLength, true)),
    objectName: utf16At(ptrAt(dv, HE.ObjectName), dv.getUint16(HE.ObjectNameLength, true)),
    typeSpecific:
      flags & PssHandleFlags.HAVE_TYPE_SPECIFIC_INFORMATION
        ? decodeTypeSpecific(dv, objectType)
        : null,
  };
}

const VA = offsetsOf(
  PSS_VA_SPACE_ENTRY,
  'BaseAddress',
  'AllocationBase',
  'AllocationProtect',
  'RegionSize',
  'State',
  'Protect',
  'Type',
  'TimeDateStamp',
  'SizeOfImage',
  'ImageBase',
  'CheckSum',
  'MappedFileNameLength',
  'MappedFileName',
);

export function decodeRegion(dv: DataView): VaSpaceEntry {
  return {
    kind: 'region',
    baseAddress: hexAt(dv, VA.BaseAddress),
    allocationBase: hexAt(dv, VA.AllocationBase),
    allocationProtect: dv.getUint32(VA.AllocationProtect, true),
    regionSize: u64At(dv, VA.RegionSize),
    state: dv.getUint32(VA.State, true),
    protect: dv.getUint32(VA.Protect, true),
    type: dv.getUint32(VA.Type, true),
    timeDateStamp: dv.getUint32(VA.TimeDateStamp, true),
    sizeOfImage: dv.getUint32(VA.SizeOfImage, true),
    imageBase: hexAt(dv, VA.ImageBase),
    checkSum: dv.getUint32(VA.CheckSum, true),
    mappedFileName: utf16At(
      ptrAt(dv, VA.MappedFileName),
      dv.getUint16(VA.MappedFileNameLength, true),
    ),
  };
}

const AUX = offsetsOf(
  PSS_AUXILIARY_PAGE_ENTRY,
  'Address',
  'BasicInformation',
  'CaptureTime',
  'PageContents',
  'PageSize',
);
const MBI = offsetsOf(
  MEMORY_BASIC_INFORMATION,
  'BaseAddress',
  'AllocationBase',
  'AllocationProtect',
  'RegionSize',
  'State',
  'Protect',
  'Type',
);
const PREVIEW_BYTES = 32;

export function decodeAuxPage(dv: DataView): AuxPageEntry {
  const m = AUX.BasicInformation;
  const contents = ptrAt(dv, AUX.PageContents);
  const pageSize = dv.getUint32(AUX.PageSize, true);
  let contentsPreview = '';
  if (contents !== 0n && pageSize > 0) {
    const bytes = new Uint8Array(koffi.view(contents, Math.min(PREVIEW_BYTES, pageSize)));
    contentsPreview = Array.from(bytes, (x) => x.toString(16).padStart(2, '0')).join('');
  }
  return {
    kind: 'page',
    address: hexAt(dv, AUX.Address),
    basicInformation: {
      baseAddress: hexAt(dv, m + MBI.BaseAddress),
      allocationBase: hexAt(dv, m + MBI.AllocationBase),
      allocationProtect: dv.getUint32(m + MBI.AllocationProtect, true),
      regionSize: u64At(dv, m + MBI.RegionSize),
      state: dv.getUint32(m + MBI.State, true),
      protect: dv.getUint32(m + MBI.Protect, true),
      type: dv.getUint32(m + MBI.Type, true),
    },
    captureTime: fileTimeAt(dv, AUX.CaptureTime),
    pageSize,
    contentsPreview,
  };
}

const PI = offsetsOf(
  PSS_PROCESS_INFORMATION,
  'ExitStatus',
  'PebBaseAddress',
  'AffinityMask',
  'BasePriority',
  'ProcessId',
  'ParentProcessId',
  'Flags',
  'CreateTime',
  'ExitTime',
  'KernelTime',
  'UserTime',
  'PriorityClass',
  'PeakVirtualSize',
  'VirtualSize',
  'PageFaultCount',
  'PeakWorkingSetSize',
  'WorkingSetSize',
  'QuotaPeakPagedPoolUsage',
  'QuotaPagedPoolUsage',
  'QuotaPeakNonPagedPoolUsage',
  'QuotaNonPagedPoolUsage',
  'PagefileUsage',
  'PeakPagefileUsage',
  'PrivateUsage',
  'ExecuteFlags',
  'ImageFileName',
);

export function decodeProcessInformation(dv: DataView): ProcessInformation {
  const nameChars: number[] = [];
  for (let i = 0; i < 260; i++) {
    const c = dv.getUint16(PI.ImageFileName + i * 2, true);
    if (c === 0) break;
    nameChars.push(c);
  }
  return {
    exitStatus: dv.getUint32(PI.ExitStatus, true),
    pebBaseAddress: hexAt(dv, PI.PebBaseAddress),
    affinityMask: hexAt(dv, PI.AffinityMask),
    basePriority: dv.getInt32(PI.BasePriority, true),
    processId: dv.getUint32(PI.ProcessId, true),
    parentProcessId: dv.getUint32(PI.ParentProcessId, true),
    flags: dv.getUint32(PI.Flags, true),
    createTime: fileTimeAt(dv, PI.CreateTime),
    exitTime: fileTimeAt(dv, PI.ExitTime),
    kernelTime: durationAt(dv, PI.KernelTime),
    userTime: durationAt(dv, PI.UserTime),
    priorityClass: dv.getUint32(PI.PriorityClass, true),
    peakVirtualSize: u64At(dv, PI.PeakVirtualSize),
    virtualSize: u64At(dv, PI.VirtualSize),
    pageFaultCount: dv.getUint32(PI.PageFaultCount, true),
    peakWorkingSetSize: u64At(dv, PI.PeakWorkingSetSize),
    workingSetSize: u64At(dv, PI.WorkingSetSize),
    quotaPeakPagedPoolUsage: u64At(dv, PI.QuotaPeakPagedPoolUsage),
    quotaPagedPoolUsage: u64At(dv, PI.QuotaPagedPoolUsage),
    quotaPeakNonPagedPoolUsage: u64At(dv, PI.QuotaPeakNonPagedPoolUsage),
    quotaNonPagedPoolUsage: u64At(dv, PI.QuotaNonPagedPoolUsage),
    pagefileUsage: u64At(dv, PI.PagefileUsage),
    peakPagefileUsage: u64At(dv, PI.PeakPagefileUsage),
    privateUsage: u64At(dv, PI.PrivateUsage),
    executeFlags: dv.getUint32(PI.ExecuteFlags, true),
    imageFileName: String.fromCharCode(...nameChars),
  };
}

const PC = offsetsOf(
  PSS_PERFORMANCE_COUNTERS,
  'TotalCycleCount',
  'TotalWallClockPeriod',
  'VaCloneCycleCount',
  'VaCloneWallClockPeriod',
  'VaSpaceCycleCount',
  'VaSpaceWallClockPeriod',
  'AuxPagesCycleCount',
  'AuxPagesWallClockPeriod',
  'HandlesCycleCount',
  'HandlesWallClockPeriod',
  'ThreadsCycleCount',
  'ThreadsWallClockPeriod',
);

export function decodePerformanceCounters(dv: DataView): PerformanceCounters {
  return {
    totalCycleCount: u64At(dv, PC.TotalCycleCount),
    totalWallClockPeriod: u64At(dv, PC.TotalWallClockPeriod),
    vaCloneCycleCount: u64At(dv, PC.VaCloneCycleCount),
    vaCloneWallClockPeriod: u64At(dv, PC.VaCloneWallClockPeriod),
    vaSpaceCycleCount: u64At(dv, PC.VaSpaceCycleCount),
    vaSpaceWallClockPeriod: u64At(dv, PC.VaSpaceWallClockPeriod),
    auxPagesCycleCount: u64At(dv, PC.AuxPagesCycleCount),
    auxPagesWallClockPeriod: u64At(dv, PC.AuxPagesWallClockPeriod),
    handlesCycleCount: u64At(dv, PC.HandlesCycleCount),
    handlesWallClockPeriod: u64At(dv, PC.HandlesWallClockPeriod),
    threadsCycleCount: u64At(dv, PC.ThreadsCycleCount),
    threadsWallClockPeriod: u64At(dv, PC.ThreadsWallClockPeriod),
  };
}
