/**
 * The session's tracer. By default the native one (liballoctrace through
 * src-main/pss/native-tracer.ts: strategies, checks and events in C, no JavaScript per
 * allocation); with `tracer: 'js'` the JavaScript one (src-main/alloc: a strategy wrapped in a
 * TracedAllocator writing into the session's EventWriter, called back through koffi). Both
 * write the same events and the same summary. Also keeps the tracers not yet released, so the
 * worker can report native bytes still held.
 */
import {
  NativeTracer,
  WALK_CLASSES,
  WalkMarker,
  nativeMemory,
  type MarkerHooks,
  type Snapshot,
} from '../pss';
import type { WalkEntry } from '../../src-shared/pss/entries';
import { ApiCall } from '../../src-shared/events/layout';
import { PssWalkClass, Win32Error, type WalkableClass } from '../../src-shared/pss/constants';
import { TracedAllocator, createStrategy } from '../alloc';
import { EventBatchView, EventWriter } from '../../src-shared/events/batch';
import type { AllocatorOptions } from '../../src-shared/alloc/options';
import { Ledger } from '../../src-shared/ledger/ledger';
import type { SessionSummary } from '../../src-shared/contract/model';

const BATCH_EVENTS = 4096;
/** Every session has exactly one marker. */
const MARKER_ID = 1;

/** Whatever can report the native bytes it holds (a JS strategy or a native tracer). */
const unreleased = new Set<{ stats(): { nativeBytes: number } }>();

/**
 * The OS id of this JS thread, read once: allocator callbacks always run on the JS thread that
 * made the Pss call (koffi queues foreign-thread calls to it), so it cannot change per call,
 * and a gettid syscall per Pss call would cost ~200 ns on the hot path.
 */
const THREAD_ID = nativeMemory.currentThreadId();

/** Native bytes held by strategies that have not been released yet (0 when all sessions ended). */
export function liveAllocatorNativeBytes(): number {
  let total = 0;
  for (const s of unreleased) total += s.stats().nativeBytes;
  return total;
}

/**
 * The tracer's part of a session summary: the ledger folded over every event the tracer wrote,
 * the strategy's own facts and the callback errors (the session adds its id, walk counts and
 * durations).
 */
export type TracerTotals = Omit<SessionSummary, 'sessionId' | 'entriesWalked' | 'durations'>;

/** The totals of a session that made no event (failed before its tracer existed). */
export function emptyTotals(): TracerTotals {
  return { ...new Ledger().summary(), strategy: null, callbackErrors: 0 };
}

export interface SessionTracer {
  /** 'native' (liballoctrace) or 'js' (koffi callbacks into src-main/alloc). */
  readonly kind: 'native' | 'js';
  readonly eventCount: number;
  /** PssWalkMarkerCreate with this tracer's PSS_ALLOCATOR (the caller brackets it). */
  createMarker(hooks: MarkerHooks): WalkMarker;
  /**
   * One PssWalkSnapshot call, bracketed, with its WalkStep / WalkEnd / ApiError event
   * (entryIndex: the index of the entry it walks, or the count at the end). Returns its code.
   */
  walk(snapshot: Snapshot, marker: WalkMarker, cls: WalkableClass, entryIndex: number): number;
  /**
   * Native only: up to `max` walk() calls of `cls` in one native call, entries firstIndex on;
   * stops after the first code that is not SUCCESS. Returns the calls made and the last code.
   */
  walkMany?(
    snapshot: Snapshot,
    marker: WalkMarker,
    cls: WalkableClass,
    firstIndex: number,
    max: number,
  ): { steps: number; code: number };
  /** Entry k of the last walkMany, decoded. */
  entryAt?(cls: WalkableClass, k: number): WalkEntry;
  enter(api: number, walkClass: number): void;
  leave(code: number): void;
  markerCreated(): void;
  walkStep(walkClass: number, entryIndex: number, code: number): void;
  walkEnd(walkClass: number, count: number): void;
  positionGet(position: bigint): void;
  positionSet(position: bigint): void;
  seek(): void;
  apiError(api: number, code: number): void;
  callbackError(routine: 'alloc' | 'free', error: unknown): void;
  markerFreed(): void;
  /** Sends the pending events as a batch. */
  flush(): void;
  /** Returns the strategy's native memory (deferred by the tracer while the marker lives). */
  release(): void;
  /** Sends the pending events, then returns the ledger of every event written so far. */
  summary(): TracerTotals;
}

/**
 * The one count of a session's events: every batch is folded into `ledger` as it leaves the
 * tracer, then passed on. Both tracers write through it, so the summary is the ledger's.
 */
function folding(
  ledger: Ledger,
  onBatch: (firstSeq: number, batch: ArrayBuffer) => void,
): (firstSeq: number, batch: ArrayBuffer) => void {
  return (firstSeq, batch) => {
    const view = new EventBatchView(batch);
    ledger.fold(view, 0, view.count);
    onBatch(firstSeq, batch);
  };
}

/**
 * @param t0 the session's performance.now() origin: event times are ns since then.
 * @param onBatch receives each full (or flushed) batch, in order.
 * @param kind 'native' (the default) or 'js'.
 * @param ringFile native: keep the event ring in this file (a walk child's, see ./child.ts).
 */
