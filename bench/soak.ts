/**
 * Soak and load of web mode (`npm run soak`; not a timed test, not part of npm test).
 *
 * The real built web mode (`node out/main/web.js`: host, walk worker, libpss) is driven over
 * real WebSockets by well-behaved and hostile clients, scenario after scenario:
 *
 *   sessions-1-connection    10,000 sessions (start, walk, summary, close) on one connection
 *   sessions-100-connections 10,000 sessions across 100 connections at once
 *   walkers-50               50 concurrent walks of the large fixture, acked as a page does
 *   never-ack                walks whose events are never acknowledged (they get one window)
 *   never-read               clients that flood getEvents and never read their socket
 *   fake-acks                acks of seqs never sent, mixed with walks
 *   flood-getEvents          20 clients × 500 getEvents of a big trace, replies read
 *   disconnect-mid-walk      200 connections that drop while their walk runs
 *   kill-9-targets           walks whose target processes are SIGKILLed mid-walk
 *
 * Checked: the server never exits; every request of a client that stays connected gets a reply
 * (zero lost); open descriptors and threads come back to their start; RSS comes back within
 * 50 MB of the start after a GC once the load ends, and is never above 1 GB during it.
 * Figures (RSS, fds, threads at start / peak / end per scenario; the start is each figure's
 * baseline) go to bench/results/soak.json. Exits 1 when a check fails.
 *
 * The server runs with `--expose-gc` and a preload (bench/lib/gc-signal.mjs) that runs a full
 * GC on SIGUSR2, so "after a GC" is measured, not guessed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';
import { decodeFrame, encodeFrame } from '../src-shared/contract/wire';
import type { Reply, RequestName } from '../src-shared/contract/contract';
import type { SessionState, SnapshotInfo } from '../src-shared/contract/model';
import { EVENT_SIZE } from '../src-shared/events/layout';
import { DEFAULT_CAPTURE_FLAGS } from '../src-shared/pss/constants';
import { LARGE_FIXTURE, startFixture, type RunningFixture } from '../src-main/testing/fixture';
import { figure, writeResults, type Figure } from './lib/results';

const ROOT = join(import.meta.dirname, '..');
const MB = 1024 * 1024;
const SCALE = Number(process.env['SOAK_SCALE'] ?? 1);
/** SOAK_ONLY=walkers,never-read runs only the scenarios whose names contain these. */
const ONLY = (process.env['SOAK_ONLY'] ?? '').split(',').filter(Boolean);
const DEBUG = process.env['SOAK_DEBUG'] === '1';

/** Where the server's resident memory is, by mapping (SOAK_DEBUG=1). */
function memoryMap(pid: number): string {
  const by: Record<string, number> = {};
  let name = '';
  for (const l of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const m = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(l);
    if (m) {
      name = m[1] || '[anon]';
      continue;
    }
    const r = /^Rss:\s+(\d+)/.exec(l);
    if (r) by[name] = (by[name] ?? 0) + Number(r[1]) / 1024;
  }
  return Object.entries(by)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([k, v]) => `${k.split('/').pop()} ${v.toFixed(1)} MB`)
    .join(', ');
}
const n = (x: number): number => Math.max(1, Math.round(x * SCALE));

// ---- the server ----------------------------------------------------------------------------

interface Server {
  child: ChildProcess;
  pid: number;
  port: number;
  token: string;
  output: string[];
  exited: () => boolean;
}

async function startServer(): Promise<Server> {
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      join(ROOT, 'bench', 'lib', 'gc-signal.mjs'),
      join(ROOT, 'out', 'main', 'web.js'),
      '--port',
      '0',
      '--exit-with-stdin',
    ],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  let gone = false;
  child.once('exit', (code, signal) => {
    gone = true;
    output.push(`[exit ${code} ${signal}]`);
  });
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (l) =>
    output.push(l),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('web mode printed no URL')), 60_000);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => {
      output.push(l);
      const m = /^PSS_INSPECTOR_URL=(\S+)$/.exec(l);
      if (m) {
        clearTimeout(t);
        resolve(m[1] as string);
      }
    });
  });
  const u = new URL(url);
  return {
    child,
    pid: child.pid as number,
    port: Number(u.port),
    token: u.searchParams.get('token') ?? '',
    output,
    exited: () => gone,
  };
}

