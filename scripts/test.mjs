#!/usr/bin/env node
// `npm test`: every test, in dependency order, stopping at the first failure.
//   native builds → C tests under ASan/UBSan + valgrind (libpss, liballoctrace; liballoctrace's
//   Windows build under Wine) → a bounded libFuzzer run on the /proc
//   parsers (a few seconds per target) → typecheck → lint → unit/integration (vitest) → app
//   build → end-to-end (Playwright: Chromium against web mode; Electron where its binary
//   exists).
// `npm test -- --skip=e2e,native` skips steps by name (for local iteration only).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
// The runners also write JSON reports here, so the summary (the last lines a CI log keeps) can
// name the tests that failed and the first line of each failure.
const reports = mkdtempSync(join(tmpdir(), 'pss-test-'));
const vitestReport = join(reports, 'vitest.json');
const playwrightReport = join(reports, 'playwright.json');

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
  [
    'unit',
    bin('vitest'),
    ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestReport}`],
  ],
  ['build', bin('electron-vite'), ['build']],
  ['e2e', bin('playwright'), ['test', '--reporter=list,json']],
];

const results = [];
for (const [name, cmd, args] of steps) {
  if (skip.has(name)) {
    results.push([name, `${cmd} ${args.join(' ')}`, 'skipped', 0]);
    continue;
  }
  console.log(`\n▶ ${name}: ${cmd.replace(root + '/', '')} ${args.join(' ')}`);
  const t0 = Date.now();
  const r = spawnSync(cmd, args, {
    stdio: 'inherit',
    cwd: root,
    env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_NAME: playwrightReport },
  });
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
const failures = [...vitestFailures(), ...playwrightFailures()];
if (failures.length > 0) {
  console.log('\nFailed tests:');
  for (const f of failures.slice(0, 20)) console.log(`  ✗ ${f}`);
  if (failures.length > 20) console.log(`  … and ${failures.length - 20} more`);
}
rmSync(reports, { recursive: true, force: true });
const failed = results.some((r) => r[2].startsWith('FAILED'));
if (failed || results.length < steps.length) process.exit(1);

function readReport(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null; // the step did not run, or died before writing its report
  }
}

function firstLine(message) {
  // eslint-disable-next-line no-control-regex
  const plain = String(message ?? '').replace(/\x1b\[[0-9;]*m/g, '');
  const line = plain.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.trim().slice(0, 200);
}

function vitestFailures() {
  const report = readReport(vitestReport);
  const out = [];
  for (const file of report?.testResults ?? []) {
    const rel = String(file.name).replace(root + '/', '');
    const failedTests = (file.assertionResults ?? []).filter((t) => t.status === 'failed');
    for (const t of failedTests)
      out.push(`${rel} › ${t.fullName}: ${firstLine(t.failureMessages?.[0])}`);
    if (failedTests.length === 0 && file.status === 'failed')
      out.push(`${rel}: ${firstLine(file.message)}`);
  }
  return out;
}

function playwrightFailures() {
  const report = readReport(playwrightReport);
  const out = [];
  const walk = (suite, titles) => {
    for (const spec of suite.specs ?? [])
      for (const test of spec.tests ?? []) {
        const last = test.results?.[test.results.length - 1];
        if (test.status === 'unexpected' || test.status === 'flaky')
          out.push(
            `${spec.file} › ${[...titles, spec.title].join(' › ')} (${test.status}): ${firstLine(last?.error?.message)}`,
          );
      }
    for (const child of suite.suites ?? []) walk(child, [...titles, child.title].filter(Boolean));
  };
  for (const suite of report?.suites ?? []) walk(suite, []);
  for (const e of report?.errors ?? []) out.push(`playwright: ${firstLine(e.message)}`);
  return out;
}
