/**
 * The WebSocket bridge run off the UI thread. In web mode the page's socket lives in a worker
 * of its own (socket.worker.ts): receiving a binary WebSocket message costs the thread that owns
 * the socket ~20 ms per MB in Chromium (measured: 48 MB of 64 KiB–4 MiB messages kept the UI
 * thread busy 1.1–1.8 s with a handler that did nothing, 58 ms when the socket was in a worker),
 * which at full streaming speed was most of the UI thread's frame budget.
 *
 * `serveBridge` (in the worker) runs createWebSocketBridge and relays: replies and pushes go to
 * the page as messages (an `events` push's bytes are transferred, not copied), requests come
 * from it. `createRelayBridge` (on the page) is the same WebSocketBridge interface over that
 * relay, so nothing above the bridge knows where the socket is. Request timeouts, reconnects
 * and the connection state stay the worker bridge's; the page side only pairs ids.
 */
import {
  PUSH_NAMES,
  type PushMessages,
  type PushName,
  type Reply,
  type RequestName,
  type RequestParams,
} from '../../src-shared/contract/contract';
import type { ErrorReply } from '../../src-shared/contract/model';
import { PushListeners } from '../../src-shared/contract/wire';
import type { ConnectionState, WebSocketBridge } from './websocket';

/** Page → worker. */
export type ToSocket =
  | { t: 'open'; url: string }
  | { t: 'req'; id: number; name: RequestName; params: unknown }
  | { t: 'close' };

/** Worker → page. */
export type FromSocket =
  | { t: 'rep'; id: number; reply: Reply<RequestName> }
  | { t: 'push'; name: PushName; msg: unknown }
  | { t: 'state'; state: ConnectionState };

/** One end of a postMessage channel (a Worker, a worker's scope, a MessagePort). */
export interface RelayEnd<In, Out> {
  post(m: Out, transfer: ArrayBuffer[]): void;
  listen(fn: (m: In) => void): void;
}

/** Worker side: relays between the page and a bridge made by `make(url)` once the page opens. */
export function serveBridge(
  page: RelayEnd<ToSocket, FromSocket>,
  make: (url: string) => WebSocketBridge,
): void {
  let bridge: WebSocketBridge | null = null;
  page.listen((m) => {
    if (m.t === 'open') {
      if (bridge) return;
      const b = make(m.url);
      bridge = b;
      b.watch((state) => page.post({ t: 'state', state }, []));
      page.post({ t: 'state', state: b.state }, []);
      for (const name of PUSH_NAMES) {
        b.on(name, (msg: PushMessages[typeof name]) => {
          const bytes = (msg as { bytes?: unknown }).bytes;
          page.post(
            { t: 'push', name, msg },
            name === 'events' && bytes instanceof ArrayBuffer ? [bytes] : [],
          );
        });
      }
    } else if (m.t === 'req') {
      if (!bridge) {
        page.post({ t: 'rep', id: m.id, reply: notOpen() }, []);
        return;
      }
      const id = m.id;
      void bridge
        .request(m.name, m.params as RequestParams<RequestName>)
        .then((reply) => page.post({ t: 'rep', id, reply }, []));
    } else if (m.t === 'close') {
      bridge?.close();
    }
  });
}

function notOpen(): Reply<RequestName> {
  const error: ErrorReply = {
    kind: 'io',
    code: null,
    codeName: null,
    message: 'the connection worker has not opened its socket',
    hint: 'This is a bug in the page; reload it.',
  };
  return { ok: false, error };
}

/** The page side's bridge, and what to call if the worker dies. */
export interface RelayBridge extends WebSocketBridge {
  /** The worker is gone: pending requests fail, the connection is closed for good. */
  fail(why: string): void;
}

/** Page side: a WebSocketBridge whose socket lives behind `worker`. */
export function createRelayBridge(
  worker: RelayEnd<FromSocket, ToSocket>,
  url: string,
): RelayBridge {
  const listeners = new PushListeners();
  const watchers = new Set<(s: ConnectionState) => void>();
  const pending = new Map<number, (r: Reply<RequestName>) => void>();
  let nextId = 1;
  let closed = false;
  let state: ConnectionState = {
    status: 'connecting',
    generation: 0,
    attempt: 0,
    retryInMs: null,
    lastError: null,
  };
  const setState = (next: ConnectionState): void => {
    state = next;
    for (const w of [...watchers]) {
      try {
        w(state);
      } catch (e) {
        console.error('pss: a connection watcher threw', e);
      }
    }
  };
  const ioReply = (message: string, hint: string): Reply<RequestName> => ({
    ok: false,
    error: { kind: 'io', code: null, codeName: null, message, hint },
  });
  worker.listen((m) => {
    if (closed && m.t !== 'rep') return;
    if (m.t === 'rep') {
      const resolve = pending.get(m.id);
      pending.delete(m.id);
      resolve?.(m.reply);
    } else if (m.t === 'push') {
      if (!(PUSH_NAMES as readonly string[]).includes(m.name)) return;
      listeners.dispatch(m.name, m.msg as PushMessages[PushName]);
    } else if (m.t === 'state') {
      setState(m.state);
    }
  });
  worker.post({ t: 'open', url }, []);
  return {
    transport: 'web',
    get state() {
      return state;
    },
    request<N extends RequestName>(name: N, params: RequestParams<N>): Promise<Reply<N>> {
      return new Promise<Reply<N>>((resolve) => {
        if (closed) {
          resolve(ioReply('the bridge is closed', 'Reload the page.') as Reply<N>);
          return;
        }
        const id = nextId++;
        pending.set(id, resolve as (r: Reply<RequestName>) => void);
        worker.post({ t: 'req', id, name, params }, []);
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
      closed = true;
      worker.post({ t: 'close' }, []);
    },
    fail(why) {
      if (closed) return;
      closed = true;
      for (const [id, resolve] of [...pending]) {
        pending.delete(id);
        resolve(ioReply(`the connection worker stopped: ${why}`, 'Reload the page.'));
      }
      setState({ ...state, status: 'closed', retryInMs: null, lastError: why });
    },
  };
}
