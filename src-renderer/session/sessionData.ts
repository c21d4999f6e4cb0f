/**
 * Module-owned bulk data of the session on screen: the event columns (what the views draw
 * and list), the analysis as the worker sends it (../analysis), the filtered event-log index
 * and the walk entries. Views read it directly while drawing; the store only carries counts
 * and version numbers that say when to look again.
 */
import type { WalkableClass } from '../../src-shared/pss/constants';
import type { WalkEntry } from '../../src-shared/pss/entries';
import { Ledger, type LedgerState } from '../../src-shared/ledger/ledger';
import { AnalysisView, takeChunkMemory, toAnalysis } from '../analysis/client';
import { EventColumns } from '../data/eventColumns';
import { FilteredIndex } from '../data/eventFilter';

/** Runs of the analysis (sessions, replays): the worker's messages of older runs are dropped. */
let generation = 0;
let queryId = 0;

export class SessionData {
  /** Its chunks come from memory the analysis worker has already touched. */
  readonly columns = new EventColumns(takeChunkMemory);
  /** Replaced when the analysis starts over (a replay, ./replay.ts). */
  analysis: AnalysisView;
  readonly filtered = new FilteredIndex();
  readonly entries: Record<WalkableClass, WalkEntry[]> = {
    THREADS: [],
    HANDLES: [],
    VA_SPACE: [],
    AUXILIARY_PAGES: [],
  };
  /** The state at the time cursor the worker sent last, and the query in flight. */
  private cursorState: { gen: number; at: number; ledger: Ledger } | null = null;
  private asked: { id: number; at: number } | null = null;

  constructor(readonly sessionId: string) {
    this.analysis = new AnalysisView(++generation);
    toAnalysis({ t: 'open', gen: this.analysis.gen });
  }

  /** Starts the analysis over on the events on hand (a replay). */
  restartAnalysis(): void {
    this.analysis = new AnalysisView(++generation);
    this.cursorState = null;
    this.asked = null;
    toAnalysis({ t: 'restart', gen: this.analysis.gen });
  }

  /**
   * The ledger the views show: now (the worker's last frame) when the cursor is null or not
   * behind the analysis; else the state at the cursor as the worker rebuilt it. Until that
   * answer arrives, the last state at a cursor shown (or now): `ledgerAt(c).events` says which
   * state it is.
   */
  ledgerAt(cursor: number | null): Ledger {
    const a = this.analysis;
    if (cursor === null || cursor >= a.ledger.events) return a.ledger;
    const at = Math.max(0, Math.floor(cursor));
    const have = this.cursorState;
    if (have && have.gen === a.gen && have.at === at) return have.ledger;
    if (this.asked?.at !== at) {
      this.asked = { id: ++queryId, at };
      toAnalysis({ t: 'stateAt', gen: a.gen, id: this.asked.id, n: at });
    }
    return have && have.gen === a.gen ? have.ledger : a.ledger;
  }

  /** The worker's answer to a stateAt query; true when it is the one the views wait for. */
  takeState(gen: number, id: number, n: number, state: LedgerState): boolean {
    if (gen !== this.analysis.gen) return false;
    // The state of the position asked for (the worker clamps it to what it has analysed).
    const at = this.asked?.id === id ? this.asked.at : n;
    this.cursorState = { gen, at, ledger: Ledger.fromState(state) };
    if (this.asked?.id === id) this.asked = null;
    return true;
  }

  /** Events the views show: the cursor, or every analysed event. */
  shownEvents(cursor: number | null): number {
    return cursor === null ? this.analysis.frontier : Math.min(cursor, this.analysis.frontier);
  }

  setEntries(cls: WalkableClass, startIndex: number, rows: readonly WalkEntry[]): void {
    const list = this.entries[cls];
    for (let i = 0; i < rows.length; i++) list[startIndex + i] = rows[i] as WalkEntry;
  }
}

let current: SessionData | null = null;

export function sessionData(): SessionData | null {
  return current;
}

export function openSessionData(sessionId: string): SessionData {
  if (current?.sessionId === sessionId) return current;
  current = new SessionData(sessionId);
  return current;
}

export function closeSessionData(): void {
  current = null;
}
