/**
 * A full walk of the large fixture with and without tracing, in one run:
 *   untraced   marker without allocator (libpss uses malloc), every entry decoded
 *   traced     marker whose PSS_ALLOCATOR is TracedAllocator(heap): every routine call is a
 *              koffi callback, a strategy call and an encoded event; same decoding
 *   session    the real WalkSession (worker core, in-thread): traced walk + entry batches +
 *              pacing slices + summary, as the app runs it
 * Target: tracing overhead on a whole session ≤ 2× the untraced walk.
 */
import { ProcessHandle, Snapshot, WalkMarker, nativeMemory } from '../src-main/pss';
import { TracedAllocator, createSessionWriter, createStrategy } from '../src-main/alloc';
import { createWalkService } from '../src-main/walk/client';
import { ApiCall } from '../src-shared/events/layout';
import {
  DEFAULT_CAPTURE_FLAGS,
  PssCaptureFlags,
  PssWalkClass,
  WALKABLE_CLASSES,
  type WalkableClass,
} from '../src-shared/pss/constants';
import { LARGE_FIXTURE, startFixture } from '../src-main/testing/fixture';
import { figure, median, writeResults } from './lib/results';

const ITER = Number(process.env['BENCH_ITER'] ?? 9);
const FLAGS = DEFAULT_CAPTURE_FLAGS & ~PssCaptureFlags.CREATE_MEASURE_PERFORMANCE;
const THREAD_ID = nativeMemory.currentThreadId();
const CLASSES = WALKABLE_CLASSES.filter((c) => c !== 'AUXILIARY_PAGES') as WalkableClass[];

function walkAll(
  snap: Snapshot,
  marker: WalkMarker,
  onCall?: (cls: number) => void,
  after?: (code: number) => void,
): number {
  let n = 0;
  for (const cls of CLASSES) {
    for (;;) {
      onCall?.(PssWalkClass[cls]);
      const code = snap.walkNextRaw(marker, cls);
      after?.(code);
      if (code !== 0) break;
      snap.decodeCurrent(marker, cls);
      n++;
    }
  }
  return n;
}

function untraced(snap: Snapshot): number {
  const t = performance.now();
  const marker = WalkMarker.create();
  walkAll(snap, marker);
  marker.free();
  return performance.now() - t;
}

function traced(snap: Snapshot): { ms: number; events: number } {
  let events = 0;
  const writer = createSessionWriter((b) => (events += b.byteLength / 48));
  const t = performance.now();
  const tracer = new TracedAllocator({
    strategy: createStrategy({ strategy: 'heap' }),
    writer,
    markerId: 1,
    threadId: () => THREAD_ID,
  });
  tracer.enter(ApiCall.PssWalkMarkerCreate);
  const marker = WalkMarker.create(tracer);
  tracer.leave(0);
  tracer.markerCreated();
  walkAll(
    snap,
    marker,
    (cls) => tracer.enter(ApiCall.PssWalkSnapshot, cls),
    (code) => tracer.leave(code),
  );
  tracer.enter(ApiCall.PssWalkMarkerFree);
  marker.free();
  tracer.leave(0);
  tracer.markerFreed();
  tracer.release();
  writer.flush();
  return { ms: performance.now() - t, events };
}

const fixture = await startFixture(LARGE_FIXTURE);
try {
  const proc = ProcessHandle.open(fixture.pid);
  const snap = Snapshot.capture(proc, FLAGS);
  proc.close();
  const u: number[] = [];
  const tr: number[] = [];
  let events = 0;
  for (let i = 0; i < ITER + 1; i++) {
    const a = untraced(snap);
    const b = traced(snap);
    if (i === 0) continue; // warm-up
    u.push(a);
    tr.push(b.ms);
    events = b.events;
  }
  snap.free();

  // The app's own session path (walk only: the session captures once, we time the whole session).
  const svc = createWalkService({ inThread: true });
  const sessionMs: number[] = [];
  for (let i = 0; i < ITER + 1; i++) {
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const t = performance.now();
    await svc.startSession(
      `b${i}`,
      {
        pid: fixture.pid,
        flags: FLAGS,
        allocator: { strategy: 'heap' },
        classes: CLASSES,
        pace: { mode: 'run' },
        onAllocFailure: 'stop',
      },
      {
        events() {},
        entries() {},
        state() {},
        summary: () => done(),
        lost: (s) => {
          throw new Error(s.error.message);
        },
      },
    );
    await finished;
    if (i > 0) sessionMs.push(performance.now() - t);
  }
  await svc.close();
  const capture: number[] = [];
  for (let i = 0; i < ITER; i++) {
    const t = performance.now();
    const p = ProcessHandle.open(fixture.pid);
    Snapshot.capture(p, FLAGS).free();
    p.close();
    capture.push(performance.now() - t);
  }
  const mu = median(u);
  const mt = median(tr);
  writeResults(
    'session-trace',
    [
      figure('walk, untraced (libpss malloc), entries decoded', mu, 'ms', mu, 'baseline'),
      figure(`walk, traced heap allocator (${events} events)`, mt, 'ms', mu, 'target ≤ 2×'),
      figure('traced cost per event', ((mt - mu) / Math.max(1, events)) * 1e6, 'ns', null),
      figure('capture alone', median(capture), 'ms', null),
      figure(
        'whole session (capture + traced walk + entries + summary), in-thread',
        median(sessionMs),
        'ms',
        median(capture) + mu,
        'vs capture + untraced walk',
      ),
    ],
    { iterations: ITER, fixture: LARGE_FIXTURE },
  );
} finally {
  await fixture.stop();
}
