import type { StateCreator } from 'zustand';
import type { AllocatorOptions } from '../../../src-shared/alloc/options';
import { DEFAULT_ALLOCATOR_OPTIONS } from '../../../src-shared/alloc/options';
import type { ErrorReply, Pace } from '../../../src-shared/contract/model';
import { DEFAULT_CAPTURE_FLAGS } from '../../../src-shared/pss/constants';
import type { WalkableClass } from '../../../src-shared/pss/constants';
import type { EventFilter } from '../../data/eventFilter';
import { NO_FILTER } from '../../data/eventFilter';
import type { AppState } from '../index';

export const TABS = ['processes', 'capture', 'walk', 'allocations', 'snapshot', 'compare'] as const;
export type Tab = (typeof TABS)[number];

export interface CaptureForm {
  flags: number;
  allocator: AllocatorOptions;
  classes: WalkableClass[];
  pace: Pace;
  onAllocFailure: 'stop' | 'retry';
  /** Walk every class this many times (PssWalkMarkerSeekToBeginning between passes). */
  passes: number;
  /** Snapshot captures also read per-region memory usage (smaps; slower than maps). */
  usage: boolean;
}

export const DEFAULT_CAPTURE_FORM: CaptureForm = {
  flags: DEFAULT_CAPTURE_FLAGS,
  allocator: DEFAULT_ALLOCATOR_OPTIONS,
  classes: ['THREADS', 'HANDLES', 'VA_SPACE'],
  pace: { mode: 'paced', entriesPerSecond: 20 },
  onAllocFailure: 'stop',
  passes: 1,
  usage: false,
};

export type ColorBy = 'api' | 'class';

export interface UiSlice {
  tab: Tab;
  /** Selected event (seq) across timeline, block map, event log and problems. */
  selectedSeq: number | null;
  /**
   * The time cursor: the block map, live blocks, histogram, breakdowns and problems show the
   * state after the first `timeCursor` events; null = now (the default, following the walk).
   */
  timeCursor: number | null;
  eventFilter: EventFilter;
  colorBy: ColorBy;
  captureForm: CaptureForm;
  /** An error not tied to one view (shown in the banner). */
  banner: ErrorReply | null;
  aboutOpen: boolean;
  /** The keyboard-shortcut overlay (? or F1). */
  helpOpen: boolean;
  /** File name of the trace the session on screen was imported from (null: a live session). */
  importedTrace: string | null;
  /** What Start walk walks: 'live' (a new capture of the selected process) or a snapshot id. */
  walkTarget: string;
  setTab(tab: Tab): void;
  selectSeq(seq: number | null): void;
  setTimeCursor(events: number | null): void;
  setEventFilter(f: EventFilter): void;
  setColorBy(c: ColorBy): void;
  setCaptureForm(patch: Partial<CaptureForm>): void;
  setBanner(e: ErrorReply | null): void;
  setAboutOpen(open: boolean): void;
  setHelpOpen(open: boolean): void;
  setImportedTrace(fileName: string | null): void;
  setWalkTarget(target: string): void;
}

export const createUiSlice: StateCreator<AppState, [], [], UiSlice> = (set) => ({
  tab: 'processes',
  selectedSeq: null,
  timeCursor: null,
  eventFilter: NO_FILTER,
  colorBy: 'api',
  captureForm: DEFAULT_CAPTURE_FORM,
  banner: null,
  aboutOpen: false,
  helpOpen: false,
  importedTrace: null,
  walkTarget: 'live',
  setTab: (tab) => set({ tab }),
  selectSeq: (selectedSeq) => set({ selectedSeq }),
  setTimeCursor: (timeCursor) => set({ timeCursor }),
  setEventFilter: (eventFilter) => set({ eventFilter }),
  setColorBy: (colorBy) => set({ colorBy }),
  setCaptureForm: (patch) => set((s) => ({ captureForm: { ...s.captureForm, ...patch } })),
  setBanner: (banner) => set({ banner }),
  setAboutOpen: (aboutOpen) => set({ aboutOpen }),
  setHelpOpen: (helpOpen) => set({ helpOpen }),
  setImportedTrace: (importedTrace) => set({ importedTrace }),
  setWalkTarget: (walkTarget) => set({ walkTarget }),
});