interface Sample {
  rss: number;
  fds: number;
  threads: number;
}

function sample(pid: number): Sample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) * 1024;
  const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  return { rss, fds: readdirSync(`/proc/${pid}/fd`).length, threads };
}

/** Samples the server every 100 ms while `work` runs; returns the peaks. */
async function withPeaks<T>(
  pid: number,
  work: () => Promise<T>,
): Promise<{ result: T; peak: Sample }> {
  const peak: Sample = { rss: 0, fds: 0, threads: 0 };
  const take = (): void => {
    try {
      const s = sample(pid);
      peak.rss = Math.max(peak.rss, s.rss);
      peak.fds = Math.max(peak.fds, s.fds);
      peak.threads = Math.max(peak.threads, s.threads);
    } catch {
      // the server is gone: the scenario's checks will say so
    }
  };
  take();
  const timer = setInterval(take, 100);
  try {
    const result = await work();
    take();
    return { result, peak };
  } finally {
    clearInterval(timer);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * After the load: the server idles (V8's memory reducer shrinks its heaps only once allocation
 * has stopped for a few seconds) while a full GC runs in every thread every 2 s (SIGUSR2), until
 * RSS, fds and threads hold still (three samples in a row within 1 MB, equal counts) after at
 * least 20 s; at most 90 s.
 */
async function settle(pid: number): Promise<Sample> {
  let last: Sample | null = null;
  let stable = 0;
  const t0 = Date.now();
  for (;;) {
    process.kill(pid, 'SIGUSR2');
    await sleep(2000);
    const s = sample(pid);
    const still =
      last !== null &&
      Math.abs(s.rss - last.rss) < MB &&
      s.fds === last.fds &&
      s.threads === last.threads;
    stable = still ? stable + 1 : 0;
    last = s;
    if ((stable >= 3 && Date.now() - t0 >= 20_000) || Date.now() - t0 > 90_000) return s;
  }
}

// ---- clients -------------------------------------------------------------------------------

type PushHandler = (name: string, msg: unknown) => void;

class Client {
  private nextId = 1;
  private readonly waiting = new Map<number, (r: Reply<RequestName>) => void>();
  sent = 0;
  replied = 0;
  /** Requests cut by a close (ours or the server's), not lost. */
  cut = 0;
  closed = false;
  onPush: PushHandler = () => undefined;
  readonly summaries = new Map<string, { events: number }>();
  private readonly summaryWaiters = new Map<string, (s: { events: number }) => void>();

  private constructor(readonly ws: WebSocket) {
    ws.binaryType = 'arraybuffer';
    ws.on('message', (data: ArrayBuffer | Buffer, isBinary: boolean) => {
      const r = decodeFrame(isBinary ? (data as ArrayBuffer) : data.toString());
      if (!r.ok) throw new Error(`undecodable frame from the server: ${r.error}`);
      const f = r.frame;
      if (f.t === 'rep') {
        const w = this.waiting.get(f.id);
        if (!w) throw new Error(`a reply to an unknown request ${f.id}`);
        this.waiting.delete(f.id);
        this.replied++;
        w(f.reply as Reply<RequestName>);
      } else if (f.t === 'push') {
        if (f.name === 'summary') {
          const s = f.msg as { sessionId: string; events: number };
          this.summaries.set(s.sessionId, s);
          this.summaryWaiters.get(s.sessionId)?.(s);
          this.summaryWaiters.delete(s.sessionId);
        }
        this.onPush(f.name, f.msg);
      }
    });
    ws.on('close', () => {
      this.closed = true;
      for (const [id, w] of this.waiting) {
        this.cut++;
        w({
          ok: false,
          error: { kind: 'io', code: null, codeName: null, message: 'closed', hint: '' },
        });
        this.waiting.delete(id);
      }
    });
    ws.on('error', () => undefined);
  }

  static async open(s: Server): Promise<Client> {
    for (let attempt = 0; ; attempt++) {
      const ws = new WebSocket(`ws://127.0.0.1:${s.port}/pss-ws?token=${s.token}`, {
        origin: `http://127.0.0.1:${s.port}`,
      });
      try {
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
          ws.once('error', reject);
        });
        return new Client(ws);
      } catch (e) {
        // 503: the server holds its most WebSockets (closed ones are still being released).
        if (attempt > 200 || !/503/.test((e as Error).message)) throw e;
        await sleep(50);
      }
    }
  }

  request<T = unknown>(name: string, params: unknown): Promise<Reply<RequestName> & { value?: T }> {
    const id = this.nextId++;
    this.sent++;
    return new Promise((resolve) => {
      if (this.closed) {
        this.cut++;
        resolve({
          ok: false,
          error: { kind: 'io', code: null, codeName: null, message: 'closed', hint: '' },
        });
        return;
      }
      this.waiting.set(id, resolve as (r: Reply<RequestName>) => void);
      const data = encodeFrame({ t: 'req', id, name, params });
      this.ws.send(typeof data === 'string' ? data : new Uint8Array(data), {
        binary: typeof data !== 'string',
      });
    });
  }

  async value<T>(name: string, params: unknown): Promise<T> {
    const r = await this.request<T>(name, params);
    if (!r.ok) throw new Error(`${name}: ${r.error.kind}: ${r.error.message}`);
    return r.value as T;
  }

  summary(sessionId: string): Promise<{ events: number }> {
    const have = this.summaries.get(sessionId);
    if (have) return Promise.resolve(have);
    return new Promise((resolve) => this.summaryWaiters.set(sessionId, resolve));
  }

  /** Acks every events push as the page does (the highest seq seen). */
  ackAsPage(): void {
    const acked = new Map<string, number>();
    this.onPush = (name, msg) => {
      if (name !== 'events') return;
      const m = msg as { sessionId: string; firstSeq: number; bytes: ArrayBuffer };
      const sessionId = m.sessionId;
      const seq = m.firstSeq + m.bytes.byteLength / EVENT_SIZE - 1;
      if (seq > (acked.get(sessionId) ?? -1)) {
        acked.set(sessionId, seq);
        void this.request('ackEvents', { sessionId, seq });
      }
    };
  }

  get pending(): number {
    return this.waiting.size;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

// ---- scenarios -----------------------------------------------------------------------------

interface Outcome {
  /** Requests sent by clients that stayed connected, and the replies they got. */
  sent: number;
  replied: number;
  /** Requests whose connection the client or the server closed on purpose. */
  cut: number;
  notes: Record<string, number>;
}

const walkOf = (pid: number, extra: Record<string, unknown> = {}) => ({
  pid,
  flags: DEFAULT_CAPTURE_FLAGS,
  allocator: { strategy: 'heap' },
  classes: ['THREADS'],
  pace: { mode: 'run' },
  onAllocFailure: 'stop',
  ...extra,
});

function tally(clients: Client[], notes: Record<string, number> = {}): Outcome {
  let sent = 0;
  let replied = 0;
  let cut = 0;
  for (const c of clients) {
    sent += c.sent;
    replied += c.replied;
    cut += c.cut;
  }
  return { sent, replied, cut, notes };
}

/** Starts a session, retrying while the host's cap on running walks is reached. */
async function startWithRoom(c: Client, params: unknown, notes: Record<string, number>) {
  for (;;) {
    const r = await c.request<SessionState>('startSession', params);
    if (r.ok) return r.value as SessionState;
    if (r.error.kind !== 'limit') throw new Error(`startSession: ${r.error.message}`);
    notes['limit refusals (retried)'] = (notes['limit refusals (retried)'] ?? 0) + 1;
    await sleep(20);
  }
}

async function sessionsOnOne(s: Server, small: RunningFixture): Promise<Outcome> {
  const c = await Client.open(s);
  const snap = await c.value<SnapshotInfo>('capture', {
    pid: small.pid,
    flags: DEFAULT_CAPTURE_FLAGS,
  });
  const total = n(10_000);
  let next = 0;
  let done = 0;
  const notes: Record<string, number> = {};
  const lane = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      // Every tenth session captures its own snapshot; the others walk the shared one.
      const params =
        i % 10 === 0
          ? walkOf(small.pid)
          : { ...walkOf(0), pid: undefined, snapshotId: snap.snapshotId };
      const st = await startWithRoom(c, params, notes);
      await c.summary(st.sessionId);
      await c.value('closeSession', { sessionId: st.sessionId });
      c.summaries.delete(st.sessionId);
      done++;
    }
  };
  await Promise.all(Array.from({ length: 4 }, lane));
  await c.value('freeSnapshot', { snapshotId: snap.snapshotId });
  await c.close();
  return tally([c], { ...notes, sessions: done });
}

