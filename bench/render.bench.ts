/**
 * Renderer: frame times and memory of the real UI (out/renderer) in Debian's Chromium.
 *
 *   frames while 1 M events stream into a session (rAF deltas) p50/p95/p99   target p95 ≤ 16 ms
 *   frames while scrolling the 1 M-row event log                              target p95 ≤ 16 ms
 *   frames while scrolling the VA-space table of a large process              target p95 ≤ 16 ms
 *   JS heap used with 1 M events loaded (after a forced GC)                  target < 500 MB
 *
 * Baseline in the same run: rAF deltas of the same page idle (nothing streaming, nothing
 * scrolling): the ratio says what the work adds on top of the display's own frame pacing.
 *
 * Set-up: (1) `node out/main/web.js --port 0` (the real host, walk worker and libpss) and the
 * fixture process with many mappings: capture it through the UI and scroll its VA table.
 * (2) An in-process SessionHost whose walk service replays a synthetic walk of 1 M events
 * (allocations, frees, walk steps, some failures and violations) at a fixed rate, served by the
 * real web server with the real renderer, so the events arrive as pushes exactly as from a walk.
 * Every interaction goes through the UI's data-testids, as a user's clicks would.
 *
 * `node --import tsx bench/render.bench.ts` (build first: `npx electron-vite build`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from '@playwright/test';
import { EventWriter } from '../src-shared/events/batch';
import { ApiCall, EventKind, FailReason, StrategyId } from '../src-shared/events/layout';
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
import { startFixture, LARGE_FIXTURE } from '../src-main/testing/fixture';
import { CHROMIUM_ARGS, chromiumPath } from '../e2e/support/chromium';
import { startWebMode, ROOT } from '../e2e/support/web-mode';
import { figure, percentile, writeResults, type Figure } from './lib/results';

const EVENTS = Number(process.env['BENCH_RENDER_EVENTS'] ?? 1_000_000);
/** Events per second the replayed walk produces. */
const RATE = Number(process.env['BENCH_RENDER_RATE'] ?? 200_000);
const MAPS = Number(process.env['BENCH_RENDER_MAPS'] ?? 30_000);
const SCROLL_MS = 4000;
const IDLE_MS = 3000;
const RENDERER_DIR = join(ROOT, 'out', 'renderer');
/** BENCH_RENDER_PROFILE=1 prints the page's hottest functions while events stream. */
const PROFILE = process.env['BENCH_RENDER_PROFILE'] === '1';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** Self time per function of a CDP CPU profile, top n. */
function topFunctions(
  profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] },
  n: number,
): string[] {
  const byId = new Map(profile.nodes.map((x) => [x.id, x]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node) return;
    const f = node.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop() ?? ''}:${f.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, ms]) => `${ms.toFixed(0).padStart(6)} ms  ${k}`);
}

// ---- the synthetic walk --------------------------------------------------------------------

/**
 * A walk-like event stream: per entry a WalkStep, 1–3 allocations of 16 B–4 KiB in a guard
 * allocator's address range, frees of older blocks, every 5,000th allocation failing and every
 * 20,000th free a guard violation.
 */
class SyntheticWalk {
  private seq = 0;
  private entry = 0;
  private readonly live: number[] = [];
  private next = 0x7f3a_0000_1000;
  private allocs = 0;
  private frees = 0;
  private rnd = 12345;
  private rand(): number {
    this.rnd = (this.rnd * 1103515245 + 12345) >>> 0;
    return this.rnd / 4294967296;
  }
  /** About `count` events (a walk step's events stay together), as one batch. */
  batch(count: number, nowNs: number): ArrayBuffer {
    let out: ArrayBuffer | null = null;
    // Capacity above what one call writes, so the writer never flushes on its own.
    const w = new EventWriter(
      count + 64,
      (b) => (out = b),
      () => nowNs,
      this.seq,
    );
    const cls = 1; // VA_SPACE
    let written = 0;
    const put = (kind: number, addr: number, size: number, aux0 = 0): void => {
      w.write(
        kind,
        ApiCall.PssWalkSnapshot,
        cls,
        StrategyId.guard,
        1,
        1,
        addr % 4294967296,
        Math.floor(addr / 4294967296),
        size,
        aux0,
        0,
      );
      written++;
    };
    while (written < count) {
      put(EventKind.WalkStep, 0, 0, this.entry++);
      const n = 1 + Math.floor(this.rand() * 3);
      for (let k = 0; k < n; k++) {
        const size = 16 << Math.floor(this.rand() * 8);
        this.allocs++;
        if (this.allocs % 5000 === 0) {
          put(EventKind.AllocFailed, 0, size, FailReason.Probability);
          continue;
        }
        const addr = this.next + 32;
        this.next += size + 64;
        if (this.next > 0x7f3a_0000_1000 + 64 * 1024 * 1024) this.next = 0x7f3a_0000_1000;
        put(EventKind.Alloc, addr, size, 32);
        this.live.push(addr, size);
      }
      while (this.live.length > 2 * 400) {
        const addr = this.live.shift() as number;
        const size = this.live.shift() as number;
        this.frees++;
        if (this.frees % 20000 === 0) put(EventKind.ViolationGuard, addr, size, 1);
        else put(EventKind.Free, addr, size, 0);
      }
    }
    this.seq += written;
    w.flush();
    if (out === null) throw new Error('no batch');
    return out;
  }
}

