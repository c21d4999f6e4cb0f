/**
 * Web delivery: how fast a walk session's events reach a page in Chromium over web mode, how
 * late, and what that does to the page's frames.
 *
 *   events/s delivered to the page (records decoded in the page)   target ≥ 1 M/s
 *   allocation → page latency p50 / p99                             target p99 ≤ 100 ms
 *   frame times while receiving (rAF deltas) p50/p95/p99, % > 16.7  target 60 fps
 *
 * Set-up: `node out/main/web.js --port 0` (the real host, walk worker and libpss), the large
 * fixture process, Debian's Chromium. The page runs the real browser bridge and a probe that
 * decodes every record and acks each batch, as the UI does. Latency compares each batch's last
 * record time (session clock origin + timeNs, the worker's performance.timeOrigin based wall
 * clock) with the page's arrival time (performance.timeOrigin + now) — the same machine clock.
 *
 * Baselines in the same run: the walk's own event rate (no delivery), pulling the same trace
 * through the host with getEvents, and raw WebSocket throughput of the same bytes in the same
 * batch sizes from a bare `ws` server to the same page code, without the host.
 */
import { endedState, startingState, walkingState } from '../src-shared/contract/session-state';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from '@playwright/test';
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { startFixture, LARGE_FIXTURE } from '../src-main/testing/fixture';
import { emptyTotals } from '../src-main/walk/tracing';
import { DEFAULT_CAPTURE_FLAGS } from '../src-shared/pss/constants';
import type {
  EntryPage,
  SessionState,
  SessionSummary,
  SnapshotInfo,
} from '../src-shared/contract/model';
import type { WalkEntry } from '../src-shared/pss/entries';
import type { SessionSink, StartSessionOptions, WalkService } from '../src-main/walk/service';
import { SessionHost } from '../src-main/host';
import { startWebServer } from '../src-main/web/server';
import type * as PageHelpers from '../e2e/page/entry';
import type { ProbeReport } from '../e2e/page/entry';
import { CHROMIUM_ARGS, chromiumPath } from '../e2e/support/chromium';
import { buildPageBundle } from '../e2e/support/global-setup';
import { injectPageHelpers } from '../e2e/support/page';
import { startWebMode } from '../e2e/support/web-mode';
import { figure, percentile, writeResults } from './lib/results';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 10);
const REPLAY_EVENTS = Number(process.env['BENCH_REPLAY_EVENTS'] ?? 4_000_000);
const REPLAY_BATCH = 4096;
/** Events per second the replayed session produces (above the 1 M/s target, below what the host's thread can make). */
const REPLAY_RATE = Number(process.env['BENCH_REPLAY_RATE'] ?? 1_500_000);

type Api = {
  request(
    n: string,
    p: unknown,
  ): Promise<{ ok: boolean; value: unknown; error?: { message: string } }>;
};
type T = {
  api: Api;
  probe: ReturnType<typeof PageHelpers.createProbe>;
  setOrigin(o: number): void;
};

async function call<R>(page: Page, name: string, params: unknown): Promise<R> {
  const r = await page.evaluate(
    ([n, p]) => (globalThis as unknown as { __t: T }).__t.api.request(n as string, p),
    [name, params] as const,
  );
  if (!r.ok) throw new Error(`${name}: ${r.error?.message}`);
  return r.value as R;
}

const probeReport = (page: Page): Promise<ProbeReport> =>
  page.evaluate(() => (globalThis as unknown as { __t: T }).__t.probe.report());

interface Round {
  events: number;
  detail: number;
  startMs: number;
  firstMs: number;
  lastMs: number;
  walkMs: number;
  latencies: number[];
  frames: number[];
  batches: number;
}

