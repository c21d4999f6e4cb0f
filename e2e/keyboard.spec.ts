/**
 * The whole flow with the keyboard only, in Chromium against web mode and the fixture process:
 * pick the process → capture → choose an allocator strategy → walk → pause and step →
 * allocations → snapshot → compare, with Tab, arrows, Enter, Space and the app's shortcuts —
 * no click anywhere. Every control Tab lands on shows a visible focus indicator.
 */
import { expect, test, type Page } from '@playwright/test';
import { startFixture, type RunningFixture } from '../src-main/testing/fixture';
import { startWebMode, type WebMode } from './support/web-mode';

let web: WebMode;
let fixture: RunningFixture;
test.beforeAll(async () => {
  fixture = await startFixture({ threads: 3, pipes: 4, files: 4, maps: 40 });
  web = await startWebMode();
});
test.afterAll(async () => {
  await web?.stop();
  await fixture?.stop();
});

/** The focused element's test id, and whether its focus can be seen (outline or ring). */
const FOCUS_PROBE = `(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return { id: null, visible: false, tag: 'body' };
  const ring = (e) => {
    const s = getComputedStyle(e);
    return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
  };
  const card = el.closest('.strategy-card');
  return {
    id: el.getAttribute('data-testid'),
    visible: ring(el) || (card !== null && ring(card)),
    tag: el.tagName + (el.getAttribute('role') ? '[' + el.getAttribute('role') + ']' : ''),
  };
})()`;

interface Focus {
  id: string | null;
  visible: boolean;
  tag: string;
}
const focused = async (page: Page): Promise<Focus> => (await page.evaluate(FOCUS_PROBE)) as Focus;

/** Presses Tab until the element with this test id has focus; each stop must show its focus. */
async function tabTo(page: Page, testId: string, max = 40): Promise<void> {
  const seen: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    seen.push(`${f.id ?? f.tag}${f.visible ? '' : ' (focus not visible)'}`);
    if (f.tag === 'body') continue; // past the last control: the browser's own UI, then around
    expect(f.visible, `focus is visible on ${f.id ?? f.tag} (went: ${seen.join(' → ')})`).toBe(
      true,
    );
    if (f.id === testId) return;
  }
  throw new Error(`Tab never reached ${testId}; it went: ${seen.join(' → ')}`);
}

const num = async (page: Page, testId: string): Promise<number> =>
  Number(((await page.getByTestId(testId).textContent()) ?? '').replace(/[^0-9]/g, ''));

