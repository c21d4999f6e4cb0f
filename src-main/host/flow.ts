/**
 * Flow control of one session's events towards one connection.
 *
 * Every batch the walk produces is already in the trace store; this decides how the connection
 * hears about it. While the connection's unacknowledged detail (events pushed but not yet
 * acked with ackEvents) is below the window — targetLatencyMs worth of what the connection has
 * been measured to consume, between minWindowEvents and windowEvents (8 MB), so detail stays
 * fresh — batches go out as `events` pushes (batches that
 * arrive in the same turn of the event loop are coalesced into one push). Beyond the window the
 * forwarder stops sending detail and sends `aggregate` pushes instead — counts, bytes and live
 * bytes of the events since the last one, at most every `aggregateIntervalMs`. When acks bring
 * the backlog down to half the window it sends what it has aggregated so far and resumes detail
 * with the next batch.
 *
 * Invariant: every seq reaches the connection exactly once, either inside an `events` push or
 * inside the [fromSeq, toSeq) range of an `aggregate` push, in seq order. A renderer's totals
 * are therefore the sum of both, and the detail of any aggregated range can be paged with
 * getEvents (the trace store keeps everything).
 */
import { EventBatchView, concatBatches } from '../../src-shared/events/batch';
import { EVENT_SIZE, EventKind, isViolation } from '../../src-shared/events/layout';
import type { EventAggregate } from '../../src-shared/contract/model';

export interface FlowOptions {
  /** Most unacknowledged detail events allowed in flight (default: 8 MB worth). */
  windowEvents: number;
  /**
   * The window adapts to what the connection consumes: at most this many milliseconds of its
   * measured ack rate (so detail stays this fresh), never less than minWindowEvents.
   */
  targetLatencyMs: number;
  minWindowEvents: number;
  /** The window before the first measurement. */
  initialWindowEvents: number;
  /** Aggregates are pushed at most this often while the connection is behind. */
  aggregateIntervalMs: number;
  /** One `events` push carries at most this many bytes (coalescing limit). */
  maxPushBytes: number;
}

export const DEFAULT_FLOW: FlowOptions = {
  windowEvents: Math.floor((8 * 1024 * 1024) / EVENT_SIZE),
  targetLatencyMs: 100,
  minWindowEvents: 32_768,
  initialWindowEvents: 65_536,
  aggregateIntervalMs: 50,
  maxPushBytes: 4 * 1024 * 1024,
};

export interface FlowOutput {
  events(firstSeq: number, bytes: ArrayBuffer): void;
  aggregate(aggregate: EventAggregate): void;
}

export interface FlowStats {
  mode: 'detail' | 'aggregate';
  detailEvents: number;
  aggregatedEvents: number;
  aggregates: number;
  backlog: number;
  /** Highest seq acknowledged + 1. */
  acked: number;
  /** The window in force now (events). */
  window: number;
  /** Measured consumption (events acknowledged per second), 0 before it is known. */
  ackRate: number;
}

function emptyAggregate(sessionId: string, fromSeq: number): EventAggregate {
  return {
    sessionId,
    fromSeq,
    toSeq: fromSeq,
    allocations: 0,
    frees: 0,
    freeNulls: 0,
    failures: 0,
    violations: 0,
    bytesAllocated: 0,
    bytesFreed: 0,
    liveBytes: 0,
    firstTimeNs: 0,
    lastTimeNs: 0,
  };
}

/** Adds one batch's records into an aggregate (which must end where the batch starts). */
export function addToAggregate(
  agg: EventAggregate,
  view: EventBatchView,
  liveBefore: number,
): void {
  let live = liveBefore;
  for (let i = 0; i < view.count; i++) {
    const kind = view.kind(i);
    switch (kind) {
      case EventKind.Alloc:
        agg.allocations++;
        agg.bytesAllocated += view.size(i);
        live = view.aux1(i);
        break;
      case EventKind.AllocFailed:
        agg.failures++;
        live = view.aux1(i);
        break;
      case EventKind.Free:
        agg.frees++;
        agg.bytesFreed += view.size(i);
        live = view.aux1(i);
        break;
      case EventKind.FreeNull:
        agg.freeNulls++;
        live = view.aux1(i);
        break;
      default:
        if (isViolation(kind)) agg.violations++;
    }
  }
  if (view.count > 0) {
    if (agg.toSeq === agg.fromSeq) agg.firstTimeNs = view.timeNs(0);
    agg.lastTimeNs = view.timeNs(view.count - 1);
    agg.toSeq = view.seq(view.count - 1) + 1;
  }
  agg.liveBytes = live;
}

/** Live bytes after the last allocator event of the batch, or `fallback` when there is none. */
export function lastLiveBytes(view: EventBatchView, fallback: number): number {
  for (let i = view.count - 1; i >= 0; i--) {
    if (view.kind(i) <= EventKind.FreeNull) return view.aux1(i);
  }
  return fallback;
}

export class EventForwarder {
  private readonly opts: FlowOptions;
  private mode: 'detail' | 'aggregate' = 'detail';
  /** Detail batches waiting for the end of this event-loop turn. */
  private pending: ArrayBuffer[] = [];
  private pendingFirstSeq = 0;
  private pendingEvents = 0;
  private pendingBytes = 0;
  private flushScheduled: ReturnType<typeof setImmediate> | null = null;
  /** Pushed detail not yet acknowledged: [lastSeq, count] per push, in order. */
  private readonly inFlight: [number, number][] = [];
  private backlog = 0;
  private acked = 0;
  private agg: EventAggregate | null = null;
  private aggTimer: ReturnType<typeof setTimeout> | null = null;
  private lastAggregateAt = 0;
  private live = 0;
  private disposed = false;
  /** Ack-rate measurement (see measure()). */
  private busySince = 0;
  private busyMs = 0;
  private rateFreed = 0;
  private ackRate = 0;
  private readonly counters = { detailEvents: 0, aggregatedEvents: 0, aggregates: 0 };