async function sessionsOnMany(s: Server, small: RunningFixture): Promise<Outcome> {
  const conns = n(100);
  const per = Math.round(n(10_000) / conns);
  const notes: Record<string, number> = {};
  let done = 0;
  const clients = await Promise.all(Array.from({ length: conns }, () => Client.open(s)));
  await Promise.all(
    clients.map(async (c, k) => {
      for (let i = 0; i < per; i++) {
        const st = await startWithRoom(
          c,
          walkOf(small.pid, { classes: k % 2 ? ['THREADS'] : ['HANDLES'] }),
          notes,
        );
        await c.summary(st.sessionId);
        await c.value('closeSession', { sessionId: st.sessionId });
        c.summaries.delete(st.sessionId);
        done++;
      }
    }),
  );
  const out = tally(clients, { ...notes, sessions: done });
  await Promise.all(clients.map((c) => c.close()));
  return out;
}

async function walkers(s: Server, big: RunningFixture): Promise<Outcome> {
  const clients = await Promise.all(Array.from({ length: n(50) }, () => Client.open(s)));
  let lostEvents = 0;
  let events = 0;
  await Promise.all(
    clients.map(async (c) => {
      const seen = { count: 0 };
      c.ackAsPage();
      const page = c.onPush;
      c.onPush = (name, msg) => {
        if (name === 'events')
          seen.count += (msg as { bytes: ArrayBuffer }).bytes.byteLength / EVENT_SIZE;
        page(name, msg);
      };
      const st = await c.value<SessionState>(
        'startSession',
        walkOf(big.pid, { classes: ['THREADS', 'HANDLES', 'VA_SPACE'] }),
      );
      const sum = await c.summary(st.sessionId);
      // Every event reaches the client once: the credit stream may still be sending after the
      // summary, as the acks allow.
      for (let i = 0; i < 600 && seen.count < sum.events; i++) await sleep(50);
      // …and the replies to the last acks arrive before the requests are counted.
      for (let i = 0; i < 200 && c.pending > 0; i++) await sleep(50);
      events += sum.events;
      lostEvents += Math.abs(sum.events - seen.count);
    }),
  );
  const out = tally(clients, { events, 'events not delivered': lostEvents });
  await Promise.all(clients.map((c) => c.close()));
  return out;
}

