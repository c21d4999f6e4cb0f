/**
 * The process tree (System Informer's view): parents and children by ppid, siblings sorted by
 * the chosen column, collapsed branches hidden. A search (or filter) shows the matching
 * processes only, each nested under its nearest matching ancestor, so the rows are exactly the
 * matches and the tree still reads right ("postgres" shows the postmaster with its children).
 * Pure: no DOM.
 */
import type { ProcessRow } from '../../src-shared/contract/model';
import { matchesQuery, parseQuery, type SortDir, type SortKey } from './tableIndex';

export interface TreeRow {
  row: ProcessRow;
  depth: number;
  /** Index of the parent in the visible list, or -1. */
  parent: number;
  hasChildren: boolean;
  expanded: boolean;
}

export interface TreeOptions {
  query: string;
  sortKey: ((r: ProcessRow) => SortKey) | null;
  dir: SortDir;
  collapsed: ReadonlySet<number>;
  keep?: (r: ProcessRow) => boolean;
  /** Searchable text of a row. */
  text: (r: ProcessRow) => string;
}

function compare(a: SortKey, b: SortKey): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}

/** The visible rows, depth-first, with depth and parent links for keyboard navigation. */
export function buildProcessTree(rows: readonly ProcessRow[], o: TreeOptions): TreeRow[] {
  const byPid = new Map<number, ProcessRow>();
  for (const r of rows) byPid.set(r.pid, r);
  const q = parseQuery(o.query);
  const filtering = q.include.length + q.exclude.length > 0 || o.keep !== undefined;
  const kept = filtering
    ? new Set(
        rows
          .filter((r) => (!o.keep || o.keep(r)) && matchesQuery(o.text(r).toLowerCase(), q))
          .map((r) => r.pid),
      )
    : null;
  /** The nearest ancestor that is shown (all of them without a filter), or undefined. */
  const shownParent = (r: ProcessRow): ProcessRow | undefined => {
    const seen = new Set<number>([r.pid]);
    let p = r.ppid !== r.pid ? byPid.get(r.ppid) : undefined;
    while (p && kept && !kept.has(p.pid)) {
      if (seen.has(p.pid)) return undefined; // a cycle: treat as a root
      seen.add(p.pid);
      p = p.ppid !== p.pid ? byPid.get(p.ppid) : undefined;
    }
    return p && !seen.has(p.pid) ? p : undefined;
  };
  const children = new Map<number, ProcessRow[]>();
  const roots: ProcessRow[] = [];
  for (const r of rows) {
    if (kept && !kept.has(r.pid)) continue;
    const parent = shownParent(r);
    if (!parent) roots.push(r);
    else {
      let list = children.get(parent.pid);
      if (!list) children.set(parent.pid, (list = []));
      list.push(r);
    }
  }
  const sortKey = o.sortKey;
  const sign = o.dir === 'asc' ? 1 : -1;
  const ordered = (list: ProcessRow[]): ProcessRow[] =>
    sortKey
      ? [...list].sort((a, b) => sign * compare(sortKey(a), sortKey(b)) || a.pid - b.pid)
      : [...list].sort((a, b) => a.pid - b.pid);

  const out: TreeRow[] = [];
  // Iterative depth-first walk (process trees can be thousands deep in pathological cases).
  const stack: { row: ProcessRow; depth: number; parent: number }[] = ordered(roots)
    .reverse()
    .map((row) => ({ row, depth: 0, parent: -1 }));
  while (stack.length > 0) {
    const { row, depth, parent } = stack.pop() as (typeof stack)[number];
    const kids = children.get(row.pid) ?? [];
    const expanded = filtering || !o.collapsed.has(row.pid);
    const index = out.length;
    out.push({
      row,
      depth,
      parent,
      hasChildren: kids.length > 0,
      expanded: kids.length > 0 && expanded,
    });
    if (expanded)
      for (const k of ordered(kids).reverse())
        stack.push({ row: k, depth: depth + 1, parent: index });
  }
  return out;
}

export type TreeKey =
  'ArrowDown' | 'ArrowUp' | 'ArrowLeft' | 'ArrowRight' | 'Home' | 'End' | 'PageDown' | 'PageUp';

/**
 * Keyboard navigation of a tree list: the new selected index, and a pid to expand or
 * collapse (ArrowRight on a collapsed branch expands it; ArrowLeft on an expanded one
 * collapses it, else moves to the parent).
 */
export function treeKey(
  rows: readonly TreeRow[],
  selected: number | null,
  key: TreeKey,
  page = 20,
): { index: number | null; toggle: number | null } {
  if (rows.length === 0) return { index: null, toggle: null };
  const last = rows.length - 1;
  const cur = selected === null ? -1 : Math.min(selected, last);
  const at = (i: number) => ({ index: Math.max(0, Math.min(last, i)), toggle: null });
  switch (key) {
    case 'ArrowDown':
      return at(cur + 1);
    case 'ArrowUp':
      return at(cur < 0 ? 0 : cur - 1);
    case 'Home':
      return at(0);
    case 'End':
      return at(last);
    case 'PageDown':
      return at(cur + page);
    case 'PageUp':
      return at(cur - page);
    case 'ArrowRight': {
      const r = rows[cur];
      if (!r) return at(0);
      if (r.hasChildren && !r.expanded) return { index: cur, toggle: r.row.pid };
      return r.hasChildren ? at(cur + 1) : { index: cur, toggle: null };
    }
    case 'ArrowLeft': {
      const r = rows[cur];
      if (!r) return at(0);
      if (r.expanded) return { index: cur, toggle: r.row.pid };
      return r.parent >= 0 ? at(r.parent) : { index: cur, toggle: null };
    }
  }
}
