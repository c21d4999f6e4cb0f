/**
 * The block map's rebuild (data/blockPainter.ts), which paints the whole live set again: after a
 * time-cursor move (from the state the analysis worker posts), a layout change, and every 2 s
 * while events stream (from the live set now). On a real traced session: the app's walk of the
 * large fixture (30,000 mappings), in passes until it has made ≥ 1 M events (BENCH_BLOCKMAP_EVENTS
 * to change), folded as the page's analysis worker folds it (checkpoints every 16,384 events).
 * At 24 positions spread over the session (golden-ratio steps), the state there is rebuilt as the
 * worker does (stateAt) and posted as the page gets it (snapshot → structured clone → fromState);
 * then, in one run, interleaved, median of 7 each:
 *   rebuild                 BlockPainter from the state's arrays and packed facts (Ledger.liveArrays)
 *   baseline (per block)    the way it painted before 2026-12-07: an iterator of [address, seq]
 *                           over the state's live set (built first, as the page did on first read),
 *                           and per block the size, API and red-zone columns read by seq
 *   now (live set)          the same rebuild from a live set (the position of the most blocks),
 *                           again and again by one painter: the 2 s refresh's case while events
 *                           stream (a copy of the set into the arrays of the copy before)
 * Figures: p50 / p95 over the positions of the rebuild's ms and ns per block, each with the
 * baseline's as its baseline. The cursor budget: a cursor state's rebuild gets CURSOR_REBUILD_MS =
 * 10 ms a frame (charts/BlockMap.tsx).
 */
import { layoutBlockMap, type BlockMapLayout } from '../src-renderer/data/blockLayout';
import { BlockLayers, BlockPainter, type PaintSource } from '../src-renderer/data/blockPainter';
import { AllocAnalysis, ColumnEvents } from '../src-renderer/data/analysis';
import { AnalysisColumns, EventColumns } from '../src-renderer/data/eventColumns';
import { EventKind, FAULTY_BIT, StrategyId } from '../src-renderer/lib/traceEvents';
import { Ledger, apiRow, packedApiRow } from '../src-shared/ledger/ledger';
import { createWalkService } from '../src-main/walk/client';
import { DEFAULT_CAPTURE_FLAGS, PssCaptureFlags } from '../src-shared/pss/constants';
import { startFixture } from '../src-main/testing/fixture';
import { availableParallelism, loadavg } from 'node:os';
import { bigFixture, EVENTS_PER_PASS } from './lib/big-fixture';
import { figure, median, writeResults } from './lib/results';

const EVENTS = Number(process.env['BENCH_BLOCKMAP_EVENTS'] ?? 1_000_000);
const POSITIONS = 24;
const REPS = 7;
/** The block map's colours (live codes start after the fading ones, as in BlockMap.tsx). */
const LIVE = 1 + 7 * 6;

/** Every event batch of one real session of `passes` passes over the fixture. */
async function sessionEvents(pid: number, passes: number): Promise<[ArrayBuffer, number][]> {
  const svc = createWalkService();
  const batches: [ArrayBuffer, number][] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  try {
    await svc.startSession(
      'bench-blockmap',
      {
        pid,
        flags: DEFAULT_CAPTURE_FLAGS & ~PssCaptureFlags.CREATE_MEASURE_PERFORMANCE,
        allocator: { strategy: 'heap' },
        classes: ['THREADS', 'HANDLES', 'VA_SPACE'],
        pace: { mode: 'run' },
        onAllocFailure: 'stop',
        passes,
      },
      {
        events: (firstSeq, batch) => batches.push([batch.slice(0), firstSeq]),
        entries: () => undefined,
        state: () => undefined,
        summary: () => done(),
        lost: () => done(),
      },
    );
    await finished;
  } finally {
    await svc.close();
  }
  return batches;
}

/** The page's PaintSource over its event columns for a state (colour by API). */
function paintSource(c: EventColumns, state: Ledger): PaintSource {
  return {
    live: (reuse) => state.liveArrays(reuse),
    frontier: state.events,
    kind: c.kind,
    address: c.address,
    size: c.size,
    allocKind: EventKind.Alloc,
    freeKind: EventKind.Free,
    liveCode: (seq) => LIVE + apiRow(c.api.get(seq)),
    liveCodeOf: (p) => LIVE + packedApiRow(p),
    redZone: (seq) =>
      (c.strategy.get(seq) & ~FAULTY_BIT) !== StrategyId.guard ? 0 : c.aux0.get(seq),
  };
}

/**
 * The previous rebuild: the live set as [address, seq] pairs from a generator (what
 * Ledger.liveEntries yielded: a posted state's arrays as they are, or the live set's entries), and
 * per block its size, colour and red zone read from the event columns by seq.
 */
function* pairs(state: Ledger): IterableIterator<[number, number]> {
  const { addr, seq, length } = state.liveArrays();
  for (let j = 0; j < length; j++) yield [addr[j] as number, seq[j] as number];
}

function baselineRebuild(l: BlockMapLayout, c: EventColumns, state: Ledger): BlockLayers {
  const layers = new BlockLayers();
  layers.reset(l);
  layers.paintSpans(l);
  const src = paintSource(c, state);
  for (const [addr, seq] of pairs(state)) layers.paintLive(l, src, addr, seq);
  return layers;
}

