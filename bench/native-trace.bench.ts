/**
 * The native tracer (liballoctrace) against the JavaScript one, in one run over the same
 * snapshot of the large fixture, each a full walk of THREADS, HANDLES and VA_SPACE, twice:
 * the API alone (entries not decoded) and as a session walks (every entry decoded, the same
 * JavaScript work in every variant):
 *   untraced        marker without allocator (libpss uses malloc)
 *   JS heap/guard   TracedAllocator: every routine call a koffi callback into JavaScript
 *   native heap/guard   NativeTracer: libpss calls liballoctrace's C routines directly, each
 *                   PssWalkSnapshot is bracketed in C, events are read from the ring in
 *                   batches; either one native call per step (walk: at_step, as a paced
 *                   session) or WALK_MANY_MAX steps per native call (walkMany: at_step_n, as a
 *                   session in run mode), entries decoded from the batch area
 * Every native event has its own clock reading (RDTSC, ~20-25 ns on this VM's hypervisor) and
 * every call its duration: a step without allocations reads the clock twice (once in a batch).
 * Targets (issue 9): traced cost ≤ 60 ns per event, a traced walk ≤ 1.3× the untraced one,
 * guard ≤ 1.6×. Times are this process's CPU time (the machine may be shared), medians.
 * liballoctrace/bench (make -C liballoctrace bench) measures the C side alone.
 */
import {
  NativeTracer,
  ProcessHandle,
  Snapshot,
  WALK_CLASSES,
  WALK_MANY_MAX,
  WalkMarker,
  nativeClockSource,
  nativeMemory,
} from '../src-main/pss';
import { loadavg } from 'node:os';
import { TracedAllocator, createSessionWriter, createStrategy } from '../src-main/alloc';
import { ApiCall } from '../src-shared/events/layout';
import type { AllocatorOptions } from '../src-shared/alloc/options';
import {
  DEFAULT_CAPTURE_FLAGS,
  PssCaptureFlags,
  PssWalkClass,
  WALKABLE_CLASSES,
  type WalkableClass,
} from '../src-shared/pss/constants';
import { LARGE_FIXTURE, startFixture } from '../src-main/testing/fixture';
import { figure, median, writeResults, type Figure } from './lib/results';

const ITER = Number(process.env['BENCH_ITER'] ?? 15);
const FLAGS = DEFAULT_CAPTURE_FLAGS & ~PssCaptureFlags.CREATE_MEASURE_PERFORMANCE;
const THREAD_ID = nativeMemory.currentThreadId();
const CLASSES = WALKABLE_CLASSES.filter((c) => c !== 'AUXILIARY_PAGES') as WalkableClass[];
const HEAP: AllocatorOptions = { strategy: 'heap' };
const GUARD: AllocatorOptions = { strategy: 'guard', redZoneBytes: 32 };

/** Whether the walks also decode every entry (set per round below). */
let DECODE = false;
function decode(snap: Snapshot, marker: WalkMarker, cls: WalkableClass): void {
  if (DECODE) snap.decodeCurrent(marker, cls);
}

interface Timed {
  ms: number;
  events: number;
}

/**
 * CPU time of this process in ms (user + system): on a machine shared with other work it
 * is far steadier than wall time, and it is what the tracing costs.
 */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function untraced(snap: Snapshot): Timed {
  const t = cpuMs();
  const marker = WalkMarker.create();
  for (const cls of CLASSES) while (snap.walkNextRaw(marker, cls) === 0) decode(snap, marker, cls);
  marker.free();
  return { ms: cpuMs() - t, events: 0 };
}

