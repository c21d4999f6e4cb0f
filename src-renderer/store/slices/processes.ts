import type { StateCreator } from 'zustand';
import type { ErrorReply, ProcessRow } from '../../../src-shared/contract/model';
import type { AppState } from '../index';

export interface ProcessesSlice {
  processes: {
    rows: ProcessRow[];
    loading: boolean;
    error: ErrorReply | null;
    loadedAtMs: number;
  };
  /** The process the user picked (capture panel target). */
  selectedPid: number | null;
  setProcesses(patch: Partial<ProcessesSlice['processes']>): void;
  selectPid(pid: number | null): void;
}

export const createProcessesSlice: StateCreator<AppState, [], [], ProcessesSlice> = (set) => ({
  processes: { rows: [], loading: false, error: null, loadedAtMs: 0 },
  selectedPid: null,
  setProcesses: (patch) => set((s) => ({ processes: { ...s.processes, ...patch } })),
  selectPid: (pid) => set({ selectedPid: pid }),
});
