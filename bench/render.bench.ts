/**
 * Renderer: frame times and memory of the real UI (out/renderer) in Debian's Chromium.
 *
 *   frames while 1 M events stream into a session (rAF deltas) p50/p95/p99   target p95 ≤ 16 ms
 *   frames while scrolling the 1 M-row event log                              target p95 ≤ 16 ms
 *   frames while scrolling the VA-space table of a large process              target p95 ≤ 16 ms
 *   JS heap used with 1 M events loaded (after a forced GC)                  target < 500 MB
 *   time cursor moved to an event until its state is drawn p50/p95/max       target p95 ≤ 50 ms
 *   with 10 M events loaded (BENCH_RENDER_LOADED_EVENTS; 0 skips): event log scroll, timeline
 *   zoom and time-cursor moves, frame work p95 ≤ 16 ms; page memory (the page's renderer
 *   process, its analysis worker included: PSS) < 1 GB
 *
 * Frame work is the main (UI) thread's: the events are folded in the page's analysis worker.
 * The machine's load average is recorded with every phase (extra.load).
 *
 * Baseline in the same run: rAF deltas of the same page idle (nothing streaming, nothing
 * scrolling): the ratio says what the work adds on top of the display's own frame pacing.
 *
 * Set-up: web mode (`node out/main/web.js`: the real host, walk worker and libpss) and one large
 * fixture process (≈19,000 fds, 30,000 mappings). Through the UI, a real traced session walks
 * it PASSES times (PssWalkMarkerSeekToBeginning between passes) until it has produced ≥ 1 M
 * events, which arrive as pushes exactly as any walk's do; then the event log is scrolled, and
 * the same process is captured and its VA table scrolled. Every interaction goes through the
 * UI's data-testids, as a user's clicks would.
 *
 * `node --import tsx bench/render.bench.ts` (build first: `npx electron-vite build`).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from '@playwright/test';
import { startFixture } from '../src-main/testing/fixture';
import { CHROMIUM_ARGS, chromiumPath } from '../e2e/support/chromium';
import { startWebMode, ROOT } from '../e2e/support/web-mode';
import { bigFixture, EVENTS_PER_PASS } from './lib/big-fixture';
import { figure, percentile, writeResults, type Figure } from './lib/results';

const EVENTS = Number(process.env['BENCH_RENDER_EVENTS'] ?? 1_000_000);
const MAPS = Number(process.env['BENCH_RENDER_MAPS'] ?? 30_000);
const BIG_FIXTURE = bigFixture(MAPS);
/** Passes of the walk: enough for EVENTS. */
const PASSES = Number(process.env['BENCH_RENDER_PASSES'] ?? Math.ceil(EVENTS / EVENTS_PER_PASS));
/**
 * Paces of the streaming runs: entries per second (≈2.3 events an entry here), then 'run'.
 * 50,000 entries/s is ≈115,000 events/s: a walk one can still follow by eye.
 */
const STREAM_PACES: (number | 'run')[] = (process.env['BENCH_RENDER_PACES'] ?? '50000,run')
  .split(',')
  .map((x) => (x === 'run' ? 'run' : Number(x)));
/** Events of the "loaded" session (a second real session, streamed at full speed). */
const LOADED_EVENTS = Number(process.env['BENCH_RENDER_LOADED_EVENTS'] ?? 10_000_000);
const SCROLL_MS = 4000;
const IDLE_MS = 3000;
const RENDERER_DIR = join(ROOT, 'out', 'renderer');
/** BENCH_RENDER_PROFILE=1 prints the page's hottest functions while events stream. */
const PROFILE = process.env['BENCH_RENDER_PROFILE'] === '1';
/**
 * BENCH_RENDER_LOAF=1 prints the long animation frames (> 16 ms) of the streaming: when, how long,
 * the share of style and layout, and the scripts that ran in them (the Long Animation Frames API:
 * no tracing overhead, unlike BENCH_RENDER_TRACE).
 */
const LOAF = process.env['BENCH_RENDER_LOAF'] === '1';
/** BENCH_RENDER_TRACE=FILE writes a Chrome trace of the streaming (open it in chrome://tracing or Perfetto). */
const TRACE = process.env['BENCH_RENDER_TRACE'] ?? '';

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

/** Records long animation frames (see LOAF). */
const START_LOAF = `(() => {
  const g = globalThis;
  g.__loaf = [];
  g.__loafT0 = performance.now();
  g.__loafObs = new PerformanceObserver((l) => g.__loaf.push(...l.getEntries()));
  g.__loafObs.observe({ type: 'long-animation-frame' });
})()`;

