/**
 * Module-owned bulk data of the session on screen: the event columns, their analysis, the
 * filtered event-log index and the walk entries. Views read it directly while drawing; the
 * store only carries counts and version numbers that say when to look again.
 */
import type { WalkableClass } from '../../src-shared/pss/constants';
import type { WalkEntry } from '../../src-shared/pss/entries';
import { AllocAnalysis } from '../data/analysis';
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
  constructor(readonly sessionId: string) {}

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
