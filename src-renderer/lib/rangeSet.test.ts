import { describe, expect, it } from 'vitest';
import { RangeSet } from './rangeSet';

describe('RangeSet', () => {
  it('merges overlapping and adjacent ranges', () => {
    const r = new RangeSet();
    r.add(10, 20);
    r.add(30, 40);
    r.add(20, 25);
    expect(r.ranges()).toEqual([
      { start: 10, end: 25 },
      { start: 30, end: 40 },
    ]);
    r.add(5, 35);
    expect(r.ranges()).toEqual([{ start: 5, end: 40 }]);
    expect(r.size).toBe(35);
  });
  it('removes pieces, splitting a range', () => {
    const r = new RangeSet();
    r.add(0, 100);
    r.remove(10, 20);
    r.remove(50, 60);
    expect(r.ranges()).toEqual([
      { start: 0, end: 10 },
      { start: 20, end: 50 },
      { start: 60, end: 100 },
    ]);
    expect(r.has(15)).toBe(false);
    expect(r.has(20)).toBe(true);
    expect(r.has(99)).toBe(true);
    expect(r.has(100)).toBe(false);
    r.remove(0, 1000);
    expect(r.isEmpty).toBe(true);
  });
  it('answers intersection queries', () => {
    const r = new RangeSet();
    r.add(10, 20);
    expect(r.intersects(0, 10)).toBe(false);
    expect(r.intersects(0, 11)).toBe(true);
    expect(r.intersects(19, 30)).toBe(true);
    expect(r.intersects(20, 30)).toBe(false);
  });
});
