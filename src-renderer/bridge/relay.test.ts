import { afterEach, describe, expect, it } from 'vitest';
import {
  eventsFeed,
  newChannelId,
  serveEvents,
  withChannel,
  type FromSocket,
  type RelayEnd,
  type ToSocket,
} from './relay';
import { createWebSocketBridge, type WebSocketBridge } from './websocket';
import { FakeSocket } from './fakeSocket';
import { WEB_SOCKET_CHANNEL_ID } from '../../src-shared/contract/contract';

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

const URL_ = 'ws://127.0.0.1:9/pss-ws?token=t';

/** The page's bridge, its events socket served by a "worker" across a MessageChannel. */
function fed() {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  const posted: { m: FromSocket; transfer: ArrayBuffer[] }[] = [];
  const workerEnd = end<ToSocket, FromSocket>(port2);
  serveEvents(
    {
      post(m, transfer) {
        posted.push({ m, transfer });
        workerEnd.post(m, transfer);
      },
      listen: workerEnd.listen,
    },
    (url) => new FakeSocket(url),
  );
  const primary = createWebSocketBridge({
    url: withChannel(URL_, 'abcdefgh12', false),
    createSocket: (u) => new FakeSocket(u),
  });
  bridge = eventsFeed(
    primary,
    end<FromSocket, ToSocket>(port1),
    withChannel(URL_, 'abcdefgh12', true),
    30,
  );
  return { page: bridge, posted };
}

const tick = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));
const sockets = (events: boolean): FakeSocket[] =>
  FakeSocket.all.filter((s) => s.url.includes('role=events') === events);
const events = (sessionId: string, firstSeq: number, fill: number) => ({
  t: 'push' as const,
  name: 'events',
  msg: { sessionId, firstSeq, bytes: new Uint8Array(48).fill(fill).buffer },
});

describe('the events socket in the connection worker', () => {
  it('opens once the page’s own socket is open, paired by the channel, and hands over events', async () => {
    const { page, posted } = fed();
    await tick();
    expect(sockets(true)).toHaveLength(0);
    const primary = sockets(false)[0] as FakeSocket;
    expect(primary.url).toBe(`${URL_}&channel=abcdefgh12`);
    primary.open();
    await tick();
    const ev = sockets(true)[0] as FakeSocket;
    expect(ev.url).toBe(`${URL_}&channel=abcdefgh12&role=events`);
    expect(ev.binaryType).toBe('arraybuffer');
    ev.open();
    const got: { firstSeq: number; fill: number }[] = [];
    page.on('events', (m) =>
      got.push({ firstSeq: m.firstSeq, fill: new Uint8Array(m.bytes)[0] ?? -1 }),
    );
    const states: string[] = [];
    page.on('sessionState', (m) => states.push(m.state));
    ev.deliver(events('s', 0, 7));
    // Only events pushes count on the events socket; the page's socket still carries events
    // (before the events socket opened, or after it dropped).
    ev.deliver({ t: 'push', name: 'sessionState', msg: { state: 'running' } });
    primary.deliver(events('s', 1, 8));
    await tick();
    expect(got).toEqual(
      expect.arrayContaining([
        { firstSeq: 0, fill: 7 },
        { firstSeq: 1, fill: 8 },
      ]),
    );
    expect(got).toHaveLength(2);
    expect(states).toEqual([]);
    const push = posted.find((p) => p.m.t === 'events');
    expect(push?.transfer).toHaveLength(1);
    // The worker's copy went with the message: it is detached there.
    expect(push?.transfer[0]?.byteLength).toBe(0);
  });

  it('reopens a dropped events socket while the page’s socket is open; close ends both', async () => {
    const { page } = fed();
    await tick();
    (sockets(false)[0] as FakeSocket).open();
    await tick();
    (sockets(true)[0] as FakeSocket).open();
    await tick();
    (sockets(true)[0] as FakeSocket).drop();
    await tick(80);
    expect(sockets(true)).toHaveLength(2);
    (sockets(true)[1] as FakeSocket).open();
    await tick();
    page.close();
    await tick();
    expect((sockets(true)[1] as FakeSocket).readyState).toBe(3);
    expect((sockets(false)[0] as FakeSocket).readyState).toBe(3);
  });

  it('sends the events’ acks on the events socket while it is open, else on the page’s', async () => {
    const { page } = fed();
    await tick();
    const primary = sockets(false)[0] as FakeSocket;
    primary.open();
    await tick();
    const ev = sockets(true)[0] as FakeSocket;
    ev.open();
    await tick();
    const acked = page.request('ackEvents', { sessionId: 's', seq: 41 });
    await tick();
    const req = ev.sent[0] as { t: string; id: number; name: string; params: unknown };
    expect(req).toMatchObject({ t: 'req', name: 'ackEvents', params: { sessionId: 's', seq: 41 } });
    ev.deliver({ t: 'rep', id: req.id, reply: { ok: true, value: {} } });
    expect(await acked).toEqual({ ok: true, value: {} });
    expect(primary.sent).toEqual([]);
    // One in flight when the socket drops: it fails (the ack is sent again later); the next goes
    // to the page's socket until the events socket is back.
    const lost = page.request('ackEvents', { sessionId: 's', seq: 50 });
    await tick();
    ev.drop();
    expect(await lost).toMatchObject({ ok: false, error: { kind: 'io' } });
    void page.request('ackEvents', { sessionId: 's', seq: 51 });
    expect(primary.sent[0]).toMatchObject({ t: 'req', name: 'ackEvents', params: { seq: 51 } });
  });

  it('makes channel ids the host accepts', () => {
    let k = 0;
    const id = newChannelId((a) => a.fill(k++ * 37));
    expect(id).toMatch(WEB_SOCKET_CHANNEL_ID);
    expect(newChannelId((a) => crypto.getRandomValues(a))).not.toBe(
      newChannelId((a) => crypto.getRandomValues(a)),
    );
  });
});
