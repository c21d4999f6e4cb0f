/**
 * The live trace writer (a worker thread of its own): what it writes is a complete v2 trace
 * with checkpoints; once appendEvents returns, every batch before the last is on disk (the
 * kill -9 guarantee); a write that fails (a full disk: /dev/full) is a TraceFileError naming
 * it, never a hang.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventBatchView, EventWriter } from '../../src-shared/events/batch';
import { EVENT_SIZE, EventKind } from '../../src-shared/events/layout';
import { Ledger } from '../../src-shared/ledger/ledger';
import { LiveTraceWriter, liveWriterBehind } from './live-writer';
import { BytesSource, CHUNK_HEADER_BYTES, Tag, TraceFileError, TraceReader } from './trace-file';

const dir = mkdtempSync(join(tmpdir(), 'pss-live-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Blocks allocated and freed in turn, `batchSize` events a batch. */
function batches(total: number, batchSize: number): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  let t = 0;
  const w = new EventWriter(
    batchSize,
    (b) => out.push(b),
    () => (t += 7),
  );
  for (let i = 0; i < total; i++) {
    const addr = 0x10000 + (i >> 1) * 32;
    w.write(
      i % 2 ? EventKind.Free : EventKind.Alloc,
      2,
      i % 4,
      0,
      1,
      9,
      addr,
      0,
      40 + (i % 90),
      0,
      0,
    );
  }
  w.flush();
  return out;
}

