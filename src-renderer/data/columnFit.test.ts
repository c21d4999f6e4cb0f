import { describe, expect, it } from 'vitest';
import { fitColumns, minWidthOf } from './columnFit';

describe('fitColumns', () => {
  const cols = [
    { width: 80 },
    { width: 100, minWidth: 60 },
    { width: 120, drop: 1 },
    { width: 200, minWidth: 120 },
  ];

  it('gives spare room to the last column', () => {
    const f = fitColumns(cols, 600);
    expect(f.widths).toEqual([80, 100, 120, 300]);
    expect(f.total).toBe(600);
    expect(f.shown).toEqual([0, 1, 2, 3]);
  });

  it('shrinks columns towards their minimums to fit, hiding none', () => {
    const f = fitColumns(cols, 450);
    expect(f.shown).toEqual([0, 1, 2, 3]);
    expect(f.total).toBeLessThanOrEqual(450);
    expect(f.total).toBeGreaterThan(440);
    cols.forEach((c, i) => expect(f.widths[i]).toBeGreaterThanOrEqual(minWidthOf(c)));
  });

  it('hides optional columns when the minimums do not fit, lowest priority first', () => {
    const f = fitColumns(cols, 290);
    expect(f.shown).toEqual([0, 1, 3]);
    expect(f.widths[2]).toBe(0);
    expect(f.total).toBeLessThanOrEqual(290);
  });

  it('keeps the minimums (and lets the table scroll) when nothing more can go', () => {
    const f = fitColumns(cols, 100);
    expect(f.shown).toEqual([0, 1, 3]);
    expect(f.widths).toEqual([48, 60, 0, 120]);
  });

  it('default minimum is 60 % of the width, at least 40 px, never above the width', () => {
    expect(minWidthOf({ width: 100 })).toBe(60);
    expect(minWidthOf({ width: 50 })).toBe(40);
    expect(minWidthOf({ width: 30 })).toBe(30);
  });
});
