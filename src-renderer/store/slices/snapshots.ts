import type { StateCreator } from 'zustand';
import type { ErrorReply, SnapshotDiff, SnapshotInfo } from '../../../src-shared/contract/model';
import type { AppState } from '../index';

export interface CompareState {
  a: string | null;
  b: string | null;
  diff: SnapshotDiff | null;
  loading: boolean;
  error: ErrorReply | null;
}

export interface SnapshotsSlice {
  snapshots: SnapshotInfo[];
  activeSnapshotId: string | null;
  /** Bumped when entry pages of any snapshot arrive (rows live in snapshotCache). */
  snapshotDataVersion: number;
  capturing: boolean;
  captureError: ErrorReply | null;
  compare: CompareState;
  addSnapshot(s: SnapshotInfo): void;
  removeSnapshot(id: string): void;
  setActiveSnapshot(id: string | null): void;
  bumpSnapshotData(): void;
  setCapturing(capturing: boolean, error?: ErrorReply | null): void;
  setCompare(patch: Partial<CompareState>): void;
}

export const createSnapshotsSlice: StateCreator<AppState, [], [], SnapshotsSlice> = (set) => ({
  snapshots: [],
  activeSnapshotId: null,
  snapshotDataVersion: 0,
  capturing: false,
  captureError: null,
  compare: { a: null, b: null, diff: null, loading: false, error: null },
  addSnapshot: (snap) =>
    set((s) => ({
      snapshots: [...s.snapshots.filter((x) => x.snapshotId !== snap.snapshotId), snap],
    })),
  removeSnapshot: (id) =>
    set((s) => ({
      snapshots: s.snapshots.filter((x) => x.snapshotId !== id),
      activeSnapshotId: s.activeSnapshotId === id ? null : s.activeSnapshotId,
      compare:
        s.compare.a === id || s.compare.b === id
          ? {
              a: s.compare.a === id ? null : s.compare.a,
              b: s.compare.b === id ? null : s.compare.b,
              diff: null,
              loading: false,
              error: null,
            }
          : s.compare,
    })),
  setActiveSnapshot: (id) => set({ activeSnapshotId: id }),
  bumpSnapshotData: () => set((s) => ({ snapshotDataVersion: s.snapshotDataVersion + 1 })),
  setCapturing: (capturing, error = null) => set({ capturing, captureError: error }),
  setCompare: (patch) => set((s) => ({ compare: { ...s.compare, ...patch } })),
});
