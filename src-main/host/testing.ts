/**
 * A small in-memory WalkService for the host's own unit tests (validation, ownership, flow
 * control): it produces real event records with the shared encoder, on timers, without native
 * code. Everything else tests against the real walk service and libpss.
 *
 * It fails exactly as the real one does: the same error classes and messages, mapped by the
 * same mapping (src-main/errors/reply.ts), rejected or ended the same way (a session that
 * cannot start resolves 'failed' after its state and summary; unknown ids are "not found"; a
 * worker that dies ends its sessions through `lost`). src-main/walk/conformance.test.ts runs
 * the same failure cases against both and asserts identical replies. Its world: every pid is a
 * live, readable process unless it is in `gone` or `unreadable`.
 */
import { EventBatchView, EventWriter } from '../../src-shared/events/batch';
import { Ledger } from '../../src-shared/ledger/ledger';
import { ApiCall, EventKind, NO_CLASS, StrategyId } from '../../src-shared/events/layout';
import type {
  ErrorReply,
  SessionState,
  SessionSummary,
  SnapshotInfo,
} from '../../src-shared/contract/model';
import type { WalkableClass } from '../../src-shared/pss/constants';
import type { WalkEntry } from '../../src-shared/pss/entries';
import { PssError } from '../pss/errors';
import { PssCaptureFlags, Win32Error } from '../../src-shared/pss/constants';
import {
  endedState,
  failedState,
  startingState,
  walkingState,
} from '../../src-shared/contract/session-state';
import {
  WalkServiceError,
  noBookmark,
  sessionExists,
  sessionNotRunning,
  snapshotNotFound,
  toErrorReply,
  userLibraryNeedsPid,
  workerDied,
} from '../errors/reply';
import { usesUserLibrary } from '../../src-shared/alloc/options';
import type {
  SessionAction,
  SessionControlArgs,
  SessionSink,
  StartSessionOptions,
  WalkService,
} from '../walk/service';

export interface FakeSessionPlan {
  /** Batches the session emits, one per tick. */
  batches: number;
  eventsPerBatch: number;
  tickMs: number;
}

interface FakeSession {
  id: string;
  sink: SessionSink;
  state: SessionState;
  timer: ReturnType<typeof setTimeout> | null;
  writer: EventWriter;
  emitted: number;
  /** Live bytes, for the events' aux1. */
  live: number;
  /** Counts the events as the real tracer does: by folding them. */
  ledger: Ledger;
  plan: FakeSessionPlan;
  pid: number | undefined;
  t0: number;
  /** When progress was last pushed (as the real session: at most every STATE_INTERVAL_MS). */
  lastStateAt: number;
}

/** As the real session (src-main/walk/session.ts): progress is pushed at most this often. */
const STATE_INTERVAL_MS = 100;

/** Capture flags this platform refuses (as libpss does). */
const REFUSED_FLAGS = PssCaptureFlags.THREAD_CONTEXT_EXTENDED;

/** A rejection as the real client makes it: the error mapped, carried as a WalkServiceError. */
const rejectWith = (e: unknown): Promise<never> =>
  Promise.reject(new WalkServiceError(toErrorReply(e)));

export class FakeWalkService implements WalkService {
  readonly snapshots = new Map<string, SnapshotInfo>();
  readonly sessions = new Map<string, FakeSession>();
  readonly calls: string[] = [];
  /** Pids with no process (OpenProcess fails as for a pid that does not exist). */
  readonly gone = new Set<number>();
  /** Pids the inspector may not read (the capture is denied). */
  readonly unreadable = new Set<number>();
  plan: FakeSessionPlan = { batches: 10, eventsPerBatch: 100, tickMs: 1 };
  entries: Record<string, WalkEntry[]> = {};
  private next = 1;
  private generation = 1;

  /** The error capturing `pid` with `flags` fails with, as libpss reports it (null: none). */
  private captureError(pid: number, flags: number): PssError | null {
    if (this.gone.has(pid))
      return new PssError(
        'OpenProcess',
        Win32Error.INVALID_PARAMETER,
        `No process with id ${pid} exists.`,
      );
    if (this.unreadable.has(pid))
      return new PssError('PssCaptureSnapshot', Win32Error.ACCESS_DENIED);
    if ((flags & REFUSED_FLAGS) !== 0)
      return new PssError('PssCaptureSnapshot', Win32Error.NOT_SUPPORTED);
    return null;
  }

