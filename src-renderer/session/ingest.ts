/**
 * Push handling: events into the column store (then acked so the host's flow control can
 * proceed), aggregates recorded as missing ranges and paged in with getEvents, walk entries,
 * session state, summaries and errors into the store. Analysis runs as a raf update step with
 * a per-frame budget; the store's counts are refreshed at most every COUNTS_INTERVAL_MS.
 */
import type { PushMessages } from '../../src-shared/contract/contract';
import type { SessionState } from '../../src-shared/contract/model';
import { WALKABLE_CLASSES } from '../../src-shared/pss/constants';
import { onPush, request } from '../api/connection';
import { raf } from '../render/raf';
import { appStore } from '../store';
import type { LiveCounts } from '../store';
import { openSessionData, sessionData, type SessionData } from './sessionData';
import { replayAllowance, replayNeedsFrames, shownEvents } from './replay';

/** Events analysed per frame at most (~5 ms of work; 2 M events/s at 60 fps). */
const ANALYSE_BUDGET = 32_768;
/** …and at most this many ms of a frame, whatever the chunk size (keeps frames under 16 ms). */
const ANALYSE_MS = 4;
/** Events between two looks at the clock (small: a frame's analysis stays near ANALYSE_MS). */
const ANALYSE_CHUNK = 1024;
const COUNTS_INTERVAL_MS = 250;
const ENTRIES_INTERVAL_MS = 250;
/** Events per getEvents page when filling a missing range. */
const PAGE_EVENTS = 131_072;

/** Pushes for a session whose startSession reply has not arrived yet. */
const early = new Map<string, { name: string; msg: unknown }[]>();
let expectingSession = false;

export function expectSession(on: boolean): void {
  expectingSession = on;
  if (!on) early.clear();
}

function isCurrent(sessionId: string, name: string, msg: unknown): SessionData | null {
  const d = sessionData();
  if (d && d.sessionId === sessionId) return d;
  if (expectingSession) {
    const list = early.get(sessionId) ?? [];
    if (list.length < 10_000) list.push({ name, msg });
    early.set(sessionId, list);
  }
  return null;
}

/** Opens the data of a session and replays what arrived before we knew its id. */
export function adoptSession(state: SessionState): SessionData {
  const fresh = sessionData()?.sessionId !== state.sessionId;
  const d = openSessionData(state.sessionId);
  d.filtered.setFilter(d.columns, appStore.get().eventFilter);
  // A new session starts at "now".
  if (fresh) appStore.get().setTimeCursor(null);
  appStore.get().setSession(state);
  const buffered = early.get(state.sessionId) ?? [];
  early.clear();
  expectingSession = false;
  for (const { name, msg } of buffered) dispatch(name, msg);
  afterState(d, state);
  publishCounts();
  return d;
}

// ---- counts --------------------------------------------------------------------------------

let countsTimer: ReturnType<typeof setTimeout> | null = null;

export function computeCounts(d: SessionData): LiveCounts {
  const a = d.analysis;
  const c = d.columns;
  const l = a.ledger.summary();
  const last = a.frontier > 0 ? (c.timeNs[a.frontier - 1] as number) : 0;
  return {
    // During a replay: the events it has reached.
    known: shownEvents(d),
    received: c.received,
    missing: c.missing.size,
    analysed: a.frontier,
    allocations: l.allocations,
    frees: l.frees,
    freeNulls: l.freeNulls,
    failures: l.allocationFailures,
    violations: l.violations,
    leaks: l.leaks,
    apiErrors: l.apiErrors,
    problems: l.problems,
    problemsByKind: l.problemsByKind,
    liveBlocks: l.liveBlocks,
    liveBytes: l.liveBytes,
    peakLiveBytes: l.peakLiveBytes,
    bytesAllocated: l.bytesAllocated,
    bytesFreed: l.bytesFreed,
    lastTimeNs: last,
    storeBytes: c.byteSize + a.liveAfter.byteLength,
  };
}

function publishCounts(): void {
  if (countsTimer !== null) {
    clearTimeout(countsTimer);
    countsTimer = null;
  }
  const d = sessionData();
  if (d) appStore.get().setCounts(computeCounts(d));
}

function scheduleCounts(): void {
  if (countsTimer !== null) return;
  countsTimer = setTimeout(publishCounts, COUNTS_INTERVAL_MS);
}

