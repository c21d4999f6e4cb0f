/**
 * One traced walk session, run by the worker core: capture (or borrow) a snapshot, create a
 * marker whose PSS_ALLOCATOR is the traced strategy, walk the chosen classes at the chosen pace,
 * free everything. Every Pss call is bracketed by tracer.enter/leave so each allocation event
 * names the call (and walk class) that made it.
 *
 * Cleanup is unconditional: whatever ends the session (last entry, cancel, an allocator
 * failure, the target dying, an exception), finish() frees the marker, releases the allocator
 * and frees an owned snapshot, then sends the final summary after the last events.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Snapshot, WalkMarker } from '../pss';
import { PssError } from '../pss';
import { ApiCall, NO_CLASS } from '../../src-shared/events/layout';
import { PssWalkClass, Win32Error, type WalkableClass } from '../../src-shared/pss/constants';
import type { WalkEntry } from '../../src-shared/pss/entries';
import type {
  ActiveSessionState,
  Bookmark,
  ClassProgress,
  EndedSessionState,
  ErrorReply,
  Pace,
  SessionState,
  SessionSummary,
} from '../../src-shared/contract/model';
import {
  endedState,
  failedState,
  walkingState,
  type SessionPlan,
} from '../../src-shared/contract/session-state';
import { emptyTotals, createSessionTracer, type SessionTracer } from './tracing';
import { captureSnapshot } from './snapshot-cache';
import { LimitError, noBookmark, toErrorReply } from '../errors/reply';
import type { Emit } from './protocol';
import type { SessionAction, SessionControlArgs, StartSessionOptions } from './service';

/** Longest slice of work between two yields to the worker's event loop in 'run' mode. */
const RUN_SLICE_MS = 8;
/** Timer period in 'paced' mode; several entries per tick at high rates. */
const MIN_TICK_MS = 4;
/** How many times a step that failed for lack of memory is retried under the 'retry' policy. */
const MAX_RETRIES = 8;
/** While a walk runs, its progress (SessionState) is sent at most this often. */
const STATE_INTERVAL_MS = 100;
/** Decoded entries are shipped in groups of at most this many. */
const ENTRY_BATCH = 512;
/** Bookmarks a session keeps: every state message carries them, so their number is bounded. */
export const MAX_BOOKMARKS = 100;

export interface SessionDeps {
  emit: Emit;
  /** The snapshot to walk when the session does not capture its own. */
  borrowSnapshot(snapshotId: string): Snapshot;
  /** Called once the session has released everything. */
  onDone(sessionId: string): void;
}

export class WalkSession {
  /** Where the walk is; 'ended' once finish() ran (then `outcome` says how). */
  private state: ActiveSessionState['state'] | 'ended' = 'starting';
  private outcome: EndedSessionState['state'] | 'failed' | null = null;
  private pace: Pace;
  private snapshot: Snapshot | null = null;
  private ownsSnapshot = false;
  private marker: WalkMarker | null = null;
  private tracer: SessionTracer | null = null;
  private readonly progress: ClassProgress[];
  private classIndex = 0;
  private pass = 0;
  private readonly bookmarks: Bookmark[] = [];
  private nextBookmark = 1;
  private error: ErrorReply | null = null;
  private targetExited = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pendingEntries: { cls: WalkableClass; start: number; list: WalkEntry[] } | null = null;
  /** Per class, how many entries (from index 0) have been shipped. */
  private readonly shippedEntries = new Map<WalkableClass, number>();
  private lastTick = 0;
  private credit = 0;
  private readonly t0 = performance.now();
  private readonly plan: SessionPlan;
  private captureMs = 0;
  private walkStartMs = 0;
  private walkMs = 0;
  private ended = false;
  private lastExitCheck = 0;
  private lastStateAt = 0;

  constructor(
    readonly sessionId: string,
    private readonly options: StartSessionOptions,
    private readonly deps: SessionDeps,
  ) {
    this.pace = options.pace;
    this.plan = {
      sessionId,
      pid: options.pid ?? 0,
      snapshotId: options.snapshotId ?? null,
      pace: options.pace,
      classes: options.classes,
      passes: options.passes ?? 1,
      allocator: options.allocator,
      clockOriginEpochMs: performance.timeOrigin + this.t0,
    };
    this.progress = options.classes.map((cls) => ({ cls, walked: 0, total: null, done: false }));
  }