/** One line per long animation frame recorded since START_LOAF. */
const STOP_LOAF = `(() => {
  const g = globalThis;
  g.__loafObs.disconnect();
  const f = (x) => x.toFixed(1);
  return g.__loaf.map((e) => {
    const layout = e.styleAndLayoutStart ? e.startTime + e.duration - e.styleAndLayoutStart : 0;
    const render = e.renderStart ? e.startTime + e.duration - e.renderStart : 0;
    const scripts = e.scripts.map((s) => s.invoker + ' ' + (s.sourceFunctionName || '') + ' ' + f(s.duration) + (s.forcedStyleAndLayoutDuration ? ' (forced layout ' + f(s.forcedStyleAndLayoutDuration) + ')' : '')).join('; ');
    return 'at ' + f(e.startTime - g.__loafT0) + ' ms: ' + f(e.duration) + ' ms, render ' + f(render) + ', style+layout ' + f(layout) + ' | ' + scripts;
  });
})()`;

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

/**
 * Moves the time cursor to `n` spread-out events (golden-ratio steps over the trace) and, for
 * each, the ms until the block map has drawn that event's state completely (its data-events
 * and data-complete say which ledger state is on screen). The moment is taken when the draw sets
 * them (a MutationObserver, called right after the frame's draw): a poll from a
 * requestAnimationFrame callback of its own ran before the draw in the same frame and so saw it
 * a frame late, adding up to 16.7 ms to every figure.
 */
const CURSOR_MOVES = (n: number): string => `(async () => {
  const input = document.querySelector('[data-testid="time-cursor"]');
  const map = document.querySelector('[data-testid="block-map"]');
  const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
  const max = Number(input.max);
  const out = [];
  const shownAt = [];
  for (let i = 1; i <= ${n}; i++) {
    const v = Math.floor(((i * 0.6180339887) % 1) * max);
    let shown = 0;
    let t0 = 0;
    const done = new Promise((resolve) => {
      const look = () => {
        if (map.dataset.events !== String(v)) return false;
        if (!shown) shown = performance.now() - t0;
        return map.dataset.complete === 'true';
      };
      const mo = new MutationObserver(() => {
        if (look()) {
          mo.disconnect();
          resolve(performance.now() - t0);
        }
      });
      mo.observe(map, { attributes: true, attributeFilter: ['data-events', 'data-complete'] });
    });
    t0 = performance.now();
    setValue.call(input, String(v));
    input.dispatchEvent(new Event('input', { bubbles: true }));
    out.push(await done);
    shownAt.push(shown);
    // the next move a frame later, as a user's would be
    await new Promise((r) => requestAnimationFrame(() => r()));
  }
  document.querySelector('[data-testid="time-cursor-now"]').click();
  return { done: out, state: shownAt };
})()`;

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

/** Chromium processes now (pid → command line). */
function chromiumProcesses(): Map<number, string> {
  const out = new Map<number, string>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (/chrom/i.test(cmd)) out.set(Number(e), cmd);
    } catch {
      // gone
    }
  }
  return out;
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

/**
 * Proportional set size (MB) of the biggest renderer process of the browser(s) started by this
 * bench: the page's, with its analysis worker (a dedicated worker runs in its page's process).
 */
function pageProcessMB(browserPids: readonly number[]): number {
  let best = 0;
  for (const [pid, cmd] of chromiumProcesses()) {
    if (!cmd.includes('--type=renderer')) continue;
    let p = pid;
    for (let i = 0; i < 10 && p > 1 && !browserPids.includes(p); i++) p = parentOf(p);
    if (!browserPids.includes(p)) continue;
    try {
      const m = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      if (m) best = Math.max(best, Number(m[1]) / 1024);
    } catch {
      // gone
    }
  }
  return best;
}

/** Zooms the timeline in and out with the wheel, one wheel event per frame, for `ms`. */
const START_ZOOM = (ms: number): string =>
  `globalThis.__el = document.querySelector('[data-testid="timeline-canvas"]').parentElement; globalThis.__t0 = performance.now();` +
  FRAME_LOOP(
    `const r = g.__el.getBoundingClientRect();
    const dy = (Math.floor(n / 40) % 2 ? 1 : -1) * 60;
    g.__el.dispatchEvent(new WheelEvent('wheel', { deltaY: dy, clientX: r.left + r.width * (0.3 + 0.4 * Math.random()), clientY: r.top + r.height / 2, bubbles: true, cancelable: true }));`,
    `performance.now() - g.__t0 > ${ms}`,
  );

function load(): string {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}

async function connected(page: Page): Promise<void> {
  await page.waitForSelector('[data-testid=connection-status][data-status=connected]', {
    timeout: 20_000,
  });
}