async function main(): Promise<void> {
  await buildPageBundle();
  const fixture = await startFixture(LARGE_FIXTURE);
  const web = await startWebMode();
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: CHROMIUM_ARGS,
    headless: true,
  });
  // The baseline: a bare HTTP + WebSocket server (no host, no token, no framing) on loopback.
  const rawHttp = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>baseline</title>');
  });
  const raw = new WebSocketServer({ server: rawHttp, perMessageDeflate: false });
  await new Promise<void>((r) => rawHttp.listen(0, '127.0.0.1', () => r()));
  try {
    const page = await browser.newPage();
    // tsx keeps function names with a __name() helper that page.evaluate would carry along.
    await page.addInitScript({ content: 'globalThis.__name = (f) => f;' });
    await page.goto(web.url);
    await injectPageHelpers(page, web.origin);
    await page.evaluate(() => {
      const P = (globalThis as unknown as { PssPage: typeof PageHelpers }).PssPage;
      const api = P.getPssApi();
      let origin = 0;
      (globalThis as unknown as { __t: unknown }).__t = {
        api,
        probe: P.createProbe(api, () => origin),
        setOrigin: (o: number) => (origin = o),
      };
    });
    const snap = await call<SnapshotInfo>(page, 'capture', {
      pid: fixture.pid,
      flags: DEFAULT_CAPTURE_FLAGS,
    });
    console.log(
      `fixture pid ${fixture.pid}: ${snap.counts.threads} threads, ${snap.counts.handles} handles, ${snap.counts.regions} regions`,
    );

    const rounds: Round[] = [];
    let lastSession = '';
    for (let i = 0; i < ROUNDS + 1; i++) {
      await page.evaluate(() => (globalThis as unknown as { __t: T }).__t.probe.reset());
      const startMs = await page.evaluate(() => performance.timeOrigin + performance.now());
      const st = await call<SessionState>(page, 'startSession', {
        snapshotId: snap.snapshotId,
        flags: DEFAULT_CAPTURE_FLAGS,
        allocator: { strategy: 'heap' },
        classes: ['THREADS', 'HANDLES', 'VA_SPACE'],
        pace: { mode: 'run' },
        onAllocFailure: 'stop',
      });
      await page.evaluate(
        ([id, o]) => {
          const t = (globalThis as unknown as { __t: T }).__t;
          t.probe.follow(id as string);
          t.setOrigin(o as number);
        },
        [st.sessionId, st.clockOriginEpochMs] as const,
      );
      let summary: SessionSummary | null = null;
      for (;;) {
        if (!summary) {
          const r = await page.evaluate(
            (id) =>
              (globalThis as unknown as { __t: T }).__t.api.request('sessionSummary', {
                sessionId: id,
              }),
            st.sessionId,
          );
          if (r.ok) summary = r.value as SessionSummary;
        }
        const rep = await probeReport(page);
        if (summary && rep.nextSeq >= summary.events) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const rep = await probeReport(page);
      const frames = rep.frameDeltasMs.filter((_d, k) => {
        const at = rep.frameAtMs[k] as number;
        return at >= rep.firstArrivalMs && at <= rep.lastArrivalMs + 16.7;
      });
      const round: Round = {
        events: summary.events,
        detail: rep.events,
        startMs,
        firstMs: rep.firstArrivalMs,
        lastMs: rep.lastArrivalMs,
        walkMs: summary.durations.walkMs,
        latencies: rep.latenciesMs,
        frames,
        batches: rep.batches,
      };
      if (i > 0) rounds.push(round); // the first round warms up JITs and caches
      console.log(
        `round ${i}: ${round.events} events (${round.detail} pushed) in ${(round.lastMs - round.startMs).toFixed(0)} ms; walk ${round.walkMs.toFixed(0)} ms; ${round.batches} pushes`,
      );
      if (lastSession) await call(page, 'closeSession', { sessionId: lastSession });
      lastSession = st.sessionId;
    }

    // Pull: the same trace paged through the host (getEvents), into the same page.
    const pullCount = rounds[rounds.length - 1]?.events ?? 0;
    const pull = await page.evaluate(
      async ([id, total]) => {
        const t = (globalThis as unknown as { __t: T }).__t;
        const t0 = performance.now();
        let got = 0;
        let allocations = 0;
        while (got < (total as number)) {
          const r = await t.api.request('getEvents', {
            sessionId: id,
            fromSeq: got,
            count: 262_144,
          });
          if (!r.ok) throw new Error(r.error?.message);
          const bytes = (r.value as { bytes: ArrayBuffer }).bytes;
          const P = (globalThis as unknown as { PssPage: typeof PageHelpers }).PssPage;
          const v = new P.EventBatchView(bytes);
          for (let k = 0; k < v.count; k++) if (v.kind(k) === P.EventKind.Alloc) allocations++;
          if (v.count === 0) break;
          got += v.count;
        }
        return { events: got, allocations, ms: performance.now() - t0 };
      },
      [lastSession, pullCount] as const,
    );

    const traceBytes = await fetchTraceBytes(page, lastSession, pullCount);
    const meanBatch = Math.max(
      1,
      Math.round(
        rounds.reduce((n, r) => n + r.detail, 0) /
          Math.max(
            1,
            rounds.reduce((n, r) => n + r.batches, 0),
          ),
      ),
    );

    // Push-path capacity: the same trace replayed (re-sequenced, re-timed) through an in-process
    // host + web server as fast as its flow control lets it, into the same page code. The walk
    // does not limit this one, so it shows what the delivery path itself sustains.
    const replay = await replayThroughHost(browser, traceBytes, REPLAY_EVENTS);

    // Baseline: the same records (the trace, repeated to the replay's volume) in the replay's
    // push sizes, from a bare ws server to the same page code — no host, no framing, no acks.
    const baseBatch = Math.max(1, Math.round(replay.detail / Math.max(1, replay.pushes)));
    const port = (rawHttp.address() as { port: number }).port;
    raw.on('connection', (ws) => {
      ws.once('message', async () => {
        const n = traceBytes.byteLength / 48;
        for (let seq = 0; seq < REPLAY_EVENTS; seq += baseBatch) {
          const count = Math.min(baseBatch, REPLAY_EVENTS - seq);
          const chunk = new Uint8Array(count * 48);
          for (let i = 0; i < count;) {
            const from = (seq + i) % n;
            const take = Math.min(count - i, n - from);
            chunk.set(traceBytes.subarray(from * 48, (from + take) * 48), i * 48);
            i += take;
          }
          await new Promise<void>((r) => ws.send(chunk, { binary: true }, () => r()));
        }
      });
    });
    const basePage = await browser.newPage();
    await basePage.addInitScript({ content: 'globalThis.__name = (f) => f;' });
    await basePage.goto(`http://127.0.0.1:${port}/`);
    await basePage.addScriptTag({
      path: (await import('../e2e/support/global-setup')).PAGE_BUNDLE,
    });
    const baseline = await basePage.evaluate(
      ([url, n]) => {
        const P = (globalThis as unknown as { PssPage: typeof PageHelpers }).PssPage;
        return P.rawReceiver(url as string, n as number);
      },
      [`ws://127.0.0.1:${port}/`, REPLAY_EVENTS] as const,
    );

    // ---- figures ----
    const totalDetail = rounds.reduce((n, r) => n + r.detail, 0);
    const totalEvents = rounds.reduce((n, r) => n + r.events, 0);
    const deliveryMs = rounds.reduce((n, r) => n + (r.lastMs - r.firstMs), 0);
    const walkMs = rounds.reduce((n, r) => n + r.walkMs, 0);
    const delivered = (totalDetail / deliveryMs) * 1000;
    const walkRate = (totalEvents / walkMs) * 1000;
    const pullRate = (pull.events / pull.ms) * 1000;
    const baseRate = (baseline.events / Math.max(1, baseline.lastMs - baseline.firstMs)) * 1000;
    const lat = rounds.flatMap((r) => r.latencies);
    const frames = rounds.flatMap((r) => r.frames);
    const slow = frames.filter((f) => f > 16.7 + 1).length;
    const figures = [
      figure(
        'events delivered to the page (live session)',
        delivered,
        'events/s',
        walkRate,
        'vs the walk rate: a live session cannot deliver faster than the walk produces',
      ),
      figure(
        'walk event rate (source, no delivery)',
        walkRate,
        'events/s',
        null,
        'what the session produces',
      ),
      figure(
        'events paged through the host (getEvents)',
        pullRate,
        'events/s',
        baseRate,
        'vs raw WebSocket',
      ),
      figure(
        'push path: replayed session delivered to the page',
        replay.delivered,
        'events/s',
        baseRate,
        'host flow control + WebSocket + page decode/ack; vs raw WebSocket; target ≥ 1e6',
      ),
      figure('push path: latency p50', percentile(replay.latencies, 50), 'ms'),
      figure(
        'push path: latency p99',
        percentile(replay.latencies, 99),
        'ms',
        null,
        'target ≤ 100 ms',
      ),
      figure('push path: frame time p99', percentile(replay.frames, 99), 'ms'),
      figure(
        'push path: frames > 16.7 ms',
        replay.frames.length
          ? (replay.frames.filter((f) => f > 17.7).length / replay.frames.length) * 100
          : 0,
        '%',
      ),
      figure('raw WebSocket, same bytes (baseline)', baseRate, 'events/s'),
      figure('latency allocation → page p50', percentile(lat, 50), 'ms'),
      figure('latency allocation → page p99', percentile(lat, 99), 'ms', null, 'target ≤ 100 ms'),
      figure('frame time while receiving p50', percentile(frames, 50), 'ms'),
      figure('frame time while receiving p95', percentile(frames, 95), 'ms'),
      figure(
        'frame time while receiving p99',
        percentile(frames, 99),
        'ms',
        null,
        'target 60 fps (16.7 ms)',
      ),
      figure(
        'frames > 16.7 ms while receiving',
        frames.length ? (slow / frames.length) * 100 : 0,
        '%',
      ),
    ];
    writeResults('web-delivery', figures, {
      rounds: rounds.map((r) => ({
        events: r.events,
        detail: r.detail,
        deliveryMs: r.lastMs - r.firstMs,
        walkMs: r.walkMs,
        pushes: r.batches,
      })),
      meanEventsPerPush: meanBatch,
      baselineEventsPerMessage: baseBatch,
      replay: {
        events: replay.events,
        detail: replay.detail,
        ms: replay.ms,
        pushes: replay.pushes,
      },
      frames: frames.length,
      latencySamples: lat.length,
      fixture: {
        threads: snap.counts.threads,
        handles: snap.counts.handles,
        regions: snap.counts.regions,
      },
    });
  } finally {
    await browser.close();
    raw.close();
    rawHttp.close();
    await web.stop();
    await fixture.stop();
  }
}