  /** Captures (or borrows) the snapshot and creates the traced marker; then starts walking. */
  start(): SessionState {
    try {
      if (this.options.snapshotId !== undefined) {
        this.snapshot = this.deps.borrowSnapshot(this.options.snapshotId);
      } else {
        const t = performance.now();
        this.snapshot = captureSnapshot(
          this.options.pid as number,
          this.options.flags,
          `${this.sessionId}-snap`,
        ).snapshot;
        this.ownsSnapshot = true;
        this.captureMs = performance.now() - t;
      }
      const counts = this.snapshot.counts();
      const totals: Record<WalkableClass, number | null> = {
        THREADS: counts.threads,
        HANDLES: counts.handles,
        VA_SPACE: counts.regions,
        AUXILIARY_PAGES: counts.auxPages,
      };
      for (const p of this.progress) p.total = totals[p.cls];
      this.tracer = createSessionTracer(
        this.options.allocator,
        this.t0,
        (firstSeq, batch) =>
          this.deps.emit({ t: 'events', sessionId: this.sessionId, firstSeq, batch }, [batch]),
        this.options.tracer ?? 'native',
        this.options.ringFile,
      );
      this.createMarker();
      this.walkStartMs = performance.now();
      this.state = 'running';
      this.schedule(0);
    } catch (e) {
      this.fail(e);
    }
    return this.snapshotState();
  }

  private createMarker(): void {
    const tracer = this.tracer as SessionTracer;
    for (let attempt = 0; ; attempt++) {
      tracer.enter(ApiCall.PssWalkMarkerCreate, NO_CLASS);
      try {
        this.marker = tracer.createMarker({
          onCallbackError: (routine, err) => tracer.callbackError(routine, err),
        });
        tracer.leave(Win32Error.SUCCESS);
        tracer.markerCreated();
        return;
      } catch (e) {
        const code = e instanceof PssError ? e.code : Win32Error.NOT_ENOUGH_MEMORY;
        tracer.leave(code);
        tracer.apiError(ApiCall.PssWalkMarkerCreate, code);
        if (
          !(e instanceof PssError) ||
          code !== Win32Error.NOT_ENOUGH_MEMORY ||
          !this.mayRetry(attempt)
        )
          throw e;
      }
    }
  }

  private mayRetry(attempt: number): boolean {
    return this.options.onAllocFailure === 'retry' && attempt < MAX_RETRIES;
  }

