/**
 * The native tracer's ring as the walk worker reads it: batches in order with contiguous seqs,
 * also when more records are written than the ring holds between two drains (the overflow
 * buffer), and clear errors for what cannot be created.
 */
import { describe, expect, it } from 'vitest';
import { EventBatchView, concatBatches } from '../../src-shared/events/batch';
import { EventKind } from '../../src-shared/events/layout';
import { AtError, NativeTracerError } from './errors';
import { NATIVE_BATCH_EVENTS, NativeTracer, RING_EVENTS } from './native-tracer';

describe('NativeTracer ring', () => {
  it('hands over every record in order, the ring overflowing in between', () => {
    const batches: ArrayBuffer[] = [];
    let next = 0;
    const t = NativeTracer.create({ strategy: 'heap' }, 1e6, (first, batch) => {
      expect(first).toBe(next);
      next += batch.byteLength / 48;
      batches.push(batch);
    });
    const n = RING_EVENTS * 2 + 123; // no drain in between: 8,315+ records wait outside the ring
    for (let i = 0; i < n; i++) t.walkEnd(3, i);
    expect(t.eventCount).toBe(n);
    expect(batches).toHaveLength(0);
    t.flush();
    expect(next).toBe(n);
    expect(batches.every((b) => b.byteLength / 48 <= NATIVE_BATCH_EVENTS)).toBe(true);
    const v = new EventBatchView(concatBatches(batches));
    v.validate(0);
    for (let i = 0; i < n; i += 997) {
      expect(v.kind(i)).toBe(EventKind.WalkEnd);
      expect(v.aux0(i)).toBe(i);
      expect(v.walkClass(i)).toBe(3);
    }
    // The clock continues the session's: created 1 ms into it.
    expect(v.timeNs(0)).toBeGreaterThanOrEqual(1e6);
    t.markerFreed();
    t.flush();
    expect(t.release()).toBe(true);
    const s = t.summary();
    expect(s.events).toBe(n + 1);
    expect(s.released).toBe(true);
    t.destroy();
    t.destroy(); // idempotent
    expect(() => t.walkEnd(3, 0)).toThrow(/after destroy/);
  });

  it('rejects options the library cannot use, naming them', () => {
    const bad = (): NativeTracer =>
      NativeTracer.create({ strategy: 'arena', capacityBytes: 100 }, 0, () => undefined);
    expect(bad).toThrow(NativeTracerError);
    expect(bad).toThrow(/arena capacity 100 out of range/);
    let error: unknown = null;
    try {
      NativeTracer.create({ strategy: 'user', libraryPath: '/nonexistent.so' }, 0, () => undefined);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NativeTracerError);
    expect((error as NativeTracerError).code).toBe(AtError.NOT_READABLE);
    expect((error as Error).message).toMatch(/cannot read \/nonexistent\.so: No such file/);
  });
});