/** The trace's records, fetched through the page (not timed), for the baseline server to send. */
async function fetchTraceBytes(page: Page, sessionId: string, count: number): Promise<Uint8Array> {
  const chunks = await page.evaluate(
    async ([id, total]) => {
      const t = (globalThis as unknown as { __t: T }).__t;
      // Replies hold at most CONTRACT_LIMITS.maxEventsPerReply events: page through the trace.
      const pages: Uint8Array[] = [];
      let got = 0;
      while (got < (total as number)) {
        const r = await t.api.request('getEvents', {
          sessionId: id,
          fromSeq: got,
          count: (total as number) - got,
        });
        if (!r.ok) throw new Error(r.error?.message);
        const page = new Uint8Array((r.value as { bytes: ArrayBuffer }).bytes);
        if (page.byteLength === 0) break;
        pages.push(page);
        got += page.byteLength / 48;
      }
      const all = new Uint8Array(pages.reduce((n, p) => n + p.byteLength, 0));
      let at = 0;
      for (const p of pages) {
        all.set(p, at);
        at += p.byteLength;
      }
      // Base64 in 1 MB pieces: evaluate results are JSON.
      const u8 = all;
      const out: string[] = [];
      for (let i = 0; i < u8.length; i += 1 << 20) {
        let s = '';
        const part = u8.subarray(i, i + (1 << 20));
        for (let k = 0; k < part.length; k++) s += String.fromCharCode(part[k] as number);
        out.push(btoa(s));
      }
      return out;
    },
    [sessionId, count] as const,
  );
  return new Uint8Array(Buffer.concat(chunks.map((c) => Buffer.from(c, 'base64'))));
}

