/**
 * Messages between the page and its analysis worker (./analysis.worker.ts). The worker owns
 * the fold: it keeps its own copy of the events, runs the ledger over them (with checkpoints)
 * and the drawing aids beside it (live bytes after each event, timeline chunks, problems,
 * address spans, recent frees), and sends the page ready data: increments of those arrays and
 * the ledger's state as typed arrays, at most every FRAME_MS while it works. Time-cursor
 * queries (stateAt) are answered by the worker too.
 *
 * `gen` numbers a run of the analysis (a new session, or a replay starting over): messages of
 * an older run are ignored on both sides.
 */
import type { LedgerState } from '../../src-shared/ledger/ledger';

/** The worker posts a frame at most this often while it analyses (and once when it is idle). */
export const FRAME_MS = 33;

export type ToWorker =
  /** Forget everything: a new session (its events follow). */
  | { t: 'open'; gen: number }
  /** Start the analysis over on the same events (a replay); events stay. */
  | { t: 'restart'; gen: number }
  /** Event records of the session, seq firstSeq… (the buffer is transferred). */
  | { t: 'events'; firstSeq: number; bytes: ArrayBuffer }
  /** Analyse no further than this seq (a replay's clock); null: no limit. */
  | { t: 'limit'; gen: number; limit: number | null }
  /** The ledger's state after the first `n` events (the time cursor). */
  | { t: 'stateAt'; gen: number; id: number; n: number }
  /**
   * `count` zeroed buffers of `bytes`, every page already written here: chunks of the page's
   * event columns, whose page faults then cost this thread and not the UI thread.
   */
  | { t: 'memory'; bytes: number; count: number };

export interface AnalysisFrame {
  t: 'frame';
  gen: number;
  /** Events [from, to) were analysed since the last frame. */
  from: number;
  to: number;
  /** Live bytes after each event of [from, to). */
  liveAfter: Float64Array;
  /** Timeline chunks from chunkFrom on (the first may be a chunk already sent, now fuller). */
  chunkFrom: number;
  chMin: Float64Array;
  chMax: Float64Array;
  chAllocs: Uint32Array;
  chFrees: Uint32Array;
  chFails: Uint32Array;
  chViolations: Uint32Array;
  /** Seqs of new problem events, and of new violations that name an address. */
  problems: Uint32Array;
  addressedViolations: Uint32Array;
  /** New [allocSeq, freeSeq] pairs of frees (for the fading blocks). */
  recentFrees: Float64Array;
  /** The address spans, when they changed. */
  spans: { starts: number[]; ends: number[]; version: number } | null;
  redZoneBytes: number;
  /** The ledger now (after `to` events). */
  state: LedgerState;
}

export type FromWorker =
  | AnalysisFrame
  | { t: 'stateAt'; gen: number; id: number; n: number; state: LedgerState }
  | { t: 'error'; message: string }
  /** The buffers asked for with `memory` (transferred). */
  | { t: 'memory'; buffers: ArrayBuffer[] };

/** Most bytes one `memory` message may ask for (a page bug must not exhaust the worker). */
export const MAX_MEMORY_BYTES = 64 * 1024 * 1024;

/** A zeroed buffer of `bytes` with every 4 KiB page written (faulted in by this thread). */
export function touchedBuffer(bytes: number): ArrayBuffer {
  const b = new ArrayBuffer(bytes);
  const u = new Uint8Array(b);
  for (let i = 0; i < bytes; i += 4096) u[i] = 0;
  return b;
}

/** The buffers of a ledger state (to transfer rather than copy). */
export function stateBuffers(s: LedgerState): ArrayBuffer[] {
  return [
    s.totals,
    s.apiRows,
    s.classRows,
    s.sizeRows,
    s.problemCounts,
    s.liveAddr,
    s.liveSeq,
    s.livePacked,
  ].map((a) => a.buffer as ArrayBuffer);
}
