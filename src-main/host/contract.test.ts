/**
 * Both adapters implement the whole contract: every request in REQUEST_NAMES is routed and
 * answered, and every push in PUSH_NAMES is delivered (binary ones as binary), over
 *  - the Electron adapter (src-main/electron/ipc.ts) driven through a fake ipcMain registrar and
 *    a MessagePort stand-in that structured-clones like the real one (no Electron binary), and
 *  - the web adapter (src-main/web/server.ts) over a real WebSocket.
 * The host behind them is real: the walk service in its worker, libpss, the fixture process.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  BINARY_PUSHES,
  Channels,
  PUSH_NAMES,
  REQUEST_NAMES,
  type PushMessages,
  type PushName,
  type Reply,
  type RequestName,
  type RequestParams,
} from '../../src-shared/contract/contract';
import type { SessionState, SnapshotInfo } from '../../src-shared/contract/model';
import { DEFAULT_CAPTURE_FLAGS } from '../../src-shared/pss/constants';
import { EventBatchView } from '../../src-shared/events/batch';
import { FileSink } from '../trace/trace-file';
import { writeSyntheticTrace } from '../testing/synthetic-trace';
import { decodeFrame, encodeFrame } from '../../src-shared/contract/wire';
import { createWalkService } from '../walk/client';
import type { WalkService } from '../walk/service';
import { startFixture, type RunningFixture } from '../testing/fixture';
import { SessionHost } from './host';
import { registerIpc, type IpcEventLike, type PortLike } from '../electron/ipc';
import { startWebServer, type WebServer } from '../web/server';

/** What a transport gives the test: requests and the pushes received so far. */
interface Client {
  request<N extends RequestName>(name: N, params: RequestParams<N>): Promise<Reply<N>>;
  pushes: { name: PushName; msg: unknown; binary: boolean }[];
  close(): Promise<void>;
}

// ---- Electron adapter through a fake registrar ------------------------------------------

type Listener = (event: IpcEventLike, ...args: unknown[]) => unknown;

class FakeIpcMain {
  readonly handlers = new Map<string, Listener>();
  readonly listeners = new Map<string, Listener>();
  handle(channel: string, l: Listener): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, l);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  on(channel: string, l: Listener): void {
    this.listeners.set(channel, l);
  }
  removeListener(channel: string): void {
    this.listeners.delete(channel);
  }
}

const PAGE = 'file:///app/out/renderer/index.html';

function electronClient(host: SessionHost) {
  const ipc = new FakeIpcMain();
  const pushes: Client['pushes'] = [];
  let destroyed: (() => void) | null = null;
  const sender = {
    id: 1,
    once: (_e: 'destroyed', l: () => void) => {
      destroyed = l;
    },
  };
  const event = { sender, senderFrame: { url: `${PAGE}#/walk` } };
  let delivered: string | null = null;
  const adapter = registerIpc(ipc, {
    host,
    isTrusted: (e) => e.sender === sender && e.senderFrame?.url.startsWith(PAGE) === true,
    createChannel: () => {
      const port1: PortLike = {
        // MessagePortMain structured-clones; so does this.
        postMessage: (m: unknown) => {
          const c = structuredClone(m) as { name: PushName; msg: { bytes?: unknown } };
          pushes.push({ name: c.name, msg: c.msg, binary: c.msg.bytes instanceof ArrayBuffer });
        },
        start: () => undefined,
        close: () => undefined,
      };
      return { port1, port2: 'port2' };
    },
    sendPort: (_e, port) => {
      delivered = port;
    },
    log: () => undefined,
  });
  (ipc.listeners.get(Channels.connectPort) as Listener)(event);
  const client: Client = {
    pushes,
    async request(name, params) {
      const handler = ipc.handlers.get(Channels.request) as Listener;
      return structuredClone(await handler(event, name, structuredClone(params))) as never;
    },
    async close() {
      destroyed?.();
      await adapter.dispose();
    },
  };
  return { client, ipc, adapter, event, portDelivered: () => delivered };
}

// ---- web adapter over a real WebSocket ---------------------------------------------------

