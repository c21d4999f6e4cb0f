/**
 * `pss-inspector open FILE --web` (the real CLI binary) starts web mode on a trace: the page a
 * browser opens shows that trace as its session at once (the openedTrace request), with all of
 * its events; each page that connects gets its own copy. Ending the command ends web mode.
 */
import { expect, test, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FileSink } from '../src-main/trace/trace-file';
import { ROOT } from './support/web-mode';
import { writeSyntheticTrace } from '../src-main/testing/synthetic-trace';

const EVENTS = 30_000;
let dir: string;
let child: ChildProcess | null = null;

test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), `pss-e2e-open-${process.pid}-`));
});
test.afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function writeTrace(path: string): void {
  writeSyntheticTrace(new FileSink(path), {
    processName: 'synthetic',
    events: EVENTS,
    stepNs: 1000,
    addressStride: 1,
    freeEach: true,
  });
}

async function eventCount(page: Page): Promise<number> {
  return Number(((await page.getByTestId('count-events').textContent()) ?? '').replace(/\D/g, ''));
}

test('pss-inspector open FILE --web serves the app with that trace open', async ({ browser }) => {
  const file = join(dir, 'recorded.psstrace');
  writeTrace(file);
  const c = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'pss-inspector.mjs'), 'open', file, '--web', '--port', '0'],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  child = c;
  const output: string[] = [];
  createInterface({ input: c.stderr as NodeJS.ReadableStream }).on('line', (l) => output.push(l));
  const exited = new Promise<number | null>((r) => c.once('exit', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no URL within 60 s:\n${output.join('\n')}`)),
      60_000,
    );
    c.once('exit', (code) => reject(new Error(`open exited (${code}):\n${output.join('\n')}`)));
    createInterface({ input: c.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      output.push(line);
      const m = /^PSS_INSPECTOR_URL=(\S+)$/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
  });
  expect(output.join('\n')).toMatch(/opening .*recorded\.psstrace in web mode/);

  // Two pages: each is shown the trace, as a session of its own.
  for (let i = 0; i < 2; i++) {
    const page = await browser.newPage();
    await page.goto(url);
    await expect(page.getByTestId('session-imported')).toContainText('recorded.psstrace', {
      timeout: 60_000,
    });
    await expect(page.getByTestId('session-state')).toHaveText(/finished/);
    await expect.poll(() => eventCount(page), { timeout: 60_000 }).toBe(EVENTS);
    await page.close();
  }

  // Ending the command ends web mode (and the launcher between them).
  c.kill('SIGTERM');
  expect(await exited).toBe(0);
  const port = new URL(url).port;
  await expect
    .poll(
      async () => {
        try {
          await fetch(`http://127.0.0.1:${port}/`);
          return 'listening';
        } catch {
          return 'closed';
        }
      },
      { timeout: 15_000 },
    )
    .toBe('closed');
});
