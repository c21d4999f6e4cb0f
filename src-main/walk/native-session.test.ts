/**
 * The native tracer (liballoctrace) in real walk sessions: the worker, libpss, the fixture
 * process. For every strategy the decoded events are recounted and must equal the summary
 * exactly, and the native event stream must equal the JavaScript tracer's over the same
 * snapshot field for field (addresses and times aside). User allocator libraries: the correct
 * sample traces cleanly, the sloppy one's violations appear as events and in the summary.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { startFixture, type RunningFixture } from '../testing/fixture';
import { createWalkService } from './client';
import type { SessionSink, StartSessionOptions, WalkService } from './service';
import { EventBatchView, concatBatches } from '../../src-shared/events/batch';
import {
  ApiCall,
  EventKind,
  EVENT_KIND_NAMES,
  FAULTY_BIT,
  StrategyId,
  UserAllocatorReason,
  isCallEnding,
  isViolation,
} from '../../src-shared/events/layout';
import { DEFAULT_CAPTURE_FLAGS } from '../../src-shared/pss/constants';
import type { AllocatorOptions } from '../../src-shared/alloc/options';
import type { SessionState, SessionSummary } from '../../src-shared/contract/model';

export const SAMPLES = fileURLToPath(
  new URL('../../liballoctrace/build/samples/', import.meta.url),
);

interface Run {
  summary: SessionSummary;
  final: SessionState;
  view: EventBatchView;
}

async function run(svc: WalkService, id: string, options: StartSessionOptions): Promise<Run> {
  const batches: ArrayBuffer[] = [];
  let next = 0;
  let final: SessionState | null = null;
  const summary = await new Promise<SessionSummary>((resolve) => {
    const sink: SessionSink = {
      events(firstSeq, batch) {
        expect(firstSeq).toBe(next);
        next += new EventBatchView(batch).count;
        batches.push(batch);
      },
      entries() {},
      state(s) {
        final = s;
      },
      summary: resolve,
      lost(s) {
        throw new Error(`session lost: ${s.error.message}`);
      },
    };
    void svc.startSession(id, options, sink);
  });
  const view = new EventBatchView(concatBatches(batches));
  view.validate(0);
  return { summary, final: final as unknown as SessionState, view };
}

/**
 * Recounts what the summary states from the events alone, independently of the ledger: its
 * own live map, its own violation names, per-API rows attributed to the event's API.
 */
function recount(v: EventBatchView) {
  const c = {
    events: v.count,
    allocations: 0,
    allocationFailures: 0,
    frees: 0,
    freeNulls: 0,
    bytesAllocated: 0,
    bytesFreed: 0,
    apiErrors: 0,
    leaks: 0,
    /** Violation* events (Leak apart). */
    violations: 0,
    violationsByKind: {} as Record<string, number>,
    byApi: {} as Record<string, { allocations: number; allocBytes: number; frees: number }>,
    liveBlocks: 0,
    liveBytes: 0,
  };
  const live = new Map<bigint, number>();
  const apiNames = Object.fromEntries(Object.entries(ApiCall).map(([k, n]) => [n, k]));
  for (let i = 0; i < v.count; i++) {
    const k = v.kind(i);
    const api = apiNames[v.api(i)] as string;
    const row = (c.byApi[api] ??= { allocations: 0, allocBytes: 0, frees: 0 });
    if (k === EventKind.Alloc) {
      c.allocations++;
      c.bytesAllocated += v.size(i);
      row.allocations++;
      row.allocBytes += v.size(i);
      live.set(v.address(i), v.size(i));
    } else if (k === EventKind.Free) {
      c.frees++;
      c.bytesFreed += v.size(i);
      row.frees++;
      live.delete(v.address(i));
    } else if (k === EventKind.FreeNull) c.freeNulls++;
    else if (k === EventKind.AllocFailed) c.allocationFailures++;
    else if (k === EventKind.ApiError) c.apiErrors++;
    else if (isViolation(k)) {
      const name = EVENT_KIND_NAMES[k] as string;
      c.violationsByKind[name] = (c.violationsByKind[name] ?? 0) + 1;
      if (k === EventKind.Leak) c.leaks++;
      else c.violations++;
    }
  }
  c.liveBlocks = live.size;
  for (const size of live.values()) c.liveBytes += size;
  return c;
}

