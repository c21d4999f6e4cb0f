/**
 * The worker's engine against the fold run directly: the page's AnalysisView, filled only from
 * the engine's frames, holds exactly what AllocAnalysis computes over the same events; stateAt
 * answers equal a fold to that event; a replay's limit holds the analysis back; messages of an
 * older run are ignored.
 */
import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src-shared/ledger/ledger';
import { AllocAnalysis, ColumnEvents } from '../data/analysis';
import { EVENT_CHUNK_BYTES, EventColumns } from '../data/eventColumns';
import { alloc, encode, free } from '../data/testEvents';
import type { TestEvent } from '../data/testEvents';
import { EventKind } from '../lib/traceEvents';
import { AnalysisView } from './client';
import { AnalysisEngine } from './engine';
import { MAX_MEMORY_BYTES, type FromWorker } from './protocol';

/** A trace with allocations, frees, failures and violations, enough for several checkpoints. */
function trace(n: number): TestEvent[] {
  const out: TestEvent[] = [];
  const live: bigint[] = [];
  let x = 12345;
  const rnd = (): number => (x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; out.length < n; i++) {
    const r = rnd();
    if (r < 0.5 || live.length === 0) {
      const a = BigInt(0x10000 + i * 64);
      live.push(a);
      out.push(alloc(a, 16 + Math.floor(rnd() * 4000)));
    } else if (r < 0.95) {
      const k = Math.floor(rnd() * live.length);
      const a = live.splice(k, 1)[0] as bigint;
      out.push(free(a, 0));
    } else if (r < 0.97) out.push({ kind: EventKind.AllocFailed, size: 64 });
    else out.push({ kind: EventKind.ViolationDoubleFree, address: 0x20n, size: 8 });
  }
  return out;
}

/** Runs an engine synchronously: its yields are queued and drained by `drain()`. */
function harness() {
  const out: FromWorker[] = [];
  const tasks: (() => void)[] = [];
  let clock = 0;
  const engine = new AnalysisEngine(
    (m) => out.push(m),
    (fn) => tasks.push(fn),
    () => (clock += 1),
  );
  const drain = (): void => {
    for (let i = 0; i < 100_000 && tasks.length > 0; i++) (tasks.shift() as () => void)();
  };
  return { engine, out, drain };
}

