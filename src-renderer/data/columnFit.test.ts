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

  it('gives spare room first to the columns whose content is cut, then to the last', () => {
    const wanting = [
      { width: 80, want: 140 },
      { width: 100 },
      { width: 120, want: 100 },
      { width: 200 },
    ];
    // Room for all that is wanted: each cut column gets its content's width.
    expect(fitColumns(wanting, 700).widths).toEqual([140, 100, 120, 340]);
    // Less room than wanted: the least cut is mended first, the other gets the rest.
    const two = [{ width: 80, want: 180 }, { width: 100, want: 150 }, { width: 200 }];
    expect(fitColumns(two, 500).widths).toEqual([150, 150, 200]);
    // Too little for either: equal shares.
    const f = fitColumns(two, 455);
    expect(f.widths).toEqual([118, 137, 200]);
    expect(f.total).toBe(455);
    // No spare room: the wants change nothing.
    expect(fitColumns(two, 380).widths).toEqual([80, 100, 200]);
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