  capture(pid: number, flags: number): Promise<SnapshotInfo> {
    this.calls.push(`capture ${pid}`);
    const error = this.captureError(pid, flags);
    if (error) return rejectWith(error);
    const info = {
      snapshotId: `w${this.generation}-snap${this.next++}`,
      pid,
      processName: `proc${pid}`,
      flags,
      capturedAtMs: Date.now(),
      captureMs: 1,
      process: {} as SnapshotInfo['process'],
      counts: { threads: 1, contextLength: null, handles: 1, regions: 1, auxPages: null },
      performance: null,
      details: null,
    } satisfies SnapshotInfo;
    this.snapshots.set(info.snapshotId, info);
    return Promise.resolve(info);
  }

  freeSnapshot(snapshotId: string): Promise<void> {
    this.calls.push(`free ${snapshotId}`);
    if (!this.snapshots.has(snapshotId)) return rejectWith(snapshotNotFound(snapshotId));
    // As the real core: a session walking this snapshot ends first.
    for (const s of [...this.sessions.values()])
      if (s.state.snapshotId === snapshotId) this.finish(s, 'cancelled');
    this.snapshots.delete(snapshotId);
    return Promise.resolve();
  }

  querySnapshot(snapshotId: string, cls: WalkableClass, offset: number, limit: number) {
    if (!this.snapshots.has(snapshotId)) return rejectWith(snapshotNotFound(snapshotId));
    const all = this.entries[`${snapshotId}:${cls}`] ?? [];
    return Promise.resolve({
      snapshotId,
      cls,
      offset,
      total: all.length,
      entries: all.slice(offset, offset + limit),
    });
  }

  allEntries(snapshotId: string, cls: WalkableClass): Promise<WalkEntry[]> {
    if (!this.snapshots.has(snapshotId)) return rejectWith(snapshotNotFound(snapshotId));
    return Promise.resolve(this.entries[`${snapshotId}:${cls}`] ?? []);
  }

  /** Why a session with these options cannot start, as the real session reports it. */
  private startError(options: StartSessionOptions): unknown {
    if (options.snapshotId !== undefined) {
      if (!this.snapshots.has(options.snapshotId)) return snapshotNotFound(options.snapshotId);
    } else {
      const e = this.captureError(options.pid ?? 0, options.flags);
      if (e) return e;
    }
    // The marker's own allocation is the first one: a faulty allocator failing it fails the
    // marker (no retry under 'stop').
    const a = options.allocator;
    if (
      a.strategy === 'faulty' &&
      options.onAllocFailure === 'stop' &&
      (a.failNth?.includes(1) === true || (a.failProbability ?? 0) >= 1)
    )
      return new PssError('PssWalkMarkerCreate', Win32Error.NOT_ENOUGH_MEMORY);
    return null;
  }

  startSession(
    sessionId: string,
    options: StartSessionOptions,
    sink: SessionSink,
  ): Promise<SessionState> {
    this.calls.push(`start ${sessionId}`);
    if (
      usesUserLibrary(options.allocator) &&
      (options.pid === undefined || options.snapshotId !== undefined)
    )
      return rejectWith(userLibraryNeedsPid());
    if (this.sessions.has(sessionId)) return rejectWith(sessionExists(sessionId));
    const t0 = performance.now();
    const plan = {
      sessionId,
      pid: options.pid ?? 0,
      snapshotId: options.snapshotId ?? null,
      pace: options.pace,
      classes: options.classes,
      passes: options.passes ?? 1,
      allocator: options.allocator,
      clockOriginEpochMs: performance.timeOrigin + t0,
    };
    const starting = startingState(plan);
    const error = this.startError(options);
    if (error) {
      // As the real session: the state and an empty summary are sent, then the reply.
      const failed = failedState(starting, toErrorReply(error));
      sink.state(failed);
      sink.summary(this.emptySummary(sessionId));
      return Promise.resolve(failed);
    }
    const s: FakeSession = {
      id: sessionId,
      sink,
      plan: { ...this.plan },
      state: walkingState(plan, {
        ...starting,
        state: 'running',
        classes: options.classes.map((cls) => ({ cls, walked: 0, total: 1, done: false })),
        current: options.classes[0] ? { cls: options.classes[0], entryIndex: 0 } : null,
      }),
      lastStateAt: t0,
      timer: null,
      writer: null as unknown as EventWriter,
      emitted: 0,
      live: 0,
      ledger: new Ledger(),
      pid: options.pid,
      t0,
    };
    s.writer = new EventWriter(
      s.plan.eventsPerBatch,
      (batch, firstSeq) => {
        const view = new EventBatchView(batch);
        s.ledger.fold(view, 0, view.count);
        sink.events(firstSeq, batch);
      },
      () => (performance.now() - t0) * 1e6,
    );
    this.sessions.set(sessionId, s);
    this.schedule(s);
    return Promise.resolve(s.state);
  }