function expectSummaryMatches(r: Run): void {
  const c = recount(r.view);
  const s = r.summary;
  expect(s.events).toBe(c.events);
  expect(s.allocations).toBe(c.allocations);
  expect(s.allocationFailures).toBe(c.allocationFailures);
  expect(s.frees).toBe(c.frees);
  expect(s.freeNulls).toBe(c.freeNulls);
  expect(s.bytesAllocated).toBe(c.bytesAllocated);
  expect(s.bytesFreed).toBe(c.bytesFreed);
  expect(s.liveBlocks).toBe(c.liveBlocks);
  expect(s.liveBytes).toBe(c.liveBytes);
  expect(s.apiErrors).toBe(c.apiErrors);
  expect(s.leaks).toBe(c.leaks);
  expect(s.violations).toBe(c.violations);
  expect(s.problems).toBe(c.allocationFailures + c.apiErrors + c.violations + c.leaks);
  const nonZero = Object.fromEntries(Object.entries(s.violationsByKind).filter(([, n]) => n > 0));
  expect(nonZero).toEqual(c.violationsByKind);
  for (const [name, n] of Object.entries(c.violationsByKind))
    expect(s.problemsByKind[name as keyof SessionSummary['problemsByKind']]).toBe(n);
  for (const [api, row] of Object.entries(c.byApi))
    expect(s.byApi[api as keyof SessionSummary['byApi']]).toMatchObject(row);
}

/**
 * Every field of every event but the address, the time, the thread id and a call's duration
 * (whether it was recorded is compared).
 */
function shape(v: EventBatchView): string[] {
  const out: string[] = [];
  for (let i = 0; i < v.count; i++) {
    const k = v.kind(i);
    const size = isCallEnding(k) ? (v.size(i) > 0 ? 'timed' : 'untimed') : v.size(i);
    // aux0 of a Leak is its Alloc's seq (same in both), aux1 of Alloc/Free the live bytes
    out.push(
      [k, v.api(i), v.walkClass(i), v.strategy(i), v.markerId(i), size, v.aux0(i), v.aux1(i)]
        .map(String)
        .join(' '),
    );
  }
  return out;
}

/**
 * Event times of a session: never going back on the walking thread, within the session's
 * wall time, every call's duration recorded and > 0, no call starting before the event
 * before it (slices never overlap). The same for both tracers: one time base.
 */
function expectTimes(r: Run, wallNs: number): void {
  const v = r.view;
  let steps = 0;
  for (let i = 0; i < v.count; i++) {
    const t = v.timeNs(i);
    expect(t).toBeGreaterThanOrEqual(i > 0 ? v.timeNs(i - 1) : 0);
    expect(t).toBeLessThanOrEqual(wallNs);
    if (!isCallEnding(v.kind(i))) continue;
    expect(v.size(i), `event ${i}: ${EVENT_KIND_NAMES[v.kind(i)]}'s call duration`).toBeGreaterThan(
      0,
    );
    let j = i - 1;
    while (j >= 0 && v.api(j) === v.api(i) && !isCallEnding(v.kind(j))) j--;
    if (j >= 0) expect(t - v.size(i)).toBeGreaterThanOrEqual(v.timeNs(j));
    if (v.kind(i) === EventKind.WalkStep) steps++;
  }
  expect(steps).toBeGreaterThan(50);
}

/** User-library sessions run in a child process that captures the target itself. */
const userRun = (
  svc: WalkService,
  id: string,
  pid: number,
  allocator: AllocatorOptions,
): Promise<Run> =>
  run(svc, id, {
    pid,
    flags: DEFAULT_CAPTURE_FLAGS,
    allocator,
    classes: ['THREADS', 'HANDLES', 'VA_SPACE'],
    pace: { mode: 'run' },
    onAllocFailure: 'retry',
  });

const ALLOCATORS: Record<string, AllocatorOptions> = {
  heap: { strategy: 'heap' },
  arena: { strategy: 'arena', capacityBytes: 8 << 20 },
  pool: { strategy: 'pool', classes: [32, 64, 128, 256, 512, 1024, 4096], blocksPerSlab: 64 },
  guard: { strategy: 'guard', redZoneBytes: 32 },
  faulty: {
    strategy: 'faulty',
    inner: { strategy: 'guard', redZoneBytes: 16 },
    failNth: [3, 40],
    failProbability: 0.01,
    seed: 7,
    budgetBytes: 1 << 20,
  },
};

