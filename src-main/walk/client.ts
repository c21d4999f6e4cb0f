/**
 * The WalkService the host uses. Captures, queries and sessions run in a worker thread (the
 * main thread never blocks on native calls); `inThread: true` runs the same core on the calling
 * thread (benchmarks and tests that measure the core without message passing).
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
import type { CallResults, FromWorker, WorkerCall, WorkerStats } from './protocol';
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
import { HostError, WalkServiceError } from '../errors/reply';

export { WalkServiceError };

export interface WalkServiceOptions {
  /** Run the core on this thread instead of a worker. */
  inThread?: boolean;
}

export function createWalkService(
  options: WalkServiceOptions = {},
): WalkService & { stats(): Promise<WorkerStats> } {
  return new WalkClient(options);
}

class WalkClient implements WalkService {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve(v: unknown): void; reject(e: unknown): void }
  >();
  private readonly sinks = new Map<string, SessionSink>();
  /** Sessions with a user allocator library, each in its own child process (./child.ts). */
  private readonly children = new Map<string, ChildWalk>();
  private readonly worker: Worker | null;
  /** In-thread mode: the core, loaded on first use (so the worker mode never loads koffi here). */
  private core: Promise<WalkCore> | null = null;
  private dead: ErrorReply | null = null;

  constructor(options: WalkServiceOptions) {
    if (options.inThread) {
      this.worker = null;
      this.core = import('./core').then(({ WalkCore }) => new WalkCore((m) => this.onMessage(m)));
    } else {
      const src = workerSource('worker.ts', 'walk-worker.js');
      this.worker = new Worker(src.file, { eval: src.eval, name: 'pss-walk' });
      this.worker.on('message', (m: FromWorker) => this.onMessage(m));
      this.worker.on('error', (e) => this.onWorkerDeath(`the walk worker failed: ${e.message}`));
      this.worker.on('exit', (code) => this.onWorkerDeath(`the walk worker exited (code ${code})`));
      // The worker must not keep the process alive on its own.
      this.worker.unref();
    }
  }

  private onWorkerDeath(message: string): void {
    if (this.dead) return;
    this.dead = {
      kind: 'internal',
      code: null,
      codeName: null,
      message,
      hint: 'Restart the session; the worker is restarted on the next request.',
    };
    for (const p of this.pending.values()) p.reject(new WalkServiceError(this.dead));
    this.pending.clear();
    for (const [sessionId, sink] of this.sinks) {
      sink.state({ ...failedState(sessionId), error: this.dead });
    }
    this.sinks.clear();
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
        this.sinks.get(m.sessionId)?.events(m.firstSeq, m.batch);
        return;
      case 'entries':
        this.sinks.get(m.sessionId)?.entries(m.cls, m.startIndex, m.entries);
        return;
      case 'state':
        this.sinks.get(m.state.sessionId)?.state(m.state);
        return;
      case 'summary': {
        const sink = this.sinks.get(m.summary.sessionId);
        this.sinks.delete(m.summary.sessionId);
        sink?.summary(m.summary);
        return;
      }
    }
  }

  private call<K extends WorkerCall['op']>(
    call: Extract<WorkerCall, { op: K }>,
  ): Promise<CallResults[K]> {
    if (this.dead) return Promise.reject(new WalkServiceError(this.dead));
    const id = this.nextId++;
    return new Promise<CallResults[K]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      if (this.worker) this.worker.postMessage({ t: 'call', id, call });
      else void (this.core as Promise<WalkCore>).then((core) => core.handle(id, call), reject);
    });
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
    this.sinks.set(sessionId, sink);
    try {
      return await this.call({ op: 'startSession', sessionId, options });
    } catch (e) {
      this.sinks.delete(sessionId);
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
    if (this.dead) throw new WalkServiceError(this.dead);
    if (options.pid === undefined || options.snapshotId !== undefined) {
      throw new WalkServiceError({
        kind: 'validation',
        code: null,
        codeName: null,
        message:
          'A walk with a user allocator library runs in a process of its own and captures the target itself: start it from a process (pid), not from an existing snapshot.',
        hint: 'Start the session from the process list.',
      });
    }
    if (this.children.has(sessionId) || this.sinks.has(sessionId))
      throw new HostError(
        'misuse',
        `session ${sessionId} already exists`,
        'Start it under a new id.',
      );
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
    if (this.dead) return;
    await this.call({ op: 'shutdown' }).catch(() => undefined);
    this.dead = {
      kind: 'internal',
      code: null,
      codeName: null,
      message: 'the walk service is closed',
      hint: '',
    };
    if (this.worker) await this.worker.terminate();
  }
}

function failedState(sessionId: string): SessionState {
  return {
    sessionId,
    state: 'failed',
    pid: 0,
    snapshotId: null,
    pace: { mode: 'run' },
    classes: [],
    current: null,
    bookmarks: [],
    pass: 0,
    passes: 1,
    eventsStored: 0,
    error: null,
    targetExited: false,
    clockOriginEpochMs: 0,
    allocator: { strategy: 'heap' },
  };
}