  constructor(
    private readonly sessionId: string,
    private readonly out: FlowOutput,
    options: Partial<FlowOptions> = {},
  ) {
    this.opts = { ...DEFAULT_FLOW, ...options };
  }

  get stats(): FlowStats {
    return {
      mode: this.mode,
      ...this.counters,
      backlog: this.backlog + this.pendingEvents,
      acked: this.acked,
      window: this.window(),
      ackRate: this.ackRate,
    };
  }

  /** One batch the session produced (already stored). */
  offer(firstSeq: number, batch: ArrayBuffer): void {
    if (this.disposed) return;
    const view = new EventBatchView(batch);
    if (view.count === 0) return;
    const inFlight = this.backlog + this.pendingEvents;
    const fits = inFlight + view.count <= this.window() || inFlight === 0;
    if (this.mode === 'detail' && fits) {
      if (this.pendingEvents > 0 && this.pendingBytes + batch.byteLength > this.opts.maxPushBytes) {
        this.flushDetail();
      }
      if (this.pendingEvents === 0) this.pendingFirstSeq = firstSeq;
      this.pending.push(batch);
      this.pendingEvents += view.count;
      this.pendingBytes += batch.byteLength;
      this.live = lastLiveBytes(view, this.live);
      this.counters.detailEvents += view.count;
      if (this.flushScheduled === null) {
        this.flushScheduled = setImmediate(() => {
          this.flushScheduled = null;
          this.flushDetail();
        });
      }
      return;
    }
    // Behind: the detail stays in the trace store; the connection gets aggregates.
    if (this.mode === 'detail') {
      this.flushDetail();
      this.mode = 'aggregate';
    }
    if (!this.agg) this.agg = emptyAggregate(this.sessionId, firstSeq);
    addToAggregate(this.agg, view, this.live);
    this.live = this.agg.liveBytes;
    this.counters.aggregatedEvents += view.count;
    this.scheduleAggregate();
  }

  private scheduleAggregate(): void {
    if (this.aggTimer !== null) return;
    const wait = Math.max(0, this.lastAggregateAt + this.opts.aggregateIntervalMs - Date.now());
    this.aggTimer = setTimeout(() => {
      this.aggTimer = null;
      this.flushAggregate();
    }, wait);
  }

  private flushDetail(): void {
    if (this.flushScheduled !== null) {
      clearImmediate(this.flushScheduled);
      this.flushScheduled = null;
    }
    if (this.pendingEvents === 0 || this.disposed) return;
    const bytes =
      this.pending.length === 1 ? (this.pending[0] as ArrayBuffer) : concatBatches(this.pending);
    const first = this.pendingFirstSeq;
    const count = this.pendingEvents;
    this.pending = [];
    this.pendingEvents = 0;
    this.pendingBytes = 0;
    this.inFlight.push([first + count - 1, count]);
    if (this.backlog === 0) this.busySince = performance.now();
    this.backlog += count;
    this.out.events(first, bytes);
  }

  private flushAggregate(): void {
    if (this.aggTimer !== null) {
      clearTimeout(this.aggTimer);
      this.aggTimer = null;
    }
    const agg = this.agg;
    if (!agg || this.disposed) return;
    this.agg = null;
    this.lastAggregateAt = Date.now();
    this.counters.aggregates++;
    this.out.aggregate(agg);
  }

  /** Events allowed in flight now: targetLatencyMs of the measured ack rate, within bounds. */
  private window(): number {
    const max = this.opts.windowEvents;
    const min = Math.min(this.opts.minWindowEvents, max);
    if (this.ackRate === 0) return Math.max(min, Math.min(max, this.opts.initialWindowEvents));
    return Math.max(min, Math.min(max, (this.ackRate * this.opts.targetLatencyMs) / 1000));
  }

  /** The connection received everything up to and including `seq`. */
  ack(seq: number): void {
    if (this.disposed) return;
    if (seq + 1 > this.acked) this.acked = seq + 1;
    let freed = 0;
    while (this.inFlight.length > 0) {
      const head = this.inFlight[0] as [number, number];
      if (head[0] >= this.acked) break;
      this.backlog -= head[1];
      freed += head[1];
      this.inFlight.shift();
    }
    this.measure(freed);
    if (this.mode === 'aggregate' && this.backlog <= this.window() / 2) {
      this.flushAggregate();
      this.mode = 'detail';
    }
  }

  /**
   * Smoothed consumption rate: events acknowledged per second of the time the connection had
   * detail in flight (idle time, when the walk is slower than the page, does not count).
   */
  private measure(freed: number): void {
    if (freed === 0 || this.busySince === 0) return;
    const now = performance.now();
    this.busyMs += now - this.busySince;
    this.busySince = this.backlog > 0 ? now : 0;
    this.rateFreed += freed;
    if (this.busyMs < 50) return;
    const rate = (this.rateFreed / this.busyMs) * 1000;
    this.ackRate = this.ackRate === 0 ? rate : 0.7 * this.ackRate + 0.3 * rate;
    this.busyMs = 0;
    this.rateFreed = 0;
  }

  /** Sends everything held back (before a state change or the summary, so order is kept). */
  flush(): void {
    this.flushDetail();
    this.flushAggregate();
  }

  dispose(): void {
    if (this.flushScheduled !== null) clearImmediate(this.flushScheduled);
    if (this.aggTimer !== null) clearTimeout(this.aggTimer);
    this.flushScheduled = null;
    this.aggTimer = null;
    this.pending = [];
    this.agg = null;
    this.disposed = true;
  }
}
