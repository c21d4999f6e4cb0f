import { describe, expect, it } from 'vitest';
import { EventKind } from '../lib/traceEvents';
import { AllocAnalysis, CHUNK } from './analysis';
import { EventColumns } from './eventColumns';
import { alloc, encode, free } from './testEvents';
import type { TestEvent } from './testEvents';
import { downsample, nearestSeq, panWindow, SNAP_CHUNKS, zoomWindow } from './timeline';

function setup(n: number): { c: EventColumns; a: AllocAnalysis } {
  // Alloc, alloc, free pattern; t = 1000 × seq.
  const evs: TestEvent[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 3 === 2) evs.push(free(BigInt(0x1000 + (i - 1) * 64), 64));
    else if (i === 501) evs.push({ kind: EventKind.AllocFailed, size: 1 });
    else evs.push(alloc(BigInt(0x1000 + i * 64), 64));
  }
  const c = new EventColumns();
  c.append(encode(evs), 0);
  const a = new AllocAnalysis();
  a.advance(c);
  return { c, a };
}

describe('downsample', () => {
  it('matches a brute-force reduction, using chunk summaries inside bins', () => {
    const n = CHUNK * 20 + 17;
    const { c, a } = setup(n);
    const bins = downsample(c, a, 0, n * 1000, 7);
    let allocs = 0;
    let frees = 0;
    for (let b = 0; b < 7; b++) {
      allocs += bins.allocs[b] as number;
      frees += bins.frees[b] as number;
      // brute force for this bin
      const t0 = (b * n * 1000) / 7;
      const t1 = ((b + 1) * n * 1000) / 7;
      let mn = Infinity;
      let mx = -Infinity;
      for (let s = 0; s < n; s++) {
        const t = c.timeNs.get(s);
        if (t >= t0 && t < t1) {
          mn = Math.min(mn, a.liveAfter[s] as number);
          mx = Math.max(mx, a.liveAfter[s] as number);
        }
      }
      expect(bins.minLive[b]).toBe(mn);
      expect(bins.maxLive[b]).toBe(mx);
    }
    expect(allocs).toBe(a.ledger.summary().allocations);
    expect(frees).toBe(a.ledger.summary().frees);
    expect([...bins.fails.subarray(0, 7)].reduce((x, y) => x + y, 0)).toBe(1);
    expect(bins.firstProblem.includes(501)).toBe(true);
  });

  it('ends bins of many chunks on chunk edges: each bin within a chunk of its time range, totals exact', () => {
    const bins = 9;
    const n = CHUNK * SNAP_CHUNKS * bins + 3 * CHUNK + 77;
    const { c, a } = setup(n);
    const b = downsample(c, a, 0, n * 1000, bins);
    // The events of [from, to), clamped: min and max live bytes.
    const range = (from: number, to: number): [number, number] => {
      let mn = Infinity;
      let mx = -Infinity;
      for (let s = Math.max(0, from); s < Math.min(n, to); s++) {
        mn = Math.min(mn, a.liveAfter[s] as number);
        mx = Math.max(mx, a.liveAfter[s] as number);
      }
      return [mn, mx];
    };
    let allocs = 0;
    let frees = 0;
    let snapped = 0;
    for (let i = 0; i < bins; i++) {
      allocs += b.allocs[i] as number;
      frees += b.frees[i] as number;
      // Seqs of the bin's time range (t = 1000 × seq).
      const from = Math.ceil((i * n) / bins);
      const to = Math.ceil(((i + 1) * n) / bins);
      const [innerMin, innerMax] = range(from + CHUNK, to - CHUNK);
      const [outerMin, outerMax] = range(from - CHUNK, to + CHUNK);
      const [exactMin, exactMax] = range(from, to);
      expect(b.minLive[i]).toBeGreaterThanOrEqual(outerMin);
      expect(b.minLive[i]).toBeLessThanOrEqual(innerMin);
      expect(b.maxLive[i]).toBeLessThanOrEqual(outerMax);
      expect(b.maxLive[i]).toBeGreaterThanOrEqual(innerMax);
      if (b.minLive[i] !== exactMin || b.maxLive[i] !== exactMax) snapped++;
    }
    expect(snapped).toBeGreaterThan(0); // the edges did move
    expect(allocs).toBe(a.ledger.summary().allocations);
    expect(frees).toBe(a.ledger.summary().frees);
    expect([...b.fails.subarray(0, bins)].reduce((x, y) => x + y, 0)).toBe(1);
    expect(b.firstProblem.includes(501)).toBe(true);
  });

  it('carries the last level through empty bins', () => {
    const { c, a } = setup(10);
    const bins = downsample(c, a, 0, 100_000, 100);
    expect(bins.minLive[50]).toBe(a.liveAfter[9]);
    expect(bins.allocs[50]).toBe(0);
  });
});

describe('time helpers', () => {
  it('finds the nearest event', () => {
    const { c } = setup(10);
    expect(nearestSeq(c, 10, 2400)).toBe(2);
    expect(nearestSeq(c, 10, 2600)).toBe(3);
    expect(nearestSeq(c, 10, 1e9)).toBe(9);
    expect(nearestSeq(c, 0, 5)).toBe(-1);
  });
  it('zooms around the cursor and pans within bounds', () => {
    const w = zoomWindow({ t0: 0, t1: 1000_000, follow: true }, 500_000, 0.5, 1000_000);
    expect(w).toEqual({ t0: 250_000, t1: 750_000, follow: false });
    expect(panWindow(w, -1e9, 1000_000).t0).toBe(0);
    expect(panWindow(w, 1e9, 1000_000).t1).toBe(1000_000);
    expect(zoomWindow(w, 0, 10, 1000_000).follow).toBe(true);
  });
});
