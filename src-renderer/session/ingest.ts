/**
 * Push handling: events into the column store and on to the analysis worker (../analysis; the
 * buffer is transferred), walk entries, session state, summaries and errors into the store.
 * The worker's frames (ready data) go into the session's AnalysisView; what they analysed is
 * acked as the page's animation frames let it (./ackPacer.ts), and the acks are the host's
 * credit stream's cue to send more (src-main/host/flow.ts): the page gets every event once, at
 * the pace it analyses and draws them, and never asks for any again.
 * The store's counts are refreshed at most every COUNTS_INTERVAL_MS.
 */
import type { PushMessages } from '../../src-shared/contract/contract';
import type { SessionState } from '../../src-shared/contract/model';
import { WALKABLE_CLASSES } from '../../src-shared/pss/constants';
import { onPush, request } from '../api/connection';
import { connectAnalysis, toAnalysis } from '../analysis/client';
import { raf } from '../render/raf';
import { appStore } from '../store';
import type { LiveCounts } from '../store';
import { openSessionData, sessionData, type SessionData } from './sessionData';
import { replayStep, replaying, shownEvents } from './replay';
import { AckPacer } from './ackPacer';

const COUNTS_INTERVAL_MS = 250;
const ENTRIES_INTERVAL_MS = 250;

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
  const last = a.frontier > 0 ? c.timeNs.get(a.frontier - 1) : 0;
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
    storeBytes: c.byteSize + a.byteSize,
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

// ---- the analysis worker's frames -----------------------------------------------------------

const ENDED = new Set(['finished', 'cancelled', 'failed']);

/** The session has ended and every event it wrote has been analysed. */
function reachedEnd(d: SessionData): boolean {
  const st = appStore.get();
  const s = st.session;
  if (!s || s.sessionId !== d.sessionId || !ENDED.has(s.state)) return false;
  const total = st.summary?.sessionId === d.sessionId ? st.summary.events : s.eventsStored;
  return d.analysis.frontier >= total;
}

function listenToAnalysis(): void {
  connectAnalysis({
    frame(f) {
      const d = sessionData();
      if (!d || f.gen !== d.analysis.gen) return;
      d.analysis.apply(f);
      d.filtered.extend(d.analysis.frontier);
      // Analysed: the host may send that many more.
      if (f.to > 0) ack(d.sessionId, f.to - 1);
      raf.invalidate('events');
      raf.wake();
      // The last event of an ended session: its numbers are final, publish them now (the bar
      // says "finishing" until they are).
      if (reachedEnd(d)) publishCounts();
      else scheduleCounts();
    },
    state(gen, id, n, state) {
      const d = sessionData();
      if (!d || !d.takeState(gen, id, n, state)) return;
      raf.invalidate('cursor');
      publishCounts();
    },
    error(message) {
      appStore.get().setBanner({
        kind: 'internal',
        code: null,
        codeName: null,
        message: `analysis: ${message}`,
        hint: 'Start the session again (or reload the page) to analyse it.',
      });
    },
  });
}

/** A frame step: a replay moves the analysis's limit along its clock. */
function analysisStep(): boolean {
  const d = sessionData();
  if (!d) return false;
  return replayStep(d, TERMINAL.has(appStore.get().session?.state ?? ''));
}

// ---- acks --------------------------------------------------------------------------------

// What is analysed is acked as the frames let it (./ackPacer.ts): one ack request in flight,
// always for the newest seq let through.
const pacer = new AckPacer();
let ackWanted = -1;
let ackSent = -1;
let ackInFlight = false;
let ackSession = '';

const pageHidden = (): boolean =>
  typeof document !== 'undefined' && document.visibilityState === 'hidden';

function ack(sessionId: string, seq: number): void {
  if (sessionId !== ackSession) {
    ackSession = sessionId;
    ackWanted = -1;
    ackSent = -1;
    pacer.reset();
  }
  pacer.analysed(seq);
  if (pageHidden()) sendAck(pacer.unmetered());
  else raf.wake(); // ackStep, in the next frame
}

/** A frame step: lets the next events through (see AckPacer). */
function ackStep(): boolean {
  if (!pacer.waiting) {
    pacer.idle();
    return false;
  }
  sendAck(pacer.frame(performance.now()));
  return pacer.waiting;
}

function sendAck(seq: number): void {
  if (seq < 0) return;
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
    const count = m.bytes.byteLength / 48;
    if (count === 0) return;
    // The page keeps its columns (what it lists and draws); the worker gets the buffer itself.
    d.columns.append(m.bytes, m.firstSeq);
    toAnalysis({ t: 'events', firstSeq: m.firstSeq, bytes: m.bytes }, [m.bytes]);
    // A replay holds the analysis back: what arrived meanwhile is consumed all the same.
    if (replaying(d)) ack(m.sessionId, m.firstSeq + count - 1);
    scheduleCounts();
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
    onPush('entries', handlers.entries),
    onPush('sessionState', handlers.sessionState),
    onPush('summary', handlers.summary),
    onPush('error', handlers.error),
    onPush('command', handlers.command),
    raf.addUpdate(analysisStep),
    raf.addUpdate(ackStep),
  ];
  // A hidden page has no frames: what it analysed is acked at once.
  const onVisibility = (): void => {
    if (pageHidden()) sendAck(pacer.unmetered());
  };
  if (typeof document !== 'undefined') {
    document.addEventListener('visibilitychange', onVisibility);
    offs.push(() => document.removeEventListener('visibilitychange', onVisibility));
  }
  listenToAnalysis();
  return () => {
    for (const off of offs) off();
  };
}

/** Re-publishes counts now (after a reset or a filter change). */
export function refreshCounts(): void {
  publishCounts();
}

export const ALL_CLASSES = WALKABLE_CLASSES;
