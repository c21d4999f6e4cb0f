/**
 * Compact, lossless encoding of one batch of 48-byte event records (src-shared/events/layout.ts)
 * for trace files. The batch is split into columns, one per field; each column is stored in the
 * cheapest of a few modes, chosen per batch:
 *
 *   CONST   every value equal: one varint, nothing per event (markerId, threadId, strategy…)
 *   VARINT  unsigned LEB128 per event
 *   DELTA   zigzag LEB128 of the difference to the previous value (32-bit wrap-around for u32
 *           columns, exact integer arithmetic for the 53-bit time column)
 *   F64     8 raw bytes per event (the time column when some timestamp is not an integer)
 *
 * seq is not stored: a batch holds consecutive sequence numbers from `firstSeq`. The column
 * blob is then deflate-compressed by the caller. Decoding rebuilds byte-identical records.
 */
import { EVENT_SIZE, Off } from '../../src-shared/events/layout';

export const ColumnMode = { CONST: 0, VARINT: 1, DELTA: 2, F64: 3 } as const;

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

export class ColumnDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ColumnDecodeError';
  }
}

const U8_FIELDS: readonly (keyof typeof Off)[] = ['kind', 'api', 'walkClass', 'strategy'];

const F64_STRIDE = EVENT_SIZE / 8;
const U32_STRIDE = EVENT_SIZE / 4;

