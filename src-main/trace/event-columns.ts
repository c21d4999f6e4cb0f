/**
 * Compact, lossless encoding of one batch of 48-byte event records (src-shared/events/layout.ts)
 * for trace files. The batch is split into columns, one per field, and each column is stored in
 * the smallest fixed width its values (or their zigzag deltas) fit in this batch:
 *
 *   mode byte = width | (DELTA if stored as differences to the previous value)
 *   width 0  CONST: one LEB128 value (f64 for time), nothing per event (markerId, threadId…)
 *   width 1, 2, 4: that many little-endian bytes per event
 *   width 8  (time only) raw f64 per event, when some timestamp is not an integer
 *   width 9  (time only) LEB128 zigzag deltas of integer ns, when a gap exceeds 32 bits
 *
 * Fixed widths make decoding a branch-free loop per column; deflate (by the caller) then
 * squeezes out the zero bytes the widths leave. seq is not stored: a batch holds consecutive
 * sequence numbers from `firstSeq`. Decoding rebuilds byte-identical records.
 */
import { EVENT_SIZE, Off } from '../../src-shared/events/layout';

export const DELTA = 0x10;
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
  /** `count` values of `width` bytes from `src` (u32 values). */
  fixed(src: Uint32Array, count: number, width: number): void {
    this.ensure(count * width);
    const b = this.buf;
    let p = this.len;
    if (width === 1) for (let i = 0; i < count; i++) b[p++] = src[i] as number;
    else if (width === 2)
      for (let i = 0; i < count; i++) {
        const v = src[i] as number;
        b[p++] = v & 0xff;
        b[p++] = v >>> 8;
      }
    else
      for (let i = 0; i < count; i++) {
        const v = src[i] as number;
        b[p++] = v & 0xff;
        b[p++] = (v >>> 8) & 0xff;
        b[p++] = (v >>> 16) & 0xff;
        b[p++] = v >>> 24;
      }
    this.len = p;
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

const widthFor = (max: number): number => (max < 0x100 ? 1 : max < 0x10000 ? 2 : 4);

/** Scratch columns reused across batches (encoding runs on one thread at a time). */
let scratchRaw = new Uint32Array(4096);
let scratchDelta = new Uint32Array(4096);

/** Encodes `count` records of `batch` into a column blob (to be deflated by the caller). */
export function encodeColumns(batch: ArrayBuffer, count: number): Uint8Array {
  if (batch.byteLength < count * EVENT_SIZE) throw new RangeError('batch shorter than count');
  const f64 = new Float64Array(batch, 0, count * F64_STRIDE);
  const u32 = new Uint32Array(batch, 0, count * U32_STRIDE);
  const u8 = new Uint8Array(batch, 0, count * EVENT_SIZE);
  const out = new Sink(count * 10 + 64);
  if (scratchRaw.length < count) {
    scratchRaw = new Uint32Array(count);
    scratchDelta = new Uint32Array(count);
  }
  const raw = scratchRaw;
  const dz = scratchDelta;

  // time
  {
    const base = Off.timeNs / 8;
    let integral = true;
    let allSame = true;
    let maxZ = 0;
    const t0 = count > 0 ? (f64[base] as number) : 0;
    let prev = 0;
    for (let i = 0; i < count; i++) {
      const t = f64[base + i * F64_STRIDE] as number;
      if (!Object.is(t, t0)) allSame = false;
      if (!Number.isSafeInteger(t) || t < 0) integral = false;
      else {
        const d = t - prev;
        const z = d >= 0 ? d * 2 : -d * 2 - 1;
        if (z > maxZ) maxZ = z;
        prev = t;
      }
    }
    if (count > 0 && allSame) {
      out.byte(W_CONST);
      out.f64(t0);
    } else if (!integral) {
      out.byte(W_F64);
      for (let i = 0; i < count; i++) out.f64(f64[base + i * F64_STRIDE] as number);
    } else if (maxZ <= 0xffffffff) {
      const w = widthFor(maxZ);
      prev = 0;
      for (let i = 0; i < count; i++) {
        const t = f64[base + i * F64_STRIDE] as number;
        const d = t - prev;
        dz[i] = d >= 0 ? d * 2 : -d * 2 - 1;
        prev = t;
      }
      out.byte(w | DELTA);
      out.fixed(dz, count, w);
    } else {
      out.byte(W_VARINT | DELTA);
      prev = 0;
      for (let i = 0; i < count; i++) {
        const t = f64[base + i * F64_STRIDE] as number;
        const d = t - prev;
        out.leb(d >= 0 ? d * 2 : -d * 2 - 1);
        prev = t;
      }
    }
  }

  for (const name of COLUMNS) {
    if (name === 'timeNs') continue;
    if (BYTE_COLUMNS.has(name)) {
      const off = Off[name];
      const first = u8[off] ?? 0;
      let same = true;
      for (let i = 0; i < count; i++) {
        const v = u8[off + i * EVENT_SIZE] as number;
        raw[i] = v;
        if (v !== first) same = false;
      }
      if (same) {
        out.byte(W_CONST);
        out.leb(first);
      } else {
        out.byte(1);
        out.fixed(raw, count, 1);
      }
      continue;
    }
    const idx = Off[name] / 4;
    const first = u32[idx] ?? 0;
    let same = true;
    let maxRaw = 0;
    let maxDelta = 0;
    let prev = 0;
    for (let i = 0; i < count; i++) {
      const v = u32[idx + i * U32_STRIDE] as number;
      raw[i] = v;
      if (v !== first) same = false;
      if (v > maxRaw) maxRaw = v;
      const d = (v - prev) | 0;
      const z = ((d << 1) ^ (d >> 31)) >>> 0;
      dz[i] = z;
      if (z > maxDelta) maxDelta = z;
      prev = v;
    }
    if (same) {
      out.byte(W_CONST);
      out.leb(first);
    } else {
      const wr = widthFor(maxRaw);
      const wd = widthFor(maxDelta);
      if (wd < wr) {
        out.byte(wd | DELTA);
        out.fixed(dz, count, wd);
      } else {
        out.byte(wr);
        out.fixed(raw, count, wr);
      }
    }
  }
  return out.bytes();
}

// ---------------------------------------------------------------------------------------------

/** Position and extent of the decode in progress (module-level so the hot loops stay small). */
let pos = 0;
let blobEnd = 0;
function fail(what: string): never {
  throw new ColumnDecodeError(`event columns: ${what} (at byte ${pos} of ${blobEnd})`);
}

function need(n: number): void {
  if (pos + n > blobEnd) fail('column runs past the end');
}

/** A u32 column of fixed width into dst[idx + i*U32_STRIDE], plain or zigzag delta. */
function readFixedU32(
  b: Uint8Array,
  count: number,
  dst: Uint32Array,
  idx: number,
  mode: number,
): void {
  const w = mode & 0x0f;
  if (w !== 1 && w !== 2 && w !== 4) fail(`unknown column width ${w}`);
  need(count * w);
  let p = pos;
  const delta = (mode & DELTA) !== 0;
  let prev = 0;
  for (let i = 0, at = idx; i < count; i++, at += U32_STRIDE) {
    let v: number;
    if (w === 1) v = b[p++] as number;
    else if (w === 2) {
      v = (b[p] as number) | ((b[p + 1] as number) << 8);
      p += 2;
    } else {
      v =
        ((b[p] as number) |
          ((b[p + 1] as number) << 8) |
          ((b[p + 2] as number) << 16) |
          ((b[p + 3] as number) << 24)) >>>
        0;
      p += 4;
    }
    if (delta) {
      prev = (prev + ((v >>> 1) ^ -(v & 1))) >>> 0;
      dst[at] = prev;
    } else dst[at] = v;
  }
  pos = p;
}

function readLeb(b: Uint8Array): number {
  let v = 0;
  let mul = 1;
  for (;;) {
    if (pos >= blobEnd) fail('varint runs past the end');
    const c = b[pos++] as number;
    v += (c & 0x7f) * mul;
    if (c < 0x80) break;
    mul *= 0x80;
    if (mul > 2 ** 56) fail('varint exceeds 53 bits');
  }
  if (!Number.isSafeInteger(v)) fail('integer exceeds 2^53');
  return v;
}

function readF64(b: Uint8Array): number {
  need(8);
  const v = new DataView(b.buffer, b.byteOffset + pos, 8).getFloat64(0, true);
  pos += 8;
  return v;
}

/**
 * Decodes a column blob into `count` records with seq firstSeq…, written into `out` (which must
 * hold count × EVENT_SIZE bytes at `outOffset`). Throws ColumnDecodeError on any inconsistency.
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
  const f64 = new Float64Array(out, outOffset, count * F64_STRIDE);
  const u32 = new Uint32Array(out, outOffset, count * U32_STRIDE);
  const u8 = new Uint8Array(out, outOffset, count * EVENT_SIZE);
  pos = 0;
  blobEnd = blob.length;
  const mode = (): number => {
    if (pos >= blobEnd) fail('column mode missing');
    return blob[pos++] as number;
  };

  for (let i = 0, at = Off.seq / 8; i < count; i++, at += F64_STRIDE) f64[at] = firstSeq + i;

  const tBase = Off.timeNs / 8;
  const tm = mode();
  if (tm === W_CONST) {
    const t = readF64(blob);
    for (let i = 0; i < count; i++) f64[tBase + i * F64_STRIDE] = t;
  } else if (tm === W_F64) {
    for (let i = 0; i < count; i++) f64[tBase + i * F64_STRIDE] = readF64(blob);
  } else if (tm === (W_VARINT | DELTA)) {
    let t = 0;
    for (let i = 0; i < count; i++) {
      const z = readLeb(blob);
      t += z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      f64[tBase + i * F64_STRIDE] = t;
    }
  } else if ((tm & DELTA) !== 0) {
    const w = tm & 0x0f;
    if (w !== 1 && w !== 2 && w !== 4) fail(`unknown time column width ${w}`);
    need(count * w);
    let p = pos;
    let t = 0;
    for (let i = 0, at = tBase; i < count; i++, at += F64_STRIDE) {
      let z: number;
      if (w === 1) z = blob[p++] as number;
      else if (w === 2) {
        z = (blob[p] as number) | ((blob[p + 1] as number) << 8);
        p += 2;
      } else {
        z =
          ((blob[p] as number) |
            ((blob[p + 1] as number) << 8) |
            ((blob[p + 2] as number) << 16) |
            ((blob[p + 3] as number) << 24)) >>>
          0;
        p += 4;
      }
      t += z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      f64[at] = t;
    }
    pos = p;
  } else fail(`unknown time column mode ${tm}`);

  for (const name of COLUMNS) {
    if (name === 'timeNs') continue;
    const m = mode();
    if (BYTE_COLUMNS.has(name)) {
      const off = Off[name];
      if (m === W_CONST) {
        const v = readLeb(blob);
        if (v > 255) fail(`${name} value ${v} exceeds a byte`);
        for (let i = 0, at = off; i < count; i++, at += EVENT_SIZE) u8[at] = v;
      } else if (m === 1) {
        need(count);
        for (let i = 0, p = pos, at = off; i < count; i++, at += EVENT_SIZE)
          u8[at] = blob[p++] as number;
        pos += count;
      } else fail(`unknown mode ${m} for ${name}`);
      continue;
    }
    const idx = Off[name] / 4;
    if (m === W_CONST) {
      const v = readLeb(blob);
      if (v > 0xffffffff) fail(`${name} value exceeds 32 bits`);
      for (let i = 0, at = idx; i < count; i++, at += U32_STRIDE) u32[at] = v;
    } else readFixedU32(blob, count, u32, idx, m);
  }
  if (pos !== blobEnd) fail(`${blobEnd - pos} trailing bytes`);
}