  private schedule(s: FakeSession): void {
    s.timer = setTimeout(() => this.tick(s), s.plan.tickMs);
  }

  private tick(s: FakeSession): void {
    s.timer = null;
    if (s.state.state !== 'running') return;
    for (let i = 0; i < s.plan.eventsPerBatch; i++) {
      const n = s.writer.seq;
      if (n % 2 === 0) {
        s.live += 32;
        s.writer.write(
          EventKind.Alloc,
          ApiCall.PssWalkSnapshot,
          3,
          StrategyId.heap,
          1,
          1,
          0x1000 + n,
          0,
          32,
          0,
          s.live,
        );
      } else {
        s.live -= 32;
        s.writer.write(
          EventKind.Free,
          ApiCall.PssWalkSnapshot,
          NO_CLASS,
          StrategyId.heap,
          1,
          1,
          0x1000 + n - 1,
          0,
          32,
          0,
          s.live,
        );
      }
    }
    s.writer.flush();
    s.emitted++;
    // As the real session: the target's exit is noted; the walk goes on from the capture.
    const targetExited = s.state.targetExited || (s.pid !== undefined && this.gone.has(s.pid));
    s.state = { ...s.state, eventsStored: s.writer.seq, targetExited };
    if (s.emitted >= s.plan.batches) {
      this.finish(s, 'finished');
      return;
    }
    const now = performance.now();
    if (now - s.lastStateAt >= STATE_INTERVAL_MS) {
      s.lastStateAt = now;
      s.sink.state(s.state);
    }
    this.schedule(s);
  }

  private finish(s: FakeSession, how: 'finished' | 'cancelled'): void {
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    s.writer.flush();
    s.state = endedState(s.state, how, { eventsStored: s.writer.seq });
    s.sink.state(s.state);
    s.sink.summary(this.summaryOf(s));
    this.sessions.delete(s.id);
  }

  private emptySummary(sessionId: string): SessionSummary {
    return {
      sessionId,
      ...new Ledger().summary(),
      entriesWalked: {},
      durations: { captureMs: 0, walkMs: 0, totalMs: 0 },
      strategy: null,
      callbackErrors: 0,
    };
  }

  summaryOf(s: FakeSession): SessionSummary {
    s.writer.flush();
    return { ...this.emptySummary(s.id), ...s.ledger.summary() };
  }

  control(
    sessionId: string,
    action: SessionAction,
    args: SessionControlArgs,
  ): Promise<SessionState> {
    this.calls.push(`${action} ${sessionId}`);
    const s = this.sessions.get(sessionId);
    if (!s) return rejectWith(sessionNotRunning(sessionId));
    switch (action) {
      case 'cancel':
        this.finish(s, 'cancelled');
        break;
      case 'pause':
        if (s.state.state === 'running') s.state = { ...s.state, state: 'paused' };
        if (s.timer) clearTimeout(s.timer);
        s.timer = null;
        break;
      case 'resume':
        if (s.state.state === 'paused') {
          s.state = { ...s.state, state: 'running' };
          this.schedule(s);
        }
        break;
      case 'restorePosition':
        // The fake saves no positions: every bookmark is unknown to it.
        return rejectWith(noBookmark(sessionId, args.bookmarkId));
      default:
        break;
    }
    // As the real session: every control pushes the state it leaves.
    s.sink.state(s.state);
    return Promise.resolve(s.state);
  }

  /** The fake's "worker" dies: its sessions end as the real client ends them. */
  terminateWorker(): Promise<void> {
    const error: ErrorReply = workerDied('it was terminated');
    this.generation++;
    this.snapshots.clear();
    for (const s of [...this.sessions.values()]) {
      if (s.timer) clearTimeout(s.timer);
      this.sessions.delete(s.id);
      s.sink.lost(failedState(s.state, error));
    }
    return Promise.resolve();
  }

  close(): Promise<void> {
    for (const s of this.sessions.values()) if (s.timer) clearTimeout(s.timer);
    return Promise.resolve();
  }
}
