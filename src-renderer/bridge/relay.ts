/**
 * The web-mode event stream received off the UI thread. Receiving a binary WebSocket message
 * costs the thread that owns the socket ~20 ms per MB in Chromium (measured: 48 MB of 64 KiB–
 * 4 MiB messages kept the UI thread busy 1.1–1.8 s with a handler that did nothing, 58 ms when
 * the socket was in a worker), which at full streaming speed was most of the UI thread's frame
 * budget. So a page opens a second socket, in its connection worker (socket.worker.ts), that
 * carries only its `events` pushes (src-main/web/server.ts EVENTS_ROLE); the page's own socket
 * keeps requests, replies and every other push. (The whole socket in the worker was measured
 * too: large text replies then loaded ~5× slower, 1.5–1.8 s instead of 0.25–0.34 s for the VA
 * table of 60,233 rows.)
 *
 * `serveEvents` (worker) opens the events socket when the page asks, decodes each frame and
 * hands over the `events` pushes, their bytes transferred; `eventsFeed` (page) asks for the
 * socket whenever the page's own socket is open (the host closes both when either closes, so
 * after a drop both are opened afresh), and sends the events' acks on it (each reply on the
 * page's socket cost its UI thread ~2 ms here).
 */
import {
  Channels,
  type PushMessages,
  type PushName,
  type Reply,
  type RequestName,
  type RequestParams,
} from '../../src-shared/contract/contract';
import { decodeFrame, PushListeners } from '../../src-shared/contract/wire';
import { ioError, type ConnectionState, type WebSocketBridge } from './websocket';

/** Page → worker. `n` numbers the page's events sockets (a reopened one is a new one). */
export type ToSocket =
  | { t: 'connect'; n: number; url: string }
  /** A request frame (the events' acks) to send on it. */
  | { t: 'send'; n: number; data: string }
  | { t: 'close'; n: number };

/** Worker → page. */
export type FromSocket =
  | { t: 'open'; n: number }
  | { t: 'closed'; n: number; code: number; reason: string }
  | { t: 'events'; n: number; msg: PushMessages['events'] }
  /** The reply to a request sent on it. */
  | { t: 'reply'; n: number; id: number; reply: Reply<RequestName> };

/** One end of a postMessage channel (a Worker, a worker's scope, a MessagePort). */
export interface RelayEnd<In, Out> {
  post(m: Out, transfer: ArrayBuffer[]): void;
  listen(fn: (m: In) => void): void;
}

