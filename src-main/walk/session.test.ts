/**
 * Walk sessions end to end through the real worker (and in-thread for the soak test): real
 * libpss, real fixture process, real allocator strategies, every event decoded and recounted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getHeapStatistics } from 'node:v8';
import { startFixture, type RunningFixture } from '../testing/fixture';
import { until } from '../testing/wait';
import { createWalkService, WalkServiceError } from './client';
import type { SessionSink, StartSessionOptions, WalkService } from './service';
import type { WorkerStats } from './protocol';
import { EventBatchView, concatBatches } from '../../src-shared/events/batch';
import { EventKind } from '../../src-shared/events/layout';
import {
  DEFAULT_CAPTURE_FLAGS,
  PssCaptureFlags,
  Win32Error,
  type WalkableClass,
} from '../../src-shared/pss/constants';
import type { WalkEntry } from '../../src-shared/pss/entries';
import type { SessionState, SessionSummary } from '../../src-shared/contract/model';

type Service = WalkService & { stats(): Promise<WorkerStats> };

interface Recorded extends SessionSink {
  batches: ArrayBuffer[];
  nextSeq: number;
  walked: Map<WalkableClass, WalkEntry[]>;
  states: SessionState[];
  done: Promise<SessionSummary>;
}

function recorder(): Recorded {
  let resolve!: (s: SessionSummary) => void;
  const r: Recorded = {
    batches: [],
    nextSeq: 0,
    walked: new Map(),
    states: [],
    done: new Promise((res) => (resolve = res)),
    events(firstSeq, batch) {
      expect(firstSeq).toBe(r.nextSeq);
      r.nextSeq += new EventBatchView(batch).count;
      r.batches.push(batch);
    },
    entries(cls, startIndex, entries) {
      const list = r.walked.get(cls) ?? [];
      entries.forEach((e, i) => (list[startIndex + i] = e));
      r.walked.set(cls, list);
    },
    state(s) {
      r.states.push(s);
    },
    summary(s) {
      resolve(s);
    },
    lost(s) {
      throw new Error(`session lost: ${s.error.message}`);
    },
  };
  return r;
}

/** Recounts a session's events the way an independent consumer would. */
function recount(batches: ArrayBuffer[]) {
  const v = new EventBatchView(concatBatches(batches));
  v.validate(0);
  const live = new Map<bigint, number>();
  const c = {
    allocs: 0,
    frees: 0,
    freeNulls: 0,
    failures: 0,
    bytesAllocated: 0,
    bytesFreed: 0,
    leaks: 0,
    events: v.count,
  };
  for (let i = 0; i < v.count; i++) {
    const k = v.kind(i);
    if (k === EventKind.Alloc) {
      c.allocs++;
      c.bytesAllocated += v.size(i);
      live.set(v.address(i), v.size(i));
    } else if (k === EventKind.Free) {
      c.frees++;
      c.bytesFreed += v.size(i);
      live.delete(v.address(i));
    } else if (k === EventKind.FreeNull) c.freeNulls++;
    else if (k === EventKind.AllocFailed) c.failures++;
    else if (k === EventKind.Leak) c.leaks++;
  }
  return { ...c, outstanding: live.size, view: v };
}

const base = (pid: number, over: Partial<StartSessionOptions> = {}): StartSessionOptions => ({
  pid,
  flags: DEFAULT_CAPTURE_FLAGS,
  allocator: { strategy: 'heap' },
  classes: ['THREADS', 'HANDLES', 'VA_SPACE'],
  pace: { mode: 'run' },
  onAllocFailure: 'stop',
  ...over,
});

