import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENT_SIZE, EventKind, NO_CLASS } from '../../src-shared/events/layout';
import { EventBatchView, EventWriter } from '../../src-shared/events/batch';
import { Ledger } from '../../src-shared/ledger/ledger';
import { mulberry32 } from '../alloc/faulty';
import {
  BytesSource,
  CHUNK_HEADER_BYTES,
  FileSink,
  FileSource,
  HEADER_BYTES,
  MemorySink,
  READ_AHEAD_BYTES,
  ReadAheadSource,
  Tag,
  TraceFileError,
  TraceReader,
  TraceWriter,
  storedDeflate,
} from './trace-file';

const dir = mkdtempSync(join(tmpdir(), 'pss-trace-v2-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A deterministic PRNG (the project's mulberry32), so failures reproduce. */
const rng = mulberry32;

/** Realistic-looking event batches: allocs and frees with growing time and live bytes. */
function makeBatches(
  total: number,
  batchSize: number,
  seed = 1,
  integralTime = true,
): ArrayBuffer[] {
  const r = rng(seed);
  const out: ArrayBuffer[] = [];
  let t = 1000;
  const w = new EventWriter(
    batchSize,
    (b) => out.push(b),
    () => {
      t += integralTime ? Math.floor(r() * 900) + 1 : r() * 900.123;
      return t;
    },
  );
  let live = 0;
  for (let i = 0; i < total; i++) {
    const alloc = r() < 0.55;
    const size = 8 + Math.floor(r() * 4000);
    live += alloc ? size : -Math.min(live, size);
    const addr = 0x55550000 + Math.floor(r() * 0x100000) * 16;
    w.write(
      alloc ? EventKind.Alloc : EventKind.Free,
      r() < 0.9 ? 2 : 1,
      r() < 0.8 ? Math.floor(r() * 4) : NO_CLASS,
      0,
      1,
      4242,
      addr >>> 0,
      0x7f12,
      size,
      Math.floor(r() * 64),
      live >>> 0,
    );
  }
  w.flush();
  return out;
}

function record(
  session: Record<string, unknown>,
  batches: ArrayBuffer[],
  finish = true,
  checkpointEvery = 1000,
): Uint8Array<ArrayBuffer> {
  const sink = new MemorySink();
  const w = new TraceWriter(sink, session, { checkpointEvery });
  let seq = 0;
  w.appendEntries('THREADS', 0, [{ kind: 'thread', threadId: 1 }]);
  for (const b of batches) {
    w.appendEvents(seq, b);
    seq += b.byteLength / EVENT_SIZE;
  }
  w.appendEntries('HANDLES', 0, [{ kind: 'handle', handle: 3 }]);
  if (finish) w.finish({ events: seq });
  else w.abandon();
  return sink.bytes();
}

const concat = (bs: ArrayBuffer[]): Uint8Array => {
  const out = new Uint8Array(bs.reduce((n, b) => n + b.byteLength, 0));
  let at = 0;
  for (const b of bs) {
    out.set(new Uint8Array(b), at);
    at += b.byteLength;
  }
  return out;
};

/**
 * Events like a walk's: blocks allocated and soon freed (a small live set, so checkpoints come
 * every `checkpointEvery` events), with failures, frees of NULL and API errors among them.
 */
function walkLikeBatches(
  total: number,
  batchSize: number,
  seed: number,
  maxLive = 40,
): ArrayBuffer[] {
  const r = rng(seed);
  const out: ArrayBuffer[] = [];
  let t = 0;
  const w = new EventWriter(
    batchSize,
    (b) => out.push(b),
    () => (t += 1 + Math.floor(r() * 50)),
  );
  const live: number[] = [];
  let next = 0x5555_0000;
  for (let i = 0; i < total; i++) {
    const x = r();
    const api = 1 + Math.floor(r() * 5);
    const cls = r() < 0.9 ? Math.floor(r() * 4) : NO_CLASS;
    // At most 40 blocks live (by default): checkpoints then come every `checkpointEvery`
    // events exactly.
    if ((x < 0.45 && live.length < maxLive) || live.length === 0) {
      const addr = (next += 64);
      live.push(addr);
      w.write(
        EventKind.Alloc,
        api,
        cls,
        0,
        1,
        7,
        addr >>> 0,
        0x7f12,
        16 + Math.floor(r() * 900),
        0,
        0,
      );
    } else if (x < 0.9) {
      const addr = live.splice(Math.floor(r() * live.length), 1)[0] as number;
      w.write(EventKind.Free, api, cls, 0, 1, 7, addr >>> 0, 0x7f12, 0, 0, 0);
    } else if (x < 0.95) w.write(EventKind.FreeNull, api, cls, 0, 1, 7, 0, 0, 0, 0, 0);
    else if (x < 0.98) w.write(EventKind.AllocFailed, api, cls, 0, 1, 7, 0, 0, 5000, 1, 0);
    else w.write(EventKind.ApiError, api, cls, 0, 1, 7, 0, 0, 0, 0, 87);
  }
  w.flush();
  return out;
}

/** The ledger after the first `n` events of `all` (48-byte records), folded one by one. */
function foldPrefix(all: Uint8Array, n: number): Ledger {
  const l = new Ledger();
  const copy = all.slice(0, n * EVENT_SIZE);
  l.fold(new EventBatchView(copy.buffer), 0, n);
  return l;
}

/** Byte equality (vitest's deep equality is far too slow for megabytes of records). */
const same = (a: ArrayBuffer | Uint8Array, b: ArrayBuffer | Uint8Array): boolean =>
  Buffer.from(a instanceof Uint8Array ? a : new Uint8Array(a)).equals(
    Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)),
  );

