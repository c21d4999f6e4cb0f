/**
 * What the walk layer offers the host: captures, snapshot queries and traced walk sessions,
 * all running in a worker thread (./worker.ts) so the main thread never blocks on native
 * calls. The host (src-main/host) owns the per-connection bookkeeping; this layer owns native
 * resources and frees them whatever happens (session end, cancel, target death, worker error).
 */
import type { WalkableClass } from '../../src-shared/pss/constants';
import type { WalkEntry } from '../../src-shared/pss/entries';
import type { AllocatorOptions } from '../../src-shared/alloc/options';
import type {
  EntryPage,
  FailedSessionState,
  Pace,
  SessionState,
  SessionSummary,
  SnapshotInfo,
} from '../../src-shared/contract/model';
import type { RequestParams } from '../../src-shared/contract/contract';

export interface StartSessionOptions {
  /** Capture this pid for the session (the session owns and frees that snapshot)… */
  pid?: number;
  /** …or walk an existing snapshot (which stays alive afterwards). */
  snapshotId?: string;
  flags: number;
  allocator: AllocatorOptions;
  classes: WalkableClass[];
  pace: Pace;
  onAllocFailure: 'stop' | 'retry';
  /** Walk every class this many times, seeking to the beginning between passes (default 1). */
  passes?: number;
  /**
   * Which tracer (default 'native': liballoctrace; 'js': koffi callbacks into src-main/alloc,
   * kept for comparison in bench/ and tests). Not part of the contract.
   */
  tracer?: 'native' | 'js';
  /** Internal (./child.ts): the native tracer's ring lives in this file. */
  ringFile?: string;
}

export type SessionAction = RequestParams<'sessionControl'>['action'];
export interface SessionControlArgs {
  bookmarkId?: number;
  pace?: Pace;
}

/** Receives what a session produces, in order. Called on the main thread. */
export interface SessionSink {
  /** One batch of binary event records (src-shared/events/layout.ts); seqs are contiguous. */
  events(firstSeq: number, batch: ArrayBuffer): void;
  entries(cls: WalkableClass, startIndex: number, entries: WalkEntry[]): void;
  state(state: SessionState): void;
  /** Sent once, when the session ends (finished, cancelled or failed), after its last events. */
  summary(summary: SessionSummary): void;
  /**
   * The walk service lost the session: the worker that ran it died. `state` is its last
   * state, failed with "walk worker died: …". Nothing follows, not even a summary (it died
   * with the worker): the sink makes one from the events it received.
   */
  lost(state: FailedSessionState): void;
}

export interface WalkService {
  /** usage: also capture per-region memory usage (smaps), which costs several maps reads. */
  capture(pid: number, flags: number, options?: { usage?: boolean }): Promise<SnapshotInfo>;
  freeSnapshot(snapshotId: string): Promise<void>;
  querySnapshot(
    snapshotId: string,
    cls: WalkableClass,
    offset: number,
    limit: number,
  ): Promise<EntryPage>;
  /** Every entry of a class (used for snapshot diffs). */
  allEntries(snapshotId: string, cls: WalkableClass): Promise<WalkEntry[]>;
  startSession(
    sessionId: string,
    options: StartSessionOptions,
    sink: SessionSink,
  ): Promise<SessionState>;
  control(
    sessionId: string,
    action: SessionAction,
    args: SessionControlArgs,
  ): Promise<SessionState>;
  /** Frees every snapshot and session and stops the worker. */
  close(): Promise<void>;
}