/** A WalkService whose one kind of session replays recorded event records at full speed. */
class ReplayWalk implements WalkService {
  private readonly running = new Set<string>();
  constructor(
    private readonly records: Uint8Array,
    private readonly total: number,
  ) {}
  capture(): Promise<SnapshotInfo> {
    return Promise.reject(new Error('replay only'));
  }
  freeSnapshot(): Promise<void> {
    return Promise.resolve();
  }
  querySnapshot(): Promise<EntryPage> {
    return Promise.reject(new Error('replay only'));
  }
  allEntries(): Promise<WalkEntry[]> {
    return Promise.resolve([]);
  }
  startSession(
    sessionId: string,
    options: StartSessionOptions,
    sink: SessionSink,
  ): Promise<SessionState> {
    const t0 = performance.now();
    const plan = {
      sessionId,
      pid: options.pid ?? 0,
      snapshotId: null,
      pace: options.pace,
      classes: [],
      passes: 1,
      allocator: options.allocator,
      clockOriginEpochMs: performance.timeOrigin + t0,
    };
    const state: SessionState = walkingState(plan, {
      ...startingState(plan),
      state: 'running',
    });
    this.running.add(sessionId);
    const n = this.records.byteLength / 48;
    let seq = 0;
    const tick = (): void => {
      if (!this.running.has(sessionId)) return;
      // Up to the replay rate (events due by now), a batch at a time, like a busy worker.
      const due = Math.min(this.total, ((performance.now() - t0) / 1000) * REPLAY_RATE);
      for (let k = 0; k < 8 && seq < due; k++) {
        const count = Math.min(REPLAY_BATCH, this.total - seq);
        const batch = new ArrayBuffer(count * 48);
        const out = new Uint8Array(batch);
        for (let i = 0; i < count;) {
          const from = (seq + i) % n;
          const take = Math.min(count - i, n - from);
          out.set(this.records.subarray(from * 48, (from + take) * 48), i * 48);
          i += take;
        }
        const f64 = new Float64Array(batch);
        const now = (performance.now() - t0) * 1e6;
        for (let i = 0; i < count; i++) {
          f64[i * 6] = seq + i;
          f64[i * 6 + 1] = now;
        }
        sink.events(seq, batch);
        seq += count;
      }
      if (seq < this.total) setImmediate(tick);
      else {
        this.running.delete(sessionId);
        sink.state(endedState(state, 'finished', { eventsStored: seq }));
        sink.summary({
          ...emptyTotals(),
          sessionId,
          events: seq,
          entriesWalked: {},
          durations: {
            captureMs: 0,
            walkMs: performance.now() - t0,
            totalMs: performance.now() - t0,
          },
        });
      }
    };
    setImmediate(tick);
    return Promise.resolve(state);
  }
  control(sessionId: string): Promise<SessionState> {
    this.running.delete(sessionId);
    return Promise.reject(new Error('replay sessions run to the end'));
  }
  close(): Promise<void> {
    this.running.clear();
    return Promise.resolve();
  }
}

