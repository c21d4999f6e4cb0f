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
 *
 * Nothing a client sends can stop the host or make it hold unbounded memory or descriptors:
 * every handler's exception becomes an ErrorReply; requests wait their turn behind per
 * connection and host-wide concurrency caps; snapshots, sessions, uploads and trace memory are
 * capped (./limits.ts); replies are clipped to CONTRACT_LIMITS; acks must name seqs that were
 * sent; a connection whose transport is congested gets aggregates instead of event detail; a
 * trace that cannot spill to disk ends its session with that error, keeping every event.
 */
import { randomBytes } from 'node:crypto';
import {
  close as closeFd,
  fstatSync,
  mkdtempSync,
  openSync,
  rmSync,
  rmdirSync,
  unlinkSync,
  write as writeFd,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  CONTRACT_LIMITS,
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
  ErrorReply,
  ProcessRow,
  SessionState,
  SessionSummary,
} from '../../src-shared/contract/model';
import type { SessionControlArgs, SessionSink, WalkService } from '../walk/service';
import {
  TraceMemoryBudget,
  TraceStore,
  type TraceMeta,
  type TraceStoreOptions,
} from '../walk/trace-store';
import { readTraceFileInWorker, versionOfFd } from '../trace/import';
import { HostError, notFound, toErrorReply } from '../errors/reply';
import {
  failedState,
  hasEnded,
  importedState,
  startingState,
} from '../../src-shared/contract/session-state';
import { summaryOfLostSession } from './lost-summary';
import { usesUserLibrary } from '../../src-shared/alloc/options';
import { EventStream, type FlowOptions, type FlowStats } from './flow';
import { StoreExport } from '../trace/store-export';
import { diffSnapshots } from './diff';
import { CpuSampler, listProcesses as readProcessTable } from './processes';
import { DEFAULT_LIMITS, Gate, limitError, type HostLimits } from './limits';
import { availableParallelism } from 'node:os';

/** Where a connection's pushes go (a window's MessagePort, a WebSocket). */
export interface ConnectionSink {
  push<P extends PushName>(name: P, message: PushMessages[P]): void;
  /**
   * True while the transport holds more unsent bytes than it should (the peer is not reading):
   * the host then holds the session's event stream back until it drains (./flow.ts).
   */
  congested?(): boolean;
}

/** Trace memory shared by every session of the host, before the oldest events spill to disk. */
export const DEFAULT_TRACE_MEMORY_BYTES = 256 * 1024 * 1024;

export interface HostOptions {
  walk: WalkService;
  transport: 'electron' | 'web';
  /** Path of the native library (libpss.so) or 'kernel32.dll', for appInfo. */
  library: string;
  version: string;
  flow?: Partial<FlowOptions>;
  traceStore?: TraceStoreOptions & {
    /** Event bytes all sessions together keep in memory (default DEFAULT_TRACE_MEMORY_BYTES). */
    memoryBudgetBytes?: number;
  };
  /** Caps (./limits.ts); defaults DEFAULT_LIMITS. */
  limits?: Partial<HostLimits>;
  /** A trace file to offer every connection as its first session (openedTrace). */
  openTrace?: string;
  /** Replaces the /proc reader (tests). */
  listProcesses?: () => Promise<ProcessRow[]>;
  /** Problems that are not tied to a request (a sink threw…); default console.error. */
  log?: (message: string, error?: unknown) => void;
  /**
   * Whether sessions may load a user's allocator library (docs/user-allocator.md); default
   * true. Web mode with --allow-remote turns it off: a remote client must not make this
   * machine load a shared object.
   */
  userAllocatorLibraries?: boolean;
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
  /** The session's events towards this connection (./flow.ts). */
  stream: EventStream;
  state: SessionState;
  summary: SessionSummary | null;
  /** The walk service still runs it (not imported, not ended). */
  live: boolean;
  /** Why the host ended the session (its trace could not be stored), if it did. */
  endedBy: ErrorReply | null;
  /** The export in progress (offset 0 writes the file; later chunks read it). */
  exporting: Promise<StoreExport> | null;
}

