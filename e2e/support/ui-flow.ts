/**
 * The user's flow in the real UI (the renderer's data-testids, src-renderer/views), shared by
 * the web-mode and Electron specs: pick the process in the picker, walk a new capture of it at a
 * slow pace and watch the allocation count rise, pause, step, finish at full speed, and check
 * the live totals equal the session summary.
 */
import { expect, type Page } from '@playwright/test';

const num = async (page: Page, testId: string): Promise<number> =>
  Number(((await page.getByTestId(testId).textContent()) ?? '').replace(/[^0-9]/g, ''));

export async function walkFlowThroughUi(page: Page, pid: number): Promise<void> {
  await expect(page.getByTestId('view-processes')).toBeVisible();
  await page.getByTestId('process-search').fill(String(pid));
  await page.getByTestId(`process-row-${pid}`).click();
  await page.getByTestId('process-inspect').click();
  await expect(page.getByTestId('view-capture')).toBeVisible();
  await expect(page.getByTestId('capture-target')).toContainText(String(pid));

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
}