async function neverAck(s: Server, big: RunningFixture): Promise<Outcome> {
  const clients = await Promise.all(Array.from({ length: n(10) }, () => Client.open(s)));
  let events = 0;
  await Promise.all(
    clients.map(async (c) => {
      const st = await c.value<SessionState>(
        'startSession',
        walkOf(big.pid, { classes: ['THREADS', 'HANDLES', 'VA_SPACE'], passes: 3 }),
      );
      events += (await c.summary(st.sessionId)).events;
    }),
  );
  const out = tally(clients, { events });
  await Promise.all(clients.map((c) => c.close()));
  return out;
}

async function neverRead(s: Server, big: RunningFixture): Promise<Outcome> {
  // Each hostile client walks (to have events), then floods getEvents with its socket paused.
  const clients = await Promise.all(Array.from({ length: n(10) }, () => Client.open(s)));
  const sessions = await Promise.all(
    clients.map(async (c) => {
      const st = await c.value<SessionState>(
        'startSession',
        walkOf(big.pid, { classes: ['THREADS', 'HANDLES', 'VA_SPACE'], passes: 4 }),
      );
      await c.summary(st.sessionId);
      return st.sessionId;
    }),
  );
  clients.forEach((c, i) => {
    c.ws.pause();
    for (let k = 0; k < 100; k++) {
      void c.request('getEvents', { sessionId: sessions[i], fromSeq: 0, count: 131_072 });
    }
  });
  // A well-behaved client is served meanwhile.
  const good = await Client.open(s);
  for (let i = 0; i < 20; i++) await good.value('appInfo', {});
  // The server closes sockets that neither read nor answer pings (WebLimits.idleTimeoutMs).
  const t0 = Date.now();
  while (clients.some((c) => !c.closed) && Date.now() - t0 < 180_000) {
    await sleep(500);
    // ws only notices the close once it reads again.
    for (const c of clients) if (c.ws.isPaused && Date.now() - t0 > 90_000) c.ws.resume();
  }
  const closedByServer = clients.filter((c) => c.closed).length;
  for (const c of clients) {
    c.ws.resume();
    await c.close();
  }
  const out = tally([good], { 'hostile clients closed by the server': closedByServer });
  out.cut += clients.reduce((k, c) => k + c.cut + c.pending, 0);
  await good.close();
  return out;
}

