/**
 * Our exports open in a real, independent viewer: the npm package `speedscope` (its static web
 * app and its own importers) in Debian's Chromium. A real walk of the fixture is recorded by the
 * CLI, exported in speedscope's format and as Chrome trace JSON, and each file is loaded by
 * speedscope through its `#profileURL=` importer; the sandwich view must list the walk's slices.
 */
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { readFileSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { test, expect } from '@playwright/test';
import { startFixture, type RunningFixture } from '../src-main/testing/fixture';
import { ROOT } from './support/web-mode';

const SPEEDSCOPE = join(ROOT, 'node_modules', 'speedscope', 'dist', 'release');
const CLI = join(ROOT, 'bin', 'pss-inspector.mjs');
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

let dir: string;
let server: Server;
let base: string;
let fx: RunningFixture;

test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pss-speedscope-'));
  fx = await startFixture({ threads: 3, files: 20, pipes: 4 });
  const trace = join(dir, 'walk.pstrace');
  const run = (args: string[]): void => {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT });
    expect(r.status, r.stderr).toBe(0);
  };
  run(['walk', String(fx.pid), '--allocator', 'heap', '--passes', '2', '--out', trace]);
  run(['export', trace, '--format', 'speedscope', '--out', join(dir, 'walk.speedscope.json')]);
  run(['export', trace, '--format', 'chrome', '--out', join(dir, 'walk.trace.json')]);
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = normalize(decodeURIComponent(url.pathname));
    const file = path.startsWith('/profiles/')
      ? join(dir, path.slice('/profiles/'.length))
      : join(SPEEDSCOPE, path === '/' ? 'index.html' : path);
    if (!existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});

test.afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await fx?.stop();
  rmSync(dir, { recursive: true, force: true });
});

for (const [label, file, expectFrames] of [
  [
    'speedscope format',
    'walk.speedscope.json',
    ['PssWalkSnapshot THREADS', 'PssWalkMarkerCreate', 'Pass 1'],
  ],
  ['Chrome trace JSON', 'walk.trace.json', ['PssWalkSnapshot THREADS #0', 'PssWalkMarkerFree']],
] as const) {
  test(`speedscope opens the ${label} export and shows the walk's slices`, async ({ page }) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      // speedscope's importer warns when slices do not nest ("Tried to end …", "still open").
      if (m.type() === 'error' || /Tried to end|still open/.test(m.text())) errors.push(m.text());
    });
    await page.goto(`${base}/#profileURL=${encodeURIComponent(`${base}/profiles/${file}`)}`);
    // speedscope names the document after the imported profile once its importer succeeded.
    await expect(page).toHaveTitle(/pss|walk|PSS|speedscope/i);
    await expect(page.getByText(/Sandwich/).first(), errors.join('\n')).toBeVisible();
    await page
      .getByText(/Sandwich/)
      .first()
      .click();
    // speedscope's Trace Event importer appends a slice's args to its name: match the start.
    // The sandwich table is sorted by time and windowed, so a name can sit far below the
    // fold: each name is found through speedscope's own search (Ctrl+F filters the table).
    for (const name of expectFrames) {
      await page.keyboard.press('Control+f');
      const search = page.locator('input:focus');
      await expect(search).toBeVisible();
      await search.fill(name);
      await expect(
        page.getByText(new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( |$)`)).first(),
      ).toBeVisible();
      await page.keyboard.press('Escape');
    }
    expect(errors).toEqual([]);
  });
}
