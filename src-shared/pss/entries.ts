/**
 * Plain-object forms of what a snapshot walk and query return. These cross every process
 * boundary (worker → main → renderer), so they hold no native pointers: addresses are exact
 * lowercase hex strings (`0x7ffd…`), because 64-bit addresses do not fit a JS number and
 * bigint does not survive JSON.
 */

/** Exact 64-bit address as `0x` + lowercase hex. */
export type HexAddress = string;

import type { FileTime } from './filetime';
import type { HandleDetails, Maybe, RegionDetails, ThreadDetails } from './details';

export type { FileTime } from './filetime';

export interface ProcessInformation {
  exitStatus: number;
  pebBaseAddress: HexAddress;
  affinityMask: HexAddress;
  basePriority: number;
  processId: number;
  parentProcessId: number;
  flags: number;
  createTime: FileTime;
  exitTime: FileTime;
  /** 100-ns units. */
  kernelTime: number;
  /** 100-ns units. */
  userTime: number;
  priorityClass: number;
  peakVirtualSize: number;
  virtualSize: number;
  pageFaultCount: number;
  peakWorkingSetSize: number;
  workingSetSize: number;
  quotaPeakPagedPoolUsage: number;
  quotaPagedPoolUsage: number;
  quotaPeakNonPagedPoolUsage: number;
  quotaNonPagedPoolUsage: number;
  pagefileUsage: number;
  peakPagefileUsage: number;
  privateUsage: number;
  executeFlags: number;
  imageFileName: string;
}

export interface PerformanceCounters {
  totalCycleCount: number;
  totalWallClockPeriod: number;
  vaCloneCycleCount: number;
  vaCloneWallClockPeriod: number;
  vaSpaceCycleCount: number;
  vaSpaceWallClockPeriod: number;
  auxPagesCycleCount: number;
  auxPagesWallClockPeriod: number;
  handlesCycleCount: number;
  handlesWallClockPeriod: number;
  threadsCycleCount: number;
  threadsWallClockPeriod: number;
}

export interface SnapshotCounts {
  threads: number | null;
  contextLength: number | null;
  handles: number | null;
  regions: number | null;
  auxPages: number | null;
}

export interface ThreadContextSummary {
  contextFlags: number;
  rip: HexAddress;
  rsp: HexAddress;
  rbp: HexAddress;
}

export interface ThreadEntry {
  kind: 'thread';
  exitStatus: number;
  tebBaseAddress: HexAddress;
  processId: number;
  threadId: number;
  affinityMask: HexAddress;
  priority: number;
  basePriority: number;
  lastSyscallFirstArgument: HexAddress;
  lastSyscallNumber: number;
  createTime: FileTime;
  exitTime: FileTime;
  kernelTime: number;
  userTime: number;
  win32StartAddress: HexAddress;
  captureTime: FileTime;
  flags: number;
  suspendCount: number;
  sizeOfContextRecord: number;
  context: ThreadContextSummary | null;
  /** Inspection details captured with the snapshot (absent: not captured; see details.ts). */
  details?: Maybe<ThreadDetails>;
}

export type HandleTypeSpecific =
  | {
      type: 'process';
      exitStatus: number;
      pebBaseAddress: HexAddress;
      affinityMask: HexAddress;
      basePriority: number;
      processId: number;
      parentProcessId: number;
      flags: number;
    }
  | {
      type: 'thread';
      exitStatus: number;
      tebBaseAddress: HexAddress;
      processId: number;
      threadId: number;
      affinityMask: HexAddress;
      priority: number;
      basePriority: number;
      win32StartAddress: HexAddress;
    }
  | {
      type: 'mutant';
      currentCount: number;
      abandoned: boolean;
      ownerProcessId: number;
      ownerThreadId: number;
    }
  | { type: 'event'; manualReset: boolean; signaled: boolean }
  | { type: 'section'; baseAddress: HexAddress; allocationAttributes: number; maximumSize: number }
  | { type: 'semaphore'; currentCount: number; maximumCount: number };

export interface HandleEntry {
  kind: 'handle';
  handle: number;
  flags: number;
  objectType: number;
  captureTime: FileTime;
  attributes: number;
  grantedAccess: number;
  handleCount: number;
  pointerCount: number;
  pagedPoolCharge: number;
  nonPagedPoolCharge: number;
  creationTime: FileTime;
  typeName: string;
  objectName: string;
  typeSpecific: HandleTypeSpecific | null;
  /** Inspection details captured with the snapshot (absent: not captured; see details.ts). */
  details?: Maybe<HandleDetails>;
}

export interface VaSpaceEntry {
  kind: 'region';
  baseAddress: HexAddress;
  allocationBase: HexAddress;
  allocationProtect: number;
  regionSize: number;
  state: number;
  protect: number;
  type: number;
  timeDateStamp: number;
  sizeOfImage: number;
  imageBase: HexAddress;
  checkSum: number;
  mappedFileName: string;
  /** Kind and usage captured with the snapshot (absent: not captured; see details.ts). */
  details?: Maybe<RegionDetails>;
}

export interface MemoryBasicInformation {
  baseAddress: HexAddress;
  allocationBase: HexAddress;
  allocationProtect: number;
  regionSize: number;
  state: number;
  protect: number;
  type: number;
}

export interface AuxPageEntry {
  kind: 'page';
  address: HexAddress;
  basicInformation: MemoryBasicInformation;
  captureTime: FileTime;
  pageSize: number;
  /** First bytes of the page as hex, for display (the full page stays native). */
  contentsPreview: string;
}

export type WalkEntry = ThreadEntry | HandleEntry | VaSpaceEntry | AuxPageEntry;