describe('AnalysisEngine', () => {
  it('frames rebuild exactly what the fold computes, and stateAt equals a fold to n', () => {
    const events = trace(60_000);
    const { engine, out, drain } = harness();
    engine.handle({ t: 'open', gen: 1 });
    for (let from = 0; from < events.length; from += 7000) {
      const bytes = encode(events.slice(from, from + 7000), from);
      engine.handle({ t: 'events', firstSeq: from, bytes });
      drain();
    }
    const view = new AnalysisView(1);
    for (const m of out) if (m.t === 'frame') view.apply(m);
    expect(out.filter((m) => m.t === 'frame').length).toBeGreaterThan(1);

    const c = new EventColumns();
    c.append(encode(events, 0), 0);
    const direct = new AllocAnalysis();
    direct.advance(c);
    expect(view.frontier).toBe(events.length);
    expect(view.ledger.summary()).toEqual(direct.ledger.summary());
    expect([...view.ledger.live].sort()).toEqual([...direct.ledger.live].sort());
    for (let i = 0; i < events.length; i++)
      if (view.liveAt(i) !== direct.liveAt(i))
        expect([i, view.liveAt(i)]).toEqual([i, direct.liveAt(i)]);
    const chunks = Math.ceil(events.length / 256);
    expect(view.chMax.subarray(0, chunks)).toEqual(direct.chMax.subarray(0, chunks));
    expect(view.chFrees.subarray(0, chunks)).toEqual(direct.chFrees.subarray(0, chunks));
    expect(view.problems.view()).toEqual(direct.problems.view());
    expect(view.spans.starts).toEqual(direct.spans.starts);
    expect(view.recentFreeCount).toBe(direct.recentFreeCount);

    for (const n of [0, 1, 16_383, 16_384, 40_001, events.length]) {
      out.length = 0;
      engine.handle({ t: 'stateAt', gen: 1, id: n + 1, n });
      drain();
      const answer = out.find((m) => m.t === 'stateAt');
      if (answer?.t !== 'stateAt') throw new Error(`no answer for ${n}`);
      const naive = new Ledger(0);
      naive.fold(new ColumnEvents(c), 0, n);
      const got = Ledger.fromState(answer.state);
      expect(got.events).toBe(n);
      expect(got.summary()).toEqual(naive.summary());
      expect([...got.live].sort()).toEqual([...naive.live].sort());
    }
  });

  it('keeps live bytes exact when they jump by more than an int32 within a chunk', () => {
    const events: TestEvent[] = [
      alloc(0x1000n, 16),
      alloc(0x10_0000_0000n, 0xc000_0000),
      alloc(0x20_0000_0000n, 0xc000_0000),
      free(0x10_0000_0000n, 0),
      ...trace(600).map((e) =>
        e.address !== undefined && e.address < 0x1000_0000n
          ? { ...e, address: e.address + 0x100n }
          : e,
      ),
    ];
    const { engine, out, drain } = harness();
    engine.handle({ t: 'open', gen: 1 });
    engine.handle({ t: 'events', firstSeq: 0, bytes: encode(events, 0) });
    drain();
    const view = new AnalysisView(1);
    for (const m of out) if (m.t === 'frame') view.apply(m);
    const c = new EventColumns();
    c.append(encode(events, 0), 0);
    const direct = new AllocAnalysis();
    direct.advance(c);
    expect(view.liveAt(2)).toBe(16 + 2 * 0xc000_0000);
    for (let i = 0; i < events.length; i++) expect(view.liveAt(i)).toBe(direct.liveAt(i));
  });

  it('holds the analysis at a replay limit and ignores an older run', () => {
    const events = trace(5000);
    const { engine, out, drain } = harness();
    engine.handle({ t: 'open', gen: 1 });
    engine.handle({ t: 'events', firstSeq: 0, bytes: encode(events, 0) });
    drain();
    engine.handle({ t: 'restart', gen: 2 });
    engine.handle({ t: 'limit', gen: 2, limit: 1200 });
    // An older run's query and limit change nothing.
    engine.handle({ t: 'limit', gen: 1, limit: null });
    engine.handle({ t: 'stateAt', gen: 1, id: 9, n: 10 });
    out.length = 0;
    drain();
    const frames = out.filter((m) => m.t === 'frame');
    expect(frames.at(-1)).toMatchObject({ gen: 2, to: 1200 });
    expect(out.some((m) => m.t === 'stateAt')).toBe(false);
    engine.handle({ t: 'limit', gen: 2, limit: null });
    drain();
    expect(out.filter((m) => m.t === 'frame').at(-1)).toMatchObject({ gen: 2, to: 5000 });
  });

  it('hands out zeroed chunk memory of the size asked, within its cap, and nothing for nonsense', () => {
    const posted: { m: FromWorker; transfer: ArrayBuffer[] }[] = [];
    const engine = new AnalysisEngine(
      (m, transfer) => posted.push({ m, transfer }),
      () => undefined,
    );
    engine.handle({ t: 'memory', bytes: EVENT_CHUNK_BYTES, count: 2 });
    const first = posted[0];
    expect(first?.m.t).toBe('memory');
    const buffers = first?.m.t === 'memory' ? first.m.buffers : [];
    expect(buffers.map((b) => b.byteLength)).toEqual([EVENT_CHUNK_BYTES, EVENT_CHUNK_BYTES]);
    expect(first?.transfer).toEqual(buffers);
    expect(new Uint8Array(buffers[0] as ArrayBuffer).every((x) => x === 0)).toBe(true);
    // The page's columns take such a buffer as a chunk: their views are on it.
    const given = buffers[0] as ArrayBuffer;
    const c = new EventColumns(() => given);
    c.append(encode([alloc(0x5000n, 32)]), 0);
    expect(c.kind.chunks[0]?.buffer).toBe(given);
    expect(c.address.get(0)).toBe(0x5000);
    // A buffer of the wrong size is not used.
    const odd = new EventColumns(() => new ArrayBuffer(64));
    odd.append(encode([alloc(0x5000n, 32)]), 0);
    expect(odd.size.get(0)).toBe(32);

    posted.length = 0;
    engine.handle({ t: 'memory', bytes: MAX_MEMORY_BYTES / 4, count: 1000 });
    engine.handle({ t: 'memory', bytes: -1, count: 3 });
    engine.handle({ t: 'memory', bytes: 4096, count: Number.NaN });
    expect(posted.map((p) => (p.m.t === 'memory' ? p.m.buffers.length : -1))).toEqual([4, 0, 0]);
  });
});
