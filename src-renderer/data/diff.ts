/** Compare view: counting and filtering the rows of diffSnapshots. */
import type { ChangeKind, DiffRow } from '../../src-shared/contract/model';
import type { WalkEntry } from '../../src-shared/pss/entries';
import { matchesQuery, parseQuery } from './tableIndex';

export interface DiffCounts {
  added: number;
  removed: number;
  changed: number;
}

export function diffCounts(rows: readonly DiffRow<unknown>[]): DiffCounts {
  const c = { added: 0, removed: 0, changed: 0 };
  for (const r of rows) c[r.change]++;
  return c;
}

/** Indices of rows whose change kind is selected and whose text matches the query. */
export function filterDiff<T>(
  rows: readonly DiffRow<T>[],
  kinds: ReadonlySet<ChangeKind>,
  query: string,
  text: (row: DiffRow<T>) => string,
): Uint32Array {
  const q = parseQuery(query);
  const hasQ = q.include.length + q.exclude.length > 0;
  const out = new Uint32Array(rows.length);
  let n = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as DiffRow<T>;
    if (!kinds.has(r.change)) continue;
    if (hasQ && !matchesQuery(text(r).toLowerCase(), q)) continue;
    out[n++] = i;
  }
  return out.slice(0, n);
}

/** The entry to show for a diff row: the new one, or the old one for removals. */
export function diffEntry(r: DiffRow<WalkEntry>): WalkEntry | null {
  return r.after ?? r.before;
}

/** The value at a dotted path ("details.usage.rss") of an entry. */
export function valueAt(e: WalkEntry | null, path: string): unknown {
  let v: unknown = e;
  for (const k of path.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** The value of a field (a dotted path for details members) before and after. */
export function fieldChange(r: DiffRow<WalkEntry>, field: string): [unknown, unknown] {
  return [valueAt(r.before, field), valueAt(r.after, field)];
}
