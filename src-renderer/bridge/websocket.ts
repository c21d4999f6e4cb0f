/**
 * PssApi over a WebSocket to the web-mode host (src-main/web), frames per
 * src-shared/contract/wire.ts. Requests carry ids and time out; pushes go to `on` listeners;
 * a lost connection is retried with exponential backoff, and its state is observable so the UI
 * can show it. Requests pending when the socket drops resolve with an `io` ErrorReply (errors
 * are data, never rejections); the host cancels a dropped connection's sessions, so the
 * generation number tells the UI that a reconnect is a fresh start.
 */
import {
  PUSH_NAMES,
  type PssApi,
  type PushMessages,
  type PushName,
  type Reply,
  type RequestName,
  type RequestParams,
} from '../../src-shared/contract/contract';
import type { ErrorReply } from '../../src-shared/contract/model';
import { decodeFrame, encodeFrame, PushListeners } from '../../src-shared/contract/wire';

export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface ConnectionState {
  status: ConnectionStatus;
  /** Increments on every successful open; a change means the host sees a new connection. */
  generation: number;
  /** Failed attempts since the last open. */
  attempt: number;
  /** When reconnecting: the delay before the next attempt. */
  retryInMs: number | null;
  lastError: string | null;
}

/** The part of the DOM WebSocket the bridge uses (tests pass a fake). */
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
}

export interface WebSocketBridgeOptions {
  url: string;
  createSocket?: (url: string) => SocketLike;
  /** Default reply timeout. */
  timeoutMs?: number;
  /** Per-request timeouts (captures of big processes, trace files). */
  timeouts?: Partial<Record<RequestName, number>>;
  backoff?: { initialMs: number; maxMs: number };
}

export interface WebSocketBridge extends PssApi {
  readonly state: ConnectionState;
  watch(listener: (state: ConnectionState) => void): () => void;
  /** Closes for good (no reconnect); pending requests resolve with an error. */
  close(): void;
}

const OPEN = 1;

const DEFAULT_TIMEOUTS: Partial<Record<RequestName, number>> = {
  capture: 120_000,
  startSession: 120_000,
  diffSnapshots: 120_000,
  importTrace: 300_000,
  exportTrace: 300_000,
  openedTrace: 300_000,
  listProcesses: 60_000,
};

/** The reply of a request the transport could not complete (errors are data). */
export function ioError(message: string, hint: string): ErrorReply {
  return { kind: 'io', code: null, codeName: null, message, hint };
}

interface Pending {
  resolve(reply: Reply<RequestName>): void;
  timer: ReturnType<typeof setTimeout>;
  name: RequestName;
}

