/**
 * Encoder and decoder of trace-event batches (layout in ./layout.ts).
 *
 * A batch is an ArrayBuffer of exactly `count * EVENT_SIZE` bytes, so it is self-describing and
 * can be transferred (postMessage transfer list, WebSocket binary frame, MessagePort) without
 * any envelope. Hot paths read fields through typed-array views, never through objects.
 */
import { EVENT_SIZE, Off, API_CALL_NAMES, EVENT_KIND_NAMES, NO_CLASS } from './layout';
import type { ApiCallName, EventKindName } from './layout';

const F64_STRIDE = EVENT_SIZE / 8;
const U32_STRIDE = EVENT_SIZE / 4;
const TWO_POW_32 = 4294967296;

/** One event as plain fields, for the code paths that are not hot. */
export interface EventFields {
  kind: number;
  api: number;
  walkClass: number;
  strategy: number;
  markerId: number;
  threadId: number;
  address: bigint;
  size: number;
  aux0: number;
  aux1: number;
}

export interface DecodedEvent extends EventFields {
  seq: number;
  timeNs: number;
  kindName: EventKindName;
  apiName: ApiCallName;
  /** `0x…` lowercase hex. */
  addressHex: string;
}

/** Appends events into fixed-capacity buffers and hands each full (or flushed) batch over. */
export class EventWriter {
  private buffer!: ArrayBuffer;
  private f64!: Float64Array;
  private u32!: Uint32Array;
  private u8!: Uint8Array;
  private count = 0;
  private nextSeq: number;

  constructor(
    private readonly capacity: number,
    private readonly onBatch: (batch: ArrayBuffer, firstSeq: number) => void,
    private readonly clockNs: () => number,
    firstSeq = 0,
  ) {
    if (!Number.isInteger(capacity) || capacity <= 0)
      throw new RangeError('capacity must be a positive integer');
    this.nextSeq = firstSeq;
    this.allocate();
  }

  private allocate(): void {
    this.buffer = new ArrayBuffer(this.capacity * EVENT_SIZE);
    this.f64 = new Float64Array(this.buffer);
    this.u32 = new Uint32Array(this.buffer);
    this.u8 = new Uint8Array(this.buffer);
    this.count = 0;
  }

  /** The writer's clock now (the time the next event would get). */
  now(): number {
    return this.clockNs();
  }

  /** Sequence number the next event will get (= number of events written so far). */
  get seq(): number {
    return this.nextSeq;
  }

  get pending(): number {
    return this.count;
  }

  /**
   * Appends one event. `addrLo`/`addrHi` are the address halves (see splitAddress). Returns the
   * event's sequence number.
   */
  write(
    kind: number,
    api: number,
    walkClass: number,
    strategy: number,
    markerId: number,
    threadId: number,
    addrLo: number,
    addrHi: number,
    size: number,
    aux0: number,
    aux1: number,
  ): number {
    const i = this.count;
    const seq = this.nextSeq++;
    const f = i * F64_STRIDE;
    const w = i * U32_STRIDE;
    const b = i * EVENT_SIZE;
    this.f64[f] = seq;
    this.f64[f + 1] = this.clockNs();
    this.u32[w + 4] = addrLo;
    this.u32[w + 5] = addrHi;
    this.u32[w + 6] = size;
    this.u8[b + Off.kind] = kind;
    this.u8[b + Off.api] = api;
    this.u8[b + Off.walkClass] = walkClass;
    this.u8[b + Off.strategy] = strategy;
    this.u32[w + 8] = markerId;
    this.u32[w + 9] = threadId;
    this.u32[w + 10] = aux0 >>> 0;
    this.u32[w + 11] = aux1 >>> 0;
    this.count = i + 1;
    if (this.count === this.capacity) this.flush();
    return seq;
  }

  /** Convenience form for code that is not hot. */
  writeFields(e: EventFields): number {
    const [lo, hi] = splitAddress(e.address);
    return this.write(
      e.kind,
      e.api,
      e.walkClass,
      e.strategy,
      e.markerId,
      e.threadId,
      lo,
      hi,
      e.size,
      e.aux0,
      e.aux1,
    );
  }

  /** Hands over the pending events (if any) as one batch. */
  flush(): void {
    if (this.count === 0) return;
    const firstSeq = this.nextSeq - this.count;
    const full = this.count === this.capacity;
    const batch = full ? this.buffer : this.buffer.slice(0, this.count * EVENT_SIZE);
    if (full) this.allocate();
    else this.count = 0;
    this.onBatch(batch, firstSeq);
  }
}

/** Splits a 64-bit address into [low32, high32] numbers. */
export function splitAddress(address: bigint): [number, number] {
  return [Number(BigInt.asUintN(32, address)), Number(BigInt.asUintN(32, address >> 32n))];
}

export function joinAddress(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

export function hexAddress(lo: number, hi: number): string {
  if (hi === 0) return '0x' + (lo >>> 0).toString(16);
  return '0x' + (hi >>> 0).toString(16) + (lo >>> 0).toString(16).padStart(8, '0');
}

export class CorruptBatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorruptBatchError';
  }
}

/** Read-only typed view over one batch. Cheap to construct; field reads are array loads. */
export class EventBatchView {
  readonly count: number;
  private readonly f64: Float64Array;
  private readonly u32: Uint32Array;
  private readonly u8: Uint8Array;

