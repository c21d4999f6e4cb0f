#!/usr/bin/env node
// `npm start`: build, then launch the Electron app; where no Electron binary can be had (an
// offline machine), say so plainly and serve the same app in web mode instead.
// `npm run web` (or `npm start -- --web`): web mode directly. Extra args go to the app.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
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
    [join(root, 'out', 'main', 'web.js'), ...passthrough.filter((a) => a !== '--no-build')],
    {
      stdio: 'inherit',
      cwd: root,
    },
  );
  forward(child);
}

function forward(child) {
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
}

if (web) {
  startWeb(null);
} else {
  let electron = locateElectron();
  if (!electron.path && electron.packageDir) {
    console.log(`[pss-inspector] ${electron.reason}; fetching it now…`);
    const r = spawnSync(process.execPath, [join(electron.packageDir, 'install.js')], {
      stdio: 'inherit',
      timeout: 120_000,
    });
    if (r.status === 0) electron = locateElectron();
  }
  if (!electron.path) {
    startWeb(
      `Electron is not available on this machine (${electron.reason}; the download failed or there is no network).`,
    );
  } else {
    const child = spawn(electron.path, [root, ...passthrough.filter((a) => a !== '--no-build')], {
      stdio: 'inherit',
      cwd: root,
    });
    forward(child);
  }
}
