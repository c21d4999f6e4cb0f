/**
 * libpss at scale (issue 8): a full capture + walk in C (libpss/build/bench-capture) next to
 * its floor (libpss/build/bench-floor: the plain C read of the same /proc files) and next to
 * `lsof -p` and `pmap -x`, on two processes, all measured in one run:
 *   big      200,000 mappings, ~19,000 fds of mixed kinds, 200 threads
 *   timerfd  19,000 timerfds (one anonymous inode: the worst case for HandleCount)
 * Targets: libpss ≤ 1.2× the floor and faster than lsof -p, on both.
 *
 * The machine may be shared, so the measurements are interleaved: every round runs the floor,
 * libpss, lsof and pmap once more (in alternating order), and each figure is the median over
 * all rounds. vm.max_map_count (65,530 by default) is raised for the big process when we are
 * root, and restored afterwards; without root the big process is skipped.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { startFixture, type FixtureSpec, type RunningFixture } from '../src-main/testing/fixture';
import { figure, median, writeResults, type Figure } from './lib/results';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const ITER = 3; // runs of bench-floor / bench-capture per round
const build = join(import.meta.dirname, '..', 'libpss', 'build');
const MAP_COUNT = '/proc/sys/vm/max_map_count';

const BIG: FixtureSpec = {
  threads: 200,
  eventfds: 2500,
  semaphores: 500,
  pipes: 3000,
  sockets: 3000,
  memfds: 1000,
  files: 4000,
  dups: 500,
  dirs: 1000,
  timerfds: 1500,
  epolls: 500,
  pidfds: 500,
  signalfds: 250,
  inotifys: 16,
  devices: 400,
  maps: 200_000,
};
const TIMERFDS: FixtureSpec = { timerfds: 19_000 };

function cRuns(binary: string, pid: number): number[] {
  const out = execFileSync(join(build, binary), [String(pid), String(ITER)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return (JSON.parse(out.trim().split('\n').pop() as string) as { runs: number[] }).runs;
}

function timeCommand(cmd: string, args: string[]): number | null {
  const t = performance.now();
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  if (r.error || r.status !== 0) return null;
  return performance.now() - t;
}

interface Measured {
  floor: number;
  libpss: number;
  lsof: number | null;
  pmap: number | null;
  samples: number;
}

function measure(pid: number): Measured {
  const floor: number[] = [];
  const libpss: number[] = [];
  const lsof: number[] = [];
  const pmap: number[] = [];
  let lsofOk = true;
  let pmapOk = true;
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      floor.push(...cRuns('bench-floor', pid));
      libpss.push(...cRuns('bench-capture', pid));
    } else {
      libpss.push(...cRuns('bench-capture', pid));
      floor.push(...cRuns('bench-floor', pid));
    }
    if (lsofOk) {
      const t = timeCommand('lsof', ['-p', String(pid)]);
      if (t === null) lsofOk = false;
      else lsof.push(t);
    }
    if (pmapOk) {
      const t = timeCommand('pmap', ['-x', String(pid)]);
      if (t === null) pmapOk = false;
      else pmap.push(t);
    }
  }
  return {
    floor: median(floor),
    libpss: median(libpss),
    lsof: lsofOk ? median(lsof) : null,
    pmap: pmapOk ? median(pmap) : null,
    samples: floor.length,
  };
}

function figuresFor(label: string, m: Measured): Figure[] {
  const f = [
    figure(
      `${label}: floor (plain C read of the same /proc files)`,
      m.floor,
      'ms',
      m.floor,
      'baseline',
    ),
    figure(`${label}: libpss capture + walk`, m.libpss, 'ms', m.floor, 'target ≤ 1.2× floor'),
  ];
  if (m.lsof !== null) {
    f.push(figure(`${label}: lsof -p`, m.lsof, 'ms', m.floor));
    f.push(
      figure(`${label}: libpss capture + walk vs lsof -p`, m.libpss, 'ms', m.lsof, 'target < 1'),
    );
  }
  if (m.pmap !== null) f.push(figure(`${label}: pmap -x`, m.pmap, 'ms', m.floor));
  return f;
}

async function withFixture<T>(spec: FixtureSpec, fn: (fx: RunningFixture) => T): Promise<T> {
  const fx = await startFixture(spec, { readyTimeoutMs: 180_000 });
  try {
    return fn(fx);
  } finally {
    await fx.stop();
  }
}

/** Raises vm.max_map_count for the big process (root only); returns the value to restore. */
function raiseMapCount(need: number): { restore: string | null; ok: boolean } {
  const current = readFileSync(MAP_COUNT, 'utf8').trim();
  if (Number(current) >= need) return { restore: null, ok: true };
  if (process.getuid?.() !== 0) return { restore: null, ok: false };
  writeFileSync(MAP_COUNT, String(need));
  // Restored in the finally below, and also if the bench is interrupted.
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      writeFileSync(MAP_COUNT, current);
      process.exit(130);
    });
  return { restore: current, ok: true };
}

for (const tool of ['lsof', 'pmap']) {
  if (spawnSync(tool, ['-v'], { stdio: 'ignore' }).error)
    console.log(`${tool} not installed: its figures are skipped`);
}
const loadBefore = loadavg()[0] as number;
const figures: Figure[] = [];
const shapes: Record<string, unknown> = {};

// The big process: every map is its own VMA, and creating them splits a reserved region, so
// the kernel needs about two VMAs per map while the fixture builds them.
const maps = BIG.maps ?? 0;
const { restore, ok } = raiseMapCount(2 * maps + 10_000);
if (!ok) {
  console.log(
    `vm.max_map_count is below ${2 * maps + 10_000} and we are not root: big process skipped`,
  );
} else {
  try {
    const m = await withFixture(BIG, (fx) => {
      shapes['big'] = {
        pid: fx.pid,
        threads: fx.truth.tids.length,
        fds: fx.truth.fds.length,
        maps: readFileSync(`/proc/${fx.pid}/maps`, 'utf8').split('\n').length - 1,
      };
      console.log('big process:', shapes['big']);
      return measure(fx.pid);
    });
    figures.push(...figuresFor('200k maps, 19k fds, 200 threads', m));
  } finally {
    if (restore !== null) writeFileSync(MAP_COUNT, restore);
  }
}

const t = await withFixture(TIMERFDS, (fx) => {
  shapes['timerfd'] = { pid: fx.pid, fds: fx.truth.fds.length };
  console.log('timerfd process:', shapes['timerfd']);
  return measure(fx.pid);
});
figures.push(...figuresFor('19k timerfds', t));

const loadAfter = loadavg()[0] as number;
if (Math.max(loadBefore, loadAfter) > 2)
  console.log(
    `note: load average ${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)} on a shared machine; ` +
      'ratios are within one run, but re-run when it is quieter for absolute times',
  );
writeResults('libpss-scale', figures, {
  rounds: ROUNDS,
  runsPerRound: ITER,
  processes: shapes,
  loadAverage: { before: loadBefore, after: loadAfter },
  maxMapCount: { raisedFor: restore !== null ? 2 * maps + 10_000 : null, restored: restore },
});
