/**
 * The WalkService the host uses. Captures, queries and sessions run in a worker thread (the
 * main thread never blocks on native calls); `inThread: true` runs the same core on the calling
 * thread (benchmarks and tests that measure the core without message passing).
 *
 * A worker that dies (an uncaught exception, terminate, process.exit inside it) is replaced on
 * the next request. The calls it had not answered fail and the sessions it ran end at once,
 * failed with "walk worker died: …" (their sinks' `lost`), never "live" forever; the snapshots
 * it held are gone (the next worker's snapshot ids differ, so an old id is "not found"). What
 * comes back from a worker is checked at the boundary (./protocol-check.ts); a malformed
 * message ends that worker the same way.
 */
import { Worker } from 'node:worker_threads';
import type { WalkableClass } from '../../src-shared/pss/constants';
import type { WalkEntry } from '../../src-shared/pss/entries';
import type {
  EntryPage,
  ErrorReply,
  SessionState,
  SnapshotInfo,
} from '../../src-shared/contract/model';
import { failedState, hasEnded, startingState } from '../../src-shared/contract/session-state';
import type {
  CallResults,
  FromWorker,
  WalkWorkerData,
  WorkerCall,
  WorkerOp,
  WorkerStats,
} from './protocol';
import { checkFromWorker } from './protocol-check';
import type {
  SessionAction,
  SessionControlArgs,
  SessionSink,
  StartSessionOptions,
  WalkService,
} from './service';
import type { WalkCore } from './core';
import { workerSource } from './worker-source';
import { ChildWalk } from './child';
import { usesUserLibrary } from '../../src-shared/alloc/options';
import { WalkServiceError, sessionExists, userLibraryNeedsPid, workerDied } from '../errors/reply';

export { WalkServiceError };

export interface WalkServiceOptions {
  /** Run the core on this thread instead of a worker. */
  inThread?: boolean;
}

/** The walk service with what only tests, benchmarks and the soak use. */
export interface WalkServiceClient extends WalkService {
  stats(): Promise<WorkerStats>;
  /**
   * Ends the current walk worker now, as a crash would (tests: a worker that dies mid-walk).
   * Resolves once its sessions and calls have been ended.
   */
  terminateWorker(): Promise<void>;
}

export function createWalkService(options: WalkServiceOptions = {}): WalkServiceClient {
  return new WalkClient(options);
}

interface Running {
  sink: SessionSink;
  /** The last state seen, so a session lost with its worker ends where it was. */
  last: SessionState;
  /** Its startSession call is unanswered (a worker death then rejects that call instead). */
  starting: boolean;
}

class WalkClient implements WalkService {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { op: WorkerOp; resolve(v: unknown): void; reject(e: unknown): void }
  >();
  /** Sessions of the current worker (or in-thread core), by id. */
  private readonly running = new Map<string, Running>();
  /** Sessions with a user allocator library, each in its own child process (./child.ts). */
  private readonly children = new Map<string, ChildWalk>();
  private worker: Worker | null = null;
  private generation = 0;
  private readonly inThread: boolean;
  /** In-thread mode: the core, loaded on first use (so the worker mode never loads koffi here). */
  private core: Promise<WalkCore> | null = null;
  private closed: ErrorReply | null = null;

  constructor(options: WalkServiceOptions) {
    this.inThread = options.inThread === true;
    if (this.inThread) {
      this.core = import('./core').then(({ WalkCore }) => new WalkCore((m) => this.onMessage(m)));
    } else {
      this.startWorker();
    }
  }

  /** The current worker, started (again) when there is none. */
  private startWorker(): Worker {
    if (this.worker) return this.worker;
    const src = workerSource('worker.ts', 'walk-worker.js');
    const workerData: WalkWorkerData = { generation: ++this.generation };
    const w = new Worker(src.file, { eval: src.eval, name: 'pss-walk', workerData });
    w.on('message', (m: unknown) => {
      if (this.worker === w) this.onRawMessage(w, m);
    });
    w.on('error', (e) => this.onWorkerDeath(w, `${e.name}: ${e.message}`));
    w.on('exit', (code) => this.onWorkerDeath(w, `it exited with code ${code}`));
    // The worker must not keep the process alive on its own.
    w.unref();
    this.worker = w;
    return w;
  }

  private onRawMessage(w: Worker, m: unknown): void {
    const checked = checkFromWorker(m, (id) => this.pending.get(id)?.op);
    if (!checked.ok) {
      this.onWorkerDeath(w, `it sent ${checked.problem}`);
      void w.terminate();
      return;
    }
    this.onMessage(checked.message);
  }

  /** The worker `w` is gone: fail what it owed, end its sessions. Once per worker. */
  private onWorkerDeath(w: Worker, why: string): void {
    if (this.worker !== w) return;
    this.worker = null;
    const error = workerDied(why);
    const pending = [...this.pending.values()];
    this.pending.clear();
    const running = [...this.running.values()];
    this.running.clear();
    for (const p of pending) p.reject(new WalkServiceError(error));
    for (const r of running) if (!r.starting) r.sink.lost(failedState(r.last, error));
  }

