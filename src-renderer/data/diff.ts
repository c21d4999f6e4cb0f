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

/** The value of a field before and after, for a changed row. */
export function fieldChange(r: DiffRow<WalkEntry>, field: string): [unknown, unknown] {
  const get = (e: WalkEntry | null): unknown =>
    e === null ? undefined : (e as unknown as Record<string, unknown>)[field];
  return [get(r.before), get(r.after)];
}
