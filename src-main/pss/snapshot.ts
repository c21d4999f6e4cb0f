/**
 * Typed wrappers over the Process Snapshotting API: open a process, capture, query, walk with a
 * marker (optionally with a TypeScript allocator), duplicate, free. Native handles are released
 * deterministically (free()/close() or [Symbol.dispose]); lifetime misuse throws PssMisuseError.
 * Raw pointers never leave this folder except as opaque bigint inside these classes.
 */
import koffi, { type TypeObject } from 'koffi';
import type { NativeAllocator } from './allocator';
import type { NativePssAllocator } from './native-tracer';
import { PssError, PssMisuseError } from './errors';
import { CURRENT_PROCESS, loadPss, type LoadedPss } from './library';
import { nativeMemory } from './native-memory';
import { asAddress, registerAllocatorRoutines, type RegisteredRoutines } from './routines';
import {
  decodeAuxPage,
  decodeHandle,
  decodePerformanceCounters,
  decodeProcessInformation,
  decodeRegion,
  decodeThread,
} from './decode';
import {
  PSS_ALLOCATOR,
  PSS_AUXILIARY_PAGE_ENTRY,
  PSS_AUXILIARY_PAGES_INFORMATION,
  PSS_HANDLE_ENTRY,
  PSS_HANDLE_INFORMATION,
  PSS_PERFORMANCE_COUNTERS,
  PSS_PROCESS_INFORMATION,
  PSS_THREAD_ENTRY,
  PSS_THREAD_INFORMATION,
  PSS_VA_SPACE_ENTRY,
  PSS_VA_SPACE_INFORMATION,
} from './types';
import {
  PssQueryClass,
  PssWalkClass,
  Win32Error,
  type WalkableClass,
} from '../../src-shared/pss/constants';
import type {
  PerformanceCounters,
  ProcessInformation,
  SnapshotCounts,
  WalkEntry,
} from '../../src-shared/pss/entries';

function check(api: string, code: number): void {
  if (code !== Win32Error.SUCCESS) throw new PssError(api, code);
}

/** A process opened for capture (pidfd-backed on Linux, OpenProcess on Windows). */
export class ProcessHandle {
  private closed = false;
  private constructor(
    private readonly pss: LoadedPss,
    /** @internal */ readonly raw: bigint,
    readonly pid: number,
    private readonly owned: boolean,
  ) {}

  static open(pid: number): ProcessHandle {
    if (!Number.isInteger(pid) || pid <= 0 || pid > 0xffffffff) {
      throw new PssMisuseError(
        'bad-argument',
        `process id must be a positive integer, got ${String(pid)}`,
      );
    }
    const pss = loadPss();
    const out: [bigint | null] = [null];
    const code = pss.process.open(pid, out);
    if (code !== 0) {
      throw new PssError(
        'OpenProcess',
        code,
        code === Win32Error.INVALID_PARAMETER ? `No process with id ${pid} exists.` : undefined,
      );
    }
    return new ProcessHandle(pss, asAddress(out[0]), pid, true);
  }

