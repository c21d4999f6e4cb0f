/**
 * The user's flow in the real UI, in Chromium against web mode: pick the fixture process in the
 * process picker, walk a new capture of it at a slow pace and watch the allocation count rise,
 * pause, step, finish at full speed, and see the live totals equal the session summary.
 * (data-testids are the renderer's: src-renderer/views.)
 */
import { expect, test } from '@playwright/test';
import { startFixture, type RunningFixture } from '../src-main/testing/fixture';
import { startWebMode, type WebMode } from './support/web-mode';
import { walkFlowThroughUi } from './support/ui-flow';

let web: WebMode;
let fixture: RunningFixture;
test.beforeAll(async () => {
  fixture = await startFixture({ threads: 6, pipes: 10, files: 10, maps: 100 });
  web = await startWebMode();
});
test.afterAll(async () => {
  await web?.stop();
  await fixture?.stop();
});

test('pick, walk slowly, pause, step, finish: live counts equal the summary', async ({ page }) => {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  await page.goto(web.url);
  await walkFlowThroughUi(page, fixture.pid);
  expect(problems).toEqual([]);
});
