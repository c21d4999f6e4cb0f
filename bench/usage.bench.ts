/**
 * The optional memory-usage capture (smaps per region + smaps_rollup + region kinds + modules)
 * on a process with ~200,000 mappings, next to its floor — a plain C read of /proc/PID/smaps —
 * and next to `pmap -X` (which reads the same file), all in the same run:
 *   usage capture (C)                 PssLinuxCaptureDetails(REGIONS|REGION_USAGE)  ≤ 1.5× floor
 *   app capture with usage (C)        PssLinuxCaptureSnapshotAndDetails(VA_SPACE…, usage)
 *   TypeScript capture with usage     the same through koffi, every record decoded and joined
 *   pmap -X                           the tool people compare with; the capture must beat it
 * The C figures are medians of interleaved rounds (build/bench-usage); their ratios are
 * medians of per-round ratios to that round's floor.
 *
 * 200,000 one-page mappings need vm.max_map_count above twice that while the fixture builds
 * them (65,530 by default): as root the bench raises it and restores it afterwards, whatever
 * happens; otherwise it uses as many mappings as the limit allows and says so.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  attachDetails,
  captureSnapshotAndDetails,
  DetailFlags,
  ProcessHandle,
} from '../src-main/pss';
import { PssCaptureFlags } from '../src-shared/pss/constants';
import { startFixture } from '../src-main/testing/fixture';
import { figure, median, writeResults } from './lib/results';

const MAPS = Number(process.env['BENCH_MAPS'] ?? 200_000);
const ITER = Number(process.env['BENCH_ITER'] ?? 7);
const build = join(import.meta.dirname, '..', 'libpss', 'build');
const SYSCTL = '/proc/sys/vm/max_map_count';

const original = Number(readFileSync(SYSCTL, 'utf8').trim());
const needed = 2 * MAPS + 4096;
let raised = false;
function restore(): void {
  if (!raised) return;
  raised = false;
  // Only undo our own change: if something else set another value meanwhile, leave it.
  const now = Number(readFileSync(SYSCTL, 'utf8').trim());
  if (now !== needed) {
    console.log(`vm.max_map_count is ${now} (changed by someone else): left as it is`);
    return;
  }
  writeFileSync(SYSCTL, String(original));
  console.log(`vm.max_map_count restored to ${original}`);
}
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    restore();
    process.exit(130);
  });

let maps = MAPS;
if (original < needed) {
  try {
    writeFileSync(SYSCTL, String(needed));
    raised = true;
    console.log(`vm.max_map_count raised from ${original} to ${needed} for this bench`);
  } catch {
    maps = Math.floor((original - 4096) / 2);
    console.log(`not allowed to raise vm.max_map_count (${original}): using ${maps} mappings`);
  }
}

try {
  const fixture = await startFixture({ maps }, { readyTimeoutMs: 300_000 });
  try {
    const pid = fixture.pid;
    const out = execFileSync(join(build, 'bench-usage'), [String(pid), String(ITER)], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    const c = JSON.parse(out.trim().split('\n').pop() as string) as {
      floor: { median_ms: number };
      usage: { median_ms: number };
      app: { median_ms: number };
      maps: { median_ms: number };
      usage_ratio: number;
      app_ratio: number;
      regions: number;
      bytes: number;
    };
    console.log(
      `fixture pid ${pid}: ${c.regions} VMAs, smaps ${(c.bytes / 1048576).toFixed(1)} MiB`,
    );

    // The app path in TypeScript: capture + decode every region record + join with the walk.
    const tsRuns: number[] = [];
    const flags = PssCaptureFlags.VA_SPACE | PssCaptureFlags.VA_SPACE_SECTION_INFORMATION;
    for (let i = 0; i < Math.max(3, Math.ceil(ITER / 2)); i++) {
      const t = performance.now();
      const proc = ProcessHandle.open(pid);
      const { snapshot, details } = captureSnapshotAndDetails(
        proc,
        flags,
        DetailFlags.REGIONS | DetailFlags.REGION_USAGE,
      );
      proc.close();
      try {
        const regions = [...snapshot.entries('VA_SPACE')];
        if (details) attachDetails(regions, details);
      } finally {
        snapshot.free();
      }
      tsRuns.push(performance.now() - t);
    }
    const ts = median(tsRuns);

    const pmapRuns: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      const r = spawnSync('pmap', ['-X', String(pid)], { stdio: 'ignore' });
      if (r.error || r.status !== 0) break;
      pmapRuns.push(performance.now() - t);
    }
    const pmap = pmapRuns.length ? median(pmapRuns) : null;

    const figures = [
      figure(
        'floor: plain C read of /proc/PID/smaps',
        c.floor.median_ms,
        'ms',
        c.floor.median_ms,
        'baseline',
      ),
      {
        ...figure(
          'usage capture (C, smaps + rollup + kinds + modules)',
          c.usage.median_ms,
          'ms',
          c.floor.median_ms,
          'target ≤ 1.5× floor',
        ),
        ratio: c.usage_ratio,
      },
      {
        ...figure(
          'app capture with usage (C: snapshot VA space ∥ usage)',
          c.app.median_ms,
          'ms',
          c.floor.median_ms,
        ),
        ratio: c.app_ratio,
      },
      figure('TypeScript capture with usage (decoded + joined)', ts, 'ms', c.floor.median_ms),
      figure(
        'plain C read of /proc/PID/maps (for scale)',
        c.maps.median_ms,
        'ms',
        c.floor.median_ms,
      ),
    ];
    if (pmap !== null) {
      figures.push(figure('pmap -X', pmap, 'ms', c.floor.median_ms));
      figures.push(figure('usage capture vs pmap -X', c.usage.median_ms, 'ms', pmap, 'target < 1'));
      figures.push(
        figure('app capture with usage vs pmap -X', c.app.median_ms, 'ms', pmap, 'target < 1'),
      );
    } else console.log('pmap not installed: skipped (apt-get install procps)');
    writeResults('usage', figures, {
      mappings: maps,
      vmas: c.regions,
      smapsBytes: c.bytes,
      iterations: ITER,
      load: readFileSync('/proc/loadavg', 'utf8').trim(),
    });
  } finally {
    await fixture.stop();
  }
} finally {
  restore();
}
