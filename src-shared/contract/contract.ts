/**
 * THE IPC contract: every request the renderer can make, every message the host pushes, their
 * validators and the channel names. Imported by main (host, both adapters), the preload and the
 * renderer; contract.test.ts checks both adapters implement all of it.
 */
import { parseAllocatorOptions, type AllocatorOptions } from '../alloc/options';
import { WALKABLE_CLASSES, type WalkableClass } from '../pss/constants';
import type {
  EntryPage,
  ErrorReply,
  Pace,
  ProcessRow,
  SessionState,
  SessionSummary,
  SnapshotDiff,
  SnapshotInfo,
  AppInfo,
} from './model';
import {
  array,
  boolean,
  bytes,
  literal,
  number,
  object,
  optional,
  refine,
  string,
  tagged,
  type Infer,
  type Validator,
} from './validate';

/**
 * Sizes fitted to real requests and replies, so every frame and every reply is bounded whatever
 * a client asks for (the host clips page sizes; the transports refuse larger frames).
 */
export const CONTRACT_LIMITS = {
  /** getEvents answers at most this many events (6 MiB of records); page on for more. */
  maxEventsPerReply: 131_072,
  /** querySnapshot and getEntries answer at most this many entries; page on for more. */
  maxEntriesPerReply: 10_000,
  /** Trace files cross in chunks of at most this many bytes (import and export). */
  traceChunkBytes: 4 * 1024 * 1024,
} as const;

const id = string({ max: 64, pattern: /^[A-Za-z0-9_-]+$/ });
const pid = number({ int: true, min: 1, max: 0x7fffffff });
const u32 = number({ int: true, min: 0, max: 0xffffffff });
const walkClass = literal(...WALKABLE_CLASSES);

const allocatorOptions: Validator<AllocatorOptions> = {
  parse(x, path = '') {
    const r = parseAllocatorOptions(x);
    return r.ok ? r : { ok: false, error: `${path || 'allocator'}: ${r.error}` };
  },
};

const pace: Validator<Pace> = tagged('mode', {
  run: object({}),
  paced: object({ entriesPerSecond: number({ min: 0.1, max: 1_000_000 }) }),
});

/** Every request: its params validator; the response type is in RequestResults. */
export const requestParams = {
  appInfo: object({}),
  listProcesses: object({}),
  /** usage: also read smaps (per-region memory usage; several times slower than maps). */
  capture: object({ pid, flags: u32, usage: optional(boolean()) }),
  freeSnapshot: object({ snapshotId: id }),
  querySnapshot: object({
    snapshotId: id,
    cls: walkClass,
    offset: number({ int: true, min: 0 }),
    limit: number({ int: true, min: 1, max: 200_000 }),
  }),
  diffSnapshots: object({ a: id, b: id }),
  startSession: refine(
    object({
      pid: optional(pid),
      snapshotId: optional(id),
      flags: u32,
      allocator: allocatorOptions,
      classes: array(walkClass, { min: 1, max: 4 }),
      pace,
      onAllocFailure: literal('stop', 'retry'),
      /** Walk every class this many times, seeking to the beginning between passes (default 1). */
      passes: optional(number({ int: true, min: 1, max: 1000 })),
    }),
    (p) =>
      p.pid === undefined && p.snapshotId === undefined
        ? 'give a pid to capture or an existing snapshotId'
        : p.pid !== undefined && p.snapshotId !== undefined
          ? 'give either a pid to capture or an existing snapshotId, not both'
          : null,
  ),
  sessionControl: refine(
    object({
      sessionId: id,
      action: literal(
        'pause',
        'resume',
        'step',
        'seekToBeginning',
        'savePosition',
        'restorePosition',
        'cancel',
        'setPace',
      ),
      bookmarkId: optional(number({ int: true, min: 0 })),
      pace: optional(pace),
    }),
    (p) =>
      p.action === 'restorePosition' && p.bookmarkId === undefined
        ? 'restorePosition needs the bookmarkId to restore'
        : p.action === 'setPace' && p.pace === undefined
          ? 'setPace needs the pace to set'
          : null,
  ),
  closeSession: object({ sessionId: id }),
  sessionSummary: object({ sessionId: id }),
  /**
   * Random access to the stored events (CLI, tools); the app's pages never need it, the events
   * push delivers each event once. Answers at most CONTRACT_LIMITS.maxEventsPerReply events.
   */
  getEvents: object({
    sessionId: id,
    fromSeq: number({ int: true, min: 0 }),
    count: number({ int: true, min: 1, max: 1_000_000 }),
  }),
  getEntries: object({
    sessionId: id,
    cls: walkClass,
    offset: number({ int: true, min: 0 }),
    limit: number({ int: true, min: 1, max: 200_000 }),
  }),
  /**
   * The client consumed every event of the session up to `seq`: the host may send that many
   * more (the credit stream, src-main/host/flow.ts). `seq` must be one the host has sent.
   */
  ackEvents: object({ sessionId: id, seq: number({ int: true, min: 0 }) }),
  /**
   * One chunk of the session's trace file, from `offset` (default 0). Offset 0 fixes what the
   * file holds (the events stored at that moment); later chunks continue that file.
   */
  exportTrace: object({ sessionId: id, offset: optional(number({ int: true, min: 0 })) }),
  /** A whole trace file of at most CONTRACT_LIMITS.traceChunkBytes; larger ones are uploaded. */
  importTrace: object({
    fileName: string({ max: 1024 }),
    bytes: bytes({ max: CONTRACT_LIMITS.traceChunkBytes }),
  }),
  /** Upload of a trace file in chunks: begin, every chunk in order, then end (or abort). */
  importTraceBegin: object({
    fileName: string({ max: 1024 }),
    totalBytes: number({ int: true, min: 0, max: Number.MAX_SAFE_INTEGER }),
  }),
  importTraceChunk: object({
    uploadId: id,
    offset: number({ int: true, min: 0, max: Number.MAX_SAFE_INTEGER }),
    bytes: bytes({ max: CONTRACT_LIMITS.traceChunkBytes }),
  }),
  importTraceEnd: object({ uploadId: id }),
  importTraceAbort: object({ uploadId: id }),
  /**
   * The trace the app was started on (`pss-inspector open FILE`), opened as an imported session
   * of this connection; null when it was started on none. Each call opens it afresh.
   */
  openedTrace: object({}),
} as const;

