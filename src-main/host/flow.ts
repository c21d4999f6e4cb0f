/**
 * The one delivery mechanism of a session's events to one connection: a credit stream.
 *
 * Every batch a session produces goes into its trace store first (the store keeps everything,
 * spilling the oldest to disk); the stream only decides when the connection gets which seqs.
 * It keeps one cursor, `sent` (every seq below it was pushed, once, in order), and the
 * connection's `acked` (every seq below it was consumed: the page has folded it). The
 * connection holds a credit of `windowEvents` events: while `sent - acked` is below it, the
 * stream reads the next events from the store and pushes them as `events` (at most
 * `maxPushBytes` a push; batches that arrive in the same turn of the event loop go out as one
 * push). When the credit is used up the stream simply waits: the walk goes on into the store,
 * and each ack lets the stream send that much more, from where it stopped.
 *
 * So the page gets every event exactly once, at its own pace, and holds at most the window in
 * flight; it never asks for anything again (an imported trace streams the same way from seq
 * 0). A connection that never acks gets one window and then nothing; one whose transport is
 * congested (`congested()`: unsent bytes above the transport's mark) gets nothing until it
 * drains. Neither makes the host hold more than the store it keeps anyway.
 */
import { EVENT_SIZE } from '../../src-shared/events/layout';

export interface FlowOptions {
  /** Events the connection may hold unacknowledged (its credit; default 6 MiB worth). */
  windowEvents: number;
  /** One `events` push carries at most this many bytes. */
  maxPushBytes: number;
  /** While the transport is congested, look again after this many ms. */
  congestionRetryMs: number;
}

export const DEFAULT_FLOW: FlowOptions = {
  windowEvents: 131_072,
  maxPushBytes: 4 * 1024 * 1024,
  congestionRetryMs: 20,
};

/** Where the stream reads events from (the session's trace store). */
export interface StreamSource {
  /** Events [fromSeq, fromSeq+count) clipped to what is stored, as 48-byte records. */
  read(fromSeq: number, count: number): ArrayBuffer;
}

export interface StreamOutput {
  events(firstSeq: number, bytes: ArrayBuffer): void;
  /** True while the transport holds more unsent bytes than it should. */
  congested(): boolean;
}

export interface FlowStats {
  /** One past the highest seq pushed. */
  sent: number;
  /** One past the highest seq acknowledged. */
  acked: number;
  /** Events stored that the connection has not been sent yet. */
  waiting: number;
  /** The credit (events). */
  window: number;
  pushes: number;
}

export class EventStream {
  private readonly opts: FlowOptions;
  private sentSeq = 0;
  private ackedSeq = 0;
  /** One past the highest seq the store holds (as far as the stream was told). */
  private available = 0;
  private pushes = 0;
  private scheduled: ReturnType<typeof setImmediate> | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private disposed = false;

  constructor(
    private readonly source: StreamSource,
    private readonly out: StreamOutput,
    options: Partial<FlowOptions> = {},
  ) {
    this.opts = { ...DEFAULT_FLOW, ...options };
  }

  /** One past the highest seq pushed: acks must name a seq below it. */
  get sent(): number {
    return this.sentSeq;
  }

  get stats(): FlowStats {
    return {
      sent: this.sentSeq,
      acked: this.ackedSeq,
      waiting: this.available - this.sentSeq,
      window: this.opts.windowEvents,
      pushes: this.pushes,
    };
  }

  /** The store now holds every seq below `end` (a batch was stored, or a trace was opened). */
  stored(end: number): void {
    if (this.disposed || end <= this.available) return;
    this.available = end;
    if (this.scheduled === null && this.retry === null) {
      this.scheduled = setImmediate(() => {
        this.scheduled = null;
        this.pump();
      });
    }
  }

  /** The connection consumed everything up to and including `seq` (validated: below `sent`). */
  ack(seq: number): void {
    if (this.disposed || seq + 1 <= this.ackedSeq) return;
    this.ackedSeq = Math.min(seq + 1, this.sentSeq);
    this.pump();
  }

  /** Sends what the credit allows now (before a state change or the summary, so order is kept). */
  flush(): void {
    this.pump();
  }

  private pump(): void {
    if (this.scheduled !== null) {
      clearImmediate(this.scheduled);
      this.scheduled = null;
    }
    if (this.disposed) return;
    const perPush = Math.max(1, Math.floor(this.opts.maxPushBytes / EVENT_SIZE));
    while (this.sentSeq < this.available && !this.disposed) {
      const credit = this.opts.windowEvents - (this.sentSeq - this.ackedSeq);
      if (credit <= 0) return; // the next ack sends more
      if (this.out.congested()) {
        if (this.retry === null) {
          this.retry = setTimeout(() => {
            this.retry = null;
            this.pump();
          }, this.opts.congestionRetryMs);
        }
        return;
      }
      const n = Math.min(credit, perPush, this.available - this.sentSeq);
      const bytes = this.source.read(this.sentSeq, n);
      const got = bytes.byteLength / EVENT_SIZE;
      if (got === 0) return;
      const first = this.sentSeq;
      this.sentSeq += got;
      this.pushes++;
      this.out.events(first, bytes);
    }
  }

  dispose(): void {
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    if (this.retry !== null) clearTimeout(this.retry);
    this.scheduled = null;
    this.retry = null;
    this.disposed = true;
  }
}