async function replayThroughHost(browser: Browser, records: Uint8Array, total: number) {
  const dir = mkdtempSync(join(tmpdir(), 'pss-bench-web-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>replay</title>');
  const walk = new ReplayWalk(records, total);
  const host = new SessionHost({
    walk,
    transport: 'web',
    library: 'replay',
    version: '0',
    log: () => undefined,
    // BENCH_WINDOW_EVENTS tries other credits (default: the host's).
    ...(process.env['BENCH_WINDOW_EVENTS']
      ? { flow: { windowEvents: Number(process.env['BENCH_WINDOW_EVENTS']) } }
      : {}),
  });
  const server = await startWebServer({ host, rendererDir: dir, port: 0, log: () => undefined });
  const origin = new URL(server.url).origin;
  const page = await browser.newPage();
  try {
    await page.addInitScript({ content: 'globalThis.__name = (f) => f;' });
    await page.goto(server.url);
    await injectPageHelpers(page, origin);
    await page.evaluate(() => {
      const P = (globalThis as unknown as { PssPage: typeof PageHelpers }).PssPage;
      const api = P.getPssApi();
      let o = 0;
      (globalThis as unknown as { __t: unknown }).__t = {
        api,
        probe: P.createProbe(api, () => o),
        setOrigin: (x: number) => (o = x),
      };
    });
    const st = await call<SessionState>(page, 'startSession', {
      pid: 1,
      flags: 0,
      allocator: { strategy: 'heap' },
      classes: ['THREADS'],
      pace: { mode: 'run' },
      onAllocFailure: 'stop',
    });
    await page.evaluate(
      ([id, o]) => {
        const t = (globalThis as unknown as { __t: T }).__t;
        t.probe.follow(id as string);
        t.setOrigin(o as number);
      },
      [st.sessionId, st.clockOriginEpochMs] as const,
    );
    const t0 = Date.now();
    let rep = await probeReport(page);
    while (rep.nextSeq < total) {
      if (Date.now() - t0 > 120_000)
        throw new Error(`replay stalled at ${rep.nextSeq} of ${total}`);
      await new Promise((r) => setTimeout(r, 50));
      rep = await probeReport(page);
    }
    const frames = rep.frameDeltasMs.filter((_d, k) => {
      const at = rep.frameAtMs[k] as number;
      return at >= rep.firstArrivalMs && at <= rep.lastArrivalMs + 16.7;
    });
    const ms = rep.lastArrivalMs - rep.firstArrivalMs;
    console.log(
      `replay: ${total} events, ${rep.events} pushed, ${rep.batches} pushes, ${ms.toFixed(0)} ms`,
    );
    return {
      events: total,
      detail: rep.events,
      delivered: (rep.events / ms) * 1000,
      ms,
      pushes: rep.batches,
      latencies: rep.latenciesMs,
      frames,
    };
  } finally {
    await page.close();
    await server.close();
    await host.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