/** Growable byte sink with LEB128 helpers. */
class Sink {
  buf: Uint8Array;
  len = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(64, capacity));
  }
  private ensure(n: number): void {
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
  /** Unsigned LEB128 of a u32. */
  u32(v: number): void {
    this.ensure(5);
    const b = this.buf;
    let n = this.len;
    v >>>= 0;
    while (v >= 0x80) {
      b[n++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[n++] = v;
    this.len = n;
  }
  /** Unsigned LEB128 of a non-negative safe integer (up to 2^53). */
  uint(v: number): void {
    this.ensure(8);
    const b = this.buf;
    let n = this.len;
    while (v >= 0x80) {
      b[n++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[n++] = v;
    this.len = n;
  }
  f64(v: number): void {
    this.ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 8).setFloat64(0, v, true);
    this.len += 8;
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

const zigzag32 = (d: number): number => ((d << 1) ^ (d >> 31)) >>> 0;
const unzigzag32 = (z: number): number => (z >>> 1) ^ -(z & 1);
/** Zigzag for safe integers (|d| < 2^52). */
const zigzagInt = (d: number): number => (d >= 0 ? d * 2 : -d * 2 - 1);
const unzigzagInt = (z: number): number => (z % 2 === 0 ? z / 2 : -(z + 1) / 2);

function varintLen32(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Encodes `count` records of `batch` into a column blob (to be deflated by the caller). */
export function encodeColumns(batch: ArrayBuffer, count: number): Uint8Array {
  if (batch.byteLength < count * EVENT_SIZE) throw new RangeError('batch shorter than count');
  const f64 = new Float64Array(batch, 0, count * F64_STRIDE);
  const u32 = new Uint32Array(batch, 0, count * U32_STRIDE);
  const u8 = new Uint8Array(batch, 0, count * EVENT_SIZE);
  const out = new Sink(count * 12 + 64);

  // time: integer ns → DELTA (or CONST); otherwise raw f64.
  {
    const base = Off.timeNs / 8;
    let integral = true;
    let allSame = true;
    const t0 = f64[base] ?? 0;
    for (let i = 0; i < count; i++) {
      const t = f64[base + i * F64_STRIDE] as number;
      if (!Number.isSafeInteger(t) || t < 0) integral = false;
      if (!Object.is(t, t0)) allSame = false;
    }
    if (count > 0 && allSame) {
      out.byte(ColumnMode.CONST);
      out.f64(t0);
    } else if (integral) {
      out.byte(ColumnMode.DELTA);
      let prev = 0;
      for (let i = 0; i < count; i++) {
        const t = f64[base + i * F64_STRIDE] as number;
        out.uint(zigzagInt(t - prev));
        prev = t;
      }
    } else {
      out.byte(ColumnMode.F64);
      for (let i = 0; i < count; i++) out.f64(f64[base + i * F64_STRIDE] as number);
    }
  }

  // u32 columns (stored in COLUMNS order, u8 columns interleaved at their place).
  for (const name of COLUMNS) {
    if (name === 'timeNs') continue;
    if ((U8_FIELDS as readonly string[]).includes(name)) {
      const off = Off[name];
      const first = u8[off] ?? 0;
      let same = true;
      for (let i = 1; i < count && same; i++) same = u8[off + i * EVENT_SIZE] === first;
      if (same) {
        out.byte(ColumnMode.CONST);
        out.u32(first);
      } else {
        out.byte(ColumnMode.VARINT);
        for (let i = 0; i < count; i++) out.u32(u8[off + i * EVENT_SIZE] as number);
      }
      continue;
    }
    const idx = Off[name] / 4;
    const first = u32[idx] ?? 0;
    let same = true;
    let rawLen = 0;
    let deltaLen = 0;
    let prev = 0;
    for (let i = 0; i < count; i++) {
      const v = u32[idx + i * U32_STRIDE] as number;
      if (v !== first) same = false;
      rawLen += varintLen32(v);
      deltaLen += varintLen32(zigzag32((v - prev) | 0));
      prev = v;
    }
    if (same) {
      out.byte(ColumnMode.CONST);
      out.u32(first);
    } else if (deltaLen < rawLen) {
      out.byte(ColumnMode.DELTA);
      prev = 0;
      for (let i = 0; i < count; i++) {
        const v = u32[idx + i * U32_STRIDE] as number;
        out.u32(zigzag32((v - prev) | 0));
        prev = v;
      }
    } else {
      out.byte(ColumnMode.VARINT);
      for (let i = 0; i < count; i++) out.u32(u32[idx + i * U32_STRIDE] as number);
    }
  }
  return out.bytes();
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
  const end = blob.length;
  let p = 0;
  const fail = (what: string): never => {
    throw new ColumnDecodeError(`event columns: ${what} (at byte ${p} of ${end})`);
  };
  const readU32 = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      if (p >= end) fail('varint runs past the end');
      const b = blob[p++] as number;
      if (shift === 28 && b > 0x0f) fail('varint exceeds 32 bits');
      v |= (b & 0x7f) << shift;
      if (b < 0x80) return v >>> 0;
      shift += 7;
    }
  };
  const readUint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (p >= end) fail('varint runs past the end');
      const b = blob[p++] as number;
      v += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 0x80;
      if (mul > 2 ** 56) fail('varint exceeds 53 bits');
    }
    if (!Number.isSafeInteger(v)) fail('integer exceeds 2^53');
    return v;
  };
  const readF64 = (): number => {
    if (p + 8 > end) fail('f64 runs past the end');
    const v = new DataView(blob.buffer, blob.byteOffset + p, 8).getFloat64(0, true);
    p += 8;
    return v;
  };
  const mode = (): number => {
    if (p >= end) fail('column mode missing');
    return blob[p++] as number;
  };

  for (let i = 0; i < count; i++) f64[i * F64_STRIDE + Off.seq / 8] = firstSeq + i;

  const tBase = Off.timeNs / 8;
  switch (mode()) {
    case ColumnMode.CONST: {
      const t = readF64();
      for (let i = 0; i < count; i++) f64[tBase + i * F64_STRIDE] = t;
      break;
    }
    case ColumnMode.DELTA: {
      let t = 0;
      for (let i = 0; i < count; i++) {
        t += unzigzagInt(readUint());
        f64[tBase + i * F64_STRIDE] = t;
      }
      break;
    }
    case ColumnMode.F64:
      for (let i = 0; i < count; i++) f64[tBase + i * F64_STRIDE] = readF64();
      break;
    default:
      fail('unknown time column mode');
  }

  for (const name of COLUMNS) {
    if (name === 'timeNs') continue;
    const m = mode();
    if ((U8_FIELDS as readonly string[]).includes(name)) {
      const off = Off[name];
      if (m === ColumnMode.CONST) {
        const v = readU32();
        if (v > 255) fail(`${name} value ${v} exceeds a byte`);
        for (let i = 0; i < count; i++) u8[off + i * EVENT_SIZE] = v;
      } else if (m === ColumnMode.VARINT) {
        for (let i = 0; i < count; i++) {
          const v = readU32();
          if (v > 255) fail(`${name} value ${v} exceeds a byte`);
          u8[off + i * EVENT_SIZE] = v;
        }
      } else fail(`unknown mode ${m} for ${name}`);
      continue;
    }
    const idx = Off[name] / 4;
    if (m === ColumnMode.CONST) {
      const v = readU32();
      for (let i = 0; i < count; i++) u32[idx + i * U32_STRIDE] = v;
    } else if (m === ColumnMode.VARINT) {
      for (let i = 0; i < count; i++) u32[idx + i * U32_STRIDE] = readU32();
    } else if (m === ColumnMode.DELTA) {
      let prev = 0;
      for (let i = 0; i < count; i++) {
        prev = (prev + unzigzag32(readU32())) >>> 0;
        u32[idx + i * U32_STRIDE] = prev;
      }
    } else fail(`unknown mode ${m} for ${name}`);
  }
  if (p !== end) fail(`${end - p} trailing bytes`);
}
