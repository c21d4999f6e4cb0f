/**
 * Timeline downsampling: the analysed events of a time window reduced to one bin per pixel
 * column (min/max live bytes, alloc/free/failure/violation counts). Whole CHUNKs inside a bin
 * come from the analysis' chunk summaries, and bins of many chunks end on chunk edges, so a
 * frame costs O(pixels × CHUNK) at most, not O(events).
 */
import { EventKind, isViolation } from '../lib/traceEvents';
import type { AllocAnalysis } from './analysis';

/** What the timeline reads of an analysis (AllocAnalysis, or the page's AnalysisView). */
export type TimelineSource = Pick<
  AllocAnalysis,
  'frontier' | 'liveAt' | 'chMin' | 'chMax' | 'chAllocs' | 'chFrees' | 'chFails' | 'chViolations'
>;
import { CHUNK } from './analysis';
import type { EventColumns } from './eventColumns';
import { MISSING_KIND } from './eventColumns';

export class TimelineBins {
  n = 0;
  minLive = new Float64Array(0);
  maxLive = new Float64Array(0);
  allocs = new Uint32Array(0);
  frees = new Uint32Array(0);
  fails = new Uint32Array(0);
  violations = new Uint32Array(0);
  /** Seq of the first failure / violation in the bin (-1 when none), to click through. */
  firstProblem = new Float64Array(0);
  maxLiveAll = 0;
  maxCount = 0;

  resize(n: number): void {
    if (this.minLive.length < n) {
      this.minLive = new Float64Array(n);
      this.maxLive = new Float64Array(n);
      this.allocs = new Uint32Array(n);
      this.frees = new Uint32Array(n);
      this.fails = new Uint32Array(n);
      this.violations = new Uint32Array(n);
      this.firstProblem = new Float64Array(n);
    }
    this.n = n;
  }
}

/** Bins of at least this many chunks on average end on chunk edges (see downsample). */
export const SNAP_CHUNKS = 8;

/** Reduces the analysed events with time in [t0, t1) into `bins` bins. */
export function downsample(
  c: EventColumns,
  a: TimelineSource,
  t0: number,
  t1: number,
  bins: number,
  out = new TimelineBins(),
): TimelineBins {
  out.resize(bins);
  out.maxLiveAll = 0;
  out.maxCount = 0;
  const limit = a.frontier;
  const dt = (t1 - t0) / bins;
  const K = c.kind;
  let lo = c.lowerBoundTime(t0, limit);
  const end = c.lowerBoundTime(t1, limit);
  // Bins of many chunks end on a chunk's edge (the nearest to their time): the events of a
  // partial chunk at each edge were read one by one, O(pixels × CHUNK) a frame, most of a
  // streaming frame's timeline with a million events. The shift is under a chunk (< 1/SNAP_CHUNKS
  // of a bin, less than a pixel); every event still falls in exactly one bin.
  const snap = end - lo >= bins * CHUNK * SNAP_CHUNKS;
  for (let b = 0; b < bins; b++) {
    let hi = b === bins - 1 ? end : c.lowerBoundTime(t0 + (b + 1) * dt, limit);
    if (snap && b < bins - 1) hi = Math.min(end, Math.max(lo, Math.round(hi / CHUNK) * CHUNK));
    let mn = Infinity;
    let mx = -Infinity;
    let al = 0;
    let fr = 0;
    let fa = 0;
    let vi = 0;
    let fp = -1;
    let s = lo;
    while (s < hi) {
      if (s % CHUNK === 0 && s + CHUNK <= hi && s + CHUNK <= limit) {
        const ch = s / CHUNK;
        const cm = a.chMin[ch] as number;
        const cx = a.chMax[ch] as number;
        if (cm < mn) mn = cm;
        if (cx > mx) mx = cx;
        al += a.chAllocs[ch] as number;
        fr += a.chFrees[ch] as number;
        const cf = a.chFails[ch] as number;
        const cv = a.chViolations[ch] as number;
        if (fp < 0 && cf + cv > 0) {
          for (let j = s; j < s + CHUNK; j++) {
            const k = K.get(j);
            if (k === EventKind.AllocFailed || (k !== MISSING_KIND && isViolation(k))) {
              fp = j;
              break;
            }
          }
        }
        fa += cf;
        vi += cv;
        s += CHUNK;
        continue;
      }
      const v = a.liveAt(s);
      if (v < mn) mn = v;
      if (v > mx) mx = v;
      const k = K.get(s);
      if (k === EventKind.Alloc) al++;
      else if (k === EventKind.Free) fr++;
      else if (k === EventKind.AllocFailed) {
        fa++;
        if (fp < 0) fp = s;
      } else if (k !== MISSING_KIND && isViolation(k)) {
        vi++;
        if (fp < 0) fp = s;
      }
      s++;
    }
    if (hi === lo) {
      // Nothing in this bin: carry the previous level so the line continues.
      const prev = lo > 0 && lo <= limit ? a.liveAt(lo - 1) : NaN;
      mn = prev;
      mx = prev;
    }
    out.minLive[b] = mn;
    out.maxLive[b] = mx;
    out.allocs[b] = al;
    out.frees[b] = fr;
    out.fails[b] = fa;
    out.violations[b] = vi;
    out.firstProblem[b] = fp;
    if (mx > out.maxLiveAll) out.maxLiveAll = mx;
    if (al > out.maxCount) out.maxCount = al;
    if (fr > out.maxCount) out.maxCount = fr;
    lo = hi;
  }
  return out;
}

/** The analysed event closest in time to t, or -1 when there is none. */
export function nearestSeq(c: EventColumns, limit: number, t: number): number {
  if (limit <= 0) return -1;
  const i = c.lowerBoundTime(t, limit);
  if (i >= limit) return limit - 1;
  if (i === 0) return 0;
  const before = t - c.timeNs.get(i - 1);
  const after = c.timeNs.get(i) - t;
  return before <= after ? i - 1 : i;
}

/** A zoomable, pannable time window. `follow` keeps the window on the whole trace. */
export interface TimeWindow {
  t0: number;
  t1: number;
  follow: boolean;
}

/** Zooms around anchor time `at` by `factor` (>1 zooms out), clamped to [0, end]. */
export function zoomWindow(w: TimeWindow, at: number, factor: number, end: number): TimeWindow {
  const span = Math.max(1000, (w.t1 - w.t0) * factor);
  const frac = w.t1 > w.t0 ? (at - w.t0) / (w.t1 - w.t0) : 0.5;
  let t0 = at - frac * span;
  let t1 = t0 + span;
  const maxEnd = Math.max(end, 1000);
  if (span >= maxEnd) return { t0: 0, t1: maxEnd, follow: true };
  if (t0 < 0) {
    t1 -= t0;
    t0 = 0;
  }
  if (t1 > maxEnd) {
    t0 -= t1 - maxEnd;
    t1 = maxEnd;
  }
  return { t0, t1, follow: false };
}

/** Shifts the window by dt, clamped to [0, end]. */
export function panWindow(w: TimeWindow, dt: number, end: number): TimeWindow {
  const span = w.t1 - w.t0;
  const maxEnd = Math.max(end, span);
  const t0 = Math.min(Math.max(0, w.t0 + dt), maxEnd - span);
  return { t0, t1: t0 + span, follow: false };
}
