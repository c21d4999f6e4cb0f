/**
 * TracedAllocator: the object a walk session registers as a marker's PSS_ALLOCATOR. It forwards
 * every AllocRoutine/FreeRoutine call to a strategy and turns each into one 48-byte event
 * (src-shared/events/layout.ts) through the session's EventWriter, checks the allocator
 * contract (pss-api.md §3.3) as it goes. It counts nothing the events say: a session's counts
 * are the ledger folded over its events (src-shared/ledger); the strategy keeps its own facts.
 *
 * How the walk session uses it (one TracedAllocator per marker, one EventWriter per session):
 *
 *   const traced = new TracedAllocator({ strategy: createStrategy(opts), writer, markerId });
 *   traced.enter(ApiCall.PssWalkMarkerCreate);
 *   try { marker = WalkMarker.create(traced, traced) } catch (e) { traced.apiError(...) }
 *   finally { traced.leave(code) }
 *   traced.markerCreated();
 *   traced.enter(ApiCall.PssWalkSnapshot, cls); …PssWalkSnapshot…; traced.leave(code);
 *   traced.walkStep(cls, index, code) / traced.walkEnd(cls, count);
 *   traced.enter(ApiCall.PssWalkMarkerFree); marker.free(); traced.leave(code);
 *   traced.markerFreed();          // guard check, one Leak event per outstanding block
 *   traced.release();              // returns the strategy's memory (deferred if the marker lives)
 *
 * Hot path (alloc/free): no object allocation, no Map, no closures; one BigInt↔number
 * conversion per call. Nothing thrown inside a routine reaches native
 * code: it is caught, counted, reported to onCallbackError, and alloc returns 0n.
 */
import type { NativeAllocator } from '../pss';
import { nativeMemory } from '../pss';
import {
  ApiCall,
  EventKind,
  FailReason,
  GuardVerdict,
  NO_CLASS,
  isCallEnding,
} from '../../src-shared/events/layout';
import { EventWriter, splitAddress } from '../../src-shared/events/batch';
import { Win32Error } from '../../src-shared/pss/constants';
import { ReleasedReason, WrongThreadReason } from '../../src-shared/alloc/stats';
import type { AllocatorStats } from '../../src-shared/alloc/stats';
import { AddressTable, addrHi, addrLo, toAddressNumber } from './address-table';
import type { AllocatorStrategy, GuardFinding, LiveBlock } from './strategy';

export interface TracedAllocatorOptions {
  strategy: AllocatorStrategy;
  /** The session's writer (shared by all markers of a session: one seq space, one clock). */
  writer: EventWriter;
  /** Session-local marker number (u32, 0 = none); markerCreated() may set it later. */
  markerId?: number;
  /** Thread-id source, called once per enter() (default: gettid). Injectable for tests. */
  threadId?: () => number;
  /**
   * Also read the thread id inside every routine and compare it with the one enter() saw
   * (ViolationWrongThread, aux0 = ThreadMismatch). Costs a gettid (~200 ns) per call; off by
   * default because with koffi it cannot fire: see checkContext().
   */
  verifyThreadPerCall?: boolean;
  /** Called (never from native code's point of view) when a routine caught an exception. */
  onCallbackError?: (routine: 'alloc' | 'free', error: unknown) => void;
}

const API_COUNT = 7;
const U32_MAX = 0xffffffff;

function clampU32(n: number): number {
  return n > U32_MAX ? U32_MAX : n;
}

export class TracedAllocator implements NativeAllocator {
  readonly strategy: AllocatorStrategy;
  private readonly writer: EventWriter;
  private readonly code: number;
  private readonly threadIdSource: () => number;
  private readonly verifyThread: boolean;
  private readonly onError: ((routine: 'alloc' | 'free', error: unknown) => void) | undefined;
  private markerIdValue: number;

  // Call context, set by enter()/leave().
  private api: number = ApiCall.None;
  private cls: number = NO_CLASS;
  private tid: number;
  /** The writer's clock at enter(); the duration leave() measured, until its ending event. */
  private callStart = 0;
  private callNs = 0;
  private callApi: number = ApiCall.None;

