/**
 * Every resource a client can make the host hold is capped, per connection and for the whole
 * host, so memory and file descriptors are bounded by design whatever clients send. Reaching a
 * cap is an ErrorReply of kind 'limit' saying which cap and what to do; nothing else changes.
 * ARCHITECTURE.md ("Bounded by design") lists these with the transport's own caps
 * (src-main/web/server.ts WEB_LIMITS) and the memory each one bounds.
 */
import { LimitError } from '../errors/reply';

export interface HostLimits {
  /** Snapshots a connection may hold (capture … freeSnapshot). */
  snapshotsPerConnection: number;
  /** Snapshots held by all connections together. */
  snapshots: number;
  /** Sessions (running, ended or imported, until closeSession) a connection may hold. */
  sessionsPerConnection: number;
  /** Sessions held by all connections together. */
  sessions: number;
  /** Sessions whose walk is still running, all connections together. */
  runningSessions: number;
  /** Requests being served at once for one connection; more wait their turn. */
  requestsPerConnection: number;
  /** …and for all connections together. */
  requests: number;
  /** Requests waiting for a turn on one connection; beyond this they are refused. */
  queuedRequestsPerConnection: number;
  /** Trace uploads in progress on one connection, and on all connections together. */
  uploadsPerConnection: number;
  uploads: number;
  /** Largest trace file accepted for import (it goes to a temporary file, not to memory). */
  maxTraceFileBytes: number;
  /** Trace files parsed at once (each in its own worker thread with a bounded heap). */
  concurrentTraceReads: number;
  /** Bookmarks one session may keep (every state push carries them). */
  bookmarksPerSession: number;
}

export const DEFAULT_LIMITS: Readonly<HostLimits> = {
  snapshotsPerConnection: 16,
  snapshots: 64,
  sessionsPerConnection: 64,
  sessions: 256,
  runningSessions: 64,
  requestsPerConnection: 16,
  requests: 64,
  queuedRequestsPerConnection: 1024,
  uploadsPerConnection: 1,
  uploads: 4,
  maxTraceFileBytes: 8 * 1024 * 1024 * 1024,
  concurrentTraceReads: 1,
  bookmarksPerSession: 100,
};

export function limitError(message: string, hint: string): LimitError {
  return new LimitError(message, hint);
}

/**
 * A counting semaphore with a FIFO of waiters: at most `max` holders at once, the others wait
 * (in order) until a holder releases. Waiting costs one closure, and the number of waiters is
 * bounded by the callers (a connection queues at most queuedRequestsPerConnection).
 */
export class Gate {
  private held = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly max: number) {}

  get active(): number {
    return this.held;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Resolves when a slot is held; call the returned function exactly once to give it back. */
  async acquire(): Promise<() => void> {
    if (this.held < this.max) {
      this.held++;
    } else {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next();
      else this.held--;
    };
  }
}