  private onMessage(m: FromWorker): void {
    switch (m.t) {
      case 'result': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.value);
        else p.reject(new WalkServiceError(m.error));
        return;
      }
      case 'events':
        this.running.get(m.sessionId)?.sink.events(m.firstSeq, m.batch);
        return;
      case 'entries':
        this.running.get(m.sessionId)?.sink.entries(m.cls, m.startIndex, m.entries);
        return;
      case 'state': {
        const r = this.running.get(m.state.sessionId);
        if (!r) return;
        r.last = m.state;
        r.sink.state(m.state);
        return;
      }
      case 'summary': {
        const r = this.running.get(m.summary.sessionId);
        this.running.delete(m.summary.sessionId);
        r?.sink.summary(m.summary);
        return;
      }
    }
  }

  private call<K extends WorkerOp>(call: Extract<WorkerCall, { op: K }>): Promise<CallResults[K]> {
    if (this.closed) return Promise.reject(new WalkServiceError(this.closed));
    const id = this.nextId++;
    return new Promise<CallResults[K]>((resolve, reject) => {
      this.pending.set(id, { op: call.op, resolve: resolve as (v: unknown) => void, reject });
      if (!this.inThread) this.startWorker().postMessage({ t: 'call', id, call });
      else void (this.core as Promise<WalkCore>).then((core) => core.handle(id, call), reject);
    });
  }

  async terminateWorker(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    // Its calls and sessions end now, as for any death; then the thread is stopped.
    this.onWorkerDeath(w, 'it was terminated');
    await w.terminate();
  }

  capture(pid: number, flags: number, options: { usage?: boolean } = {}): Promise<SnapshotInfo> {
    return this.call({ op: 'capture', pid, flags, usage: options.usage ?? false });
  }
  async freeSnapshot(snapshotId: string): Promise<void> {
    await this.call({ op: 'freeSnapshot', snapshotId });
  }
  querySnapshot(
    snapshotId: string,
    cls: WalkableClass,
    offset: number,
    limit: number,
  ): Promise<EntryPage> {
    return this.call({ op: 'query', snapshotId, cls, offset, limit });
  }
  allEntries(snapshotId: string, cls: WalkableClass): Promise<WalkEntry[]> {
    return this.call({ op: 'allEntries', snapshotId, cls });
  }
  async startSession(
    sessionId: string,
    options: StartSessionOptions,
    sink: SessionSink,
  ): Promise<SessionState> {
    if (usesUserLibrary(options.allocator)) return this.startChild(sessionId, options, sink);
    if (this.running.has(sessionId) || this.children.has(sessionId)) throw sessionExists(sessionId);
    // Registered before the call: a session that fails at once reports before its reply.
    const r: Running = {
      sink,
      last: startingState({
        sessionId,
        pid: options.pid ?? 0,
        snapshotId: options.snapshotId ?? null,
        pace: options.pace,
        classes: options.classes,
        passes: options.passes ?? 1,
        allocator: options.allocator,
        clockOriginEpochMs: Date.now(),
      }),
      starting: true,
    };
    this.running.set(sessionId, r);
    try {
      const state = await this.call({ op: 'startSession', sessionId, options });
      r.starting = false;
      if (this.running.get(sessionId) === r && hasEnded(r.last) === false) r.last = state;
      return state;
    } catch (e) {
      if (this.running.get(sessionId) === r) this.running.delete(sessionId);
      throw e;
    }
  }
  /**
   * A walk with a user allocator library: in a child process of its own, which captures the
   * target itself (a snapshot of this process cannot cross to it).
   */
  private async startChild(
    sessionId: string,
    options: StartSessionOptions,
    sink: SessionSink,
  ): Promise<SessionState> {
    if (this.closed) throw new WalkServiceError(this.closed);
    if (options.pid === undefined || options.snapshotId !== undefined) {
      throw userLibraryNeedsPid();
    }
    if (this.children.has(sessionId) || this.running.has(sessionId)) throw sessionExists(sessionId);
    const child = new ChildWalk(sessionId, options, sink, (id) => this.children.delete(id));
    this.children.set(sessionId, child);
    try {
      return await child.start();
    } catch (e) {
      child.kill();
      throw e;
    }
  }

  control(
    sessionId: string,
    action: SessionAction,
    args: SessionControlArgs,
  ): Promise<SessionState> {
    const child = this.children.get(sessionId);
    if (child) return child.control(action, args);
    return this.call({ op: 'control', sessionId, action, args });
  }
  stats(): Promise<WorkerStats> {
    return this.call({ op: 'stats' });
  }
  async close(): Promise<void> {
    for (const child of this.children.values()) child.kill();
    if (this.closed) return;
    // A worker that died is not started again just to be shut down.
    if (this.inThread || this.worker) await this.call({ op: 'shutdown' }).catch(() => undefined);
    this.closed = {
      kind: 'internal',
      code: null,
      codeName: null,
      message: 'the walk service is closed',
      hint: 'The app is quitting.',
    };
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}
