#!/usr/bin/env node
// `npm test`: every test, in dependency order, stopping at the first failure.
//   native builds → C tests under ASan/UBSan + valgrind (libpss, liballoctrace; liballoctrace's
//   Windows build under Wine) → a bounded libFuzzer run on the /proc
//   parsers (a few seconds per target) → typecheck → lint → unit/integration (vitest) → app
//   build → end-to-end (Playwright: Chromium against web mode; Electron where its binary
//   exists).
// `npm test -- --skip=e2e,native` skips steps by name (for local iteration only).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const skip = new Set(
  (process.argv.find((a) => a.startsWith('--skip=')) ?? '--skip=')
    .slice(7)
    .split(',')
    .filter(Boolean),
);
const bin = (name) => join(root, 'node_modules', '.bin', name);

const steps = [
  ['native', 'make', ['-C', 'libpss']],
  ['native', 'make', ['-C', 'libpss', 'test']],
  ['native', 'make', ['-C', 'liballoctrace']],
  ['native', 'make', ['-C', 'liballoctrace', 'test']],
  // the Windows build of liballoctrace and its tests under Wine (says so when not installed)
  ['native', 'make', ['-C', 'liballoctrace', 'test-wine']],
  ['fuzz', 'make', ['-C', 'libpss', 'fuzz-ci']],
  ['typecheck', bin('tsc'), ['-p', 'tsconfig.node.json', '--noEmit']],
  ['typecheck', bin('tsc'), ['-p', 'tsconfig.web.json', '--noEmit']],
  ['lint', bin('eslint'), ['.']],
  ['lint', bin('prettier'), ['--check', '.']],
  ['unit', bin('vitest'), ['run']],
  ['build', bin('electron-vite'), ['build']],
  ['e2e', bin('playwright'), ['test']],
];

const results = [];
for (const [name, cmd, args] of steps) {
  if (skip.has(name)) {
    results.push([name, `${cmd} ${args.join(' ')}`, 'skipped', 0]);
    continue;
  }
  console.log(`\n▶ ${name}: ${cmd.replace(root + '/', '')} ${args.join(' ')}`);
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root });
  const secs = (Date.now() - t0) / 1000;
  const ok = r.status === 0;
  results.push([
    name,
    `${cmd.replace(root + '/', '')} ${args.join(' ')}`,
    ok ? 'ok' : `FAILED (${r.error?.message ?? `exit ${r.status}`})`,
    secs,
  ]);
  if (!ok) break;
}
console.log('\nTest summary:');
for (const [name, cmd, status, secs] of results)
  console.log(`  ${status.padEnd(10)} ${name.padEnd(10)} ${secs.toFixed(1).padStart(6)} s  ${cmd}`);
const failed = results.some((r) => r[2].startsWith('FAILED'));
if (failed || results.length < steps.length) process.exit(1);
