/**
 * Compact, lossless encoding of one batch of 48-byte event records (src-shared/events/layout.ts)
 * for trace files. The batch is split into columns, one per field, and each column is stored in
 * the smallest fixed width its values (or their zigzag deltas) fit in this batch:
 *
 *   mode byte = width | (DELTA if stored as differences to the previous value)
 *                     | (BASE: the first value precedes the deltas, which then start at 0;
 *                        files written before BASE existed have deltas from 0, still read)
 *   width 0  CONST: one LEB128 value (f64 for time), nothing per event (markerId, threadId…)
 *   width 1, 2, 4: that many little-endian bytes per event
 *   width 8  (time only) raw f64 per event, when some timestamp is not an integer
 *   width 9  (time only) LEB128 zigzag deltas of integer ns, when a gap exceeds 32 bits
 *
 * Fixed widths make decoding a branch-free loop per column; deflate (by the caller) then
 * squeezes out the zero bytes the widths leave. seq is not stored: a batch holds consecutive
 * sequence numbers from `firstSeq`. Decoding rebuilds byte-identical records.
 */
import {
  API_CALL_NAMES,
  EVENT_KIND_NAMES,
  EVENT_SIZE,
  NO_CLASS,
  Off,
} from '../../src-shared/events/layout';

export const DELTA = 0x10;
/** With DELTA: the first value is stored before the deltas (f64 for time, LEB128 else). */
export const BASE = 0x20;
const W_CONST = 0;
const W_F64 = 8;
const W_VARINT = 9;

/** The stored columns, in blob order (seq is implicit). */
export const COLUMNS = [
  'timeNs',
  'addrLo',
  'addrHi',
  'size',
  'kind',
  'api',
  'walkClass',
  'strategy',
  'markerId',
  'threadId',
  'aux0',
  'aux1',
] as const;

const BYTE_COLUMNS = new Set<string>(['kind', 'api', 'walkClass', 'strategy']);

export class ColumnDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ColumnDecodeError';
  }
}

const F64_STRIDE = EVENT_SIZE / 8;
const U32_STRIDE = EVENT_SIZE / 4;

