/**
 * The module-owned columnar store of a session's trace events (never in the zustand store).
 *
 * Sequence numbers run from 0 without gaps, so the row index IS the seq. Columns are chunked
 * typed arrays (lib/chunkedColumn): growing never copies. Events arrive by `events` pushes, in
 * order, each seq once (the host's credit stream); a batch that started past the end would leave its gap recorded in
 * `missing` (rows of MISSING_KIND with interpolated times, so the time column stays monotonic
 * for binary search), and the analysis stops before it.
 *
 * AnalysisColumns is the analysis worker's lean copy: only the fields the fold reads.
 */
import { EventBatchView, isCallEnding } from '../lib/traceEvents';
import { RangeSet } from '../lib/rangeSet';
import {
  CHUNK_ROWS,
  CHUNK_SHIFT,
  ChunkedColumn,
  forEachChunkRun,
  type NumberColumn,
} from '../lib/chunkedColumn';

/** Kind value of a row we know exists but have not received. */
export const MISSING_KIND = 255;

/** Bytes of one chunk of the page's columns (all eleven: 40 bytes a row). */
export const EVENT_CHUNK_BYTES = CHUNK_ROWS * 40;

/**
 * Where the page's column chunks come from: memory already touched by another thread (the
 * analysis worker, analysis/client.ts), or null to allocate here. Fresh memory costs its page
 * faults to the thread that first writes it — ~3 ms per MB on the machines measured, most of
 * the UI thread's cost of taking events in.
 */
export type ChunkMemory = (bytes: number) => ArrayBuffer | null;

export class EventColumns {
  /** Rows known (received or missing) = highest known seq + 1. */
  length = 0;
  /** Rows actually received. */
  received = 0;
  readonly missing = new RangeSet();

  readonly timeNs = new ChunkedColumn(Float64Array);
  /** Block address as a number (exact below 2^53: every user-space address). */
  readonly address = new ChunkedColumn(Float64Array);
  readonly size = new ChunkedColumn(Uint32Array);
  readonly kind = new ChunkedColumn(Uint8Array);
  readonly api = new ChunkedColumn(Uint8Array);
  readonly cls = new ChunkedColumn(Uint8Array);
  readonly strategy = new ChunkedColumn(Uint8Array);
  readonly markerId = new ChunkedColumn(Uint32Array);
  readonly threadId = new ChunkedColumn(Uint32Array);
  readonly aux0 = new ChunkedColumn(Uint32Array);
  readonly aux1 = new ChunkedColumn(Uint32Array);

  constructor(private readonly memory: ChunkMemory = () => null) {}

  get capacity(): number {
    return this.kind.capacity;
  }

  /** Adds chunks until rows [0, n) exist: one buffer a chunk, carved into the eleven columns. */
  private ensure(n: number): void {
    const R = CHUNK_ROWS;
    while (this.capacity < n) {
      const given = this.memory(EVENT_CHUNK_BYTES);
      const b =
        given && given.byteLength === EVENT_CHUNK_BYTES
          ? given
          : new ArrayBuffer(EVENT_CHUNK_BYTES);
      this.timeNs.adopt(new Float64Array(b, 0, R));
      this.address.adopt(new Float64Array(b, 8 * R, R));
      this.size.adopt(new Uint32Array(b, 16 * R, R));
      this.markerId.adopt(new Uint32Array(b, 20 * R, R));
      this.threadId.adopt(new Uint32Array(b, 24 * R, R));
      this.aux0.adopt(new Uint32Array(b, 28 * R, R));
      this.aux1.adopt(new Uint32Array(b, 32 * R, R));
      this.kind.adopt(new Uint8Array(b, 36 * R, R));
      this.api.adopt(new Uint8Array(b, 37 * R, R));
      this.cls.adopt(new Uint8Array(b, 38 * R, R));
      this.strategy.adopt(new Uint8Array(b, 39 * R, R));
    }
  }

  /** Bytes held by the columns (for the memory read-out). */
  get byteSize(): number {
    return (this.capacity / CHUNK_ROWS) * EVENT_CHUNK_BYTES;
  }

  /**
   * Marks [from, to) as existing but not received (an aggregate push). Rows beyond the current
   * length are appended as placeholders with times interpolated between t0 and t1.
   */
  noteMissing(from: number, to: number, t0: number, t1: number): void {
    if (to <= from) return;
    const start = Math.max(from, this.length);
    if (to > this.length) {
      this.ensure(to);
      const span = Math.max(1, to - from - 1);
      for (let s = start; s < to; s++) {
        this.timeNs.set(s, t0 + ((t1 - t0) * (s - from)) / span);
        this.kind.set(s, MISSING_KIND);
      }
      this.missing.add(start, to);
      this.length = to;
    }
  }

  /**
   * Copies one batch of records (seq firstSeq…). Rows already received are skipped; a batch
   * that starts past the end leaves a missing range in between. Returns the rows that were new.
   */
  append(buffer: ArrayBuffer, firstSeq: number): number {
    const v = new EventBatchView(buffer);
    const n = v.count;
    if (n === 0) return 0;
    const end = firstSeq + n;
    if (firstSeq > this.length) {
      const tPrev = this.length > 0 ? this.timeNs.get(this.length - 1) : 0;
      this.noteMissing(this.length, firstSeq, tPrev, v.timeNs(0));
    }
    this.ensure(end);
    let added = 0;
    if (firstSeq < this.length) {
      // Rows we may hold already: only missing ones are taken.
      for (let i = 0; i < n; i++) {
        const s = firstSeq + i;
        if (s < this.length && this.kind.get(s) !== MISSING_KIND) continue;
        this.copyRows(v, i, s, 1);
        added++;
      }
      this.missing.remove(firstSeq, Math.min(end, this.length));
    } else {
      // New rows, chunk by chunk.
      forEachChunkRun(firstSeq, n, (i, s, rows) => this.copyRows(v, i, s, rows));
      added = n;
    }
    if (end > this.length) this.length = end;
    this.received += added;
    return added;
  }

