import { afterEach, describe, expect, it, vi } from 'vitest';
import { createWebSocketBridge, socketUrl, type WebSocketBridge } from './websocket';
import { FakeSocket } from './fakeSocket';

let bridge: WebSocketBridge | null = null;
afterEach(() => {
  bridge?.close();
  bridge = null;
  FakeSocket.all = [];
  vi.useRealTimers();
});

function make(opts: Partial<Parameters<typeof createWebSocketBridge>[0]> = {}): WebSocketBridge {
  bridge = createWebSocketBridge({
    url: 'ws://127.0.0.1:1/pss-ws',
    createSocket: (u) => new FakeSocket(u),
    backoff: { initialMs: 10, maxMs: 40 },
    ...opts,
  });
  return bridge;
}

const last = (): FakeSocket => FakeSocket.all[FakeSocket.all.length - 1] as FakeSocket;

describe('WebSocket bridge', () => {
  it('queues requests until open, matches replies by id, and delivers binary pushes', async () => {
    const b = make();
    const s = last();
    expect(s.binaryType).toBe('arraybuffer');
    const p1 = b.request('appInfo', {});
    const p2 = b.request('sessionSummary', { sessionId: 's1' });
    expect(s.sent).toHaveLength(0);
    s.open();
    expect(s.sent.map((f) => f.t === 'req' && f.name)).toEqual(['appInfo', 'sessionSummary']);
    const [r1, r2] = s.sent as { id: number }[];
    s.deliver({
      t: 'rep',
      id: (r2 as { id: number }).id,
      reply: { ok: false, error: { kind: 'not-found' } },
    });
    s.deliver({
      t: 'rep',
      id: (r1 as { id: number }).id,
      reply: { ok: true, value: { transport: 'web' } },
    });
    expect(await p1).toEqual({ ok: true, value: { transport: 'web' } });
    expect(await p2).toMatchObject({ ok: false, error: { kind: 'not-found' } });

    const got: ArrayBuffer[] = [];
    const off = b.on('events', (m) => got.push(m.bytes));
    s.deliver({
      t: 'push',
      name: 'events',
      msg: { sessionId: 's', firstSeq: 0, bytes: new Uint8Array(48).fill(7).buffer },
    });
    s.deliver('garbage'); // ignored
    s.deliver({ t: 'push', name: 'nonsense', msg: {} }); // ignored
    off();
    s.deliver({
      t: 'push',
      name: 'events',
      msg: { sessionId: 's', firstSeq: 1, bytes: new ArrayBuffer(48) },
    });
    expect(got).toHaveLength(1);
    expect(got[0]).toBeInstanceOf(ArrayBuffer);
    expect(new Uint8Array(got[0] as ArrayBuffer)[5]).toBe(7);
    expect(() => b.on('bogus' as 'events', () => undefined)).toThrow(/unknown push/);
  });

  it('times out a request with an io error', async () => {
    vi.useFakeTimers();
    const b = make({ timeoutMs: 1000 });
    last().open();
    const p = b.request('appInfo', {});
    vi.advanceTimersByTime(1001);
    expect(await p).toMatchObject({
      ok: false,
      error: { kind: 'io', message: /no reply to appInfo within 1 s/ },
    });
  });

  it('fails pending requests when the socket drops, reconnects with backoff, and counts generations', async () => {
    vi.useFakeTimers();
    const b = make();
    const states: string[] = [];
    b.watch((s) => states.push(`${s.status}:${s.generation}`));
    last().open();
    const p = b.request('listProcesses', {});
    last().drop();
    expect(await p).toMatchObject({
      ok: false,
      error: { kind: 'io', message: /closed \(code 1006\)/ },
    });
    expect(b.state.status).toBe('reconnecting');
    // Each failed attempt waits longer (bounded).
    vi.advanceTimersByTime(20);
    expect(FakeSocket.all).toHaveLength(2);
    last().drop();
    expect(b.state.attempt).toBe(2);
    vi.advanceTimersByTime(30);
    expect(FakeSocket.all).toHaveLength(3);
    last().open();
    expect(b.state).toMatchObject({ status: 'open', generation: 2, attempt: 0 });
    expect(states).toEqual([
      'open:1',
      'reconnecting:1',
      'connecting:1',
      'reconnecting:1',
      'connecting:1',
      'open:2',
    ]);
    b.close();
    expect(b.state.status).toBe('closed');
    expect(await b.request('appInfo', {})).toMatchObject({ ok: false, error: { kind: 'io' } });
  });

  it('builds the socket URL from the page location and its token', () => {
    expect(
      socketUrl({ protocol: 'http:', host: '127.0.0.1:5000', search: '?token=a+b' }, '/pss-ws'),
    ).toBe('ws://127.0.0.1:5000/pss-ws?token=a%20b');
    expect(socketUrl({ protocol: 'https:', host: 'h', search: '' }, '/pss-ws')).toBe(
      'wss://h/pss-ws',
    );
  });
});