/** Growable little-endian byte sink. */
class Sink {
  buf: Uint8Array;
  len = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(64, capacity));
  }
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(v: number): void {
    this.ensure(1);
    this.buf[this.len++] = v;
  }
  /** Unsigned LEB128 of a non-negative safe integer. */
  leb(v: number): void {
    this.ensure(8);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }
  f64(v: number): void {
    this.ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 8).setFloat64(0, v, true);
    this.len += 8;
  }
  /** `count` u32 values src[at…], `width` bytes each. */
  fixed(src: Uint32Array, at: number, count: number, width: number): void {
    this.ensure(count * width);
    const b = this.buf;
    let p = this.len;
    const end = at + count;
    if (width === 1) for (let i = at; i < end; i++) b[p++] = src[i] as number;
    else if (width === 2)
      for (let i = at; i < end; i++) {
        const v = src[i] as number;
        b[p++] = v & 0xff;
        b[p++] = v >>> 8;
      }
    else
      for (let i = at; i < end; i++) {
        const v = src[i] as number;
        b[p++] = v & 0xff;
        b[p++] = (v >>> 8) & 0xff;
        b[p++] = (v >>> 16) & 0xff;
        b[p++] = v >>> 24;
      }
    this.len = p;
  }
  /** One byte (at bit `shift`) of each of `count` u32 values src[at…]. */
  bytesOf(src: Uint32Array, at: number, count: number, shift: number): void {
    this.ensure(count);
    const b = this.buf;
    let p = this.len;
    for (let i = at, end = at + count; i < end; i++) b[p++] = (src[i] as number) >>> shift;
    this.len = p;
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

const widthFor = (max: number): number => (max < 0x100 ? 1 : max < 0x10000 ? 2 : 4);

/**
 * Scratch reused across batches (encoding runs on one thread at a time): the deltas, and the
 * blob itself (a fresh buffer per batch costs more than the encoding: allocation, zeroing, and
 * the garbage collector's work on many short-lived off-heap buffers).
 */
let scratchDelta = new Uint32Array(4096);
const scratchOut = new Sink(64 * 1024);

/**
 * Encodes `count` records of `batch` into a column blob (to be deflated by the caller). The blob
 * is a view of a buffer the next call reuses: consume or copy it before encoding again.
 *
 * The live recording path (bench/trace-format.bench.ts): one pass over the records copies the
 * eight u32 words after the time into contiguous scratch columns and ORs each value's XOR with
 * the column's first (0: constant, written as one value); then per varying column one pass
 * computes its zigzag deltas and the OR of its values and of its deltas (a width threshold is a
 * power of two, so the OR picks the same width as the maximum, without a compare per value),
 * and one writes the chosen width from the column or the deltas. The blob is the same, byte
 * for byte, as one pass per column over the records gave (2.5× slower on the live session).
 */
export function encodeColumns(batch: ArrayBuffer, count: number): Uint8Array {
  if (batch.byteLength < count * EVENT_SIZE) throw new RangeError('batch shorter than count');
  const f64 = new Float64Array(batch, 0, count * F64_STRIDE);
  const u32 = new Uint32Array(batch, 0, count * U32_STRIDE);
  const out = scratchOut;
  out.len = 0;
  out.ensure(count * 12 + 256);
  if (scratchDelta.length < count) {
    scratchDelta = new Uint32Array(count);
    scratchColumns = new Uint32Array(count * U32_WORDS.length);
  }
  const dz = scratchDelta;
  encodeTime(f64, count, out, dz);
  // One pass over the records (row by row, each cache line once) copies the eight u32 words
  // after the time into contiguous per-word columns and notes which words vary at all; the
  // columns are then encoded from those arrays.
  const cols = scratchColumns;
  const firsts = scratchFirsts;
  const diff = scratchDiff;
  for (let w = 0; w < U32_WORDS.length; w++) {
    firsts[w] = count > 0 ? (u32[U32_WORDS[w] as number] as number) : 0;
    diff[w] = 0;
  }
  transpose(u32, count, cols, firsts, diff);
  for (const name of COLUMNS) {
    if (name === 'timeNs') continue;
    if (BYTE_COLUMNS.has(name)) {
      const shift = (Off[name] - BYTE_WORD_OFFSET) * 8;
      const first = ((firsts[BYTE_WORD] as number) >>> shift) & 0xff;
      if ((((diff[BYTE_WORD] as number) >>> shift) & 0xff) === 0) {
        out.byte(W_CONST);
        out.leb(first);
      } else {
        out.byte(1);
        out.bytesOf(cols, BYTE_WORD * count, count, shift);
      }
    } else {
      const w = U32_WORD_OF[Off[name] / 4] as number;
      const first = firsts[w] as number;
      if (diff[w] === 0) {
        out.byte(W_CONST);
        out.leb(first);
      } else encodeU32Column(cols, w * count, count, out, dz);
    }
  }
  return out.bytes();
}

/** The u32 words of a record after seq and time (u32 index), in column order. */
const U32_WORDS = [4, 5, 6, 7, 8, 9, 10, 11] as const;
/** Column (in U32_WORDS) of a record's u32 index. */
const U32_WORD_OF: Record<number, number> = Object.fromEntries(U32_WORDS.map((u, w) => [u, w]));
/** The word holding the four byte columns (kind, api, walkClass, strategy) and its byte offset. */
const BYTE_WORD_OFFSET = Off.kind;
const BYTE_WORD = U32_WORD_OF[BYTE_WORD_OFFSET / 4] as number;
let scratchColumns = new Uint32Array(4096 * U32_WORDS.length);
const scratchFirsts = new Uint32Array(U32_WORDS.length);
/** Per word, the OR of (value XOR first value): 0 where the column is constant. */
const scratchDiff = new Uint32Array(U32_WORDS.length);

function transpose(
  u32: Uint32Array,
  count: number,
  cols: Uint32Array,
  firsts: Uint32Array,
  diff: Uint32Array,
): void {
  const f0 = firsts[0] as number;
  const f1 = firsts[1] as number;
  const f2 = firsts[2] as number;
  const f3 = firsts[3] as number;
  const f4 = firsts[4] as number;
  const f5 = firsts[5] as number;
  const f6 = firsts[6] as number;
  const f7 = firsts[7] as number;
  let d0 = 0;
  let d1 = 0;
  let d2 = 0;
  let d3 = 0;
  let d4 = 0;
  let d5 = 0;
  let d6 = 0;
  let d7 = 0;
  const c1 = count;
  const c2 = count * 2;
  const c3 = count * 3;
  const c4 = count * 4;
  const c5 = count * 5;
  const c6 = count * 6;
  const c7 = count * 7;
  for (let i = 0, at = 4; i < count; i++, at += U32_STRIDE) {
    const v0 = u32[at] as number;
    const v1 = u32[at + 1] as number;
    const v2 = u32[at + 2] as number;
    const v3 = u32[at + 3] as number;
    const v4 = u32[at + 4] as number;
    const v5 = u32[at + 5] as number;
    const v6 = u32[at + 6] as number;
    const v7 = u32[at + 7] as number;
    cols[i] = v0;
    cols[c1 + i] = v1;
    cols[c2 + i] = v2;
    cols[c3 + i] = v3;
    cols[c4 + i] = v4;
    cols[c5 + i] = v5;
    cols[c6 + i] = v6;
    cols[c7 + i] = v7;
    d0 |= v0 ^ f0;
    d1 |= v1 ^ f1;
    d2 |= v2 ^ f2;
    d3 |= v3 ^ f3;
    d4 |= v4 ^ f4;
    d5 |= v5 ^ f5;
    d6 |= v6 ^ f6;
    d7 |= v7 ^ f7;
  }
  diff[0] = d0;
  diff[1] = d1;
  diff[2] = d2;
  diff[3] = d3;
  diff[4] = d4;
  diff[5] = d5;
  diff[6] = d6;
  diff[7] = d7;
}

/** The time column: CONST, zigzag deltas of whole ns from a base (fixed width or LEB128), or raw f64. */
function encodeTime(f64: Float64Array, count: number, out: Sink, dz: Uint32Array): void {
  const base = Off.timeNs / 8;
  const t0 = count > 0 ? (f64[base] as number) : 0;
  let allSame = true;
  let integral = Number.isSafeInteger(t0) && t0 >= 0 && !Object.is(t0, -0);
  let orZ = 0;
  let wide = false;
  let prev = t0;
  for (let i = 0, at = base; i < count; i++, at += F64_STRIDE) {
    const t = f64[at] as number;
    if (t !== prev) {
      allSame = false;
      // Whole, non-negative, safe: checked only where the value changes.
      if (!(t >= 0 && t <= Number.MAX_SAFE_INTEGER && Math.floor(t) === t)) integral = false;
      const d = t - prev;
      const z = d >= 0 ? d * 2 : -d * 2 - 1;
      if (z > 0xffffffff) wide = true;
      dz[i] = z;
      orZ |= z;
      prev = t;
    } else {
      // Equal values (−0 included, which compares equal to 0 but is not whole ns).
      if (Object.is(t, -0) !== Object.is(prev, -0)) allSame = integral = false;
      dz[i] = 0;
    }
  }
  if (count > 0 && allSame) {
    out.byte(W_CONST);
    out.f64(t0);
  } else if (!integral) {
    out.byte(W_F64);
    out.ensure(count * 8);
    for (let i = 0, at = base; i < count; i++, at += F64_STRIDE) out.f64(f64[at] as number);
  } else if (!wide) {
    const w = widthFor(orZ >>> 0);
    out.byte(w | DELTA | BASE);
    out.f64(t0);
    out.fixed(dz, 0, count, w);
  } else {
    out.byte(W_VARINT | DELTA | BASE);
    out.f64(t0);
    prev = t0;
    for (let i = 0, at = base; i < count; i++, at += F64_STRIDE) {
      const t = f64[at] as number;
      const d = t - prev;
      out.leb(d >= 0 ? d * 2 : -d * 2 - 1);
      prev = t;
    }
  }
}

/** A varying u32 column, contiguous at col[at…at+count): deltas if narrower, else raw. */
function encodeU32Column(
  col: Uint32Array,
  at: number,
  count: number,
  out: Sink,
  dz: Uint32Array,
): void {
  const first = col[at] as number;
  let orRaw = 0;
  let orDelta = 0;
  let prev = first;
  for (let i = 0; i < count; i++) {
    const v = col[at + i] as number;
    orRaw |= v;
    const d = (v - prev) | 0;
    const z = (d << 1) ^ (d >> 31);
    dz[i] = z;
    orDelta |= z;
    prev = v;
  }
  const wr = widthFor(orRaw >>> 0);
  const wd = widthFor(orDelta >>> 0);
  if (wd < wr) {
    out.byte(wd | DELTA | BASE);
    out.leb(first);
    out.fixed(dz, 0, count, wd);
  } else {
    out.byte(wr);
    out.fixed(col, at, count, wr);
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding: one small monomorphic loop per column and width (V8 optimises each on its own), the
// blob read byte by byte, records written through typed-array views; no per-event object. The
// byte columns are checked against the values records may hold while they are copied, so the
// decoded batch needs no second validation pass.

/** 1 where a byte value is a valid `kind`, `api`, `walkClass` (per column). */
const VALID_BYTES: Record<string, Uint8Array> = {
  kind: validTable((v) => EVENT_KIND_NAMES[v] !== undefined),
  api: validTable((v) => API_CALL_NAMES[v] !== undefined),
  walkClass: validTable((v) => v <= 4 || v === NO_CLASS),
  strategy: validTable(() => true),
};
function validTable(ok: (v: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let v = 0; v < 256; v++) t[v] = ok(v) ? 1 : 0;
  return t;
}

/** The blob being decoded and the read position (an object: no module state between calls). */
interface Cursor {
  b: Uint8Array;
  pos: number;
  end: number;
}

function fail(c: Cursor, what: string): never {
  throw new ColumnDecodeError(`event columns: ${what} (at byte ${c.pos} of ${c.end})`);
}

function need(c: Cursor, n: number): void {
  if (c.pos + n > c.end) fail(c, 'column runs past the end');
}

function modeByte(c: Cursor): number {
  if (c.pos >= c.end) fail(c, 'column mode missing');
  return c.b[c.pos++] as number;
}

function readLeb(c: Cursor): number {
  let v = 0;
  let mul = 1;
  for (;;) {
    if (c.pos >= c.end) fail(c, 'varint runs past the end');
    const x = c.b[c.pos++] as number;
    v += (x & 0x7f) * mul;
    if (x < 0x80) break;
    mul *= 0x80;
    if (mul > 2 ** 56) fail(c, 'varint exceeds 53 bits');
  }
  if (!Number.isSafeInteger(v)) fail(c, 'integer exceeds 2^53');
  return v;
}

/** The f64 a BASE time column starts with: a non-negative integer. */
function readIntegralBase(c: Cursor): number {
  const v = readF64(c);
  if (!Number.isSafeInteger(v) || v < 0) fail(c, `time base ${v} is not a whole number of ns`);
  return v;
}

function readF64(c: Cursor): number {
  need(c, 8);
  const v = new DataView(c.b.buffer, c.b.byteOffset + c.pos, 8).getFloat64(0, true);
  c.pos += 8;
  return v;
}

// ---- u32 columns: dst[idx + i * U32_STRIDE] -----------------------------------------------

function u32w1(b: Uint8Array, p: number, dst: Uint32Array, idx: number, count: number): void {
  for (let i = 0, at = idx; i < count; i++, at += U32_STRIDE) dst[at] = b[p + i] as number;
}
function u32w2(b: Uint8Array, p: number, dst: Uint32Array, idx: number, count: number): void {
  for (let i = 0, at = idx; i < count; i++, at += U32_STRIDE, p += 2)
    dst[at] = (b[p] as number) | ((b[p + 1] as number) << 8);
}
function u32w4(b: Uint8Array, p: number, dst: Uint32Array, idx: number, count: number): void {
  for (let i = 0, at = idx; i < count; i++, at += U32_STRIDE, p += 4)
    dst[at] =
      (b[p] as number) |
      ((b[p + 1] as number) << 8) |
      ((b[p + 2] as number) << 16) |
      ((b[p + 3] as number) << 24);
}
/** Zigzag deltas (mod 2^32) of `width` bytes: the running sum is the value. */
function u32d1(
  b: Uint8Array,
  p: number,
  dst: Uint32Array,
  idx: number,
  count: number,
  first: number,
): void {
  let prev = first | 0;
  for (let i = 0, at = idx; i < count; i++, at += U32_STRIDE) {
    const z = b[p + i] as number;
    prev = (prev + ((z >>> 1) ^ -(z & 1))) | 0;
    dst[at] = prev;
  }
}
function u32d2(
  b: Uint8Array,
  p: number,
  dst: Uint32Array,
  idx: number,
  count: number,
  first: number,
): void {
  let prev = first | 0;
  for (let i = 0, at = idx; i < count; i++, at += U32_STRIDE, p += 2) {
    const z = (b[p] as number) | ((b[p + 1] as number) << 8);
    prev = (prev + ((z >>> 1) ^ -(z & 1))) | 0;
    dst[at] = prev;
  }
}
function u32d4(
  b: Uint8Array,
  p: number,
  dst: Uint32Array,
  idx: number,
  count: number,
  first: number,
): void {
  let prev = first | 0;
  for (let i = 0, at = idx; i < count; i++, at += U32_STRIDE, p += 4) {
    const z =
      (b[p] as number) |
      ((b[p + 1] as number) << 8) |
      ((b[p + 2] as number) << 16) |
      ((b[p + 3] as number) << 24);
    prev = (prev + ((z >>> 1) ^ -(z & 1))) | 0;
    dst[at] = prev;
  }
}
type U32Reader = (
  b: Uint8Array,
  p: number,
  dst: Uint32Array,
  idx: number,
  count: number,
  first: number,
) => void;
const U32_READERS: Record<number, U32Reader> = {
  1: u32w1,
  2: u32w2,
  4: u32w4,
  [1 | DELTA]: u32d1,
  [2 | DELTA]: u32d2,
  [4 | DELTA]: u32d4,
};

// ---- byte columns: dst[off + i * EVENT_SIZE], checked against `valid` ----------------------

function u8Column(
  b: Uint8Array,
  p: number,
  dst: Uint8Array,
  off: number,
  count: number,
  valid: Uint8Array,
): boolean {
  let ok = 1;
  for (let i = 0, at = off; i < count; i++, at += EVENT_SIZE) {
    const v = b[p + i] as number;
    ok &= valid[v] as number;
    dst[at] = v;
  }
  return ok === 1;
}

// ---- f64 columns: dst[base + i * F64_STRIDE] ------------------------------------------------

function seqColumn(dst: Float64Array, count: number, firstSeq: number): void {
  for (let i = 0, at = Off.seq / 8; i < count; i++, at += F64_STRIDE) dst[at] = firstSeq + i;
}
/** Raw little-endian f64 values: copied through an aligned view (one copy of the column). */
function f64Column(
  b: Uint8Array,
  p: number,
  dst: Float64Array,
  base: number,
  count: number,
): boolean {
  // A copy (a Buffer's slice() would share its pool, at any alignment).
  const aligned = new Uint8Array(count * 8);
  aligned.set(b.subarray(p, p + count * 8));
  const src = new Float64Array(aligned.buffer);
  let finite = true;
  for (let i = 0, at = base; i < count; i++, at += F64_STRIDE) {
    const v = src[i] as number;
    if (v - v !== 0) finite = false; // NaN or ±Infinity
    dst[at] = v;
  }
  return finite;
}
/** Zigzag deltas of integer ns, `width` bytes each (|delta| < 2^31). */
function timeD1(
  b: Uint8Array,
  p: number,
  dst: Float64Array,
  base: number,
  count: number,
  t0: number,
): void {
  let t = t0;
  for (let i = 0, at = base; i < count; i++, at += F64_STRIDE) {
    const z = b[p + i] as number;
    t += (z >>> 1) ^ -(z & 1);
    dst[at] = t;
  }
}
function timeD2(
  b: Uint8Array,
  p: number,
  dst: Float64Array,
  base: number,
  count: number,
  t0: number,
): void {
  let t = t0;
  for (let i = 0, at = base; i < count; i++, at += F64_STRIDE, p += 2) {
    const z = (b[p] as number) | ((b[p + 1] as number) << 8);
    t += (z >>> 1) ^ -(z & 1);
    dst[at] = t;
  }
}
function timeD4(
  b: Uint8Array,
  p: number,
  dst: Float64Array,
  base: number,
  count: number,
  t0: number,
): void {
  let t = t0;
  for (let i = 0, at = base; i < count; i++, at += F64_STRIDE, p += 4) {
    const z =
      ((b[p] as number) |
        ((b[p + 1] as number) << 8) |
        ((b[p + 2] as number) << 16) |
        ((b[p + 3] as number) << 24)) >>>
      0;
    // z < 2^32: the delta is exact in floating point whatever its sign.
    t += z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    dst[at] = t;
  }
}
type TimeReader = typeof timeD1;
const TIME_READERS: Record<number, TimeReader> = { 1: timeD1, 2: timeD2, 4: timeD4 };

/** A column that varies within the batch: where its values start and what precedes them. */
interface Varying {
  name: (typeof COLUMNS)[number];
  mode: number;
  pos: number;
  /** The BASE value (time: f64 ns), else 0. */
  first: number;
}

/**
 * Decodes a column blob into `count` records with seq firstSeq…, written into `out` (which must
 * hold count × EVENT_SIZE bytes at `outOffset`). Throws ColumnDecodeError on any inconsistency,
 * including a kind, API or walk class no record may hold and a time that is not a number.
 *
 * Two passes: the first reads every column's mode and the constant columns' values into one
 * template record, which is then copied over the whole output (memcpy speed); the second writes
 * the columns that vary, and seq. Most columns of a real batch are constant.
 */
export function decodeColumns(
  blob: Uint8Array,
  count: number,
  firstSeq: number,
  out: ArrayBuffer,
  outOffset = 0,
): void {
  if (outOffset % 8 !== 0) throw new RangeError('outOffset must be a multiple of 8');
  if (out.byteLength - outOffset < count * EVENT_SIZE) throw new RangeError('output too small');
  const c: Cursor = { b: blob, pos: 0, end: blob.length };
  const tpl = new ArrayBuffer(EVENT_SIZE);
  const tF64 = new Float64Array(tpl);
  const tU32 = new Uint32Array(tpl);
  const tU8 = new Uint8Array(tpl);
  const varying: Varying[] = [];

  // ---- pass 1: modes, constants, where the varying columns start
  const tm = modeByte(c);
  if (tm === W_CONST) {
    const t = readF64(c);
    if (!Number.isFinite(t)) fail(c, 'time is not a number');
    tF64[Off.timeNs / 8] = t;
  } else if (tm === W_F64) {
    need(c, count * 8);
    varying.push({ name: 'timeNs', mode: tm, pos: c.pos, first: 0 });
    c.pos += count * 8;
  } else if ((tm & ~BASE) === (W_VARINT | DELTA)) {
    const first = (tm & BASE) !== 0 ? readIntegralBase(c) : 0;
    varying.push({ name: 'timeNs', mode: tm, pos: c.pos, first });
    for (let i = 0; i < count; i++) readLeb(c);
  } else {
    const ok = (tm & DELTA) !== 0 && (tm & ~(BASE | DELTA | 0x0f)) === 0;
    if (!ok || !TIME_READERS[tm & 0x0f]) fail(c, `unknown time column mode ${tm}`);
    const first = (tm & BASE) !== 0 ? readIntegralBase(c) : 0;
    need(c, count * (tm & 0x0f));
    varying.push({ name: 'timeNs', mode: tm, pos: c.pos, first });
    c.pos += count * (tm & 0x0f);
  }
  for (const name of COLUMNS) {
    if (name === 'timeNs') continue;
    const m = modeByte(c);
    const valid = VALID_BYTES[name];
    if (valid) {
      if (m === W_CONST) {
        const v = readLeb(c);
        if (v > 255 || valid[v] !== 1) fail(c, `${name} value ${v} is not valid`);
        tU8[Off[name]] = v;
      } else if (m === 1) {
        need(c, count);
        varying.push({ name, mode: m, pos: c.pos, first: 0 });
        c.pos += count;
      } else fail(c, `unknown mode ${m} for ${name}`);
      continue;
    }
    if (m === W_CONST) {
      const v = readLeb(c);
      if (v > 0xffffffff) fail(c, `${name} value exceeds 32 bits`);
      tU32[Off[name] / 4] = v;
      continue;
    }
    if (!U32_READERS[m & ~BASE] || ((m & BASE) !== 0 && (m & DELTA) === 0))
      fail(c, `unknown mode ${m} for ${name}`);
    let first = 0;
    if ((m & BASE) !== 0) {
      first = readLeb(c);
      if (first > 0xffffffff) fail(c, `${name} value exceeds 32 bits`);
    }
    need(c, count * (m & 0x0f));
    varying.push({ name, mode: m, pos: c.pos, first });
    c.pos += count * (m & 0x0f);
  }
  if (c.pos !== c.end) fail(c, `${c.end - c.pos} trailing bytes`);

  // ---- the template over every record
  const total = count * EVENT_SIZE;
  const u8 = new Uint8Array(out, outOffset, total);
  if (count > 0) {
    u8.set(tU8, 0);
    for (let filled = EVENT_SIZE; filled < total; filled *= 2)
      u8.copyWithin(filled, 0, Math.min(filled, total - filled));
  }

  // ---- pass 2: seq and the varying columns
  const f64 = new Float64Array(out, outOffset, count * F64_STRIDE);
  const u32 = new Uint32Array(out, outOffset, count * U32_STRIDE);
  seqColumn(f64, count, firstSeq);
  for (const v of varying) {
    if (v.name === 'timeNs') {
      const tBase = Off.timeNs / 8;
      if (v.mode === W_F64) {
        if (!f64Column(blob, v.pos, f64, tBase, count)) {
          c.pos = v.pos;
          fail(c, 'time is not a number');
        }
      } else if ((v.mode & ~BASE) === (W_VARINT | DELTA)) {
        c.pos = v.pos;
        let t = v.first;
        for (let i = 0; i < count; i++) {
          const z = readLeb(c);
          t += z % 2 === 0 ? z / 2 : -(z + 1) / 2;
          f64[tBase + i * F64_STRIDE] = t;
        }
      } else (TIME_READERS[v.mode & 0x0f] as TimeReader)(blob, v.pos, f64, tBase, count, v.first);
      continue;
    }
    const valid = VALID_BYTES[v.name];
    if (valid) {
      if (!u8Column(blob, v.pos, u8, Off[v.name], count, valid)) {
        c.pos = v.pos;
        fail(c, `a ${v.name} value is not valid`);
      }
      continue;
    }
    (U32_READERS[v.mode & ~BASE] as U32Reader)(blob, v.pos, u32, Off[v.name] / 4, count, v.first);
  }
}