/** The part of the DOM WebSocket the worker uses. */
export interface WorkerSocket {
  binaryType: string;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** Worker side: the page's events sockets, opened and closed as it asks. */
export function serveEvents(
  page: RelayEnd<ToSocket, FromSocket>,
  open: (url: string) => WorkerSocket,
): void {
  const sockets = new Map<number, WorkerSocket>();
  page.listen((m) => {
    if (m.t === 'close') {
      sockets.get(m.n)?.close(1000, 'closed by the page');
      return;
    }
    if (m.t === 'send') {
      sockets.get(m.n)?.send(m.data);
      return;
    }
    const n = m.n;
    let s: WorkerSocket;
    try {
      s = open(m.url);
    } catch (e) {
      page.post({ t: 'closed', n, code: 1006, reason: String(e) }, []);
      return;
    }
    sockets.set(n, s);
    s.binaryType = 'arraybuffer';
    s.onopen = () => page.post({ t: 'open', n }, []);
    s.onerror = () => undefined; // onclose follows
    s.onclose = (ev) => {
      sockets.delete(n);
      page.post({ t: 'closed', n, code: ev.code, reason: ev.reason }, []);
    };
    s.onmessage = (ev) => {
      if (typeof ev.data !== 'string' && !(ev.data instanceof ArrayBuffer)) return;
      const r = decodeFrame(ev.data);
      if (!r.ok) {
        console.warn(`pss: ignored a malformed frame on the events socket: ${r.error}`);
        return;
      }
      const f = r.frame;
      if (f.t === 'rep') {
        page.post({ t: 'reply', n, id: f.id, reply: f.reply as Reply<RequestName> }, []);
        return;
      }
      if (f.t !== 'push' || f.name !== 'events') return;
      const msg = f.msg as PushMessages['events'];
      page.post({ t: 'events', n, msg }, msg.bytes instanceof ArrayBuffer ? [msg.bytes] : []);
    };
  });
}

/** A pairing id for the page's two sockets (not a secret: the token is). */
export function newChannelId(random: (a: Uint8Array<ArrayBuffer>) => unknown): string {
  const b = new Uint8Array(16);
  random(b);
  let out = '';
  for (const x of b) out += x.toString(16).padStart(2, '0');
  return out;
}

/** `url` with the pairing id (and the events role) in its query. */
export function withChannel(url: string, channel: string, events: boolean): string {
  const u = new URL(url);
  u.searchParams.set(Channels.webSocketChannelParam, channel);
  if (events) u.searchParams.set(Channels.webSocketRoleParam, Channels.webSocketEventsRole);
  return u.toString();
}

/**
 * Page side: a bridge whose `events` pushes also come from the worker's events socket (kept
 * open while the page's own socket is; reopened a second after it drops). Everything else is
 * `bridge` itself, whose URL must carry the same channel.
 */
export function eventsFeed(
  bridge: WebSocketBridge,
  worker: RelayEnd<FromSocket, ToSocket>,
  eventsUrl: string,
  retryMs = 1000,
): WebSocketBridge {
  const listeners = new PushListeners();
  let n = 0;
  let open = false;
  let connecting = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let closedForGood = false;
  /** Acks sent on the events socket, waiting for their reply. */
  const acks = new Map<number, (r: Reply<RequestName>) => void>();
  let ackId = 0;
  const failAcks = (): void => {
    for (const [id, resolve] of [...acks]) {
      acks.delete(id);
      resolve({
        ok: false,
        error: ioError(
          'the events socket closed',
          'It reopens by itself; the events are sent again from where they stopped.',
        ),
      });
    }
  };
  const connect = (): void => {
    if (closedForGood || connecting || open || bridge.state.status !== 'open') return;
    connecting = true;
    worker.post({ t: 'connect', n: ++n, url: eventsUrl }, []);
  };
  worker.listen((m) => {
    if (m.n !== n) return;
    if (m.t === 'open') {
      connecting = false;
      open = true;
    } else if (m.t === 'closed') {
      connecting = false;
      open = false;
      failAcks();
      if (timer === null && !closedForGood)
        timer = setTimeout(() => {
          timer = null;
          connect();
        }, retryMs);
    } else if (m.t === 'events') {
      listeners.dispatch('events', m.msg);
    } else if (m.t === 'reply') {
      const resolve = acks.get(m.id);
      acks.delete(m.id);
      resolve?.(m.reply);
    }
  });
  bridge.watch((s) => {
    if (s.status === 'open') connect();
  });
  connect();
  return {
    transport: 'web',
    get state(): ConnectionState {
      return bridge.state;
    },
    request<N extends RequestName>(name: N, params: RequestParams<N>): Promise<Reply<N>> {
      // The events' acks go where the events come from: the page's socket (and its UI thread)
      // sees neither.
      if (name !== 'ackEvents' || !open) return bridge.request(name, params);
      return new Promise<Reply<N>>((resolve) => {
        const id = ++ackId;
        acks.set(id, resolve as (r: Reply<RequestName>) => void);
        worker.post({ t: 'send', n, data: JSON.stringify({ t: 'req', id, name, params }) }, []);
      });
    },
    on<P extends PushName>(name: P, listener: (message: PushMessages[P]) => void): () => void {
      const off = bridge.on(name, listener);
      if (name !== 'events') return off;
      const off2 = listeners.add(name, listener);
      return () => {
        off();
        off2();
      };
    },
    watch: (l) => bridge.watch(l),
    close() {
      closedForGood = true;
      if (timer !== null) clearTimeout(timer);
      worker.post({ t: 'close', n }, []);
      bridge.close();
    },
  };
}
