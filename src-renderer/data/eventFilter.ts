/** Event-log filtering over the column store: a predicate per row and an incremental index. */
import { EventKind, isViolation, NO_CLASS } from '../lib/traceEvents';
import { U32List } from '../lib/growable';
import type { EventColumns } from './eventColumns';
import { MISSING_KIND } from './eventColumns';

export const OP_GROUPS = [
  'alloc',
  'free',
  'failed',
  'freeNull',
  'walk',
  'violation',
  'error',
] as const;
export type OpGroup = (typeof OP_GROUPS)[number];

export const OP_LABELS: Record<OpGroup, string> = {
  alloc: 'Alloc',
  free: 'Free',
  failed: 'Failed alloc',
  freeNull: 'Free(NULL)',
  walk: 'Walk / marker',
  violation: 'Violation / leak',
  error: 'API error',
};

export function opGroupOf(kind: number): OpGroup | null {
  switch (kind) {
    case EventKind.Alloc:
      return 'alloc';
    case EventKind.Free:
      return 'free';
    case EventKind.AllocFailed:
      return 'failed';
    case EventKind.FreeNull:
      return 'freeNull';
    case EventKind.ApiError:
      return 'error';
    case MISSING_KIND:
      return null;
    default:
      return isViolation(kind) ? 'violation' : 'walk';
  }
}

export interface EventFilter {
  /** Empty = all operations. */
  ops: readonly OpGroup[];
  /** ApiCall value, or -1 for any. */
  api: number;
  /** Walk class value (NO_CLASS = outside a walk call), or -1 for any. */
  cls: number;
  minSize: number | null;
  maxSize: number | null;
}

export const NO_FILTER: EventFilter = { ops: [], api: -1, cls: -1, minSize: null, maxSize: null };

export function isFilterActive(f: EventFilter): boolean {
  return f.ops.length > 0 || f.api >= 0 || f.cls >= 0 || f.minSize !== null || f.maxSize !== null;
}

export function makeMatcher(c: EventColumns, f: EventFilter): (seq: number) => boolean {
  const ops = new Set(f.ops);
  const anyOp = ops.size === 0;
  const min = f.minSize ?? -Infinity;
  const max = f.maxSize ?? Infinity;
  const cls = f.cls === NO_CLASS ? NO_CLASS : f.cls;
  return (s) => {
    const k = c.kind.get(s);
    if (k === MISSING_KIND) return false;
    if (!anyOp) {
      const g = opGroupOf(k);
      if (g === null || !ops.has(g)) return false;
    }
    if (f.api >= 0 && c.api.get(s) !== f.api) return false;
    if (cls >= 0 && c.cls.get(s) !== cls) return false;
    const size = c.size.get(s);
    return size >= min && size <= max;
  };
}

/**
 * Rows matching a filter, extended as events arrive. When a missing range below the scanned
 * point is filled, call `reset` (the rows would otherwise be skipped).
 */
export class FilteredIndex {
  readonly rows = new U32List(4096);
  scanned = 0;
  private matcher: ((seq: number) => boolean) | null = null;
  private filter: EventFilter = NO_FILTER;
  private cols: EventColumns | null = null;

  setFilter(c: EventColumns, f: EventFilter): void {
    this.cols = c;
    this.filter = f;
    this.matcher = makeMatcher(c, f);
    this.reset();
  }

  get current(): EventFilter {
    return this.filter;
  }

  reset(): void {
    this.rows.clear();
    this.scanned = 0;
  }

  /** Scans rows up to `limit`; returns whether new matches were found. */
  extend(limit: number): boolean {
    const m = this.matcher;
    const c = this.cols;
    // Without a filter the log shows seqs directly: no index to keep.
    if (!m || !c || !isFilterActive(this.filter)) return false;
    const before = this.rows.length;
    let s = this.scanned;
    for (; s < limit; s++) {
      if (c.kind.get(s) === MISSING_KIND) break;
      if (m(s)) this.rows.push(s);
    }
    this.scanned = s;
    return this.rows.length !== before;
  }

  /** Position of seq in the index (or of the first row after it). */
  positionOf(seq: number): number {
    const d = this.rows.data;
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((d[mid] as number) < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