  // Live blocks as the API sees them: address → (size, seq of the Alloc event).
  private readonly live = new AddressTable();
  // Blocks reported as leaks (still not freed), same shape.
  private readonly leaked = new AddressTable(16);
  private committed = 0n;

  // Only the tracer's own facts: the live bytes each event carries (aux1) and the exceptions
  // caught in the routines. Every count of the events is the ledger's (src-shared/ledger).
  private liveBytes = 0;
  private callbackErrors = 0;

  private markerLive = false;
  private released = false;
  private releasePending = false;

  constructor(options: TracedAllocatorOptions) {
    this.strategy = options.strategy;
    this.writer = options.writer;
    this.code = options.strategy.code;
    this.threadIdSource = options.threadId ?? (() => nativeMemory.currentThreadId());
    this.verifyThread = options.verifyThreadPerCall ?? false;
    this.onError = options.onCallbackError;
    this.markerIdValue = checkMarkerId(options.markerId ?? 0);
    this.tid = this.threadIdSource();
  }

  get markerId(): number {
    return this.markerIdValue;
  }

  /** The API call in progress (ApiCall.None between calls). */
  get currentApi(): number {
    return this.api;
  }

  // ---- call context ------------------------------------------------------------------------

  /** Before each Pss call on this marker: which call, which class (PssWalkSnapshot). */
  enter(api: number, walkClass: number = NO_CLASS): void {
    if (!Number.isInteger(api) || api <= ApiCall.None || api >= API_COUNT)
      throw new RangeError(`enter: unknown API ${api}`);
    if (
      walkClass !== NO_CLASS &&
      !(Number.isInteger(walkClass) && walkClass >= 0 && walkClass <= 4)
    )
      throw new RangeError(`enter: unknown walk class ${walkClass}`);
    if (this.api !== ApiCall.None)
      throw new Error(`enter(${api}) while API ${this.api} is still in progress (missing leave())`);
    this.api = api;
    this.cls = walkClass;
    this.tid = this.threadIdSource();
    this.callNs = 0;
    this.callStart = this.writer.now();
  }

  /**
   * After each Pss call (also when it threw: pass the code you have, or -1). A successful
   * PssWalkMarkerCreate makes the marker live (release() is deferred from then on).
   */
  leave(resultCode: number): void {
    const api = this.api;
    if (api === ApiCall.None) return;
    // The call's duration, for its ending event (layout.ts: isCallEnding); ≥ 1 (0 = unknown).
    this.callNs = Math.max(1, Math.min(0xffffffff, this.writer.now() - this.callStart));
    this.callApi = api;
    this.api = ApiCall.None;
    this.cls = NO_CLASS;
    // The marker exists from the moment PssWalkMarkerCreate succeeds, whether or not the
    // session has called markerCreated() yet: a release() in between must still be deferred.
    if (api === ApiCall.PssWalkMarkerCreate && resultCode === Win32Error.SUCCESS)
      this.markerLive = true;
    // A release requested during a call that left no marker behind can happen now.
    if (this.releasePending && !this.markerLive) this.doRelease();
  }

  // ---- the routines ------------------------------------------------------------------------

  /** AllocRoutine(Context, Size). */
  alloc(size: number): bigint {
    this.committed = 0n;
    try {
      return this.traceAlloc(size);
    } catch (e) {
      return this.allocError(e, size);
    }
  }

  /** FreeRoutine(Context, Address); 0n is NULL. */
  free(address: bigint): void {
    try {
      this.traceFree(address);
    } catch (e) {
      this.routineError('free', e);
    }
  }

  private traceAlloc(size: number): bigint {
    if (this.api === ApiCall.None || this.verifyThread) this.checkContext(0n, 0, size);
    if (this.released) {
      this.emit(
        EventKind.ViolationAllocatorReleased,
        0,
        0,
        size,
        ReleasedReason.UsedAfterRelease,
        0,
      );
      return this.noteFailed(size, FailReason.Exhausted);
    }
    const s = this.strategy;
    const p = s.alloc(size);
    if (p === 0n) return this.noteFailed(size, s.lastFailReason);
    const n = s.lastAddress;
    this.live.set(n, size, this.writer.seq >>> 0);
    this.committed = p;
    const live = (this.liveBytes += size);
    this.emit(EventKind.Alloc, n >>> 0, (n / 4294967296) >>> 0, size, s.lastFact, clampU32(live));
    return p;
  }