async function webClient(server: WebServer): Promise<Client> {
  const ws = new WebSocket(
    `ws://127.0.0.1:${server.port}${Channels.webSocket}?token=${server.token}`,
    {
      origin: `http://127.0.0.1:${server.port}`,
    },
  );
  ws.binaryType = 'arraybuffer';
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const waiting = new Map<number, (r: unknown) => void>();
  const pushes: Client['pushes'] = [];
  let next = 1;
  ws.on('message', (data: ArrayBuffer | Buffer, isBinary: boolean) => {
    const r = decodeFrame(isBinary ? (data as ArrayBuffer) : data.toString());
    if (!r.ok) throw new Error(r.error);
    if (r.frame.t === 'rep') waiting.get(r.frame.id)?.(r.frame.reply);
    else if (r.frame.t === 'push')
      pushes.push({ name: r.frame.name as PushName, msg: r.frame.msg, binary: isBinary });
  });
  return {
    pushes,
    request(name, params) {
      const id = next++;
      return new Promise((resolve) => {
        waiting.set(id, resolve as (r: unknown) => void);
        const data = encodeFrame({ t: 'req', id, name, params });
        ws.send(typeof data === 'string' ? data : new Uint8Array(data));
      });
    },
    async close() {
      ws.close();
      await new Promise((r) => ws.once('close', r));
    },
  };
}

// ---- the scenario, identical for both ------------------------------------------------------