let entriesTimer: ReturnType<typeof setTimeout> | null = null;
function scheduleEntries(): void {
  if (entriesTimer !== null) return;
  entriesTimer = setTimeout(() => {
    entriesTimer = null;
    appStore.get().bumpEntries();
  }, ENTRIES_INTERVAL_MS);
}

// ---- analysis as a frame update step ---------------------------------------------------------

const ENDED = new Set(['finished', 'cancelled', 'failed']);

/** The session has ended and every event it wrote has been analysed. */
function reachedEnd(d: SessionData): boolean {
  const st = appStore.get();
  const s = st.session;
  if (!s || s.sessionId !== d.sessionId || !ENDED.has(s.state)) return false;
  const total = st.summary?.sessionId === d.sessionId ? st.summary.events : s.eventsStored;
  return d.analysis.frontier >= total && d.columns.missing.size === 0;
}

function analyseStep(): boolean {
  const d = sessionData();
  if (!d) return false;
  const until = performance.now() + ANALYSE_MS;
  const gap = d.columns.missing.first();
  const reachable = gap === null ? d.columns.length : gap.start;
  // A replay holds the analysis back to its clock.
  const allowed = replayAllowance(d, reachable, ANALYSE_BUDGET);
  let n = 0;
  while (n < allowed) {
    const want = Math.min(ANALYSE_CHUNK, allowed - n);
    const k = d.analysis.advance(d.columns, want);
    n += k;
    if (k < want || performance.now() >= until) break;
  }
  if (n > 0) {
    d.filtered.extend(d.analysis.frontier);
    raf.invalidate('events');
    // The last event of an ended session: its numbers are final, publish them now (the bar
    // says "finishing" until they are).
    if (reachedEnd(d)) publishCounts();
    else scheduleCounts();
  }
  const complete = gap === null && TERMINAL.has(appStore.get().session?.state ?? '');
  if (replayNeedsFrames(d, complete)) return true;
  return allowed === ANALYSE_BUDGET && d.analysis.frontier < reachable;
}

// ---- acks --------------------------------------------------------------------------------

let ackWanted = -1;
let ackSent = -1;
let ackInFlight = false;
let ackSession = '';

function ack(sessionId: string, seq: number): void {
  if (sessionId !== ackSession) {
    ackSession = sessionId;
    ackWanted = -1;
    ackSent = -1;
  }
  if (seq > ackWanted) ackWanted = seq;
  void pumpAck();
}

async function pumpAck(): Promise<void> {
  if (ackInFlight) return;
  while (ackWanted > ackSent) {
    ackInFlight = true;
    const seq = ackWanted;
    const session = ackSession;
    const r = await request('ackEvents', { sessionId: session, seq });
    ackInFlight = false;
    if (session !== ackSession) return;
    if (!r.ok) return;
    ackSent = seq;
  }
}

// ---- gap filling ---------------------------------------------------------------------------

let filling = false;

export async function fillGaps(): Promise<void> {
  if (filling) return;
  filling = true;
  try {
    for (;;) {
      const d = sessionData();
      const gap = d?.columns.missing.first();
      if (!d || !gap) return;
      const count = Math.min(gap.end - gap.start, PAGE_EVENTS);
      const r = await request('getEvents', { sessionId: d.sessionId, fromSeq: gap.start, count });
      if (sessionData() !== d) continue;
      if (!r.ok) {
        appStore.get().setSessionError(r.error);
        return;
      }
      if (r.value.bytes.byteLength === 0) {
        // The host has fewer events than announced: forget the rest of the range.
        d.columns.missing.remove(gap.start, gap.end);
        d.columns.length = Math.min(d.columns.length, gap.start);
        return;
      }
      const before = d.analysis.frontier;
      d.columns.append(r.value.bytes, r.value.fromSeq);
      if (d.filtered.scanned > gap.start) {
        d.filtered.reset();
      }
      if (before < d.columns.length) raf.wake();
      scheduleCounts();
    }
  } finally {
    filling = false;
  }
}

// ---- entries for finished sessions (imports) -------------------------------------------------

