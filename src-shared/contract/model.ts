/**
 * The data the host and the renderer exchange (besides the binary event batches of
 * src-shared/events). Plain, JSON-able, defined once.
 */
import type { AllocatorOptions } from '../alloc/options';
import type { AllocatorStats } from '../alloc/stats';
import type { LedgerSummary } from '../ledger/ledger';
import type { WalkableClass } from '../pss/constants';
import type { Maybe, SnapshotDetails } from '../pss/details';
import type {
  PerformanceCounters,
  ProcessInformation,
  SnapshotCounts,
  WalkEntry,
} from '../pss/entries';

/** One row of the process picker. */
export interface ProcessRow {
  pid: number;
  ppid: number;
  name: string;
  /** argv joined by spaces, possibly empty (kernel threads). */
  commandLine: string;
  user: string;
  uid: number;
  threads: number;
  rssBytes: number;
  vsizeBytes: number;
  /** Open handles (/proc/PID/fd entries) — n/a with the reason when we may not list them. */
  handles: Maybe<number>;
  /** CPU time used so far (user + kernel, 100-ns units; 10 ms resolution). */
  cpuTime: number;
  /**
   * Share of the whole machine's CPU (0–100, all CPUs together, like System Informer) since the
   * previous listing on this connection; n/a on the first one.
   */
  cpuPercent: Maybe<number>;
  state: string;
  startTimeMs: number;
  /** Whether this inspector may capture it (handles/VA space need ptrace-read access). */
  inspectable: boolean;
  /** Why not, when it is not. */
  reason?: string;
  /** The inspector's own process. */
  self: boolean;
}

export interface SnapshotInfo {
  snapshotId: string;
  pid: number;
  processName: string;
  flags: number;
  capturedAtMs: number;
  captureMs: number;
  process: ProcessInformation;
  counts: SnapshotCounts;
  performance: PerformanceCounters | null;
  /**
   * Inspection details captured at the same moment (thread names and states, sockets, usage,
   * modules…); null where the platform has none (Windows today) — the entries then carry no
   * `details` either.
   */
  details: SnapshotDetails | null;
}

export interface EntryPage {
  snapshotId: string;
  cls: WalkableClass;
  offset: number;
  total: number;
  entries: WalkEntry[];
}

export type ChangeKind = 'added' | 'removed' | 'changed';
export interface DiffRow<T> {
  change: ChangeKind;
  key: string;
  before: T | null;
  after: T | null;
  /** Names of the fields that differ (for 'changed'). */
  fields: string[];
}
export interface SnapshotDiff {
  a: string;
  b: string;
  threads: DiffRow<WalkEntry>[];
  handles: DiffRow<WalkEntry>[];
  regions: DiffRow<WalkEntry>[];
  unchanged: { threads: number; handles: number; regions: number };
}

export type Pace = { mode: 'run' } | { mode: 'paced'; entriesPerSecond: number };

export type SessionStateName =
  'starting' | 'running' | 'paused' | 'finished' | 'cancelled' | 'failed';

export interface ClassProgress {
  cls: WalkableClass;
  walked: number;
  /** From the snapshot's query class; null when unknown. */
  total: number | null;
  done: boolean;
}

export interface Bookmark {
  id: number;
  label: string;
  cls: WalkableClass;
  entryIndex: number;
  /** PssWalkMarkerGetPosition value, as a decimal string (64-bit). */
  position: string;
}

/** What every session state says, whatever the state. */
interface SessionStateBase {
  sessionId: string;
  pid: number;
  snapshotId: string | null;
  pace: Pace;
  classes: ClassProgress[];
  /** Which pass of the walk is running (0-based) and how many there are. */
  pass: number;
  passes: number;
  bookmarks: Bookmark[];
  eventsStored: number;
  /** The target exited while the session ran (the walk continues from the capture). */
  targetExited: boolean;
  /** Wall-clock time (ms since the Unix epoch) of the session clock's zero: event timeNs is relative to it. */
  clockOriginEpochMs: number;
  /** The allocator options the session runs with (the block map shows guard red zones from them). */
  allocator: AllocatorOptions;
}

/** A session whose walk has not ended. */
export interface ActiveSessionState extends SessionStateBase {
  state: 'starting' | 'running' | 'paused';
  /**
   * The class being walked and how many of its entries have been walked so far (so the entry
   * walked last is entryIndex − 1, and the next one is entryIndex).
   */
  current: { cls: WalkableClass; entryIndex: number } | null;
  error: null;
}

/** A session that ended by itself (finished) or was cancelled, with nothing wrong. */
export interface EndedSessionState extends SessionStateBase {
  state: 'finished' | 'cancelled';
  current: null;
  error: null;
}

/** A session that ended with an error: it always says which. */
export interface FailedSessionState extends SessionStateBase {
  state: 'failed';
  current: null;
  error: ErrorReply;
}

/**
 * A session's state. Built only through src-shared/contract/session-state.ts (one factory per
 * transition); the union makes a failed state without its error, or an ended state with a
 * current position, impossible to build.
 */
export type SessionState = ActiveSessionState | EndedSessionState | FailedSessionState;

export interface CountBytes {
  count: number;
  bytes: number;
}

/** Totals a session's tracer keeps; always equal to what the stored events add up to. */
/** What only the walk knows about a session (the allocation numbers are the ledger's). */
export interface WalkFacts {
  sessionId: string;
  /** Entries walked per class (the last pass's). */
  entriesWalked: Partial<Record<WalkableClass, number>>;
  durations: { captureMs: number; walkMs: number; totalMs: number };
  /**
   * The strategy's own facts at the end of the session (arena usage, pool classes, guard
   * findings, injected faults…); null when the session failed before its allocator existed,
   * a trace file did not record them, or the walk's own process died with them (a user
   * allocator library that crashed: the session's state error says how).
   */
  strategy: AllocatorStats | null;
  /** Exceptions caught inside the allocator routines (never passed to native code). */
  callbackErrors: number;
}

/**
 * The final summary of a session: the ledger folded over every event it wrote
 * (src-shared/ledger) plus the walk's own facts. Its counts equal what any client that folds
 * the same events computes.
 */
export interface SessionSummary extends LedgerSummary, WalkFacts {}

/** 'limit': a per-connection or host-wide cap was reached (ARCHITECTURE.md, Bounded by design). */
export type ErrorKind =
  'pss' | 'validation' | 'misuse' | 'not-found' | 'unsupported' | 'io' | 'limit' | 'internal';

/** Errors cross IPC as data, never as thrown classes. */
export interface ErrorReply {
  kind: ErrorKind;
  /** Win32 error code when the failure came from a Pss* call. */
  code: number | null;
  codeName: string | null;
  message: string;
  /** What the user can do about it. */
  hint: string;
}

export interface AppInfo {
  name: string;
  version: string;
  platform: string;
  transport: 'electron' | 'web';
  library: string;
  pid: number;
}
