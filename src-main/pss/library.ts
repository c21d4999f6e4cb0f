/**
 * Loads the Process Snapshotting API: kernel32.dll on Windows, our libpss.so elsewhere, and
 * declares every function once. One LoadedPss per JS thread (the walk worker loads its own).
 */
import koffi, { type LibraryHandle } from 'koffi';
import { PssLoadError, findLibpss } from './locate';

export type Ptr = bigint;

/** The raw functions, typed. Every one returns a Win32 error code. */
export interface PssFunctions {
  PssCaptureSnapshot(process: Ptr, flags: number, contextFlags: number, out: [Ptr | null]): number;
  PssFreeSnapshot(process: Ptr, snapshot: Ptr): number;
  PssQuerySnapshot(snapshot: Ptr, cls: number, buffer: Ptr, length: number): number;
  PssDuplicateSnapshot(
    src: Ptr,
    snapshot: Ptr,
    target: Ptr,
    out: [Ptr | null],
    flags: number,
  ): number;
  PssWalkMarkerCreate(allocator: Ptr | null, out: [Ptr | null]): number;
  PssWalkMarkerFree(marker: Ptr): number;
  PssWalkMarkerGetPosition(marker: Ptr, out: [number | bigint | null]): number;
  PssWalkMarkerSetPosition(marker: Ptr, position: bigint): number;
  PssWalkMarkerSeekToBeginning(marker: Ptr): number;
  PssWalkSnapshot(
    snapshot: Ptr,
    cls: number,
    marker: Ptr,
    buffer: Ptr | null,
    length: number,
  ): number;
}

export interface ProcessFunctions {
  /** Opens a process for capture; returns a Win32 code. */
  open(pid: number, out: [Ptr | null]): number;
  close(handle: Ptr): number;
}

/** libpss's inspection-details extension (include/processsnapshot.h); Linux only. */
export interface DetailsFunctions {
  PssLinuxCaptureSnapshotAndDetails(
    process: Ptr,
    flags: number,
    contextFlags: number,
    detailFlags: number,
    snapshot: [Ptr | null],
    details: [Ptr | null],
  ): number;
  PssLinuxQueryDetails(details: Ptr, length: number, buffer: Ptr): number;
  PssLinuxReadDetails(
    details: Ptr,
    cls: number,
    first: number,
    count: number,
    recordLength: number,
    buffer: Ptr | null,
    read: [number | null],
  ): number;
  PssLinuxFreeDetails(details: Ptr): number;
}

export interface LoadedPss {
  path: string;
  platform: 'windows' | 'linux';
  fn: PssFunctions;
  process: ProcessFunctions;
  /** null on Windows (kernel32 has no such functions): details are then not captured. */
  details: DetailsFunctions | null;
}

/** (HANDLE)-1: the calling process, as GetCurrentProcess() returns it. */
export const CURRENT_PROCESS: Ptr = 0xffff_ffff_ffff_ffffn;

export { PssLoadError, findLibpss } from './locate';

let loaded: LoadedPss | null = null;