async function fetchEntries(d: SessionData, state: SessionState): Promise<void> {
  for (const p of state.classes) {
    let have = d.entries[p.cls].length;
    const want = p.walked;
    while (have < want) {
      const r = await request('getEntries', {
        sessionId: d.sessionId,
        cls: p.cls,
        offset: have,
        limit: Math.min(200_000, want - have),
      });
      if (!r.ok || r.value.entries.length === 0 || sessionData() !== d) return;
      d.setEntries(p.cls, r.value.offset, r.value.entries);
      have = d.entries[p.cls].length;
      scheduleEntries();
    }
  }
}

const TERMINAL = new Set(['finished', 'cancelled', 'failed']);

function afterState(d: SessionData, s: SessionState): void {
  if (!TERMINAL.has(s.state)) return;
  if (s.eventsStored > d.columns.length) {
    const t = d.columns.length > 0 ? (d.columns.timeNs[d.columns.length - 1] as number) : 0;
    d.columns.noteMissing(d.columns.length, s.eventsStored, t, t);
    void fillGaps();
  }
  if (s.classes.some((p) => d.entries[p.cls].length < p.walked)) void fetchEntries(d, s);
  // An imported trace (or a push we missed): ask for the summary the host keeps.
  if (appStore.get().summary?.sessionId !== s.sessionId) void fetchSummary(d);
}

async function fetchSummary(d: SessionData): Promise<void> {
  const r = await request('sessionSummary', { sessionId: d.sessionId });
  if (r.ok && sessionData() === d) appStore.get().setSummary(r.value);
}

// ---- dispatch ------------------------------------------------------------------------------

type Handlers = { [P in keyof PushMessages]: (m: PushMessages[P]) => void };

const handlers: Handlers = {
  events(m) {
    const d = isCurrent(m.sessionId, 'events', m);
    if (!d) return;
    const before = d.columns.length;
    d.columns.append(m.bytes, m.firstSeq);
    const count = m.bytes.byteLength / 48;
    if (count > 0) ack(m.sessionId, m.firstSeq + count - 1);
    if (m.firstSeq > before) void fillGaps();
    raf.wake();
  },
  aggregate(m) {
    const d = isCurrent(m.sessionId, 'aggregate', m);
    if (!d) return;
    d.columns.noteMissing(m.fromSeq, m.toSeq, m.firstTimeNs, m.lastTimeNs);
    if (m.toSeq > m.fromSeq) ack(m.sessionId, m.toSeq - 1);
    scheduleCounts();
    void fillGaps();
  },
  entries(m) {
    const d = isCurrent(m.sessionId, 'entries', m);
    if (!d) return;
    d.setEntries(m.cls, m.startIndex, m.entries);
    scheduleEntries();
  },
  sessionState(m) {
    const d = isCurrent(m.sessionId, 'sessionState', m);
    if (!d) return;
    appStore.get().setSession(m);
    afterState(d, m);
    if (reachedEnd(d)) publishCounts();
  },
  summary(m) {
    const d = isCurrent(m.sessionId, 'summary', m);
    if (!d) return;
    appStore.get().setSummary(m);
    publishCounts();
  },
  error(m) {
    const d = sessionData();
    if (m.sessionId !== null && d?.sessionId === m.sessionId)
      appStore.get().setSessionError(m.error);
    else appStore.get().setBanner(m.error);
  },
  command(m) {
    commandListener?.(m.command);
  },
};

function dispatch(name: string, msg: unknown): void {
  const h = (handlers as Record<string, (m: unknown) => void>)[name];
  h?.(msg);
}

let commandListener: ((c: PushMessages['command']['command']) => void) | null = null;
export function onCommand(fn: (c: PushMessages['command']['command']) => void): void {
  commandListener = fn;
}

/** Subscribes to every push; call once at start-up. */
export function startIngest(): () => void {
  const offs = [
    onPush('events', handlers.events),
    onPush('aggregate', handlers.aggregate),
    onPush('entries', handlers.entries),
    onPush('sessionState', handlers.sessionState),
    onPush('summary', handlers.summary),
    onPush('error', handlers.error),
    onPush('command', handlers.command),
    raf.addUpdate(analyseStep),
  ];
  return () => {
    for (const off of offs) off();
  };
}

/** Re-publishes counts now (after a reset or a filter change). */
export function refreshCounts(): void {
  publishCounts();
}

export const ALL_CLASSES = WALKABLE_CLASSES;