/** Missed frames (%): rAF deltas above 25 ms, 1.5 frames at 60 Hz. */
function missedPct(deltas: readonly number[]): number {
  return (deltas.filter((x) => x > 25).length / Math.max(1, deltas.length)) * 100;
}

function frameFigures(name: string, f: Frames, idle: Frames, note: string): Figure[] {
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
      missedPct(f.deltas),
      '%',
      null,
      `${f.deltas.length} frames`,
    ),
  ];
}

/** Starts a real traced walk of the fixture through the UI (guard allocator) and shows Allocations. */
async function startWalk(
  page: Page,
  pid: number,
  pace: number | 'run',
  passes: number,
): Promise<void> {
  await page.click('[data-testid=tab-processes]');
  await page.fill('[data-testid=process-search]', String(pid));
  await page.click(`[data-testid=process-row-${pid}]`);
  await page.click('[data-testid=process-inspect]');
  await page.click('[data-testid=allocator-strategy-guard]');
  if (pace === 'run') await page.click('[data-testid=pace-mode-run]');
  else {
    await page.click('[data-testid=pace-mode-paced]');
    await page.fill('[data-testid=pace-rate]', String(pace));
  }
  await page.fill('[data-testid=walk-passes]', String(passes));
  await page.click('[data-testid=start-session-button]');
  await page.waitForSelector('[data-testid=view-walk]');
  await page.click('[data-testid=tab-allocations]');
}

/**
 * With a session of `events` events loaded: time-cursor moves (until drawn, and the frames
 * meanwhile), timeline zoom, event log scroll, and the page's memory.
 */
async function measureLoaded(
  page: Page,
  label: string,
  events: number,
  idle: Frames,
  figures: Figure[],
  extra: Record<string, unknown>,
  browserPids: readonly number[],
): Promise<void> {
  extra[`load before the ${label} measurements`] = load();
  await page.click('[data-testid=tab-allocations]');
  await page.waitForSelector('[data-testid=time-cursor]');
  await startFrames(page);
  const { done: moves, state: stateMs } = (await page.evaluate(CURSOR_MOVES(40))) as {
    done: number[];
    state: number[];
  };
  const cursorFrames = await stopFrames(page);
  figures.push(
    figure(
      `time cursor (${label} events): move until the state is there (worker answered), p50`,
      percentile(stateMs, 50),
      'ms',
      null,
      'the block map then repaints from that state',
    ),
    figure(
      `time cursor (${label} events): move to an event until its state is drawn, p50`,
      percentile(moves, 50),
      'ms',
      null,
      `${moves.length} moves over ${events} events; until the frame that draws it has drawn it (its pixels are presented at that frame's vsync), taken by a MutationObserver on the block map's data-events/data-complete`,
    ),
    figure(
      `time cursor (${label} events): move to an event until its state is drawn, p95`,
      percentile(moves, 95),
      'ms',
      null,
      'target ≤ 50 ms',
    ),
    figure(
      `time cursor (${label} events): move to an event until its state is drawn, max`,
      Math.max(...moves),
      'ms',
      null,
    ),
  );
  figures.push(
    ...frameFigures(
      `time cursor moves (${label} events)`,
      cursorFrames,
      idle,
      'target p95 ≤ 16 ms',
    ),
  );
  // Zoom the timeline in and out with the wheel.
  await page.evaluate(START_ZOOM(SCROLL_MS));
  await page.waitForTimeout(SCROLL_MS + 300);
  const zoom = await stopFrames(page);
  figures.push(
    ...frameFigures(`timeline zoom (${label} events)`, zoom, idle, 'target p95 ≤ 16 ms'),
  );
  // Scroll the event log.
  await page.click('[data-testid=tab-events]');
  await page.waitForSelector('[data-testid=eventlog-table]');
  const rows = num(await page.getAttribute('[data-testid=eventlog-table]', 'data-rows'));
  const log = await scrollFor(page, 'eventlog-table', SCROLL_MS, 200);
  console.log(`event log: ${rows} rows, at most ${log.maxRowsInDom} in the DOM`);
  extra[`eventLogRows (${label})`] = rows;
  extra[`eventLogMaxRowsInDom (${label})`] = log.maxRowsInDom;
  figures.push(
    ...frameFigures(`event log scroll (${label} rows)`, log, idle, 'target p95 ≤ 16 ms'),
  );
  // Memory with the session held, after a full GC of the page and of its analysis worker.
  for (const w of page.workers())
    await w.evaluate('globalThis.gc && (globalThis.gc(), globalThis.gc())');
  const heap = await heapUsedMB(page);
  extra[`columnStore (${label})`] = await page.textContent('[data-testid=store-bytes]');
  figures.push(
    figure(`JS heap used, UI thread (${label} events)`, heap.heap, 'MB', null, 'objects only'),
  );
  figures.push(
    figure(
      `JS heap + array buffers, UI thread (${label} events)`,
      heap.heap + heap.backing,
      'MB',
      null,
      'the analysis worker is not included',
    ),
  );
  figures.push(
    figure(
      `page memory: renderer process PSS (${label} events)`,
      pageProcessMB(browserPids),
      'MB',
      null,
      'the page and its analysis worker; target < 1 GB',
    ),
  );
  extra[`load after the ${label} measurements`] = load();
}

