/**
 * Derived allocation state, computed once per event as the contiguous prefix of the trace
 * ("frontier") advances. Every count — live set, totals, per-API / per-class / per-size
 * breakdowns, problems — is the ledger's (src-shared/ledger, the same fold that makes the
 * session summary), kept with checkpoints so the state at any event can be rebuilt (the time
 * cursor). What only drawing needs is kept here beside it: live bytes after every event,
 * per-chunk summaries for the timeline, the list of problem seqs, recent frees and the address
 * spans of the block map. Order matters (a free matches an earlier alloc), so rows past a
 * missing range wait until the range is filled.
 */
import { EventKind, FAULTY_BIT, StrategyId, isViolation } from '../lib/traceEvents';
import {
  CHECKPOINT_EVENTS,
  Ledger,
  classRow,
  isProblem,
  type LedgerEvents,
} from '../../src-shared/ledger/ledger';
import { growTo, U32List } from '../lib/growable';
import { AddressSpans } from './blockLayout';
import type { AnalysedColumns } from './eventColumns';
import { MISSING_KIND } from './eventColumns';

export { isProblem };

/** Events per timeline summary chunk. */
export const CHUNK = 256;
/** Freed blocks stay visible (fading) for this many events while the walk runs. */
export const FADE_EVENTS = 4096;
const RECENT_FREES = 8192;

/** Index into byClass for a walkClass byte (0–4, NO_CLASS → 5). */
export const classSlot = classRow;

/** The ledger's view of the column store (reads the current arrays: they grow). */
export class ColumnEvents implements LedgerEvents {
  constructor(private readonly c: AnalysedColumns) {}
  kind(i: number): number {
    return this.c.kind.get(i);
  }
  size(i: number): number {
    return this.c.size.get(i);
  }
  addressNumber(i: number): number {
    return this.c.address.get(i);
  }
  api(i: number): number {
    return this.c.api.get(i);
  }
  walkClass(i: number): number {
    return this.c.cls.get(i);
  }
}

export class AllocAnalysis {
  /** Every seq below this has been analysed (= ledger.events). */
  frontier = 0;
  /** The counts: the one fold of the events, with checkpoints for the time cursor. */
  readonly ledger = new Ledger(CHECKPOINT_EVENTS);
  /** Largest red zone seen (guard strategy), for the block map legend. */
  redZoneBytes = 0;

  /** Live bytes after each event. */
  liveAfter = new Float64Array(0);
  /** liveAfter[i] is the live bytes after event liveBase + i (0 unless dropLiveAfter was used). */
  liveBase = 0;
  /** Per chunk of CHUNK events: min/max live bytes and counts. */
  chMin = new Float64Array(0);
  chMax = new Float64Array(0);
  chAllocs = new Uint32Array(0);
  chFrees = new Uint32Array(0);
  chFails = new Uint32Array(0);
  chViolations = new Uint32Array(0);

  /** Seqs of the problem events (isProblem: one definition, the ledger's), in order. */
  readonly problems = new U32List(256);
  /** Ring of recent frees: [allocSeq, freeSeq] pairs. */
  readonly recentFrees = new Float64Array(RECENT_FREES * 2);
  recentFreeCount = 0;
  readonly spans = new AddressSpans();
  /** Seqs of violation events with an address (drawn on the block map). */
  readonly addressedViolations = new U32List(64);