describe('LiveTraceWriter', () => {
  it('writes a complete trace, with checkpoints, and never has more than the last batch unwritten', async () => {
    const path = join(dir, 'live.pstrace');
    const bs = batches(50_000, 2000);
    const copies = bs.map((b) => b.slice(0)); // the batches are transferred (detached)
    const w = new LiveTraceWriter(path, { pid: 1 }, { checkpointEvery: 10_000 });
    w.appendEntries('THREADS', 0, [{ kind: 'thread', threadId: 9 }]);
    let seq = 0;
    for (const b of bs) {
      const n = b.byteLength / EVENT_SIZE;
      w.appendEvents(seq, b);
      expect(b.byteLength).toBe(0); // transferred, not copied
      // Everything before this batch is on disk now: a kill -9 here loses this batch at most.
      const onDisk = TraceReader.open(new BytesSource(readFileSync(path)));
      expect(onDisk.eventCount).toBeGreaterThanOrEqual(seq);
      seq += n;
    }
    const done = await w.finish({ events: seq });
    expect(done.eventCount).toBe(50_000);
    expect(done.batches).toBe(bs.length);
    expect(done.storedBatches).toBeGreaterThanOrEqual(0);
    expect(done.storedBatches).toBeLessThanOrEqual(done.batches);
    const bytes = readFileSync(path);
    expect(done.bytesWritten).toBe(bytes.byteLength);
    const r = TraceReader.open(new BytesSource(bytes));
    expect(r.complete).toBe(true);
    expect(r.eventCount).toBe(50_000);
    const all = Buffer.concat(copies.map((b) => new Uint8Array(b)));
    expect(Buffer.from(r.readEvents(0, 50_000)).equals(all)).toBe(true);
    expect(r.entries().get('THREADS')).toEqual([{ kind: 'thread', threadId: 9 }]);
    expect(r.summary()).toEqual({ events: 50_000 });
    expect(r.checkpoints().map((c) => c.seq)).toEqual([10_000, 20_000, 30_000, 40_000, 50_000]);
    const folded = new Ledger();
    folded.fold(new EventBatchView(all.buffer.slice(0, 33_333 * EVENT_SIZE)), 0, 33_333);
    expect(r.stateAt(33_333).summary()).toEqual(folded.summary());
    expect(() => w.appendEvents(seq, new ArrayBuffer(EVENT_SIZE))).toThrow(/already finished/);
  });

  it('abandon leaves an unfinished recording holding every batch', async () => {
    const path = join(dir, 'abandoned.pstrace');
    const w = new LiveTraceWriter(path, { pid: 2 });
    let seq = 0;
    for (const b of batches(3000, 1000)) {
      w.appendEvents(seq, b);
      seq += 1000;
    }
    await w.abandon();
    const r = TraceReader.open(new BytesSource(readFileSync(path)));
    expect(r.complete).toBe(false);
    expect(r.eventCount).toBe(3000);
    expect(r.chunks.filter((c) => c.tag === Tag.EVTS)).toHaveLength(3);
  });

  it('a failing write (a full disk) is a TraceFileError naming it, at the next batch or at finish', async () => {
    if (!existsSync('/dev/full')) return;
    const w = new LiveTraceWriter('/dev/full', { pid: 3 });
    let seq = 0;
    let error: unknown = null;
    try {
      for (const b of batches(20_000, 1000)) {
        w.appendEvents(seq, b);
        seq += 1000;
      }
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TraceFileError);
    expect((error as Error).message).toMatch(/ENOSPC/);
    await expect(w.finish(null)).rejects.toThrow(/ENOSPC/);
  });

  it('two recordings at once share the writer thread, each file whole', async () => {
    const paths = [join(dir, 'one.pstrace'), join(dir, 'two.pstrace')];
    const ws = paths.map((p, i) => new LiveTraceWriter(p, { pid: 10 + i }));
    const bs = [batches(6000, 1000), batches(6000, 1500)];
    const want = bs.map((list) => Buffer.concat(list.map((b) => new Uint8Array(b.slice(0)))));
    const seq = [0, 0];
    for (let k = 0; k < 6; k++)
      for (const i of [0, 1]) {
        const b = bs[i]?.[k];
        if (!b) continue;
        const n = b.byteLength / EVENT_SIZE; // before the batch is transferred
        ws[i]?.appendEvents(seq[i] as number, b);
        seq[i] = (seq[i] as number) + n;
      }
    await Promise.all(ws.map((w) => w.finish(null)));
    paths.forEach((p, i) => {
      const r = TraceReader.open(new BytesSource(readFileSync(p)));
      expect(r.complete).toBe(true);
      expect(r.session).toEqual({ pid: 10 + i });
      expect(Buffer.from(r.readEvents(0, 6000)).equals(want[i] as Buffer)).toBe(true);
    });
  });

  it('is behind exactly when the next message is already handed over', () => {
    // posted counts the message being written; written, the ones before it.
    expect(liveWriterBehind(1, 0)).toBe(false);
    expect(liveWriterBehind(5, 4)).toBe(false);
    expect(liveWriterBehind(2, 0)).toBe(true);
    expect(liveWriterBehind(7, 5)).toBe(true);
  });

  it('a caller that outruns it gets stored batches, and the file is still every event', async () => {
    // Large batches handed over back to back from this thread: the writer thread deflates
    // some and stores the ones it finds another queued behind; either way each is read back.
    const path = join(dir, 'outrun.pstrace');
    const bs = batches(240_000, 8000);
    const want = Buffer.concat(bs.map((b) => new Uint8Array(b.slice(0))));
    const w = new LiveTraceWriter(path, { pid: 4 });
    let seq = 0;
    for (const b of bs) {
      const n = b.byteLength / EVENT_SIZE;
      w.appendEvents(seq, b);
      seq += n;
    }
    const done = await w.finish(null);
    expect(done.batches).toBe(30);
    const file = readFileSync(path);
    const r = TraceReader.open(new BytesSource(file));
    expect(r.complete).toBe(true);
    expect(Buffer.from(r.readEvents(0, 240_000)).equals(want)).toBe(true);
    // A stored chunk holds at least its columns' bytes (u32 at 12: the columns' size) after
    // its 16-byte head; a deflated one far fewer.
    const stored = r.chunks.filter(
      (c) =>
        c.tag === Tag.EVTS &&
        c.payloadBytes - 16 >= file.readUInt32LE(c.offset + CHUNK_HEADER_BYTES + 12),
    );
    expect(stored).toHaveLength(done.storedBatches);
  });

  it('a path that cannot be opened fails at once', () => {
    expect(() => new LiveTraceWriter(join(dir, 'no', 'such', 'dir', 'x.pstrace'), {})).toThrow(
      /ENOENT/,
    );
  });
});