  /** The calling process, as the pseudo-handle (HANDLE)-1. */
  static current(): ProcessHandle {
    return new ProcessHandle(loadPss(), CURRENT_PROCESS, process.pid, false);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** @internal */ assertOpen(): void {
    if (this.closed)
      throw new PssMisuseError('process-closed', `process handle for pid ${this.pid} is closed`);
  }

  close(): void {
    if (this.closed)
      throw new PssMisuseError('process-closed', `process handle for pid ${this.pid} closed twice`);
    this.closed = true;
    if (this.owned) check('CloseProcess', this.pss.process.close(this.raw));
  }

  [Symbol.dispose](): void {
    if (!this.closed) this.close();
  }
}

interface WalkClassInfo {
  value: number;
  size: number;
  decode(dv: DataView): WalkEntry;
}

export const WALK_CLASSES: Record<WalkableClass, WalkClassInfo> = {
  THREADS: {
    value: PssWalkClass.THREADS,
    size: koffi.sizeof(PSS_THREAD_ENTRY),
    decode: decodeThread,
  },
  HANDLES: {
    value: PssWalkClass.HANDLES,
    size: koffi.sizeof(PSS_HANDLE_ENTRY),
    decode: decodeHandle,
  },
  VA_SPACE: {
    value: PssWalkClass.VA_SPACE,
    size: koffi.sizeof(PSS_VA_SPACE_ENTRY),
    decode: decodeRegion,
  },
  AUXILIARY_PAGES: {
    value: PssWalkClass.AUXILIARY_PAGES,
    size: koffi.sizeof(PSS_AUXILIARY_PAGE_ENTRY),
    decode: decodeAuxPage,
  },
};
const MAX_ENTRY_SIZE = Math.max(...Object.values(WALK_CLASSES).map((c) => c.size));

/** Hooks a marker reports through (the tracer uses them); all optional. */
export interface MarkerHooks {
  /** An allocator callback threw; the native call saw NULL / nothing. */
  onCallbackError?(routine: 'alloc' | 'free', error: unknown): void;
}

/**
 * A walk marker. With an allocator, its alloc/free are registered as the marker's
 * AllocRoutine/FreeRoutine for the marker's whole life and unregistered after PssWalkMarkerFree.
 */
export class WalkMarker {
  private freed = false;
  /** Native scratch buffer one entry is walked into, and a view of it made once. */
  private readonly buffer: bigint;
  /** @internal */ readonly view: DataView;

  private constructor(
    private readonly pss: LoadedPss,
    /** @internal */ readonly raw: bigint,
    private readonly allocatorBlock: bigint,
    private readonly routines: RegisteredRoutines | null,
  ) {
    this.buffer = nativeMemory.malloc(MAX_ENTRY_SIZE);
    if (this.buffer === 0n)
      throw new PssError('malloc', Win32Error.NOT_ENOUGH_MEMORY, 'No memory for the walk buffer.');
    this.view = new DataView(koffi.view(this.buffer, MAX_ENTRY_SIZE));
  }

  /** @internal */ get entryBuffer(): bigint {
    return this.buffer;
  }

  /**
   * With a NativeAllocator its routines are registered as koffi callbacks; with a native
   * tracer (./native-tracer.ts) its C PSS_ALLOCATOR is passed as it is (the tracer keeps it
   * alive until after PssWalkMarkerFree).
   */
  static create(
    allocator?: NativeAllocator | NativePssAllocator,
    hooks: MarkerHooks = {},
  ): WalkMarker {
    const pss = loadPss();
    if (allocator && 'pssAllocatorAddress' in allocator) {
      const out: [bigint | null] = [null];
      const code = pss.fn.PssWalkMarkerCreate(allocator.pssAllocatorAddress, out);
      if (code !== 0) throw new PssError('PssWalkMarkerCreate', code);
      try {
        return new WalkMarker(pss, asAddress(out[0]), 0n, null);
      } catch (e) {
        pss.fn.PssWalkMarkerFree(asAddress(out[0]));
        throw e;
      }
    }
    let allocatorBlock = 0n;
    const routines = allocator ? registerAllocatorRoutines(allocator, hooks.onCallbackError) : null;
    const unwind = (): void => {
      routines?.unregister();
      nativeMemory.free(allocatorBlock);
    };
    if (routines) {
      // The PSS_ALLOCATOR must outlive the marker (the API keeps the pointer), so it lives in
      // native memory we own until after PssWalkMarkerFree.
      allocatorBlock = nativeMemory.malloc(koffi.sizeof(PSS_ALLOCATOR));
      if (allocatorBlock === 0n) {
        unwind();
        throw new PssError(
          'malloc',
          Win32Error.NOT_ENOUGH_MEMORY,
          'No memory for the PSS_ALLOCATOR.',
        );
      }
      koffi.encode(allocatorBlock, PSS_ALLOCATOR, {
        Context: 0n,
        AllocRoutine: routines.allocRoutine,
        FreeRoutine: routines.freeRoutine,
      });
    }
    const out: [bigint | null] = [null];
    const code = pss.fn.PssWalkMarkerCreate(routines ? allocatorBlock : null, out);
    if (code !== 0) {
      unwind();
      throw new PssError('PssWalkMarkerCreate', code);
    }
    try {
      return new WalkMarker(pss, asAddress(out[0]), allocatorBlock, routines);
    } catch (e) {
      pss.fn.PssWalkMarkerFree(asAddress(out[0]));
      unwind();
      throw e;
    }
  }

