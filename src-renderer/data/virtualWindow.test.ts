import { describe, expect, it } from 'vitest';
import { computeWindow, isAtBottom, MAX_SCROLL_PX, scrollTopForRow } from './virtualWindow';

describe('computeWindow', () => {
  it('renders only the visible rows plus overscan', () => {
    const w = computeWindow(2000, 400, 20, 10_000, 5);
    expect(w.first).toBe(95);
    expect(w.last).toBe(100 + 21 + 5);
    expect(w.offsetY).toBe(95 * 20);
    expect(w.totalHeight).toBe(200_000);
    expect(w.scaled).toBe(false);
  });
  it('clamps at both ends', () => {
    expect(computeWindow(-50, 400, 20, 10, 5)).toMatchObject({ first: 0, last: 10 });
    const w = computeWindow(1e9, 400, 20, 1000, 0);
    expect(w.last).toBe(1000);
    expect(computeWindow(0, 400, 20, 0)).toMatchObject({ first: 0, last: 0, totalHeight: 0 });
  });
  it('compresses a million rows into the browser limit', () => {
    const rows = 1_000_000;
    const vh = 600;
    const top = computeWindow(0, vh, 22, rows, 0);
    expect(top.scaled).toBe(true);
    expect(top.totalHeight).toBe(MAX_SCROLL_PX);
    expect(top.first).toBe(0);
    const bottom = computeWindow(MAX_SCROLL_PX - vh, vh, 22, rows, 0);
    expect(bottom.last).toBe(rows);
    // The last row is inside the viewport.
    const lastRowY = bottom.offsetY + (rows - 1 - bottom.first) * 22;
    expect(lastRowY).toBeGreaterThanOrEqual(MAX_SCROLL_PX - vh);
    expect(lastRowY + 22).toBeLessThanOrEqual(MAX_SCROLL_PX + 0.001);
    // The middle maps to the middle.
    const mid = computeWindow((MAX_SCROLL_PX - vh) / 2, vh, 22, rows, 0);
    expect(Math.abs(mid.first - rows / 2)).toBeLessThan(30);
    // Rows are placed so the window starts at the viewport top.
    expect(mid.offsetY).toBeLessThanOrEqual((MAX_SCROLL_PX - vh) / 2);
    expect(mid.offsetY).toBeGreaterThan((MAX_SCROLL_PX - vh) / 2 - 22);
  });
  it('scrolls a row into view', () => {
    expect(scrollTopForRow(50, 0, 400, 20, 1000)).toBe(50 * 20 + 20 - 400);
    expect(scrollTopForRow(5, 500, 400, 20, 1000)).toBe(100);
    expect(scrollTopForRow(15, 200, 400, 20, 1000)).toBe(200);
    expect(scrollTopForRow(500, 0, 400, 20, 1000, true)).toBe(500 * 20 - 190);
    const s = scrollTopForRow(500_000, 0, 600, 22, 1_000_000, true);
    const w = computeWindow(s, 600, 22, 1_000_000, 0);
    expect(w.first).toBeLessThanOrEqual(500_000);
    expect(w.last).toBeGreaterThan(500_000);
    expect(isAtBottom(580, 400, 1000, 20)).toBe(true);
    expect(isAtBottom(500, 400, 1000, 20)).toBe(false);
  });
});
