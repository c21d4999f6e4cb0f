/**
 * Every count shown twice is one number (issue 10): after — and during — a walk with fault
 * injection, the session bar's "problems", the Allocations tab's badge and the Problems panel
 * agree; FINISHED appears only next to final numbers (those of the host's summary).
 */
import { expect, test, type Page } from '@playwright/test';
import { startFixture, type RunningFixture } from '../src-main/testing/fixture';
import { startWebMode, type WebMode } from './support/web-mode';

let web: WebMode;
let fixture: RunningFixture;
test.beforeAll(async () => {
  fixture = await startFixture({ threads: 5, pipes: 6, files: 8, maps: 120 });
  web = await startWebMode();
});
test.afterAll(async () => {
  await web?.stop();
  await fixture?.stop();
});

const digits = (s: string | null | undefined): number | null => {
  const m = /\d[\d,]*/.exec(s ?? '');
  return m ? Number(m[0].replace(/,/g, '')) : null;
};

/** Runs in the page (a string: e2e is compiled without the DOM library). */
const COUNTS_PROBE = `['count-problems', 'tab-badge-allocations', 'problems-count'].map(
  (id) => document.querySelector('[data-testid="' + id + '"]')?.textContent ?? null)`;

/** The three problem counts, read in one go (one committed render). */
async function problemCounts(page: Page): Promise<{ bar: number; badge: number; panel: number }> {
  const [bar, badge, panel] = (await page.evaluate(COUNTS_PROBE)) as (string | null)[];
  // the badge is absent while there are no problems
  return { bar: digits(bar) ?? -1, badge: digits(badge) ?? 0, panel: digits(panel) ?? -1 };
}

test('the bar, the tab badge and the problems panel show the same number, during and after a fault-injection walk', async ({
  page,
}) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(web.url);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-status', 'connected');
  await page.getByTestId('process-search').fill(String(fixture.pid));
  await page.getByTestId(`process-row-${fixture.pid}`).click();
  await page.getByTestId('process-inspect').click();
  await expect(page.getByTestId('view-capture')).toBeVisible();
  await page.getByTestId('allocator-strategy-heap').click();
  await page.getByTestId('allocator-faulty').check();
  await page.getByTestId('allocator-fail-nth').fill('7, 40, 90');
  await page.getByTestId('allocator-fail-probability').fill('0');
  await page.getByTestId('on-failure').selectOption('retry');
  await page.getByTestId('pace-mode-paced').click();
  await page.getByTestId('pace-rate').fill('100');
  await page.getByTestId('start-session-button').click();
  await expect(page.getByTestId('view-walk')).toBeVisible();
  await page.getByTestId('tab-allocations').click();
  await page.getByTestId('tab-problems').click();
  await expect(page.getByTestId('problems-panel')).toBeVisible();

  // While it runs: every sample agrees, whatever moment it is taken at.
  let samples = 0;
  let sawProblems = false;
  let sped = false;
  while (!/finished$/.test((await page.getByTestId('session-state').textContent()) ?? '')) {
    const c = await problemCounts(page);
    expect(c.badge, JSON.stringify(c)).toBe(c.bar);
    expect(c.panel, JSON.stringify(c)).toBe(c.bar);
    if (c.bar > 0) sawProblems = true;
    samples++;
    if (sawProblems && samples > 20 && !sped) {
      sped = true;
      await page.getByTestId('walk-speed').selectOption('run');
    }
    await page.waitForTimeout(50);
  }
  expect(sawProblems).toBe(true);

  // Finished: final numbers, equal everywhere, equal to the host's summary.
  const final = await problemCounts(page);
  expect(final.bar).toBeGreaterThanOrEqual(3); // the three injected failures
  expect(final.badge).toBe(final.bar);
  expect(final.panel).toBe(final.bar);
  expect(Number(await page.getByTestId('problems-table').getAttribute('data-rows'))).toBe(
    final.bar,
  );
  const allocs = digits(await page.getByTestId('count-allocations').textContent());
  const failures = digits(await page.getByTestId('count-failures').textContent());
  await page.getByTestId('tab-walk').click();
  await expect(page.getByTestId('summary-card')).toBeVisible();
  expect(digits(await page.getByTestId('summary-allocations').textContent())).toBe(allocs);
  expect(digits(await page.getByTestId('summary-failures').textContent())).toBe(failures);
  expect(failures).toBe(3);
  // …and the position says how the walk ended, not "not started".
  await expect(page.getByTestId('walk-current')).toContainText(/walk finished: walked \d+ of \d+/);
  expect(errors).toEqual([]);
});
