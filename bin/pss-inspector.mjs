#!/usr/bin/env node
// `pss-inspector` (package.json bin; `npx pss-inspector …`). In a source checkout it runs the
// TypeScript sources through tsx (always current); in a packaged app, where the sources are not
// shipped, the bundled out/main/cli.js (built by `npm run build`).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src-main', 'cli', 'main.ts');
const bundled = join(root, 'out', 'main', 'cli.js');

async function tsxRegister() {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    return true;
  } catch {
    return false;
  }
}

let entry;
if (existsSync(source) && (await tsxRegister())) entry = source;
else if (existsSync(bundled)) entry = bundled;
else {
  console.error(
    'pss-inspector: error: neither the sources nor out/main/cli.js are here — run `npm run build`',
  );
  process.exit(1);
}
const { cliMain } = await import(pathToFileURL(entry).href);
await cliMain(process.argv.slice(2));
