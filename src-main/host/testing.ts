/**
 * A small in-memory WalkService for the host's own unit tests (validation, ownership, flow
 * control): it produces real event records with the shared encoder, on timers, without native
 * code. Everything else tests against the real walk service and libpss.
 */
import { EventBatchView, EventWriter } from '../../src-shared/events/batch';
import { Ledger } from '../../src-shared/ledger/ledger';
import { ApiCall, EventKind, NO_CLASS, StrategyId } from '../../src-shared/events/layout';
import type { SessionState, SessionSummary, SnapshotInfo } from '../../src-shared/contract/model';
import type { WalkEntry } from '../../src-shared/pss/entries';
import { PssError } from '../pss/errors';
import { Win32Error } from '../../src-shared/pss/constants';
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
  t0: number;
}

export class FakeWalkService implements WalkService {
  readonly snapshots = new Map<string, SnapshotInfo>();
  readonly sessions = new Map<string, FakeSession>();
  readonly calls: string[] = [];
  /** pid → Win32 error code capture fails with. */
  readonly failCapture = new Map<number, number>();
  plan: FakeSessionPlan = { batches: 10, eventsPerBatch: 100, tickMs: 1 };
  entries: Record<string, WalkEntry[]> = {};
  private next = 1;

  capture(pid: number, flags: number): Promise<SnapshotInfo> {
    this.calls.push(`capture ${pid}`);
    const code = this.failCapture.get(pid);
    // As the real service: a process that is gone fails to open; other codes come from the capture.
    if (code !== undefined)
      return Promise.reject(
        new PssError(
          code === Win32Error.INVALID_PARAMETER ? 'OpenProcess' : 'PssCaptureSnapshot',
          code,
        ),
      );
    const info = {
      snapshotId: `snap${this.next++}`,
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
    if (!this.snapshots.delete(snapshotId)) {
      return Promise.reject(new Error(`no snapshot ${snapshotId}`));
    }
    return Promise.resolve();
  }

  querySnapshot(
    snapshotId: string,
    cls: 'THREADS' | 'HANDLES' | 'VA_SPACE' | 'AUXILIARY_PAGES',
    offset: number,
    limit: number,
  ) {
    const all = this.entries[`${snapshotId}:${cls}`] ?? [];
    return Promise.resolve({
      snapshotId,
      cls,
      offset,
      total: all.length,
      entries: all.slice(offset, offset + limit),
    });
  }

  allEntries(snapshotId: string, cls: string): Promise<WalkEntry[]> {
    return Promise.resolve(this.entries[`${snapshotId}:${cls}`] ?? []);
  }

  startSession(
    sessionId: string,
    options: StartSessionOptions,
    sink: SessionSink,
  ): Promise<SessionState> {
    this.calls.push(`start ${sessionId}`);
    const t0 = performance.now();
    const s: FakeSession = {
      id: sessionId,
      sink,
      plan: { ...this.plan },
      state: {
        sessionId,
        state: 'running',
        pid: options.pid ?? 0,
        snapshotId: options.snapshotId ?? null,
        pace: options.pace,
        classes: options.classes.map((cls) => ({ cls, walked: 0, total: 1, done: false })),
        current: null,
        bookmarks: [],
        pass: 0,
        passes: 1,
        eventsStored: 0,
        error: null,
        targetExited: false,
        clockOriginEpochMs: performance.timeOrigin + t0,
        allocator: options.allocator,
      },
      timer: null,
      writer: null as unknown as EventWriter,
      emitted: 0,
      live: 0,
      ledger: new Ledger(),
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
    return Promise.resolve({ ...s.state });
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
    s.state = { ...s.state, eventsStored: s.writer.seq };
    if (s.emitted >= s.plan.batches) this.finish(s, 'finished');
    else this.schedule(s);
  }

  private finish(s: FakeSession, state: 'finished' | 'cancelled'): void {
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    s.writer.flush();
    s.state = { ...s.state, state, eventsStored: s.writer.seq };
    s.sink.state({ ...s.state });
    s.sink.summary(this.summaryOf(s));
    this.sessions.delete(s.id);
  }

  summaryOf(s: FakeSession): SessionSummary {
    s.writer.flush();
    return {
      sessionId: s.id,
      ...s.ledger.summary(),
      entriesWalked: {},
      durations: { captureMs: 0, walkMs: 0, totalMs: 0 },
      strategy: null,
      callbackErrors: 0,
    };
  }

  control(
    sessionId: string,
    action: SessionAction,
    _args: SessionControlArgs,
  ): Promise<SessionState> {
    this.calls.push(`${action} ${sessionId}`);
    const s = this.sessions.get(sessionId);
    if (!s) return Promise.reject(new Error(`no session ${sessionId}`));
    switch (action) {
      case 'cancel':
        this.finish(s, 'cancelled');
        break;
      case 'pause':
        s.state = { ...s.state, state: 'paused' };
        if (s.timer) clearTimeout(s.timer);
        s.timer = null;
        break;
      case 'resume':
        s.state = { ...s.state, state: 'running' };
        this.schedule(s);
        break;
      default:
        break;
    }
    return Promise.resolve({ ...s.state });
  }

  close(): Promise<void> {
    for (const s of this.sessions.values()) if (s.timer) clearTimeout(s.timer);
    return Promise.resolve();
  }
}
