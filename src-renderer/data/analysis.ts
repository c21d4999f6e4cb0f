/**
 * Derived allocation state, computed once per event as the contiguous prefix of the trace
 * ("frontier") advances: the live-block set, live bytes after every event, per-chunk summaries
 * for the timeline, the size histogram, per-API and per-class breakdowns, the problem list and
 * the address spans of the block map. Order matters (a free matches an earlier alloc), so rows
 * past a missing range wait until the range is filled.
 */
import { EventKind, FAULTY_BIT, NO_CLASS, StrategyId, isViolation } from '../lib/traceEvents';
import { growTo, U32List } from '../lib/growable';
import { AddressSpans } from './blockLayout';
import type { EventColumns } from './eventColumns';
import { MISSING_KIND } from './eventColumns';
import { SizeHistogram } from './histogram';

/** Events per timeline summary chunk. */
export const CHUNK = 256;
/** Freed blocks stay visible (fading) for this many events. */
export const FADE_EVENTS = 4096;
const RECENT_FREES = 8192;

export interface BreakdownRow {
  allocations: number;
  allocBytes: number;
  frees: number;
  freeBytes: number;
  failures: number;
  liveBlocks: number;
  liveBytes: number;
}

function emptyRow(): BreakdownRow {
  return {
    allocations: 0,
    allocBytes: 0,
    frees: 0,
    freeBytes: 0,
    failures: 0,
    liveBlocks: 0,
    liveBytes: 0,
  };
}

/** Index into byClass for a walkClass byte (0–4, NO_CLASS → 5). */
export function classSlot(cls: number): number {
  return cls === NO_CLASS || cls > 4 ? 5 : cls;
}

export function isProblem(kind: number): boolean {
  return kind === EventKind.AllocFailed || kind === EventKind.ApiError || isViolation(kind);
}

export class AllocAnalysis {
  /** Every seq below this has been analysed. */
  frontier = 0;
  /** Live blocks: address → seq of the Alloc event. */
  readonly live = new Map<number, number>();
  liveBytes = 0;
  peakLiveBytes = 0;
  allocations = 0;
  failures = 0;
  frees = 0;
  freeNulls = 0;
  bytesAllocated = 0;
  bytesFreed = 0;
  violations = 0;
  leaks = 0;
  apiErrors = 0;
  /** Frees of an address that was not live (the host also reports these as violations). */
  unmatchedFrees = 0;
  /** Largest red zone seen (guard strategy), for the block map legend. */
  redZoneBytes = 0;

  /** Live bytes after each event. */
  liveAfter = new Float64Array(0);
  /** Per chunk of CHUNK events: min/max live bytes and counts. */
  chMin = new Float64Array(0);
  chMax = new Float64Array(0);
  chAllocs = new Uint32Array(0);
  chFrees = new Uint32Array(0);
  chFails = new Uint32Array(0);
  chViolations = new Uint32Array(0);

  readonly histogram = new SizeHistogram();
  readonly byApi: BreakdownRow[] = Array.from({ length: 7 }, emptyRow);
  readonly byClass: BreakdownRow[] = Array.from({ length: 6 }, emptyRow);
  /** Seqs of failed allocations, violations, leaks and API errors, in order. */
  readonly problems = new U32List(256);
  readonly problemCounts = new Map<number, number>();
  /** Ring of recent frees: [allocSeq, freeSeq] pairs. */
  readonly recentFrees = new Float64Array(RECENT_FREES * 2);
  recentFreeCount = 0;
  readonly spans = new AddressSpans();
  /** Seqs of violation events with an address (drawn on the block map). */
  readonly addressedViolations = new U32List(64);

