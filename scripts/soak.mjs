#!/usr/bin/env node
// `npm run soak`: builds what the soak needs (libpss, liballoctrace, the app), then runs
// bench/soak.ts against the built web mode. Figures go to bench/results/soak.json. Not a test:
// it takes ~15 minutes.
// SOAK_SCALE=0.1 runs a tenth of every scenario (a quick check of the harness itself).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit', cwd: root }).status === 0;

if (!run('make', ['-C', 'libpss']) || !run('make', ['-C', 'liballoctrace'])) process.exit(1);
if (!run(join(root, 'node_modules', '.bin', 'electron-vite'), ['build'])) process.exit(1);
process.exit(run(process.execPath, ['--import', 'tsx', join('bench', 'soak.ts')]) ? 0 : 1);
