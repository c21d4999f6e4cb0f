import { afterEach, describe, expect, it } from 'vitest';
import { SessionHost, type ConnectionSink, type HostConnection } from './host';
import { FakeWalkService } from './testing';
import { EventBatchView } from '../../src-shared/events/batch';
import type {
  PushMessages,
  PushName,
  Reply,
  RequestName,
} from '../../src-shared/contract/contract';
import type { SessionState, SessionSummary } from '../../src-shared/contract/model';

class Recorder implements ConnectionSink {
  readonly pushes: { name: PushName; message: unknown }[] = [];
  readonly waiters: (() => void)[] = [];
  push<P extends PushName>(name: P, message: PushMessages[P]): void {
    this.pushes.push({ name, message });
    for (const w of this.waiters.splice(0)) w();
  }
  of<P extends PushName>(name: P): PushMessages[P][] {
    return this.pushes.filter((p) => p.name === name).map((p) => p.message as PushMessages[P]);
  }
  async until(check: () => boolean, timeoutMs = 5000): Promise<void> {
    const t0 = Date.now();
    while (!check()) {
      if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting for pushes');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 20);
      });
    }
  }
}

const startParams = {
  pid: 4242,
  flags: 0,
  allocator: { strategy: 'heap' },
  classes: ['THREADS'],
  pace: { mode: 'run' },
  onAllocFailure: 'stop',
};

function value<T>(r: Reply<RequestName>): T {
  if (!r.ok) throw new Error(`request failed: ${r.error.message}`);
  return r.value as T;
}

let walk: FakeWalkService;
let host: SessionHost;
const open: HostConnection[] = [];

function setup(flow: Partial<{ windowEvents: number }> = {}, userAllocatorLibraries?: boolean) {
  walk = new FakeWalkService();
  host = new SessionHost({
    walk,
    transport: 'web',
    library: 'test',
    version: '0.0.0',
    flow,
    ...(userAllocatorLibraries === undefined ? {} : { userAllocatorLibraries }),
    log: () => undefined,
    listProcesses: () => Promise.resolve([]),
  });
}

function connect(): [HostConnection, Recorder] {
  const rec = new Recorder();
  const c = host.connect(rec);
  open.push(c);
  return [c, rec];
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await walk?.close();
});

describe('SessionHost: validation', () => {
  it('answers malformed requests with validation errors and never throws', async () => {
    setup();
    const [c] = connect();
    const cases: [unknown, unknown, RegExp][] = [
      ['nope', {}, /unknown request "nope"/],
      [42, {}, /unknown request 42/],
      [null, undefined, /unknown request/],
      ['__proto__', {}, /unknown request/],
      ['capture', null, /params: expected an object/],
      ['capture', { pid: -1, flags: 0 }, /params\.pid: must be ≥ 1/],
      ['capture', { pid: 1, flags: 0, extra: true }, /params\.extra: unknown field/],
      ['querySnapshot', { snapshotId: '../x', cls: 'THREADS', offset: 0, limit: 1 }, /snapshotId/],
      ['startSession', { ...startParams, pid: undefined }, /give a pid/],
      ['importTrace', { fileName: 'a', bytes: [1, 2, 3] }, /ArrayBuffer/],
    ];
    for (const [name, params, message] of cases) {
      const r = await c.handle(name, params);
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.error.kind).toBe('validation');
      expect(r.error.message).toMatch(message);
      expect(r.error.hint).not.toBe('');
    }
    expect(walk.calls).toEqual([]);
  });

  it('refuses user allocator libraries when they are off (web mode with --allow-remote)', async () => {
    setup({}, false);
    const [c] = connect();
    for (const allocator of [
      { strategy: 'user', libraryPath: '/tmp/liballoc.so' },
      { strategy: 'faulty', inner: { strategy: 'user', libraryPath: '/tmp/liballoc.so' } },
    ]) {
      const r = await c.handle('startSession', { ...startParams, allocator });
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.error.kind).toBe('validation');
      expect(r.error.message).toMatch(/User allocator libraries are off.*--allow-remote/);
    }
    expect(walk.calls).toEqual([]);
    // The built-in strategies are unaffected.
    expect((await c.handle('startSession', startParams)).ok).toBe(true);
  });

  it('serves appInfo and listProcesses', async () => {
    setup();
    const [c] = connect();
    const info = value<{ transport: string; pid: number }>(await c.handle('appInfo', {}));
    expect(info.transport).toBe('web');
    expect(info.pid).toBe(process.pid);
    expect(value<unknown[]>(await c.handle('listProcesses', {}))).toEqual([]);
  });
});

