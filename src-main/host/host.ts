/**
 * The session host: transport-agnostic, one per app. Each window (Electron) or WebSocket (web
 * mode) is a connection with its own snapshots and sessions; a request naming another
 * connection's snapshot or session is "not found". The host validates every request against the
 * contract, dispatches it to the walk service or the trace store, and answers with a Reply —
 * errors are ErrorReply data, `handle` never throws. When a connection goes away its sessions
 * are cancelled and its snapshots freed.
 *
 * Adapters construct one host and call `connect(sink)` per window/socket; the sink delivers
 * pushes over their transport. Pushed ArrayBuffers are shared with the trace store: a sink must
 * copy them (structured clone, a socket write), never transfer/detach them.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  REQUEST_NAMES,
  validateRequest,
  type PushMessages,
  type PushName,
  type Reply,
  type RequestName,
  type RequestParams,
  type RequestResults,
} from '../../src-shared/contract/contract';
import type {
  AppInfo,
  ClassProgress,
  ProcessRow,
  SessionState,
  SessionSummary,
} from '../../src-shared/contract/model';
import type { AllocatorOptions } from '../../src-shared/alloc/options';
import { WALKABLE_CLASSES, type WalkableClass } from '../../src-shared/pss/constants';
import type { SessionControlArgs, SessionSink, WalkService } from '../walk/service';
import { TraceStore, type TraceMeta, type TraceStoreOptions } from '../walk/trace-store';
import { HostError, notFound, toErrorReply, type ErrorContext } from './errors';
import { EventForwarder, type FlowOptions, type FlowStats } from './flow';
import { diffSnapshots } from './diff';
import { CpuSampler, listProcesses as readProcessTable } from './processes';
import { availableParallelism } from 'node:os';

/** Where a connection's pushes go (a window's MessagePort, a WebSocket). */
export interface ConnectionSink {
  push<P extends PushName>(name: P, message: PushMessages[P]): void;
}

export interface HostOptions {
  walk: WalkService;
  transport: 'electron' | 'web';
  /** Path of the native library (libpss.so) or 'kernel32.dll', for appInfo. */
  library: string;
  version: string;
  flow?: Partial<FlowOptions>;
  traceStore?: TraceStoreOptions;
  /** Replaces the /proc reader (tests). */
  listProcesses?: () => Promise<ProcessRow[]>;
  /** Problems that are not tied to a request (a sink threw…); default console.error. */
  log?: (message: string, error?: unknown) => void;
}

export interface HostConnection {
  readonly id: string;
  /** Validates and serves one request. Never throws, never rejects. */
  handle(name: unknown, params: unknown): Promise<Reply<RequestName>>;
  /** A push the adapter itself originates (application menu commands). */
  notify<P extends PushName>(name: P, message: PushMessages[P]): void;
  /** Flow-control statistics of one of this connection's sessions (tests, benchmarks). */
  flowStats(sessionId: string): FlowStats | null;
  /** Cancels this connection's sessions and frees its snapshots. Idempotent. */
  close(): Promise<void>;
  readonly closed: boolean;
}

interface HostSession {
  id: string;
  store: TraceStore;
  forwarder: EventForwarder;
  state: SessionState;
  summary: SessionSummary | null;
  /** The walk service still runs it (not imported, not ended). */
  live: boolean;
}

type Handler<N extends RequestName> = (params: RequestParams<N>) => Promise<RequestResults[N]>;
type HandlerTable = { [N in RequestName]: Handler<N> };

const CONTEXT: Partial<Record<RequestName, ErrorContext>> = {
  capture: 'capture',
  startSession: 'session',
  sessionControl: 'session',
  importTrace: 'trace',
  exportTrace: 'trace',
};

const ENDED = new Set(['finished', 'cancelled', 'failed']);

