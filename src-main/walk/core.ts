/**
 * The walk worker's brain: owns the explorer's snapshots and the running sessions, answers
 * calls, and frees everything at shutdown. Runs in the worker (./worker.ts) or, for tests and
 * benchmarks, on the calling thread (./client.ts inThread).
 */
import type { Emit, WorkerAnswer, WorkerCall, WorkerStats } from './protocol';
import { SnapshotCache } from './snapshot-cache';
import { WalkSession } from './session';
import { sessionExists, sessionNotRunning, toErrorReply } from '../errors/reply';
import { liveAllocatorNativeBytes } from './tracing';
import { nativeMemory } from '../pss';

/** While no session runs, free C-heap pages go back to the OS this often. */
const TRIM_INTERVAL_MS = 3000;

export class WalkCore {
  private readonly snapshots: SnapshotCache;
  private readonly sessions = new Map<string, WalkSession>();

  /**
   * While no session runs, the C heap's free pages go back to the OS every few seconds
   * (malloc_trim covers every thread's arena): walks, and the main thread's replies, allocate
   * and free a lot (event buffers, snapshots, pages of events), and glibc otherwise keeps freed
   * memory resident, so the process would keep its busiest RSS after the load ends.
   */
  private readonly trimTimer = setInterval(() => {
    if (this.sessions.size === 0) nativeMemory.releaseFreeMemory();
  }, TRIM_INTERVAL_MS);

  /** `idPrefix` starts every snapshot id (unique per walk worker generation). */
  constructor(
    private readonly emit: Emit,
    idPrefix = '',
  ) {
    this.snapshots = new SnapshotCache(idPrefix);
    this.trimTimer.unref?.();
  }

  handle(id: number, call: WorkerCall): void {
    let answer: WorkerAnswer;
    try {
      answer = this.run(call);
    } catch (e) {
      this.emit({ t: 'result', id, op: call.op, ok: false, error: toErrorReply(e) });
      return;
    }
    this.emit({ t: 'result', id, ok: true, ...answer });
  }

  private run(call: WorkerCall): WorkerAnswer {
    switch (call.op) {
      case 'capture':
        return {
          op: call.op,
          value: this.snapshots.capture(call.pid, call.flags, call.usage),
        };
      case 'freeSnapshot':
        // A session walking this snapshot ends first: the snapshot must outlive its markers.
        for (const s of [...this.sessions.values()])
          if (s.borrowedSnapshotId === call.snapshotId) s.cancel();
        this.snapshots.free(call.snapshotId);
        return { op: call.op, value: null };
      case 'query':
        return {
          op: call.op,
          value: this.snapshots.page(call.snapshotId, call.cls, call.offset, call.limit),
        };
      case 'allEntries':
        return { op: call.op, value: this.snapshots.entries(call.snapshotId, call.cls) };
      case 'startSession': {
        if (this.sessions.has(call.sessionId)) throw sessionExists(call.sessionId);
        const session = new WalkSession(call.sessionId, call.options, {
          emit: this.emit,
          borrowSnapshot: (snapshotId) => this.snapshots.get(snapshotId).snapshot,
          onDone: (sessionId) => this.sessions.delete(sessionId),
        });
        this.sessions.set(call.sessionId, session);
        return { op: call.op, value: session.start() };
      }
      case 'control': {
        const session = this.sessions.get(call.sessionId);
        if (!session) throw sessionNotRunning(call.sessionId);
        return { op: call.op, value: session.control(call.action, call.args) };
      }
      case 'stats':
        return { op: call.op, value: this.stats() };
      case 'shutdown':
        clearInterval(this.trimTimer);
        for (const s of [...this.sessions.values()]) s.cancel();
        this.snapshots.freeAll();
        return { op: call.op, value: null };
    }
  }

  stats(): WorkerStats {
    const mem = process.memoryUsage();
    return {
      snapshots: this.snapshots.size,
      sessions: this.sessions.size,
      allocatorNativeBytes: liveAllocatorNativeBytes(),
      heapUsed: mem.heapUsed,
      rss: mem.rss,
    };
  }
}