  private noteFailed(size: number, reason: number): bigint {
    this.emit(EventKind.AllocFailed, 0, 0, size, reason, clampU32(this.liveBytes));
    return 0n;
  }

  private traceFree(address: bigint): void {
    const n = address === 0n ? 0 : toAddressNumber(address);
    if (this.api === ApiCall.None || this.verifyThread) this.checkContext(address, n, 0);
    if (this.released) {
      this.emitAddress(
        EventKind.ViolationAllocatorReleased,
        address,
        n,
        0,
        ReleasedReason.UsedAfterRelease,
        0,
      );
      return;
    }
    const s = this.strategy;
    if (address === 0n) {
      s.freeAt(0n, 0);
      this.emit(EventKind.FreeNull, 0, 0, 0, s.lastFact, clampU32(this.liveBytes));
      return;
    }
    let table = this.live;
    let i = n > 0 ? table.find(n) : -1;
    if (i < 0 && n > 0 && this.leaked.count > 0) {
      table = this.leaked;
      i = table.find(n);
    }
    s.freeAt(address, n);
    if (i >= 0) {
      const size = table.sizeAt(i);
      table.removeAt(i);
      const live = (this.liveBytes -= size);
      this.emit(EventKind.Free, n >>> 0, (n / 4294967296) >>> 0, size, s.lastFact, clampU32(live));
    } else {
      const verdict = s.lastVerdict;
      const kind =
        verdict === GuardVerdict.DoubleFree
          ? EventKind.ViolationDoubleFree
          : EventKind.ViolationUnknownFree;
      this.emitAddress(kind, address, n, 0, verdict, 0);
    }
    if (s.pendingFindings > 0) this.emitFindings(s.takeFindings());
  }

  /**
   * Contract: the routines run only inside a Pss call on this marker, on the caller's thread.
   * With koffi a routine called by native code on a foreign thread is not run there: koffi
   * queues it to the JS thread, where it runs after the synchronous Pss call has returned (or
   * never, if native code waits for it). So a wrong-thread call shows up as a call OUTSIDE any
   * Pss call (aux0 = OutsideCall), and the per-call thread comparison (ThreadMismatch) can only
   * fire with a threadId source other than the JS thread's own — kept for non-koffi bindings.
   */
  private checkContext(address: bigint, n: number, size: number): void {
    if (this.api === ApiCall.None) {
      this.emitAddress(
        EventKind.ViolationWrongThread,
        address,
        n,
        size,
        WrongThreadReason.OutsideCall,
        0,
      );
      return;
    }
    const t = this.threadIdSource();
    if (t === this.tid) return;
    const [lo, hi] = n >= 0 ? [addrLo(n), addrHi(n)] : splitAddress(address);
    this.write(
      EventKind.ViolationWrongThread,
      this.api,
      this.cls,
      t,
      lo,
      hi,
      size,
      WrongThreadReason.ThreadMismatch,
      this.tid,
    );
  }

  private allocError(e: unknown, size: number): bigint {
    this.routineError('alloc', e);
    // The block was handed out and is tracked; only its event failed. Native code gets it.
    if (this.committed !== 0n) return this.committed;
    try {
      this.noteFailed(size, FailReason.None);
    } catch {
      // the writer itself is failing: nothing more to record
    }
    return 0n;
  }

  private routineError(routine: 'alloc' | 'free', e: unknown): void {
    this.callbackErrors++;
    try {
      this.onError?.(routine, e);
    } catch {
      // an error hook must not throw into native code either
    }
  }

  /** MarkerHooks.onCallbackError for WalkMarker.create: errors that escaped the binding. */
  onCallbackError(routine: 'alloc' | 'free', error: unknown): void {
    this.routineError(routine, error);
  }

  // ---- event writing -----------------------------------------------------------------------