async function fakeAcks(s: Server, big: RunningFixture): Promise<Outcome> {
  const clients = await Promise.all(Array.from({ length: n(10) }, () => Client.open(s)));
  let refused = 0;
  await Promise.all(
    clients.map(async (c) => {
      const st = await c.value<SessionState>(
        'startSession',
        walkOf(big.pid, { classes: ['THREADS', 'HANDLES', 'VA_SPACE'], passes: 2 }),
      );
      c.onPush = (name, msg) => {
        if (name !== 'events') return;
        const m = msg as { firstSeq: number };
        // Acks ahead of what was sent, and far beyond it.
        for (const seq of [m.firstSeq + 1_000_000, 1e12]) {
          void c.request('ackEvents', { sessionId: st.sessionId, seq }).then((r) => {
            if (!r.ok && r.error.kind === 'validation') refused++;
          });
        }
      };
      await c.summary(st.sessionId);
      await sleep(200);
    }),
  );
  const out = tally(clients, { 'fake acks refused': refused });
  await Promise.all(clients.map((c) => c.close()));
  return out;
}

async function floodGetEvents(s: Server, big: RunningFixture): Promise<Outcome> {
  const clients = await Promise.all(Array.from({ length: n(20) }, () => Client.open(s)));
  let bytes = 0;
  await Promise.all(
    clients.map(async (c) => {
      const st = await c.value<SessionState>(
        'startSession',
        walkOf(big.pid, { classes: ['THREADS', 'HANDLES', 'VA_SPACE'], passes: 3 }),
      );
      const sum = await c.summary(st.sessionId);
      const replies = await Promise.all(
        Array.from({ length: 500 }, (_, k) =>
          c.request<{ bytes: ArrayBuffer }>('getEvents', {
            sessionId: st.sessionId,
            fromSeq: (k * 7919) % sum.events,
            count: 131_072,
          }),
        ),
      );
      for (const r of replies)
        if (r.ok) bytes += (r.value as { bytes: ArrayBuffer }).bytes.byteLength;
    }),
  );
  const out = tally(clients, { 'MB of events read': Math.round(bytes / MB) });
  await Promise.all(clients.map((c) => c.close()));
  return out;
}

