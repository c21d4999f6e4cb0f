/**
 * Trace format 2 against version 1 (raw 48-byte records after a JSON header), in one run, on a
 * real traced session: the app's walk session over the large fixture, repeated in passes until
 * it has produced ≥ 10 M events (BENCH_TRACE_EVENTS to change).
 *   bytes per event     v2 file size / events            target ≤ 12 (v1: 48 + header)
 *   write               v2 streamed to disk batch by batch (with the ledger folded for its
 *                       checkpoints), v1 written at once
 *   read                every event decoded back into 48-byte records   target ≥ 10 M events/s
 *   live overhead       a session streaming its trace to a v2 file by the CLI's LiveTraceWriter
 *                       (a worker thread) vs the same session whose events go nowhere (the
 *                       app's walk service, interleaved rounds)  ≤ 5 %; wall time, the process's
 *                       CPU time, the main thread's, and the writer thread's CPU per event;
 *                       the writer on the main thread (the previous way) for reference
 * Reads and writes run on this thread, synchronously: their rates are given per second of wall
 * time and per second of this process's CPU time (user + system), the latter being what a
 * machine shared with other work (the benches run next to other jobs) does not distort. Each
 * timed read starts once the garbage of the one before is collected and freed (gcSettled: the
 * helper threads that free it count in process CPU time).
 */
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWalkService } from '../src-main/walk/client';
import type { SessionSink } from '../src-main/walk/service';
import { TraceStore } from '../src-main/walk/trace-store';
import { FileSink, FileSource, TraceReader, TraceWriter } from '../src-main/trace/trace-file';
import { LiveTraceWriter } from '../src-main/trace/live-writer';
import { EVENT_SIZE } from '../src-shared/events/layout';
import {
  DEFAULT_CAPTURE_FLAGS,
  PssCaptureFlags,
  type WalkableClass,
} from '../src-shared/pss/constants';
import { LARGE_FIXTURE, startFixture } from '../src-main/testing/fixture';
import { figure, median, writeResults } from './lib/results';
import { gcSettled } from './lib/gc-settled';

