import { afterEach, describe, expect, it } from 'vitest';
import { relaySocket, serveSocket, type FromSocket, type RelayEnd, type ToSocket } from './relay';
import { createWebSocketBridge, type WebSocketBridge } from './websocket';
import { FakeSocket } from './fakeSocket';

/** One end of a real MessageChannel (structured clone and transfer, as between page and worker). */
function end<In, Out>(port: MessagePort): RelayEnd<In, Out> {
  return {
    post: (m, transfer) => port.postMessage(m, transfer),
    listen: (fn) => {
      port.onmessage = (e: MessageEvent<In>) => fn(e.data);
    },
  };
}

const ports: MessagePort[] = [];
let bridge: WebSocketBridge | null = null;
afterEach(() => {
  bridge?.close();
  bridge = null;
  for (const p of ports.splice(0)) p.close();
  FakeSocket.all = [];
});

/** The page's bridge over a socket served by a "worker" at the other end of a MessageChannel. */
function relayed() {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  const posted: { m: FromSocket; transfer: ArrayBuffer[] }[] = [];
  const workerEnd = end<ToSocket, FromSocket>(port2);
  serveSocket(
    {
      post(m, transfer) {
        posted.push({ m, transfer });
        workerEnd.post(m, transfer);
      },
      listen: workerEnd.listen,
    },
    (url) => new FakeSocket(url),
  );
  const relay = relaySocket(end<FromSocket, ToSocket>(port1));
  bridge = createWebSocketBridge({
    url: 'ws://127.0.0.1:9/pss-ws?token=t',
    createSocket: relay.createSocket,
    backoff: { initialMs: 10, maxMs: 20 },
  });
  return { page: bridge, relay, posted };
}

const tick = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));
const socket = (): FakeSocket => FakeSocket.all[FakeSocket.all.length - 1] as FakeSocket;

describe('the WebSocket in the connection worker', () => {
  it('opens the page’s URL there; requests, text replies and the state cross the relay', async () => {
    const { page, posted } = relayed();
    await tick();
    expect(socket().url).toBe('ws://127.0.0.1:9/pss-ws?token=t');
    expect(socket().binaryType).toBe('arraybuffer');
    const reply = page.request('sessionSummary', { sessionId: 's1' });
    socket().open();
    await tick();
    expect(page.state.status).toBe('open');
    const sent = socket().sent[0] as { t: string; id: number };
    expect(sent).toMatchObject({ t: 'req', name: 'sessionSummary', params: { sessionId: 's1' } });
    socket().deliver({ t: 'rep', id: sent.id, reply: { ok: false, error: { kind: 'not-found' } } });
    expect(await reply).toMatchObject({ ok: false, error: { kind: 'not-found' } });
    // A text frame crosses as the string (parsed on the page).
    expect(posted.some((p) => p.m.t === 'message' && typeof p.m.data === 'string')).toBe(true);
  });

  it('decodes a binary events push there and hands its bytes over, transferred', async () => {
    const { page, posted } = relayed();
    await tick();
    socket().open();
    const got: { firstSeq: number; bytes: ArrayBuffer }[] = [];
    page.on('events', (m) => got.push(m));
    socket().deliver({
      t: 'push',
      name: 'events',
      msg: { sessionId: 's', firstSeq: 4, bytes: new Uint8Array(96).fill(9).buffer },
    });
    await tick();
    expect(got).toHaveLength(1);
    expect(got[0]?.firstSeq).toBe(4);
    expect(new Uint8Array(got[0]?.bytes as ArrayBuffer)).toEqual(new Uint8Array(96).fill(9));
    const push = posted.find((p) => p.m.t === 'decoded');
    expect(push?.transfer).toHaveLength(1);
    // The worker's copy went with the message: it is detached there.
    expect(push?.transfer[0]?.byteLength).toBe(0);
  });

  it('passes a binary frame that does not decode on to the page, which ignores it', async () => {
    const { page, posted } = relayed();
    await tick();
    socket().open();
    const got: unknown[] = [];
    page.on('events', (m) => got.push(m));
    socket().onmessage?.({ data: new Uint8Array([1, 2, 3, 4, 5]).buffer });
    await tick();
    expect(posted.some((p) => p.m.t === 'message' && p.m.data instanceof ArrayBuffer)).toBe(true);
    expect(got).toEqual([]);
    expect(page.state.status).toBe('open');
  });

  it('a dropped socket is reconnected through the worker; a dead worker fails what is pending', async () => {
    const { page, relay } = relayed();
    await tick();
    socket().open();
    await tick();
    const pending = page.request('listProcesses', {});
    await tick();
    socket().drop();
    expect(await pending).toMatchObject({ ok: false, error: { kind: 'io' } });
    await tick(60);
    expect(FakeSocket.all).toHaveLength(2);
    socket().open();
    await tick();
    expect(page.state).toMatchObject({ status: 'open', generation: 2 });

    const again = page.request('appInfo', {});
    await tick();
    relay.fail('it crashed');
    expect(await again).toMatchObject({
      ok: false,
      error: { kind: 'io', message: /connection worker stopped: it crashed/ },
    });
    expect(page.state.status).toBe('reconnecting');
    expect(page.state.lastError).toMatch(/connection worker stopped: it crashed/);
  });
});