async function disconnectMidWalk(s: Server, big: RunningFixture): Promise<Outcome> {
  let dropped = 0;
  const total = n(200);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < total) {
      next++;
      const c = await Client.open(s);
      const firstEvents = new Promise<void>((resolve) => {
        c.onPush = (name) => {
          if (name === 'events') resolve();
        };
      });
      void c.request(
        'startSession',
        walkOf(big.pid, { classes: ['THREADS', 'HANDLES', 'VA_SPACE'], passes: 5 }),
      );
      await Promise.race([firstEvents, sleep(5000)]);
      c.ws.terminate();
      dropped++;
    }
  };
  await Promise.all(Array.from({ length: 20 }, lane));
  return { sent: 0, replied: 0, cut: dropped, notes: { 'connections dropped mid-walk': dropped } };
}

async function killTargets(s: Server): Promise<Outcome> {
  const targets = await Promise.all(
    Array.from({ length: n(20) }, () => startFixture({ threads: 20, pipes: 50, maps: 500 })),
  );
  const clients = await Promise.all(targets.map(() => Client.open(s)));
  let exitedSeen = 0;
  await Promise.all(
    clients.map(async (c, i) => {
      const t = targets[i] as RunningFixture;
      let last: SessionState | null = null;
      c.onPush = (name, msg) => {
        if (name === 'sessionState') last = msg as SessionState;
      };
      const st = await c.value<SessionState>(
        'startSession',
        walkOf(t.pid, {
          classes: ['THREADS', 'HANDLES', 'VA_SPACE'],
          pace: { mode: 'paced', entriesPerSecond: 2000 },
        }),
      );
      await sleep(100 + ((i * 37) % 200));
      await t.kill();
      await c.summary(st.sessionId);
      await sleep(300);
      if ((last as SessionState | null)?.targetExited) exitedSeen++;
    }),
  );
  const out = tally(clients, {
    'targets killed': targets.length,
    'sessions that saw it': exitedSeen,
  });
  await Promise.all(clients.map((c) => c.close()));
  return out;
}

// ---- the run -------------------------------------------------------------------------------