/** Offsets of every chunk in a well-formed file. */
function chunkOffsets(bytes: Uint8Array): number[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let at = HEADER_BYTES; at < bytes.byteLength;) {
    out.push(at);
    at += CHUNK_HEADER_BYTES + dv.getUint32(at + 4, true);
  }
  return out;
}

/**
 * The file with the checkpoint chunk at `offset` given a new payload, its checksum recomputed: a
 * well-formed chunk whose content lies. The index and trailer are left off (the file then reads
 * as an unfinished recording, every chunk scanned).
 */
function reChunk(
  file: Uint8Array,
  offset: number,
  payloadBytes: number,
  make: (payload: Uint8Array) => Uint8Array,
): Uint8Array {
  const from = offset + CHUNK_HEADER_BYTES;
  const payload = make(file.slice(from, from + payloadBytes));
  const head = new Uint8Array(CHUNK_HEADER_BYTES);
  const hv = new DataView(head.buffer);
  hv.setUint32(0, Tag.CKPT, true);
  hv.setUint32(4, payload.byteLength, true);
  hv.setUint32(8, crc32(payload), true);
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const indexAt = dv.getFloat64(file.byteLength - 16, true);
  return new Uint8Array(
    Buffer.concat([
      file.subarray(0, offset),
      head,
      payload,
      file.subarray(from + payloadBytes, indexAt),
    ]),
  );
}

