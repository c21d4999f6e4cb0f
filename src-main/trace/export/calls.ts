/**
 * Turns the event stream into the API calls it records, for exporters that draw calls as
 * slices. A call is the run of events carrying one ApiCall value; it ends with its marker event
 * (MarkerCreated, WalkStep, WalkEnd, PositionGet/Set, Seek, MarkerFreed or ApiError). The
 * allocations and frees in between happened inside it. Its ending event carries the call's
 * duration (layout.ts: isCallEnding), so a call starts that long before it ends (timing
 * 'call'). In a trace that did not record durations a call starts at its first event (timing
 * 'events', a lower bound), and a call whose ending event is its only event has no known
 * duration at all (timing 'unknown': beginNs = endNs, which exporters must not show as 0 ns).
 * Passes are split at each Seek.
 */
import { EventBatchView } from '../../../src-shared/events/batch';
import { API_CALL_NAMES, ApiCall, EventKind, NO_CLASS } from '../../../src-shared/events/layout';
import { PssWalkClass } from '../../../src-shared/pss/constants';

export interface CallSlice {
  api: number;
  walkClass: number;
  /** ns since the session started. */
  beginNs: number;
  endNs: number;
  threadId: number;
  /** The marker event closing the call (kind), its seq and aux fields. */
  endKind: number;
  endSeq: number;
  aux0: number;
  aux1: number;
  /** Events inside the call (allocations, frees, failures, violations). */
  events: number;
  pass: number;
  /**
   * Where beginNs comes from: 'call' the recorded duration (exact), 'events' the call's first
   * event (the duration is at least endNs - beginNs), 'unknown' nowhere (beginNs = endNs).
   */
  timing: SliceTiming;
}

export type SliceTiming = 'call' | 'events' | 'unknown';

/** What a reader is told about a slice's duration when it is not exact. */
export const TIMING_NOTES: Readonly<Record<Exclude<SliceTiming, 'call'>, string>> = {
  events: "at least this long: the call's start was not recorded, it is drawn from its first event",
  unknown: "not recorded: the trace holds only the call's end",
};

const CLASS_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(PssWalkClass).map(([k, v]) => [v, k]),
);

export const className = (cls: number): string =>
  cls === NO_CLASS ? '' : (CLASS_NAMES[cls] ?? `class ${cls}`);

const ENDS_CALL = new Set<number>([
  EventKind.MarkerCreated,
  EventKind.WalkStep,
  EventKind.WalkEnd,
  EventKind.PositionGet,
  EventKind.PositionSet,
  EventKind.Seek,
  EventKind.MarkerFreed,
  EventKind.ApiError,
]);

/** A readable name: "PssWalkSnapshot THREADS #12", "PssWalkMarkerCreate". */
export function sliceName(s: CallSlice): string {
  const api = API_CALL_NAMES[s.api] ?? `api ${s.api}`;
  if (s.api !== ApiCall.PssWalkSnapshot) return api;
  const cls = className(s.walkClass);
  if (s.endKind === EventKind.WalkStep) return `${api} ${cls} #${s.aux0}`;
  if (s.endKind === EventKind.WalkEnd) return `${api} ${cls} end`;
  return `${api} ${cls} error ${s.aux1}`;
}

/** A call closed without its ending event: timed by its own events only. */
function unended(s: CallSlice): CallSlice {
  s.timing = s.endNs > s.beginNs ? 'events' : 'unknown';
  return s;
}

/** Feeds batches in order; calls `onSlice` for every completed call. */
export class CallSegmenter {
  private open: CallSlice | null = null;
  private pass = 1;
  constructor(private readonly onSlice: (s: CallSlice) => void) {}

  get passes(): number {
    return this.pass;
  }

  push(batch: ArrayBuffer): void {
    const v = new EventBatchView(batch);
    for (let i = 0; i < v.count; i++) this.pushEvent(v, i);
  }

  /** One event (record `i` of `v`); events must come in sequence order. */
  pushEvent(v: EventBatchView, i: number): void {
    const api = v.api(i);
    if (api === ApiCall.None) return;
    const kind = v.kind(i);
    const t = v.timeNs(i);
    let cur = this.open;
    if (cur && cur.api !== api) {
      // A call that never got its marker event (e.g. the recording stopped): close it.
      this.onSlice(unended(cur));
      cur = this.open = null;
    }
    if (!cur) {
      cur = this.open = {
        api,
        walkClass: v.walkClass(i),
        beginNs: t,
        endNs: t,
        threadId: v.threadId(i),
        endKind: kind,
        endSeq: v.seq(i),
        aux0: 0,
        aux1: 0,
        events: 0,
        pass: this.pass,
        timing: 'unknown',
      };
    }
    cur.endNs = t;
    cur.endSeq = v.seq(i);
    if (ENDS_CALL.has(kind)) {
      const duration = v.size(i);
      if (duration > 0) {
        cur.beginNs = Math.min(cur.beginNs, t - duration);
        cur.timing = 'call';
      } else cur.timing = cur.endNs > cur.beginNs ? 'events' : 'unknown';
      cur.endKind = kind;
      cur.walkClass = v.walkClass(i);
      cur.aux0 = v.aux0(i);
      cur.aux1 = v.aux1(i);
      this.open = null;
      if (kind === EventKind.Seek) this.pass++;
      this.onSlice(cur);
    } else {
      cur.events++;
    }
  }

  /** Closes a call left open at the end of the trace. */
  end(): void {
    if (this.open) this.onSlice(unended(this.open));
    this.open = null;
  }
}
