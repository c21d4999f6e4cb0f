/**
 * The user's flow in the real UI, in Chromium against web mode: pick the fixture process in the
 * process picker, walk a new capture of it at a slow pace and watch the allocation count rise,
 * pause, step, finish at full speed, and see the live totals equal the session summary.
 * (data-testids are the renderer's: src-renderer/views.)
 */
import { expect, test, type Page } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFixture, type RunningFixture } from '../src-main/testing/fixture';
import { ROOT, startWebMode, type WebMode } from './support/web-mode';

const page_ = join(ROOT, 'out', 'renderer', 'index.html');
const uiBuilt = existsSync(page_) && /<script\b/i.test(readFileSync(page_, 'utf8'));
test.skip(
  !uiBuilt,
  'the renderer UI is not built into out/renderer yet (no app script in index.html)',
);

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

const num = async (page: Page, testId: string): Promise<number> =>
  Number(((await page.getByTestId(testId).textContent()) ?? '').replace(/[^0-9]/g, ''));

test('pick, walk slowly, pause, step, finish: live counts equal the summary', async ({ page }) => {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  await page.goto(web.url);
  await expect(page.getByTestId('view-processes')).toBeVisible();
  await page.getByTestId('process-search').fill(String(fixture.pid));
  await page.getByTestId(`process-row-${fixture.pid}`).click();
  await page.getByTestId('process-inspect').click();
  await expect(page.getByTestId('view-capture')).toBeVisible();
  await expect(page.getByTestId('capture-target')).toContainText(String(fixture.pid));

  await page.getByTestId('pace-mode-paced').click();
  await page.getByTestId('pace-rate').fill('25');
  await page.getByTestId('start-session-button').click();
  await expect(page.getByTestId('session-state')).toHaveText(/running/);

  // The walk proceeds slowly and the allocation count rises while it does.
  await expect.poll(() => num(page, 'count-allocations'), { timeout: 20_000 }).toBeGreaterThan(0);
  const a1 = await num(page, 'count-allocations');
  await expect.poll(() => num(page, 'count-allocations'), { timeout: 20_000 }).toBeGreaterThan(a1);

  await page.getByTestId('walk-pause').click();
  await expect(page.getByTestId('session-state')).toHaveText(/paused/);
  await page.waitForTimeout(500);
  const e1 = await num(page, 'count-events');
  await page.waitForTimeout(500);
  expect(await num(page, 'count-events')).toBe(e1);

  await page.getByTestId('walk-step').click();
  await expect.poll(() => num(page, 'count-events')).toBeGreaterThan(e1);
  await expect(page.getByTestId('session-state')).toHaveText(/paused/);

  await page.getByTestId('walk-speed').selectOption('run');
  await page.getByTestId('walk-play').click();
  await expect(page.getByTestId('session-state')).toHaveText(/finished/, { timeout: 60_000 });
  await expect(page.getByTestId('summary-card')).toBeVisible();
  for (const [live, summary] of [
    ['count-events', 'summary-events'],
    ['count-allocations', 'summary-allocations'],
    ['count-frees', 'summary-frees'],
  ] as const) {
    await expect
      .poll(() => num(page, live), { message: `${live} = ${summary}` })
      .toBe(await num(page, summary));
  }
  expect(await num(page, 'summary-allocations')).toBeGreaterThan(0);
  expect(problems).toEqual([]);
});