function jsTraced(snap: Snapshot, options: AllocatorOptions): Timed {
  let events = 0;
  const writer = createSessionWriter((b) => (events += b.byteLength / 48));
  const t = cpuMs();
  const tracer = new TracedAllocator({
    strategy: createStrategy(options),
    writer,
    markerId: 1,
    threadId: () => THREAD_ID,
  });
  tracer.enter(ApiCall.PssWalkMarkerCreate);
  const marker = WalkMarker.create(tracer);
  tracer.leave(0);
  tracer.markerCreated();
  for (const cls of CLASSES) {
    const c = PssWalkClass[cls];
    for (let i = 0; ; i++) {
      tracer.enter(ApiCall.PssWalkSnapshot, c);
      const code = snap.walkNextRaw(marker, cls);
      tracer.leave(code);
      if (code !== 0) {
        tracer.walkEnd(c, i);
        break;
      }
      tracer.walkStep(c, i, code);
      decode(snap, marker, cls);
    }
  }
  tracer.enter(ApiCall.PssWalkMarkerFree);
  marker.free();
  tracer.leave(0);
  tracer.markerFreed();
  tracer.release();
  writer.flush();
  return { ms: cpuMs() - t, events };
}

function nativeTraced(snap: Snapshot, options: AllocatorOptions, many = false): Timed {
  let events = 0;
  const t = cpuMs();
  const tracer = NativeTracer.create(options, 0, (_first, b) => (events += b.byteLength / 48));
  tracer.enter(ApiCall.PssWalkMarkerCreate);
  const marker = WalkMarker.create(tracer);
  tracer.leave(0);
  tracer.markerCreated();
  if (many) {
    // WALK_MANY_MAX steps per native call, each entry in the batch area (decoded from there)
    for (const cls of CLASSES) {
      const decoder = WALK_CLASSES[cls].decode;
      for (let i = 0; ;) {
        const n = tracer.walkMany(snap, marker, cls, i, WALK_MANY_MAX);
        const ok = tracer.lastCode === 0 ? n : n - 1;
        if (DECODE) for (let k = 0; k < ok; k++) decoder(tracer.entryView(cls, k));
        i += ok;
        if (ok < n || n === 0) break;
      }
    }
  } else
    for (const cls of CLASSES)
      for (let i = 0; tracer.walk(snap, marker, cls, i) === 0; i++) decode(snap, marker, cls);
  tracer.enter(ApiCall.PssWalkMarkerFree);
  marker.free();
  tracer.leave(0);
  tracer.markerFreed();
  tracer.release();
  tracer.flush();
  tracer.destroy();
  return { ms: cpuMs() - t, events };
}

type Variant =
  | 'untraced'
  | 'jsHeap'
  | 'jsGuard'
  | 'nativeHeap'
  | 'nativeGuard'
  | 'nativeHeapMany'
  | 'nativeGuardMany';

