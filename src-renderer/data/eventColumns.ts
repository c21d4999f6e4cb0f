/**
 * The module-owned columnar store of a session's trace events (never in the zustand store).
 *
 * Sequence numbers run from 0 without gaps, so the row index IS the seq. Columns are typed
 * arrays that grow (lib/growable). Events arrive by `events` pushes, in order, each seq once (the
 * host's credit stream); a batch that started past the end would leave its gap recorded in
 * `missing` (rows of MISSING_KIND with interpolated times, so the time column stays monotonic
 * for binary search), and the analysis stops before it.
 *
 * AnalysisColumns is the analysis worker's lean copy: only the fields the fold reads.
 */
import { EventBatchView, isCallEnding } from '../lib/traceEvents';
import { RangeSet } from '../lib/rangeSet';
import { growTo } from '../lib/growable';

/** Kind value of a row we know exists but have not received. */
export const MISSING_KIND = 255;

export class EventColumns {
  /** Rows known (received or missing) = highest known seq + 1. */
  length = 0;
  /** Rows actually received. */
  received = 0;
  readonly missing = new RangeSet();

  timeNs = new Float64Array(0);
  /** Block address as a number (exact below 2^53: every user-space address). */
  address = new Float64Array(0);
  size = new Uint32Array(0);
  kind = new Uint8Array(0);
  api = new Uint8Array(0);
  cls = new Uint8Array(0);
  strategy = new Uint8Array(0);
  markerId = new Uint32Array(0);
  threadId = new Uint32Array(0);
  aux0 = new Uint32Array(0);
  aux1 = new Uint32Array(0);

  get capacity(): number {
    return this.kind.length;
  }

  private ensure(n: number): void {
    if (n <= this.kind.length) return;
    this.timeNs = growTo(this.timeNs, n, Float64Array);
    this.address = growTo(this.address, n, Float64Array);
    this.size = growTo(this.size, n, Uint32Array);
    this.kind = growTo(this.kind, n, Uint8Array);
    this.api = growTo(this.api, n, Uint8Array);
    this.cls = growTo(this.cls, n, Uint8Array);
    this.strategy = growTo(this.strategy, n, Uint8Array);
    this.markerId = growTo(this.markerId, n, Uint32Array);
    this.threadId = growTo(this.threadId, n, Uint32Array);
    this.aux0 = growTo(this.aux0, n, Uint32Array);
    this.aux1 = growTo(this.aux1, n, Uint32Array);
  }

  /** Bytes held by the columns (for the memory read-out). */
  get byteSize(): number {
    return this.capacity * (8 + 8 + 4 + 1 + 1 + 1 + 1 + 4 + 4 + 4 + 4);
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
        this.timeNs[s] = t0 + ((t1 - t0) * (s - from)) / span;
        this.kind[s] = MISSING_KIND;
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
      const tPrev = this.length > 0 ? (this.timeNs[this.length - 1] as number) : 0;
      this.noteMissing(this.length, firstSeq, tPrev, v.timeNs(0));
    }
    this.ensure(end);
    let added = 0;
    const filling = firstSeq < this.length;
    for (let i = 0; i < n; i++) {
      const s = firstSeq + i;
      if (filling && s < this.length && this.kind[s] !== MISSING_KIND) continue;
      this.timeNs[s] = v.timeNs(i);
      this.address[s] = v.addressNumber(i);
      const kind = v.kind(i);
      // a call-ending event's size is its call's duration (layout.ts), not a block size
      this.size[s] = isCallEnding(kind) ? 0 : v.size(i);
      this.kind[s] = kind;
      this.api[s] = v.api(i);
      this.cls[s] = v.walkClass(i);
      this.strategy[s] = v.strategy(i);
      this.markerId[s] = v.markerId(i);
      this.threadId[s] = v.threadId(i);
      this.aux0[s] = v.aux0(i);
      this.aux1[s] = v.aux1(i);
      added++;
    }
    if (filling) this.missing.remove(firstSeq, Math.min(end, this.length));
    if (end > this.length) this.length = end;
    this.received += added;
    return added;
  }

  isMissing(seq: number): boolean {
    return this.kind[seq] === MISSING_KIND;
  }

  /** First seq ≥ 0 whose time is ≥ t (length when none). Times are monotonic. */
  lowerBoundTime(t: number, limit = this.length): number {
    let lo = 0;
    let hi = limit;
    const tc = this.timeNs;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((tc[mid] as number) < t) lo = mid + 1;
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
  readonly kind: Uint8Array;
  readonly address: Float64Array;
  readonly size: Uint32Array;
  readonly api: Uint8Array;
  readonly cls: Uint8Array;
  readonly strategy: Uint8Array;
  readonly aux0: Uint32Array;
}

/** The analysis worker's columns: 20 bytes an event (the page's EventColumns hold 44). */
export class AnalysisColumns implements AnalysedColumns {
  length = 0;
  readonly missing = new RangeSet();
  address = new Float64Array(0);
  size = new Uint32Array(0);
  kind = new Uint8Array(0);
  api = new Uint8Array(0);
  cls = new Uint8Array(0);
  strategy = new Uint8Array(0);
  aux0 = new Uint32Array(0);

  private ensure(n: number): void {
    if (n <= this.kind.length) return;
    this.address = growTo(this.address, n, Float64Array);
    this.size = growTo(this.size, n, Uint32Array);
    this.kind = growTo(this.kind, n, Uint8Array);
    this.api = growTo(this.api, n, Uint8Array);
    this.cls = growTo(this.cls, n, Uint8Array);
    this.strategy = growTo(this.strategy, n, Uint8Array);
    this.aux0 = growTo(this.aux0, n, Uint32Array);
  }

  get byteSize(): number {
    return this.kind.length * (8 + 4 + 1 + 1 + 1 + 1 + 4);
  }

  /** Copies one batch (seq firstSeq…); a batch past the end leaves the rows between missing. */
  append(buffer: ArrayBuffer, firstSeq: number): void {
    const v = new EventBatchView(buffer);
    const n = v.count;
    if (n === 0) return;
    const end = firstSeq + n;
    this.ensure(end);
    if (firstSeq > this.length) {
      for (let s = this.length; s < firstSeq; s++) this.kind[s] = MISSING_KIND;
      this.missing.add(this.length, firstSeq);
    }
    for (let i = 0; i < n; i++) {
      const s = firstSeq + i;
      this.address[s] = v.addressNumber(i);
      this.size[s] = v.size(i);
      this.kind[s] = v.kind(i);
      this.api[s] = v.api(i);
      this.cls[s] = v.walkClass(i);
      this.strategy[s] = v.strategy(i);
      this.aux0[s] = v.aux0(i);
    }
    if (firstSeq < this.length) this.missing.remove(firstSeq, Math.min(end, this.length));
    if (end > this.length) this.length = end;
  }
}