  /** Analyse up to `budget` new events; returns how many were analysed. */
  advance(c: EventColumns, budget = Infinity): number {
    const start = this.frontier;
    let end = c.length;
    const gap = c.missing.first();
    if (gap !== null && gap.start < end) end = Math.max(start, gap.start);
    if (end - start > budget) end = start + budget;
    if (end <= start) return 0;
    this.liveAfter = growTo(this.liveAfter, end, Float64Array);
    const chunks = Math.ceil(end / CHUNK);
    if (this.chMin.length < chunks) {
      this.chMin = growTo(this.chMin, chunks, Float64Array);
      this.chMax = growTo(this.chMax, chunks, Float64Array);
      this.chAllocs = growTo(this.chAllocs, chunks, Uint32Array);
      this.chFrees = growTo(this.chFrees, chunks, Uint32Array);
      this.chFails = growTo(this.chFails, chunks, Uint32Array);
      this.chViolations = growTo(this.chViolations, chunks, Uint32Array);
    }
    const { kind: K, size: S, address: A, api: API, cls: CLS, strategy: ST, aux0: AUX0 } = c;
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
      const k = K[s] as number;
      if (k === EventKind.Alloc) {
        const size = S[s] as number;
        const addr = A[s] as number;
        this.allocations++;
        this.bytesAllocated += size;
        this.liveBytes += size;
        if (this.liveBytes > this.peakLiveBytes) this.peakLiveBytes = this.liveBytes;
        this.live.set(addr, s);
        this.histogram.add(size);
        const ra = this.byApi[API[s] as number];
        const rc = this.byClass[classSlot(CLS[s] as number)];
        if (ra) {
          ra.allocations++;
          ra.allocBytes += size;
          ra.liveBlocks++;
          ra.liveBytes += size;
        }
        if (rc) {
          rc.allocations++;
          rc.allocBytes += size;
          rc.liveBlocks++;
          rc.liveBytes += size;
        }
        let rz = 0;
        if (((ST[s] as number) & ~FAULTY_BIT) === StrategyId.guard) {
          rz = AUX0[s] as number;
          if (rz > this.redZoneBytes) this.redZoneBytes = rz;
        }
        this.spans.add(addr - rz, addr + size + rz);
        this.chAllocs[ch] = (this.chAllocs[ch] as number) + 1;
      } else if (k === EventKind.Free) {
        const addr = A[s] as number;
        const allocSeq = this.live.get(addr);
        this.frees++;
        this.chFrees[ch] = (this.chFrees[ch] as number) + 1;
        if (allocSeq !== undefined) {
          const size = S[allocSeq] as number;
          this.live.delete(addr);
          this.liveBytes -= size;
          this.bytesFreed += size;
          const ra = this.byApi[API[allocSeq] as number];
          const rc = this.byClass[classSlot(CLS[allocSeq] as number)];
          if (ra) {
            ra.liveBlocks--;
            ra.liveBytes -= size;
          }
          if (rc) {
            rc.liveBlocks--;
            rc.liveBytes -= size;
          }
          const slot = (this.recentFreeCount % RECENT_FREES) * 2;
          this.recentFrees[slot] = allocSeq;
          this.recentFrees[slot + 1] = s;
          this.recentFreeCount++;
        } else {
          this.unmatchedFrees++;
          this.bytesFreed += S[s] as number;
        }
        const fa = this.byApi[API[s] as number];
        const fc = this.byClass[classSlot(CLS[s] as number)];
        const fs = allocSeq !== undefined ? (S[allocSeq] as number) : (S[s] as number);
        if (fa) {
          fa.frees++;
          fa.freeBytes += fs;
        }
        if (fc) {
          fc.frees++;
          fc.freeBytes += fs;
        }
      } else if (k === EventKind.FreeNull) {
        this.freeNulls++;
      } else if (k === EventKind.AllocFailed) {
        this.failures++;
        this.chFails[ch] = (this.chFails[ch] as number) + 1;
        const ra = this.byApi[API[s] as number];
        const rc = this.byClass[classSlot(CLS[s] as number)];
        if (ra) ra.failures++;
        if (rc) rc.failures++;
      } else if (k === EventKind.ApiError) {
        this.apiErrors++;
      } else if (k !== MISSING_KIND && isViolation(k)) {
        if (k === EventKind.Leak) this.leaks++;
        else this.violations++;
        this.chViolations[ch] = (this.chViolations[ch] as number) + 1;
        if ((A[s] as number) !== 0) this.addressedViolations.push(s);
      }
      if (isProblem(k) && k !== MISSING_KIND) {
        this.problems.push(s);
        this.problemCounts.set(k, (this.problemCounts.get(k) ?? 0) + 1);
      }
      const lb = this.liveBytes;
      this.liveAfter[s] = lb;
      if (lb < (this.chMin[ch] as number)) this.chMin[ch] = lb;
      if (lb > (this.chMax[ch] as number)) this.chMax[ch] = lb;
    }
    this.frontier = end;
    return end - start;
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