export function createSessionTracer(
  options: AllocatorOptions,
  t0: number,
  onBatch: (firstSeq: number, batch: ArrayBuffer) => void,
  kind: 'native' | 'js' = 'native',
  ringFile?: string,
): SessionTracer {
  return kind === 'native'
    ? createNativeSessionTracer(options, t0, onBatch, ringFile)
    : createJsSessionTracer(options, t0, onBatch);
}

function createNativeSessionTracer(
  options: AllocatorOptions,
  t0: number,
  onBatch: (firstSeq: number, batch: ArrayBuffer) => void,
  ringFile: string | undefined,
): SessionTracer {
  const ledger = new Ledger();
  const t = NativeTracer.create(
    options,
    // whole ns, as the JS tracer's clock: the native times stay whole too
    Math.round((performance.now() - t0) * 1e6),
    folding(ledger, onBatch),
    MARKER_ID,
    ringFile,
    t0,
  );
  const held = { stats: () => t.allocatorStats() };
  unreleased.add(held);
  let destroyed = false;
  let lastStats = t.allocatorStats();
  return {
    kind: 'native',
    get eventCount() {
      return t.eventCount;
    },
    createMarker: () => WalkMarker.create(t),
    walk: (snapshot, marker, cls, index) => t.walk(snapshot, marker, cls, index),
    walkMany(snapshot, marker, cls, firstIndex, max) {
      const steps = t.walkMany(snapshot, marker, cls, firstIndex, max);
      return { steps, code: t.lastCode };
    },
    entryAt: (cls, k) => WALK_CLASSES[cls].decode(t.entryView(cls, k)),
    enter: (api, walkClass) => t.enter(api, walkClass),
    leave: (code) => t.leave(code),
    markerCreated: () => t.markerCreated(),
    walkStep: (c, i, code) => t.walkStep(c, i, code),
    walkEnd: (c, n) => t.walkEnd(c, n),
    positionGet: (p) => t.positionGet(p),
    positionSet: (p) => t.positionSet(p),
    seek: () => t.seek(),
    apiError: (api, code) => t.apiError(api, code),
    callbackError: () => undefined,
    markerFreed: () => t.markerFreed(),
    flush: () => {
      if (!destroyed) t.flush();
    },
    release() {
      if (destroyed) return;
      t.release();
      t.flush();
      lastStats = t.allocatorStats();
      if (lastStats.released) {
        unreleased.delete(held);
        destroyed = true;
        t.destroy();
      }
    },
    summary(): TracerTotals {
      if (!destroyed) {
        t.flush();
        lastStats = t.allocatorStats();
      }
      // No JavaScript runs inside the routines: nothing can throw there.
      return { ...ledger.summary(), strategy: lastStats, callbackErrors: 0 };
    },
  };
}

function createJsSessionTracer(
  options: AllocatorOptions,
  t0: number,
  onBatch: (firstSeq: number, batch: ArrayBuffer) => void,
): SessionTracer {
  const strategy = createStrategy(options);
  unreleased.add(strategy);
  const ledger = new Ledger();
  const fold = folding(ledger, onBatch);
  const writer = new EventWriter(
    BATCH_EVENTS,
    (batch, firstSeq) => fold(firstSeq, batch),
    // Whole ns (as createSessionClock): no sub-ns float noise, compact trace-file deltas.
    () => Math.round((performance.now() - t0) * 1e6),
  );
  const traced = new TracedAllocator({
    strategy,
    writer,
    markerId: MARKER_ID,
    threadId: () => THREAD_ID,
  });
  return {
    kind: 'js',
    get eventCount() {
      return writer.seq;
    },
    createMarker: (hooks) => WalkMarker.create(traced, hooks),
    walk(snapshot, marker, cls, index) {
      const c = PssWalkClass[cls];
      traced.enter(ApiCall.PssWalkSnapshot, c);
      const code = snapshot.walkNextRaw(marker, cls);
      traced.leave(code);
      if (code === Win32Error.SUCCESS) traced.walkStep(c, index, code);
      else if (code === Win32Error.NO_MORE_ITEMS) traced.walkEnd(c, index);
      else traced.apiError(ApiCall.PssWalkSnapshot, code);
      return code;
    },
    enter: (api, walkClass) => traced.enter(api, walkClass),
    leave: (code) => traced.leave(code),
    markerCreated: () => traced.markerCreated(MARKER_ID),
    walkStep: (c, i, code) => traced.walkStep(c, i, code),
    walkEnd: (c, n) => traced.walkEnd(c, n),
    positionGet: (p) => traced.positionGet(p),
    positionSet: (p) => traced.positionSet(p),
    seek: () => traced.seek(),
    apiError: (api, code) => traced.apiError(api, code),
    callbackError: (routine, error) => traced.onCallbackError(routine, error),
    markerFreed: () => traced.markerFreed(),
    flush: () => writer.flush(),
    release() {
      traced.release();
      if (strategy.released) unreleased.delete(strategy);
    },
    summary(): TracerTotals {
      writer.flush();
      return {
        ...ledger.summary(),
        strategy: traced.stats(),
        callbackErrors: traced.callbackErrorCount,
      };
    },
  };
}
