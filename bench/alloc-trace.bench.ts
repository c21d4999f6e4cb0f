/**
 * Allocator tracing costs. Run: node --import tsx bench/alloc-trace.bench.ts [--quick]
 * Writes bench/results/alloc-trace.json. Every ratio is against a baseline from the same run.
 *
 * (a) Round trip per alloc+free pair, native → JS callback → strategy → event:
 *     C is glibc's obstack (src-main/pss/native-extra.ts NativeRoutineCaller): one JS → C call
 *     (_obstack_newchunk) makes C call AllocRoutine for a new chunk and FreeRoutine for the old
 *     one, so every figure includes that one JS → C call; the pure-C row shows its size.
 *     Baseline: the same registered-callback chain with plain malloc/free behind it (no
 *     strategy, no tracer). koffi.call on the routine pointers (JS → C → JS) is shown as the
 *     stand-in it is, not as a native caller.
 * (b) Events per second through EventWriter encode + EventBatchView decode of every field.
 * (c) Per-strategy alloc+free cost, called directly from JS and traced from C.
 *
 * Cases of a section run round-robin (each repetition runs every case once, back to back) so
 * that a baseline and what is compared with it see the same machine load; figures are medians
 * over the repetitions, and the JSON also keeps the minimum of each.
 */
import os from 'node:os';
import { figure, median, writeResults } from './lib/results';
import type { Figure } from './lib/results';
import { ApiCall } from '../src-shared/events/layout';
import { EventBatchView, EventWriter } from '../src-shared/events/batch';
import type { AllocatorOptions } from '../src-shared/alloc/options';
import { nativeMemory } from '../src-main/pss/native-memory';
import type { NativeAllocator } from '../src-main/pss/allocator';
import {
  NativeRoutineCaller,
  callAllocRoutine,
  callFreeRoutine,
  nativeCallerAvailable,
  registerAllocatorRoutines,
} from '../src-main/pss/native-extra';
import { createStrategy } from '../src-main/alloc/factory';
import type { AllocatorStrategy } from '../src-main/alloc/strategy';
import { TracedAllocator, createSessionClock } from '../src-main/alloc/tracer';

const quick = process.argv.includes('--quick');
const REPS = quick ? 3 : 9;
const PAIRS = quick ? 20_000 : 100_000;
const ROUND = 1_000; // pairs per begin/end round (lets the arena rewind between rounds)
const CHUNK = 512;
const EVENTS_TOTAL = quick ? 1_000_000 : 5_000_000;
const EVENTS_SLICE = 1_000_000;

if (!nativeCallerAvailable()) {
  console.error('alloc-trace bench needs glibc (obstack as the native caller).');
  process.exit(1);
}

interface Case {
  name: string;
  units: number;
  run: (units: number) => void;
}

interface Timing {
  median: number;
  min: number;
}

const timings: Record<string, Timing> = {};

/** Runs the cases round-robin REPS times after one warm-up pass; ns per unit by case name. */
function suite(cases: readonly Case[]): Map<string, Timing> {
  for (const c of cases) c.run(Math.min(c.units, 10_000));
  const samples = cases.map(() => [] as number[]);
  for (let r = 0; r < REPS; r++) {
    cases.forEach((c, i) => {
      const t0 = performance.now();
      c.run(c.units);
      samples[i]?.push(((performance.now() - t0) * 1e6) / c.units);
    });
  }
  const out = new Map<string, Timing>();
  cases.forEach((c, i) => {
    const xs = samples[i] ?? [];
    const t = { median: median(xs), min: Math.min(...xs) };
    out.set(c.name, t);
    timings[c.name] = t;
  });
  return out;
}

function med(results: Map<string, Timing>, name: string): number {
  const t = results.get(name);
  if (!t) throw new Error(`no timing for ${name}`);
  return t.median;
}

/** Batches are dropped (a real session posts them to main): only producing them is timed. */
function nullWriter(): EventWriter {
  return new EventWriter(4096, () => undefined, createSessionClock());
}

/** Runs `pairs` C-driven alloc+free pairs: rounds of begin, swap(ROUND − 1), end. */
function drive(caller: NativeRoutineCaller, pairs: number, afterRound?: () => void): void {
  for (let done = 0; done < pairs; done += ROUND) {
    caller.begin();
    caller.swap(ROUND - 1);
    caller.end();
    afterRound?.();
  }
}

