/**
 * Foundation benchmark: a full capture + walk of a large fixture process, next to the floor
 * (a plain C read of the same /proc files) and next to lsof -p / pmap -x on the same process.
 *   libpss capture+walk (C)        target ≤ 1.5× floor
 *   TypeScript walk (objects)      target ≤ 2× floor
 *   both                           faster than lsof -p
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ProcessHandle, Snapshot } from '../src-main/pss';
import {
  DEFAULT_CAPTURE_FLAGS,
  PssCaptureFlags,
  WALKABLE_CLASSES,
} from '../src-shared/pss/constants';
import { startFixture, LARGE_FIXTURE } from '../src-main/testing/fixture';
import { figure, median, writeResults } from './lib/results';

const ITER = Number(process.env['BENCH_ITER'] ?? 9);
const build = join(import.meta.dirname, '..', 'libpss', 'build');
const FLAGS = DEFAULT_CAPTURE_FLAGS & ~PssCaptureFlags.CREATE_MEASURE_PERFORMANCE;

function cBench(binary: string, pid: number): number {
  const out = execFileSync(join(build, binary), [String(pid), String(ITER)], { encoding: 'utf8' });
  const r = JSON.parse(out.trim().split('\n').pop() as string) as { median_ms: number };
  return r.median_ms;
}

function timeCommand(cmd: string, args: string[]): number | null {
  const runs: number[] = [];
  for (let i = 0; i < Math.max(3, Math.ceil(ITER / 2)); i++) {
    const t = performance.now();
    const r = spawnSync(cmd, args, { stdio: 'ignore' });
    if (r.error || r.status !== 0) return null;
    runs.push(performance.now() - t);
  }
  return median(runs);
}

function tsCaptureWalk(pid: number): { ms: number; entries: number } {
  const runs: number[] = [];
  let entries = 0;
  for (let i = 0; i < ITER + 1; i++) {
    const t = performance.now();
    const proc = ProcessHandle.open(pid);
    const snap = Snapshot.capture(proc, FLAGS);
    proc.close();
    let n = 0;
    try {
      for (const cls of WALKABLE_CLASSES) {
        if (cls === 'AUXILIARY_PAGES') continue;
        for (const _e of snap.entries(cls)) n++;
      }
    } finally {
      snap.free();
    }
    if (i > 0) runs.push(performance.now() - t); // first run warms the JIT
    entries = n;
  }
  return { ms: median(runs), entries };
}

const fixture = await startFixture(LARGE_FIXTURE);
try {
  const pid = fixture.pid;
  console.log(
    `fixture pid ${pid}: ${fixture.truth.tids.length} threads, ${fixture.truth.fds.length} fds, ${fixture.truth.maps.length} mappings`,
  );
  const floor = cBench('bench-floor', pid);
  const capture = cBench('bench-capture', pid);
  const ts = tsCaptureWalk(pid);
  const lsof = timeCommand('lsof', ['-p', String(pid)]);
  const pmap = timeCommand('pmap', ['-x', String(pid)]);
  const figures = [
    figure('floor: plain C read of the same /proc files', floor, 'ms', floor, 'baseline'),
    figure('libpss capture + walk (C)', capture, 'ms', floor, 'target ≤ 1.5× floor'),
    figure(
      `TypeScript capture + walk (${ts.entries} entries decoded)`,
      ts.ms,
      'ms',
      floor,
      'target ≤ 2× floor',
    ),
  ];
  if (lsof !== null) {
    figures.push(figure('lsof -p', lsof, 'ms', floor));
    figures.push(figure('libpss capture + walk vs lsof -p', capture, 'ms', lsof, 'target < 1'));
    figures.push(figure('TypeScript capture + walk vs lsof -p', ts.ms, 'ms', lsof, 'target < 1'));
  } else console.log('lsof not installed: skipped (apt-get install lsof)');
  if (pmap !== null) figures.push(figure('pmap -x', pmap, 'ms', floor));
  else console.log('pmap not installed: skipped (apt-get install procps)');
  writeResults('capture-walk', figures, { fixture: LARGE_FIXTURE, iterations: ITER });
} finally {
  await fixture.stop();
}
