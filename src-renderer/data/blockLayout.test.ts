import { describe, expect, it } from 'vitest';
import {
  AddressSpans,
  BlockRaster,
  addressToPx,
  blockRects,
  layoutBlockMap,
  pxToAddress,
} from './blockLayout';

describe('AddressSpans', () => {
  it('merges ranges closer than the slack and keeps far ones apart', () => {
    const s = new AddressSpans(4096);
    expect(s.add(0x10000, 0x10100)).toBe(true);
    expect(s.add(0x10200, 0x10300)).toBe(true);
    expect(s.count).toBe(1);
    expect(s.add(0x10000, 0x10010)).toBe(false);
    s.add(0x7f0000000000, 0x7f0000001000);
    expect(s.count).toBe(2);
    expect(s.find(0x10250)).toBe(0);
    expect(s.find(0x7f0000000800)).toBe(1);
    expect(s.find(0x20000)).toBe(-1);
    // Bridging range merges both.
    s.add(0x10300, 0x7f0000000000);
    expect(s.count).toBe(1);
    expect(s.min).toBe(0x10000);
    expect(s.max).toBe(0x7f0000001000);
  });
});

describe('layoutBlockMap', () => {
  it('fits far-apart spans with a power-of-two scale', () => {
    const s = new AddressSpans(0);
    s.add(0x1000, 0x1000 + 64 * 1024);
    s.add(0x7f0000000000, 0x7f0000000000 + 1024 * 1024);
    const l = layoutBlockMap(s, 400, 300, { rowHeight: 10, rowGap: 2, gapPx: 10 });
    expect(Number.isInteger(Math.log2(l.bytesPerPx))).toBe(true);
    expect(l.rows * l.rowHeight).toBeLessThanOrEqual(300);
    // Half the scale would not fit.
    const half = l.bytesPerPx / 2;
    const needHalf = Math.ceil((64 * 1024) / half) + Math.ceil((1024 * 1024) / half) + 10;
    expect(needHalf).toBeGreaterThan(30 * 400);
    expect(addressToPx(l, 0x1000)).toBe(0);
    expect(addressToPx(l, 0x7f0000000000)).toBe(l.spanPx[1]);
    expect(addressToPx(l, 0x500000)).toBe(-1);
  });

  it('wraps a block over rows and maps pixels back to addresses', () => {
    const s = new AddressSpans(0);
    s.add(0, 1000);
    const l = layoutBlockMap(s, 100, 1000, { rowHeight: 10, rowGap: 2 });
    expect(l.bytesPerPx).toBe(1);
    const out: number[] = [];
    expect(blockRects(l, 150, 100, out)).toBe(2);
    expect(out).toEqual([50, 10, 50, 8, 0, 20, 50, 8]);
    expect(pxToAddress(l, 50, 12)).toBe(150);
    expect(pxToAddress(l, 50, 19)).toBe(-1); // in the gap between rows
    // Tiny blocks still take one pixel.
    const o2: number[] = [];
    blockRects(l, 10, 0, o2);
    expect(o2[2]).toBe(1);
  });
});

describe('BlockRaster', () => {
  it('draws the same pixels as blockRects, as merged runs, whatever the block count', () => {
    const s = new AddressSpans(0);
    s.add(0, 1000);
    const l = layoutBlockMap(s, 100, 1000, { rowHeight: 10, rowGap: 2 });
    const r = new BlockRaster();
    r.reset(l);
    r.paint(l, 150, 100, 3); // wraps from row 1 to row 2
    const runs: number[][] = [];
    r.forEachRun((row, x0, x1, code) => runs.push([row, x0, x1, code]));
    expect(runs).toEqual([
      [1, 50, 100, 3],
      [2, 0, 50, 3],
    ]);
    // 10,000 one-byte blocks side by side with one code collapse into one run per row.
    const s2 = new AddressSpans(0);
    s2.add(0, 10_000);
    const l2 = layoutBlockMap(s2, 100, 1000, { rowHeight: 10, rowGap: 2 });
    r.reset(l2);
    for (let a = 0; a < 10_000; a++) r.paint(l2, a, 1, 7);
    let n = 0;
    let covered = 0;
    r.forEachRun((_row, x0, x1, code) => {
      n++;
      covered += x1 - x0;
      expect(code).toBe(7);
    });
    expect(n).toBe(l2.rows);
    expect(covered).toBe(Math.ceil(10_000 / l2.bytesPerPx));
    // A later paint overwrites (live over fading); reset clears.
    r.paint(l2, 0, 1, 9);
    const first: number[] = [];
    r.forEachRun((_row, x0, _x1, code) => {
      if (x0 === 0 && first.length === 0) first.push(code);
    });
    expect(first).toEqual([9]);
    r.reset(l2);
    let any = false;
    r.forEachRun(() => (any = true));
    expect(any).toBe(false);
  });
  it('ensure() keeps painted pixels when the last range grows into more rows', () => {
    const s1 = new AddressSpans(0);
    s1.add(0, 1000);
    const l1 = layoutBlockMap(s1, 100, 1000, { rowHeight: 10, rowGap: 2 });
    const r = new BlockRaster();
    r.reset(l1);
    r.paint(l1, 950, 10, 5);
    s1.add(1000, 1500);
    const l2 = layoutBlockMap(s1, 100, 1000, { rowHeight: 10, rowGap: 2 });
    expect(l2.bytesPerPx).toBe(l1.bytesPerPx);
    expect(l2.rows).toBeGreaterThan(l1.rows);
    r.ensure(l2);
    r.paint(l2, 1400, 10, 6);
    const runs: number[][] = [];
    r.forEachRun((row, x0, x1, code) => runs.push([row, x0, x1, code]));
    expect(runs).toEqual([
      [9, 50, 60, 5],
      [14, 0, 10, 6],
    ]);
  });
});
