import type { StateCreator } from 'zustand';
import type { ErrorReply, SessionState, SessionSummary } from '../../../src-shared/contract/model';
import type { AppState } from '../index';

export interface SessionSlice {
  session: SessionState | null;
  summary: SessionSummary | null;
  /** A control request in flight (buttons show it). */
  controlPending: string | null;
  sessionError: ErrorReply | null;
  /** Bumped when walk entries arrive (rows live in the session data module). */
  entriesVersion: number;
  setSession(s: SessionState | null): void;
  setSummary(s: SessionSummary | null): void;
  setControlPending(action: string | null): void;
  setSessionError(e: ErrorReply | null): void;
  bumpEntries(): void;
}

export const createSessionSlice: StateCreator<AppState, [], [], SessionSlice> = (set) => ({
  session: null,
  summary: null,
  controlPending: null,
  sessionError: null,
  entriesVersion: 0,
  setSession: (session) => set(() => ({ session })),
  setSummary: (summary) => set({ summary }),
  setControlPending: (controlPending) => set({ controlPending }),
  setSessionError: (sessionError) => set({ sessionError }),
  bumpEntries: () => set((s) => ({ entriesVersion: s.entriesVersion + 1 })),
});