const TARGET_EVENTS = Number(process.env['BENCH_TRACE_EVENTS'] ?? 10_000_000);
const FLAGS = DEFAULT_CAPTURE_FLAGS & ~PssCaptureFlags.CREATE_MEASURE_PERFORMANCE;
const CLASSES: WalkableClass[] = ['THREADS', 'HANDLES', 'VA_SPACE'];
const dir = mkdtempSync(join(tmpdir(), 'pss-bench-trace-'));
/** CPU time of this thread so far, ms (Linux: utime + stime of /proc/thread-self/stat). */
const mainThreadCpuMs = (): number => {
  const stat = readFileSync('/proc/thread-self/stat', 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
};
/** CPU time of this process so far, ms (user + system). */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** One session over the fixture; `onEvents` gets every batch. Resolves with its wall time. */
async function session(
  svc: ReturnType<typeof createWalkService>,
  id: string,
  pid: number,
  passes: number,
  sink: Partial<SessionSink>,
): Promise<number> {
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const t = performance.now();
  await svc.startSession(
    id,
    {
      pid,
      flags: FLAGS,
      allocator: { strategy: 'heap' },
      classes: CLASSES,
      pace: { mode: 'run' },
      onAllocFailure: 'stop',
      passes,
    },
    {
      events: sink.events ?? (() => undefined),
      entries: sink.entries ?? (() => undefined),
      state: () => undefined,
      summary: (s) => {
        sink.summary?.(s);
        done();
      },
      lost: (s) => {
        throw new Error(s.error.message);
      },
    },
  );
  await finished;
  return performance.now() - t;
}

const fixture = await startFixture(LARGE_FIXTURE);
const svc = createWalkService();
try {
  // ---- a real trace of ≥ TARGET_EVENTS events ---------------------------------------------
  const probe: ArrayBuffer[] = [];
  await session(svc, 'probe', fixture.pid, 1, { events: (_f, b) => probe.push(b) });
  const perPass = probe.reduce((n, b) => n + b.byteLength / EVENT_SIZE, 0);
  const batches: { first: number; bytes: ArrayBuffer }[] = [];
  const entries: [WalkableClass, number, unknown[]][] = [];
  let summary: unknown = null;
  let produced = 0;
  for (let round = 0; produced < TARGET_EVENTS; round++) {
    const passes = Math.min(1000, Math.ceil((TARGET_EVENTS - produced) / perPass));
    const base = produced;
    await session(svc, `rec${round}`, fixture.pid, passes, {
      events: (first, b) => {
        // Later rounds continue the sequence: one trace of consecutive seqs.
        if (base > 0) {
          const f = new Float64Array(b);
          for (let i = 0; i < f.length; i += EVENT_SIZE / 8) f[i] = (f[i] as number) + base;
        }
        batches.push({ first: base + first, bytes: b });
      },
      entries: (cls, start, list) => {
        if (round === 0) entries.push([cls, start, list]);
      },
      summary: (s) => (summary = s),
    });
    produced = batches.reduce((n, b) => n + b.bytes.byteLength / EVENT_SIZE, 0);
  }
  const events = produced;
  const batchCount = batches.length;
  console.log(`recorded ${events} events in ${batches.length} batches (${perPass} per pass)`);
  const session0 = {
    pid: fixture.pid,
    processName: 'pss-fixture',
    flags: FLAGS,
    allocator: { strategy: 'heap' },
    classes: CLASSES,
  };

  // ---- version 1: header + raw records, written at once -----------------------------------
  const v1Path = join(dir, 'v1.pstrace');
  let t = performance.now();
  let c = cpuMs();
  const store = new TraceStore(
    { ...session0, createdAt: new Date().toISOString() },
    { memoryLimitBytes: 2 ** 31 },
  );
  for (const b of batches) store.append(b.first, b.bytes);
  for (const [cls, start, list] of entries) store.appendEntries(cls, start, list as never);
  writeFileSync(v1Path, new Uint8Array(store.export()));
  const v1WriteMs = performance.now() - t;
  const v1WriteCpu = cpuMs() - c;
  store.dispose();
  const v1Bytes = statSync(v1Path).size;
  // ---- version 2: streamed batch by batch --------------------------------------------------
  const v2Path = join(dir, 'v2.pstrace');
  t = performance.now();
  c = cpuMs();
  const w = new TraceWriter(new FileSink(v2Path), session0);
  for (const [cls, start, list] of entries) w.appendEntries(cls, start, list);
  for (const b of batches) w.appendEvents(b.first, b.bytes);
  w.finish(summary);
  const v2WriteMs = performance.now() - t;
  const v2WriteCpu = cpuMs() - c;
  const v2Bytes = statSync(v2Path).size;
  // The recording is on disk twice now: free it, then read each file three times, in turn.
  batches.length = 0;
  const reads: [number, number][] = [];
  const v1Reads: [number, number][] = [];
  let readBack = 0;
  for (let i = 0; i < 3; i++) {
    await gcSettled();
    t = performance.now();
    c = cpuMs();
    const v1Raw = readFileSync(v1Path);
    const v1 = TraceStore.import(
      v1Raw.buffer.slice(v1Raw.byteOffset, v1Raw.byteOffset + v1Raw.byteLength),
    );
    if (v1.count !== events) throw new Error(`v1 read back ${v1.count} of ${events} events`);
    v1Reads.push([performance.now() - t, cpuMs() - c]);
    v1.dispose();
    await gcSettled();
    t = performance.now();
    c = cpuMs();
    const r = TraceReader.open(new FileSource(v2Path));
    readBack = 0;
    // as the app's import reads a file: each batch decoded into one reused buffer
    r.forEachBatch((_f, _rec, count) => (readBack += count), { reuse: true });
    r.close();
    reads.push([performance.now() - t, cpuMs() - c]);
  }
  const v1ReadMs = median(v1Reads.map((x) => x[0]));
  const v1ReadCpu = median(v1Reads.map((x) => x[1]));
  if (readBack !== events) throw new Error(`read back ${readBack} of ${events} events`);
  const v2ReadMs = median(reads.map((x) => x[0]));
  const v2ReadCpu = median(reads.map((x) => x[1]));
  // A random range (the index): 10,000 events from the middle.
  t = performance.now();
  const rr = TraceReader.open(new FileSource(v2Path), { verify: 'lazy' });
  const mid = rr.readEvents(Math.floor(events / 2), 10_000);
  const rangeMs = performance.now() - t;
  rr.close();
  if (mid.byteLength !== 10_000 * EVENT_SIZE) throw new Error('range read came back short');

  // ---- live overhead: the same session, streaming to a v2 file or not ---------------------
  // Three ways, interleaved (the order rotates each run): events discarded (the baseline);
  // streamed by the CLI's LiveTraceWriter (a worker thread encodes, compresses, checkpoints and
  // writes); streamed by a TraceWriter on this thread (the previous way, for reference).
  // ~3.8 M events a session (~0.4 s): a session of 60 passes (0.12 s) varied by ±30 % from
  // round to round on its own, more than the effect measured.
  const LIVE_PASSES = 300;
  const LIVE_RUNS = 11;
  type Mode = 'plain' | 'worker' | 'inline';
  interface LiveRun {
    wall: number;
    cpu: number;
    mainCpu: number;
    writerCpu: number | null;
    events: number;
    /** The trace file's size; for the worker writer, its batches and those stored undeflated. */
    fileBytes: number;
    batches: number;
    storedBatches: number;
  }
  const live: Record<Mode, LiveRun[]> = { plain: [], worker: [], inline: [] };
  const modes: Mode[] = ['plain', 'worker', 'inline'];
  const loadBefore = loadavg();
  for (let i = 0; i < LIVE_RUNS; i++) {
    for (let k = 0; k < modes.length; k++) {
      const mode = modes[(i + k) % modes.length] as Mode;
      const path = join(dir, `live-${mode}-${i}.pstrace`);
      let n = 0;
      const count = (b: ArrayBuffer): number => (n += b.byteLength / EVENT_SIZE);
      let run: LiveRun;
      if (mode === 'worker') {
        const lw = new LiveTraceWriter(path, session0);
        await lw.ready(); // its start-up (module loading) is not the recording's cost
        const [t0, c0, m0] = [performance.now(), cpuMs(), mainThreadCpuMs()];
        let sum: unknown = null;
        await session(svc, `worker${i}`, fixture.pid, LIVE_PASSES, {
          events: (f, b) => {
            count(b);
            lw.appendEvents(f, b);
          },
          entries: (cls, start, list) => lw.appendEntries(cls, start, list),
          summary: (s) => (sum = s),
        });
        const res = await lw.finish(sum);
        run = {
          wall: performance.now() - t0,
          cpu: cpuMs() - c0,
          mainCpu: mainThreadCpuMs() - m0,
          writerCpu: res.cpuMs,
          events: n,
          fileBytes: res.bytesWritten,
          batches: res.batches,
          storedBatches: res.storedBatches,
        };
      } else {
        const w = mode === 'inline' ? new TraceWriter(new FileSink(path), session0) : null;
        const [t0, c0, m0] = [performance.now(), cpuMs(), mainThreadCpuMs()];
        await session(svc, `${mode}${i}`, fixture.pid, LIVE_PASSES, {
          events: (f, b) => {
            count(b);
            w?.appendEvents(f, b);
          },
          entries: (cls, start, list) => w?.appendEntries(cls, start, list),
          summary: (s) => w?.finish(s),
        });
        run = {
          wall: performance.now() - t0,
          cpu: cpuMs() - c0,
          mainCpu: mainThreadCpuMs() - m0,
          writerCpu: null,
          events: n,
          fileBytes: w?.bytesWritten ?? 0,
          batches: 0,
          storedBatches: 0,
        };
      }
      live[mode].push(run);
      rmSync(path, { force: true });
    }
  }
  const loadAfter = loadavg();
  // The first round warms up; medians of the rest, and the spread of the per-round ratios.
  const rest = (m: Mode): LiveRun[] => live[m].slice(1);
  const med = (m: Mode, f: (r: LiveRun) => number): number => median(rest(m).map(f));
  const ratios = (m: Mode, f: (r: LiveRun) => number): number[] =>
    rest(m).map((r, j) => f(r) / f(rest('plain')[j] as LiveRun));
  const spread = (xs: number[]): string =>
    `per-round ratios ${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)} (median ${median(xs).toFixed(3)})`;
  const liveEvents = rest('worker')[0]?.events ?? 0;
  const rounds = `median of ${LIVE_RUNS - 1} interleaved rounds`;
  const writerNs = median(rest('worker').map((r) => ((r.writerCpu ?? NaN) * 1e6) / r.events));
  const inlineNs =
    ((med('inline', (r) => r.mainCpu) - med('plain', (r) => r.mainCpu)) * 1e6) / liveEvents;

  writeResults(
    'trace-format',
    [
      figure(
        'events recorded (real heap-traced sessions over the large fixture)',
        events,
        'events',
        null,
      ),
      figure(
        'v2 bytes per event (file size / events)',
        v2Bytes / events,
        'B',
        v1Bytes / events,
        'baseline: v1 bytes per event; target ≤ 12',
      ),
      figure('v2 file size', v2Bytes / 2 ** 20, 'MiB', v1Bytes / 2 ** 20, 'baseline: v1 file size'),
      figure(
        'v2 write, streamed batch by batch (wall)',
        v2WriteMs,
        'ms',
        v1WriteMs,
        'baseline: v1 written at once',
      ),
      figure(
        'v2 write, streamed batch by batch (CPU time)',
        v2WriteCpu,
        'ms',
        v1WriteCpu,
        'baseline: v1 written at once',
      ),
      figure(
        'v2 read rate, every event decoded to records (per CPU second)',
        events / (v2ReadCpu / 1000) / 1e6,
        'M events/s',
        events / (v1ReadCpu / 1000) / 1e6,
        'baseline: v1 import (read + validate); target ≥ 10; median of 3; open with every checksum, each batch decoded into one reused buffer (as the import); process CPU (all threads)',
      ),
      figure(
        'v2 read rate, every event decoded to records (per wall second)',
        events / (v2ReadMs / 1000) / 1e6,
        'M events/s',
        events / (v1ReadMs / 1000) / 1e6,
        'baseline: v1 import (read + validate); target ≥ 10; median of 3; as above; wall time',
      ),
      figure('v2 open (index only) and read of 10,000 events from the middle', rangeMs, 'ms', null),
      figure(
        `live session (${liveEvents} events) streaming its v2 trace by the worker writer (wall)`,
        med('worker', (r) => r.wall),
        'ms',
        med('plain', (r) => r.wall),
        `baseline: same session, events discarded; target ≤ 1.05×; ${rounds}; ${spread(ratios('worker', (r) => r.wall))}`,
      ),
      figure(
        `live session (${liveEvents} events) streaming its v2 trace by the worker writer (process CPU time)`,
        med('worker', (r) => r.cpu),
        'ms',
        med('plain', (r) => r.cpu),
        `baseline: same session, events discarded (all threads: walk worker, main, writer); ${rounds}; ${spread(ratios('worker', (r) => r.cpu))}`,
      ),
      figure(
        `live session streaming by the worker writer: main thread CPU time`,
        med('worker', (r) => r.mainCpu),
        'ms',
        med('plain', (r) => r.mainCpu),
        `baseline: same session, events discarded; /proc/thread-self/stat (10 ms ticks); ${rounds}`,
      ),
      figure(
        'trace writer thread CPU per event on the live session (columns, deflate, ledger checkpoints, write)',
        writerNs,
        'ns',
        inlineNs,
        "the writer thread's own CPU time (/proc/thread-self/stat); baseline: the same work on the main thread (TraceWriter inline), main-thread CPU minus the discarding session's",
      ),
      figure(
        'live trace bytes per event (worker writer: deflated only when not behind)',
        med('worker', (r) => r.fileBytes / r.events),
        'B',
        med('inline', (r) => r.fileBytes / r.events),
        `baseline: the same session written by a TraceWriter on the main thread, every batch deflated; ${(100 * median(rest('worker').map((r) => r.storedBatches / r.batches))).toFixed(1)} % of the worker's batches stored undeflated (median); target ≤ 12`,
      ),
      figure(
        `live session (${liveEvents} events) streaming its v2 trace on the main thread (wall)`,
        med('inline', (r) => r.wall),
        'ms',
        med('plain', (r) => r.wall),
        `reference (the previous way): TraceWriter on the thread receiving the events; ${rounds}; ${spread(ratios('inline', (r) => r.wall))}`,
      ),
      figure(
        `live session (${liveEvents} events) streaming its v2 trace on the main thread (process CPU time)`,
        med('inline', (r) => r.cpu),
        'ms',
        med('plain', (r) => r.cpu),
        `reference (the previous way); ${rounds}; ${spread(ratios('inline', (r) => r.cpu))}`,
      ),
    ],
    {
      events,
      batches: batchCount,
      live,
      loadAverage: { beforeLive: loadBefore, afterLive: loadAfter },
      cpus: availableParallelism(),
    },
  );
} finally {
  await svc.close();
  await fixture.stop();
  rmSync(dir, { recursive: true, force: true });
}
