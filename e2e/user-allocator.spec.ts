/**
 * "Bring your own PSS_ALLOCATOR" through the UI, in Chromium against web mode: a user
 * allocator library that crashes (liballoctrace/samples/crash_alloc.c: its FreeRoutine
 * rejects NULL by dereferencing it) ends its session with a clear error naming the signal,
 * and the app keeps working: the next session, with a library that breaks a rule
 * (sloppy_alloc.c: misaligned blocks), finishes and its violations are in the problems panel.
 */
import { expect, test } from '@playwright/test';
import { join } from 'node:path';
import { startFixture, type RunningFixture } from '../src-main/testing/fixture';
import { EventKind } from '../src-shared/events/layout';
import { ROOT, startWebMode, type WebMode } from './support/web-mode';

const SAMPLES = join(ROOT, 'liballoctrace', 'build', 'samples');

let web: WebMode;
let fixture: RunningFixture;

test.beforeAll(async () => {
  fixture = await startFixture({ threads: 4, pipes: 5, files: 5, maps: 50 });
  web = await startWebMode();
});
test.afterAll(async () => {
  await web?.stop();
  await fixture?.stop();
});

test('a crashing user allocator ends its session with the signal; the next session works', async ({
  page,
}) => {
  test.setTimeout(120_000);
  await page.goto(web.url);
  await expect(page.getByTestId('view-processes')).toBeVisible();
  await page.getByTestId('process-search').fill(String(fixture.pid));
  await page.getByTestId(`process-row-${fixture.pid}`).click();
  await page.getByTestId('process-inspect').click();
  await expect(page.getByTestId('view-capture')).toBeVisible();

  const runWith = async (library: string): Promise<void> => {
    await page.getByTestId('tab-capture').click();
    await page.getByTestId('allocator-strategy-user').click();
    await page.getByTestId('allocator-user-path').fill(join(SAMPLES, library));
    await expect(page.getByTestId('allocator-summary')).toHaveText(`User library ${library}`);
    await page.getByTestId('pace-mode-run').click();
    await page.getByTestId('start-session-button').click();
  };

  // 1. The crashing library: the session fails with SIGSEGV and its last events.
  await runWith('libcrash_alloc.so');
  await expect(page.getByTestId('session-state')).toHaveText(/failed/, { timeout: 60_000 });
  const error = page.getByTestId('session-state-error');
  await expect(error).toContainText('killed by SIGSEGV');
  await expect(error).toContainText(/Last events: .*FreeNull/);
  await expect(error).toContainText('The app is unaffected');

  // 2. The app keeps working: a rule-breaking library walks to the end; its violations are
  //    problems.
  await runWith('libsloppy_alloc.so');
  await expect(page.getByTestId('session-state')).toHaveText(/finished/, { timeout: 60_000 });
  await page.getByTestId('tab-allocations').click();
  await page.getByTestId('tab-problems').click();
  const chip = page.getByTestId(`problem-kind-${EventKind.ViolationUserAllocator}`);
  await expect(chip).toContainText('user allocator broke a rule');
  const allocations = Number(
    ((await page.getByTestId('count-allocations').textContent()) ?? '').replace(/[^0-9]/g, ''),
  );
  expect(allocations).toBeGreaterThan(0);
  await expect(chip).toContainText(`× ${allocations.toLocaleString('en-US')}`);
});