describe('SessionHost: errors are data with hints', () => {
  it('maps ERROR_ACCESS_DENIED and ERROR_INVALID_PARAMETER on capture', async () => {
    setup();
    walk.unreadable.add(10);
    walk.gone.add(11);
    const [c] = connect();
    const denied = await c.handle('capture', { pid: 10, flags: 0 });
    expect(denied).toMatchObject({
      ok: false,
      error: { kind: 'pss', code: 5, codeName: 'ERROR_ACCESS_DENIED' },
    });
    if (!denied.ok) expect(denied.error.hint).toMatch(/CAP_SYS_PTRACE/);
    const gone = await c.handle('capture', { pid: 11, flags: 0 });
    expect(gone).toMatchObject({
      ok: false,
      error: { code: 87, codeName: 'ERROR_INVALID_PARAMETER' },
    });
    if (!gone.ok) expect(gone.error.hint).toMatch(/no longer exists/);
  });
});

describe('SessionHost: per-connection ownership', () => {
  it('keeps snapshots and sessions to their connection and frees them on disconnect', async () => {
    setup();
    walk.plan = { batches: 1_000_000, eventsPerBatch: 10, tickMs: 5 };
    const [a] = connect();
    const [b] = connect();
    const snap = value<{ snapshotId: string }>(await a.handle('capture', { pid: 7, flags: 0 }));
    const q = { snapshotId: snap.snapshotId, cls: 'THREADS', offset: 0, limit: 10 };
    expect((await a.handle('querySnapshot', q)).ok).toBe(true);
    expect(await b.handle('querySnapshot', q)).toMatchObject({
      ok: false,
      error: { kind: 'not-found' },
    });
    expect(await b.handle('freeSnapshot', { snapshotId: snap.snapshotId })).toMatchObject({
      ok: false,
      error: { kind: 'not-found' },
    });
    const st = value<SessionState>(await a.handle('startSession', startParams));
    expect(
      await b.handle('sessionControl', { sessionId: st.sessionId, action: 'pause' }),
    ).toMatchObject({
      ok: false,
      error: { kind: 'not-found' },
    });
    expect(walk.sessions.size).toBe(1);
    await a.close();
    expect(walk.sessions.size).toBe(0);
    expect(walk.snapshots.size).toBe(0);
    expect(walk.calls).toContain(`cancel ${st.sessionId}`);
    expect(walk.calls).toContain(`free ${snap.snapshotId}`);
    expect(await a.handle('appInfo', {})).toMatchObject({ ok: false, error: { kind: 'misuse' } });
    expect(host.connectionCount).toBe(1);
  });
});

/** Every seq reaches the connection exactly once, in order, as events pushes; returns how many. */
function checkCoverage(rec: Recorder): number {
  let next = 0;
  for (const p of rec.pushes) {
    if (p.name !== 'events') continue;
    const m = p.message as PushMessages['events'];
    const v = new EventBatchView(m.bytes);
    expect(m.firstSeq).toBe(next);
    v.validate(next);
    next += v.count;
  }
  return next;
}

/** Acks the last events push every ms, as the page does once it has folded them. */
function ackAsPage(c: HostConnection, rec: Recorder, sessionId: string): () => void {
  const t = setInterval(() => {
    const ev = rec.of('events');
    const last = ev[ev.length - 1];
    if (last)
      void c.handle('ackEvents', {
        sessionId,
        seq: last.firstSeq + last.bytes.byteLength / 48 - 1,
      });
  }, 1);
  return () => clearInterval(t);
}