describe('native tracer sessions', () => {
  let fx: RunningFixture;
  let svc: WalkService;
  let snapshotId = '';
  let n = 0;
  const id = (): string => `n${++n}`;
  const options = (over: Partial<StartSessionOptions>): StartSessionOptions => ({
    snapshotId,
    flags: DEFAULT_CAPTURE_FLAGS,
    allocator: { strategy: 'heap' },
    classes: ['THREADS', 'HANDLES', 'VA_SPACE'],
    pace: { mode: 'run' },
    onAllocFailure: 'retry',
    ...over,
  });

  beforeAll(async () => {
    fx = await startFixture({ threads: 12, eventfds: 5, pipes: 10, files: 10, maps: 150 });
    svc = createWalkService();
    snapshotId = (await svc.capture(fx.pid, DEFAULT_CAPTURE_FLAGS)).snapshotId;
  }, 30_000);
  afterAll(async () => {
    await svc?.close();
    await fx?.stop();
  });

  for (const [name, allocator] of Object.entries(ALLOCATORS)) {
    it(`${name}: the summary equals the recount, and the events equal the JS tracer's`, async () => {
      let start = performance.now();
      const native = await run(svc, id(), options({ allocator }));
      const nativeWall = (performance.now() - start) * 1e6;
      start = performance.now();
      const js = await run(svc, id(), options({ allocator, tracer: 'js' }));
      const jsWall = (performance.now() - start) * 1e6;
      expectTimes(native, nativeWall);
      expectTimes(js, jsWall);
      expect(native.final.state, JSON.stringify(native.final.error)).toBe('finished');
      expectSummaryMatches(native);
      expectSummaryMatches(js);
      expect(native.summary.allocations).toBeGreaterThan(20);
      const code =
        StrategyId[
          allocator.strategy === 'faulty' ? allocator.inner.strategy : allocator.strategy
        ] | (allocator.strategy === 'faulty' ? FAULTY_BIT : 0);
      expect(native.view.strategy(0)).toBe(code);
      expect(shape(native.view)).toEqual(shape(js.view));
      expect(native.summary.strategy).not.toBeNull();
      expect(js.summary.strategy).not.toBeNull();
      const { nativeBytes: _n, ...nativeStats } = native.summary.strategy ?? {};
      const { nativeBytes: _j, ...jsStats } = js.summary.strategy ?? {};
      expect(nativeStats).toEqual(jsStats);
      if (allocator.strategy === 'faulty')
        expect(native.summary.allocationFailures).toBeGreaterThan(0);
    });
  }

  it('a correct user allocator library traces cleanly, with faults injected around it', async () => {
    const libraryPath = `${SAMPLES}libgood_alloc.so`;
    const clean = await userRun(svc, id(), fx.pid, { strategy: 'user', libraryPath });
    expect(clean.final.state, JSON.stringify(clean.final.error)).toBe('finished');
    expectSummaryMatches(clean);
    expect(clean.summary.violations).toBe(0);
    expect(clean.summary.problems).toBe(0);
    expect(clean.view.strategy(0)).toBe(StrategyId.user);
    expect(clean.summary.frees + clean.summary.freeNulls).toBeGreaterThan(0);
    expect(clean.summary.strategy?.facts).toEqual({ strategy: 'user', libraryPath });

    const faulty = await userRun(svc, id(), fx.pid, {
      strategy: 'faulty',
      inner: { strategy: 'user', libraryPath },
      failNth: [2],
    });
    expect(faulty.final.state).toBe('finished');
    expectSummaryMatches(faulty);
    expect(faulty.summary.allocationFailures).toBe(1);
  });

  it("the sloppy library's misaligned blocks are violations, as events and in the summary", async () => {
    const libraryPath = `${SAMPLES}libsloppy_alloc.so`;
    const r = await userRun(svc, id(), fx.pid, { strategy: 'user', libraryPath });
    expect(r.final.state, JSON.stringify(r.final.error)).toBe('finished');
    expectSummaryMatches(r);
    let misaligned = 0;
    for (let i = 0; i < r.view.count; i++)
      if (r.view.kind(i) === EventKind.ViolationUserAllocator) {
        expect(r.view.aux0(i)).toBe(UserAllocatorReason.Misaligned);
        expect(r.view.addressNumber(i) % 16).toBe(8);
        misaligned++;
      }
    expect(misaligned).toBe(r.summary.allocations);
    expect(r.summary.violationsByKind.ViolationUserAllocator).toBe(misaligned);
    expect(r.summary.problemsByKind.ViolationUserAllocator).toBe(misaligned);
    expect(r.summary.violations).toBeGreaterThanOrEqual(misaligned);
  });

  it('a library that is missing, not a shared object or lacks the routines fails the session with a clear error', async () => {
    const cases: Array<[string, RegExp]> = [
      ['/nonexistent/liballoc.so', /cannot read \/nonexistent\/liballoc\.so/],
      [`${SAMPLES}not-a-library.txt`, /not a shared object/],
      [`${SAMPLES}good_alloc.o`, /relocatable object, not a shared object/],
      [`${SAMPLES}libno_symbols.so`, /does not export AllocRoutine and FreeRoutine/],
    ];
    for (const [libraryPath, message] of cases) {
      const r = await userRun(svc, id(), fx.pid, { strategy: 'user', libraryPath });
      expect(r.final.state).toBe('failed');
      expect(r.final.error?.message).toMatch(message);
      expect(r.summary.events).toBe(0);
    }
  });

  it('a walk child killed between draining a batch and sending it: the batch is recovered from its ring file', async () => {
    const libraryPath = `${SAMPLES}libgood_alloc.so`;
    // the hook (walk-child.ts): SIGKILL in place of sending the 2nd event batch
    process.env['PSS_TEST_WALK_CHILD_DIE_AT_BATCH'] = '2';
    let r: Run;
    try {
      r = await run(svc, id(), {
        pid: fx.pid,
        flags: DEFAULT_CAPTURE_FLAGS,
        allocator: { strategy: 'user', libraryPath },
        classes: ['THREADS', 'HANDLES', 'VA_SPACE'],
        pace: { mode: 'run' },
        onAllocFailure: 'retry',
        passes: 20, // over 10,000 events: more than two batches of 4,096 whatever the timing
      });
    } finally {
      delete process.env['PSS_TEST_WALK_CHILD_DIE_AT_BATCH'];
    }
    expect(r.final.state).toBe('failed');
    expect(r.final.error?.message).toMatch(/its process was killed by SIGKILL/);
    // the batch never sent, and what was written after it, came from the ring file (the old
    // reading by the header's tail would have skipped the drained batch: a seq gap run() rejects)
    const m =
      /No events were lost: all (\d+) it wrote were delivered \((\d+) of them recovered/.exec(
        r.final.error?.message ?? '',
      );
    expect(m, r.final.error?.message).not.toBeNull();
    expect(Number(m?.[1])).toBe(r.view.count);
    expect(Number(m?.[2])).toBeGreaterThan(0);
    expectSummaryMatches(r); // run() checked that the seqs go on without a gap
  });

  it('a crashing library ends its session with the signal and its last events; the service keeps working', async () => {
    const libraryPath = `${SAMPLES}libcrash_alloc.so`;
    const r = await userRun(svc, id(), fx.pid, { strategy: 'user', libraryPath });
    expect(r.final.state).toBe('failed');
    expect(r.final.error?.message).toMatch(
      /crash_alloc\.so crashed: its process was killed by SIGSEGV/,
    );
    // The FreeNull written just before FreeRoutine(NULL) crashed (from the ring file).
    expect(r.final.error?.message).toMatch(/Last events: .*FreeNull in PssWalk\w+\.$/);
    expect(r.view.kind(r.view.count - 1)).toBe(EventKind.FreeNull);
    // Every event it wrote was delivered, the last ones from its ring file, and it says so.
    expect(r.final.error?.message).toMatch(
      new RegExp(
        `No events were lost: all ${r.view.count} it wrote were delivered \\(\\d+ of them recovered from its ring file after the crash\\)`,
      ),
    );
    expectSummaryMatches(r);
    expect(r.summary.allocations).toBeGreaterThan(0);
    // The strategy's own facts died with the walk's process; the state's error says how.
    expect(r.summary.strategy).toBeNull();

    const after = await run(
      svc,
      id(),
      options({ allocator: { strategy: 'guard', redZoneBytes: 16 } }),
    );
    expect(after.final.state).toBe('finished');
    expectSummaryMatches(after);
  });

  it('a user library session must capture its own snapshot', async () => {
    await expect(
      svc.startSession(
        id(),
        options({ allocator: { strategy: 'user', libraryPath: `${SAMPLES}libgood_alloc.so` } }),
        { events() {}, entries() {}, state() {}, summary() {}, lost() {} },
      ),
    ).rejects.toThrow(/start it from a process \(pid\)/);
  });
});