interface Upload {
  id: string;
  fileName: string;
  fd: number;
  /** Left to delete when the file could not be unlinked while open (Windows). */
  path: string | null;
  totalBytes: number;
  received: number;
  busy: boolean;
}

type Handler<N extends RequestName> = (params: RequestParams<N>) => Promise<RequestResults[N]>;
type HandlerTable = { [N in RequestName]: Handler<N> };

/** Requests that cost O(1) and hold nothing: served at once, never queued behind others. */
const UNGATED: ReadonlySet<RequestName> = new Set<RequestName>(['appInfo', 'ackEvents']);

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
  readonly limits: HostLimits;
  readonly traceBudget: TraceMemoryBudget;
  /** Requests being served, all connections together. */
  readonly requests: Gate;
  /** Trace files being parsed (each in a worker with a bounded heap). */
  readonly traceReads: Gate;
  /** Host-wide counts behind the caps (snapshots, sessions…), kept by the connections. */
  readonly counts = { snapshots: 0, sessions: 0, running: 0, uploads: 0 };
  private processList: Promise<ProcessRow[]> | null = null;
  /** The trace openedTrace answers with: the one the app was started on, or a later one. */
  private traceToOpen: string | null;

  constructor(readonly options: HostOptions) {
    this.traceToOpen = options.openTrace ?? null;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.traceBudget = new TraceMemoryBudget(
      options.traceStore?.memoryBudgetBytes ?? DEFAULT_TRACE_MEMORY_BYTES,
    );
    this.requests = new Gate(this.limits.requests);
    this.traceReads = new Gate(this.limits.concurrentTraceReads);
  }

  /** Options for a new trace store: the shared memory budget included. */
  traceStoreOptions(): TraceStoreOptions {
    const { memoryBudgetBytes: _ignored, ...rest } = this.options.traceStore ?? {};
    return { ...rest, budget: this.traceBudget };
  }

  /**
   * The process table; concurrent callers share one read of /proc (so a burst of requests opens
   * the descriptors of one scan, not one scan each).
   */
  listProcesses(): Promise<ProcessRow[]> {
    if (!this.processList) {
      this.processList = (this.options.listProcesses ?? readProcessTable)().finally(() => {
        this.processList = null;
      });
    }
    return this.processList;
  }

  /** The trace file openedTrace opens (null: none). */
  get openedTracePath(): string | null {
    return this.traceToOpen;
  }

  /**
   * Another `pss-inspector open FILE` reached the running app (Electron's second-instance): that
   * file becomes the one openedTrace opens, and every connection is told to ask for it (a
   * `command` push of `openedTrace`). Checked when it is opened, like the first one.
   */
  openTrace(path: string): void {
    this.traceToOpen = path;
    for (const c of this.connections) c.notify('command', { command: 'openedTrace' });
  }

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
  private readonly uploads = new Map<string, Upload>();
  private isClosed = false;
  private closing: Promise<void> | null = null;
  private readonly cpu = new CpuSampler(availableParallelism());
  private readonly handlers: HandlerTable;
  private readonly gate: Gate;
  private queued = 0;

  constructor(
    private readonly host: SessionHost,
    private readonly sink: ConnectionSink,
  ) {
    this.handlers = this.buildHandlers();
    this.gate = new Gate(host.limits.requestsPerConnection);
  }

  private get limits(): HostLimits {
    return this.host.limits;
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
    return this.sessions.get(sessionId)?.stream.stats ?? null;
  }

  async handle(name: unknown, params: unknown): Promise<Reply<RequestName>> {
    try {
      return await this.serve(name, params);
    } catch (e) {
      // serve() catches what handlers throw; this is the last line for anything else.
      this.host.log(`a request failed outside its handler on ${this.id}`, e);
      return { ok: false, error: toErrorReply(e) };
    }
  }

  private async serve(name: unknown, params: unknown): Promise<Reply<RequestName>> {
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
    const gated = !UNGATED.has(v.name);
    if (gated && this.queued >= this.limits.queuedRequestsPerConnection) {
      return {
        ok: false,
        error: toErrorReply(
          limitError(
            `this connection already has ${this.queued} requests waiting, the most it may queue`,
            'Wait for replies before sending more requests.',
          ),
        ),
      };
    }
    let releaseOwn: (() => void) | null = null;
    let releaseHost: (() => void) | null = null;
    try {
      if (gated) {
        this.queued++;
        try {
          releaseOwn = await this.gate.acquire();
          releaseHost = await this.host.requests.acquire();
        } finally {
          this.queued--;
        }
      }
      const handler = this.handlers[v.name] as (p: unknown) => Promise<unknown>;
      const value = await handler(v.params);
      return { ok: true, value } as Reply<RequestName>;
    } catch (e) {
      return { ok: false, error: toErrorReply(e) };
    } finally {
      releaseHost?.();
      releaseOwn?.();
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
      // One /proc scan serves every connection asking at once (host.listProcesses); CPU % is
      // per connection (between its own listings), so each gets its own copies of the rows.
      listProcesses: async () =>
        this.cpu.apply(
          (await this.host.listProcesses()).map((r) => ({ ...r })),
          Date.now(),
        ),
      capture: ({ pid, flags, usage }) => this.capture(pid, flags, usage ?? false),
      freeSnapshot: async ({ snapshotId }) => {
        this.ownSnapshot(snapshotId);
        this.forgetSnapshot(snapshotId);
        await this.walk.freeSnapshot(snapshotId);
        return { freed: true as const };
      },
      querySnapshot: ({ snapshotId, cls, offset, limit }) => {
        this.ownSnapshot(snapshotId);
        return this.walk.querySnapshot(
          snapshotId,
          cls,
          offset,
          Math.min(limit, CONTRACT_LIMITS.maxEntriesPerReply),
        );
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
        const n = Math.min(count, CONTRACT_LIMITS.maxEventsPerReply);
        return Promise.resolve({ sessionId, fromSeq, bytes: s.store.read(fromSeq, n) });
      },
      getEntries: ({ sessionId, cls, offset, limit }) => {
        const s = this.session(sessionId);
        return Promise.resolve({
          sessionId,
          cls,
          offset,
          total: s.store.entryCount(cls),
          entries: s.store.getEntries(
            cls,
            offset,
            Math.min(limit, CONTRACT_LIMITS.maxEntriesPerReply),
          ),
        });
      },
      ackEvents: ({ sessionId, seq }) => {
        const s = this.session(sessionId);
        const sent = s.stream.sent;
        if (seq >= sent) {
          throw new HostError(
            'validation',
            sent === 0
              ? `ack of seq ${seq}, but no event of session ${sessionId} has been sent yet`
              : `ack of seq ${seq}, but only seqs below ${sent} of session ${sessionId} have been sent`,
            'Acknowledge only the events the host pushed; nothing changed.',
          );
        }
        s.stream.ack(seq);
        return Promise.resolve({ ok: true as const });
      },
      exportTrace: async ({ sessionId, offset }) => {
        const s = this.session(sessionId);
        const at = offset ?? 0;
        if (at === 0 || !s.exporting) {
          if (at !== 0) {
            throw new HostError(
              'misuse',
              `no export of session ${sessionId} is in progress at offset ${at}`,
              'Start the export at offset 0, then ask for the following chunks in order.',
            );
          }
          void s.exporting?.then((x) => x.close()).catch(() => undefined);
          s.exporting = StoreExport.create(s.store, this.host.options.traceStore?.spillDir);
        }
        const pending = s.exporting;
        let file: StoreExport;
        try {
          file = await pending;
        } catch (e) {
          if (s.exporting === pending) s.exporting = null;
          throw e;
        }
        const bytes = file.read(at, CONTRACT_LIMITS.traceChunkBytes);
        if (at + bytes.byteLength >= file.totalBytes && s.exporting === pending) {
          s.exporting = null;
          file.close();
        }
        const meta = s.store.meta;
        const who = (meta.processName || `pid${meta.pid}`).replace(/[^A-Za-z0-9_.-]+/g, '_');
        const when = meta.createdAt.replace(/[:.]/g, '-');
        return {
          fileName: `${who}-${when}.psstrace`,
          totalBytes: file.totalBytes,
          offset: at,
          bytes,
        };
      },
      importTrace: async ({ fileName, bytes }) => {
        const up = this.beginUpload(fileName, bytes.byteLength);
        try {
          await this.writeChunk(up, 0, bytes);
        } catch (e) {
          this.abortUpload(up);
          throw e;
        }
        return this.endUpload(up);
      },
      importTraceBegin: ({ fileName, totalBytes }) => {
        const up = this.beginUpload(fileName, totalBytes);
        return Promise.resolve({ uploadId: up.id, chunkBytes: CONTRACT_LIMITS.traceChunkBytes });
      },
      importTraceChunk: async ({ uploadId, offset, bytes }) => {
        const up = this.upload(uploadId);
        try {
          await this.writeChunk(up, offset, bytes);
        } catch (e) {
          if (!(e instanceof HostError)) this.abortUpload(up);
          throw e;
        }
        return { received: up.received };
      },
      importTraceEnd: ({ uploadId }) => this.endUpload(this.upload(uploadId)),
      openedTrace: () => this.openStartupTrace(),
      importTraceAbort: ({ uploadId }) => {
        this.abortUpload(this.upload(uploadId));
        return Promise.resolve({ aborted: true as const });
      },
    };
    // The table is typed to cover the contract; this guards against a stale build.
    for (const n of REQUEST_NAMES) if (typeof table[n] !== 'function') throw new Error(n);
    return table;
  }

  // ---- snapshots ---------------------------------------------------------------------------

  private async capture(pid: number, flags: number, usage: boolean) {
    const counts = this.host.counts;
    if (this.snapshots.size >= this.limits.snapshotsPerConnection) {
      throw limitError(
        `this connection already holds ${this.snapshots.size} snapshots, the most one may hold`,
        'Free snapshots you no longer need (or close sessions that captured them), then capture again.',
      );
    }
    if (counts.snapshots >= this.limits.snapshots) {
      throw limitError(
        `the inspector already holds ${counts.snapshots} snapshots, the most it holds at once`,
        'Free snapshots in this or other windows, then capture again.',
      );
    }
    counts.snapshots++;
    let kept = false;
    try {
      const info = await this.walk.capture(pid, flags, { usage });
      if (this.isClosed) {
        await this.walk.freeSnapshot(info.snapshotId).catch(() => undefined);
        throw new HostError('misuse', 'the connection closed during the capture', '');
      }
      this.snapshots.set(info.snapshotId, { pid: info.pid, processName: info.processName });
      kept = true;
      return info;
    } finally {
      if (!kept) counts.snapshots--;
    }
  }

  private forgetSnapshot(snapshotId: string): void {
    if (this.snapshots.delete(snapshotId)) this.host.counts.snapshots--;
  }

  // ---- sessions ----------------------------------------------------------------------------

  /** Throws a limit error when one more session may not be opened (running: it walks). */
  private checkSessionRoom(running: boolean): void {
    const counts = this.host.counts;
    if (this.sessions.size >= this.limits.sessionsPerConnection) {
      throw limitError(
        `this connection already holds ${this.sessions.size} sessions, the most one may hold`,
        'Close sessions you no longer need (closeSession), then start or import again.',
      );
    }
    if (counts.sessions >= this.limits.sessions) {
      throw limitError(
        `the inspector already holds ${counts.sessions} sessions, the most it holds at once`,
        'Close sessions in this or other windows, then try again.',
      );
    }
    if (running && counts.running >= this.limits.runningSessions) {
      throw limitError(
        `${counts.running} walks are already running, the most the inspector runs at once`,
        'Wait for a walk to finish (or cancel one), then start again.',
      );
    }
  }

  private addSession(s: HostSession): void {
    this.sessions.set(s.id, s);
    this.host.counts.sessions++;
    if (s.live) this.host.counts.running++;
  }

  /** The session's walk ended (or never ran): it no longer counts as running. */
  private endLive(s: HostSession): void {
    if (!s.live) return;
    s.live = false;
    this.host.counts.running--;
  }

  private removeSession(s: HostSession): void {
    if (!this.sessions.delete(s.id)) return;
    this.endLive(s);
    this.host.counts.sessions--;
    s.stream.dispose();
    void s.exporting?.then((x) => x.close()).catch(() => undefined);
    s.exporting = null;
    s.store.dispose();
  }

  /** The session's credit stream of events to this connection (./flow.ts). */
  private newStream(sessionId: string, store: TraceStore): EventStream {
    return new EventStream(
      store,
      {
        events: (firstSeq, bytes) => this.send('events', { sessionId, firstSeq, bytes }),
        congested: () => this.sink.congested?.() ?? false,
      },
      this.host.options.flow,
    );
  }

  private async startSession(p: RequestParams<'startSession'>): Promise<SessionState> {
    if (this.host.options.userAllocatorLibraries === false && usesUserLibrary(p.allocator)) {
      throw new HostError(
        'validation',
        'User allocator libraries are off: this web mode accepts remote clients (--allow-remote), and a remote client must not make this machine load a shared object.',
        'Run web mode on loopback (without --allow-remote), or the desktop app, to walk with your own allocator.',
      );
    }
    if (p.snapshotId !== undefined) this.ownSnapshot(p.snapshotId);
    this.checkSessionRoom(true);
    const snap = p.snapshotId !== undefined ? this.snapshots.get(p.snapshotId) : undefined;
    const pid = snap?.pid ?? p.pid ?? 0;
    const sessionId = newId('s');
    const placeholder = startingState({
      sessionId,
      pid,
      snapshotId: p.snapshotId ?? null,
      pace: p.pace,
      classes: p.classes,
      passes: p.passes ?? 1,
      allocator: p.allocator,
      clockOriginEpochMs: Date.now(),
    });
    // Counted before the first await, so concurrent starts cannot pass the caps together.
    const meta: TraceMeta = {
      pid,
      processName: snap?.processName ?? '',
      flags: p.flags,
      allocator: p.allocator,
      classes: p.classes,
      createdAt: new Date().toISOString(),
      snapshotId: p.snapshotId ?? null,
      pace: p.pace,
    };
    const store = new TraceStore(meta, this.host.traceStoreOptions());
    const s: HostSession = {
      id: sessionId,
      store,
      stream: this.newStream(sessionId, store),
      state: placeholder,
      summary: null,
      live: true,
      endedBy: null,
      exporting: null,
    };
    this.addSession(s);
    if (!snap) meta.processName = await processNameOf(pid);
    const sink: SessionSink = {
      events: (firstSeq, batch) => {
        if (!this.sessions.has(sessionId)) return;
        try {
          store.append(firstSeq, batch);
        } catch (e) {
          if (!s.endedBy) this.host.log(`session ${sessionId}: a batch could not be stored`, e);
          this.endSession(s, toErrorReply(e));
          return;
        }
        if (store.spillError && !s.endedBy) this.endSession(s, toErrorReply(store.spillError));
        s.stream.stored(store.count);
      },
      entries: (cls, startIndex, entries) => {
        if (!this.sessions.has(sessionId)) return;
        store.appendEntries(cls, startIndex, entries);
        this.send('entries', { sessionId, cls, startIndex, entries });
      },
      state: (raw) => {
        if (!this.sessions.has(sessionId)) return;
        const state = this.noteState(s, raw);
        s.stream.flush();
        this.send('sessionState', state);
        if (state.state === 'failed' && state.error && state.error !== s.endedBy) {
          this.send('error', { sessionId, error: state.error });
        }
      },
      summary: (summary) => {
        if (!this.sessions.has(sessionId)) return;
        this.endSummary(s, summary);
      },
      // The walk worker died with the session: its state says so; its summary is the ledger
      // of the events this store received.
      lost: (state) => {
        if (!this.sessions.has(sessionId)) return;
        // Its event count is what this store received (the worker's last count may lag).
        sink.state(failedState(state, state.error, { eventsStored: store.count }));
        this.endSummary(s, summaryOfLostSession(store, state));
      },
    };
    try {
      if (this.isClosed) throw new HostError('misuse', 'the connection closed', '');
      const state = await this.walk.startSession(sessionId, p, sink);
      if (this.isClosed) {
        await this.walk.control(sessionId, 'cancel', {}).catch(() => undefined);
      }
      // State pushes may already have overtaken the reply; keep the most advanced one.
      return this.noteState(s, state);
    } catch (e) {
      this.removeSession(s);
      throw e;
    }
  }

  /** The session's walk ended: its summary is final (sent once). */
  private endSummary(s: HostSession, summary: SessionSummary): void {
    const { store, id: sessionId } = s;
    this.endLive(s);
    s.summary = summary;
    store.setSummary(summary);
    s.stream.flush();
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
  }

  /**
   * The host ends a running session itself (its trace cannot be stored): one error push, the
   * walk is cancelled, and its final state says 'failed' with this error. Every event the walk
   * made before it stops is kept (in memory when the disk refused it).
   */
  private endSession(s: HostSession, error: ErrorReply): void {
    if (s.endedBy) return;
    s.endedBy = error;
    this.host.log(`session ${s.id} ended: ${error.message}`);
    this.send('error', { sessionId: s.id, error });
    if (s.live) {
      this.walk.control(s.id, 'cancel', {}).catch((e: unknown) => {
        this.host.log(`cancelling ${s.id} failed`, e);
      });
    }
  }

  /** Records a state from the walk service; an ended state stops the session being live. */
  private noteState(s: HostSession, raw: SessionState): SessionState {
    const state: SessionState = hasEnded(raw) && s.endedBy ? failedState(raw, s.endedBy) : raw;
    const order = (x: SessionState): number => (hasEnded(x) ? 2 : x.state === 'starting' ? 0 : 1);
    if (order(state) >= order(s.state)) s.state = state;
    // Exported traces keep the session clock's origin, so imported events have wall-clock times.
    if (state.clockOriginEpochMs > 0) s.store.meta.clockOriginEpochMs = state.clockOriginEpochMs;
    return s.state;
  }

  private async dropSession(s: HostSession): Promise<void> {
    if (s.live) {
      await this.walk.control(s.id, 'cancel', {}).catch((e: unknown) => {
        this.host.log(`cancelling ${s.id} failed`, e);
      });
    }
    this.removeSession(s);
  }

  // ---- trace uploads and imports -----------------------------------------------------------

  private upload(uploadId: string): Upload {
    const up = this.uploads.get(uploadId);
    if (!up) throw notFound('upload', uploadId);
    return up;
  }

  private beginUpload(fileName: string, totalBytes: number): Upload {
    const counts = this.host.counts;
    if (totalBytes > this.limits.maxTraceFileBytes) {
      throw limitError(
        `${fileName} is ${totalBytes} bytes, larger than the ${this.limits.maxTraceFileBytes}-byte limit for trace files`,
        'Open a smaller trace file.',
      );
    }
    if (this.uploads.size >= this.limits.uploadsPerConnection) {
      throw limitError(
        `this connection already has ${this.uploads.size} trace upload in progress, the most one may have`,
        'Finish or abort it (importTraceEnd / importTraceAbort), then open the next file.',
      );
    }
    if (counts.uploads >= this.limits.uploads) {
      throw limitError(
        `${counts.uploads} trace uploads are in progress, the most the inspector accepts at once`,
        'Try again when another window has finished opening its trace.',
      );
    }
    this.checkSessionRoom(false);
    const { fd, path } = this.tempFile('pss-upload-');
    const up: Upload = {
      id: newId('u'),
      fileName,
      fd,
      path,
      totalBytes,
      received: 0,
      busy: false,
    };
    this.uploads.set(up.id, up);
    counts.uploads++;
    return up;
  }

  private async writeChunk(up: Upload, offset: number, bytes: ArrayBuffer): Promise<void> {
    if (up.busy) {
      throw new HostError(
        'misuse',
        `upload ${up.id} is still writing the previous chunk`,
        'Send the chunks one at a time, each after the previous one was answered.',
      );
    }
    if (offset !== up.received) {
      throw new HostError(
        'validation',
        `chunk at offset ${offset}, but upload ${up.id} has received ${up.received} bytes`,
        'Send the chunks in order, without gaps or overlaps.',
      );
    }
    if (up.received + bytes.byteLength > up.totalBytes) {
      throw new HostError(
        'validation',
        `chunk ends at ${up.received + bytes.byteLength}, beyond the announced ${up.totalBytes} bytes`,
        'Announce the file’s real size in importTraceBegin.',
      );
    }
    up.busy = true;
    try {
      await writeAll(up.fd, new Uint8Array(bytes), up.received);
      up.received += bytes.byteLength;
    } finally {
      up.busy = false;
    }
  }

  private abortUpload(up: Upload): void {
    if (!this.uploads.delete(up.id)) return;
    this.host.counts.uploads--;
    closeFd(up.fd, () => undefined);
    if (up.path) rmSafe(up.path);
  }

  /** A temporary file, unlinked as soon as it is open where the OS allows it. */
  private tempFile(prefix: string): { fd: number; path: string | null } {
    const dir = mkdtempSync(join(this.host.options.traceStore?.spillDir ?? tmpdir(), prefix));
    const file = join(dir, 'trace.bin');
    const fd = openSync(file, 'w+', 0o600);
    try {
      unlinkSync(file);
      rmdirSync(dir);
      return { fd, path: null };
    } catch {
      // Windows cannot unlink an open file: it is deleted when it is closed for good.
      return { fd, path: dir };
    }
  }

  /**
   * Validates the uploaded file in a worker and opens it as a finished, imported session.
   * Version 1 records are read from the uploaded file itself; version 2 records are decoded
   * into a second temporary file (the upload is then dropped).
   */
  private async endUpload(up: Upload): Promise<SessionState> {
    if (up.received !== up.totalBytes) {
      throw new HostError(
        'validation',
        `upload ${up.id} has ${up.received} of its ${up.totalBytes} bytes`,
        'Send every chunk before importTraceEnd.',
      );
    }
    if (up.busy) throw new HostError('misuse', `upload ${up.id} is busy`, 'Wait for its reply.');
    up.busy = true;
    // The file is the session's now (or nobody's): the upload ends here whatever happens.
    this.uploads.delete(up.id);
    this.host.counts.uploads--;
    return this.importFile({ fd: up.fd, path: up.path }, up.totalBytes);
  }

  /**
   * The trace the app was started on (`pss-inspector open FILE`, `--open FILE`), opened as an
   * imported session of this connection; null when it was started on none.
   */
  private async openStartupTrace(): Promise<{ fileName: string; session: SessionState } | null> {
    const path = this.host.openedTracePath;
    if (!path) return null;
    let fd: number;
    let size: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new HostError(
        code === 'ENOENT' ? 'not-found' : 'io',
        `the trace the app was started on cannot be opened: ${path}: ${(e as Error).message}`,
        'Check the file exists and is readable, or open another trace with Open trace….',
      );
    }
    try {
      size = fstatSync(fd).size;
    } catch (e) {
      closeFd(fd, () => undefined);
      throw e;
    }
    // The user's file: read where it is (path null: never deleted).
    const session = await this.importFile({ fd, path: null }, size);
    return { fileName: basename(path), session };
  }

  /**
   * Validates a trace file (open as `file.fd`, `totalBytes` long) in a worker and opens it as a
   * finished, imported session. The descriptor is the session's afterwards (or closed); a
   * `file.path` (a temporary folder) is removed.
   */
  private async importFile(
    file: { fd: number; path: string | null },
    totalBytes: number,
  ): Promise<SessionState> {
    const up = { fd: file.fd, path: file.path, totalBytes };
    const files: { fd: number; path: string | null }[] = [{ fd: up.fd, path: up.path }];
    const drop = (f: { fd: number; path: string | null }): void => {
      closeFd(f.fd, () => undefined);
      if (f.path) rmSafe(f.path);
    };
    let store: TraceStore;
    let damage: string | null = null;
    const release = await this.host.traceReads.acquire();
    try {
      const decoded = versionOfFd(up.fd) === 2 ? this.tempFile('pss-import-') : null;
      if (decoded) files.push(decoded);
      const contents = await readTraceFileInWorker(up.fd, up.totalBytes, decoded?.fd ?? -1);
      if (this.isClosed) {
        throw new HostError('misuse', 'the connection closed during the import', '');
      }
      this.checkSessionRoom(false);
      damage = contents.damage ?? null;
      const keep = contents.records.decoded && decoded ? decoded : up;
      store = TraceStore.fromFile(contents, keep.fd, this.host.traceStoreOptions());
      for (const f of files) if (f.fd !== keep.fd) drop(f);
      if (keep.path) rmSafe(keep.path);
    } catch (e) {
      for (const f of files) drop(f);
      throw e;
    } finally {
      release();
    }
    const state = this.openImported(store);
    if (damage) {
      this.send('error', {
        sessionId: state.sessionId,
        error: {
          kind: 'validation',
          code: null,
          codeName: null,
          message: `the trace file is damaged: ${damage}; the ${state.eventsStored} events before it were loaded`,
          hint: 'Everything before the damage is shown; the rest of the recording is lost.',
        },
      });
    }
    return state;
  }

  private openImported(store: TraceStore): SessionState {
    const sessionId = newId('t');
    const meta = store.meta as TraceMeta & { clockOriginEpochMs?: number };
    const created = Date.parse(meta.createdAt);
    const state = importedState({
      sessionId,
      pid: meta.pid,
      classes: meta.classes.map((cls) => ({ cls, entries: store.entryCount(cls) })),
      eventsStored: store.count,
      clockOriginEpochMs:
        typeof meta.clockOriginEpochMs === 'number'
          ? meta.clockOriginEpochMs
          : Number.isFinite(created)
            ? created
            : 0,
      allocator: meta.allocator as SessionState['allocator'],
    });
    const summary = store.summary ? { ...store.summary, sessionId } : null;
    const s: HostSession = {
      id: sessionId,
      store,
      stream: this.newStream(sessionId, store),
      state,
      summary,
      live: false,
      endedBy: null,
      exporting: null,
    };
    this.addSession(s);
    // Everything is on record: it streams from seq 0 at the page's pace, as a walk's events do.
    s.stream.stored(store.count);
    return state;
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.isClosed = true;
    this.closing = (async () => {
      for (const up of [...this.uploads.values()]) this.abortUpload(up);
      await Promise.all([...this.sessions.values()].map((s) => this.dropSession(s)));
      const snaps = [...this.snapshots.keys()];
      for (const id of snaps) this.forgetSnapshot(id);
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

/** Writes all of `bytes` at `position` (short writes continue; errors reject). */
function writeAll(fd: number, bytes: Uint8Array, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (done: number): void => {
      if (done >= bytes.byteLength) return resolve();
      writeFd(fd, bytes, done, bytes.byteLength - done, position + done, (err, n) => {
        if (err) return reject(err);
        if (n <= 0) return reject(new Error(`wrote ${done} of ${bytes.byteLength} bytes`));
        step(done + n);
      });
    };
    step(0);
  });
}

function rmSafe(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // best effort: a temporary directory
  }
}