  get isFreed(): boolean {
    return this.freed;
  }

  /** @internal */ assertLive(): void {
    if (this.freed)
      throw new PssMisuseError('marker-freed', 'walk marker used after PssWalkMarkerFree');
  }

  getPosition(): bigint {
    this.assertLive();
    const out: [number | bigint | null] = [null];
    check('PssWalkMarkerGetPosition', this.pss.fn.PssWalkMarkerGetPosition(this.raw, out));
    return asAddress(out[0]);
  }

  setPosition(position: bigint): void {
    this.assertLive();
    check('PssWalkMarkerSetPosition', this.pss.fn.PssWalkMarkerSetPosition(this.raw, position));
  }

  seekToBeginning(): void {
    this.assertLive();
    check('PssWalkMarkerSeekToBeginning', this.pss.fn.PssWalkMarkerSeekToBeginning(this.raw));
  }

  /** PssWalkMarkerFree, then unregister the allocator callbacks and release our buffers. */
  free(): void {
    if (this.freed) throw new PssMisuseError('marker-freed', 'walk marker freed twice');
    this.freed = true;
    const code = this.pss.fn.PssWalkMarkerFree(this.raw);
    this.routines?.unregister();
    nativeMemory.free(this.allocatorBlock);
    nativeMemory.free(this.buffer);
    check('PssWalkMarkerFree', code);
  }

  [Symbol.dispose](): void {
    if (!this.freed) this.free();
  }
}

/** An immutable point-in-time capture of a process. */
export class Snapshot {
  private freed = false;
  private constructor(
    private readonly pss: LoadedPss,
    /** @internal */ readonly raw: bigint,
    readonly pid: number,
    readonly flags: number,
  ) {}

  /** @internal Wraps a snapshot another binding call captured (./details.ts). */
  static adopt(pss: LoadedPss, raw: bigint, pid: number, flags: number): Snapshot {
    return new Snapshot(pss, raw, pid, flags >>> 0);
  }

  static capture(process: ProcessHandle, flags: number, threadContextFlags = 0): Snapshot {
    process.assertOpen();
    const pss = loadPss();
    const out: [bigint | null] = [null];
    const code = pss.fn.PssCaptureSnapshot(process.raw, flags >>> 0, threadContextFlags >>> 0, out);
    if (code !== 0) throw new PssError('PssCaptureSnapshot', code);
    return new Snapshot(pss, asAddress(out[0]), process.pid, flags >>> 0);
  }

  get isFreed(): boolean {
    return this.freed;
  }

  private assertLive(): void {
    if (this.freed)
      throw new PssMisuseError('snapshot-freed', 'snapshot used after PssFreeSnapshot');
  }

  /** Runs one PssQuerySnapshot into a scratch buffer; returns the code and a view. */
  private queryRaw(cls: number, type: TypeObject): { code: number; dv: DataView | null } {
    this.assertLive();
    const size = koffi.sizeof(type);
    const buf = nativeMemory.malloc(size);
    if (buf === 0n) throw new PssError('malloc', Win32Error.NOT_ENOUGH_MEMORY);
    const code = this.pss.fn.PssQuerySnapshot(this.raw, cls, buf, size);
    // Copy out so the native buffer can go at once.
    const dv = code === 0 ? new DataView(nativeMemory.copyOut(buf, size).buffer) : null;
    nativeMemory.free(buf);
    return { code, dv };
  }

  private queryOrNull<T>(cls: number, type: TypeObject, decode: (dv: DataView) => T): T | null {
    const r = this.queryRaw(cls, type);
    if (r.code === Win32Error.NOT_FOUND) return null;
    check('PssQuerySnapshot', r.code);
    return decode(r.dv as DataView);
  }

  processInformation(): ProcessInformation {
    const info = this.queryOrNull(
      PssQueryClass.PROCESS_INFORMATION,
      PSS_PROCESS_INFORMATION,
      decodeProcessInformation,
    );
    if (!info) throw new PssError('PssQuerySnapshot', Win32Error.NOT_FOUND);
    return info;
  }

