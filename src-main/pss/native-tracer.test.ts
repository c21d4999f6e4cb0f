/**
 * The native tracer's ring as the walk worker reads it: batches in order with contiguous seqs,
 * also when more records are written than the ring holds between two drains (the overflow
 * buffer), and clear errors for what cannot be created.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { EventBatchView, concatBatches } from '../../src-shared/events/batch';
import { ApiCall, EventKind, isCallEnding } from '../../src-shared/events/layout';
import {
  DEFAULT_CAPTURE_FLAGS,
  WALKABLE_CLASSES,
  type WalkableClass,
} from '../../src-shared/pss/constants';
import { startFixture } from '../testing/fixture';
import { AtError, NativeTracerError } from './errors';
import {
  NATIVE_BATCH_EVENTS,
  NativeTracer,
  RING_EVENTS,
  WALK_MANY_MAX,
  nativeClockSource,
} from './native-tracer';
import { ProcessHandle, Snapshot, WALK_CLASSES, WalkMarker } from './snapshot';

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

describe('NativeTracer event times', () => {
  it("times every event of a real walk on the caller's clock, and every call's duration", async () => {
    const flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
    const invariantTsc =
      process.arch === 'x64' && /\bconstant_tsc\b/.test(flags) && /\bnonstop_tsc\b/.test(flags);
    expect(nativeClockSource()).toBe(
      invariantTsc && process.env['AT_CLOCK'] !== 'monotonic' ? 'tsc' : 'monotonic',
    );
    const fx = await startFixture({ threads: 8, pipes: 10, files: 10, maps: 100 });
    try {
      const proc = ProcessHandle.open(fx.pid);
      const snap = Snapshot.capture(proc, DEFAULT_CAPTURE_FLAGS);
      proc.close();
      const batches: ArrayBuffer[] = [];
      // The session's clock: ns since t0 on performance.now(), as the walk session's.
      const t0 = performance.now();
      const since = (ms: number): number => (ms - t0) * 1e6;
      const t = NativeTracer.create(
        { strategy: 'heap' },
        Math.round(since(performance.now())),
        (_f, b) => batches.push(b),
        1,
        undefined,
        t0,
      );
      // [before, after] of the call that wrote each event, by seq
      const brackets: Array<[number, number]> = [];
      const bracket = (fn: () => void): void => {
        const before = since(performance.now());
        const from = t.eventCount;
        fn();
        const after = since(performance.now());
        for (let s = from; s < t.eventCount; s++) brackets[s] = [before, after];
      };
      let marker: WalkMarker | null = null;
      bracket(() => {
        t.enter(ApiCall.PssWalkMarkerCreate);
        marker = WalkMarker.create(t);
        t.leave(0);
        t.markerCreated();
      });
      const m = marker as unknown as WalkMarker;
      const classes = WALKABLE_CLASSES.filter((c) => c !== 'AUXILIARY_PAGES') as WalkableClass[];
      for (const cls of classes)
        for (let i = 0, code = 0; code === 0; i++) bracket(() => (code = t.walk(snap, m, cls, i)));
      bracket(() => {
        t.enter(ApiCall.PssWalkMarkerFree);
        m.free();
        t.leave(0);
        t.markerFreed();
      });
      t.release();
      t.flush();
      t.destroy();
      snap.free();
      const v = new EventBatchView(concatBatches(batches));
      v.validate(0);
      expect(v.count).toBe(brackets.length);
      // a few µs: what the conversion of the event clock to CLOCK_MONOTONIC may be off by
      const tol = 5000;
      let steps = 0;
      let allocating = 0;
      for (let i = 0; i < v.count; i++) {
        const time = v.timeNs(i);
        const [before, after] = brackets[i] as [number, number];
        if (i > 0) expect(time, `event ${i}`).toBeGreaterThanOrEqual(v.timeNs(i - 1));
        expect(time, `event ${i} within its call`).toBeGreaterThanOrEqual(before - tol);
        expect(time, `event ${i} within its call`).toBeLessThanOrEqual(after + tol);
        if (!isCallEnding(v.kind(i))) continue;
        // every call's duration is recorded, real (> 0) and no longer than its bracket
        const duration = v.size(i);
        expect(duration, `event ${i}: the call's duration`).toBeGreaterThan(0);
        expect(duration).toBeLessThanOrEqual(after - before + tol);
        // the call began after the previous event, so slices never overlap
        if (i > 0 && v.api(i - 1) !== v.api(i))
          expect(time - duration).toBeGreaterThanOrEqual(v.timeNs(i - 1));
        if (v.kind(i) === EventKind.WalkStep) {
          steps++;
          if (i > 0 && v.kind(i - 1) === EventKind.Free) allocating++;
        }
      }
      expect(steps).toBeGreaterThan(100);
      expect(allocating).toBeGreaterThan(0);
    } finally {
      await fx.stop();
    }
  });
});

describe('NativeTracer.walkMany', () => {
  it('walks many steps per call: the same events and entries as one step per call', async () => {
    const fx = await startFixture({ threads: 6, pipes: 300, files: 10, maps: 700 });
    try {
      const proc = ProcessHandle.open(fx.pid);
      const snap = Snapshot.capture(proc, DEFAULT_CAPTURE_FLAGS);
      proc.close();
      const classes = WALKABLE_CLASSES.filter((c) => c !== 'AUXILIARY_PAGES') as WalkableClass[];
      const session = (many: boolean): { events: EventBatchView; entries: unknown[] } => {
        const batches: ArrayBuffer[] = [];
        const t = NativeTracer.create({ strategy: 'guard', redZoneBytes: 32 }, 0, (_f, b) =>
          batches.push(b),
        );
        t.enter(ApiCall.PssWalkMarkerCreate);
        const m = WalkMarker.create(t);
        t.leave(0);
        t.markerCreated();
        const entries: unknown[] = [];
        for (const cls of classes) {
          if (!many) {
            for (let i = 0; t.walk(snap, m, cls, i) === 0; i++)
              entries.push(snap.decodeCurrent(m, cls));
            continue;
          }
          for (let i = 0; ;) {
            // odd batch sizes, and the largest: batches end anywhere in a class
            const n = t.walkMany(snap, m, cls, i, i % 2 === 0 ? 7 : WALK_MANY_MAX);
            expect(n).toBeGreaterThan(0);
            const ok = t.lastCode === 0 ? n : n - 1;
            for (let k = 0; k < ok; k++)
              entries.push(WALK_CLASSES[cls].decode(t.entryView(cls, k)));
            i += ok;
            if (ok < n) {
              expect(t.lastCode).toBe(259); // ERROR_NO_MORE_ITEMS
              break;
            }
          }
        }
        t.enter(ApiCall.PssWalkMarkerFree);
        m.free();
        t.leave(0);
        t.markerFreed();
        t.release();
        t.flush();
        t.destroy();
        const v = new EventBatchView(concatBatches(batches));
        v.validate(0);
        return { events: v, entries };
      };
      const one = session(false);
      const many = session(true);
      snap.free();
      expect(many.entries.length).toBeGreaterThan(1000);
      expect(many.entries).toEqual(one.entries);
      const shape = (v: EventBatchView): string[] =>
        Array.from({ length: v.count }, (_, i) =>
          [v.kind(i), v.api(i), v.walkClass(i), v.aux0(i), v.aux1(i)].join(' '),
        );
      expect(shape(many.events)).toEqual(shape(one.events));
      for (let i = 0; i < many.events.count; i++)
        if (isCallEnding(many.events.kind(i))) expect(many.events.size(i)).toBeGreaterThan(0);
    } finally {
      await fx.stop();
    }
  });
});
