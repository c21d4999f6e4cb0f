/**
 * Every count shown twice is one number (issue 10): after — and during — a walk with fault
 * injection, the session bar's "problems", the Allocations tab's badge and the Problems panel
 * agree; FINISHED appears only next to final numbers (those of the host's summary). The time
 * cursor shows the ledger's state at the chosen event.
 */
import { expect, test, type Page } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBatchView } from '../src-shared/events/batch';
import { Ledger } from '../src-shared/ledger/ledger';
import { openTraceFile } from '../src-main/trace/open-trace';
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

/** Opens the app, picks the fixture and inspects it; returns the page errors seen from then on. */
async function inspectFixture(page: Page): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(web.url);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-status', 'connected');
  await page.getByTestId('process-search').fill(String(fixture.pid));
  await page.getByTestId(`process-row-${fixture.pid}`).click();
  await page.getByTestId('process-inspect').click();
  return errors;
}

test('the bar, the tab badge and the problems panel show the same number, during and after a fault-injection walk', async ({
  page,
}) => {
  const errors = await inspectFixture(page);
  await expect(page.getByTestId('view-capture')).toBeVisible();
  await page.getByTestId('allocator-strategy-heap').click();
  await page.getByTestId('allocator-faulty').check();
  await page.getByTestId('allocator-fail-nth').fill('7, 40, 90');
  await page.getByTestId('allocator-fail-probability').fill('0');
  await page.getByTestId('on-failure').selectOption('retry');
  await page.getByTestId('pace-mode-paced').click();
  // 10 events a second: slow enough that samples are taken while the walk runs even when a
  // loaded machine makes each sample slow (at 100 a loop run saw the walk end before its first
  // sample); it is switched to full speed once problems were seen.
  await page.getByTestId('pace-rate').fill('10');
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
    if (sawProblems && samples > 10 && !sped) {
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

const CANVAS_PROBE = `document.querySelector('[data-testid="blockmap-canvas"]').toDataURL()`;

test('moving the time cursor shows the block map and the live set as the ledger has them at that event', async ({
  page,
}) => {
  const errors = await inspectFixture(page);
  await page.getByTestId('allocator-strategy-heap').click();
  await page.getByTestId('pace-mode-run').click();
  await page.getByTestId('start-session-button').click();
  await page.getByTestId('tab-allocations').click();
  await expect(page.getByTestId('session-state')).toHaveText(/finished$/, { timeout: 60_000 });
  await page.getByTestId('tab-live').click();

  // The ledger of the session, folded here from the exported trace's events.
  const download = page.waitForEvent('download');
  await page.getByTestId('header-export-trace').click();
  const dir = mkdtempSync(join(tmpdir(), 'pss-cursor-'));
  const file = join(dir, 'walk.psstrace');
  await (await download).saveAs(file);
  const trace = openTraceFile(file);
  const ledger = new Ledger();
  let best = { at: 0, blocks: -1, bytes: 0 };
  try {
    trace.forEachBatch((_first, records) => {
      const v = new EventBatchView(records);
      for (let i = 0; i < v.count; i++) {
        ledger.fold(v, i, i + 1);
        if (ledger.liveBlockCount > best.blocks)
          best = { at: ledger.events, blocks: ledger.liveBlockCount, bytes: ledger.liveBytes };
      }
    });
  } finally {
    trace.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const total = ledger.events;
  expect(best.blocks).toBeGreaterThan(0);

  // The fold runs in the page's analysis worker, not on its UI thread.
  expect(page.workers().some((w) => /analysis\.worker/.test(w.url()))).toBe(true);

  // Now: every event, the final live set.
  const map = page.getByTestId('block-map');
  await expect(map).toHaveAttribute('data-events', String(total));
  await expect(map).toHaveAttribute('data-live-blocks', String(ledger.liveBlockCount));
  await expect(map).toHaveAttribute('data-complete', 'true');
  const nowPixels = (await page.evaluate(CANVAS_PROBE)) as string;

  // The cursor at the moment the most blocks were live: that state, drawn.
  await page.getByTestId('time-cursor').fill(String(best.at));
  await expect(map).toHaveAttribute('data-events', String(best.at));
  await expect(map).toHaveAttribute('data-live-blocks', String(best.blocks));
  await expect(map).toHaveAttribute('data-live-bytes', String(best.bytes));
  await expect(map).toHaveAttribute('data-complete', 'true');
  await expect(page.getByTestId('blockmap-live-legend')).toContainText('at the time cursor');
  await expect(page.getByTestId('live-blocks-table')).toHaveAttribute(
    'data-rows',
    String(best.blocks),
  );
  await expect(page.getByTestId('time-cursor-label')).toContainText(`after event #`);
  expect(await page.evaluate(CANVAS_PROBE)).not.toBe(nowPixels);

  // Back to now.
  await page.getByTestId('time-cursor-now').click();
  await expect(map).toHaveAttribute('data-events', String(total));
  await expect(map).toHaveAttribute('data-live-blocks', String(ledger.liveBlockCount));
  await expect(page.getByTestId('live-blocks-table')).toHaveAttribute(
    'data-rows',
    String(ledger.liveBlockCount),
  );
  expect(errors).toEqual([]);
});