function measure(snap: Snapshot, label: string): Figure[] {
  const runs: Record<Variant, () => Timed> = {
    untraced: () => untraced(snap),
    jsHeap: () => jsTraced(snap, HEAP),
    jsGuard: () => jsTraced(snap, GUARD),
    nativeHeap: () => nativeTraced(snap, HEAP),
    nativeGuard: () => nativeTraced(snap, GUARD),
    nativeHeapMany: () => nativeTraced(snap, HEAP, true),
    nativeGuardMany: () => nativeTraced(snap, GUARD, true),
  };
  const times: Record<Variant, number[]> = {
    untraced: [],
    jsHeap: [],
    jsGuard: [],
    nativeHeap: [],
    nativeGuard: [],
    nativeHeapMany: [],
    nativeGuardMany: [],
  };
  const events: Record<Variant, number> = {
    untraced: 0,
    jsHeap: 0,
    jsGuard: 0,
    nativeHeap: 0,
    nativeGuard: 0,
    nativeHeapMany: 0,
    nativeGuardMany: 0,
  };
  // Interleaved, so that machine noise hits every variant alike; the first round warms up.
  for (let i = 0; i < ITER + 1; i++) {
    for (const [name, fn] of Object.entries(runs) as Array<[Variant, () => Timed]>) {
      const r = fn();
      if (i === 0) continue;
      times[name].push(r.ms);
      events[name] = r.events;
    }
  }
  const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) as Record<
    Variant,
    number
  >;
  if (
    events.nativeHeap !== events.jsHeap ||
    events.nativeGuard !== events.jsGuard ||
    events.nativeHeapMany !== events.jsHeap ||
    events.nativeGuardMany !== events.jsGuard
  )
    throw new Error(`event counts differ: ${JSON.stringify(events)}`);
  const perEvent = (ms: number, n: number): number => ((ms - m.untraced) / n) * 1e6;
  const rate = (ms: number, n: number): number => n / (ms / 1000);
  const ev = events.nativeHeap;
  const eg = events.nativeGuard;
  const many = `${WALK_MANY_MAX} steps per native call`;
  return [
    figure(`walk${label}: untraced (libpss malloc)`, m.untraced, 'ms', m.untraced, 'baseline'),
    figure(
      `walk${label}: JS-traced heap (${ev} events)`,
      m.jsHeap,
      'ms',
      m.untraced,
      'vs untraced',
    ),
    figure(
      `walk${label}: native-traced heap, one native call per step (${ev} events)`,
      m.nativeHeap,
      'ms',
      m.untraced,
      'target ≤ 1.3× untraced',
    ),
    figure(
      `walk${label}: native-traced heap, ${many} (${ev} events)`,
      m.nativeHeapMany,
      'ms',
      m.untraced,
      'target ≤ 1.3× untraced (the untraced walk makes one call per step)',
    ),
    figure(
      `walk${label}: JS-traced guard (${eg} events)`,
      m.jsGuard,
      'ms',
      m.untraced,
      'vs untraced',
    ),
    figure(
      `walk${label}: native-traced guard, one native call per step (${eg} events)`,
      m.nativeGuard,
      'ms',
      m.untraced,
      'target ≤ 1.6× untraced',
    ),
    figure(
      `walk${label}: native-traced guard, ${many} (${eg} events)`,
      m.nativeGuardMany,
      'ms',
      m.untraced,
      'target ≤ 1.6× untraced (the untraced walk makes one call per step)',
    ),
    figure(`cost per event${label}: JS heap`, perEvent(m.jsHeap, ev), 'ns', null),
    figure(
      `cost per event${label}: native heap, one native call per step`,
      perEvent(m.nativeHeap, ev),
      'ns',
      perEvent(m.jsHeap, ev),
      'target ≤ 60 ns; vs JS heap',
    ),
    figure(
      `cost per event${label}: native heap, ${many}`,
      perEvent(m.nativeHeapMany, ev),
      'ns',
      perEvent(m.jsHeap, ev),
      'vs JS heap (fewer native calls than the untraced walk: can be < 0)',
    ),
    figure(`cost per event${label}: JS guard`, perEvent(m.jsGuard, eg), 'ns', null),
    figure(
      `cost per event${label}: native guard, one native call per step`,
      perEvent(m.nativeGuard, eg),
      'ns',
      perEvent(m.jsGuard, eg),
      'vs JS guard',
    ),
    figure(`events per second${label}: JS-traced heap walk`, rate(m.jsHeap, ev), 'events/s', null),
    figure(
      `events per second${label}: native-traced heap walk, one native call per step`,
      rate(m.nativeHeap, ev),
      'events/s',
      rate(m.jsHeap, ev),
      'vs JS heap',
    ),
    figure(
      `events per second${label}: native-traced heap walk, ${many}`,
      rate(m.nativeHeapMany, ev),
      'events/s',
      rate(m.jsHeap, ev),
      'vs JS heap',
    ),
  ];
}

const fixture = await startFixture(LARGE_FIXTURE);
try {
  const proc = ProcessHandle.open(fixture.pid);
  const snap = Snapshot.capture(proc, FLAGS);
  proc.close();
  const figures: Figure[] = [];
  for (const decoded of [false, true]) {
    DECODE = decoded;
    figures.push(...measure(snap, decoded ? ', entries decoded' : ', API only'));
  }
  snap.free();
  writeResults('native-trace', figures, {
    iterations: ITER,
    fixture: LARGE_FIXTURE,
    classes: CLASSES,
    clock: 'process CPU time',
    eventClock: nativeClockSource(),
    load: loadavg(),
  });
} finally {
  await fixture.stop();
}
