/**
 * The session's view of src-main/alloc: one strategy built from the session's allocator
 * options, wrapped in a TracedAllocator writing into the session's EventWriter. Also keeps the
 * set of strategies not yet released, so the worker can report native bytes still held.
 */
import { nativeMemory, type NativeAllocator } from '../pss';
import { TracedAllocator, createStrategy, type AllocatorStrategy } from '../alloc';
import { EventBatchView, EventWriter } from '../../src-shared/events/batch';
import type { AllocatorOptions } from '../../src-shared/alloc/options';
import { Ledger } from '../../src-shared/ledger/ledger';
import type { SessionSummary } from '../../src-shared/contract/model';

const BATCH_EVENTS = 4096;
/** Every session has exactly one marker. */
const MARKER_ID = 1;

const unreleased = new Set<AllocatorStrategy>();

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
  /** What gets registered as the marker's PSS_ALLOCATOR. */
  readonly allocator: NativeAllocator;
  readonly eventCount: number;
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
 * @param t0 the session's performance.now() origin: event times are ns since then.
 * @param onBatch receives each full (or flushed) batch, in order.
 */
export function createSessionTracer(
  options: AllocatorOptions,
  t0: number,
  onBatch: (firstSeq: number, batch: ArrayBuffer) => void,
): SessionTracer {
  const strategy = createStrategy(options);
  unreleased.add(strategy);
  // The one count of the session's events: every batch is folded as it leaves the tracer.
  const ledger = new Ledger();
  const writer = new EventWriter(
    BATCH_EVENTS,
    (batch, firstSeq) => {
      const view = new EventBatchView(batch);
      ledger.fold(view, 0, view.count);
      onBatch(firstSeq, batch);
    },
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
    allocator: traced,
    get eventCount() {
      return writer.seq;
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
