import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBatchView, EventWriter } from '../../src-shared/events/batch';
import { EVENT_SIZE, EventKind } from '../../src-shared/events/layout';
import { TraceStore } from '../walk/trace-store';
import { EventStream } from './flow';

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

interface Harness {
  store: TraceStore;
  stream: EventStream;
  pushes: [number, number][];
  /** Stores one batch and tells the stream, as the host does. */
  produce(n: number): void;
  congested: boolean;
}

const dirs: string[] = [];
const streams: EventStream[] = [];
const stores: TraceStore[] = [];
afterEach(() => {
  for (const s of streams.splice(0)) s.dispose();
  for (const s of stores.splice(0)) s.dispose();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function harness(windowEvents: number, memoryLimitBytes = 64 * 1024 * 1024): Harness {
  const spillDir = mkdtempSync(join(tmpdir(), 'flow-test-'));
  dirs.push(spillDir);
  const store = new TraceStore(
    { pid: 1, flags: 0, allocator: { strategy: 'heap' }, classes: ['THREADS'], createdAt: '' },
    { memoryLimitBytes, spillDir },
  );
  stores.push(store);
  const h: Harness = {
    store,
    pushes: [],
    congested: false,
    produce(n) {
      const first = store.count;
      store.append(first, batch(first, n));
      h.stream.stored(store.count);
    },
    stream: null as unknown as EventStream,
  };
  h.stream = new EventStream(
    store,
    {
      events: (f, b) => {
        new EventBatchView(b).validate(f);
        h.pushes.push([f, b.byteLength / EVENT_SIZE]);
      },
      congested: () => h.congested,
    },
    { windowEvents, congestionRetryMs: 1 },
  );
  streams.push(h.stream);
  return h;
}

/** Every seq in [0, total) pushed exactly once, in order. */
function coverage(pushes: [number, number][]): number {
  let next = 0;
  for (const [f, n] of pushes) {
    expect(f).toBe(next);
    next += n;
  }
  return next;
}

describe('EventStream', () => {
  it('coalesces the batches of one event-loop turn into one push', async () => {
    const h = harness(1000);
    h.produce(10);
    h.produce(5);
    await tick();
    h.produce(1);
    await tick();
    expect(h.pushes).toEqual([
      [0, 15],
      [15, 1],
    ]);
  });

  it('stops at the credit, sends exactly what each ack frees, and loses nothing', async () => {
    const h = harness(100);
    for (let i = 0; i < 5; i++) {
      h.produce(40);
      await tick();
    }
    // 40 + 40 + 20 fill the window of 100; the walk goes on into the store.
    expect(coverage(h.pushes)).toBe(100);
    expect(h.stream.stats).toMatchObject({ sent: 100, acked: 0, waiting: 100 });
    h.stream.ack(29);
    expect(coverage(h.pushes)).toBe(130);
    // An ack of what was already acked changes nothing.
    h.stream.ack(10);
    expect(coverage(h.pushes)).toBe(130);
    h.stream.ack(129);
    expect(coverage(h.pushes)).toBe(200);
    expect(h.stream.stats).toMatchObject({ sent: 200, acked: 130, waiting: 0 });
    // Caught up: new batches go out at once again.
    h.produce(10);
    await tick();
    expect(h.pushes.at(-1)).toEqual([200, 10]);
  });

  it('reads what spilled to disk when the connection catches up', async () => {
    // A store that keeps 50 events in memory: the rest spill while the connection is behind.
    const h = harness(64, 50 * EVENT_SIZE);
    for (let i = 0; i < 20; i++) h.produce(25);
    await tick();
    expect(h.store.bytesSpilled).toBeGreaterThan(0);
    let acked = 0;
    while (acked < 500) {
      const sent = h.stream.sent;
      expect(sent - acked).toBeLessThanOrEqual(64);
      h.stream.ack(sent - 1);
      acked = sent;
    }
    expect(coverage(h.pushes)).toBe(500);
  });

  it('holds back while the transport is congested and resumes when it drains', async () => {
    const h = harness(1000);
    h.congested = true;
    h.produce(10);
    await tick();
    await new Promise((r) => setTimeout(r, 5));
    expect(h.pushes).toEqual([]);
    h.congested = false;
    // The retry timer looks again (1 ms here).
    for (let i = 0; i < 200 && h.pushes.length === 0; i++)
      await new Promise((r) => setTimeout(r, 2));
    expect(h.pushes).toEqual([[0, 10]]);
  });

  it('streams a whole stored trace from seq 0 (an imported session)', () => {
    const h = harness(300);
    const first = h.store.count;
    h.store.append(first, batch(first, 1000));
    h.stream.stored(h.store.count);
    h.stream.flush();
    expect(coverage(h.pushes)).toBe(300);
    while (h.stream.sent < 1000) h.stream.ack(h.stream.sent - 1);
    expect(coverage(h.pushes)).toBe(1000);
  });

  it('sends nothing after dispose', async () => {
    const h = harness(100);
    h.produce(10);
    h.stream.dispose();
    await tick();
    h.stream.ack(5);
    h.stream.flush();
    expect(h.pushes).toEqual([]);
  });
});