export function loadPss(): LoadedPss {
  if (loaded) return loaded;
  const windows = process.platform === 'win32';
  const path = windows ? 'kernel32.dll' : findLibpss();
  let lib: LibraryHandle;
  try {
    lib = koffi.load(path);
  } catch (e) {
    throw new PssLoadError(`could not load ${path}: ${(e as Error).message}`);
  }
  const HPSS = 'void *';
  const cc = windows ? '__stdcall ' : '';
  const decl = (proto: string): ((...args: never[]) => number) =>
    lib.func(proto.replace('DWORD ', `uint32_t ${cc}`)) as never;
  const fn = {
    PssCaptureSnapshot: decl(
      `DWORD PssCaptureSnapshot(${HPSS} ProcessHandle, uint32_t CaptureFlags, uint32_t ThreadContextFlags, _Out_ ${HPSS} *SnapshotHandle)`,
    ),
    PssFreeSnapshot: decl(`DWORD PssFreeSnapshot(${HPSS} ProcessHandle, ${HPSS} SnapshotHandle)`),
    PssQuerySnapshot: decl(
      `DWORD PssQuerySnapshot(${HPSS} SnapshotHandle, int32_t InformationClass, void *Buffer, uint32_t BufferLength)`,
    ),
    PssDuplicateSnapshot: decl(
      `DWORD PssDuplicateSnapshot(${HPSS} SourceProcessHandle, ${HPSS} SnapshotHandle, ${HPSS} TargetProcessHandle, _Out_ ${HPSS} *TargetSnapshotHandle, uint32_t Flags)`,
    ),
    PssWalkMarkerCreate: decl(
      `DWORD PssWalkMarkerCreate(void *Allocator, _Out_ ${HPSS} *WalkMarkerHandle)`,
    ),
    PssWalkMarkerFree: decl(`DWORD PssWalkMarkerFree(${HPSS} WalkMarkerHandle)`),
    PssWalkMarkerGetPosition: decl(
      `DWORD PssWalkMarkerGetPosition(${HPSS} WalkMarkerHandle, _Out_ uint64_t *Position)`,
    ),
    PssWalkMarkerSetPosition: decl(
      `DWORD PssWalkMarkerSetPosition(${HPSS} WalkMarkerHandle, uint64_t Position)`,
    ),
    PssWalkMarkerSeekToBeginning: decl(
      `DWORD PssWalkMarkerSeekToBeginning(${HPSS} WalkMarkerHandle)`,
    ),
    PssWalkSnapshot: decl(
      `DWORD PssWalkSnapshot(${HPSS} SnapshotHandle, int32_t InformationClass, ${HPSS} WalkMarkerHandle, void *Buffer, uint32_t BufferLength)`,
    ),
  } as unknown as PssFunctions;

  let processFns: ProcessFunctions;
  if (windows) {
    const openProcess = lib.func(
      'void * __stdcall OpenProcess(uint32_t access, int32_t inherit, uint32_t pid)',
    ) as (a: number, i: number, p: number) => Ptr | null;
    const getLastError = lib.func('uint32_t __stdcall GetLastError(void)') as () => number;
    const closeHandle = lib.func('int32_t __stdcall CloseHandle(void *h)') as (h: Ptr) => number;
    // PROCESS_QUERY_INFORMATION | PROCESS_VM_READ | PROCESS_DUP_HANDLE | PROCESS_VM_OPERATION (see fact sheet §4.13).
    const access = 0x0400 | 0x0010 | 0x0040 | 0x0008;
    processFns = {
      open(pid, out) {
        const h = openProcess(access, 0, pid);
        if (!h) return getLastError();
        out[0] = h;
        return 0;
      },
      close: (h) => (closeHandle(h) ? 0 : getLastError()),
    };
  } else {
    const openLinux = decl(
      `DWORD PssLinuxOpenProcess(uint32_t ProcessId, _Out_ void **ProcessHandle)`,
    ) as unknown as ProcessFunctions['open'];
    const closeLinux = decl(
      `DWORD PssLinuxCloseProcess(void *ProcessHandle)`,
    ) as unknown as ProcessFunctions['close'];
    processFns = { open: openLinux, close: closeLinux };
  }
  const details = windows
    ? null
    : ({
        PssLinuxCaptureSnapshotAndDetails: decl(
          `DWORD PssLinuxCaptureSnapshotAndDetails(${HPSS} ProcessHandle, uint32_t CaptureFlags, uint32_t ThreadContextFlags, uint32_t DetailFlags, _Out_ ${HPSS} *SnapshotHandle, _Out_ void **Details)`,
        ),
        PssLinuxQueryDetails: decl(
          `DWORD PssLinuxQueryDetails(void *Details, uint32_t BufferLength, void *Buffer)`,
        ),
        PssLinuxReadDetails: decl(
          `DWORD PssLinuxReadDetails(void *Details, uint32_t Class, uint32_t First, uint32_t Count, uint32_t RecordLength, void *Buffer, _Out_ uint32_t *Read)`,
        ),
        PssLinuxFreeDetails: decl(`DWORD PssLinuxFreeDetails(void *Details)`),
      } as unknown as DetailsFunctions);
  loaded = { path, platform: windows ? 'windows' : 'linux', fn, process: processFns, details };
  return loaded;
}
