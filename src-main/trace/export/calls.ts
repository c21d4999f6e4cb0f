/**
 * Turns the event stream into the API calls it records, for exporters that draw calls as
 * slices. A call is the run of events carrying one ApiCall value; it ends with its marker event
 * (MarkerCreated, WalkStep, WalkEnd, PositionGet/Set, Seek, MarkerFreed or ApiError). The
 * allocations and frees in between happened inside it. A call starts at its first event; a call
 * that made no allocation (its marker event is its only event) starts where it ends, so slices
 * never claim time the trace does not show. Passes are split at each Seek.
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
}

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
      this.onSlice(cur);
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
      };
    }
    cur.endNs = t;
    cur.endSeq = v.seq(i);
    if (ENDS_CALL.has(kind)) {
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
    if (this.open) this.onSlice(this.open);
    this.open = null;
  }
}