  control(action: SessionAction, args: SessionControlArgs): SessionState {
    if (this.ended) return this.snapshotState();
    switch (action) {
      case 'pause':
        if (this.state === 'running') {
          this.state = 'paused';
          this.clearTimer();
          this.flushOut();
        }
        break;
      case 'resume':
        if (this.state === 'paused') {
          this.state = 'running';
          this.lastTick = 0;
          this.schedule(0);
        }
        break;
      case 'step':
        if (this.state === 'running') {
          this.state = 'paused';
          this.clearTimer();
        }
        if (this.state === 'paused') {
          this.guard(() => this.stepOnce());
          this.flushOut();
        }
        break;
      case 'seekToBeginning':
        this.guard(() => this.seekToBeginning());
        this.flushOut();
        break;
      case 'savePosition':
        if (this.bookmarks.length >= MAX_BOOKMARKS) {
          throw new LimitError(
            `session ${this.sessionId} already keeps ${MAX_BOOKMARKS} bookmarks, the most a session may keep`,
            'Restore one of the saved positions, or start a new session to save others.',
          );
        }
        this.guard(() => {
          const tracer = this.tracer as SessionTracer;
          const cur = this.progress[this.classIndex];
          if (!cur) throw new Error('the walk is complete: there is no position to save');
          tracer.enter(ApiCall.PssWalkMarkerGetPosition, NO_CLASS);
          const position = (this.marker as WalkMarker).getPosition();
          tracer.leave(Win32Error.SUCCESS);
          tracer.positionGet(position);
          this.bookmarks.push({
            id: this.nextBookmark++,
            label: `${cur.cls} #${cur.walked}`,
            cls: cur.cls,
            entryIndex: cur.walked,
            position: position.toString(),
          });
        });
        this.flushOut();
        break;
      case 'restorePosition': {
        const b = this.bookmarks.find((x) => x.id === args.bookmarkId);
        if (!b) {
          throw noBookmark(this.sessionId, args.bookmarkId);
        }
        this.guard(() => {
          const tracer = this.tracer as SessionTracer;
          const position = BigInt(b.position);
          tracer.enter(ApiCall.PssWalkMarkerSetPosition, PssWalkClass[b.cls]);
          (this.marker as WalkMarker).setPosition(position);
          tracer.leave(Win32Error.SUCCESS);
          tracer.positionSet(position);
          const idx = this.progress.findIndex((p) => p.cls === b.cls);
          const p = this.progress[idx] as ClassProgress;
          p.walked = b.entryIndex;
          p.done = false;
          this.classIndex = idx;
        });
        this.flushOut();
        break;
      }
      case 'setPace':
        if (args.pace) {
          this.pace = args.pace;
          this.lastTick = 0;
          this.credit = 0;
          if (this.state === 'running') {
            this.clearTimer();
            this.schedule(0);
          }
        }
        break;
      case 'cancel':
        this.finish('cancelled');
        break;
    }
    const s = this.snapshotState();
    this.emitState();
    return s;
  }

