import { afterEach, describe, expect, it } from 'vitest';
import {
  createRelayBridge,
  serveBridge,
  type FromSocket,
  type RelayEnd,
  type ToSocket,
} from './relay';
import { createWebSocketBridge } from './websocket';
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
afterEach(() => {
  for (const p of ports.splice(0)) p.close();
  FakeSocket.all = [];
});

function relayed() {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  const urls: string[] = [];
  const posted: { m: FromSocket; transfer: ArrayBuffer[] }[] = [];
  const workerEnd = end<ToSocket, FromSocket>(port2);
  serveBridge(
    {
      post(m, transfer) {
        posted.push({ m, transfer });
        workerEnd.post(m, transfer);
      },
      listen: workerEnd.listen,
    },
    (url) => {
      urls.push(url);
      return createWebSocketBridge({ url, createSocket: (u) => new FakeSocket(u) });
    },
  );
  const page = createRelayBridge(
    end<FromSocket, ToSocket>(port1),
    'ws://127.0.0.1:9/pss-ws?token=t',
  );
  return { page, urls, posted };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 20));
const socket = (): FakeSocket => FakeSocket.all[FakeSocket.all.length - 1] as FakeSocket;

describe('the bridge relayed from its worker', () => {
  it('opens the page’s URL in the worker, relays requests, replies and the connection state', async () => {
    const { page, urls } = relayed();
    const states: string[] = [];
    page.watch((s) => states.push(s.status));
    await tick();
    expect(urls).toEqual(['ws://127.0.0.1:9/pss-ws?token=t']);
    const reply = page.request('sessionSummary', { sessionId: 's1' });
    await tick();
    socket().open();
    await tick();
    expect(page.state.status).toBe('open');
    const sent = socket().sent[0] as { t: string; id: number; name: string; params: unknown };
    expect(sent).toMatchObject({ t: 'req', name: 'sessionSummary', params: { sessionId: 's1' } });
    socket().deliver({ t: 'rep', id: sent.id, reply: { ok: false, error: { kind: 'not-found' } } });
    expect(await reply).toMatchObject({ ok: false, error: { kind: 'not-found' } });
    expect(states).toContain('open');
    page.close();
    await tick();
    expect(socket().readyState).toBe(3);
  });

  it('hands an events push’s bytes over (transferred, not copied) and drops unknown pushes', async () => {
    const { page, posted } = relayed();
    await tick();
    socket().open();
    const got: { firstSeq: number; bytes: ArrayBuffer }[] = [];
    const states: string[] = [];
    page.on('events', (m) => got.push(m));
    page.on('sessionState', (m) => states.push(m.state));
    const bytes = new Uint8Array(96).fill(9).buffer;
    socket().deliver({ t: 'push', name: 'events', msg: { sessionId: 's', firstSeq: 4, bytes } });
    socket().deliver({ t: 'push', name: 'nonsense', msg: {} });
    await tick();
    expect(got).toHaveLength(1);
    expect(got[0]?.firstSeq).toBe(4);
    expect(new Uint8Array(got[0]?.bytes as ArrayBuffer)).toEqual(new Uint8Array(96).fill(9));
    const push = posted.find((p) => p.m.t === 'push' && p.m.name === 'events');
    expect(push?.transfer).toHaveLength(1);
    // The worker's copy went with the message: it is detached there.
    expect(push?.transfer[0]?.byteLength).toBe(0);
  });

  it('fails what is pending, and everything after, when the worker dies', async () => {
    const { page } = relayed();
    await tick();
    const pending = page.request('appInfo', {});
    page.fail('it crashed');
    expect(await pending).toMatchObject({
      ok: false,
      error: { kind: 'io', message: /connection worker stopped: it crashed/ },
    });
    expect(page.state).toMatchObject({ status: 'closed', lastError: 'it crashed' });
    expect(await page.request('appInfo', {})).toMatchObject({ ok: false, error: { kind: 'io' } });
  });
});
