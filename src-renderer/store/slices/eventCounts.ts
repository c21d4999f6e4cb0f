import type { StateCreator } from 'zustand';
import type { AppState } from '../index';
import type { ProblemKindName } from '../../../src-shared/ledger/ledger';
import { PROBLEM_KINDS } from '../../../src-shared/ledger/ledger';

/**
 * Coarse numbers about the session's events (the events themselves live in columns): the
 * ledger's, published together, so every view that shows a count shows the same one.
 */
export interface LiveCounts {
  /** Rows known (received + missing). */
  known: number;
  received: number;
  missing: number;
  analysed: number;
  allocations: number;
  frees: number;
  freeNulls: number;
  failures: number;
  violations: number;
  leaks: number;
  apiErrors: number;
  /** failures + apiErrors + violations + leaks: the one problems count. */
  problems: number;
  problemsByKind: Record<ProblemKindName, number>;
  liveBlocks: number;
  liveBytes: number;
  peakLiveBytes: number;
  bytesAllocated: number;
  bytesFreed: number;
  /** Time of the last analysed event (ns since session start). */
  lastTimeNs: number;
  /** Column-store memory. */
  storeBytes: number;
}

export const EMPTY_COUNTS: LiveCounts = {
  known: 0,
  received: 0,
  missing: 0,
  analysed: 0,
  allocations: 0,
  frees: 0,
  freeNulls: 0,
  failures: 0,
  violations: 0,
  leaks: 0,
  apiErrors: 0,
  problems: 0,
  problemsByKind: Object.fromEntries(PROBLEM_KINDS.map((k) => [k, 0])) as Record<
    ProblemKindName,
    number
  >,
  liveBlocks: 0,
  liveBytes: 0,
  peakLiveBytes: 0,
  bytesAllocated: 0,
  bytesFreed: 0,
  lastTimeNs: 0,
  storeBytes: 0,
};

export interface EventsSlice {
  /** Bumped (throttled, a few times per second) when events were analysed. */
  eventsVersion: number;
  counts: LiveCounts;
  setCounts(c: LiveCounts): void;
}

export const createEventsSlice: StateCreator<AppState, [], [], EventsSlice> = (set) => ({
  eventsVersion: 0,
  counts: EMPTY_COUNTS,
  setCounts: (counts) => set((s) => ({ counts, eventsVersion: s.eventsVersion + 1 })),
});