async function main(): Promise<void> {
  const server = await startServer();
  const small = await startFixture({ threads: 3, pipes: 2, maps: 10 });
  const big = await startFixture(LARGE_FIXTURE);
  const figures: Figure[] = [];
  const failures: string[] = [];
  const check = (ok: boolean, what: string): void => {
    if (!ok) failures.push(what);
    console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
  };
  try {
    // Warm-up: every kind of thread the server starts lazily (libuv pool, walk worker).
    const w = await Client.open(server);
    await w.value('listProcesses', {});
    const st = await w.value<SessionState>('startSession', walkOf(small.pid));
    await w.summary(st.sessionId);
    const file = await w.value<{ bytes: ArrayBuffer; fileName: string }>('exportTrace', {
      sessionId: st.sessionId,
    });
    await w.value('importTrace', { fileName: file.fileName, bytes: file.bytes });
    await w.close();
    const start = await settle(server.pid);
    console.log(
      `start: RSS ${(start.rss / MB).toFixed(1)} MB, ${start.fds} fds, ${start.threads} threads`,
    );
    let overallPeak = start.rss;

    const scenarios: [string, () => Promise<Outcome>][] = [
      ['sessions-1-connection', () => sessionsOnOne(server, small)],
      ['sessions-100-connections', () => sessionsOnMany(server, small)],
      ['walkers-50', () => walkers(server, big)],
      ['never-ack', () => neverAck(server, big)],
      ['never-read', () => neverRead(server, big)],
      ['fake-acks', () => fakeAcks(server, big)],
      ['flood-getEvents', () => floodGetEvents(server, big)],
      ['disconnect-mid-walk', () => disconnectMidWalk(server, big)],
      ['kill-9-targets', () => killTargets(server)],
    ];
    for (const [name, run] of scenarios) {
      if (ONLY.length > 0 && !ONLY.some((o) => name.includes(o))) continue;
      console.log(`\n== ${name}`);
      const before = sample(server.pid);
      const t0 = Date.now();
      const { result, peak } = await withPeaks(server.pid, run);
      const secs = (Date.now() - t0) / 1000;
      const end = await settle(server.pid);
      overallPeak = Math.max(overallPeak, peak.rss);
      console.log(
        `  ${secs.toFixed(1)} s; requests ${result.sent}, replies ${result.replied}, cut by closes ${result.cut}; ${Object.entries(
          result.notes,
        )
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
      console.log(
        `  RSS ${(before.rss / MB).toFixed(1)} → peak ${(peak.rss / MB).toFixed(1)} → ${(end.rss / MB).toFixed(1)} MB; fds ${before.fds} → ${peak.fds} → ${end.fds}; threads ${before.threads} → ${peak.threads} → ${end.threads}`,
      );
      if (DEBUG) {
        console.log(`  memory: ${memoryMap(server.pid)}`);
        for (const l of server.output.filter((x) => x.startsWith('[gc ')).slice(-2))
          console.log(`  ${l}`);
      }
      check(!server.exited(), `${name}: the server is running`);
      check(
        result.sent === result.replied,
        `${name}: every request answered (${result.sent - result.replied} lost)`,
      );
      check(
        peak.rss < 1024 * MB,
        `${name}: RSS never above 1 GB (peak ${(peak.rss / MB).toFixed(0)} MB)`,
      );
      check(
        end.fds === start.fds,
        `${name}: descriptors back to the start (${end.fds} vs ${start.fds})`,
      );
      check(
        end.threads === start.threads,
        `${name}: threads back to the start (${end.threads} vs ${start.threads})`,
      );
      check(
        end.rss - start.rss < 50 * MB,
        `${name}: RSS within 50 MB of the start after GC (${((end.rss - start.rss) / MB).toFixed(1)} MB)`,
      );
      if (name === 'walkers-50')
        check(result.notes['events not delivered'] === 0, `${name}: every event delivered`);
      const mb = (x: number): number => Math.round((x / MB) * 10) / 10;
      figures.push(
        figure(`${name}: RSS peak`, mb(peak.rss), 'MB', mb(start.rss)),
        figure(`${name}: RSS end (after GC)`, mb(end.rss), 'MB', mb(start.rss)),
        figure(`${name}: fds peak`, peak.fds, 'fds', start.fds),
        figure(`${name}: fds end`, end.fds, 'fds', start.fds),
        figure(`${name}: threads peak`, peak.threads, 'threads', start.threads),
        figure(`${name}: threads end`, end.threads, 'threads', start.threads),
        figure(`${name}: requests answered`, result.replied, 'requests', result.sent),
        figure(`${name}: duration`, Math.round(secs * 10) / 10, 's'),
      );
      for (const [k, v] of Object.entries(result.notes))
        figures.push(figure(`${name}: ${k}`, v, ''));
    }
    figures.push(
      figure(
        'soak: RSS peak over all scenarios',
        Math.round((overallPeak / MB) * 10) / 10,
        'MB',
        Math.round((start.rss / MB) * 10) / 10,
      ),
    );
    writeResults('soak', figures, {
      start: { rssMB: start.rss / MB, fds: start.fds, threads: start.threads },
      failures,
      scale: SCALE,
    });
  } finally {
    await small.stop();
    await big.stop();
    server.child.stdin?.end();
    server.child.kill('SIGTERM');
  }
  if (server.output.some((l) => /uncaught|unhandled/i.test(l))) {
    failures.push('the server logged an uncaught exception');
    console.log(server.output.filter((l) => /uncaught|unhandled/i.test(l)).join('\n'));
  }
  if (failures.length > 0) {
    console.log(`\n${failures.length} check(s) failed:\n  ${failures.join('\n  ')}`);
    process.exit(1);
  }
  console.log('\nall soak checks passed');
}

await main();
