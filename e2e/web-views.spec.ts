/**
 * Every view of the app, reached by clicking as a user would, in Chromium against web mode and
 * the fixture process; each main view is checked against the fixture's ground truth and
 * screenshotted (test-results/screenshots/NAME.png, light and dark).
 */
import { expect, test, type Page } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startFixture, type RunningFixture } from '../src-main/testing/fixture';
import { ROOT, startWebMode, type WebMode } from './support/web-mode';

const SHOTS = join(ROOT, 'test-results', 'screenshots');
let web: WebMode;
let fixture: RunningFixture;
test.beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  fixture = await startFixture({
    threads: 7,
    eventfds: 6,
    pipes: 8,
    sockets: 4,
    memfds: 3,
    files: 12,
    dirs: 2,
    timerfds: 2,
    epolls: 1,
    pidfds: 1,
    maps: 300,
  });
  web = await startWebMode();
});
test.afterAll(async () => {
  await web?.stop();
  await fixture?.stop();
});

const num = async (page: Page, testId: string): Promise<number> =>
  Number(((await page.getByTestId(testId).textContent()) ?? '').replace(/[^0-9]/g, ''));

async function shot(page: Page, name: string): Promise<void> {
  await page.waitForTimeout(300); // a frame or two for the canvases
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

for (const scheme of ['light', 'dark'] as const) {
  test(`every view by clicking, screenshots (${scheme})`, async ({ browser }) => {
    const page = await browser.newPage({
      viewport: { width: 1280, height: 800 },
      colorScheme: scheme,
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(web.url);
    await expect(page.getByTestId('connection-status')).toHaveAttribute('data-status', 'connected');

    // Processes: the fixture is listed with its thread count.
    await expect(page.getByTestId('view-processes')).toBeVisible();
    await page.getByTestId('process-search').fill(String(fixture.pid));
    const row = page.getByTestId(`process-row-${fixture.pid}`);
    await expect(row).toContainText('pss-fixture');
    await expect(row).toContainText(String(fixture.truth.tids.length));
    await shot(page, `processes-${scheme}`);

    // Capture panel → capture → snapshot explorer.
    await row.click();
    await page.getByTestId('process-inspect').click();
    await expect(page.getByTestId('view-capture')).toBeVisible();
    await shot(page, `capture-${scheme}`);
    await page.getByTestId('capture-button').click();
    await expect(page.getByTestId('view-snapshot')).toBeVisible();
    await expect(page.getByTestId('process-info')).toContainText(String(fixture.pid));
    await shot(page, `snapshot-process-${scheme}`);
    await page.getByTestId('snap-tab-threads').click();
    await expect(page.getByTestId('threads-table')).toHaveAttribute(
      'data-rows',
      String(fixture.truth.tids.length),
    );
    await shot(page, `snapshot-threads-${scheme}`);
    await page.getByTestId('snap-tab-handles').click();
    await expect(page.getByTestId('handles-table')).toHaveAttribute(
      'data-rows',
      String(fixture.truth.fds.length),
    );
    const eventfd = fixture.truth.fds.find((f) => f.kind === 'eventfd');
    if (eventfd) await expect(page.getByTestId(`handle-row-${eventfd.fd}`)).toBeAttached();
    await shot(page, `snapshot-handles-${scheme}`);
    await page.getByTestId('snap-tab-va').click();
    await expect(page.getByTestId('va-map')).toBeVisible();
    await expect(page.getByTestId('va-by-type')).toContainText('Mapped');
    expect(Number(await page.getByTestId('va-table').getAttribute('data-rows'))).toBeGreaterThan(
      fixture.truth.maps.length,
    );
    await shot(page, `snapshot-va-${scheme}`);

    // A guard walk with fault injection that retries, to the end.
    await page.getByTestId('tab-capture').click();
    await page.getByTestId('allocator-strategy-guard').click();
    await page.getByTestId('allocator-faulty').check();
    await page.getByTestId('allocator-fail-nth').fill('7, 40');
    await page.getByTestId('allocator-fail-probability').fill('0');
    await page.getByTestId('on-failure').selectOption('retry');
    // Slow enough that the walk is still running when the screenshot is taken and full speed
    // is chosen, however loaded the machine (at 200 entries/s it once ended before that).
    await page.getByTestId('pace-mode-paced').click();
    await page.getByTestId('pace-rate').fill('20');
    await page.getByTestId('start-session-button').click();
    await expect(page.getByTestId('view-walk')).toBeVisible();
    await expect
      .poll(() => num(page, 'count-allocations'), { timeout: 30_000 })
      .toBeGreaterThan(10);
    await shot(page, `walk-running-${scheme}`);
    await page.getByTestId('walk-speed').selectOption('run');
    await expect(page.getByTestId('session-state')).toHaveText(/finished/, { timeout: 60_000 });
    await expect(page.getByTestId('summary-card')).toBeVisible();
    expect(await num(page, 'summary-failures')).toBe(2);
    await shot(page, `walk-finished-${scheme}`);

    // Allocations: timeline, block map, event log, problems (the two injected failures), sizes.
    await page.getByTestId('tab-allocations').click();
    await expect(page.getByTestId('timeline')).toBeVisible();
    await expect(page.getByTestId('block-map')).toBeVisible();
    await shot(page, `allocations-events-${scheme}`);
    await page.getByTestId('tab-problems').click();
    await expect(page.getByTestId('problems-panel')).toBeVisible();
    const firstProblem = page.locator('[data-testid^=problem-row-]').first();
    await expect(firstProblem).toBeVisible();
    await firstProblem.click();
    await expect(page.getByTestId('selected-event')).toContainText(/fail/i);
    await shot(page, `allocations-problems-${scheme}`);
    await page.getByTestId('tab-sizes').click();
    await expect(page.getByTestId('size-histogram')).toBeVisible();
    await shot(page, `allocations-sizes-${scheme}`);

    // Compare: a process that opens a file between two captures; the diff shows that handle.
    const changer = spawn(
      'bash',
      ['-c', 'trap "exec 7</etc/hostname" USR1; while :; do sleep 0.05; done'],
      { stdio: 'ignore' },
    );
    const changerExited = new Promise((r) => changer.once('exit', r));
    try {
      const pid = changer.pid as number;
      await page.getByTestId('tab-processes').click();
      await page.getByTestId('process-refresh').click();
      await page.getByTestId('process-search').fill(String(pid));
      await page.getByTestId(`process-row-${pid}`).click();
      await page.getByTestId('process-inspect').click();
      await page.getByTestId('capture-button').click();
      await expect(page.getByTestId('view-snapshot')).toBeVisible();
      changer.kill('SIGUSR1');
      await expect.poll(() => readdirSync(`/proc/${pid}/fd`).includes('7')).toBe(true);
      await page.getByTestId('snapshot-recapture').click();
      await page.getByTestId('tab-compare').click();
      await expect(page.getByTestId('view-compare')).toBeVisible();
      await page.getByTestId('compare-run').click();
      await page.getByTestId('compare-tab-handles').click();
      await expect(page.getByTestId('compare-count-added')).toHaveText('1');
      await expect(page.getByTestId('compare-table')).toContainText('/etc/hostname');
      await shot(page, `compare-${scheme}`);
    } finally {
      changer.kill('SIGKILL');
      await changerExited;
    }
    expect(errors).toEqual([]);
    await page.close();
  });
}
