/**
 * Accessibility and layout of every view, in Chromium against web mode and the fixture process:
 * axe-core (WCAG 2.1 A/AA rules) finds no serious or critical violation on any view, in the
 * light and dark themes, at 1024×700 and 1600×900; no view scrolls the page sideways or puts a
 * header control off screen, also at 200 % zoom (a 1280-px window at 200 % is 640 CSS px) and
 * at 2560×1440; and every view is screenshotted at each size (test-results/screenshots/a11y/).
 * The snapshot views are seen for a capture without and one with the memory usage (smaps), whose
 * VA space adds seven columns to the type summary. The tabs' accessible names keep the label and
 * its badge apart ("Walk, finished", never "Walkfinished").
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startFixture, type RunningFixture } from '../src-main/testing/fixture';
import { ROOT, startWebMode, type WebMode } from './support/web-mode';

const SHOTS = join(ROOT, 'test-results', 'screenshots', 'a11y');
// One page, set up once (a selected process, two snapshots, a finished walk with failures, a
// compared pair); each theme × width is its own test over it.
test.describe.configure({ mode: 'serial' });
let web: WebMode;
let fixture: RunningFixture;
let context: BrowserContext;
let page: Page;
const errors: string[] = [];
// The snapshot captured without the memory usage, and the one captured with it.
let plainSnap = '';
let usageSnap = '';

interface Finding {
  where: string;
  rule: string;
  impact: string;
  help: string;
  targets: string[];
}

async function axe(page: Page, where: string, out: Finding[]): Promise<void> {
  const r = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
    // Details of violations only: building them for every passing node is most of axe's time.
    .options({ resultTypes: ['violations'] })
    .analyze();
  for (const v of r.violations) {
    if (v.impact !== 'serious' && v.impact !== 'critical') continue;
    out.push({
      where,
      rule: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 4).map((n) => `${n.target.join(' ')} :: ${n.failureSummary ?? ''}`),
    });
  }
}

/**
 * Nothing sideways: the page does not scroll horizontally and no header or walk control is off
 * screen or clipped. Runs in the page (a string, as this project's node-side TypeScript has no
 * DOM types).
 */
const LAYOUT_PROBE = `(() => {
  const p = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth + 1)
    p.push('page scrolls sideways (' + doc.scrollWidth + ' > ' + doc.clientWidth + ')');
  const vw = doc.clientWidth;
  const sel = 'header button, header [role=status], .session-bar button, .session-bar select, .modal button';
  for (const el of document.querySelectorAll(sel)) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const name = el.dataset.testid || el.textContent;
    if (r.right > vw + 1 || r.left < -1)
      p.push(name + ' is outside the window (' + r.left + '-' + r.right + ' of ' + vw + ')');
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX === 'hidden' || s.overflowX === 'clip') {
        const ar = a.getBoundingClientRect();
        if (r.right > ar.right + 1 || r.left < ar.left - 1)
          p.push(name + ' is clipped by .' + a.className);
        break;
      }
    }
  }
  return p;
})()`;

/** Columns of the VA summaries outside their box or the window (by the header's text). */
const VA_SUMMARY_PROBE = `(() => {
  const p = [];
  const vw = document.documentElement.clientWidth;
  for (const box of document.querySelectorAll('.va-summary-box')) {
    const br = box.getBoundingClientRect();
    if (box.scrollWidth > box.clientWidth + 1)
      p.push(box.getAttribute('aria-label') + ' scrolls sideways');
    for (const th of box.querySelectorAll('th')) {
      const r = th.getBoundingClientRect();
      if (r.right > Math.min(vw, br.right) + 1 || r.left < br.left - 1)
        p.push(th.textContent + ' of ' + box.getAttribute('aria-label') + ' is cut off');
    }
  }
  return p;
})()`;

async function layout(page: Page, where: string, out: string[]): Promise<void> {
  const problems = (await page.evaluate(LAYOUT_PROBE)) as string[];
  for (const x of problems) out.push(`${where}: ${x}`);
}

