/**
 * Replay of a session that has ended (an opened trace, or a walk that finished): the analysis
 * starts over and advances only as far as a replay clock has reached in the trace's own time, so
 * every view (counters, event log, timeline, block map, histogram) shows the recording as it
 * happened, at 1×, 10×, 100× its real pace, or as fast as the analysis goes ("max"). Pausing
 * freezes the clock; "Show all" ends the replay and the analysis runs to the end.
 *
 * The clock and the horizon search are pure (tested on their own); the module state is one
 * replay for the session on screen, published to React with useSyncExternalStore.
 */
import { useSyncExternalStore } from 'react';
import { toAnalysis } from '../analysis/client';
import type { NumberColumn } from '../lib/chunkedColumn';
import { raf } from '../render/raf';
import { sessionData, type SessionData } from './sessionData';

export type ReplaySpeed = 1 | 10 | 100 | 'max';
export const REPLAY_SPEEDS: readonly ReplaySpeed[] = [1, 10, 100, 'max'];
export const speedLabel = (s: ReplaySpeed): string => (s === 'max' ? 'max' : `${s}×`);

/** Trace time shown = origin + (trace time elapsed while playing) — wall time × speed. */
export class ReplayClock {
  private elapsedNs = 0;
  private since: number | null = null;

  constructor(
    readonly originNs: number,
    private rate: ReplaySpeed,
  ) {}

  get speed(): ReplaySpeed {
    return this.rate;
  }

  get playing(): boolean {
    return this.since !== null;
  }

  /** The trace time reached at wall time `nowMs` (Infinity at max speed while playing). */
  horizonNs(nowMs: number): number {
    if (this.since !== null && this.rate === 'max') return Infinity;
    return this.originNs + this.elapsedAt(nowMs);
  }

  private elapsedAt(nowMs: number): number {
    if (this.since === null || this.rate === 'max') return this.elapsedNs;
    return this.elapsedNs + Math.max(0, nowMs - this.since) * 1e6 * this.rate;
  }

  play(nowMs: number): void {
    if (this.since === null) this.since = nowMs;
  }

  pause(nowMs: number): void {
    this.elapsedNs = this.elapsedAt(nowMs);
    this.since = null;
  }

  /** Changes speed from now on; what was shown stays shown. */
  setSpeed(speed: ReplaySpeed, nowMs: number): void {
    const playing = this.since !== null;
    this.elapsedNs = this.elapsedAt(nowMs);
    this.rate = speed;
    this.since = playing ? nowMs : null;
  }

  /** Continues from trace time `reachedNs` (after "max" moved past where the clock was). */
  catchUp(reachedNs: number, nowMs: number): void {
    const e = reachedNs - this.originNs;
    if (e > this.elapsedAt(nowMs)) {
      this.elapsedNs = e;
      if (this.since !== null) this.since = nowMs;
    }
  }
}

/**
 * How many events from `from` (before `end`, at most `budget`) the horizon has reached: those
 * up to the first whose time lies beyond it (event times only grow within a trace).
 */
export function eventsReached(
  timeNs: NumberColumn,
  from: number,
  end: number,
  horizonNs: number,
  budget: number,
): number {
  const stop = Math.min(end, from + budget);
  if (horizonNs === Infinity) return Math.max(0, stop - from);
  let i = from;
  while (i < stop && timeNs.get(i) <= horizonNs) i++;
  return i - from;
}

// ---- the replay of the session on screen -------------------------------------------------------

export interface ReplayView {
  /** Whether a replay is on (the analysis is held back to the clock). */
  on: boolean;
  playing: boolean;
  speed: ReplaySpeed;
  /** Everything reached the end of the trace. */
  done: boolean;
}

const OFF: ReplayView = { on: false, playing: false, speed: 10, done: false };

interface Replay {
  data: SessionData;
  clock: ReplayClock;
  done: boolean;
  /** How far the clock has let the analysis go (a seq), as last told to the worker. */
  limit: number;
}

let replay: Replay | null = null;
let view: ReplayView = OFF;
let lastSpeed: ReplaySpeed = 10;
const listeners = new Set<() => void>();

function publish(): void {
  const r = current();
  view = r
    ? { on: true, playing: r.clock.playing, speed: r.clock.speed, done: r.done }
    : { ...OFF, speed: lastSpeed };
  for (const l of listeners) l();
}

/** The replay of the session on screen (a replay of another session is dropped). */
function current(): Replay | null {
  if (replay && replay.data !== sessionData()) replay = null;
  return replay;
}

export function useReplay(): ReplayView {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => (current() === null && view.on ? OFF : view),
  );
}

/** Starts the replay from the first event (what is shown starts over). */
export function startReplay(speed: ReplaySpeed = lastSpeed): void {
  const d = sessionData();
  if (!d || d.columns.length === 0) return;
  lastSpeed = speed;
  d.restartAnalysis();
  d.filtered.reset();
  const clock = new ReplayClock(d.columns.timeNs.get(0), speed);
  clock.play(performance.now());
  replay = { data: d, clock, done: false, limit: 0 };
  toAnalysis({ t: 'limit', gen: d.analysis.gen, limit: 0 });
  publish();
  raf.invalidate('events', 'selection');
  raf.wake();
}

export function pauseReplay(): void {
  const r = current();
  if (!r || !r.clock.playing) return;
  r.clock.pause(performance.now());
  publish();
}

export function resumeReplay(): void {
  const r = current();
  if (!r) return startReplay();
  if (r.done) return startReplay(r.clock.speed);
  r.clock.play(performance.now());
  publish();
  raf.wake();
}

export function setReplaySpeed(speed: ReplaySpeed): void {
  lastSpeed = speed;
  const r = current();
  if (r) {
    const now = performance.now();
    // Leaving max: the clock continues from what max has shown.
    const f = r.data.analysis.frontier;
    const reached = r.clock.speed === 'max' && f > 0 ? r.data.columns.timeNs.get(f - 1) : null;
    r.clock.setSpeed(speed, now);
    if (reached !== null) r.clock.catchUp(reached, now);
    raf.wake();
  }
  publish();
}

/** Ends the replay: the analysis runs on to the end as usual. */
export function stopReplay(): void {
  if (!replay) return;
  const d = replay.data;
  replay = null;
  toAnalysis({ t: 'limit', gen: d.analysis.gen, limit: null });
  publish();
  raf.wake();
}

/** Whether a replay holds the analysis of `d` back to its clock. */
export function replaying(d: SessionData): boolean {
  const r = current();
  return r !== null && r.data === d;
}

/**
 * A frame step: moves the analysis's limit (in the worker) to where the replay's clock has
 * reached; marks the replay done at the end. Returns whether the replay still needs frames.
 */
export function replayStep(d: SessionData, complete: boolean): boolean {
  const r = current();
  if (!r || r.data !== d) return false;
  const reachable = d.columns.length;
  if (complete && d.analysis.frontier >= reachable) {
    if (!r.done) {
      r.done = true;
      r.clock.pause(performance.now());
      publish();
    }
    return false;
  }
  if (!r.clock.playing) return false;
  const horizon = r.clock.horizonNs(performance.now());
  const limit = r.limit + eventsReached(d.columns.timeNs, r.limit, reachable, horizon, Infinity);
  if (limit !== r.limit) {
    r.limit = limit;
    toAnalysis({ t: 'limit', gen: d.analysis.gen, limit });
  }
  return true;
}

/** Events shown: those the replay has reached, else every event on hand. */
export function shownEvents(d: SessionData): number {
  const r = current();
  return r && r.data === d ? d.analysis.frontier : d.columns.length;
}