  private write(
    kind: number,
    api: number,
    cls: number,
    tid: number,
    lo: number,
    hi: number,
    size: number,
    aux0: number,
    aux1: number,
  ): void {
    this.writer.write(kind, api, cls, this.code, this.markerIdValue, tid, lo, hi, size, aux0, aux1);
  }

  private emit(
    kind: number,
    lo: number,
    hi: number,
    size: number,
    aux0: number,
    aux1: number,
  ): void {
    this.write(kind, this.api, this.cls, this.tid, lo, hi, size, aux0, aux1);
  }

  /** For rare events that carry an address that may not be a valid number key. */
  private emitAddress(
    kind: number,
    address: bigint,
    n: number,
    size: number,
    aux0: number,
    aux1: number,
  ): void {
    if (n >= 0) this.emit(kind, addrLo(n), addrHi(n), size, aux0, aux1);
    else {
      const [lo, hi] = splitAddress(address);
      this.emit(kind, lo, hi, size, aux0, aux1);
    }
  }

  private emitMarker(
    kind: number,
    api: number,
    cls: number,
    lo: number,
    hi: number,
    size: number,
    aux0: number,
    aux1: number,
  ): void {
    if (isCallEnding(kind) && this.callNs !== 0 && api === this.callApi) {
      size = this.callNs;
      this.callNs = 0;
    }
    this.write(kind, api, cls, this.tid, lo, hi, size, aux0, aux1);
  }

  private emitFindings(findings: readonly GuardFinding[]): number {
    for (const f of findings) {
      const [lo, hi] = splitAddress(f.address);
      this.emit(EventKind.ViolationGuard, lo, hi, f.size, f.verdict, 0);
    }
    return findings.length;
  }

  // ---- marker events (called by the walk session) -----------------------------------------

  /** PssWalkMarkerCreate succeeded. */
  markerCreated(markerId?: number): void {
    if (markerId !== undefined) this.markerIdValue = checkMarkerId(markerId);
    this.markerLive = true;
    this.emitMarker(EventKind.MarkerCreated, ApiCall.PssWalkMarkerCreate, NO_CLASS, 0, 0, 0, 0, 0);
  }

  /** One PssWalkSnapshot call on `walkClass` returned `resultCode` for entry `entryIndex`. */
  walkStep(walkClass: number, entryIndex: number, resultCode: number): void {
    this.emitMarker(
      EventKind.WalkStep,
      ApiCall.PssWalkSnapshot,
      walkClass,
      0,
      0,
      0,
      entryIndex,
      resultCode,
    );
  }

  /** The walk of `walkClass` reached ERROR_NO_MORE_ITEMS after `count` entries. */
  walkEnd(walkClass: number, count: number): void {
    this.emitMarker(
      EventKind.WalkEnd,
      ApiCall.PssWalkSnapshot,
      walkClass,
      0,
      0,
      0,
      count,
      Win32Error.NO_MORE_ITEMS,
    );
  }

  positionGet(position: bigint): void {
    const [lo, hi] = splitAddress(position);
    this.emitMarker(
      EventKind.PositionGet,
      ApiCall.PssWalkMarkerGetPosition,
      NO_CLASS,
      0,
      0,
      0,
      lo,
      hi,
    );
  }

  positionSet(position: bigint): void {
    const [lo, hi] = splitAddress(position);
    this.emitMarker(
      EventKind.PositionSet,
      ApiCall.PssWalkMarkerSetPosition,
      NO_CLASS,
      0,
      0,
      0,
      lo,
      hi,
    );
  }

  seek(): void {
    this.emitMarker(EventKind.Seek, ApiCall.PssWalkMarkerSeekToBeginning, NO_CLASS, 0, 0, 0, 0, 0);
  }

  /** A Pss call on this marker failed with `code`. */
  apiError(api: number, code: number): void {
    this.emitMarker(
      EventKind.ApiError,
      api,
      api === this.api ? this.cls : NO_CLASS,
      0,
      0,
      0,
      0,
      code,
    );
  }

  /** Runs the guard check over every live block now; returns the number of findings. */
  checkAll(): number {
    if (this.released) return 0;
    let n = 0;
    if (this.strategy.pendingFindings > 0) n += this.emitFindings(this.strategy.takeFindings());
    return n + this.emitFindings(this.strategy.checkAll());
  }