async function shot(page: Page, name: string): Promise<void> {
  // Two frames for the canvases.
  await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

test.beforeAll(async ({ browser }) => {
  test.setTimeout(240_000);
  mkdirSync(SHOTS, { recursive: true });
  fixture = await startFixture({ threads: 4, pipes: 4, files: 6, eventfds: 2, maps: 60 });
  web = await startWebMode();
  context = await browser.newContext({ viewport: { width: 1600, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(web.url);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-status', 'connected');

  await page.getByTestId('process-search').fill(String(fixture.pid));
  await page.getByTestId(`process-row-${fixture.pid}`).click();
  await page.getByTestId('process-inspect').click();
  await page.getByTestId('capture-button').click();
  await expect(page.getByTestId('view-snapshot')).toBeVisible();
  await page.getByTestId('snapshot-recapture').click();
  await expect(page.getByTestId('snapshot-select').locator('option')).toHaveCount(2);
  await page.getByTestId('tab-capture').click();
  await page.getByTestId('allocator-strategy-guard').click();
  await page.getByTestId('allocator-faulty').check();
  await page.getByTestId('allocator-fail-nth').fill('5, 9');
  await page.getByTestId('allocator-fail-probability').fill('0');
  await page.getByTestId('on-failure').selectOption('retry');
  await page.getByTestId('pace-mode-run').check();
  await page.getByTestId('start-session-button').click();
  await expect(page.getByTestId('session-state')).toHaveText(/finished/, { timeout: 60_000 });
  await page.getByTestId('walk-save-position').isDisabled();
  await page.getByTestId('tab-compare').click();
  await page.getByTestId('compare-run').click();
  await expect(page.getByTestId('compare-table')).toBeVisible();
  // A third snapshot, with the memory usage; the views pick which one they show.
  await page.getByTestId('tab-snapshot').click();
  plainSnap = await page.getByTestId('snapshot-select').inputValue();
  await page.getByTestId('tab-capture').click();
  await page.getByTestId('capture-usage').check();
  await page.getByTestId('capture-button').click();
  await expect(page.getByTestId('snapshot-select').locator('option')).toHaveCount(3);
  usageSnap = await page.getByTestId('snapshot-select').inputValue();
  expect(usageSnap).not.toBe(plainSnap);
});
test.afterAll(async () => {
  await context?.close();
  await web?.stop();
  await fixture?.stop();
});

const VIEWS: { name: string; open: (page: Page) => Promise<void> }[] = [
  { name: 'processes', open: (p) => p.getByTestId('tab-processes').click() },
  { name: 'capture', open: (p) => p.getByTestId('tab-capture').click() },
  { name: 'walk', open: (p) => p.getByTestId('tab-walk').click() },
  {
    name: 'allocations-events',
    open: async (p) => {
      await p.getByTestId('tab-allocations').click();
      await p.getByTestId('tab-events').click();
    },
  },
  { name: 'allocations-problems', open: (p) => p.getByTestId('tab-problems').click() },
  { name: 'allocations-sizes', open: (p) => p.getByTestId('tab-sizes').click() },
  {
    name: 'allocations-live',
    open: async (p) => {
      await p.getByTestId('tab-live').click();
      // Halfway through the walk, when blocks are live (the later views keep this cursor).
      const max = Number(await p.getByTestId('time-cursor').getAttribute('max'));
      await p.getByTestId('time-cursor').fill(String(Math.floor(max / 2)));
      await expect(p.getByTestId('live-blocks-count')).not.toHaveText(/^0 /);
    },
  },
  {
    name: 'snapshot-process',
    open: async (p) => {
      await p.getByTestId('tab-snapshot').click();
      await p.getByTestId('snapshot-select').selectOption(plainSnap);
      await p.getByTestId('snap-tab-process').click();
    },
  },
  { name: 'snapshot-threads', open: (p) => p.getByTestId('snap-tab-threads').click() },
  { name: 'snapshot-handles', open: (p) => p.getByTestId('snap-tab-handles').click() },
  {
    name: 'snapshot-va',
    open: async (p) => {
      await p.getByTestId('snap-tab-va').click();
      await expect(p.getByTestId('va-by-type')).not.toContainText('Working set');
    },
  },
  {
    name: 'snapshot-va-usage',
    open: async (p) => {
      await p.getByTestId('snapshot-select').selectOption(usageSnap);
      await p.getByTestId('snap-tab-va').click();
      await expect(p.getByTestId('va-by-type')).toContainText('Locked');
      await expect(p.getByTestId('usage-rollup')).toBeVisible();
      // From 1024 px every column of both summaries is in view, none scrolled away.
      if ((p.viewportSize()?.width ?? 0) >= 1024) {
        const hidden = (await p.evaluate(VA_SUMMARY_PROBE)) as string[];
        expect(hidden).toEqual([]);
      }
    },
  },
  {
    name: 'snapshot-modules',
    open: async (p) => {
      await p.getByTestId('snap-tab-modules').click();
      await expect(p.getByTestId('modules-table')).toContainText('libc');
    },
  },
  { name: 'compare', open: (p) => p.getByTestId('tab-compare').click() },
  {
    name: 'about',
    open: async (p) => {
      await p.getByTestId('about-button').click();
      await expect(p.getByTestId('about-dialog')).toBeVisible();
    },
  },
  {
    name: 'help',
    open: async (p) => {
      await p.getByTestId('help-button').click();
      await expect(p.getByTestId('help-dialog')).toBeVisible();
    },
  },
];

test('tab names keep the label and its badge apart for assistive tech', async () => {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1600, height: 900 });
  const tab = (id: string) => page.getByTestId(id);
  await expect(tab('tab-processes')).toHaveAccessibleName('Processes');
  await expect(tab('tab-capture')).toHaveAccessibleName('Capture');
  await expect(tab('tab-walk')).toHaveAccessibleName('Walk, finished');
  await expect(tab('tab-snapshot')).toHaveAccessibleName('Snapshot, 3 snapshots');
  await expect(tab('tab-compare')).toHaveAccessibleName('Compare');
  await page.getByTestId('tab-allocations').click();
  const badge = (await page.getByTestId('tab-badge-allocations').textContent()) ?? '';
  const problems = Number(/^(\d+) ⚠$/.exec(badge)?.[1]);
  expect(problems).toBeGreaterThan(0);
  await expect(tab('tab-allocations')).toHaveAccessibleName(
    `Allocations, ${problems} problem${problems === 1 ? '' : 's'}`,
  );
  await expect(tab('tab-problems')).toHaveAccessibleName(`Problems ${problems} found`);
  await expect(tab('tab-live')).toHaveAccessibleName('Live blocks');
  await page.getByTestId('tab-snapshot').click();
  await page.getByTestId('snapshot-select').selectOption(usageSnap);
  await expect(tab('snap-tab-process')).toHaveAccessibleName('Process');
  await expect(tab('snap-tab-threads')).toHaveAccessibleName(/^Threads \d+$/);
  await expect(tab('snap-tab-handles')).toHaveAccessibleName(/^Handles \d+$/);
  await expect(tab('snap-tab-va')).toHaveAccessibleName(/^VA space \d+$/);
  await expect(tab('snap-tab-modules')).toHaveAccessibleName(/^Modules \d+$/);
});

async function closeDialog(p: Page): Promise<void> {
  if (await p.getByRole('dialog').count()) {
    await p.keyboard.press('Escape');
    await expect(p.getByRole('dialog')).toHaveCount(0);
  }
}

for (const scheme of ['light', 'dark'] as const) {
  for (const size of [
    { width: 1024, height: 700 },
    { width: 1600, height: 900 },
  ]) {
    test(`every view at ${size.width}×${size.height}, ${scheme}: axe clean, nothing cut off`, async () => {
      test.setTimeout(300_000);
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize(size);
      const findings: Finding[] = [];
      const cutOff: string[] = [];
      for (const v of VIEWS) {
        await v.open(page);
        const where = `${v.name}-${scheme}-${size.width}`;
        await shot(page, where);
        await axe(page, where, findings);
        await layout(page, where, cutOff);
        await closeDialog(page);
      }
      expect(findings, JSON.stringify(findings, null, 2)).toEqual([]);
      expect(cutOff).toEqual([]);
      expect(errors).toEqual([]);
    });
  }
}

for (const w of [
  {
    name: 'zoom200',
    label: '200 % zoom (a 1280×800 window is 640×400 CSS px)',
    width: 640,
    height: 400,
  },
  { name: '2560', label: '2560×1440', width: 2560, height: 1440 },
]) {
  test(`every view at ${w.label}: nothing cut off`, async () => {
    test.setTimeout(120_000);
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: w.width, height: w.height });
    const cutOff: string[] = [];
    for (const v of VIEWS) {
      await v.open(page);
      await shot(page, `${v.name}-${w.name}`);
      await layout(page, `${v.name}-${w.name}`, cutOff);
      await closeDialog(page);
    }
    expect(cutOff).toEqual([]);
    expect(errors).toEqual([]);
  });
}