  /** Runs an operation; an exception fails the session cleanly. */
  private guard(op: () => void): void {
    try {
      op();
    } catch (e) {
      this.fail(e);
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delayMs: number): void {
    this.clearTimer();
    this.timer = setTimeout(() => this.tick(), delayMs);
  }

  private tick(): void {
    this.timer = null;
    if (this.state !== 'running') return;
    this.guard(() => {
      if (this.pace.mode === 'run') {
        const until = performance.now() + RUN_SLICE_MS;
        while (this.state === 'running' && performance.now() < until) {
          // the native tracer walks 64 steps per native call; the JS one step by step
          if (this.tracer?.walkMany) this.stepMany(64);
          else for (let i = 0; i < 64 && this.state === 'running'; i++) this.stepOnce();
        }
      } else {
        const now = performance.now();
        const elapsed =
          this.lastTick === 0 ? 1000 / this.pace.entriesPerSecond : now - this.lastTick;
        this.lastTick = now;
        this.credit = Math.min(this.credit + (elapsed * this.pace.entriesPerSecond) / 1000, 10_000);
        while (this.credit >= 1 && this.state === 'running') {
          this.credit -= 1;
          this.stepOnce();
        }
      }
    });
    this.checkTarget();
    this.flushOut();
    if (this.state === 'running') {
      // Progress is coarse: a few state messages a second, not one per tick.
      const now = performance.now();
      if (now - this.lastStateAt >= STATE_INTERVAL_MS) {
        this.lastStateAt = now;
        this.emitState();
      }
      const period =
        this.pace.mode === 'run' ? 0 : Math.max(MIN_TICK_MS, 1000 / this.pace.entriesPerSecond);
      this.schedule(period);
    }
  }

  /**
   * Up to `max` PssWalkSnapshot calls on the current class in one native call (each bracketed
   * and reported as stepOnce's), then what stepOnce does with the code that stopped them.
   */
  private stepMany(max: number): void {
    const cur = this.progress[this.classIndex];
    const tracer = this.tracer as SessionTracer;
    if (!cur || cur.done || !tracer.walkMany || !tracer.entryAt) return this.stepOnce();
    const r = tracer.walkMany(
      this.snapshot as Snapshot,
      this.marker as WalkMarker,
      cur.cls,
      cur.walked,
      max,
    );
    const ok = r.code === Win32Error.SUCCESS ? r.steps : r.steps - 1;
    const shipped = this.shippedEntries.get(cur.cls) ?? 0;
    for (let k = 0; k < ok; k++, cur.walked++)
      if (cur.walked >= shipped) this.queueEntry(cur.cls, cur.walked, tracer.entryAt(cur.cls, k));
    if (ok < r.steps) this.stepOnce(r.code);
  }

  /**
   * One PssWalkSnapshot call on the current class (or class change / completion); `code`: the
   * code of a call stepMany made already (not SUCCESS), handled as if this call had made it.
   */
  private stepOnce(code?: number): void {
    const cur = this.progress[this.classIndex];
    if (!cur) {
      this.finish('finished');
      return;
    }
    if (cur.done) {
      this.advanceClass();
      return;
    }
    const tracer = this.tracer as SessionTracer;
    const marker = this.marker as WalkMarker;
    const snapshot = this.snapshot as Snapshot;
    for (let attempt = 0; ; attempt++) {
      // enter, PssWalkSnapshot, leave and the WalkStep / WalkEnd / ApiError event in one go
      if (attempt > 0 || code === undefined)
        code = tracer.walk(snapshot, marker, cur.cls, cur.walked);
      if (code === Win32Error.SUCCESS) {
        const entry = snapshot.decodeCurrent(marker, cur.cls);
        this.queueEntry(cur.cls, cur.walked, entry);
        cur.walked++;
        return;
      }
      if (code === Win32Error.NO_MORE_ITEMS) {
        cur.done = true;
        if (cur.total === null) cur.total = cur.walked;
        this.advanceClass();
        return;
      }
      if (code === Win32Error.NOT_FOUND) {
        // This class was not captured: nothing to walk, the session goes on with the next.
        cur.done = true;
        cur.total = 0;
        this.advanceClass();
        return;
      }
      if (code === Win32Error.NOT_ENOUGH_MEMORY && this.mayRetry(attempt)) continue;
      throw new PssError(
        'PssWalkSnapshot',
        code,
        code === Win32Error.NOT_ENOUGH_MEMORY
          ? `The allocator returned NULL while walking ${cur.cls} entry ${cur.walked}.`
          : undefined,
      );
    }
  }

  private advanceClass(): void {
    const next = this.progress.findIndex((p) => !p.done);
    if (next !== -1) {
      this.classIndex = next;
    } else if (this.pass + 1 < (this.options.passes ?? 1)) {
      // Another pass over every class: PssWalkMarkerSeekToBeginning, as a user would.
      this.pass++;
      this.seekToBeginning();
    } else {
      this.classIndex = this.progress.length;
      this.finish('finished');
    }
  }

  private seekToBeginning(): void {
    const tracer = this.tracer as SessionTracer;
    tracer.enter(ApiCall.PssWalkMarkerSeekToBeginning, NO_CLASS);
    (this.marker as WalkMarker).seekToBeginning();
    tracer.leave(Win32Error.SUCCESS);
    tracer.seek();
    for (const p of this.progress) {
      p.walked = 0;
      p.done = false;
    }
    this.classIndex = 0;
  }

  private queueEntry(cls: WalkableClass, index: number, entry: WalkEntry): void {
    // A snapshot is immutable: entry `index` of a class is the same on every pass and after
    // every seek, so each one is shipped once (the trace store and the renderer keep it).
    const shipped = this.shippedEntries.get(cls) ?? 0;
    if (index < shipped) return;
    this.shippedEntries.set(cls, index + 1);
    const p = this.pendingEntries;
    if (p && p.cls === cls && p.start + p.list.length === index && p.list.length < ENTRY_BATCH) {
      p.list.push(entry);
      return;
    }
    this.flushEntries();
    this.pendingEntries = { cls, start: index, list: [entry] };
  }

  private flushEntries(): void {
    const p = this.pendingEntries;
    if (!p) return;
    this.pendingEntries = null;
    this.deps.emit({
      t: 'entries',
      sessionId: this.sessionId,
      cls: p.cls,
      startIndex: p.start,
      entries: p.list,
    });
  }

  /** Sends what is buffered: entries first (the events of a step refer to its entry), then events. */
  private flushOut(): void {
    this.flushEntries();
    this.tracer?.flush();
  }

  /** Notes (once) that the target exited; the walk goes on from the capture. */
  private checkTarget(): void {
    const now = performance.now();
    if (this.targetExited || this.options.pid === undefined || now - this.lastExitCheck < 250)
      return;
    this.lastExitCheck = now;
    const pid = this.options.pid;
    let gone = !existsSync(`/proc/${pid}`);
    if (!gone) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        gone = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
      } catch {
        gone = true;
      }
    }
    if (gone) this.targetExited = true;
  }

  private fail(e: unknown): void {
    if (this.ended) return;
    this.error = toErrorReply(e);
    this.finish('failed');
  }

  /**
   * Frees everything this session holds, then reports its end. Runs exactly once. 'failed'
   * comes with this.error set (fail()); a problem while freeing fails a finished or cancelled
   * session too.
   */
  private finish(outcome: EndedSessionState['state'] | 'failed'): void {
    if (this.ended) return;
    this.ended = true;
    this.clearTimer();
    if (this.walkStartMs > 0) this.walkMs = performance.now() - this.walkStartMs;
    this.state = 'ended';
    this.outcome = outcome;
    const problems: unknown[] = [];
    const tracer = this.tracer;
    if (this.marker && !this.marker.isFreed && tracer) {
      tracer.enter(ApiCall.PssWalkMarkerFree, NO_CLASS);
      try {
        this.marker.free();
        tracer.leave(Win32Error.SUCCESS);
      } catch (e) {
        tracer.leave(e instanceof PssError ? e.code : Win32Error.INVALID_HANDLE);
        problems.push(e);
      }
      tracer.markerFreed();
    }
    this.marker = null;
    if (this.snapshot && this.ownsSnapshot && !this.snapshot.isFreed) {
      try {
        this.snapshot.free();
      } catch (e) {
        problems.push(e);
      }
    }
    this.snapshot = null;
    this.flushEntries();
    // Release first: whatever events it writes belong to the session and to its summary, which
    // is built (flushing the last batch) from the ledger of every event written.
    tracer?.release();
    const summary = this.buildSummary();
    if (problems.length > 0) {
      this.error ??= toErrorReply(problems[0]);
      this.outcome = 'failed';
    }
    this.emitState();
    this.deps.emit({ t: 'summary', summary });
    this.deps.onDone(this.sessionId);
  }

  private buildSummary(): SessionSummary {
    const entriesWalked: SessionSummary['entriesWalked'] = {};
    for (const p of this.progress) entriesWalked[p.cls] = p.walked;
    const durations = {
      captureMs: this.captureMs,
      walkMs: this.walkMs,
      totalMs: performance.now() - this.t0,
    };
    const totals = this.tracer?.summary() ?? emptyTotals();
    return { sessionId: this.sessionId, ...totals, entriesWalked, durations };
  }

  private emitState(): void {
    this.deps.emit({ t: 'state', state: this.snapshotState() });
  }

  snapshotState(): SessionState {
    const cur = this.progress[this.classIndex];
    const progress = {
      pace: this.pace,
      classes: this.progress,
      pass: this.pass,
      bookmarks: this.bookmarks,
      eventsStored: this.tracer?.eventCount ?? 0,
      targetExited: this.targetExited,
    };
    if (this.state !== 'ended') {
      const current = cur ? { cls: cur.cls, entryIndex: cur.walked } : null;
      return walkingState(this.plan, { ...progress, state: this.state, current });
    }
    const last = walkingState(this.plan, { ...progress, state: 'running', current: null });
    if (this.outcome === 'failed') {
      return failedState(
        last,
        this.error ?? toErrorReply(new Error(`session ${this.sessionId} failed`)),
      );
    }
    return endedState(last, this.outcome ?? 'cancelled');
  }

  get borrowedSnapshotId(): string | undefined {
    return this.options.snapshotId;
  }

  /** Ends the session now (worker shutdown, or its borrowed snapshot is being freed). */
  cancel(): void {
    if (!this.ended) this.finish('cancelled');
  }
}