function rebuild(l: BlockMapLayout, c: EventColumns, state: Ledger): BlockLayers {
  const painter = new BlockPainter();
  return painter.update(l, 'bench', {}, paintSource(c, state), 0, Infinity);
}

function timeMs(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const loadAtStart = loadavg();
  const fixture = await startFixture(bigFixture());
  let batches: [ArrayBuffer, number][];
  try {
    batches = await sessionEvents(fixture.pid, Math.ceil(EVENTS / EVENTS_PER_PASS));
  } finally {
    await fixture.stop();
  }
  // The page's columns and the worker's fold of the same events.
  const page = new EventColumns();
  const worker = new AnalysisColumns();
  for (const [bytes, firstSeq] of batches) {
    page.append(bytes.slice(0), firstSeq);
    worker.append(bytes, firstSeq);
  }
  const analysis = new AllocAnalysis();
  analysis.advance(worker);
  const total = analysis.frontier;
  const l = layoutBlockMap(analysis.spans, 1200, 560, { rowHeight: 10, rowGap: 2, gapPx: 14 });
  const events = new ColumnEvents(worker);

  const ms: number[] = [];
  const base: number[] = [];
  const nsNew: number[] = [];
  const nsBase: number[] = [];
  const blocks: number[] = [];
  let nowAt = 0;
  let nowCount = -1;
  for (let i = 1; i <= POSITIONS; i++) {
    const n = Math.floor(((i * 0.6180339887) % 1) * total);
    const posted = structuredClone(analysis.ledger.stateAt(n, events).snapshot());
    const count = posted.liveAddr.length;
    if (count === 0) continue;
    // Each measurement on a fresh copy of the posted state, as each cursor move gets its own.
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < REPS; r++) {
      const s1 = Ledger.fromState(structuredClone(posted));
      a.push(timeMs(() => rebuild(l, page, s1)));
      const s2 = Ledger.fromState(structuredClone(posted));
      b.push(timeMs(() => baselineRebuild(l, page, s2)));
    }
    // Same picture both ways (blocks and red zones).
    const x = rebuild(l, page, Ledger.fromState(structuredClone(posted)));
    const y = baselineRebuild(l, page, Ledger.fromState(structuredClone(posted)));
    if (x.blocks.codes.some((v, k) => v !== y.blocks.codes[k]))
      throw new Error(`at event ${n}: the rebuild and the baseline painted different pictures`);
    ms.push(median(a));
    base.push(median(b));
    nsNew.push((median(a) / count) * 1e6);
    nsBase.push((median(b) / count) * 1e6);
    blocks.push(count);
    if (count > nowCount) {
      nowCount = count;
      nowAt = n;
    }
  }
  const pct = (xs: number[], p: number): number => {
    const s = [...xs].sort((u, v) => u - v);
    return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
  };
  // "Now": a live set (as the page's ledger has while events stream) of the most blocks seen,
  // rebuilt again and again by one painter (the 2 s refresh: the next rebuild fills the arrays
  // and layers of the one before); the baseline iterates the set's entries (copies of its slots).
  const nowState = analysis.ledger.stateAt(nowAt, events);
  const nowSrc = paintSource(page, nowState);
  const painter = new BlockPainter();
  painter.update(l, 'now-0', nowState, nowSrc, 0, Infinity);
  const nowMs: number[] = [];
  const nowBase: number[] = [];
  for (let r = 1; r <= REPS; r++) {
    nowMs.push(timeMs(() => painter.update(l, `now-${r}`, nowState, nowSrc, 0, Infinity)));
    nowBase.push(
      timeMs(() => {
        const layers = new BlockLayers();
        layers.reset(l);
        layers.paintSpans(l);
        for (const [addr, seq] of nowState.live.entries()) layers.paintLive(l, nowSrc, addr, seq);
      }),
    );
  }
  const figures = [
    figure(
      'cursor state rebuild, p50',
      pct(ms, 50),
      'ms',
      pct(base, 50),
      'baseline: per-block column reads',
    ),
    figure('cursor state rebuild, p95', pct(ms, 95), 'ms', pct(base, 95), 'budget 10 ms a frame'),
    figure('cursor state rebuild per block, p50', pct(nsNew, 50), 'ns', pct(nsBase, 50)),
    figure('cursor state rebuild per block, p95', pct(nsNew, 95), 'ns', pct(nsBase, 95)),
    figure(
      `live set now (${nowState.liveBlockCount} blocks) rebuild, again by the same painter`,
      median(nowMs),
      'ms',
      median(nowBase),
    ),
    figure('live blocks at the positions, p50', pct(blocks, 50), 'blocks', null),
    figure('live blocks at the positions, max', Math.max(...blocks), 'blocks', null),
  ];
  writeResults('blockmap', figures, {
    events: total,
    positions: blocks.length,
    'load at start (1/5/15 min)': loadAtStart,
    cores: availableParallelism(),
    layout: { width: l.width, rows: l.rows, bytesPerPx: l.bytesPerPx },
  });
}

await main();
