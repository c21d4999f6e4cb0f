/**
 * The event-column codec: any batch of valid records comes back byte for byte (property test
 * over the value shapes that pick each mode), files written before BASE existed still decode,
 * and a blob that does not describe valid records is a ColumnDecodeError, never a crash.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_SIZE, EventKind, NO_CLASS, Off } from '../../src-shared/events/layout';
import {
  BASE,
  COLUMNS,
  ColumnDecodeError,
  DELTA,
  decodeColumns,
  encodeColumns,
} from './event-columns';

interface Rec {
  time: number;
  lo: number;
  hi: number;
  size: number;
  kind: number;
  api: number;
  cls: number;
  strategy: number;
  marker: number;
  tid: number;
  aux0: number;
  aux1: number;
}

function batch(recs: Rec[], firstSeq: number): ArrayBuffer {
  const b = new ArrayBuffer(recs.length * EVENT_SIZE);
  const dv = new DataView(b);
  recs.forEach((r, i) => {
    const o = i * EVENT_SIZE;
    dv.setFloat64(o + Off.seq, firstSeq + i, true);
    dv.setFloat64(o + Off.timeNs, r.time, true);
    dv.setUint32(o + Off.addrLo, r.lo, true);
    dv.setUint32(o + Off.addrHi, r.hi, true);
    dv.setUint32(o + Off.size, r.size, true);
    dv.setUint8(o + Off.kind, r.kind);
    dv.setUint8(o + Off.api, r.api);
    dv.setUint8(o + Off.walkClass, r.cls);
    dv.setUint8(o + Off.strategy, r.strategy);
    dv.setUint32(o + Off.markerId, r.marker, true);
    dv.setUint32(o + Off.threadId, r.tid, true);
    dv.setUint32(o + Off.aux0, r.aux0, true);
    dv.setUint32(o + Off.aux1, r.aux1, true);
  });
  return b;
}

const u32 = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0, max: 255 }),
  fc.integer({ min: 0, max: 70_000 }),
  fc.integer({ min: 0, max: 0xffffffff }),
);
/** Times: whole ns growing by small or huge steps, or any finite double. */
const times = (n: number) =>
  fc.oneof(
    fc
      .tuple(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.array(fc.integer({ min: 0, max: 2 ** 33 }), { minLength: n, maxLength: n }),
      )
      .map(([t0, steps]) => {
        let t = t0;
        return steps.map((s) => (t += s));
      }),
    fc.array(fc.integer({ min: 0, max: 2 ** 20 }), { minLength: n, maxLength: n }),
    fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n }),
    fc.constant(Array.from({ length: n }, () => 123.5)),
  );

const records = fc.integer({ min: 1, max: 300 }).chain((n) =>
  fc.tuple(
    times(n),
    fc.array(
      fc.record({
        lo: u32,
        hi: u32,
        size: u32,
        kind: fc.constantFrom(...Object.values(EventKind)),
        api: fc.integer({ min: 0, max: 6 }),
        cls: fc.constantFrom(0, 1, 2, 3, 4, NO_CLASS),
        strategy: fc.integer({ min: 0, max: 255 }),
        marker: fc.constantFrom(0, 1, 7),
        tid: u32,
        aux0: u32,
        aux1: u32,
      }),
      { minLength: n, maxLength: n },
    ),
  ),
);

describe('event columns', () => {
  it('round-trips any batch of valid records byte for byte', () => {
    fc.assert(
      fc.property(records, fc.integer({ min: 0, max: 2 ** 40 }), ([ts, rs], firstSeq) => {
        const recs = rs.map((r, i) => ({ ...r, time: ts[i] as number }));
        const b = batch(recs, firstSeq);
        const blob = encodeColumns(b, recs.length).slice();
        const out = new ArrayBuffer(b.byteLength);
        decodeColumns(blob, recs.length, firstSeq, out);
        expect(Buffer.from(out).equals(Buffer.from(b))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('stores a growing clock and address in few bytes per event (BASE + small deltas)', () => {
    const n = 4096;
    const recs: Rec[] = Array.from({ length: n }, (_, i) => ({
      time: 5_000_000_000 + i * 900,
      lo: 0x5555_0000 + i * 32,
      hi: 0x7f12,
      size: 32,
      kind: i % 2,
      api: 2,
      cls: 2,
      strategy: 0,
      marker: 1,
      tid: 4242,
      aux0: i,
      aux1: 64,
    }));
    const blob = encodeColumns(batch(recs, 0), n);
    // time 2 B (after an 8-byte base), address 1 B, kind 1 B, aux0 1 B; the rest constant.
    expect(blob.byteLength).toBeLessThan(n * 5 + 64);
    const out = new ArrayBuffer(n * EVENT_SIZE);
    decodeColumns(blob.slice(), n, 0, out);
    expect(Buffer.from(out).equals(Buffer.from(batch(recs, 0)))).toBe(true);
  });

  it('reads columns written before BASE existed (deltas from 0)', () => {
    // Two events: time 1000, 1003 as zigzag deltas from 0 of width 2; size 5, 9 as deltas of
    // width 1 from 0; every other column constant.
    const parts: number[] = [0x02 | DELTA, 0xd0, 0x07, 0x06, 0x00]; // time: 2000 → 1000, 6 → +3
    for (const name of COLUMNS) {
      if (name === 'timeNs') continue;
      if (name === 'size')
        parts.push(0x01 | DELTA, 10, 8); // +5, +4
      else parts.push(0, 0);
    }
    const out = new ArrayBuffer(2 * EVENT_SIZE);
    decodeColumns(new Uint8Array(parts), 2, 7, out);
    const dv = new DataView(out);
    expect(dv.getFloat64(Off.timeNs, true)).toBe(1000);
    expect(dv.getFloat64(EVENT_SIZE + Off.timeNs, true)).toBe(1003);
    expect(dv.getUint32(Off.size, true)).toBe(5);
    expect(dv.getUint32(EVENT_SIZE + Off.size, true)).toBe(9);
    expect(dv.getFloat64(EVENT_SIZE + Off.seq, true)).toBe(8);
  });

  it('refuses what no record may hold, and any damaged blob, with ColumnDecodeError', () => {
    const recs: Rec[] = Array.from({ length: 50 }, (_, i) => ({
      time: i * 10,
      lo: i,
      hi: 0,
      size: 8,
      kind: i % 2,
      api: 1,
      cls: NO_CLASS,
      strategy: 0,
      marker: 1,
      tid: 9,
      aux0: 0,
      aux1: i * 1000,
    }));
    const good = encodeColumns(batch(recs, 0), 50).slice();
    // An unknown kind in a per-event byte column.
    const bad = batch(recs, 0);
    new DataView(bad).setUint8(3 * EVENT_SIZE + Off.kind, 200);
    expect(() =>
      decodeColumns(encodeColumns(bad, 50).slice(), 50, 0, new ArrayBuffer(50 * EVENT_SIZE)),
    ).toThrow(/kind value is not valid/);
    // Any byte flipped or cut: an error or a valid batch, never anything else.
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: good.byteLength - 1 }),
        fc.integer({ min: 1, max: 255 }),
        fc.boolean(),
        (at, x, cut) => {
          const b = cut ? good.slice(0, at) : good.slice();
          if (!cut) b[at] = (b[at] as number) ^ x;
          try {
            decodeColumns(b, 50, 0, new ArrayBuffer(50 * EVENT_SIZE));
          } catch (e) {
            expect(e).toBeInstanceOf(ColumnDecodeError);
          }
        },
      ),
      { numRuns: 500 },
    );
    expect(BASE).toBe(0x20);
  });
});
