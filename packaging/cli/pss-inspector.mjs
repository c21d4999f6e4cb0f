#!/usr/bin/env node
// `npx pss-inspector …` in the packaged app's folder. electron-builder.yml ships this file as
// bin/pss-inspector.mjs and ./package.json as the folder's package.json (its `bin`). It runs
// the CLI bundle the app carries unpacked (resources/app.asar.unpacked/out/main/cli.js) with
// the Node that runs it, and points that CLI at the app's own native libraries and executable.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
// Linux and Windows: <app>/resources; macOS: <App>.app/Contents/Resources (appDir = Contents).
const resources = [join(appDir, 'resources'), join(appDir, 'Resources')].find((d) =>
  existsSync(join(d, 'app.asar.unpacked', 'out', 'main', 'cli.js')),
);
if (!resources) {
  console.error(
    `pss-inspector: error: no resources/app.asar.unpacked/out/main/cli.js under ${appDir} — run this from the packaged app's folder`,
  );
  process.exit(1);
}
const env = process.env;
env.PSS_LIBRARY ||= join(resources, 'libpss', 'libpss.so');
env.PSS_ALLOCTRACE_LIBRARY ||= join(
  resources,
  'liballoctrace',
  process.platform === 'win32' ? 'alloctrace.dll' : 'liballoctrace.so',
);
// `open FILE` starts this app's window (the executable beside resources/), where it exists.
const executables = {
  linux: join(appDir, 'pss-inspector'),
  win32: join(appDir, 'PSS Inspector.exe'),
  darwin: join(appDir, 'MacOS', 'PSS Inspector'),
};
const exe = executables[process.platform];
if (exe && existsSync(exe)) env.PSS_INSPECTOR_APP ||= exe;
const cli = join(resources, 'app.asar.unpacked', 'out', 'main', 'cli.js');
const { cliMain } = await import(pathToFileURL(cli).href);
await cliMain(process.argv.slice(2));
