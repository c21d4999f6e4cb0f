/**
 * What an allocator strategy and a traced allocator report, as plain JSON-able data (main
 * computes it, the renderer shows it), plus the meaning of the aux values the allocator code
 * puts into events beyond what ../events/layout.ts spells out.
 *
 * No Node or DOM imports: this file is shared by every process.
 */
import type { ApiCallName } from '../events/layout';
import type { BaseStrategyName } from './options';

/** aux0 of an Alloc/Free event of the pool strategy when the request bypassed the classes. */
export const POOL_LARGE_FACT = 0xffff;

/** aux0 of ViolationWrongThread. */
export const WrongThreadReason = {
  /** A routine ran while no Pss call was in progress on this allocator. */
  OutsideCall: 1,
  /** A routine ran on another thread than the one that entered the Pss call (aux1 = that id). */
  ThreadMismatch: 2,
} as const;

/** aux0 of ViolationAllocatorReleased. */
export const ReleasedReason = {
  /** release() while the marker lives: deferred until the marker is freed. */
  ReleaseDeferred: 1,
  /** A routine called after the allocator was released (alloc returned NULL, free ignored). */
  UsedAfterRelease: 2,
} as const;

/** Counters every strategy keeps. Bytes are requested sizes unless said otherwise. */
export interface AllocatorCounters {
  /** Successful allocations. */
  allocations: number;
  /** Allocations that returned NULL (for a faulty wrapper: injected ones included). */
  failures: number;
  /** Frees of blocks this strategy gave out. */
  frees: number;
  /** free(NULL) calls. */
  freeNulls: number;
  /** Frees of addresses the strategy does not own (never given out, or already freed). */
  badFrees: number;
  liveBlocks: number;
  liveBytes: number;
  peakBytes: number;
  /** Bytes ever allocated successfully. */
  totalBytes: number;
  /** Native memory the strategy holds right now (arena block, slabs, red zones, quarantine). */
  nativeBytes: number;
}

export interface HeapFacts {
  strategy: 'heap';
}

export interface ArenaFacts {
  strategy: 'arena';
  capacityBytes: number;
  /** Bump offset: bytes of the arena consumed since the last reset. */
  usedBytes: number;
  /** Highest bump offset ever reached. */
  highWaterBytes: number;
  /** Arena bytes of freed blocks (rounded sizes): not reusable until reset. */
  freedBytes: number;
  /** Alignment padding of the live blocks. */
  paddingBytes: number;
  /** usedBytes − liveBytes: consumed but not holding live data. */
  wasteBytes: number;
  /** Allocations refused because the arena was full. */
  exhausted: number;
  resets: number;
}

export interface PoolClassFacts {
  size: number;
  inUse: number;
  free: number;
  slabs: number;
  requests: number;
}

export interface PoolFacts {
  strategy: 'pool';
  blocksPerSlab: number;
  classes: PoolClassFacts[];
  /** Requests larger than the biggest class, served by malloc. */
  fallback: { allocations: number; liveBlocks: number; liveBytes: number };
}

export interface GuardFacts {
  strategy: 'guard';
  /** Bytes of each red zone (the option rounded up to 16). */
  redZoneBytes: number;
  canaryByte: number;
  overruns: number;
  underruns: number;
  doubleFrees: number;
  unknownFrees: number;
  /** Blocks whose red zones were compared (at free and by checkAll). */
  checks: number;
  /** Freed blocks held back from libc so that a double free is recognised. */
  quarantinedBlocks: number;
}

/** A user's allocator library (native tracer): what it is; its own books are its own. */
export interface UserFacts {
  strategy: 'user';
  libraryPath: string;
}

export type StrategyFacts = HeapFacts | ArenaFacts | PoolFacts | GuardFacts | UserFacts;

export interface FaultFacts {
  /** Allocation attempts that reached the faulty wrapper. */
  attempts: number;
  failNth: number;
  probability: number;
  budget: number;
  /** Failures of the wrapped strategy itself. */
  innerFailures: number;
}

export interface AllocatorStats extends AllocatorCounters {
  strategy: BaseStrategyName | 'user';
  /** Value of the event's strategy byte (StrategyId | FAULTY_BIT). */
  code: number;
  faulty: boolean;
  released: boolean;
  facts: StrategyFacts;
  faults: FaultFacts | null;
}

/** Counts and bytes for one API call or one walk class. */
export interface BreakdownRow {
  /** Pss calls entered (enter()) with this API / walk class. */
  calls: number;
  /** Of those, calls that left with a code other than SUCCESS, NO_MORE_ITEMS or MORE_DATA. */
  errors: number;
  allocations: number;
  allocBytes: number;
  failures: number;
  frees: number;
  freeBytes: number;
  freeNulls: number;
}

export const WALK_CLASS_KEYS = [
  'AUXILIARY_PAGES',
  'VA_SPACE',
  'HANDLES',
  'THREADS',
  'THREAD_NAME',
  'NONE',
] as const;
export type WalkClassKey = (typeof WALK_CLASS_KEYS)[number];

export const VIOLATION_KINDS = [
  'ViolationWrongThread',
  'ViolationUnknownFree',
  'Leak',
  'ViolationAllocatorReleased',
  'ViolationGuard',
  'ViolationDoubleFree',
  'ViolationUserAllocator',
] as const;
export type ViolationKindName = (typeof VIOLATION_KINDS)[number];

export interface TraceSummary {
  markerId: number;
  strategyCode: number;
  /** Events this traced allocator wrote. */
  events: number;
  allocations: number;
  failures: number;
  frees: number;
  freeNulls: number;
  bytesAllocated: number;
  bytesFreed: number;
  liveBytes: number;
  peakLiveBytes: number;
  /** Allocated by the API and never freed through the routine (allocations − frees). */
  outstandingBlocks: number;
  outstandingBytes: number;
  violations: Record<ViolationKindName, number>;
  /** Exceptions caught inside the routines (never passed to native code). */
  callbackErrors: number;
  byApi: Record<ApiCallName, BreakdownRow>;
  byWalkClass: Record<WalkClassKey, BreakdownRow>;
  markerLive: boolean;
  released: boolean;
  releasePending: boolean;
}
