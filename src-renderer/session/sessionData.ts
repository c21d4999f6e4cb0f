/**
 * Module-owned bulk data of the session on screen: the event columns, their analysis, the
 * filtered event-log index and the walk entries. Views read it directly while drawing; the
 * store only carries counts and version numbers that say when to look again.
 */
import type { WalkableClass } from '../../src-shared/pss/constants';
import type { WalkEntry } from '../../src-shared/pss/entries';
import { AllocAnalysis, ColumnEvents } from '../data/analysis';
import type { Ledger } from '../../src-shared/ledger/ledger';
import { EventColumns } from '../data/eventColumns';
import { FilteredIndex } from '../data/eventFilter';

export class SessionData {
  readonly columns = new EventColumns();
  /** Replaced when a replay starts over (./replay.ts). */
  analysis = new AllocAnalysis();
  readonly filtered = new FilteredIndex();
  readonly entries: Record<WalkableClass, WalkEntry[]> = {
    THREADS: [],
    HANDLES: [],
    VA_SPACE: [],
    AUXILIARY_PAGES: [],
  };
  private cursorState: { at: number; ledger: Ledger } | null = null;
  constructor(readonly sessionId: string) {}

  /**
   * The ledger the views show: the state after the first `cursor` events (rebuilt from the
   * nearest checkpoint, cached for the cursor), or now when the cursor is null or not behind
   * the analysis.
   */
  ledgerAt(cursor: number | null): Ledger {
    const a = this.analysis;
    if (cursor === null || cursor >= a.frontier) return a.ledger;
    const at = Math.max(0, Math.floor(cursor));
    if (this.cursorState?.at !== at)
      this.cursorState = { at, ledger: a.ledger.stateAt(at, new ColumnEvents(this.columns)) };
    return this.cursorState.ledger;
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
