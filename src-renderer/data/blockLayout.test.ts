import { describe, expect, it } from 'vitest';
import { AddressSpans, addressToPx, blockRects, layoutBlockMap, pxToAddress } from './blockLayout';

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
