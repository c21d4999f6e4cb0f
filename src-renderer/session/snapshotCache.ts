/** Module-owned rows of captured snapshots, paged in with querySnapshot (large pages). */
import type { ErrorReply } from '../../src-shared/contract/model';
import type { WalkableClass } from '../../src-shared/pss/constants';
import type { WalkEntry } from '../../src-shared/pss/entries';
import { request } from '../api/connection';
import { appStore } from '../store';

export interface ClassRows {
  rows: WalkEntry[];
  total: number | null;
  loading: boolean;
  error: ErrorReply | null;
}

const PAGE = 200_000;
const cache = new Map<string, Map<WalkableClass, ClassRows>>();

export function snapshotRows(snapshotId: string, cls: WalkableClass): ClassRows | null {
  return cache.get(snapshotId)?.get(cls) ?? null;
}

/** Loads every row of one class (once); bumps the store's snapshot version as pages arrive. */
export async function loadSnapshotClass(snapshotId: string, cls: WalkableClass): Promise<void> {
  let perSnap = cache.get(snapshotId);
  if (!perSnap) cache.set(snapshotId, (perSnap = new Map()));
  const existing = perSnap.get(cls);
  if (existing && (existing.loading || existing.error === null)) return;
  const entry: ClassRows = { rows: [], total: null, loading: true, error: null };
  perSnap.set(cls, entry);
  appStore.get().bumpSnapshotData();
  for (;;) {
    const r = await request('querySnapshot', {
      snapshotId,
      cls,
      offset: entry.rows.length,
      limit: PAGE,
    });
    if (!r.ok) {
      entry.error = r.error;
      entry.loading = false;
      break;
    }
    for (const e of r.value.entries) entry.rows.push(e);
    entry.total = r.value.total;
    if (r.value.entries.length === 0 || entry.rows.length >= r.value.total) {
      entry.loading = false;
      break;
    }
    appStore.get().bumpSnapshotData();
  }
  appStore.get().bumpSnapshotData();
}

export function dropSnapshot(snapshotId: string): void {
  cache.delete(snapshotId);
}