class ReplayWalk implements WalkService {
  private readonly running = new Set<string>();
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
    const state: SessionState = {
      sessionId,
      state: 'running',
      pid: options.pid ?? 0,
      snapshotId: null,
      pace: options.pace,
      classes: [{ cls: 'VA_SPACE', walked: 0, total: null, done: false }],
      current: null,
      bookmarks: [],
      eventsStored: 0,
      error: null,
      targetExited: false,
      clockOriginEpochMs: performance.timeOrigin + t0,
      allocator: options.allocator,
    };
    this.running.add(sessionId);
    const gen = new SyntheticWalk();
    let seq = 0;
    const tick = (): void => {
      if (!this.running.has(sessionId)) return;
      const due = Math.min(EVENTS, ((performance.now() - t0) / 1000) * RATE);
      while (seq < due) {
        const batch = gen.batch(Math.min(4096, EVENTS - seq), (performance.now() - t0) * 1e6);
        sink.events(seq, batch);
        seq += batch.byteLength / 48;
      }
      if (seq < EVENTS) setTimeout(tick, 4);
      else {
        this.running.delete(sessionId);
        sink.state({
          ...state,
          state: 'finished',
          eventsStored: seq,
          classes: [{ cls: 'VA_SPACE', walked: seq, total: seq, done: true }],
        });
        sink.summary({
          sessionId,
          events: seq,
          allocations: 0,
          allocationFailures: 0,
          frees: 0,
          freeNulls: 0,
          bytesAllocated: 0,
          bytesFreed: 0,
          peakLiveBytes: 0,
          outstandingBlocks: 0,
          outstandingBytes: 0,
          violations: {},
          byApi: {},
          byClass: {},
          entriesWalked: {},
          durations: {
            captureMs: 0,
            walkMs: performance.now() - t0,
            totalMs: performance.now() - t0,
          },
          strategy: {},
        } as SessionSummary);
      }
    };
    setTimeout(tick, 50);
    return Promise.resolve(state);
  }
  control(sessionId: string): Promise<SessionState> {
    this.running.delete(sessionId);
    return Promise.reject(new Error('replay: no controls'));
  }
  close(): Promise<void> {
    this.running.clear();
    return Promise.resolve();
  }
}

// ---- page-side measuring ------------------------------------------------------------------

// Page-side code is passed as source text: this file is type-checked without the DOM library.

/**
 * Two numbers per frame: the rAF delta (pacing: a delta above ~1.5 frames is a missed frame)
 * and the frame's main-thread work, from the start of its rAF callback to a task posted from
 * it (which runs after the frame's style, layout and paint, and after the tasks already queued
 * such as React's render of the scroll).
 */
const FRAME_LOOP = (body: string, until: string): string => `(() => {
  const g = globalThis;
  g.__frames = [];
  g.__work = [];
  g.__frameStop = false;
  let last = 0;
  let n = 0;
  const loop = (t) => {
    const start = performance.now();
    if (last) g.__frames.push(t - last);
    last = t;
    n++;
    ${body}
    const ch = new MessageChannel();
    ch.port1.onmessage = () => g.__work.push(performance.now() - start);
    ch.port2.postMessage(0);
    if (!g.__frameStop && !(${until})) requestAnimationFrame(loop);
    else g.__frameStop = true;
  };
  requestAnimationFrame(loop);
})()`;

const START_FRAMES = FRAME_LOOP('', 'false');

/** Scrolls a table continuously (a fast wheel, step px per frame, every 60th frame a scrollbar jump). */
const START_SCROLL = (id: string, ms: number, step: number): string =>
  `globalThis.__el = document.querySelector('[data-testid="${id}"]'); globalThis.__maxRows = 0; globalThis.__t0 = performance.now();` +
  FRAME_LOOP(
    `const el = g.__el;
    if (n % 60 === 0) el.scrollTop = Math.random() * (el.scrollHeight - el.clientHeight);
    else el.scrollTop = (el.scrollTop + ${step}) % Math.max(1, el.scrollHeight - el.clientHeight);
    g.__maxRows = Math.max(g.__maxRows, el.querySelectorAll('.vt-row').length);`,
    `performance.now() - g.__t0 > ${ms}`,
  );