describe('SessionHost: event stream and flow control', () => {
  it('streams every event when the renderer keeps up, and summary.events = store count', async () => {
    setup();
    walk.plan = { batches: 20, eventsPerBatch: 100, tickMs: 1 };
    const [c, rec] = connect();
    const st = value<SessionState>(await c.handle('startSession', startParams));
    const stop = ackAsPage(c, rec, st.sessionId);
    await rec.until(() => rec.of('summary').length === 1);
    stop();
    const summary = rec.of('summary')[0] as SessionSummary;
    expect(summary.events).toBe(2000);
    expect(checkCoverage(rec)).toBe(2000);
    // The summary comes after the last events and the final state.
    const names = rec.pushes.map((p) => p.name);
    expect(names.lastIndexOf('summary')).toBe(names.length - 1);
    expect(names.lastIndexOf('events')).toBeLessThan(names.lastIndexOf('sessionState'));
    // Everything is in the trace store, and pages back identically.
    expect(
      value<SessionSummary>(await c.handle('sessionSummary', { sessionId: st.sessionId })).events,
    ).toBe(2000);
    const page = value<{ bytes: ArrayBuffer }>(
      await c.handle('getEvents', { sessionId: st.sessionId, fromSeq: 1500, count: 1000 }),
    );
    const v = new EventBatchView(page.bytes);
    expect(v.count).toBe(500);
    v.validate(1500);
  });

  it('stops at the credit while the renderer does not ack, then delivers the rest once, in order', async () => {
    setup({ windowEvents: 500 });
    walk.plan = { batches: 60, eventsPerBatch: 100, tickMs: 1 };
    const [c, rec] = connect();
    const st = value<SessionState>(await c.handle('startSession', startParams));
    // A renderer that does not ack: the walk ends, the host has sent one window.
    await rec.until(() => rec.of('summary').length === 1);
    const summary = rec.of('summary')[0] as SessionSummary;
    expect(summary.events).toBe(6000);
    expect(checkCoverage(rec)).toBe(500);
    expect(c.flowStats(st.sessionId)).toMatchObject({ sent: 500, acked: 0, waiting: 5500 });
    // An ack beyond what was sent is refused and changes nothing.
    const bad = await c.handle('ackEvents', { sessionId: st.sessionId, seq: 500 });
    expect(bad).toMatchObject({ ok: false, error: { kind: 'validation' } });
    expect(checkCoverage(rec)).toBe(500);
    // The renderer catches up: each ack frees that much credit, until everything arrived.
    const stop = ackAsPage(c, rec, st.sessionId);
    await rec.until(() => checkCoverage(rec) === 6000);
    stop();
    expect(c.flowStats(st.sessionId)?.waiting).toBe(0);
    // What arrived is exactly what the store holds.
    let allocs = 0;
    let frees = 0;
    for (const e of rec.of('events')) {
      const v = new EventBatchView(e.bytes);
      for (let i = 0; i < v.count; i++) {
        if (v.kind(i) === 0) allocs++;
        else frees++;
      }
    }
    expect(allocs).toBe(summary.allocations);
    expect(frees).toBe(summary.frees);
  });
});

describe('SessionHost: traces', () => {
  it('openedTrace: null when the app was started on no trace; a clear error when its file is gone', async () => {
    setup();
    const [c] = connect();
    expect(await c.handle('openedTrace', {})).toEqual({ ok: true, value: null });
    const missing = new SessionHost({ ...host.options, openTrace: '/nonexistent/x.psstrace' });
    const c2 = missing.connect(new Recorder());
    open.push(c2);
    expect(await c2.handle('openedTrace', {})).toMatchObject({
      ok: false,
      error: { kind: 'not-found', message: expect.stringMatching(/x\.psstrace/) as unknown },
    });
    await missing.close();
  });

  it('exports a trace, imports it as a finished session, and refuses a corrupt file without losing anything', async () => {
    setup();
    walk.plan = { batches: 5, eventsPerBatch: 64, tickMs: 1 };
    const [c, rec] = connect();
    const st = value<SessionState>(await c.handle('startSession', startParams));
    await rec.until(() => rec.of('summary').length === 1);
    const file = value<{ fileName: string; bytes: ArrayBuffer }>(
      await c.handle('exportTrace', { sessionId: st.sessionId }),
    );
    expect(file.fileName).toMatch(/\.psstrace$/);
    const imported = value<SessionState>(
      await c.handle('importTrace', { fileName: file.fileName, bytes: file.bytes }),
    );
    expect(imported.state).toBe('finished');
    expect(imported.clockOriginEpochMs).toBe(st.clockOriginEpochMs);
    expect(imported.eventsStored).toBe(320);
    const sum = value<SessionSummary>(
      await c.handle('sessionSummary', { sessionId: imported.sessionId }),
    );
    expect(sum.events).toBe(320);
    expect(sum.sessionId).toBe(imported.sessionId);

    // The export is a version 2 trace.
    expect(new TextDecoder().decode(new Uint8Array(file.bytes, 0, 8))).toBe('PSSTRACE');
    expect(new DataView(file.bytes).getUint32(8, true)).toBe(2);
    // A damaged session description (the first chunk) leaves nothing to recover: refused.
    const corrupt = file.bytes.slice(0);
    const meta = new Uint8Array(corrupt);
    meta[31] = (meta[31] as number) ^ 0x40; // a byte of the META chunk's payload
    const truncated = file.bytes.slice(0, 20);
    for (const bad of [corrupt, truncated, new TextEncoder().encode('hello').buffer]) {
      const r = await c.handle('importTrace', { fileName: 'bad.psstrace', bytes: bad });
      expect(r).toMatchObject({ ok: false, error: { kind: 'validation' } });
    }
    // The sessions that were there are intact.
    const page = value<{ bytes: ArrayBuffer }>(
      await c.handle('getEvents', { sessionId: st.sessionId, fromSeq: 0, count: 1000 }),
    );
    expect(page.bytes.byteLength).toBe(320 * 48);
    expect(
      value<{ closed: true }>(await c.handle('closeSession', { sessionId: st.sessionId })).closed,
    ).toBe(true);
    expect(
      await c.handle('getEvents', { sessionId: st.sessionId, fromSeq: 0, count: 1 }),
    ).toMatchObject({
      ok: false,
      error: { kind: 'not-found' },
    });
  });
});