describe('walk sessions in the worker', () => {
  let fx: RunningFixture;
  let svc: Service;
  let n = 0;
  const id = () => `t${++n}`;
  beforeAll(async () => {
    fx = await startFixture({
      threads: 20,
      eventfds: 10,
      pipes: 20,
      memfds: 10,
      files: 20,
      maps: 200,
    });
    svc = createWalkService();
  }, 30_000);
  afterAll(async () => {
    await svc?.close();
    await fx?.stop();
  });

  for (const strategy of ['heap', 'arena', 'pool', 'guard'] as const) {
    it(`${strategy}: event totals match the allocator's own accounting exactly`, async () => {
      const rec = recorder();
      const allocator =
        strategy === 'heap'
          ? { strategy }
          : strategy === 'arena'
            ? { strategy, capacityBytes: 8 << 20 }
            : strategy === 'pool'
              ? { strategy, classes: [32, 64, 128, 256, 512, 1024, 4096], blocksPerSlab: 64 }
              : { strategy, redZoneBytes: 32 };
      await svc.startSession(id(), base(fx.pid, { allocator }), rec);
      const summary = await rec.done;
      const c = recount(rec.batches);
      const final = rec.states.at(-1) as SessionState;
      expect(final.state, JSON.stringify(final.error)).toBe('finished');
      expect(summary.events).toBe(c.events);
      expect(summary.allocations).toBe(c.allocs);
      expect(summary.frees).toBe(c.frees);
      expect(summary.freeNulls).toBe(c.freeNulls);
      expect(summary.bytesAllocated).toBe(c.bytesAllocated);
      expect(summary.bytesFreed).toBe(c.bytesFreed);
      expect(summary.allocations - summary.frees).toBe(summary.liveBlocks);
      expect(summary.bytesAllocated - summary.bytesFreed).toBe(summary.liveBytes);
      // the strategy's own books agree with the ledger of the events
      expect(summary.strategy?.allocations).toBe(summary.allocations);
      expect(summary.strategy?.frees).toBe(summary.frees);
      // libpss frees everything it allocates: nothing outstanding, no leaks, no violations.
      expect(c.outstanding).toBe(0);
      expect(summary.liveBlocks).toBe(0);
      expect(c.leaks).toBe(0);
      expect(summary.violations).toBe(0);
      expect(summary.problems).toBe(0);
      expect(summary.allocations).toBeGreaterThan(20);
      expect(summary.freeNulls).toBeGreaterThan(0); // marker free releases never-used class states
      expect(rec.walked.get('THREADS')?.length).toBe(21);
      expect(summary.entriesWalked['HANDLES']).toBe(fx.truth.fds.length);
      expect(summary.byClass['HANDLES']?.allocations).toBeGreaterThan(0);
      expect((await svc.stats()).allocatorNativeBytes).toBe(0);
    });
  }

  it('paced: pause, step, seek to beginning, bookmark and restore, resume to the end', async () => {
    const rec = recorder();
    const sid = id();
    const s0 = await svc.startSession(
      sid,
      base(fx.pid, {
        pace: { mode: 'paced', entriesPerSecond: 200 },
        classes: ['HANDLES', 'VA_SPACE'],
      }),
      rec,
    );
    expect(s0.state).toBe('running');
    await until(
      () => (rec.walked.get('HANDLES')?.filter(Boolean).length ?? 0) > 3,
      'a few walked handles',
    );
    const paused = await svc.control(sid, 'pause', {});
    expect(paused.state).toBe('paused');
    const at = paused.current?.entryIndex ?? -1;
    expect(at).toBeGreaterThan(3);
    expect(at).toBeLessThan(fx.truth.fds.length);
    const stepped = await svc.control(sid, 'step', {});
    expect(stepped.current?.entryIndex).toBe(at + 1);
    const saved = await svc.control(sid, 'savePosition', {});
    const bm = saved.bookmarks[0];
    expect(bm?.entryIndex).toBe(at + 1);
    await svc.control(sid, 'step', {});
    await svc.control(sid, 'step', {});
    const restored = await svc.control(sid, 'restorePosition', { bookmarkId: bm?.id as number });
    expect(restored.current?.entryIndex).toBe(at + 1);
    await svc.control(sid, 'step', {});
    // The entry walked after the restore is the same one walked right after the save.
    const handles = rec.walked.get('HANDLES') as WalkEntry[];
    expect(handles[at + 1]).toBeDefined();
    const rewound = await svc.control(sid, 'seekToBeginning', {});
    expect(rewound.current).toEqual({ cls: 'HANDLES', entryIndex: 0 });
    await svc.control(sid, 'setPace', { pace: { mode: 'run' } });
    await svc.control(sid, 'resume', {});
    const summary = await rec.done;
    expect(rec.states.at(-1)?.state).toBe('finished');
    const c = recount(rec.batches);
    expect(summary.events).toBe(c.events);
    const kinds = new Set(Array.from({ length: c.view.count }, (_, i) => c.view.kind(i)));
    for (const k of [
      EventKind.PositionGet,
      EventKind.PositionSet,
      EventKind.Seek,
      EventKind.WalkStep,
      EventKind.WalkEnd,
      EventKind.MarkerCreated,
      EventKind.MarkerFreed,
    ]) {
      expect(kinds.has(k), `event kind ${k}`).toBe(true);
    }
    expect(c.outstanding).toBe(0);
  });

  it('passes: every class is walked again after a seek to beginning, and totals still match', async () => {
    const rec = recorder();
    await svc.startSession(
      id(),
      base(fx.pid, { passes: 3, allocator: { strategy: 'arena', capacityBytes: 8 << 20 } }),
      rec,
    );
    const summary = await rec.done;
    const final = rec.states.at(-1) as SessionState;
    expect(final.state).toBe('finished');
    expect(final.passes).toBe(3);
    expect(final.pass).toBe(2);
    const c = recount(rec.batches);
    let steps = 0;
    let seeks = 0;
    for (let i = 0; i < c.view.count; i++) {
      if (c.view.kind(i) === EventKind.WalkStep) steps++;
      if (c.view.kind(i) === EventKind.Seek) seeks++;
    }
    const entries = 21 + fx.truth.fds.length + (summary.entriesWalked['VA_SPACE'] ?? 0);
    expect(seeks).toBe(2);
    expect(steps).toBe(3 * entries);
    expect(summary.events).toBe(c.events);
    expect(summary.allocations).toBe(c.allocs);
    expect(c.outstanding).toBe(0);
  });

  it('faulty allocator, stop policy: ERROR_NOT_ENOUGH_MEMORY becomes a clean session error, nothing outstanding', async () => {
    const rec = recorder();
    await svc.startSession(
      id(),
      base(fx.pid, {
        allocator: { strategy: 'faulty', inner: { strategy: 'heap' }, failNth: [5] },
      }),
      rec,
    );
    const summary = await rec.done;
    const final = rec.states.at(-1) as SessionState;
    expect(final.state).toBe('failed');
    expect(final.error?.code).toBe(Win32Error.NOT_ENOUGH_MEMORY);
    expect(final.error?.hint).toMatch(/retry/);
    expect(summary.allocationFailures).toBe(1);
    const c = recount(rec.batches);
    expect(c.failures).toBe(1);
    expect(c.outstanding).toBe(0);
    expect(summary.liveBytes).toBe(0);
    expect(summary.problems).toBe(summary.allocationFailures + summary.apiErrors);
    expect((await svc.stats()).allocatorNativeBytes).toBe(0);
  });

  it('faulty allocator, retry policy: failures are retried and the walk completes', async () => {
    const rec = recorder();
    await svc.startSession(
      id(),
      base(fx.pid, {
        allocator: {
          strategy: 'faulty',
          inner: { strategy: 'pool', classes: [64, 256, 1024, 4096], blocksPerSlab: 32 },
          failProbability: 0.2,
          seed: 7,
        },
        onAllocFailure: 'retry',
      }),
      rec,
    );
    const summary = await rec.done;
    expect(rec.states.at(-1)?.state).toBe('finished');
    expect(summary.allocationFailures).toBeGreaterThan(0);
    expect(summary.entriesWalked['HANDLES']).toBe(fx.truth.fds.length);
    expect(recount(rec.batches).outstanding).toBe(0);
  });

  it('capture errors end the session cleanly (pid that does not exist)', async () => {
    const rec = recorder();
    const state = await svc.startSession(id(), base(0x3ffffff0), rec);
    expect(state.state).toBe('failed');
    expect(state.error?.code).toBe(Win32Error.INVALID_PARAMETER);
    await rec.done;
    expect((await svc.stats()).sessions).toBe(0);
  });

  it('the target exiting mid-walk: the walk finishes from the capture and says the target exited', async () => {
    const victim = await startFixture({ threads: 2, files: 50, maps: 50 });
    const rec = recorder();
    const sid = id();
    await svc.startSession(
      sid,
      base(victim.pid, { pace: { mode: 'paced', entriesPerSecond: 100 } }),
      rec,
    );
    await new Promise((r) => setTimeout(r, 100));
    await victim.kill();
    await new Promise((r) => setTimeout(r, 400));
    await svc.control(sid, 'setPace', { pace: { mode: 'run' } });
    await rec.done;
    const final = rec.states.at(-1) as SessionState;
    expect(final.state).toBe('finished');
    expect(final.targetExited).toBe(true);
    expect(final.classes.find((c) => c.cls === 'HANDLES')?.walked).toBe(victim.truth.fds.length);
  });

  it('cancel frees everything; explorer snapshots page and free', async () => {
    const rec = recorder();
    const sid = id();
    await svc.startSession(
      sid,
      base(fx.pid, { pace: { mode: 'paced', entriesPerSecond: 10 } }),
      rec,
    );
    const s = await svc.control(sid, 'cancel', {});
    expect(s.state).toBe('cancelled');
    await rec.done;
    expect(recount(rec.batches).outstanding).toBe(0);
    const info = await svc.capture(fx.pid, DEFAULT_CAPTURE_FLAGS);
    expect(info.counts.threads).toBe(21);
    const page = await svc.querySnapshot(info.snapshotId, 'VA_SPACE', 10, 5);
    expect(page.entries.length).toBe(5);
    expect(page.total).toBe(info.counts.regions);
    await svc.freeSnapshot(info.snapshotId);
    await expect(svc.freeSnapshot(info.snapshotId)).rejects.toBeInstanceOf(WalkServiceError);
    const st = await svc.stats();
    expect(st.snapshots).toBe(0);
    expect(st.sessions).toBe(0);
  });
});