export type RequestName = keyof typeof requestParams;
export type RequestParams<N extends RequestName> = Infer<(typeof requestParams)[N]>;

/** What each request answers on success. */
export interface RequestResults {
  appInfo: AppInfo;
  listProcesses: ProcessRow[];
  capture: SnapshotInfo;
  freeSnapshot: { freed: true };
  querySnapshot: EntryPage;
  diffSnapshots: SnapshotDiff;
  startSession: SessionState;
  sessionControl: SessionState;
  closeSession: { closed: true };
  sessionSummary: SessionSummary;
  /** Binary event records (src-shared/events) from fromSeq on; `count` may be less at the end. */
  getEvents: { sessionId: string; fromSeq: number; bytes: ArrayBuffer };
  getEntries: {
    sessionId: string;
    cls: WalkableClass;
    offset: number;
    total: number;
    entries: EntryPage['entries'];
  };
  ackEvents: { ok: true };
  exportTrace: { fileName: string; totalBytes: number; offset: number; bytes: ArrayBuffer };
  importTrace: SessionState;
  importTraceBegin: { uploadId: string; chunkBytes: number };
  importTraceChunk: { received: number };
  importTraceEnd: SessionState;
  importTraceAbort: { aborted: true };
  openedTrace: { fileName: string; session: SessionState } | null;
}

export const REQUEST_NAMES = Object.keys(requestParams) as RequestName[];

export type Reply<N extends RequestName> =
  { ok: true; value: RequestResults[N] } | { ok: false; error: ErrorReply };

/** Messages the host pushes without being asked. */
export interface PushMessages {
  /**
   * Binary: event records firstSeq… of a session, in seq order, each seq once. The host sends
   * at most the connection's credit beyond its last ackEvents (src-main/host/flow.ts).
   */
  events: { sessionId: string; firstSeq: number; bytes: ArrayBuffer };
  /** Decoded walk entries, in walk order. */
  entries: {
    sessionId: string;
    cls: WalkableClass;
    startIndex: number;
    entries: EntryPage['entries'];
  };
  sessionState: SessionState;
  summary: SessionSummary;
  /** An error not tied to a request (a session failed in the background). */
  error: { sessionId: string | null; error: ErrorReply };
  /**
   * The application menu asked for something the renderer does; `openedTrace`: another
   * `pss-inspector open FILE` asked the running app to open a trace (ask openedTrace for it).
   */
  command: { command: 'openTrace' | 'exportTrace' | 'about' | 'openedTrace' };
}
export type PushName = keyof PushMessages;
export const PUSH_NAMES: readonly PushName[] = [
  'events',
  'entries',
  'sessionState',
  'summary',
  'error',
  'command',
];

/** Pushed messages that carry a binary payload in `bytes`. */
export const BINARY_PUSHES: ReadonlySet<PushName> = new Set(['events']);

/** The one place channel names live. */
export const Channels = {
  /** Electron: ipcRenderer.invoke(Channels.request, name, params) → Reply. */
  request: 'pss:request',
  /** Electron: the renderer asks main for the MessagePort pushes arrive on. */
  connectPort: 'pss:connect-port',
  /** Electron: main → renderer, the port itself (transferred). */
  port: 'pss:port',
  /** Web mode: the WebSocket path. */
  webSocket: '/pss-ws',
  /**
   * Web mode: a page's second socket, `?channel=ID&role=events` (ID: the one its first socket
   * gave), carries only its `events` pushes and their `ackEvents` (src-main/web/server.ts).
   */
  webSocketChannelParam: 'channel',
  webSocketRoleParam: 'role',
  webSocketEventsRole: 'events',
} as const;

/** A pairing id a page may give its sockets (Channels.webSocketChannelParam). */
export const WEB_SOCKET_CHANNEL_ID = /^[A-Za-z0-9_-]{8,64}$/;

/** The API the renderer sees, identical over the preload (Electron) and the WebSocket bridge. */
export interface PssApi {
  readonly transport: 'electron' | 'web';
  request<N extends RequestName>(name: N, params: RequestParams<N>): Promise<Reply<N>>;
  /** Subscribe to one kind of push; returns the unsubscribe function. */
  on<P extends PushName>(name: P, listener: (message: PushMessages[P]) => void): () => void;
}

export function validateRequest<N extends RequestName>(
  name: unknown,
  params: unknown,
): { ok: true; name: N; params: RequestParams<N> } | { ok: false; error: string } {
  if (typeof name !== 'string' || !Object.prototype.hasOwnProperty.call(requestParams, name)) {
    return {
      ok: false,
      error: `unknown request ${JSON.stringify(typeof name === 'string' ? name.slice(0, 64) : name)}`,
    };
  }
  const r = (requestParams[name as RequestName] as Validator<unknown>).parse(params, 'params');
  return r.ok
    ? { ok: true, name: name as N, params: r.value as RequestParams<N> }
    : { ok: false, error: r.error };
}

export type { ProcessRow, SnapshotInfo, SessionState, SessionSummary, ErrorReply } from './model';
