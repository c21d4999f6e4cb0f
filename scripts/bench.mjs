#!/usr/bin/env node
// `npm run bench`: builds what the benchmarks need, then runs every bench/*.bench.ts in turn.
// Each prints its figures and writes bench/results/NAME.json. `npm run bench -- alloc` runs
// only the benchmarks whose file name contains "alloc".
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const filters = process.argv.slice(2);
const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit', cwd: root }).status === 0;

if (!run('make', ['-C', 'libpss']) || !run('make', ['-C', 'liballoctrace'])) process.exit(1);
const files = readdirSync(join(root, 'bench'))
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.some((f) => /web|render|page/.test(f))) {
  if (!run(join(root, 'node_modules', '.bin', 'electron-vite'), ['build'])) process.exit(1);
}
let failed = 0;
for (const f of files) {
  console.log(`\n######## ${f}`);
  if (!run(process.execPath, ['--expose-gc', '--import', 'tsx', join('bench', f)])) failed++;
}
console.log(
  `\n${files.length - failed}/${files.length} benchmarks completed; figures in bench/results/`,
);
process.exit(failed ? 1 : 0);
