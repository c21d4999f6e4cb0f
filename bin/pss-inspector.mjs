#!/usr/bin/env node
// `pss-inspector` (package.json bin; `npx pss-inspector …`): runs the bundled CLI
// (out/main/cli.js, built by `npm run build`) when it exists, else the TypeScript sources
// through tsx (a source checkout).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundled = join(root, 'out', 'main', 'cli.js');
if (existsSync(bundled) && !process.env.PSS_CLI_FROM_SOURCE) {
  const { cliMain } = await import(pathToFileURL(bundled).href);
  await cliMain(process.argv.slice(2));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { cliMain } = await import(pathToFileURL(join(root, 'src-main', 'cli', 'main.ts')).href);
  await cliMain(process.argv.slice(2));
}