interface Frames {
  deltas: number[];
  work: number[];
  maxRowsInDom: number;
}

const STOP_FRAMES = `new Promise((resolve) => {
  globalThis.__frameStop = true;
  setTimeout(() => resolve({ deltas: globalThis.__frames.slice(1), work: globalThis.__work.slice(1), maxRowsInDom: globalThis.__maxRows ?? 0 }), 100);
})`;

async function startFrames(page: Page): Promise<void> {
  await page.evaluate(START_FRAMES);
}

async function stopFrames(page: Page): Promise<Frames> {
  return (await page.evaluate(STOP_FRAMES)) as Frames;
}

async function scrollFor(
  page: Page,
  testId: string,
  ms: number,
  pxPerFrame: number,
): Promise<Frames> {
  await page.evaluate(START_SCROLL(testId, ms, pxPerFrame));
  await page.waitForTimeout(ms + 300);
  return stopFrames(page);
}

/** JS heap used and the ArrayBuffer backing stores (typed arrays live there), after a GC. */
async function heapUsedMB(page: Page): Promise<{ heap: number; backing: number }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.enable');
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('Performance.enable');
  const m = await cdp.send('Performance.getMetrics');
  const usage = (await cdp.send('Runtime.getHeapUsage')) as {
    usedSize: number;
    backingStorageSize?: number;
  };
  await cdp.detach();
  const used = m.metrics.find((x) => x.name === 'JSHeapUsedSize')?.value ?? usage.usedSize;
  return { heap: used / (1024 * 1024), backing: (usage.backingStorageSize ?? NaN) / (1024 * 1024) };
}

const num = (s: string | null): number => Number((s ?? '').replace(/[^0-9.]/g, ''));

async function connected(page: Page): Promise<void> {
  await page.waitForSelector('[data-testid=connection-status][data-status=connected]', {
    timeout: 20_000,
  });
}

function frameFigures(name: string, f: Frames, idle: Frames, note: string): Figure[] {
  const missed = (d: number[]): number =>
    (d.filter((x) => x > 25).length / Math.max(1, d.length)) * 100;
  return [
    figure(
      `${name}: frame work p50`,
      percentile(f.work, 50),
      'ms',
      percentile(idle.work, 50),
      'baseline: idle page',
    ),
    figure(
      `${name}: frame work p95`,
      percentile(f.work, 95),
      'ms',
      percentile(idle.work, 95),
      note,
    ),
    figure(`${name}: frame work p99`, percentile(f.work, 99), 'ms', percentile(idle.work, 99)),
    figure(
      `${name}: rAF delta p95`,
      percentile(f.deltas, 95),
      'ms',
      percentile(idle.deltas, 95),
      'frame pacing',
    ),
    figure(
      `${name}: missed frames (delta > 25 ms)`,
      missed(f.deltas),
      '%',
      null,
      `${f.deltas.length} frames`,
    ),
  ];
}