test('pick → capture → strategy → walk → pause/step → allocations → snapshot → compare, keys only', async ({
  page,
}) => {
  test.setTimeout(180_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(web.url);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-status', 'connected');

  // Processes: the search box has focus; type the pid, go to the table, select, Enter.
  await expect(page.getByTestId('process-search')).toBeFocused();
  await page.keyboard.type(String(fixture.pid));
  await expect(page.getByTestId('process-table')).toHaveAttribute('data-rows', '1');
  await tabTo(page, 'process-table');
  await page.keyboard.press('ArrowDown');
  await expect(page.getByTestId(`process-row-${fixture.pid}`)).toHaveAttribute(
    'aria-selected',
    'true',
  );
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('view-capture')).toBeVisible();
  await expect(page.getByTestId('capture-target')).toContainText(String(fixture.pid));
  // Focus moved into the new view (not left on the page's body).
  expect((await focused(page)).tag).not.toBe('body');

  // Capture: Tab to the button, Enter → the snapshot explorer.
  await tabTo(page, 'capture-button');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('view-snapshot')).toBeVisible();
  await expect(page.getByTestId('process-info')).toContainText(String(fixture.pid));

  // Back to Capture (Alt+2), choose the pool strategy with the arrow keys in its radio group.
  await page.keyboard.press('Alt+2');
  await expect(page.getByTestId('view-capture')).toBeVisible();
  await expect(page.getByTestId('tab-capture')).toBeFocused();
  await tabTo(page, 'allocator-strategy-heap-radio', 80);
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('allocator-strategy-pool-radio')).toBeFocused();
  await expect(page.getByTestId('allocator-strategy-pool-radio')).toBeChecked();
  await expect(page.getByTestId('allocator-summary')).toContainText(/pool/i);

  // A slow pace, so there is time to pause; Start walk with Enter.
  await tabTo(page, 'pace-rate', 60);
  await page.keyboard.press('Control+A');
  await page.keyboard.type('5');
  await expect(page.getByTestId('pace-rate')).toHaveValue('5');
  // Start walk is before the flags in the tab order: go back to the top with Alt+2.
  await page.keyboard.press('Alt+2');
  await tabTo(page, 'start-session-button');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('view-walk')).toBeVisible();
  await expect(page.getByTestId('session-state')).toHaveText(/running/, { timeout: 30_000 });
  await expect(page.getByTestId('session-bar')).toContainText(/pool/i);
  await expect.poll(() => num(page, 'count-events'), { timeout: 30_000 }).toBeGreaterThan(0);

  // Space pauses; → steps one entry (events arrive, the state stays paused); B saves a position.
  await page.keyboard.press('Space');
  await expect(page.getByTestId('session-state')).toHaveText(/paused/);
  const before = await num(page, 'count-events');
  await page.keyboard.press('ArrowRight');
  await expect.poll(() => num(page, 'count-events')).toBeGreaterThan(before);
  await expect(page.getByTestId('session-state')).toHaveText(/paused/);
  await page.keyboard.press('b');
  await expect(page.locator('[data-testid^=bookmark-restore-]')).toHaveCount(1);
  await expect(page.getByTestId('bookmarks')).toContainText(/(Threads|Handles|VA space) #\d+/);
  // The live region said so.
  await expect(page.getByTestId('announcer')).toContainText(/Position saved/);

  // Allocations (Alt+4): Tab into the event log, ↓ selects an event.
  await page.keyboard.press('Alt+4');
  await expect(page.getByTestId('view-allocations')).toBeVisible();
  await tabTo(page, 'eventlog-table', 60);
  await page.keyboard.press('Home');
  await expect(page.getByTestId('selected-event')).toBeVisible();
  await page.keyboard.press('ArrowDown');
  await expect(page.getByTestId('event-row-1')).toHaveAttribute('aria-selected', 'true');

  // Finish the walk at full speed: Tab to the speed select, End picks "full speed"; then
  // back to the view's tab and Tab to Play, Enter.
  await page.keyboard.press('Alt+4');
  await tabTo(page, 'walk-speed');
  await page.keyboard.press('End');
  await expect(page.getByTestId('walk-speed')).toHaveValue('run');
  await page.keyboard.press('Alt+4');
  await tabTo(page, 'walk-play');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('session-state')).toHaveText(/finished/, { timeout: 60_000 });

  // Snapshot (Alt+5): capture again, then Compare… with the two snapshots, and run it.
  await page.keyboard.press('Alt+5');
  await expect(page.getByTestId('view-snapshot')).toBeVisible();
  await tabTo(page, 'snapshot-recapture');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('snapshot-select').locator('option')).toHaveCount(2);
  await page.keyboard.press('Alt+5');
  await tabTo(page, 'snapshot-compare');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('view-compare')).toBeVisible();
  await tabTo(page, 'compare-run');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('compare-table')).toBeVisible();
  // Sub-tabs by arrows (the selected one is the tab stop): Home → Threads, → Handles.
  const selectedTab = page.locator('[data-testid^=compare-tab-][aria-selected=true]');
  await tabTo(page, (await selectedTab.getAttribute('data-testid')) ?? 'compare-tab-threads');
  await page.keyboard.press('Home');
  await expect(page.getByTestId('compare-tab-threads')).toBeFocused();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('compare-tab-handles')).toBeFocused();
  await expect(page.getByTestId('compare-tab-handles')).toHaveAttribute('aria-selected', 'true');

  // ? opens the shortcut list (focus inside it), Esc closes it and focus comes back.
  await page.keyboard.press('?');
  await expect(page.getByTestId('help-dialog')).toBeVisible();
  await expect(page.getByTestId('help-dialog')).toContainText('Alt+1');
  await expect(page.getByTestId('help-close')).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('help-dialog')).toHaveCount(0);
  await expect(page.getByTestId('compare-tab-handles')).toBeFocused();

  expect(errors).toEqual([]);
});
