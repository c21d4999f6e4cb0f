import { describe, expect, it } from 'vitest';
import { AnalysisColumns, EventColumns, MISSING_KIND } from './eventColumns';
import { CHUNK_ROWS } from '../lib/chunkedColumn';
import { alloc, encode, free } from './testEvents';
import { EventKind } from '../lib/traceEvents';

function many(n: number, first = 0): ArrayBuffer {
  const evs = [];
  for (let i = 0; i < n; i++) evs.push(alloc(BigInt(0x10000 + (first + i) * 16), 16));
  return encode(evs, first);
}

describe('EventColumns', () => {
  it('copies fields and grows by whole chunks, never moving what it holds', () => {
    const c = new EventColumns();
    c.append(encode([alloc(0x7ffd12345670n, 48), free(0x7ffd12345670n, 48)]), 0);
    expect(c.length).toBe(2);
    expect(c.address.get(0)).toBe(0x7ffd12345670);
    expect(c.size.get(1)).toBe(48);
    expect(c.kind.get(1)).toBe(EventKind.Free);
    expect(c.capacity).toBe(CHUNK_ROWS);
    const first = c.address.chunks[0];
    // A batch that crosses a chunk boundary lands in both chunks.
    c.append(many(CHUNK_ROWS + 3000, 2), 2);
    expect(c.length).toBe(CHUNK_ROWS + 3002);
    expect(c.capacity).toBe(2 * CHUNK_ROWS);
    expect(c.address.chunks[0]).toBe(first);
    for (const s of [2, CHUNK_ROWS - 1, CHUNK_ROWS, CHUNK_ROWS + 3001]) {
      expect(c.address.get(s)).toBe(0x10000 + s * 16);
      expect(c.size.get(s)).toBe(16);
      expect(c.kind.get(s)).toBe(EventKind.Alloc);
    }
    expect(c.address.get(0)).toBe(0x7ffd12345670);
    expect(c.received).toBe(CHUNK_ROWS + 3002);
    expect(c.byteSize).toBe(2 * CHUNK_ROWS * 40);
  });

  it("the worker's lean columns hold the same fields across chunk boundaries", () => {
    const c = new AnalysisColumns();
    c.append(many(CHUNK_ROWS - 1), 0);
    c.append(many(5, CHUNK_ROWS - 1), CHUNK_ROWS - 1);
    expect(c.length).toBe(CHUNK_ROWS + 4);
    for (const s of [0, CHUNK_ROWS - 1, CHUNK_ROWS, CHUNK_ROWS + 3]) {
      expect(c.address.get(s)).toBe(0x10000 + s * 16);
      expect(c.size.get(s)).toBe(16);
    }
    expect(c.byteSize).toBe(2 * CHUNK_ROWS * 20);
  });

  it('tracks a gap when a batch starts past the end, and fills it', () => {
    const c = new EventColumns();
    c.append(many(10), 0);
    c.append(many(10, 30), 30);
    expect(c.length).toBe(40);
    expect(c.missing.ranges()).toEqual([{ start: 10, end: 30 }]);
    expect(c.kind.get(15)).toBe(MISSING_KIND);
    // Missing rows get monotonic placeholder times.
    for (let s = 1; s < 40; s++)
      expect(c.timeNs.get(s)).toBeGreaterThanOrEqual(c.timeNs.get(s - 1));
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
