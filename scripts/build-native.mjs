#!/usr/bin/env node
// Builds libpss (the Process Snapshotting API for Linux) and liballoctrace (the native
// allocator strategies and tracer, with its sample user allocators) from source. Runs at
// `npm install` (postinstall) and by `npm run build:native`. On Windows the app uses
// kernel32.dll instead of libpss.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const force = process.argv.includes('--force');

if (process.platform === 'win32') {
  console.log('[libpss] Windows: using kernel32.dll, nothing to build.');
  process.exit(0);
}
if (process.platform !== 'linux') {
  console.log(
    `[libpss] ${process.platform} has no /proc-based implementation; the app will report that it cannot capture here.`,
  );
  process.exit(0);
}
if (!existsSync(join(root, 'libpss', 'Makefile'))) {
  console.error('[libpss] libpss/Makefile is missing: the checkout is incomplete.');
  process.exit(1);
}
const jobs = `-j${Math.max(1, Math.min(4, (await import('node:os')).cpus().length))}`;
for (const name of ['libpss', 'liballoctrace']) {
  const args = ['-C', join(root, name), jobs];
  if (force) args.push('-B');
  const r = spawnSync('make', args, { stdio: 'inherit' });
  if (r.error) {
    console.error(
      `[${name}] could not run make (${r.error.message}). Install gcc and make (Debian: apt-get install -y build-essential), then run "npm run build:native".`,
    );
    process.exit(1);
  }
  if (r.status !== 0) {
    console.error(`[${name}] build failed; see the compiler output above.`);
    process.exit(r.status ?? 1);
  }
  console.log(`[${name}] built ${name}/build/${name}.so`);
}
