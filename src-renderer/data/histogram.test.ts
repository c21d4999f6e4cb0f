import { describe, expect, it } from 'vitest';
import { bucketLabel, bucketOf, bucketLow, SizeHistogram } from './histogram';

describe('log2 histogram', () => {
  it('puts sizes into power-of-two buckets', () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(1)).toBe(1);
    expect(bucketOf(2)).toBe(2);
    expect(bucketOf(3)).toBe(2);
    expect(bucketOf(4)).toBe(3);
    expect(bucketOf(4095)).toBe(12);
    expect(bucketOf(4096)).toBe(13);
    expect(bucketOf(0xffffffff)).toBe(32);
    for (let b = 1; b < 33; b++) expect(bucketOf(bucketLow(b))).toBe(b);
  });
  it('labels buckets', () => {
    expect(bucketLabel(0)).toBe('0');
    expect(bucketLabel(3)).toBe('4–8');
    expect(bucketLabel(11)).toBe('1K–2K');
  });
  it('counts and sums', () => {
    const h = new SizeHistogram();
    h.add(16);
    h.add(24);
    h.add(100);
    expect(h.counts[5]).toBe(2);
    expect(h.bytes[5]).toBe(40);
    expect(h.range()).toEqual([5, 7]);
  });
});
