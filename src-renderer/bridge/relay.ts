/**
 * The web-mode WebSocket run off the UI thread. The page's socket lives in a worker of its own
 * (socket.worker.ts): receiving a binary WebSocket message costs the thread that owns the
 * socket ~20 ms per MB in Chromium (measured: 48 MB of 64 KiB–4 MiB messages kept the UI thread
 * busy 1.1–1.8 s with a handler that did nothing, 58 ms when the socket was in a worker), which
 * at full streaming speed was most of the UI thread's frame budget.
 *
 * The worker is only the socket and the decoder of `events` pushes (`serveSocket`): such a
 * frame is decoded there and handed over decoded, its bytes transferred (the page gets a small
 * object). Every other frame is handed over as received — a string, or the binary frame
 * transferred — and decoded on the page: a structured clone of the objects a large reply makes
 * costs the page more than parsing it (the VA table's 10,000-row pages loaded ~5× slower). The
 * page keeps createWebSocketBridge — ids, timeouts, reconnects, the connection state — over a
 * SocketLike whose far end is the worker (`relaySocket`).
 */
import { decodeFrame, type WireFrame } from '../../src-shared/contract/wire';
import type { SocketLike } from './websocket';

/** Page → worker. `n` numbers the page's sockets (a reconnect is a new one). */
export type ToSocket =
  | { t: 'connect'; n: number; url: string }
  | { t: 'send'; n: number; data: string | ArrayBuffer }
  | { t: 'close'; n: number; code: number | undefined; reason: string | undefined };

/** Worker → page. */
export type FromSocket =
  | { t: 'open'; n: number }
  | { t: 'close'; n: number; code: number; reason: string }
  | { t: 'error'; n: number }
  /** A frame as received (decoded on the page; one that does not decode is reported there). */
  | { t: 'message'; n: number; data: string | ArrayBuffer }
  /** An `events` push, decoded and checked here. */
  | { t: 'decoded'; n: number; frame: WireFrame };

/** One end of a postMessage channel (a Worker, a worker's scope, a MessagePort). */
export interface RelayEnd<In, Out> {
  post(m: Out, transfer: ArrayBuffer[]): void;
  listen(fn: (m: In) => void): void;
}

/** A frame the connection worker decoded: createWebSocketBridge takes it as it is. */
export class DecodedFrame {
  constructor(readonly frame: WireFrame) {}
}

/** The ArrayBuffers inside a decoded frame (the parts of a binary frame), to transfer. */
function buffersOf(x: unknown, out: ArrayBuffer[], depth = 0): ArrayBuffer[] {
  if (x instanceof ArrayBuffer) out.push(x);
  else if (depth < 8 && typeof x === 'object' && x !== null)
    for (const v of Object.values(x)) buffersOf(v, out, depth + 1);
  return out;
}

/** The part of the DOM WebSocket the worker uses. */
export interface WorkerSocket {
  binaryType: string;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
}

/** Worker side: the page's sockets, opened, fed and closed as it asks. */
export function serveSocket(
  page: RelayEnd<ToSocket, FromSocket>,
  open: (url: string) => WorkerSocket,
): void {
  const sockets = new Map<number, WorkerSocket>();
  page.listen((m) => {
    if (m.t === 'connect') {
      let s: WorkerSocket;
      try {
        s = open(m.url);
      } catch {
        page.post({ t: 'close', n: m.n, code: 1006, reason: 'the socket could not be opened' }, []);
        return;
      }
      const n = m.n;
      sockets.set(n, s);
      s.binaryType = 'arraybuffer';
      s.onopen = () => page.post({ t: 'open', n }, []);
      s.onerror = () => page.post({ t: 'error', n }, []);
      s.onclose = (ev) => {
        sockets.delete(n);
        page.post({ t: 'close', n, code: ev.code, reason: ev.reason }, []);
      };
      s.onmessage = (ev) => {
        const data = ev.data;
        if (typeof data === 'string') {
          page.post({ t: 'message', n, data }, []);
        } else if (data instanceof ArrayBuffer) {
          // An events push is decoded here (its bytes then cross as one transferred buffer).
          // Anything else crosses as the frame it is and is decoded on the page: a structured
          // clone of the objects a large reply makes costs the page more than decoding it.
          const r = decodeFrame(data);
          if (r.ok && r.frame.t === 'push' && r.frame.name === 'events')
            page.post({ t: 'decoded', n, frame: r.frame }, buffersOf(r.frame, []));
          else page.post({ t: 'message', n, data }, [data]);
        }
      };
    } else if (m.t === 'send') {
      sockets.get(m.n)?.send(m.data);
    } else if (m.t === 'close') {
      sockets.get(m.n)?.close(m.code, m.reason);
    }
  });
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

/** Page side: createSocket for createWebSocketBridge, each socket living in the worker. */
export function relaySocket(worker: RelayEnd<FromSocket, ToSocket>): {
  createSocket: (url: string) => SocketLike;
  /** The worker is gone: the socket on it closes (the bridge reconnects, and fails again). */
  fail(why: string): void;
} {
  const live = new Map<number, RelayedSocket>();
  let next = 1;
  let failed: string | null = null;
  class RelayedSocket implements SocketLike {
    binaryType = 'arraybuffer';
    readyState = CONNECTING;
    onopen: ((ev: unknown) => void) | null = null;
    onclose: ((ev: { code: number; reason: string }) => void) | null = null;
    onerror: ((ev: unknown) => void) | null = null;
    onmessage: ((ev: { data: unknown }) => void) | null = null;
    constructor(readonly n: number) {}
    send(data: string | ArrayBuffer): void {
      if (this.readyState !== OPEN) throw new Error('the socket is not open');
      worker.post({ t: 'send', n: this.n, data }, []);
    }
    close(code?: number, reason?: string): void {
      if (this.readyState === CLOSED) return;
      worker.post({ t: 'close', n: this.n, code, reason }, []);
    }
    closed(code: number, reason: string): void {
      if (this.readyState === CLOSED) return;
      this.readyState = CLOSED;
      live.delete(this.n);
      this.onclose?.({ code, reason });
    }
  }
  worker.listen((m) => {
    const s = live.get(m.n);
    if (!s) return;
    if (m.t === 'open') {
      s.readyState = OPEN;
      s.onopen?.({});
    } else if (m.t === 'close') s.closed(m.code, m.reason);
    else if (m.t === 'error') s.onerror?.({});
    else if (m.t === 'message') s.onmessage?.({ data: m.data });
    else if (m.t === 'decoded') s.onmessage?.({ data: new DecodedFrame(m.frame) });
  });
  return {
    createSocket(url) {
      if (failed !== null) throw new Error(`the connection worker stopped: ${failed}`);
      const s = new RelayedSocket(next++);
      live.set(s.n, s);
      worker.post({ t: 'connect', n: s.n, url }, []);
      return s;
    },
    fail(why) {
      failed = why;
      for (const s of [...live.values()]) s.closed(1006, `the connection worker stopped: ${why}`);
    },
  };
}
