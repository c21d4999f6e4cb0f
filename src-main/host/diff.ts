/**
 * Differences between two snapshots: threads matched by thread id, handles by handle number +
 * type + name (a reused number with another object is a removal and an addition), regions by
 * base address. A matched pair whose fields differ is 'changed', with the names of those fields.
 */
import type { DiffRow, SnapshotDiff } from '../../src-shared/contract/model';
import type { WalkEntry } from '../../src-shared/pss/entries';

/** When the snapshot was taken, not a property of the thread/handle/region. */
const IGNORED_FIELDS = new Set(['captureTime']);

export function keyOf(e: WalkEntry): string {
  switch (e.kind) {
    case 'thread':
      return `tid:${e.threadId}`;
    case 'handle':
      return `fd:${e.handle}:${e.typeName}:${e.objectName}`;
    case 'region':
      return `va:${e.baseAddress}`;
    case 'page':
      return `page:${e.address}`;
  }
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Objects whose members are compared one by one (dotted paths: "details.cpuTime"). */
const DESCEND = new Set(['details', 'details.usage', 'details.syscall', 'context']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !('na' in v);
}

function collect(
  ra: Record<string, unknown>,
  rb: Record<string, unknown>,
  prefix: string,
  out: string[],
): void {
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  for (const k of keys) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (IGNORED_FIELDS.has(path) || same(ra[k], rb[k])) continue;
    const va = ra[k];
    const vb = rb[k];
    if (DESCEND.has(path) && isPlainObject(va) && isPlainObject(vb)) collect(va, vb, path, out);
    else out.push(path);
  }
}

/**
 * Names of the fields that differ; inside the inspection details (and their usage counters),
 * the member that changed ("details.cpuTime", "details.usage.rss"), so that a change reads as
 * "CPU time 1.2 s → 1.5 s" rather than "details changed".
 */
export function changedFields(a: WalkEntry, b: WalkEntry): string[] {
  const out: string[] = [];
  collect(
    a as unknown as Record<string, unknown>,
    b as unknown as Record<string, unknown>,
    '',
    out,
  );
  return out;
}

export function diffEntries(
  before: readonly WalkEntry[],
  after: readonly WalkEntry[],
): { rows: DiffRow<WalkEntry>[]; unchanged: number } {
  const a = new Map<string, WalkEntry>();
  for (const e of before) a.set(keyOf(e), e);
  const rows: DiffRow<WalkEntry>[] = [];
  let unchanged = 0;
  const seen = new Set<string>();
  for (const e of after) {
    const key = keyOf(e);
    seen.add(key);
    const old = a.get(key);
    if (!old) {
      rows.push({ change: 'added', key, before: null, after: e, fields: [] });
      continue;
    }
    const fields = changedFields(old, e);
    if (fields.length === 0) unchanged++;
    else rows.push({ change: 'changed', key, before: old, after: e, fields });
  }
  for (const [key, e] of a) {
    if (!seen.has(key)) rows.push({ change: 'removed', key, before: e, after: null, fields: [] });
  }
  return { rows, unchanged };
}

export function diffSnapshots(
  ids: { a: string; b: string },
  a: { threads: WalkEntry[]; handles: WalkEntry[]; regions: WalkEntry[] },
  b: { threads: WalkEntry[]; handles: WalkEntry[]; regions: WalkEntry[] },
): SnapshotDiff {
  const threads = diffEntries(a.threads, b.threads);
  const handles = diffEntries(a.handles, b.handles);
  const regions = diffEntries(a.regions, b.regions);
  return {
    a: ids.a,
    b: ids.b,
    threads: threads.rows,
    handles: handles.rows,
    regions: regions.rows,
    unchanged: {
      threads: threads.unchanged,
      handles: handles.unchanged,
      regions: regions.unchanged,
    },
  };
}
