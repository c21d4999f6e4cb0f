import { describe, expect, it } from 'vitest';
import { EventColumns, MISSING_KIND } from './eventColumns';
import { alloc, encode, free } from './testEvents';
import { EventKind } from '../lib/traceEvents';

function many(n: number, first = 0): ArrayBuffer {
  const evs = [];
  for (let i = 0; i < n; i++) evs.push(alloc(BigInt(0x10000 + (first + i) * 16), 16));
  return encode(evs, first);
}

describe('EventColumns', () => {
  it('copies fields and grows by doubling', () => {
    const c = new EventColumns();
    c.append(encode([alloc(0x7ffd12345670n, 48), free(0x7ffd12345670n, 48)]), 0);
    expect(c.length).toBe(2);
    expect(c.address[0]).toBe(0x7ffd12345670);
    expect(c.size[1]).toBe(48);
    expect(c.kind[1]).toBe(EventKind.Free);
    expect(c.capacity).toBe(1024);
    c.append(many(3000, 2), 2);
    expect(c.length).toBe(3002);
    expect(c.capacity).toBe(4096);
    expect(c.address[3001]).toBe(0x10000 + 3001 * 16);
    expect(c.received).toBe(3002);
  });

  it('tracks a gap when a batch starts past the end, and fills it', () => {
    const c = new EventColumns();
    c.append(many(10), 0);
    c.append(many(10, 30), 30);
    expect(c.length).toBe(40);
    expect(c.missing.ranges()).toEqual([{ start: 10, end: 30 }]);
    expect(c.kind[15]).toBe(MISSING_KIND);
    // Missing rows get monotonic placeholder times.
    for (let s = 1; s < 40; s++)
      expect(c.timeNs[s]).toBeGreaterThanOrEqual(c.timeNs[s - 1] as number);
    c.append(many(5, 12), 12);
    expect(c.missing.ranges()).toEqual([
      { start: 10, end: 12 },
      { start: 17, end: 30 },
    ]);
    c.append(many(20, 10), 10);
    expect(c.missing.isEmpty).toBe(true);
    expect(c.received).toBe(40);
  });

  it('records aggregate ranges as missing and ignores duplicates', () => {
    const c = new EventColumns();
    c.append(many(5), 0);
    c.noteMissing(5, 105, 5000, 105000);
    expect(c.length).toBe(105);
    expect(c.missing.size).toBe(100);
    expect(c.append(many(5), 0)).toBe(0);
    expect(c.received).toBe(5);
    expect(c.lowerBoundTime(50_000)).toBeGreaterThan(40);
  });
});