describe('soak', () => {
  it('1,000 back-to-back sessions leave native memory and the JS heap flat', async () => {
    const svc = createWalkService({ inThread: true });
    const run = async (i: number) => {
      const rec = recorder();
      await svc.startSession(
        `soak${i}`,
        {
          pid: process.pid,
          flags:
            PssCaptureFlags.THREADS |
            PssCaptureFlags.HANDLES |
            PssCaptureFlags.HANDLE_NAME_INFORMATION,
          allocator:
            i % 2
              ? { strategy: 'guard', redZoneBytes: 16 }
              : { strategy: 'arena', capacityBytes: 1 << 20 },
          classes: ['THREADS', 'HANDLES'],
          pace: { mode: 'run' },
          onAllocFailure: 'stop',
        },
        rec,
      );
      await rec.done;
    };
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error('run with --expose-gc (vitest.config.ts sets it)');
    const sample = async () => {
      gc();
      await new Promise((r) => setTimeout(r, 20));
      gc();
      return { ...process.memoryUsage(), v8Resident: getHeapStatistics().total_physical_size };
    };
    // Warm-up: JIT, malloc arenas and V8 spaces grow to their working size first.
    for (let i = 0; i < 300; i++) await run(i);
    const start = await sample();
    for (let i = 300; i < 800; i++) await run(i);
    const middle = await sample();
    for (let i = 800; i < 1300; i++) await run(i);
    const end = await sample();
    const stats = await svc.stats();
    const mb = (b: number) => (b / 1048576).toFixed(1);
    console.log(
      `1,000 sessions after warm-up: rss ${mb(start.rss)} → ${mb(middle.rss)} → ${mb(end.rss)} MB ` +
        `(V8 resident ${mb(start.v8Resident)} → ${mb(middle.v8Resident)} → ${mb(end.v8Resident)} MB); ` +
        `JS heap ${mb(start.heapUsed)} → ${mb(middle.heapUsed)} → ${mb(end.heapUsed)} MB; allocator native bytes still held: ${stats.allocatorNativeBytes}`,
    );
    expect(stats.allocatorNativeBytes).toBe(0);
    expect(stats.sessions).toBe(0);
    // Flat: the second 500 sessions add (almost) nothing; a leak of even 16 KiB a session would
    // add 8 MB here. Native memory is RSS without V8's resident heap: V8 grows its young
    // generation by 16 MB when the allocation rate calls for it, whenever that is (with the
    // native tracer a session allocates little JS, so that can come after the warm-up), and
    // the JS heap's own use is checked below.
    const native = (m: { rss: number; v8Resident: number }): number => m.rss - m.v8Resident;
    expect(native(end) - native(middle)).toBeLessThan(8 * 1048576);
    expect(end.heapUsed - start.heapUsed).toBeLessThan(4 * 1048576);
    await svc.close();
  }, 120_000);
});