// ---- main -----------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!existsSync(join(RENDERER_DIR, 'index.html'))) {
    throw new Error('out/renderer is missing: run "npx electron-vite build" first');
  }
  const before = new Set(chromiumProcesses().keys());
  const browser: Browser = await chromium.launch({
    executablePath: chromiumPath(),
    // --expose-gc: the page's analysis worker is collected before its memory is read (the
    // page's own heap is collected through the DevTools protocol).
    args: [...CHROMIUM_ARGS, '--js-flags=--expose-gc'],
    headless: true,
  });
  // The browser's own processes: the renderers of this bench descend from them.
  const browserPids = [...chromiumProcesses().entries()]
    .filter(([pid, cmd]) => !before.has(pid) && !cmd.includes('--type='))
    .map(([pid]) => pid);
  const figures: Figure[] = [];
  const extra: Record<string, unknown> = {
    events: EVENTS,
    fixture: BIG_FIXTURE,
    'load at start (1/5/15 min)': load(),
  };
  try {
    const fixture = await startFixture(BIG_FIXTURE);
    const web = await startWebMode();
    let idle: Frames = { deltas: [16.7], work: [0], maxRowsInDom: 0 };
    try {
      console.log(
        `fixture pid ${fixture.pid}: ${fixture.truth.fds.length} fds, ${fixture.truth.maps.length} mappings`,
      );
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning')
          console.log(`page ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
      await page.goto(web.url);
      await connected(page);
      // The list is virtual: on a busy machine the fixture's row may be out of view unless searched.
      await page.fill('[data-testid=process-search]', String(fixture.pid));
      await page.waitForSelector(`[data-testid=process-row-${fixture.pid}]`, { timeout: 20_000 });
      // Baseline: the idle page.
      await startFrames(page);
      await page.waitForTimeout(IDLE_MS);
      idle = await stopFrames(page);
      figures.push(figure('idle page: frame work p95 (baseline)', percentile(idle.work, 95), 'ms'));
      figures.push(
        figure('idle page: rAF delta p95 (baseline)', percentile(idle.deltas, 95), 'ms'),
      );
      // Real traced walks of the fixture, PASSES times each, started through the UI: first at a
      // watching pace (entries per second), then at full speed (the host's credit stream sends
      // at the pace the page's analysis worker takes them).
      for (const pace of STREAM_PACES) {
        await startWalk(page, fixture.pid, pace, PASSES);
        extra[`load at the start of streaming (${pace})`] = load();
        const cdp = PROFILE ? await page.context().newCDPSession(page) : null;
        if (cdp) {
          await cdp.send('Profiler.enable');
          await cdp.send('Profiler.start');
        }
        if (TRACE)
          await browser.startTracing(page, {
            path: TRACE,
            // BENCH_RENDER_TRACE_CATEGORIES=a,b: fewer categories, less overhead (the v8 CPU
            // profiler's sampling inflates every task).
            categories: process.env['BENCH_RENDER_TRACE_CATEGORIES']?.split(',') ?? [
              'devtools.timeline',
              'disabled-by-default-devtools.timeline',
              'toplevel',
              'v8',
              'blink',
              'disabled-by-default-v8.cpu_profiler',
            ],
          });
        if (LOAF) await page.evaluate(START_LOAF);
        await startFrames(page);
        const t0 = Date.now();
        let received = 0;
        for (;;) {
          received = num(await page.textContent('[data-testid=count-events]'));
          const state = await page.textContent('[data-testid=session-state]');
          if (received >= EVENTS || /(finished|failed)$/.test(state ?? '')) break;
          if (Date.now() - t0 > 300_000) throw new Error(`stream stalled at ${received} events`);
          if (Math.floor((Date.now() - t0) / 100) % 50 === 0)
            console.log(`${Date.now() - t0} ms: ${received} events received, ${state}`);
          await page.waitForTimeout(100);
        }
        const streamMs = Date.now() - t0;
        // Let the analysis catch up (counts are published every 250 ms).
        await page.waitForTimeout(600);
        received = num(await page.textContent('[data-testid=count-events]'));
        const streamFrames = await stopFrames(page);
        if (LOAF) console.log(((await page.evaluate(STOP_LOAF)) as string[]).join('\n'));
        if (TRACE) await browser.stopTracing();
        if (cdp) {
          const { profile } = (await cdp.send('Profiler.stop')) as unknown as {
            profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
          };
          console.log(topFunctions(profile, 30).join('\n'));
          await cdp.detach();
        }
        if (received < EVENTS)
          throw new Error(
            `the session ended with ${received} events, fewer than ${EVENTS}: raise BENCH_RENDER_PASSES`,
          );
        const label =
          pace === 'run'
            ? 'streaming 1M events at full speed'
            : `streaming 1M events paced (${pace} entries/s)`;
        extra[`events received, ${label}`] = received;
        console.log(
          `${label}: ${received} events of a real ${PASSES}-pass session in ${streamMs} ms (${streamFrames.deltas.length} frames; frame work p95 ${percentile(streamFrames.work, 95).toFixed(1)} ms, ${missedPct(streamFrames.deltas).toFixed(1)} % missed)`,
        );
        figures.push(...frameFigures(label, streamFrames, idle, 'target p95 ≤ 16 ms'));
        figures.push(
          figure(
            `${label}: events per second into the UI`,
            (received / streamMs) * 1000,
            'events/s',
            null,
          ),
        );
      }
      extra['passes'] = PASSES;
      // BENCH_RENDER_STREAM_ONLY=1: the streaming runs alone (their figures are printed above;
      // nothing is written), e.g. to compare two builds quickly.
      if (process.env['BENCH_RENDER_STREAM_ONLY'] === '1') return;
      await measureLoaded(page, '1M', EVENTS, idle, figures, extra, browserPids);
      // A session of LOADED_EVENTS events (a real walk of PASSES_LOADED passes at full speed),
      // then the same scroll, zoom and cursor moves with all of it loaded.
      if (LOADED_EVENTS > 0) {
        const passes = Math.ceil(LOADED_EVENTS / EVENTS_PER_PASS);
        await startWalk(page, fixture.pid, 'run', passes);
        const t0 = Date.now();
        for (;;) {
          const state = await page.textContent('[data-testid=session-state]');
          if (/(finished|failed|cancelled)$/.test(state ?? '')) break;
          if (Date.now() - t0 > 900_000) throw new Error('the loaded session did not finish');
          await page.waitForTimeout(500);
        }
        const received = num(await page.textContent('[data-testid=count-events]'));
        extra['loadedEvents'] = received;
        extra['loadedPasses'] = passes;
        extra['loadedStreamMs'] = Date.now() - t0;
        console.log(`loaded: ${received} events in ${Date.now() - t0} ms (load ${load()})`);
        const label = `${(received / 1e6).toFixed(1)}M`;
        await measureLoaded(page, label, received, idle, figures, extra, browserPids);
      }
      // The same process captured: scroll its VA table.
      await page.click('[data-testid=tab-processes]');
      await page.fill('[data-testid=process-search]', String(fixture.pid));
      await page.click(`[data-testid=process-row-${fixture.pid}]`);
      await page.click('[data-testid=process-inspect]');
      await page.click('[data-testid=capture-button]');
      await page.waitForSelector('[data-testid=view-snapshot]');
      await page.click('[data-testid=snap-tab-va]');
      await page.waitForSelector('[data-testid=va-table]', { timeout: 60_000 });
      // Scroll the loaded table: its rows arrive in pages of 10,000 (CONTRACT_LIMITS); a page
      // landing while the table scrolls is the loading's cost, not the scrolling's.
      const tLoad = Date.now();
      let vaRows = -1;
      for (;;) {
        const rows = num(await page.getAttribute('[data-testid=va-table]', 'data-rows'));
        if (rows === vaRows || Date.now() - tLoad > 120_000) break;
        vaRows = rows;
        await page.waitForTimeout(1000);
      }
      extra['vaLoadMs'] = Date.now() - tLoad;
      const va = await scrollFor(page, 'va-table', SCROLL_MS, 200);
      console.log(`VA table: ${vaRows} rows, at most ${va.maxRowsInDom} in the DOM`);
      extra['vaRows'] = vaRows;
      extra['vaMaxRowsInDom'] = va.maxRowsInDom;
      figures.push(
        ...frameFigures(`VA table scroll (${vaRows} rows)`, va, idle, 'target p95 ≤ 16 ms'),
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
