/** Log2 size buckets for the allocation-size histogram. */

import { SIZE_BUCKETS, sizeBucket } from '../../src-shared/ledger/ledger';

/** Bucket 0 holds size 0; bucket k ≥ 1 holds sizes in [2^(k-1), 2^k) (the ledger's buckets). */
export const BUCKETS = SIZE_BUCKETS;
export const bucketOf = sizeBucket;

/** Smallest size in a bucket. */
export function bucketLow(b: number): number {
  return b === 0 ? 0 : 2 ** (b - 1);
}

/** "0", "1", "2–3", "4–7", …, "1–2 KiB" style labels. */
export function bucketLabel(b: number): string {
  if (b === 0) return '0';
  if (b === 1) return '1';
  const lo = bucketLow(b);
  const hi = 2 ** b - 1;
  return `${short(lo)}–${short(hi + 1)}`;
}

function short(n: number): string {
  if (n >= 1 << 30 && n % (1 << 30) === 0) return `${n / (1 << 30)}G`;
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)}M`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024}K`;
  return String(n);
}

export class SizeHistogram {
  readonly counts = new Float64Array(BUCKETS);
  readonly bytes = new Float64Array(BUCKETS);
  add(size: number): void {
    const b = bucketOf(size);
    this.counts[b] = (this.counts[b] as number) + 1;
    this.bytes[b] = (this.bytes[b] as number) + size;
  }
  /** [first, last] buckets that are non-empty, or null. */
  range(): [number, number] | null {
    let lo = -1;
    let hi = -1;
    for (let b = 0; b < BUCKETS; b++) {
      if ((this.counts[b] as number) > 0) {
        if (lo < 0) lo = b;
        hi = b;
      }
    }
    return lo < 0 ? null : [lo, hi];
  }
  clear(): void {
    this.counts.fill(0);
    this.bytes.fill(0);
  }
}
