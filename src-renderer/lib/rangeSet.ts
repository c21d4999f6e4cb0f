/**
 * A set of disjoint half-open integer ranges [start, end), kept sorted and merged. Used for the
 * event sequence numbers the renderer knows exist but has not received yet (after an
 * `aggregate` push), so they can be fetched with getEvents and shown as "missing" meanwhile.
 */
export interface Range {
  start: number;
  end: number;
}

export class RangeSet {
  /** Flattened [s0, e0, s1, e1, …], sorted, non-overlapping, non-adjacent. */
  private bounds: number[] = [];

  get isEmpty(): boolean {
    return this.bounds.length === 0;
  }

  /** Number of integers covered. */
  get size(): number {
    let n = 0;
    for (let i = 0; i < this.bounds.length; i += 2)
      n += (this.bounds[i + 1] as number) - (this.bounds[i] as number);
    return n;
  }

  get rangeCount(): number {
    return this.bounds.length / 2;
  }

  ranges(): Range[] {
    const out: Range[] = [];
    for (let i = 0; i < this.bounds.length; i += 2)
      out.push({ start: this.bounds[i] as number, end: this.bounds[i + 1] as number });
    return out;
  }

  first(): Range | null {
    if (this.bounds.length === 0) return null;
    return { start: this.bounds[0] as number, end: this.bounds[1] as number };
  }

  /** Index of the first range whose end is > x. */
  private lowerRange(x: number): number {
    let lo = 0;
    let hi = this.bounds.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.bounds[mid * 2 + 1] as number) <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  has(x: number): boolean {
    const r = this.lowerRange(x);
    return r * 2 < this.bounds.length && (this.bounds[r * 2] as number) <= x;
  }

  /** Whether any integer of [start, end) is in the set. */
  intersects(start: number, end: number): boolean {
    if (end <= start) return false;
    const r = this.lowerRange(start);
    return r * 2 < this.bounds.length && (this.bounds[r * 2] as number) < end;
  }

  add(start: number, end: number): void {
    if (end <= start) return;
    // First range that ends at or after start (adjacent ranges merge).
    let lo = this.lowerRange(start - 1);
    if (lo * 2 < this.bounds.length && (this.bounds[lo * 2 + 1] as number) < start) lo++;
    let hi = lo;
    let s = start;
    let e = end;
    while (hi * 2 < this.bounds.length && (this.bounds[hi * 2] as number) <= end) {
      s = Math.min(s, this.bounds[hi * 2] as number);
      e = Math.max(e, this.bounds[hi * 2 + 1] as number);
      hi++;
    }
    this.bounds.splice(lo * 2, (hi - lo) * 2, s, e);
  }

  remove(start: number, end: number): void {
    if (end <= start) return;
    const lo = this.lowerRange(start);
    let hi = lo;
    const keep: number[] = [];
    while (hi * 2 < this.bounds.length && (this.bounds[hi * 2] as number) < end) {
      const s = this.bounds[hi * 2] as number;
      const e = this.bounds[hi * 2 + 1] as number;
      if (s < start) keep.push(s, start);
      if (e > end) keep.push(end, e);
      hi++;
    }
    if (hi > lo) this.bounds.splice(lo * 2, (hi - lo) * 2, ...keep);
  }

  clear(): void {
    this.bounds = [];
  }
}
