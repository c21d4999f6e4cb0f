#!/usr/bin/env node
// `npm start`: build, then launch the Electron app; where no Electron binary can be had (an
// offline machine), say so plainly and serve the same app in web mode instead.
// `npm run web` (or `npm start -- --web`): web mode directly. Extra args go to the app.
// What it runs ends with it: web mode reads its stdin from this script (--exit-with-stdin), so
// it ends when this script does, however that happens; and this script ends what it started
// when its own parent goes (npm killed, the terminal closed), not only on Ctrl+C.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { locateElectron } from './electron-binary.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const web = argv.includes('--web');
const passthrough = argv.filter((a) => a !== '--web');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (!process.argv.includes('--no-build')) {
  run(process.execPath, [
    join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'),
    'build',
  ]);
}

function startWeb(reason) {
  if (reason)
    console.log(
      `\n[pss-inspector] ${reason}\n[pss-inspector] Starting web mode instead: open the printed URL in a browser.\n`,
    );
  const child = spawn(
    process.execPath,
    [
      join(root, 'out', 'main', 'web.js'),
      '--exit-with-stdin',
      ...passthrough.filter((a) => a !== '--no-build'),
    ],
    { stdio: ['pipe', 'inherit', 'inherit'], cwd: root },
  );
  forward(child);
}

function forward(child) {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
  watchParent(() => child.kill('SIGTERM'));
}

/** Whether a process exists (EPERM: it does, and is someone else's). */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/**
 * npm runs scripts through `sh -c`; when npm itself is killed that shell may stay, so on Linux
 * the shell's parent is watched too. Returns that pid, or null.
 */
function shellsParent(ppid) {
  if (process.platform !== 'linux') return null;
  try {
    const argv = readFileSync(`/proc/${ppid}/cmdline`, 'utf8').split('\0');
    if (!['sh', 'bash', 'dash', 'zsh'].includes(basename(argv[0] ?? '')) || argv[1] !== '-c')
      return null;
    const stat = readFileSync(`/proc/${ppid}/stat`, 'utf8');
    const grand = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return grand > 1 ? grand : null;
  } catch {
    return null;
  }
}

/** Calls onGone once when this script's parent (or npm above its shell) has gone. */
function watchParent(onGone) {
  const parent = process.ppid;
  const grand = shellsParent(parent);
  const timer = setInterval(() => {
    if (process.ppid !== parent || (grand !== null && !alive(grand))) {
      clearInterval(timer);
      onGone();
    }
  }, 500);
  timer.unref();
}

/**
 * Electron's own installer, quietly: its progress and, offline, its raw stack trace
 * ("TypeError: fetch failed …") are not for the person who typed npm start. Returns null on
 * success, else one line saying why.
 */
function fetchElectron(packageDir) {
  const r = spawnSync(process.execPath, [join(packageDir, 'install.js')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status === 0) return null;
  if (r.error) return r.error.code === 'ETIMEDOUT' ? 'the download timed out' : r.error.message;
  const first = `${r.stderr ?? ''}\n${r.stdout ?? ''}`
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '' && !l.startsWith('at '));
  const why = first ? first.replace(/^(\w*Error):\s*/, '') : `exit code ${r.status}`;
  return `the download failed: ${why}`;
}

if (web) {
  startWeb(null);
} else {
  let electron = locateElectron();
  let failed = null;
  if (!electron.path && electron.packageDir) {
    console.log('[pss-inspector] The Electron binary is not downloaded yet; fetching it now…');
    failed = fetchElectron(electron.packageDir);
    if (failed === null) electron = locateElectron();
  }
  if (!electron.path) {
    startWeb(
      failed
        ? `Electron could not be fetched (${failed}; is this machine offline?).`
        : `Electron is not available on this machine (${electron.reason}).`,
    );
  } else {
    const child = spawn(electron.path, [root, ...passthrough.filter((a) => a !== '--no-build')], {
      stdio: ['pipe', 'inherit', 'inherit'],
      cwd: root,
    });
    forward(child);
  }
}