export function createWebSocketBridge(options: WebSocketBridgeOptions): WebSocketBridge {
  const createSocket =
    options.createSocket ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
  const defaultTimeout = options.timeoutMs ?? 30_000;
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const backoff = options.backoff ?? { initialMs: 250, maxMs: 5_000 };
  const listeners = new PushListeners();
  const watchers = new Set<(s: ConnectionState) => void>();
  const pending = new Map<number, Pending>();
  /** Encoded requests waiting for the socket to open. */
  let outbox: { id: number; data: string | ArrayBuffer }[] = [];
  let nextId = 1;
  let socket: SocketLike | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let closedForGood = false;
  let state: ConnectionState = {
    status: 'connecting',
    generation: 0,
    attempt: 0,
    retryInMs: null,
    lastError: null,
  };

  const setState = (patch: Partial<ConnectionState>): void => {
    state = { ...state, ...patch };
    for (const w of [...watchers]) {
      try {
        w(state);
      } catch (e) {
        console.error('pss: a connection watcher threw', e);
      }
    }
  };

  const settle = (id: number, reply: Reply<RequestName>): void => {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(reply);
  };

  const failAll = (message: string): void => {
    outbox = [];
    for (const id of [...pending.keys()]) {
      settle(id, {
        ok: false,
        error: ioError(
          message,
          'The connection to the inspector was lost; it reconnects by itself. Sessions of the old connection were cancelled.',
        ),
      });
    }
  };

  const onMessage = (data: unknown): void => {
    if (typeof data !== 'string' && !(data instanceof ArrayBuffer)) return;
    const r = decodeFrame(data);
    if (!r.ok) {
      console.warn(`pss: ignored a malformed frame from the host: ${r.error}`);
      return;
    }
    const f = r.frame;
    if (f.t === 'rep') {
      settle(f.id, f.reply as Reply<RequestName>);
    } else if (f.t === 'push') {
      if (!(PUSH_NAMES as readonly string[]).includes(f.name)) return;
      listeners.dispatch(f.name as PushName, f.msg as PushMessages[PushName]);
    }
  };

  const connect = (): void => {
    if (closedForGood) return;
    let s: SocketLike;
    try {
      s = createSocket(options.url);
    } catch (e) {
      scheduleRetry(e instanceof Error ? e.message : String(e));
      return;
    }
    socket = s;
    s.binaryType = 'arraybuffer';
    s.onopen = () => {
      if (socket !== s) return;
      setState({
        status: 'open',
        generation: state.generation + 1,
        attempt: 0,
        retryInMs: null,
        lastError: null,
      });
      const queued = outbox;
      outbox = [];
      for (const q of queued) if (pending.has(q.id)) s.send(q.data);
    };
    s.onmessage = (ev) => {
      if (socket === s) onMessage(ev.data);
    };
    s.onerror = () => {
      // onclose follows with the details.
    };
    s.onclose = (ev) => {
      if (socket !== s) return;
      socket = null;
      const why = `the connection closed (code ${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`;
      failAll(why);
      if (closedForGood) setState({ status: 'closed', retryInMs: null, lastError: why });
      else scheduleRetry(why);
    };
  };

  const scheduleRetry = (why: string): void => {
    const attempt = state.attempt + 1;
    const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (attempt - 1));
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    setState({ status: 'reconnecting', attempt, retryInMs: delay, lastError: why });
    retryTimer = setTimeout(() => {
      retryTimer = null;
      setState({ status: 'connecting', retryInMs: null });
      connect();
    }, delay);
  };

  const bridge: WebSocketBridge = {
    transport: 'web',
    get state() {
      return state;
    },
    request<N extends RequestName>(name: N, params: RequestParams<N>): Promise<Reply<N>> {
      return new Promise<Reply<N>>((resolve) => {
        if (closedForGood) {
          resolve({ ok: false, error: ioError('the bridge is closed', 'Reload the page.') });
          return;
        }
        const id = nextId++;
        let data: string | ArrayBuffer;
        try {
          data = encodeFrame({ t: 'req', id, name, params });
        } catch (e) {
          resolve({
            ok: false,
            error: {
              kind: 'validation',
              code: null,
              codeName: null,
              message: `the request could not be encoded: ${(e as Error).message}`,
              hint: 'This is a bug in the page; nothing was sent.',
            },
          });
          return;
        }
        const ms = timeouts[name] ?? defaultTimeout;
        const timer = setTimeout(() => {
          settle(id, {
            ok: false,
            error: ioError(
              `no reply to ${name} within ${Math.round(ms / 1000)} s`,
              'The inspector may be busy or stopped; try again.',
            ),
          });
        }, ms);
        pending.set(id, { resolve: resolve as (r: Reply<RequestName>) => void, timer, name });
        if (socket && socket.readyState === OPEN) socket.send(data);
        else outbox.push({ id, data });
      });
    },
    on<P extends PushName>(name: P, listener: (message: PushMessages[P]) => void): () => void {
      return listeners.add(name, listener);
    },
    watch(listener) {
      watchers.add(listener);
      return () => {
        watchers.delete(listener);
      };
    },
    close() {
      closedForGood = true;
      if (retryTimer !== null) clearTimeout(retryTimer);
      retryTimer = null;
      const s = socket;
      socket = null;
      failAll('the bridge was closed');
      setState({ status: 'closed', retryInMs: null });
      s?.close(1000, 'closed by the page');
    },
  };
  connect();
  return bridge;
}

/** The WebSocket URL of the page's own origin, with the page's token when it has one. */
export function socketUrl(
  location: { protocol: string; host: string; search: string },
  path: string,
): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = new URLSearchParams(location.search).get('token');
  return `${scheme}//${location.host}${path}${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}
