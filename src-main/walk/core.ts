/**
 * The walk worker's brain: owns the explorer's snapshots and the running sessions, answers
 * calls, and frees everything at shutdown. Runs in the worker (./worker.ts) or, for tests and
 * benchmarks, on the calling thread (./client.ts inThread).
 */
import type { CallResults, Emit, WorkerCall, WorkerStats } from './protocol';
import { SnapshotCache } from './snapshot-cache';
import { WalkSession } from './session';
import { HostError, NotFoundError, toErrorReply } from '../errors/reply';
import { liveAllocatorNativeBytes } from './tracing';
import { nativeMemory } from '../pss';

/** While no session runs, free C-heap pages go back to the OS this often. */
const TRIM_INTERVAL_MS = 3000;

export class WalkCore {
  private readonly snapshots = new SnapshotCache();
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

  constructor(private readonly emit: Emit) {
    this.trimTimer.unref?.();
  }

  handle(id: number, call: WorkerCall): void {
    let value: unknown;
    try {
      value = this.run(call);
    } catch (e) {
      this.emit({ t: 'result', id, ok: false, error: toErrorReply(e) });
      return;
    }
    this.emit({ t: 'result', id, ok: true, value });
  }

  private run(call: WorkerCall): CallResults[WorkerCall['op']] {
    switch (call.op) {
      case 'capture':
        return this.snapshots.capture(call.pid, call.flags, call.usage);
      case 'freeSnapshot':
        // A session walking this snapshot ends first: the snapshot must outlive its markers.
        for (const s of [...this.sessions.values()])
          if (s.borrowedSnapshotId === call.snapshotId) s.cancel();
        this.snapshots.free(call.snapshotId);
        return null;
      case 'query':
        return this.snapshots.page(call.snapshotId, call.cls, call.offset, call.limit);
      case 'allEntries':
        return this.snapshots.entries(call.snapshotId, call.cls);
      case 'startSession': {
        if (this.sessions.has(call.sessionId))
          throw new HostError(
            'misuse',
            `session ${call.sessionId} already exists`,
            'Start it under a new id.',
          );
        const session = new WalkSession(call.sessionId, call.options, {
          emit: this.emit,
          borrowSnapshot: (snapshotId) => this.snapshots.get(snapshotId).snapshot,
          onDone: (sessionId) => this.sessions.delete(sessionId),
        });
        this.sessions.set(call.sessionId, session);
        return session.start();
      }
      case 'control': {
        const session = this.sessions.get(call.sessionId);
        if (!session)
          throw new NotFoundError(
            `session ${call.sessionId} is not running (it ended or never started)`,
          );
        return session.control(call.action, call.args);
      }
      case 'stats':
        return this.stats();
      case 'shutdown':
        clearInterval(this.trimTimer);
        for (const s of [...this.sessions.values()]) s.cancel();
        this.snapshots.freeAll();
        return null;
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