/** The process's name from /proc (empty when it is gone or unreadable). */
async function processNameOf(pid: number): Promise<string> {
  if (pid <= 0 || process.platform !== 'linux') return '';
  try {
    return (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
  } catch {
    return '';
  }
}

function newId(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

export class SessionHost {
  private readonly connections = new Set<Connection>();

  constructor(readonly options: HostOptions) {}

  connect(sink: ConnectionSink): HostConnection {
    const c = new Connection(this, sink);
    this.connections.add(c);
    return c;
  }

  /** @internal */
  forget(c: Connection): void {
    this.connections.delete(c);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Closes every connection (app quit). The walk service is the caller's to close. */
  async close(): Promise<void> {
    await Promise.all([...this.connections].map((c) => c.close()));
  }

  log(message: string, error?: unknown): void {
    (this.options.log ?? ((m: string, e?: unknown) => console.error(`[host] ${m}`, e ?? '')))(
      message,
      error,
    );
  }
}

class Connection implements HostConnection {
  readonly id = newId('c');
  /** Snapshot id → the process it captured. */
  private readonly snapshots = new Map<string, { pid: number; processName: string }>();
  private readonly sessions = new Map<string, HostSession>();
  private isClosed = false;
  private closing: Promise<void> | null = null;
  private readonly cpu = new CpuSampler(availableParallelism());
  private readonly handlers: HandlerTable;

  constructor(
    private readonly host: SessionHost,
    private readonly sink: ConnectionSink,
  ) {
    this.handlers = this.buildHandlers();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  private get walk(): WalkService {
    return this.host.options.walk;
  }

  private send<P extends PushName>(name: P, message: PushMessages[P]): void {
    if (this.isClosed) return;
    try {
      this.sink.push(name, message);
    } catch (e) {
      this.host.log(`push ${name} failed on ${this.id}`, e);
    }
  }

  notify<P extends PushName>(name: P, message: PushMessages[P]): void {
    this.send(name, message);
  }

  flowStats(sessionId: string): FlowStats | null {
    return this.sessions.get(sessionId)?.forwarder.stats ?? null;
  }

  async handle(name: unknown, params: unknown): Promise<Reply<RequestName>> {
    const v = validateRequest(name, params);
    if (!v.ok) {
      return {
        ok: false,
        error: {
          kind: 'validation',
          code: null,
          codeName: null,
          message: v.error,
          hint: 'The request was malformed and was not carried out; nothing changed.',
        },
      };
    }
    if (this.isClosed) {
      return {
        ok: false,
        error: {
          kind: 'misuse',
          code: null,
          codeName: null,
          message: 'this connection is closed',
          hint: 'Reload the page or window to reconnect.',
        },
      };
    }
    try {
      const handler = this.handlers[v.name] as (p: unknown) => Promise<unknown>;
      const value = await handler(v.params);
      return { ok: true, value } as Reply<RequestName>;
    } catch (e) {
      return { ok: false, error: toErrorReply(e, CONTEXT[v.name] ?? 'other') };
    }
  }

  private ownSnapshot(snapshotId: string): void {
    if (!this.snapshots.has(snapshotId)) throw notFound('snapshot', snapshotId);
  }

  private session(sessionId: string): HostSession {
    const s = this.sessions.get(sessionId);
    if (!s) throw notFound('session', sessionId);
    return s;
  }

  private buildHandlers(): HandlerTable {
    const o = this.host.options;
    const table: HandlerTable = {
      appInfo: () =>
        Promise.resolve<AppInfo>({
          name: 'PSS Inspector',
          version: o.version,
          platform: `${process.platform}-${process.arch}`,
          transport: o.transport,
          library: o.library,
          pid: process.pid,
        }),
      listProcesses: async () =>
        this.cpu.apply(await (o.listProcesses ?? readProcessTable)(), Date.now()),
      capture: async ({ pid, flags, usage }) => {
        const info = await this.walk.capture(pid, flags, { usage: usage ?? false });
        if (this.isClosed) {
          await this.walk.freeSnapshot(info.snapshotId).catch(() => undefined);
          throw new HostError('misuse', 'the connection closed during the capture', '');
        }
        this.snapshots.set(info.snapshotId, { pid: info.pid, processName: info.processName });
        return info;
      },
      freeSnapshot: async ({ snapshotId }) => {
        this.ownSnapshot(snapshotId);
        this.snapshots.delete(snapshotId);
        await this.walk.freeSnapshot(snapshotId);
        return { freed: true as const };
      },
      querySnapshot: ({ snapshotId, cls, offset, limit }) => {
        this.ownSnapshot(snapshotId);
        return this.walk.querySnapshot(snapshotId, cls, offset, limit);
      },
      diffSnapshots: async ({ a, b }) => {
        this.ownSnapshot(a);
        this.ownSnapshot(b);
        const read = async (id: string) => {
          const [threads, handles, regions] = await Promise.all([
            this.walk.allEntries(id, 'THREADS'),
            this.walk.allEntries(id, 'HANDLES'),
            this.walk.allEntries(id, 'VA_SPACE'),
          ]);
          return { threads, handles, regions };
        };
        const [ea, eb] = await Promise.all([read(a), read(b)]);
        return diffSnapshots({ a, b }, ea, eb);
      },
      startSession: (p) => this.startSession(p),
      sessionControl: async ({ sessionId, action, bookmarkId, pace }) => {
        const s = this.session(sessionId);
        if (!s.live) {
          throw new HostError(
            'misuse',
            `session ${sessionId} has ended (${s.state.state}); it can no longer be controlled`,
            'Start a new session to walk again; the trace of this one stays available.',
          );
        }
        const args: SessionControlArgs = {};
        if (bookmarkId !== undefined) args.bookmarkId = bookmarkId;
        if (pace !== undefined) args.pace = pace;
        const state = await this.walk.control(sessionId, action, args);
        return this.noteState(s, state);
      },
      closeSession: async ({ sessionId }) => {
        const s = this.session(sessionId);
        await this.dropSession(s);
        return { closed: true as const };
      },
      sessionSummary: ({ sessionId }) => {
        const s = this.session(sessionId);
        if (!s.summary && s.live) {
          throw new HostError(
            'misuse',
            `session ${sessionId} is still ${s.state.state}: its summary is made when it ends`,
            'Wait for the summary push, or cancel the session to end it now.',
          );
        }
        if (!s.summary) {
          throw new HostError(
            'not-found',
            `session ${sessionId} has no summary (the trace file holds none)`,
            'The events are all there: page them with getEvents.',
          );
        }
        return Promise.resolve(s.summary);
      },
      getEvents: ({ sessionId, fromSeq, count }) => {
        const s = this.session(sessionId);
        return Promise.resolve({ sessionId, fromSeq, bytes: s.store.read(fromSeq, count) });
      },
      getEntries: ({ sessionId, cls, offset, limit }) => {
        const s = this.session(sessionId);
        return Promise.resolve({
          sessionId,
          cls,
          offset,
          total: s.store.entryCount(cls),
          entries: s.store.getEntries(cls, offset, limit),
        });
      },
      ackEvents: ({ sessionId, seq }) => {
        this.session(sessionId).forwarder.ack(seq);
        return Promise.resolve({ ok: true as const });
      },
      exportTrace: ({ sessionId }) => {
        const s = this.session(sessionId);
        const who = (s.store.meta.processName || `pid${s.store.meta.pid}`).replace(
          /[^A-Za-z0-9_.-]+/g,
          '_',
        );
        const when = s.store.meta.createdAt.replace(/[:.]/g, '-');
        return Promise.resolve({ fileName: `${who}-${when}.psstrace`, bytes: s.store.export() });
      },
      importTrace: ({ fileName, bytes }) => Promise.resolve(this.importTrace(fileName, bytes)),
    };
    // The table is typed to cover the contract; this guards against a stale build.
    for (const n of REQUEST_NAMES) if (typeof table[n] !== 'function') throw new Error(n);
    return table;
  }

  private async startSession(p: RequestParams<'startSession'>): Promise<SessionState> {
    if (p.snapshotId !== undefined) this.ownSnapshot(p.snapshotId);
    const snap = p.snapshotId !== undefined ? this.snapshots.get(p.snapshotId) : undefined;
    const pid = snap?.pid ?? p.pid ?? 0;
    const processName = snap?.processName ?? (await processNameOf(pid));
    const sessionId = newId('s');
    const meta: TraceMeta = {
      pid,
      processName,
      flags: p.flags,
      allocator: p.allocator,
      classes: p.classes,
      createdAt: new Date().toISOString(),
      snapshotId: p.snapshotId ?? null,
      pace: p.pace,
    };
    const store = new TraceStore(meta, this.host.options.traceStore);
    const forwarder = new EventForwarder(
      sessionId,
      {
        events: (firstSeq, bytes) => this.send('events', { sessionId, firstSeq, bytes }),
        aggregate: (a) => this.send('aggregate', a),
      },
      this.host.options.flow,
    );
    const placeholder: SessionState = {
      sessionId,
      state: 'starting',
      pid,
      snapshotId: p.snapshotId ?? null,
      pace: p.pace,
      classes: p.classes.map((cls) => ({ cls, walked: 0, total: null, done: false })),
      current: null,
      bookmarks: [],
      pass: 0,
      passes: p.passes ?? 1,
      eventsStored: 0,
      error: null,
      targetExited: false,
      clockOriginEpochMs: Date.now(),
      allocator: p.allocator,
    };
    const s: HostSession = {
      id: sessionId,
      store,
      forwarder,
      state: placeholder,
      summary: null,
      live: true,
    };
    this.sessions.set(sessionId, s);
    const sink: SessionSink = {
      events: (firstSeq, batch) => {
        if (!this.sessions.has(sessionId)) return;
        try {
          store.append(firstSeq, batch);
        } catch (e) {
          this.host.log(`session ${sessionId}: a batch could not be stored`, e);
          this.send('error', { sessionId, error: toErrorReply(e, 'session') });
          return;
        }
        forwarder.offer(firstSeq, batch);
      },
      entries: (cls, startIndex, entries) => {
        if (!this.sessions.has(sessionId)) return;
        store.appendEntries(cls, startIndex, entries);
        this.send('entries', { sessionId, cls, startIndex, entries });
      },
      state: (state) => {
        if (!this.sessions.has(sessionId)) return;
        this.noteState(s, state);
        forwarder.flush();
        this.send('sessionState', state);
        if (state.state === 'failed' && state.error) {
          this.send('error', { sessionId, error: state.error });
        }
      },
      summary: (summary) => {
        if (!this.sessions.has(sessionId)) return;
        s.live = false;
        s.summary = summary;
        store.setSummary(summary);
        forwarder.flush();
        if (summary.events !== store.count) {
          const message = `session ${sessionId}: the summary counts ${summary.events} events but the trace store holds ${store.count}`;
          this.host.log(message);
          this.send('error', {
            sessionId,
            error: {
              kind: 'internal',
              code: null,
              codeName: null,
              message,
              hint: 'The trace may be incomplete: please report this with the exported trace.',
            },
          });
        }
        this.send('summary', summary);
      },
    };
    try {
      const state = await this.walk.startSession(sessionId, p, sink);
      if (this.isClosed) {
        await this.walk.control(sessionId, 'cancel', {}).catch(() => undefined);
      }
      // State pushes may already have overtaken the reply; keep the most advanced one.
      return this.noteState(s, state);
    } catch (e) {
      this.sessions.delete(sessionId);
      forwarder.dispose();
      store.dispose();
      throw e;
    }
  }

  /** Records a state from the walk service; an ended state stops the session being live. */
  private noteState(s: HostSession, state: SessionState): SessionState {
    const order = (x: SessionState): number =>
      ENDED.has(x.state) ? 2 : x.state === 'starting' ? 0 : 1;
    if (order(state) >= order(s.state)) s.state = state;
    // Exported traces keep the session clock's origin, so imported events have wall-clock times.
    if (state.clockOriginEpochMs > 0) s.store.meta.clockOriginEpochMs = state.clockOriginEpochMs;
    return s.state;
  }

  private importTrace(_fileName: string, bytes: ArrayBuffer): SessionState {
    const store = TraceStore.import(bytes, this.host.options.traceStore);
    const sessionId = newId('t');
    const meta = store.meta;
    const classes: WalkableClass[] = Array.isArray(meta.classes)
      ? meta.classes.filter((c): c is WalkableClass =>
          (WALKABLE_CLASSES as readonly string[]).includes(c),
        )
      : [];
    const progress: ClassProgress[] = classes.map((cls) => ({
      cls,
      walked: store.entryCount(cls),
      total: store.entryCount(cls),
      done: true,
    }));
    const created = Date.parse(typeof meta.createdAt === 'string' ? meta.createdAt : '');
    const state: SessionState = {
      sessionId,
      state: 'finished',
      pid: typeof meta.pid === 'number' ? meta.pid : 0,
      snapshotId: null,
      pace: { mode: 'run' },
      classes: progress,
      current: null,
      bookmarks: [],
      pass: 0,
      passes: 1,
      eventsStored: store.count,
      error: null,
      targetExited: false,
      clockOriginEpochMs:
        typeof meta.clockOriginEpochMs === 'number'
          ? meta.clockOriginEpochMs
          : Number.isFinite(created)
            ? created
            : 0,
      allocator: (meta.allocator ?? { strategy: 'heap' }) as AllocatorOptions,
    };
    const forwarder = new EventForwarder(
      sessionId,
      {
        events: (firstSeq, b) => this.send('events', { sessionId, firstSeq, bytes: b }),
        aggregate: (a) => this.send('aggregate', a),
      },
      this.host.options.flow,
    );
    const summary = store.summary ? { ...store.summary, sessionId } : null;
    this.sessions.set(sessionId, { id: sessionId, store, forwarder, state, summary, live: false });
    return state;
  }

  private async dropSession(s: HostSession): Promise<void> {
    if (s.live) {
      await this.walk.control(s.id, 'cancel', {}).catch((e: unknown) => {
        this.host.log(`cancelling ${s.id} failed`, e);
      });
    }
    this.sessions.delete(s.id);
    s.forwarder.dispose();
    s.store.dispose();
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.isClosed = true;
    this.closing = (async () => {
      await Promise.all([...this.sessions.values()].map((s) => this.dropSession(s)));
      const snaps = [...this.snapshots.keys()];
      this.snapshots.clear();
      await Promise.all(
        snaps.map((id) =>
          this.walk.freeSnapshot(id).catch((e: unknown) => {
            this.host.log(`freeing snapshot ${id} failed`, e);
          }),
        ),
      );
      this.host.forget(this);
    })();
    return this.closing;
  }
}