describe('trace file v2', () => {
  it('round-trips events byte for byte, with entries, checkpoints and summary', () => {
    const batches = walkLikeBatches(10_000, 500, 1);
    const file = record({ pid: 7, processName: 'x' }, batches);
    const r = TraceReader.open(new BytesSource(file));
    expect(r.damage).toBeNull();
    expect(r.complete).toBe(true);
    expect(r.eventCount).toBe(10_000);
    expect(r.session).toEqual({ pid: 7, processName: 'x' });
    expect(same(r.readEvents(0, 10_000), concat(batches))).toBe(true);
    // Any range, crossing chunk boundaries.
    expect(
      same(r.readEvents(499, 502), concat(batches).subarray(499 * EVENT_SIZE, 1001 * EVENT_SIZE)),
    ).toBe(true);
    expect(r.readEvents(9_990, 100).byteLength).toBe(10 * EVENT_SIZE);
    expect(r.entries().get('HANDLES')).toEqual([{ kind: 'handle', handle: 3 }]);
    const cks = r.checkpoints();
    expect(cks.map((c) => c.seq)).toEqual([
      1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000,
    ]);
    for (const c of cks) {
      const l = c.load();
      expect(l.events).toBe(c.seq);
      expect(l.summary()).toEqual(foldPrefix(concat(batches), c.seq).summary());
      expect(l.liveBlocks()).toEqual(foldPrefix(concat(batches), c.seq).liveBlocks());
    }
    expect(r.ignoredCheckpoints).toEqual([]);
    expect(r.summary()).toEqual({ events: 10_000 });
  });

  it('forEachBatch with reuse decodes every batch into one buffer, the same records as without', () => {
    // batches of different sizes, largest in the middle: the buffer grows once, then is reused
    const sizes = [300, 700, 1200, 250, 1200, 90];
    const total = sizes.reduce((a, b) => a + b, 0);
    const all = walkLikeBatches(total, total, 10)[0] as ArrayBuffer;
    let at = 0;
    const batches = sizes.map((n) => all.slice(at * EVENT_SIZE, (at += n) * EVENT_SIZE));
    const r = TraceReader.open(new BytesSource(record({}, batches)));
    const kept: ArrayBuffer[] = [];
    r.forEachBatch((_f, rec, count) => {
      expect(rec.byteLength).toBe(count * EVENT_SIZE); // by default, exactly its records
      kept.push(rec);
    });
    const copies: ArrayBuffer[] = [];
    const buffers = new Set<ArrayBuffer>();
    let next = 0;
    r.forEachBatch(
      (first, rec, count) => {
        expect(first).toBe(next);
        next += count;
        expect(rec.byteLength).toBeGreaterThanOrEqual(count * EVENT_SIZE);
        expect(new EventBatchView(rec, count).count).toBe(count);
        buffers.add(rec);
        copies.push(rec.slice(0, count * EVENT_SIZE));
      },
      { reuse: true },
    );
    expect(copies.map((b) => b.byteLength / EVENT_SIZE)).toEqual(sizes);
    expect(same(concat(copies), concat(kept))).toBe(true);
    expect(same(concat(copies), concat(batches))).toBe(true);
    expect(buffers.size).toBe(3); // 300, grown to 700, grown to 1200; then reused
  });

  it('storedDeflate is a raw deflate stream zlib inflates to the same bytes, at any size', () => {
    const r = rng(12);
    for (const size of [0, 1, 65_534, 65_535, 65_536, 131_070, 131_071, 200_000]) {
      const data = new Uint8Array(size).map(() => Math.floor(r() * 256));
      const out = storedDeflate(data, 16);
      expect([...out.subarray(0, 16)]).toEqual(new Array(16).fill(0));
      expect(Buffer.from(inflateRawSync(out.subarray(16))).equals(Buffer.from(data))).toBe(true);
      // 5 bytes of block header per 65,535 bytes (an empty input is one empty block).
      expect(out.byteLength - 16).toBe(size + 5 * Math.max(1, Math.ceil(size / 65_535)));
    }
  });

  it('batches stored without deflate (level 0, the live writer when behind) read back the same, mixed with deflated ones', () => {
    const batches = walkLikeBatches(8_000, 500, 4);
    const sink = new MemorySink();
    const w = new TraceWriter(sink, {}, { checkpointEvery: 2000 });
    let seq = 0;
    batches.forEach((b, i) => {
      w.appendEvents(seq, b.slice(0), i % 3 === 0 ? 0 : undefined);
      seq += b.byteLength / EVENT_SIZE;
    });
    w.finish(null);
    const r = TraceReader.open(new BytesSource(sink.bytes()));
    expect(r.damage).toBeNull();
    expect(same(r.readEvents(0, 8_000), concat(batches))).toBe(true);
    expect(r.stateAt(5_555).summary()).toEqual(foldPrefix(concat(batches), 5_555).summary());
    // The stored chunks are the larger ones: columns as they are, not deflated.
    const sizes = r.chunks.filter((c) => c.tag === Tag.EVTS).map((c) => c.payloadBytes);
    const stored = sizes.filter((_, i) => i % 3 === 0);
    const deflated = sizes.filter((_, i) => i % 3 !== 0);
    expect(Math.min(...stored)).toBeGreaterThan(1.5 * Math.max(...deflated));
    // A checkpoint a stored batch triggers is stored too (none of deflate's CPU when behind), a
    // deflated batch's is deflated; each loads to the state at its event.
    const bytes = sink.bytes();
    const modes = r.chunks
      .filter((c) => c.tag === Tag.CKPT)
      .map((c) => ((bytes[c.offset + CHUNK_HEADER_BYTES + 8] as number) & 6) === 0);
    expect(modes).toContain(true);
    expect(modes).toContain(false);
    for (const c of r.checkpoints())
      expect(c.load().summary()).toEqual(foldPrefix(concat(batches), c.seq).summary());
  });

  it('keeps non-integer timestamps exactly', () => {
    const batches = makeBatches(2_000, 700, 3, false);
    const r = TraceReader.open(new BytesSource(record({}, batches)));
    expect(same(r.readEvents(0, 2_000), concat(batches))).toBe(true);
  });

  it('checkpoints wait for 16 events per live block, so their share of the file stays bounded', () => {
    // Up to 1,000 blocks live: 16,000 events between checkpoints once it is reached.
    const batches = walkLikeBatches(60_000, 500, 2, 1000);
    const r = TraceReader.open(new BytesSource(record({}, batches)));
    const cks = r.checkpoints();
    expect(cks.length).toBeGreaterThan(2);
    expect(cks.length).toBeLessThan(20);
    let prev = 0;
    for (const c of cks) {
      const l = c.load();
      expect(c.seq - prev).toBeGreaterThanOrEqual(Math.max(1000, 16 * l.liveBlockCount));
      // ≥ 16 events per live block, ≤ 24 bytes per block before compression: < 1.5 B/event.
      const chunk = r.chunks.find((x) => x.offset === c.offset);
      expect((chunk?.payloadBytes ?? Infinity) / (c.seq - prev)).toBeLessThan(1.5);
      expect(l.summary()).toEqual(foldPrefix(concat(batches), c.seq).summary());
      prev = c.seq;
    }
  });

  it('is compact: realistic events take far less than their 48 raw bytes', () => {
    const batches = makeBatches(50_000, 4096, 5);
    const file = record({}, batches);
    // Random addresses, sizes and gaps are nearly incompressible; real traces do far better
    // (bench/trace-format.bench.ts measures them against the 12-byte target).
    expect(file.byteLength / 50_000).toBeLessThan(16);
  });

  it('streams to disk: a recording that never finished opens with every written batch', () => {
    const path = join(dir, 'unfinished.pstrace');
    const w = new TraceWriter(new FileSink(path), { pid: 1 });
    const batches = makeBatches(3_000, 1000, 9);
    w.appendEvents(0, batches[0] as ArrayBuffer);
    w.appendEvents(1000, batches[1] as ArrayBuffer);
    // Not finished, not even closed: what a kill -9 leaves behind.
    const r = TraceReader.open(new FileSource(path));
    expect(r.complete).toBe(false);
    expect(r.damage?.message).toMatch(/did not finish/);
    expect(r.eventCount).toBe(2000);
    expect(same(r.readEvents(0, 2000), concat(batches.slice(0, 2)))).toBe(true);
    r.close();
    w.abandon();
  });

  it('truncation at every chunk boundary and inside every chunk recovers every whole batch before it', () => {
    const batches = walkLikeBatches(4_000, 400, 11);
    const file = record({ pid: 2 }, batches);
    const all = concat(batches);
    const offsets = chunkOffsets(file);
    expect(TraceReader.open(new BytesSource(file)).checkpoints().length).toBeGreaterThan(2);
    const cuts = new Set<number>();
    for (const o of offsets) [o, o + 5, o + CHUNK_HEADER_BYTES + 3].forEach((c) => cuts.add(c));
    for (const cut of [...cuts].filter((c) => c > HEADER_BYTES && c < file.byteLength)) {
      const part = file.slice(0, cut);
      let r: TraceReader;
      try {
        r = TraceReader.open(new BytesSource(part));
      } catch (e) {
        // Only a cut inside the session description leaves nothing to recover.
        expect(e).toBeInstanceOf(TraceFileError);
        expect(cut).toBeLessThanOrEqual((offsets[1] as number) + 0);
        continue;
      }
      expect(r.damage, `cut at ${cut}`).not.toBeNull();
      expect(r.damage?.offset).toBeLessThanOrEqual(cut);
      // Every EVTS chunk wholly before the cut is recovered, and nothing else.
      const whole = offsets.filter((o, i) => {
        const end = offsets[i + 1] ?? file.byteLength;
        return end <= cut && new DataView(file.buffer).getUint32(o, true) === Tag.EVTS;
      }).length;
      expect(r.eventCount, `cut at ${cut}`).toBe(whole * 400);
      expect(same(r.readEvents(0, r.eventCount), all.subarray(0, r.eventCount * EVENT_SIZE))).toBe(
        true,
      );
      expect(r.stateAt(r.eventCount).summary()).toEqual(foldPrefix(all, r.eventCount).summary());
    }
  });

  it('bit flips anywhere give a clear error or a recovered prefix, never a crash or hang', () => {
    const batches = walkLikeBatches(3_000, 300, 13);
    const file = record({ pid: 3 }, batches);
    const all = concat(batches);
    expect(TraceReader.open(new BytesSource(file)).checkpoints().length).toBeGreaterThan(1);
    const r0 = rng(99);
    let errors = 0;
    let recovered = 0;
    for (let trial = 0; trial < 400; trial++) {
      const bad = file.slice();
      // Every region gets hit: the first trials walk the header, META, the index and trailer.
      const at =
        trial < 64
          ? trial
          : trial < 128
            ? file.byteLength - 1 - (trial - 64)
            : Math.floor(r0() * file.byteLength);
      bad[at] = (bad[at] as number) ^ (1 << Math.floor(r0() * 8));
      try {
        const r = TraceReader.open(new BytesSource(bad));
        const n = r.eventCount;
        // Whatever is returned is exactly the original prefix: corruption is never passed on.
        expect(same(r.readEvents(0, n), all.subarray(0, n * EVENT_SIZE)), `flip at ${at}`).toBe(
          true,
        );
        r.entries();
        r.summary();
        for (const c of r.checkpoints()) c.load();
        // The state anywhere is the fold of the recovered events, checkpoints or not.
        for (const p of [n, Math.floor(n / 2), Math.floor(r0() * (n + 1))])
          expect(r.stateAt(p).summary(), `flip at ${at}, state at ${p}`).toEqual(
            foldPrefix(all, p).summary(),
          );
        if (r.damage) recovered++;
      } catch (e) {
        expect(e, `flip at ${at}`).toBeInstanceOf(TraceFileError);
        expect((e as Error).message).toMatch(/trace|chunk|byte/);
        errors++;
      }
    }
    expect(errors + recovered).toBeGreaterThan(300);
  });

  it('any mutation of a whole file (fast-check: flips, overwrites, cuts, splices, garbage) gives a clear error or an exact prefix', () => {
    const batches = walkLikeBatches(2_000, 250, 17);
    const file = record({ pid: 4 }, batches);
    const all = concat(batches);
    expect(TraceReader.open(new BytesSource(file)).checkpoints().length).toBeGreaterThan(0);
    const at = fc.nat({ max: file.byteLength - 1 });
    const mutation = fc.oneof(
      fc.record({ k: fc.constant('flip' as const), at, bit: fc.nat({ max: 7 }) }),
      fc.record({
        k: fc.constant('set' as const),
        at,
        bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
      }),
      fc.record({ k: fc.constant('cut' as const), at }),
      fc.record({
        k: fc.constant('splice' as const),
        from: at,
        to: at,
        len: fc.nat({ max: 4096 }),
      }),
      fc.record({
        k: fc.constant('insert' as const),
        at,
        bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }),
      }),
    );
    type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;
    const apply = (b: Uint8Array, m: Mutation): Uint8Array => {
      switch (m.k) {
        case 'flip': {
          const c = b.slice();
          const i = m.at % c.length;
          c[i] = (c[i] as number) ^ (1 << m.bit);
          return c;
        }
        case 'set': {
          const c = b.slice();
          c.set(m.bytes.subarray(0, Math.max(0, c.length - (m.at % c.length))), m.at % c.length);
          return c;
        }
        case 'cut':
          return b.slice(0, m.at % b.length);
        case 'splice': {
          // A run of the file copied over another place (a chunk header where a payload was…).
          const c = b.slice();
          const from = m.from % c.length;
          c.set(
            b
              .subarray(from, Math.min(b.length, from + m.len))
              .subarray(0, c.length - (m.to % c.length)),
            m.to % c.length,
          );
          return c;
        }
        default: {
          const i = m.at % b.length;
          const c = new Uint8Array(b.length + m.bytes.length);
          c.set(b.subarray(0, i));
          c.set(m.bytes, i);
          c.set(b.subarray(i), i + m.bytes.length);
          return c;
        }
      }
    };
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.nat(), (ms, pick) => {
        let bad: Uint8Array = file;
        for (const m of ms) if (bad.length > 0) bad = apply(bad, m);
        let r: TraceReader;
        try {
          r = TraceReader.open(new BytesSource(bad.slice()));
          r.entries();
          r.summary();
          for (const c of r.checkpoints()) c.load();
        } catch (e) {
          if (!(e instanceof TraceFileError)) throw e;
          expect(e.message).toMatch(/trace|chunk|byte/);
          return;
        }
        const n = r.eventCount;
        expect(same(r.readEvents(0, n), all.subarray(0, n * EVENT_SIZE))).toBe(true);
        // Opened: the state at any event is the fold of the events before it, never an error.
        const p = pick % (n + 1);
        expect(r.stateAt(p).summary()).toEqual(foldPrefix(all, p).summary());
      }),
      { numRuns: 400, seed: 20261206 },
    );
  });

  it('lazy open reads a range through the index without reading the whole file', () => {
    const batches = makeBatches(20_000, 500, 21);
    const file = record({ pid: 5 }, batches);
    let bytesRead = 0;
    const inner = new BytesSource(file);
    const counting = {
      size: inner.size,
      read(offset: number, length: number) {
        const b = inner.read(offset, length);
        bytesRead += b.byteLength;
        return b;
      },
      close() {},
    };
    const r = TraceReader.open(counting, { verify: 'lazy' });
    expect(r.complete).toBe(true);
    expect(r.eventCount).toBe(20_000);
    const mid = r.readEvents(10_100, 50);
    expect(same(mid, concat(batches).subarray(10_100 * EVENT_SIZE, 10_150 * EVENT_SIZE))).toBe(
      true,
    );
    // The index, the description and one batch: a small part of the file.
    expect(bytesRead).toBeLessThan(file.byteLength / 5);

    // A damaged batch is found when it is read, named, and the others still read.
    const bad = file.slice();
    const evts = TraceReader.open(new BytesSource(file)).chunks.filter((c) => c.tag === Tag.EVTS);
    const victim = evts[10] as (typeof evts)[number];
    const at = victim.offset + CHUNK_HEADER_BYTES + 20;
    bad[at] = (bad[at] as number) ^ 0x10;
    const lazy = TraceReader.open(new BytesSource(bad), { verify: 'lazy' });
    expect(lazy.damage).toBeNull();
    expect(() => lazy.readEvents(victim.firstSeq, 1)).toThrow(
      new RegExp(`EVTS chunk at byte ${victim.offset} fails its checksum`),
    );
    expect(same(lazy.readEvents(0, 100), concat(batches).subarray(0, 100 * EVENT_SIZE))).toBe(true);
    // Verified at open (the default), the same file recovers the prefix before the damage.
    const full = TraceReader.open(new BytesSource(bad));
    expect(full.damage?.offset).toBe(victim.offset);
    expect(full.eventCount).toBe(victim.firstSeq);
  });

  it('stateAt: the nearest checkpoint plus the events after it equals the streaming fold, at many positions', () => {
    const batches = walkLikeBatches(30_000, 700, 23);
    const all = concat(batches);
    const file = record({ pid: 6 }, batches, true, 4096);
    const r = TraceReader.open(new BytesSource(file));
    const seqs = r.checkpoints().map((c) => c.seq);
    // One after the batch that passes every 4,096 events (700-event batches).
    expect(seqs.length).toBe(7);
    for (const [i, q] of seqs.entries()) {
      expect(q % 700).toBe(0);
      expect(q - (seqs[i - 1] ?? 0)).toBeGreaterThanOrEqual(4096);
      expect(q - (seqs[i - 1] ?? 0)).toBeLessThan(4096 + 700);
    }
    const positions = new Set<number>([0, 1, 30_000, 29_999]);
    for (const q of seqs) [q - 1, q, q + 1].forEach((p) => positions.add(p));
    const pick = rng(5);
    for (let i = 0; i < 60; i++) positions.add(Math.floor(pick() * 30_001));
    // Streamed once, compared at every position on the way.
    const sorted = [...positions].sort((a, b) => a - b);
    const streamed = new Ledger();
    const view = new EventBatchView(all.slice().buffer);
    for (const p of sorted) {
      streamed.fold(view, streamed.events, p);
      const rebuilt = r.stateAt(p);
      expect(rebuilt.summary(), `state at ${p}`).toEqual(streamed.summary());
      expect(rebuilt.liveBlocks(), `live blocks at ${p}`).toEqual(streamed.liveBlocks());
    }
    expect(() => r.stateAt(30_001)).toThrow(RangeError);
    expect(() => r.stateAt(-1)).toThrow(RangeError);
  });

  it('stateAt on a lazily opened file reads the index, one checkpoint and the batches after it', () => {
    const batches = walkLikeBatches(40_000, 1000, 29);
    const file = record({ pid: 7 }, batches, true, 4000);
    let bytesRead = 0;
    const inner = new BytesSource(file);
    const counting = {
      size: inner.size,
      read(offset: number, length: number) {
        const b = inner.read(offset, length);
        bytesRead += b.byteLength;
        return b;
      },
      close() {},
    };
    const r = TraceReader.open(counting, { verify: 'lazy' });
    const before = bytesRead;
    const l = r.stateAt(38_500);
    expect(l.summary()).toEqual(foldPrefix(concat(batches), 38_500).summary());
    // The checkpoint at 36,000 and batches 36,000…38,500: three of the forty batches.
    expect(bytesRead - before).toBeLessThan(file.byteLength / 8);
  });

  it('a damaged checkpoint is skipped or ignored, and the state is recomputed without it', () => {
    const batches = walkLikeBatches(12_000, 1000, 31);
    const all = concat(batches);
    const file = record({ pid: 8 }, batches, true, 3000);
    const cks = TraceReader.open(new BytesSource(file)).chunks.filter((c) => c.tag === Tag.CKPT);
    expect(cks.map((c) => c.firstSeq)).toEqual([3000, 6000, 9000, 12000]);
    const victim = cks[1] as (typeof cks)[number];

    // 1. A flipped bit: the checksum fails; the checkpoint is dropped at open, nothing else.
    const flipped = file.slice();
    const at = victim.offset + CHUNK_HEADER_BYTES + 12;
    flipped[at] = (flipped[at] as number) ^ 4;
    for (const verify of ['all', 'lazy'] as const) {
      const r = TraceReader.open(new BytesSource(flipped), { verify });
      expect(r.eventCount).toBe(12_000);
      expect(r.stateAt(7_500).summary()).toEqual(foldPrefix(all, 7_500).summary());
      expect(r.ignoredCheckpoints).toEqual([
        {
          offset: victim.offset,
          message: `CKPT chunk at byte ${victim.offset} fails its checksum`,
        },
      ]);
    }
    // …also when the file has no index (scanned from the start).
    const lastCk = cks[3] as (typeof cks)[number];
    const unindexed = flipped.slice(0, lastCk.offset + CHUNK_HEADER_BYTES + lastCk.payloadBytes);
    const u = TraceReader.open(new BytesSource(unindexed));
    expect(u.eventCount).toBe(12_000);
    expect(u.damage?.message).toMatch(/did not finish/);
    expect(u.checkpoints().map((c) => c.seq)).toEqual([3000, 9000, 12000]);
    expect(u.ignoredCheckpoints.map((d) => d.offset)).toEqual([victim.offset]);

    // 2. A well-formed chunk (checksum right) holding a state that is not the events': a live
    // block's size changed, so the live set no longer adds up to the live bytes.
    const r0 = TraceReader.open(new BytesSource(file));
    const original = r0.checkpoints()[1]?.load() as Ledger;
    expect(original.liveBlockCount).toBeGreaterThan(0); // the last f64 is a live block's facts
    const state = original.exportBytes();
    const dv = new DataView(state.buffer);
    const last = state.byteLength - 8;
    dv.setFloat64(last, dv.getFloat64(last, true) + 64 * 8, true);
    const forged = reChunk(file, victim.offset, victim.payloadBytes, (payload) =>
      Buffer.concat([payload.subarray(0, 8), deflateRawSync(state)]),
    );
    const f = TraceReader.open(new BytesSource(forged));
    expect(f.eventCount).toBe(12_000);
    expect(() => f.checkpoints()[1]?.load()).toThrow(
      /CKPT chunk at byte \d+: ledger state: the live set .* disagrees with the totals/,
    );
    expect(f.stateAt(8_000).summary()).toEqual(foldPrefix(all, 8_000).summary());
    expect(f.ignoredCheckpoints).toHaveLength(1);
    expect(f.ignoredCheckpoints[0]?.message).toMatch(/disagrees with the totals/);
    // A checkpoint claiming another position than its chunk's is ignored the same way.
    const moved = reChunk(file, victim.offset, victim.payloadBytes, (payload) => {
      const p = payload.slice();
      new DataView(p.buffer).setFloat64(0, 5000, true);
      return p;
    });
    const m = TraceReader.open(new BytesSource(moved));
    expect(m.stateAt(6_500).summary()).toEqual(foldPrefix(all, 6_500).summary());
    expect(m.ignoredCheckpoints[0]?.message).toMatch(/state after 6000 events, not 5000|disagrees/);
  });

  it('names what is wrong for files that are not v2 traces', () => {
    expect(() => TraceReader.open(new BytesSource(new Uint8Array(3)))).toThrow(/only 3 bytes/);
    expect(() =>
      TraceReader.open(new BytesSource(new TextEncoder().encode('PSSTRACX' + '\0'.repeat(20)))),
    ).toThrow(/bad magic/);
    const v1 = new Uint8Array(32);
    v1.set(new TextEncoder().encode('PSSTRACE'));
    new DataView(v1.buffer).setUint32(8, 1, true);
    expect(() => TraceReader.open(new BytesSource(v1))).toThrow(/version 1 is not version 2/);
  });

  it('writes a file other processes can read while it grows', () => {
    const path = join(dir, 'grow.pstrace');
    const w = new TraceWriter(new FileSink(path), { pid: 4 });
    const batches = makeBatches(1_000, 250, 17);
    let seq = 0;
    for (const b of batches) {
      w.appendEvents(seq, b);
      seq += 250;
      expect(TraceReader.open(new BytesSource(readFileSync(path))).eventCount).toBe(seq);
    }
    w.finish(null);
    const done = readFileSync(path);
    expect(TraceReader.open(new BytesSource(done)).complete).toBe(true);
    writeFileSync(join(dir, 'copy.pstrace'), done);
  });
});