  /** The records of `buffer`, or its first `count` (a reused buffer may be longer). */
  constructor(
    readonly buffer: ArrayBuffer,
    count?: number,
  ) {
    if (count === undefined && buffer.byteLength % EVENT_SIZE !== 0) {
      throw new CorruptBatchError(
        `event batch of ${buffer.byteLength} bytes is not a multiple of ${EVENT_SIZE}`,
      );
    }
    if (
      count !== undefined &&
      !(Number.isSafeInteger(count) && count >= 0 && count * EVENT_SIZE <= buffer.byteLength)
    )
      throw new CorruptBatchError(
        `${count} records do not fit a batch of ${buffer.byteLength} bytes`,
      );
    this.count = count ?? buffer.byteLength / EVENT_SIZE;
    this.f64 = new Float64Array(buffer, 0, this.count * F64_STRIDE);
    this.u32 = new Uint32Array(buffer, 0, this.count * U32_STRIDE);
    this.u8 = new Uint8Array(buffer, 0, this.count * EVENT_SIZE);
  }

  seq(i: number): number {
    return this.f64[i * F64_STRIDE] as number;
  }
  timeNs(i: number): number {
    return this.f64[i * F64_STRIDE + 1] as number;
  }
  addrLo(i: number): number {
    return this.u32[i * U32_STRIDE + 4] as number;
  }
  addrHi(i: number): number {
    return this.u32[i * U32_STRIDE + 5] as number;
  }
  /** Address as a number: exact below 2^53 (all x86-64 user-space addresses). */
  addressNumber(i: number): number {
    return this.addrHi(i) * TWO_POW_32 + this.addrLo(i);
  }
  address(i: number): bigint {
    return joinAddress(this.addrLo(i), this.addrHi(i));
  }
  size(i: number): number {
    return this.u32[i * U32_STRIDE + 6] as number;
  }
  kind(i: number): number {
    return this.u8[i * EVENT_SIZE + Off.kind] as number;
  }
  api(i: number): number {
    return this.u8[i * EVENT_SIZE + Off.api] as number;
  }
  walkClass(i: number): number {
    return this.u8[i * EVENT_SIZE + Off.walkClass] as number;
  }
  strategy(i: number): number {
    return this.u8[i * EVENT_SIZE + Off.strategy] as number;
  }
  markerId(i: number): number {
    return this.u32[i * U32_STRIDE + 8] as number;
  }
  threadId(i: number): number {
    return this.u32[i * U32_STRIDE + 9] as number;
  }
  aux0(i: number): number {
    return this.u32[i * U32_STRIDE + 10] as number;
  }
  aux1(i: number): number {
    return this.u32[i * U32_STRIDE + 11] as number;
  }

  /**
   * Checks what a decoder can check: known kinds and APIs, consecutive sequence numbers.
   * Throws CorruptBatchError naming the first bad record. Used on every untrusted input
   * (imported trace files, spill files).
   */
  validate(expectedFirstSeq?: number): void {
    for (let i = 0; i < this.count; i++) {
      const kind = this.kind(i);
      if (EVENT_KIND_NAMES[kind] === undefined)
        throw new CorruptBatchError(`record ${i}: unknown event kind ${kind}`);
      const api = this.api(i);
      if (API_CALL_NAMES[api] === undefined)
        throw new CorruptBatchError(`record ${i}: unknown API ${api}`);
      const cls = this.walkClass(i);
      if (cls > 4 && cls !== NO_CLASS)
        throw new CorruptBatchError(`record ${i}: unknown walk class ${cls}`);
      const seq = this.seq(i);
      const want =
        expectedFirstSeq === undefined ? (i === 0 ? seq : this.seq(0) + i) : expectedFirstSeq + i;
      if (seq !== want || !Number.isInteger(seq))
        throw new CorruptBatchError(`record ${i}: sequence ${seq}, expected ${want}`);
      if (!Number.isFinite(this.timeNs(i)))
        throw new CorruptBatchError(`record ${i}: time is not a number`);
    }
  }

  toObject(i: number): DecodedEvent {
    const lo = this.addrLo(i);
    const hi = this.addrHi(i);
    const kind = this.kind(i);
    const api = this.api(i);
    return {
      seq: this.seq(i),
      timeNs: this.timeNs(i),
      kind,
      kindName: EVENT_KIND_NAMES[kind] ?? ('Alloc' as EventKindName),
      api,
      apiName: API_CALL_NAMES[api] ?? 'None',
      walkClass: this.walkClass(i),
      strategy: this.strategy(i),
      markerId: this.markerId(i),
      threadId: this.threadId(i),
      address: joinAddress(lo, hi),
      addressHex: hexAddress(lo, hi),
      size: this.size(i),
      aux0: this.aux0(i),
      aux1: this.aux1(i),
    };
  }

  *[Symbol.iterator](): IterableIterator<DecodedEvent> {
    for (let i = 0; i < this.count; i++) yield this.toObject(i);
  }
}

/** Concatenates batches (e.g. pages read back from the trace store). */
export function concatBatches(batches: readonly ArrayBuffer[]): ArrayBuffer {
  let total = 0;
  for (const b of batches) total += b.byteLength;
  const out = new Uint8Array(total);
  let at = 0;
  for (const b of batches) {
    out.set(new Uint8Array(b), at);
    at += b.byteLength;
  }
  return out.buffer;
}