const plainMalloc: NativeAllocator = {
  alloc: (size) => nativeMemory.malloc(size),
  free: (address) => nativeMemory.free(address),
};

function traced(strategy: AllocatorStrategy): TracedAllocator {
  const t = new TracedAllocator({ strategy, writer: nullWriter(), markerId: 1 });
  t.enter(ApiCall.PssWalkSnapshot, 1);
  return t;
}

function finish(t: TracedAllocator): void {
  t.leave(0);
  t.markerFreed();
  t.release();
}

const figures: Figure[] = [];

// ---- (a) round trip ------------------------------------------------------------------------

const A = {
  c: 'C only: obstack → libc malloc/free',
  jsc: 'JS → C malloc + free, no callback',
  untraced: 'C → JS callback → malloc, untraced',
  traced: 'C → JS callback → heap strategy → event',
  standIn: 'koffi.call stand-in → traced heap',
} as const;

const cOnly = NativeRoutineCaller.libc(CHUNK);
const untracedCaller = NativeRoutineCaller.forAllocator(plainMalloc, CHUNK);
const heapTraced = traced(createStrategy({ strategy: 'heap' }));
const heapCaller = NativeRoutineCaller.forAllocator(heapTraced, CHUNK);
const standInTraced = traced(createStrategy({ strategy: 'heap' }));
const routines = registerAllocatorRoutines(standInTraced);

const a = suite([
  { name: A.c, units: PAIRS, run: (n) => drive(cOnly, n) },
  {
    name: A.jsc,
    units: PAIRS,
    run: (n) => {
      for (let i = 0; i < n; i++) nativeMemory.free(nativeMemory.malloc(CHUNK));
    },
  },
  { name: A.untraced, units: PAIRS, run: (n) => drive(untracedCaller, n) },
  { name: A.traced, units: PAIRS, run: (n) => drive(heapCaller, n) },
  {
    name: A.standIn,
    units: PAIRS / 2,
    run: (n) => {
      const al = routines.allocRoutine;
      const fr = routines.freeRoutine;
      for (let i = 0; i < n; i++) callFreeRoutine(fr, 0n, callAllocRoutine(al, 0n, CHUNK));
    },
  },
]);
cOnly.dispose();
untracedCaller.dispose();
heapCaller.dispose();
routines.unregister();
const heapStats = heapTraced.stats();
finish(heapTraced);
finish(standInTraced);

const untracedNs = med(a, A.untraced);
const tracedNs = med(a, A.traced);
figures.push(
  figure(`roundtrip: ${A.c}`, med(a, A.c), 'ns/pair', null, 'no JS; includes the one JS→C call'),
  figure(`roundtrip: ${A.jsc}`, med(a, A.jsc), 'ns/pair', untracedNs, 'vs untraced callback'),
  figure(`roundtrip: ${A.untraced} (BASELINE)`, untracedNs, 'ns/pair'),
  figure(`roundtrip: ${A.traced}`, tracedNs, 'ns/pair', untracedNs, 'vs untraced callback'),
  figure('roundtrip: traced, per routine call', tracedNs / 2, 'ns/call', 1000, 'vs target 1 µs'),
  figure(
    'roundtrip: tracer + strategy overhead',
    tracedNs - untracedNs,
    'ns/pair',
    untracedNs,
    'traced − untraced, vs untraced',
  ),
  figure(
    `roundtrip: ${A.standIn} (JS→C→JS)`,
    med(a, A.standIn),
    'ns/pair',
    tracedNs,
    'stand-in, not native; vs C-driven traced',
  ),
);

// ---- (b) events per second: encode + decode of every field --------------------------------