async function until(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function ok<N extends RequestName>(r: Reply<N>, name: N): Reply<N> & { ok: true } {
  if (!r.ok) throw new Error(`${name} failed: ${r.error.kind} ${r.error.message}`);
  return r as Reply<N> & { ok: true };
}

/** Runs every request once (in an order that makes each meaningful); returns the names answered ok. */
async function exercise(c: Client, fixturePid: number): Promise<Set<RequestName>> {
  const done = new Set<RequestName>();
  const call = async <N extends RequestName>(name: N, params: RequestParams<N>) => {
    const r = ok(await c.request(name, params), name);
    done.add(name);
    return r.value;
  };
  expect((await call('appInfo', {})).name).toBe('PSS Inspector');
  // The trace the app was started on (pss-inspector open FILE) opens as this connection's session.
  const opened = await call('openedTrace', {});
  expect(opened?.fileName).toBe('startup.psstrace');
  expect(opened?.session.state).toBe('finished');
  expect(opened?.session.eventsStored).toBe(STARTUP_EVENTS);
  const first = await call('getEvents', {
    sessionId: opened?.session.sessionId as string,
    fromSeq: 0,
    count: STARTUP_EVENTS,
  });
  expect(new EventBatchView(first.bytes).count).toBe(STARTUP_EVENTS);
  await call('closeSession', { sessionId: opened?.session.sessionId as string });
  const procs = await call('listProcesses', {});
  expect(procs.some((p) => p.pid === fixturePid && p.inspectable)).toBe(true);
  const a: SnapshotInfo = await call('capture', { pid: fixturePid, flags: DEFAULT_CAPTURE_FLAGS });
  const b: SnapshotInfo = await call('capture', { pid: fixturePid, flags: DEFAULT_CAPTURE_FLAGS });
  const page = await call('querySnapshot', {
    snapshotId: a.snapshotId,
    cls: 'THREADS',
    offset: 0,
    limit: 100,
  });
  expect(page.total).toBeGreaterThan(1);
  const diff = await call('diffSnapshots', { a: a.snapshotId, b: b.snapshotId });
  expect(diff.unchanged.threads).toBeGreaterThan(0);
  const st: SessionState = await call('startSession', {
    snapshotId: a.snapshotId,
    flags: DEFAULT_CAPTURE_FLAGS,
    allocator: { strategy: 'heap' },
    classes: ['THREADS', 'HANDLES', 'VA_SPACE'],
    pace: { mode: 'paced', entriesPerSecond: 200 },
    onAllocFailure: 'stop',
  });
  await call('sessionControl', { sessionId: st.sessionId, action: 'pause' });
  await call('sessionControl', { sessionId: st.sessionId, action: 'step' });
  await call('sessionControl', {
    sessionId: st.sessionId,
    action: 'setPace',
    pace: { mode: 'run' },
  });
  await call('sessionControl', { sessionId: st.sessionId, action: 'resume' });
  await until(() => c.pushes.some((p) => p.name === 'summary'), 'the summary');
  const summary = await call('sessionSummary', { sessionId: st.sessionId });
  const events = await call('getEvents', { sessionId: st.sessionId, fromSeq: 0, count: 1_000_000 });
  expect(events.bytes).toBeInstanceOf(ArrayBuffer);
  expect(new EventBatchView(events.bytes).count).toBe(summary.events);
  // The credit stream sent one window (the client has not acked yet): ack it, and the rest
  // follows, each seq once.
  const sentTo = (): number =>
    c.pushes
      .filter((p) => p.name === 'events')
      .map((p) => p.msg as PushMessages['events'])
      .filter((m) => m.sessionId === st.sessionId)
      .reduce((end, m) => Math.max(end, m.firstSeq + m.bytes.byteLength / 48), 0);
  while (sentTo() < summary.events) {
    const end = sentTo();
    await call('ackEvents', { sessionId: st.sessionId, seq: end - 1 });
    await until(() => sentTo() > end, 'the next window of events');
  }
  const entries = await call('getEntries', {
    sessionId: st.sessionId,
    cls: 'THREADS',
    offset: 0,
    limit: 10,
  });
  expect(entries.total).toBe(page.total);
  const file = await call('exportTrace', { sessionId: st.sessionId });
  expect(file.offset).toBe(0);
  expect(file.bytes.byteLength).toBe(file.totalBytes);
  const imported = await call('importTrace', { fileName: file.fileName, bytes: file.bytes });
  expect(imported.eventsStored).toBe(summary.events);
  // The same file uploaded in two chunks; then an upload abandoned half way.
  const half = Math.floor(file.bytes.byteLength / 2);
  const up = await call('importTraceBegin', {
    fileName: file.fileName,
    totalBytes: file.bytes.byteLength,
  });
  await call('importTraceChunk', {
    uploadId: up.uploadId,
    offset: 0,
    bytes: file.bytes.slice(0, half),
  });
  await call('importTraceChunk', {
    uploadId: up.uploadId,
    offset: half,
    bytes: file.bytes.slice(half),
  });
  const chunked = await call('importTraceEnd', { uploadId: up.uploadId });
  expect(chunked.eventsStored).toBe(summary.events);
  await call('closeSession', { sessionId: chunked.sessionId });
  const left = await call('importTraceBegin', { fileName: 'x', totalBytes: 100 });
  await call('importTraceAbort', { uploadId: left.uploadId });
  await call('closeSession', { sessionId: imported.sessionId });
  await call('closeSession', { sessionId: st.sessionId });
  await call('freeSnapshot', { snapshotId: a.snapshotId });
  await call('freeSnapshot', { snapshotId: b.snapshotId });

  // A session whose allocator fails at once: the failure arrives as an `error` push.
  const failing: SessionState = await call('startSession', {
    pid: fixturePid,
    flags: DEFAULT_CAPTURE_FLAGS,
    allocator: { strategy: 'faulty', inner: { strategy: 'heap' }, failProbability: 1, seed: 1 },
    classes: ['THREADS'],
    pace: { mode: 'run' },
    onAllocFailure: 'stop',
  });
  await until(
    () =>
      c.pushes.some(
        (p) =>
          p.name === 'summary' && (p.msg as { sessionId: string }).sessionId === failing.sessionId,
      ),
    'the failing summary',
  );
  return done;
}

let walk: WalkService;
let fixture: RunningFixture;
let dir: string;
/** A version 2 trace both hosts are started on (openedTrace). */
let startupTrace: string;
const STARTUP_EVENTS = 250;

beforeAll(async () => {
  walk = createWalkService();
  fixture = await startFixture({ threads: 4, pipes: 3, maps: 20 });
  dir = mkdtempSync(join(tmpdir(), 'pss-contract-'));
  mkdirSync(join(dir, 'r'));
  writeFileSync(join(dir, 'r', 'index.html'), '<!doctype html>');
  startupTrace = join(dir, 'startup.psstrace');
  writeSyntheticTrace(new FileSink(startupTrace), {
    processName: 'synthetic',
    events: STARTUP_EVENTS,
    stepNs: 1000,
    batchEvents: 100,
  });
});

afterAll(async () => {
  await fixture?.stop();
  await walk?.close();
  rmSync(dir, { recursive: true, force: true });
});

function checkPushes(c: Client): void {
  for (const p of c.pushes) {
    if (BINARY_PUSHES.has(p.name)) {
      expect(p.binary, `${p.name} travels as binary`).toBe(true);
      const bytes = (p.msg as PushMessages['events']).bytes;
      expect(bytes).toBeInstanceOf(ArrayBuffer);
      new EventBatchView(bytes).validate((p.msg as PushMessages['events']).firstSeq);
    }
  }
}

describe('contract: both adapters implement every request and push', () => {
  it('Electron adapter (fake ipcMain registrar, cloned MessagePort)', async () => {
    // A small window so the same run also exercises the credit stream's waits.
    const host = new SessionHost({
      walk,
      transport: 'electron',
      library: 'libpss',
      version: '0',
      flow: { windowEvents: 64 },
      log: () => undefined,
      openTrace: startupTrace,
    });
    const e = electronClient(host);
    expect(e.portDelivered()).toBe('port2');
    expect([...e.ipc.handlers.keys()]).toEqual([Channels.request]);
    const done = await exercise(e.client, fixture.pid);
    expect([...done].sort()).toEqual([...REQUEST_NAMES].sort());
    e.adapter.command(1, 'openTrace');
    await until(() => e.client.pushes.some((p) => p.name === 'command'), 'command');
    const seen = new Set(e.client.pushes.map((p) => p.name));
    expect([...PUSH_NAMES].filter((n) => !seen.has(n))).toEqual([]);
    checkPushes(e.client);

    // An untrusted sender gets an error reply and nothing else.
    const handler = e.ipc.handlers.get(Channels.request) as Listener;
    const stranger = {
      sender: { id: 2, once: () => undefined },
      senderFrame: { url: 'https://evil.example/' },
    };
    expect(await handler(stranger, 'appInfo', {})).toMatchObject({
      ok: false,
      error: { kind: 'misuse' },
    });
    expect(e.adapter.connectionOf(2)).toBeNull();
    // Malformed requests are validation errors, not exceptions.
    expect(await handler(e.event, { evil: true }, 1)).toMatchObject({
      ok: false,
      error: { kind: 'validation' },
    });
    await e.client.close();
    expect(host.connectionCount).toBe(0);
  });

  it('web adapter (real WebSocket)', async () => {
    const host = new SessionHost({
      walk,
      transport: 'web',
      library: 'libpss',
      version: '0',
      flow: { windowEvents: 64 },
      log: () => undefined,
      openTrace: startupTrace,
    });
    const server = await startWebServer({
      host,
      rendererDir: join(dir, 'r'),
      port: 0,
      log: () => undefined,
    });
    try {
      const c = await webClient(server);
      const done = await exercise(c, fixture.pid);
      expect([...done].sort()).toEqual([...REQUEST_NAMES].sort());
      // `command` comes from the Electron menu; the web transport delivers it the same way.
      const conn = [
        ...(host as unknown as { connections: Set<{ notify: (n: string, m: unknown) => void }> })
          .connections,
      ][0];
      conn?.notify('command', { command: 'about' });
      await until(() => c.pushes.some((p) => p.name === 'command'), 'command');
      const seen = new Set(c.pushes.map((p) => p.name));
      expect([...PUSH_NAMES].filter((n) => !seen.has(n))).toEqual([]);
      checkPushes(c);
      await c.close();
      await until(() => host.connectionCount === 0, 'the host connection to close');
    } finally {
      await server.close();
    }
  });
});