// ---- main -----------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!existsSync(join(RENDERER_DIR, 'index.html'))) {
    throw new Error('out/renderer is missing: run "npx electron-vite build" first');
  }
  const browser: Browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: CHROMIUM_ARGS,
    headless: true,
  });
  const figures: Figure[] = [];
  const extra: Record<string, unknown> = { events: EVENTS, rate: RATE };
  try {
    // (2) 1 M events through pushes into the real UI.
    const host = new SessionHost({
      walk: new ReplayWalk(),
      transport: 'web',
      library: 'replay',
      version: '0',
      log: () => undefined,
    });
    const server = await startWebServer({
      host,
      rendererDir: RENDERER_DIR,
      port: 0,
      log: () => undefined,
    });
    let idle: Frames = { deltas: [16.7], work: [0], maxRowsInDom: 0 };
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(server.url);
      console.log('replay host at', server.url);
      await connected(page);
      console.log('connected');
      await page.waitForSelector(`[data-testid=process-row-${process.pid}]`, { timeout: 20_000 });
      // Baseline: the idle page.
      await startFrames(page);
      await page.waitForTimeout(IDLE_MS);
      idle = await stopFrames(page);
      figures.push(figure('idle page: frame work p95 (baseline)', percentile(idle.work, 95), 'ms'));
      figures.push(
        figure('idle page: rAF delta p95 (baseline)', percentile(idle.deltas, 95), 'ms'),
      );
      // Start a walk through the UI: select our own process, paced "run".
      await page.fill('[data-testid=process-search]', String(process.pid));
      await page.click(`[data-testid=process-row-${process.pid}]`);
      await page.click('[data-testid=process-inspect]');
      await page.click('[data-testid=allocator-strategy-guard]');
      await page.click('[data-testid=pace-mode-run]');
      await page.click('[data-testid=start-session-button]');
      await page.waitForSelector('[data-testid=view-walk]');
      await page.click('[data-testid=tab-allocations]');
      const cdp = PROFILE ? await page.context().newCDPSession(page) : null;
      if (cdp) {
        await cdp.send('Profiler.enable');
        await cdp.send('Profiler.start');
      }
      await startFrames(page);
      const t0 = Date.now();
      for (;;) {
        const n = num(await page.textContent('[data-testid=count-events]'));
        if (n >= EVENTS) break;
        if (Date.now() - t0 > 180_000) throw new Error(`stream stalled at ${n} events`);
        await page.waitForTimeout(100);
      }
      // Let the analysis catch up (counts are published every 250 ms).
      await page.waitForTimeout(600);
      const streamFrames = await stopFrames(page);
      if (cdp) {
        const { profile } = (await cdp.send('Profiler.stop')) as unknown as {
          profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
        };
        console.log(topFunctions(profile, 30).join('\n'));
        await cdp.detach();
      }
      const streamMs = Date.now() - t0;
      console.log(
        `streamed ${EVENTS} events in ${streamMs} ms (${streamFrames.deltas.length} frames)`,
      );
      figures.push(
        ...frameFigures('streaming 1M events', streamFrames, idle, 'target p95 ≤ 16 ms'),
      );
      figures.push(
        figure(
          'streaming 1M events: time to all in the UI',
          streamMs,
          'ms',
          (EVENTS / RATE) * 1000,
          "baseline: the replay's own duration",
        ),
      );
      // Scroll the 1 M-row event log.
      await page.click('[data-testid=tab-events]');
      await page.waitForSelector('[data-testid=eventlog-table]');
      const rows = num(await page.getAttribute('[data-testid=eventlog-table]', 'data-rows'));
      const log = await scrollFor(page, 'eventlog-table', SCROLL_MS, 200);
      console.log(`event log: ${rows} rows, at most ${log.maxRowsInDom} in the DOM`);
      extra['eventLogRows'] = rows;
      extra['eventLogMaxRowsInDom'] = log.maxRowsInDom;
      figures.push(...frameFigures('event log scroll (1M rows)', log, idle, 'target p95 ≤ 16 ms'));
      // Memory with 1 M events held.
      const heap = await heapUsedMB(page);
      const storeText = await page.textContent('[data-testid=store-bytes]');
      extra['columnStore'] = storeText;
      figures.push(figure('JS heap used with 1M events', heap.heap, 'MB', null, 'objects only'));
      figures.push(
        figure(
          'JS heap + array buffers with 1M events',
          heap.heap + heap.backing,
          'MB',
          null,
          'target < 500 MB',
        ),
      );
      await page.close();
    } finally {
      await server.close();
      await host.close();
    }

    // (1) The real host: a large process's VA table.
    const fixture = await startFixture({ ...LARGE_FIXTURE, maps: MAPS });
    const web = await startWebMode();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(web.url);
      await connected(page);
      await page.fill('[data-testid=process-search]', String(fixture.pid));
      await page.click(`[data-testid=process-row-${fixture.pid}]`);
      await page.click('[data-testid=process-inspect]');
      await page.click('[data-testid=capture-button]');
      await page.waitForSelector('[data-testid=view-snapshot]');
      await page.click('[data-testid=snap-tab-va]');
      await page.waitForSelector('[data-testid=va-table]', { timeout: 60_000 });
      const rows = num(await page.getAttribute('[data-testid=va-table]', 'data-rows'));
      const va = await scrollFor(page, 'va-table', SCROLL_MS, 200);
      console.log(`VA table: ${rows} rows, at most ${va.maxRowsInDom} in the DOM`);
      extra['vaRows'] = rows;
      extra['vaMaxRowsInDom'] = va.maxRowsInDom;
      figures.push(
        ...frameFigures(`VA table scroll (${rows} rows)`, va, idle, 'target p95 ≤ 16 ms'),
      );
      await page.close();
    } finally {
      await web.stop();
      await fixture.stop();
    }
  } finally {
    await browser.close();
  }
  writeResults('render', figures, extra);
}

await main();
