/**
 * Messages between the main thread (./client.ts, ./child.ts) and the walk worker (./worker.ts)
 * or walk child (./walk-child.ts). Typed here, and what comes back from the worker is checked
 * at the boundary (./protocol-check.ts) before anything on the main side uses it.
 */
import type { WalkableClass } from '../../src-shared/pss/constants';
import type { WalkEntry } from '../../src-shared/pss/entries';
import type {
  EntryPage,
  ErrorReply,
  SessionState,
  SessionSummary,
  SnapshotInfo,
} from '../../src-shared/contract/model';
import type { SessionAction, SessionControlArgs, StartSessionOptions } from './service';

export type WorkerCall =
  | { op: 'capture'; pid: number; flags: number; usage: boolean }
  | { op: 'freeSnapshot'; snapshotId: string }
  | { op: 'query'; snapshotId: string; cls: WalkableClass; offset: number; limit: number }
  | { op: 'allEntries'; snapshotId: string; cls: WalkableClass }
  | { op: 'startSession'; sessionId: string; options: StartSessionOptions }
  | { op: 'control'; sessionId: string; action: SessionAction; args: SessionControlArgs }
  | { op: 'stats' }
  | { op: 'shutdown' };

export interface WorkerStats {
  snapshots: number;
  sessions: number;
  /** Native bytes the worker's allocators hold right now (0 when nothing is live). */
  allocatorNativeBytes: number;
  heapUsed: number;
  rss: number;
}

export interface CallResults {
  capture: SnapshotInfo;
  freeSnapshot: null;
  query: EntryPage;
  allEntries: WalkEntry[];
  startSession: SessionState;
  control: SessionState;
  stats: WorkerStats;
  shutdown: null;
}

/** What a walk worker is started with. */
export interface WalkWorkerData {
  /** 1 for the first worker of a client, +1 for each restart (snapshot ids carry it). */
  generation: number;
}

export type ToWorker = { t: 'call'; id: number; call: WorkerCall };

export type WorkerOp = WorkerCall['op'];

/** A call's answer, its value typed by its op. */
export type WorkerAnswer = { [K in WorkerOp]: { op: K; value: CallResults[K] } }[WorkerOp];

export type ResultMessage =
  | ({ t: 'result'; id: number; ok: true } & WorkerAnswer)
  | { t: 'result'; id: number; op: WorkerOp; ok: false; error: ErrorReply };

export type FromWorker =
  | ResultMessage
  | { t: 'events'; sessionId: string; firstSeq: number; batch: ArrayBuffer }
  | {
      t: 'entries';
      sessionId: string;
      cls: WalkableClass;
      startIndex: number;
      entries: WalkEntry[];
    }
  | { t: 'state'; state: SessionState }
  | { t: 'summary'; summary: SessionSummary };

/** Where the core sends what sessions produce (postMessage in the worker; direct in-thread). */
export type Emit = (message: FromWorker, transfer?: ArrayBuffer[]) => void;
