import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventWriter } from '../../src-shared/events/batch';
import { EventKind } from '../../src-shared/events/layout';
import type { EventAggregate } from '../../src-shared/contract/model';
import { EventForwarder } from './flow';

/** Batches of `n` alternating alloc/free records, seqs continuing from `first`. */
function batch(first: number, n: number): ArrayBuffer {
  let out: ArrayBuffer | null = null;
  const w = new EventWriter(
    n,
    (b) => (out = b),
    () => 0,
    first,
  );
  for (let i = 0; i < n; i++)
    w.write(i % 2 ? EventKind.Free : EventKind.Alloc, 2, 3, 0, 1, 1, 0x1000, 0, 16, 0, 16);
  return out as unknown as ArrayBuffer;
}

const tick = () => new Promise((r) => setImmediate(r));

let fwd: EventForwarder | null = null;
afterEach(() => {
  fwd?.dispose();
  vi.useRealTimers();
});

describe('EventForwarder', () => {
  it('coalesces the batches of one event-loop turn into one push', async () => {
    const pushes: [number, number][] = [];
    fwd = new EventForwarder('s', {
      events: (f, b) => pushes.push([f, b.byteLength / 48]),
      aggregate: () => undefined,
    });
    fwd.offer(0, batch(0, 10));
    fwd.offer(10, batch(10, 5));
    await tick();
    fwd.offer(15, batch(15, 1));
    await tick();
    expect(pushes).toEqual([
      [0, 15],
      [15, 1],
    ]);
  });

  it('aggregates beyond the window with correct counts, then resumes detail after acks', async () => {
    // The aggregate timer runs on fake time, so a loaded machine cannot fire it between two
    // offers (setImmediate stays real: the detail coalescing is what the ticks drive).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const pushes: string[] = [];
    const aggs: EventAggregate[] = [];
    fwd = new EventForwarder(
      's',
      {
        events: (f, b) => pushes.push(`e${f}+${b.byteLength / 48}`),
        aggregate: (a) => (aggs.push(a), pushes.push(`a${a.fromSeq}-${a.toSeq}`)),
      },
      { windowEvents: 100, minWindowEvents: 100, aggregateIntervalMs: 5 },
    );
    let seq = 0;
    for (let i = 0; i < 5; i++) {
      fwd.offer(seq, batch(seq, 40));
      seq += 40;
      await tick();
    }
    vi.advanceTimersByTime(20);
    // 40 + 40 fit the window of 100; the rest is aggregated.
    expect(pushes).toEqual(['e0+40', 'e40+40', 'a80-200']);
    expect(aggs[0]).toMatchObject({
      allocations: 60,
      frees: 60,
      bytesAllocated: 960,
      bytesFreed: 960,
      liveBytes: 16,
    });
    fwd.ack(79);
    expect(fwd.stats.mode).toBe('detail');
    fwd.offer(seq, batch(seq, 10));
    await tick();
    expect(pushes.at(-1)).toBe('e200+10');
  });

  it('sizes the window to what the connection consumes in the target latency', async () => {
    // The consumer's pace is simulated on a fake clock (performance.now included), so machine
    // load cannot change the rate the forwarder measures.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    fwd = new EventForwarder(
      's',
      { events: () => undefined, aggregate: () => undefined },
      {
        windowEvents: 1_000_000,
        minWindowEvents: 1000,
        initialWindowEvents: 50_000,
        targetLatencyMs: 100,
      },
    );
    expect(fwd.stats.window).toBe(50_000);
    // A consumer that takes ~10 ms per 1000 events: ~100k events/s → a window of ~10k.
    let seq = 0;
    for (let i = 0; i < 12; i++) {
      fwd.offer(seq, batch(seq, 1000));
      seq += 1000;
      await tick();
      vi.advanceTimersByTime(10);
      fwd.ack(seq - 1);
    }
    const { window, ackRate } = fwd.stats;
    expect(ackRate).toBeGreaterThan(10_000);
    expect(ackRate).toBeLessThan(150_000);
    expect(window).toBeCloseTo(ackRate / 10, -1);
  });
});