  /** Analyse up to `budget` new events; returns how many were analysed. */
  advance(c: AnalysedColumns, budget = Infinity): number {
    const start = this.frontier;
    let end = c.length;
    const gap = c.missing.first();
    if (gap !== null && gap.start < end) end = Math.max(start, gap.start);
    if (end - start > budget) end = start + budget;
    if (end <= start) return 0;
    this.liveAfter = growTo(this.liveAfter, end - this.liveBase, Float64Array);
    const base = this.liveBase;
    const chunks = Math.ceil(end / CHUNK);
    if (this.chMin.length < chunks) {
      this.chMin = growTo(this.chMin, chunks, Float64Array);
      this.chMax = growTo(this.chMax, chunks, Float64Array);
      this.chAllocs = growTo(this.chAllocs, chunks, Uint32Array);
      this.chFrees = growTo(this.chFrees, chunks, Uint32Array);
      this.chFails = growTo(this.chFails, chunks, Uint32Array);
      this.chViolations = growTo(this.chViolations, chunks, Uint32Array);
    }
    const { kind: K, address: A, strategy: ST, aux0: AUX0 } = c;
    const ledger = this.ledger;
    const src = new ColumnEvents(c);
    for (let s = start; s < end; s++) {
      const ch = (s / CHUNK) | 0;
      if (s % CHUNK === 0) {
        this.chMin[ch] = Infinity;
        this.chMax[ch] = -Infinity;
        this.chAllocs[ch] = 0;
        this.chFrees[ch] = 0;
        this.chFails[ch] = 0;
        this.chViolations[ch] = 0;
      }
      const k = K.get(s);
      if (k === EventKind.Alloc) {
        const size = c.size.get(s);
        const addr = A.get(s);
        let rz = 0;
        if ((ST.get(s) & ~FAULTY_BIT) === StrategyId.guard) {
          rz = AUX0.get(s);
          if (rz > this.redZoneBytes) this.redZoneBytes = rz;
        }
        this.spans.add(addr - rz, addr + size + rz);
        this.chAllocs[ch] = (this.chAllocs[ch] as number) + 1;
      } else if (k === EventKind.Free) {
        const allocSeq = ledger.allocSeqOf(A.get(s));
        this.chFrees[ch] = (this.chFrees[ch] as number) + 1;
        if (allocSeq !== undefined) {
          const slot = (this.recentFreeCount % RECENT_FREES) * 2;
          this.recentFrees[slot] = allocSeq;
          this.recentFrees[slot + 1] = s;
          this.recentFreeCount++;
        }
      } else if (k === EventKind.AllocFailed) {
        this.chFails[ch] = (this.chFails[ch] as number) + 1;
      } else if (k !== MISSING_KIND && isViolation(k)) {
        this.chViolations[ch] = (this.chViolations[ch] as number) + 1;
        if (A.get(s) !== 0) this.addressedViolations.push(s);
      }
      if (k !== MISSING_KIND && isProblem(k)) this.problems.push(s);
      ledger.foldEvent(src, s);
      const lb = ledger.liveBytes;
      this.liveAfter[s - base] = lb;
      if (lb < (this.chMin[ch] as number)) this.chMin[ch] = lb;
      if (lb > (this.chMax[ch] as number)) this.chMax[ch] = lb;
    }
    this.frontier = end;
    return end - start;
  }

  /** Live bytes after event `s` (analysed, and not dropped). */
  liveAt(s: number): number {
    return this.liveAfter[s - this.liveBase] as number;
  }

  /**
   * Forgets the live bytes after the events before `seq` (≤ frontier): the worker keeps only
   * those it has not sent yet (the page holds the rest).
   */
  dropLiveAfter(seq: number): void {
    const from = seq - this.liveBase;
    this.liveAfter.copyWithin(0, from, this.frontier - this.liveBase);
    this.liveBase = seq;
  }

  /** Recent frees still fading at the current frontier: calls fn(allocSeq, age 0..1). */
  forEachFading(fn: (allocSeq: number, age: number) => void): void {
    const n = Math.min(this.recentFreeCount, RECENT_FREES);
    for (let i = 0; i < n; i++) {
      const slot = ((this.recentFreeCount - 1 - i) % RECENT_FREES) * 2;
      const freeSeq = this.recentFrees[slot + 1] as number;
      const age = (this.frontier - freeSeq) / FADE_EVENTS;
      if (age >= 1) break;
      fn(this.recentFrees[slot] as number, age);
    }
  }
}
