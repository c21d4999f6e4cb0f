/**
 * Sorting and filtering big tables by index: rows stay where they are (arrays of entries), a
 * view is a Uint32Array of row numbers. Sorting precomputes one key per row, then sorts indices.
 */
export type SortDir = 'asc' | 'desc';
export type SortKey = number | string;

export interface SortSpec {
  column: string;
  dir: SortDir;
}

/** Query tokens: whitespace-separated, all must match (case-insensitive); "-x" excludes x. */
export interface Query {
  include: string[];
  exclude: string[];
}

export function parseQuery(text: string): Query {
  const include: string[] = [];
  const exclude: string[] = [];
  for (const raw of text.toLowerCase().split(/\s+/)) {
    if (!raw) continue;
    if (raw.startsWith('-') && raw.length > 1) exclude.push(raw.slice(1));
    else include.push(raw);
  }
  return { include, exclude };
}

export function matchesQuery(haystackLower: string, q: Query): boolean {
  for (const t of q.include) if (!haystackLower.includes(t)) return false;
  for (const t of q.exclude) if (haystackLower.includes(t)) return false;
  return true;
}

/** Row numbers 0..count-1 passing `keep`. */
export function filterIndices(count: number, keep: (row: number) => boolean): Uint32Array {
  const out = new Uint32Array(count);
  let n = 0;
  for (let i = 0; i < count; i++) if (keep(i)) out[n++] = i;
  return out.slice(0, n);
}

/** Sorts `indices` in place by the key of each row; ties keep row order. */
export function sortIndices(
  indices: Uint32Array,
  keyOf: (row: number) => SortKey,
  dir: SortDir,
  rowCount: number,
): Uint32Array {
  if (indices.length < 2) return indices;
  const first = keyOf(indices[0] as number);
  const sign = dir === 'asc' ? 1 : -1;
  if (typeof first === 'number') {
    const keys = new Float64Array(rowCount);
    for (const i of indices) {
      const k = keyOf(i);
      keys[i] = typeof k === 'number' ? k : Number(k);
    }
    indices.sort((a, b) => {
      const d = (keys[a] as number) - (keys[b] as number);
      return d !== 0 && !Number.isNaN(d) ? sign * d : a - b;
    });
  } else {
    const keys: string[] = new Array<string>(rowCount);
    for (const i of indices) keys[i] = String(keyOf(i)).toLowerCase();
    indices.sort((a, b) => {
      const ka = keys[a] as string;
      const kb = keys[b] as string;
      return ka < kb ? -sign : ka > kb ? sign : a - b;
    });
  }
  return indices;
}

/** Filter then sort: the index a table view renders. */
export function buildIndex<T>(
  rows: readonly T[],
  query: string,
  searchText: (row: T) => string,
  sortKey: ((row: T) => SortKey) | null,
  dir: SortDir,
  extraFilter?: (row: T) => boolean,
): Uint32Array {
  const q = parseQuery(query);
  const hasQuery = q.include.length + q.exclude.length > 0;
  const idx =
    hasQuery || extraFilter
      ? filterIndices(rows.length, (i) => {
          const r = rows[i] as T;
          if (extraFilter && !extraFilter(r)) return false;
          return !hasQuery || matchesQuery(searchText(r).toLowerCase(), q);
        })
      : Uint32Array.from({ length: rows.length }, (_, i) => i);
  if (sortKey) sortIndices(idx, (i) => sortKey(rows[i] as T), dir, rows.length);
  return idx;
}