  /**
   * PssWalkMarkerFree returned: red zones are checked one last time, every block still
   * outstanding becomes a Leak event (aux0 = seq of its Alloc event), then MarkerFreed
   * (aux0 = leaked blocks, aux1 = leaked bytes). The strategy is reset, and a deferred
   * release() happens now.
   */
  markerFreed(): void {
    this.checkAll();
    const [blocks, bytes] = this.reportLeaks(ApiCall.PssWalkMarkerFree);
    this.markerLive = false;
    this.emitMarker(
      EventKind.MarkerFreed,
      ApiCall.PssWalkMarkerFree,
      NO_CLASS,
      0,
      0,
      0,
      blocks,
      clampU32(bytes),
    );
    if (!this.released) this.strategy.reset();
    if (this.releasePending && this.api === ApiCall.None) this.doRelease();
  }

  private reportLeaks(api: number): [number, number] {
    const entries = this.live.entries().sort((a, b) => a[2] - b[2]);
    let bytes = 0;
    for (const [k, size, seq] of entries) {
      this.emitMarker(EventKind.Leak, api, NO_CLASS, addrLo(k), addrHi(k), size, seq, 0);
      this.leaked.set(k, size, seq);
      bytes += size;
    }
    this.live.clear();
    return [entries.length, bytes];
  }

  // ---- lifetime ----------------------------------------------------------------------------

  /**
   * Returns the strategy's native memory. While the marker lives (or a Pss call is in
   * progress) that would pull memory out from under native code: instead a
   * ViolationAllocatorReleased event (aux0 = ReleaseDeferred) is written and the release
   * happens in markerFreed(). Returns whether the memory was released now.
   */
  release(): boolean {
    if (this.released) return true;
    if (this.markerLive || this.api !== ApiCall.None) {
      if (!this.releasePending) {
        this.releasePending = true;
        this.emit(EventKind.ViolationAllocatorReleased, 0, 0, 0, ReleasedReason.ReleaseDeferred, 0);
      }
      return false;
    }
    this.doRelease();
    return true;
  }

  private doRelease(): void {
    this.checkAll();
    if (this.live.count > 0) this.reportLeaks(ApiCall.None);
    this.strategy.release();
    this.released = true;
    this.releasePending = false;
  }

  get isReleased(): boolean {
    return this.released;
  }

  /** Exceptions caught inside the routines so far. */
  get callbackErrorCount(): number {
    return this.callbackErrors;
  }

  get isReleasePending(): boolean {
    return this.releasePending;
  }

  // ---- reports -----------------------------------------------------------------------------

  /** Blocks the API allocated and has not freed (leaks included), sorted by address. */
  outstanding(): LiveBlock[] {
    const rows = [...this.live.entries(), ...this.leaked.entries()].sort((a, b) => a[0] - b[0]);
    return rows.map(([k, size]) => ({
      address: (BigInt(addrHi(k)) << 32n) | BigInt(addrLo(k)),
      size,
    }));
  }

  stats(): AllocatorStats {
    return this.strategy.stats();
  }
}

function checkMarkerId(id: number): number {
  if (!Number.isInteger(id) || id < 0 || id > U32_MAX)
    throw new RangeError(`marker id must be a u32 (got ${id})`);
  return id;
}

/**
 * Monotonic whole ns since the call, for EventWriter's clock (performance.now based, ~45 ns).
 * Rounded: the float product carries sub-ns noise (66843170.0000001) that no reader wants, and
 * whole ns let trace files store times as small integer deltas (src-main/trace/event-columns.ts).
 */
export function createSessionClock(): () => number {
  const t0 = performance.now();
  return () => Math.round((performance.now() - t0) * 1e6);
}

/** The session's EventWriter: batches of `capacity` events, timestamps from a fresh clock. */
export function createSessionWriter(
  onBatch: (batch: ArrayBuffer, firstSeq: number) => void,
  capacity = 4096,
  clock: () => number = createSessionClock(),
): EventWriter {
  return new EventWriter(capacity, onBatch, clock);
}