describe('ReadAheadSource', () => {
  /** Byte equality (toEqual walks a MB-sized typed array element by element, far too slowly). */
  const same = (a: Uint8Array, b: Uint8Array): boolean =>
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    );

  it('returns exactly the bytes of the file for any read, across windows, and what it returned never changes', () => {
    const size = READ_AHEAD_BYTES * 3 + 12_345;
    const file = new Uint8Array(size);
    for (let i = 0; i < size; i++) file[i] = (i * 2654435761) >>> 24;
    let systemReads = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: size + 100 }),
            fc.integer({ min: 0, max: READ_AHEAD_BYTES }),
          ),
          { minLength: 1, maxLength: 40 },
        ),
        (reads) => {
          const src = new ReadAheadSource(size, (buf, pos) => {
            systemReads++;
            const part = file.subarray(pos, Math.min(size, pos + buf.byteLength));
            buf.set(part);
            return part.byteLength;
          });
          const held: [number, Uint8Array][] = [];
          for (const [offset, length] of reads) {
            const got = src.read(offset, length);
            expect(same(got, file.subarray(offset, Math.min(size, offset + length)))).toBe(true);
            held.push([offset, got]);
          }
          // bytes handed out earlier are unchanged after later refills of the (reused) window
          for (const [offset, got] of held)
            expect(same(got, file.subarray(offset, offset + got.byteLength))).toBe(true);
          src.close();
          expect(() => src.read(0, 1)).toThrow(/closed/);
        },
      ),
      { numRuns: 200 },
    );
    // sequential small reads are served from windows: one system read per window
    systemReads = 0;
    const src = new ReadAheadSource(size, (buf, pos) => {
      systemReads++;
      buf.set(file.subarray(pos, pos + buf.byteLength));
      return Math.min(buf.byteLength, size - pos);
    });
    for (let at = 0; at < size; at += 10_000) src.read(at, 10_000);
    expect(systemReads).toBeLessThanOrEqual(Math.ceil(size / (READ_AHEAD_BYTES - 10_000)));
  });

  it('reads a file by path through windows and closes its descriptor', () => {
    const path = join(dir, 'readahead.bin');
    const bytes = new Uint8Array(READ_AHEAD_BYTES + 777).map((_, i) => i & 255);
    writeFileSync(path, bytes);
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    const src = new FileSource(path);
    expect(fds()).toBe(before + 1);
    expect(
      same(
        src.read(READ_AHEAD_BYTES - 3, 10),
        bytes.subarray(READ_AHEAD_BYTES - 3, READ_AHEAD_BYTES + 7),
      ),
    ).toBe(true);
    expect(
      same(src.read(READ_AHEAD_BYTES + 770, 100), bytes.subarray(READ_AHEAD_BYTES + 770)),
    ).toBe(true);
    src.close();
    src.close();
    expect(fds()).toBe(before);
  });
});