  /** Copies records [i, i + rows) of v to rows [s, s + rows), all in one chunk. */
  private copyRows(v: EventBatchView, i: number, s: number, rows: number): void {
    const ch = s >>> CHUNK_SHIFT;
    const at = s & (CHUNK_ROWS - 1);
    const time = this.timeNs.chunks[ch] as Float64Array;
    const address = this.address.chunks[ch] as Float64Array;
    const size = this.size.chunks[ch] as Uint32Array;
    const kind = this.kind.chunks[ch] as Uint8Array;
    const api = this.api.chunks[ch] as Uint8Array;
    const cls = this.cls.chunks[ch] as Uint8Array;
    const strategy = this.strategy.chunks[ch] as Uint8Array;
    const markerId = this.markerId.chunks[ch] as Uint32Array;
    const threadId = this.threadId.chunks[ch] as Uint32Array;
    const aux0 = this.aux0.chunks[ch] as Uint32Array;
    const aux1 = this.aux1.chunks[ch] as Uint32Array;
    for (let j = 0; j < rows; j++) {
      const r = i + j;
      const o = at + j;
      time[o] = v.timeNs(r);
      address[o] = v.addressNumber(r);
      const k = v.kind(r);
      // a call-ending event's size is its call's duration (layout.ts), not a block size
      size[o] = isCallEnding(k) ? 0 : v.size(r);
      kind[o] = k;
      api[o] = v.api(r);
      cls[o] = v.walkClass(r);
      strategy[o] = v.strategy(r);
      markerId[o] = v.markerId(r);
      threadId[o] = v.threadId(r);
      aux0[o] = v.aux0(r);
      aux1[o] = v.aux1(r);
    }
  }

  isMissing(seq: number): boolean {
    return this.kind.get(seq) === MISSING_KIND;
  }

  /** First seq ≥ 0 whose time is ≥ t (length when none). Times are monotonic. */
  lowerBoundTime(t: number, limit = this.length): number {
    let lo = 0;
    let hi = limit;
    const tc = this.timeNs;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (tc.get(mid) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  clear(): void {
    this.length = 0;
    this.received = 0;
    this.missing.clear();
  }
}

/** The fields the analysis reads (data/analysis.ts), of the page's columns or the worker's. */
export interface AnalysedColumns {
  readonly length: number;
  readonly missing: RangeSet;
  readonly kind: NumberColumn;
  readonly address: NumberColumn;
  readonly size: NumberColumn;
  readonly api: NumberColumn;
  readonly cls: NumberColumn;
  readonly strategy: NumberColumn;
  readonly aux0: NumberColumn;
}

/** The analysis worker's columns: 20 bytes an event (the page's EventColumns hold 40). */
export class AnalysisColumns implements AnalysedColumns {
  length = 0;
  readonly missing = new RangeSet();
  readonly address = new ChunkedColumn(Float64Array);
  readonly size = new ChunkedColumn(Uint32Array);
  readonly kind = new ChunkedColumn(Uint8Array);
  readonly api = new ChunkedColumn(Uint8Array);
  readonly cls = new ChunkedColumn(Uint8Array);
  readonly strategy = new ChunkedColumn(Uint8Array);
  readonly aux0 = new ChunkedColumn(Uint32Array);
  private readonly all = [
    this.address,
    this.size,
    this.kind,
    this.api,
    this.cls,
    this.strategy,
    this.aux0,
  ];

  get byteSize(): number {
    let perRow = 0;
    for (const c of this.all) perRow += c.bytesPerRow;
    return this.kind.capacity * perRow;
  }

  /** Copies one batch (seq firstSeq…); a batch past the end leaves the rows between missing. */
  append(buffer: ArrayBuffer, firstSeq: number): void {
    const v = new EventBatchView(buffer);
    const n = v.count;
    if (n === 0) return;
    const end = firstSeq + n;
    for (const c of this.all) c.ensure(end);
    if (firstSeq > this.length) {
      for (let s = this.length; s < firstSeq; s++) this.kind.set(s, MISSING_KIND);
      this.missing.add(this.length, firstSeq);
    }
    forEachChunkRun(firstSeq, n, (i, s, rows) => {
      const ch = s >>> CHUNK_SHIFT;
      const at = s & (CHUNK_ROWS - 1);
      const address = this.address.chunks[ch] as Float64Array;
      const size = this.size.chunks[ch] as Uint32Array;
      const kind = this.kind.chunks[ch] as Uint8Array;
      const api = this.api.chunks[ch] as Uint8Array;
      const cls = this.cls.chunks[ch] as Uint8Array;
      const strategy = this.strategy.chunks[ch] as Uint8Array;
      const aux0 = this.aux0.chunks[ch] as Uint32Array;
      for (let j = 0; j < rows; j++) {
        const r = i + j;
        const o = at + j;
        address[o] = v.addressNumber(r);
        size[o] = v.size(r);
        kind[o] = v.kind(r);
        api[o] = v.api(r);
        cls[o] = v.walkClass(r);
        strategy[o] = v.strategy(r);
        aux0[o] = v.aux0(r);
      }
    });
    if (firstSeq < this.length) this.missing.remove(firstSeq, Math.min(end, this.length));
    if (end > this.length) this.length = end;
  }
}