  performanceCounters(): PerformanceCounters | null {
    return this.queryOrNull(
      PssQueryClass.PERFORMANCE_COUNTERS,
      PSS_PERFORMANCE_COUNTERS,
      decodePerformanceCounters,
    );
  }

  /** Record counts per class; null where the class was not captured. */
  counts(): SnapshotCounts {
    const u32 = (dv: DataView): number => dv.getUint32(0, true);
    const threads = this.queryOrNull(
      PssQueryClass.THREAD_INFORMATION,
      PSS_THREAD_INFORMATION,
      (dv) => ({
        n: dv.getUint32(0, true),
        ctx: dv.getUint32(4, true),
      }),
    );
    return {
      threads: threads?.n ?? null,
      contextLength: threads?.ctx ?? null,
      handles: this.queryOrNull(PssQueryClass.HANDLE_INFORMATION, PSS_HANDLE_INFORMATION, u32),
      regions: this.queryOrNull(PssQueryClass.VA_SPACE_INFORMATION, PSS_VA_SPACE_INFORMATION, u32),
      auxPages: this.queryOrNull(
        PssQueryClass.AUXILIARY_PAGES_INFORMATION,
        PSS_AUXILIARY_PAGES_INFORMATION,
        u32,
      ),
    };
  }

  /**
   * One PssWalkSnapshot call: the next entry of `cls` for this marker, or null at the end
   * (ERROR_NO_MORE_ITEMS). Any other failure throws PssError; the marker does not advance.
   */
  walkNext(marker: WalkMarker, cls: WalkableClass): WalkEntry | null {
    const code = this.walkNextRaw(marker, cls);
    if (code === Win32Error.NO_MORE_ITEMS) return null;
    check('PssWalkSnapshot', code);
    return WALK_CLASSES[cls].decode(marker.view);
  }

  /** The raw form of walkNext for callers that handle codes themselves (the walk session). */
  walkNextRaw(marker: WalkMarker, cls: WalkableClass): number {
    this.assertLive();
    marker.assertLive();
    const c = WALK_CLASSES[cls];
    return this.pss.fn.PssWalkSnapshot(this.raw, c.value, marker.raw, marker.entryBuffer, c.size);
  }

  /** Decodes the entry the last successful walkNextRaw left in the marker's buffer. */
  decodeCurrent(marker: WalkMarker, cls: WalkableClass): WalkEntry {
    marker.assertLive();
    return WALK_CLASSES[cls].decode(marker.view);
  }

  /** True when the marker has another entry of `cls` (NULL buffer → ERROR_MORE_DATA). */
  hasNext(marker: WalkMarker, cls: WalkableClass): boolean {
    this.assertLive();
    marker.assertLive();
    const c = WALK_CLASSES[cls];
    const code = this.pss.fn.PssWalkSnapshot(this.raw, c.value, marker.raw, null, c.size);
    if (code === Win32Error.MORE_DATA) return true;
    if (code === Win32Error.NO_MORE_ITEMS) return false;
    throw new PssError('PssWalkSnapshot', code);
  }

  /** Walks a whole class with a fresh marker (freed however the iteration ends). */
  *entries(cls: WalkableClass, allocator?: NativeAllocator): Generator<WalkEntry, void, void> {
    const marker = WalkMarker.create(allocator);
    try {
      for (;;) {
        const e = this.walkNext(marker, cls);
        if (e === null) return;
        yield e;
      }
    } finally {
      marker.free();
    }
  }

  /** PssDuplicateSnapshot within the current process: an independent copy. */
  duplicate(): Snapshot {
    this.assertLive();
    const out: [bigint | null] = [null];
    check(
      'PssDuplicateSnapshot',
      this.pss.fn.PssDuplicateSnapshot(CURRENT_PROCESS, this.raw, CURRENT_PROCESS, out, 0),
    );
    return new Snapshot(this.pss, asAddress(out[0]), this.pid, this.flags);
  }

  free(): void {
    if (this.freed) throw new PssMisuseError('snapshot-freed', 'snapshot freed twice');
    this.freed = true;
    check('PssFreeSnapshot', this.pss.fn.PssFreeSnapshot(CURRENT_PROCESS, this.raw));
  }

  [Symbol.dispose](): void {
    if (!this.freed) this.free();
  }
}
