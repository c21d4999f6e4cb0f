/**
 * `npx pss-inspector` from the packaged app's folder. The app is packaged by electron-builder
 * itself, with the project's electron-builder.yml (`--linux dir`), offline: the Electron binary
 * cannot be downloaded here, so `electronDist` is a stand-in folder whose `electron` is a script
 * recording how it was started. Everything else is what the configuration ships (app.asar, the
 * unpacked bundles and modules, the native libraries, packaging/cli). Then the real npx runs the
 * CLI there: --help, ps --json, a traced walk of a real process, and `open`, which starts the
 * app's executable on the file. Needs the build (out/main), like the other e2e tests.
 */
import { expect, test } from '@playwright/test';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './support/web-mode';

const work = mkdtempSync(join(tmpdir(), 'pss-packaged-'));
const app = join(work, 'dist', 'linux-unpacked');
const opened = join(work, 'app-args.txt');

function npx(args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  // Offline: npx must find the folder's own bin, never ask the registry.
  return spawnSync('npx', ['--offline', 'pss-inspector', ...args], {
    cwd: app,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, npm_config_update_notifier: 'false', ...env },
  });
}

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  test.setTimeout(300_000);
  expect(existsSync(join(ROOT, 'out', 'main', 'cli.js')), 'run `electron-vite build` first').toBe(
    true,
  );
  // The stand-in Electron: the packaged executable is this script, renamed by electron-builder.
  const dist = join(work, 'electron-dist');
  mkdirSync(dist);
  writeFileSync(
    join(dist, 'electron'),
    `#!/bin/sh\nprintf '%s\\n' "$@" > ${JSON.stringify(opened)}\n`,
  );
  chmodSync(join(dist, 'electron'), 0o755);
  const r = spawnSync(
    join(ROOT, 'node_modules', '.bin', 'electron-builder'),
    [
      '--linux',
      'dir',
      `-c.electronDist=${dist}`,
      `-c.directories.output=${join(work, 'dist')}`,
      // koffi ships prebuilt for Electron's N-API: nothing to rebuild (and nothing to download)
      '-c.npmRebuild=false',
    ],
    { cwd: ROOT, encoding: 'utf8', timeout: 280_000 },
  );
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
});

test.afterAll(() => rmSync(work, { recursive: true, force: true }));

test('the packaged folder holds the CLI: package.json with its bin, the launcher, the unpacked bundle, the libraries', () => {
  const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as {
    name: string;
    bin: Record<string, string>;
  };
  expect(pkg.name).toBe('pss-inspector');
  expect(pkg.bin['pss-inspector']).toBe('bin/pss-inspector.mjs');
  for (const f of [
    'bin/pss-inspector.mjs',
    'pss-inspector',
    'resources/app.asar',
    'resources/app.asar.unpacked/out/main/cli.js',
    'resources/app.asar.unpacked/out/main/walk-worker.js',
    'resources/app.asar.unpacked/out/main/trace-writer-worker.js',
    'resources/app.asar.unpacked/node_modules/koffi/package.json',
    'resources/app.asar.unpacked/node_modules/ws/package.json',
    'resources/libpss/libpss.so',
    'resources/liballoctrace/liballoctrace.so',
  ])
    expect(existsSync(join(app, f)), f).toBe(true);
});

test('npx pss-inspector --help and ps --json run there', () => {
  const help = npx(['--help']);
  expect(help.status, help.stderr).toBe(0);
  expect(help.stdout).toMatch(/^walk /m);
  const ps = npx(['ps', '--json']);
  expect(ps.status, ps.stderr).toBe(0);
  const doc = JSON.parse(ps.stdout) as { schema: string; processes: { pid: number }[] };
  expect(doc.schema).toBe('pss-inspector/ps');
  expect(doc.processes.some((p) => p.pid === process.pid)).toBe(true);
});

test('a traced walk runs on the packaged libraries and its trace reads back; open starts the app on it', async () => {
  const target = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    const out = join(work, 'walk.pstrace');
    // Nothing from the checkout: the libraries must be the packaged ones.
    const env = { PSS_LIBRARY: '', PSS_ALLOCTRACE_LIBRARY: '' };
    const w = npx(['walk', String(target.pid), '--allocator', 'heap', '--out', out, '--json'], env);
    expect(w.status, w.stderr).toBe(0);
    const s = npx(['summary', out, '--json'], env);
    expect(s.status, s.stderr).toBe(0);
    const sum = JSON.parse(s.stdout) as {
      complete: boolean;
      events: number;
      summary: { allocations: number };
    };
    expect(sum.complete).toBe(true);
    expect(sum.events).toBeGreaterThan(0);
    expect(sum.summary.allocations).toBeGreaterThan(0);

    const o = npx(['open', out], env);
    expect(o.status, o.stderr).toBe(0);
    expect(readFileSync(opened, 'utf8').split('\n').filter(Boolean)).toEqual(['--open', out]);
  } finally {
    target.kill('SIGKILL');
  }
});
