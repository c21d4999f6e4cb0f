/**
 * The binary layout of one trace event. Every allocator and marker event of a session is one
 * fixed-size little-endian record of EVENT_SIZE bytes; records travel in batches (one
 * ArrayBuffer holding many records) from the walk worker to main, into the trace store, and to
 * the renderer. Encoder and decoder (./batch.ts) are the only code that knows these offsets.
 *
 *  off  type  field
 *    0  f64   seq        sequence number within the session, from 0, no gaps
 *    8  f64   timeNs     monotonic ns since the session started
 *   16  u32   addrLo     block address, low 32 bits (0 for NULL / not applicable)
 *   20  u32   addrHi     block address, high 32 bits
 *   24  u32   size       bytes requested (alloc), or block size (free, leak, violation); on a
 *                          call-ending event (see CALL_ENDING_KINDS) the call's duration in ns
 *                          (enter to leave, ≥ 1), 0 when it was not recorded
 *   28  u8    kind       EventKind
 *   29  u8    api        ApiCall in progress when the event happened
 *   30  u8    walkClass  PSS_WALK_INFORMATION_CLASS of the call, or NO_CLASS
 *   31  u8    strategy   StrategyId | FAULTY_BIT when a faulty wrapper is in front
 *   32  u32   markerId   session-local marker number (0 = none)
 *   36  u32   threadId   OS thread id the routine ran on
 *   40  u32   aux0       kind-specific (see EventKind docs)
 *   44  u32   aux1       kind-specific
 */
export const EVENT_SIZE = 48;

export const Off = {
  seq: 0,
  timeNs: 8,
  addrLo: 16,
  addrHi: 20,
  size: 24,
  kind: 28,
  api: 29,
  walkClass: 30,
  strategy: 31,
  markerId: 32,
  threadId: 36,
  aux0: 40,
  aux1: 44,
} as const;

/**
 * What happened. aux0/aux1 meanings:
 * - Alloc: aux0 = strategy fact (arena offset / pool class index / guard red-zone bytes), aux1 = live bytes after
 * - AllocFailed: aux0 = reason (FailReason), aux1 = live bytes
 * - Free / FreeNull: aux0 = strategy fact (guard verdict for guard), aux1 = live bytes after
 * - WalkStep: aux0 = entry index within the class, aux1 = Win32 result code
 * - WalkEnd: aux0 = entries walked in the class, aux1 = ERROR_NO_MORE_ITEMS
 * - PositionGet / PositionSet: aux0/aux1 = position low/high 32 bits
 * - ApiError: aux1 = Win32 error code
 * - Leak: address/size of the block still outstanding at marker free
 * - Violation*: aux0 = GuardVerdict (guard) or 0
 * - ViolationWrongThread: aux0 = 1 outside any Pss call, 2 thread mismatch (aux1 = caller's tid)
 * - ViolationAllocatorReleased: aux0 = 1 release deferred while the marker lives, 2 used after release
 * - Leak: aux0 = seq of the block's Alloc event
 * - MarkerFreed: aux0 = leaked blocks, aux1 = leaked bytes
 * - ViolationUserAllocator: aux0 = UserAllocatorReason; Overlap: aux1 = the older block's size
 * - AllocFailed with aux0 = FailReason.None: the allocator threw (caught, NULL returned)
 * - pool Alloc/Free with aux0 = 0xffff: the request bypassed the size classes (malloc fallback)
 * (src-shared/alloc/stats.ts names these values.)
 */
export const EventKind = {
  Alloc: 0,
  AllocFailed: 1,
  Free: 2,
  FreeNull: 3,
  MarkerCreated: 10,
  WalkStep: 11,
  WalkEnd: 12,
  PositionGet: 13,
  PositionSet: 14,
  Seek: 15,
  MarkerFreed: 16,
  ApiError: 17,
  ViolationWrongThread: 20,
  ViolationUnknownFree: 21,
  Leak: 22,
  ViolationAllocatorReleased: 23,
  ViolationGuard: 24,
  ViolationDoubleFree: 25,
  /** A user allocator library broke a rule (aux0 = UserAllocatorReason). Native tracer only. */
  ViolationUserAllocator: 26,
} as const;
export type EventKindName = keyof typeof EventKind;
export type EventKindValue = (typeof EventKind)[EventKindName];

export const EVENT_KIND_NAMES: Readonly<Record<number, EventKindName>> = Object.fromEntries(
  Object.entries(EventKind).map(([k, v]) => [v, k as EventKindName]),
);

/**
 * The marker events that end a Pss call: their `size` is the call's duration in ns (from just
 * before the call to just after it, ≥ 1), or 0 when it was not recorded (traces written before
 * durations were, or a marker event reported without its call). Both tracers record it.
 */
export function isCallEnding(kind: number): boolean {
  return kind >= EventKind.MarkerCreated && kind <= EventKind.ApiError;
}

/** Contract checks and guard findings. */
export function isViolation(kind: number): boolean {
  return kind >= EventKind.ViolationWrongThread;
}

export const ApiCall = {
  None: 0,
  PssWalkMarkerCreate: 1,
  PssWalkSnapshot: 2,
  PssWalkMarkerFree: 3,
  PssWalkMarkerSeekToBeginning: 4,
  PssWalkMarkerSetPosition: 5,
  PssWalkMarkerGetPosition: 6,
} as const;
export type ApiCallName = keyof typeof ApiCall;
export type ApiCallValue = (typeof ApiCall)[ApiCallName];
export const API_CALL_NAMES: Readonly<Record<number, ApiCallName>> = Object.fromEntries(
  Object.entries(ApiCall).map(([k, v]) => [v, k as ApiCallName]),
);

/** walkClass value when the event is not inside a PssWalkSnapshot call. */
export const NO_CLASS = 255;

/** user: the routines of a user's allocator library (native tracer only). */
export const StrategyId = { heap: 0, arena: 1, pool: 2, guard: 3, user: 4 } as const;
export type StrategyName = keyof typeof StrategyId;
export const STRATEGY_NAMES: Readonly<Record<number, StrategyName>> = Object.fromEntries(
  Object.entries(StrategyId).map(([k, v]) => [v, k as StrategyName]),
);
/** Set in the strategy byte when a `faulty` wrapper sits in front of the strategy. */
export const FAULTY_BIT = 0x80;

export const FailReason = {
  None: 0,
  /** the wrapped strategy itself returned NULL (e.g. arena exhausted) */
  Exhausted: 1,
  FailNth: 2,
  Probability: 3,
  Budget: 4,
} as const;

export const GuardVerdict = {
  Ok: 0,
  Overrun: 1,
  Underrun: 2,
  DoubleFree: 3,
  UnknownAddress: 4,
} as const;

/** aux0 of ViolationUserAllocator. */
export const UserAllocatorReason = {
  /** AllocRoutine returned a block that is not 16-byte aligned. */
  Misaligned: 1,
  /** AllocRoutine returned a block that is still live (handed out twice). */
  Overlap: 2,
} as const;