let checksum = 0;
const eventBase = 0x55aa_0000_0000;
const encodeMs: number[] = [];
const decodeMs: number[] = [];
for (let r = 0; r < (quick ? 1 : 3); r++) {
  let enc = 0;
  let dec = 0;
  for (let written = 0; written < EVENTS_TOTAL; written += EVENTS_SLICE) {
    const batches: ArrayBuffer[] = [];
    const w = new EventWriter(4096, (b) => batches.push(b), createSessionClock(), written);
    const n = Math.min(EVENTS_SLICE, EVENTS_TOTAL - written);
    let t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const addr = eventBase + (i & 0xffff) * 16;
      const lo = addr >>> 0;
      const hi = (addr / 4294967296) >>> 0;
      w.write(i & 3, 2, i & 3, 3, 1, 4242, lo, hi, (i & 1023) + 1, i & 15, i);
    }
    w.flush();
    enc += performance.now() - t0;
    t0 = performance.now();
    for (const b of batches) {
      const v = new EventBatchView(b);
      for (let i = 0; i < v.count; i++) {
        checksum +=
          v.seq(i) +
          v.timeNs(i) +
          v.addrLo(i) +
          v.addrHi(i) +
          v.size(i) +
          v.kind(i) +
          v.api(i) +
          v.walkClass(i) +
          v.strategy(i) +
          v.markerId(i) +
          v.threadId(i) +
          v.aux0(i) +
          v.aux1(i);
      }
    }
    dec += performance.now() - t0;
  }
  encodeMs.push(enc);
  decodeMs.push(dec);
}
const encMs = median(encodeMs);
const decMs = median(decodeMs);
figures.push(
  figure('events: encode (EventWriter, incl. clock)', EVENTS_TOTAL / encMs / 1000, 'M events/s'),
  figure('events: decode every field (EventBatchView)', EVENTS_TOTAL / decMs / 1000, 'M events/s'),
  figure(
    'events: encode + decode',
    EVENTS_TOTAL / (encMs + decMs) / 1000,
    'M events/s',
    5,
    'vs target 5 M/s',
  ),
);

// ---- (c) per strategy ----------------------------------------------------------------------

const STRATEGIES: Array<[string, AllocatorOptions]> = [
  ['heap', { strategy: 'heap' }],
  ['arena', { strategy: 'arena', capacityBytes: (ROUND + 1) * CHUNK * 2 }],
  ['pool', { strategy: 'pool', classes: [64, 128, 256, 512, 1024], blocksPerSlab: 64 }],
  ['guard', { strategy: 'guard', redZoneBytes: 32 }],
  ['faulty(heap)', { strategy: 'faulty', inner: { strategy: 'heap' }, failProbability: 0 }],
];

const untraced2 = NativeRoutineCaller.forAllocator(plainMalloc, CHUNK);
const cases: Case[] = [{ name: 'untraced', units: PAIRS, run: (n) => drive(untraced2, n) }];
const cleanups: Array<() => void> = [() => untraced2.dispose()];
for (const [name, options] of STRATEGIES) {
  const direct = createStrategy(options);
  cases.push({
    name: `${name} direct`,
    units: PAIRS,
    run: (n) => {
      for (let done = 0; done < n; done += ROUND) {
        for (let i = 0; i < ROUND; i++) direct.free(direct.alloc(CHUNK));
        direct.reset();
      }
    },
  });
  const strategy = createStrategy(options);
  const t = traced(strategy);
  const caller = NativeRoutineCaller.forAllocator(t, CHUNK);
  cases.push({
    name: `${name} traced`,
    units: PAIRS,
    run: (n) => drive(caller, n, () => strategy.reset()),
  });
  cleanups.push(() => {
    direct.release();
    caller.dispose();
    if (caller.failures > 0) throw new Error(`${name}: ${caller.failures} allocations failed`);
    finish(t);
  });
}
const c = suite(cases);
for (const f of cleanups) f();
const heapDirect = med(c, 'heap direct');
const untraced2Ns = med(c, 'untraced');
for (const [name] of STRATEGIES) {
  figures.push(
    figure(
      `${name}: direct JS alloc+free`,
      med(c, `${name} direct`),
      'ns/pair',
      heapDirect,
      'vs heap direct',
    ),
    figure(
      `${name}: traced, called from C`,
      med(c, `${name} traced`),
      'ns/pair',
      untraced2Ns,
      'vs untraced callback',
    ),
  );
}

writeResults('alloc-trace', figures, {
  machine: {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    loadAverage: os.loadavg(),
    node: process.version,
  },
  config: { reps: REPS, pairs: PAIRS, chunkBytes: CHUNK, events: EVENTS_TOTAL, quick },
  timings,
  check: { checksum, heapTracedAllocations: heapStats.allocations },
});
