/**
 * Nothing confusing left over between sessions, in Chromium against web mode: an error banner
 * and an event-log filter from one session are gone when the next one starts; an exported
 * trace opened again is marked as imported; the Snapshot tab's "Walk this snapshot…" shows the
 * allocator choice (Capture tab, this snapshot as the target) instead of starting at once.
 */
import { expect, test } from '@playwright/test';
import { startFixture, type RunningFixture } from '../src-main/testing/fixture';
import { startWebMode, type WebMode } from './support/web-mode';

let web: WebMode;
let fixture: RunningFixture;
test.beforeAll(async () => {
  fixture = await startFixture({ threads: 2, pipes: 2, files: 2, maps: 20 });
  web = await startWebMode();
});
test.afterAll(async () => {
  await web?.stop();
  await fixture?.stop();
});

test('a new session clears the old banner and filter; imports are marked; walking a snapshot shows the choice', async ({
  page,
}) => {
  test.setTimeout(180_000);
  await page.goto(web.url);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-status', 'connected');
  await page.getByTestId('process-search').fill(String(fixture.pid));
  await page.getByTestId(`process-row-${fixture.pid}`).dblclick();
  await expect(page.getByTestId('view-capture')).toBeVisible();
  await page.getByTestId('pace-mode-run').check();
  await page.getByTestId('start-session-button').click();
  await expect(page.getByTestId('session-state')).toHaveText(/finished/, { timeout: 60_000 });

  // A filter on the event log, and an error banner (a file that is no trace).
  await page.getByTestId('tab-allocations').click();
  await page.getByTestId('eventlog-op-free').click();
  await expect(page.getByTestId('eventlog-count')).toContainText(' of ');
  await page.getByTestId('open-trace-input').setInputFiles({
    name: 'not-a-trace.psstrace',
    mimeType: 'application/octet-stream',
    buffer: Buffer.from('this is not a trace'),
  });
  await expect(page.getByTestId('banner-error')).toBeVisible();

  // The next session starts clean.
  await page.getByTestId('tab-capture').click();
  await page.getByTestId('start-session-button').click();
  await expect(page.getByTestId('session-state')).toHaveText(/running|finished/);
  await expect(page.getByTestId('banner-error')).toHaveCount(0);
  await expect(page.getByTestId('session-state')).toHaveText(/finished/, { timeout: 60_000 });
  await page.getByTestId('tab-allocations').click();
  await expect(page.getByTestId('eventlog-op-free')).toHaveAttribute('aria-pressed', 'false');
  await expect(page.getByTestId('eventlog-count')).not.toContainText(' of ');
  await expect(page.getByTestId('session-imported')).toHaveCount(0);

  // Export the trace, open it again: the session says it is imported, and from which file.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('header-export-trace').click(),
  ]);
  const file = await download.path();
  await page.getByTestId('open-trace-input').setInputFiles(file);
  await expect(page.getByTestId('session-imported')).toBeVisible();
  await expect(page.getByTestId('session-imported')).toContainText('imported');

  // Snapshot → "Walk this snapshot…" goes to the Capture tab with the snapshot as the target;
  // nothing starts until Start walk.
  await page.getByTestId('tab-capture').click();
  await page.getByTestId('capture-button').click();
  await expect(page.getByTestId('view-snapshot')).toBeVisible();
  const snapId = await page.getByTestId('snapshot-select').inputValue();
  await page.getByTestId('snapshot-walk').click();
  await expect(page.getByTestId('view-capture')).toBeVisible();
  await expect(page.getByTestId('walk-target')).toHaveValue(snapId);
  await expect(page.getByTestId('start-session-button')).toContainText(`Walk snapshot ${snapId}`);
  await page.getByTestId('start-session-button').click();
  await expect(page.getByTestId('session-state')).toHaveText(/finished/, { timeout: 60_000 });
  await expect(page.getByTestId('session-imported')).toHaveCount(0);
});
