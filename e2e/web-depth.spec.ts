/**
 * Inspection depth, by clicking as a user would, against a python3 nobody here wrote (named
 * threads, TCP/UDP/UNIX sockets, a pipe to a child, malloc arenas): the process tree (live,
 * searchable, keyboard), every new column of threads, handles and the VA space (with memory
 * usage), the module list, and a comparison in human units. Every step is screenshotted
 * (test-results/screenshots/depth-*.png).
 */
import { expect, test, type Page } from '@playwright/test';
import { mkdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { startPythonTarget, waitAllSleeping, type PythonTarget } from '../src-main/testing/targets';
import { ROOT, startWebMode, type WebMode } from './support/web-mode';

const SHOTS = join(ROOT, 'test-results', 'screenshots');
let web: WebMode;
let py: PythonTarget;

test.beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  py = await startPythonTarget();
  await waitAllSleeping(py.pid);
  web = await startWebMode();
});
test.afterAll(async () => {
  await web?.stop();
  await py?.stop();
});

async function shot(page: Page, name: string): Promise<void> {
  await page.waitForTimeout(300); // a frame or two for the canvases
  await page.screenshot({ path: join(SHOTS, `depth-${name}.png`) });
}

const parentOf = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
};

test('process tree, every new column, modules and a comparison in human units', async ({
  browser,
}) => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(web.url);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-status', 'connected');

  // ---- Processes: a tree, live, with CPU %, resident, threads, handles, user.
  const row = page.getByTestId(`process-row-${py.pid}`);
  await expect(page.getByTestId('process-live')).toHaveAttribute('aria-pressed', 'true');
  await page.getByTestId('process-search').fill(String(py.pid));
  await expect(row).toContainText('python3');
  // CPU % is measured between two listings: the live refresh fills it in by itself.
  await expect
    .poll(async () => (await row.locator('.vt-cell').nth(2).textContent()) ?? '', {
      timeout: 20_000,
    })
    .toMatch(/^\d+\.\d$/);
  await expect(row).toContainText('4'); // threads
  await expect(page.getByTestId('process-table')).toHaveAttribute('data-rows', '1'); // matches only
  // Handles come from the fd listing: python holds its sockets, pipe, stdio…
  const handlesText = (await row.locator('.vt-cell').nth(5).textContent()) ?? '';
  expect(Number(handlesText)).toBeGreaterThanOrEqual(10);
  await shot(page, 'processes-search');

  // The tree: clear the search; python3 stays selected, in view, nested under its parent.
  await row.click();
  await expect(row).toHaveAttribute('aria-selected', 'true');
  await page.getByTestId('process-search').fill('');
  const parent = page.getByTestId(`process-row-${parentOf(py.pid)}`);
  await expect(row).toBeVisible();
  await expect(parent).toBeVisible();
  const indent = async (pid: number): Promise<number> => {
    const style = await page
      .getByTestId(`process-row-${pid}`)
      .locator('.tree-name')
      .getAttribute('style');
    return Number(/padding-left:\s*([\d.]+)px/.exec(style ?? '')?.[1] ?? 0);
  };
  expect(await indent(py.pid)).toBeGreaterThan(await indent(parentOf(py.pid)));
  // Pause the live refresh; the "updated" time then holds still. Paused before the mouse is
  // used on the whole tree: a click must not land on a row that a refresh just moved (other
  // processes on this machine come and go).
  await page.getByTestId('process-live').click();
  await expect(page.getByTestId('process-live')).toHaveAttribute('aria-pressed', 'false');
  await expect(page.getByTestId('process-updated')).toContainText('paused');
  await page.getByTestId('process-table').focus();
  // Keyboard: ← closes python3's own branch (its child `sleep` disappears), ← again goes to
  // its parent, ← once more closes the parent's branch (python3 disappears), → opens it, ↓
  // moves to the first child.
  const child = page.getByTestId(`process-row-${py.childPid}`);
  await expect(child).toBeAttached();
  await page.keyboard.press('ArrowLeft');
  await expect(child).toHaveCount(0);
  await expect(row).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('ArrowLeft');
  await expect(parent).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('ArrowLeft');
  await expect(row).toHaveCount(0);
  await page.keyboard.press('ArrowRight');
  await expect(row).toBeAttached();
  await page.keyboard.press('ArrowDown');
  await expect(page.locator('.vt-row.vt-selected')).toHaveCount(1);
  await page.getByTestId(`process-twisty-${py.pid}`).click(); // the mouse opens it again
  await expect(child).toBeAttached();
  await row.click();
  await expect(row).toHaveAttribute('aria-selected', 'true');
  await shot(page, 'processes-tree');
  await page.getByTestId('process-table').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('view-capture')).toBeVisible();
  await expect(page.getByTestId('capture-target')).toContainText(`pid ${py.pid}`);

  // ---- Capture with memory usage.
  await page.getByTestId('capture-usage').check();
  await shot(page, 'capture-usage');
  await page.getByTestId('capture-button').click();
  await expect(page.getByTestId('view-snapshot')).toBeVisible();
  await expect(page.getByTestId('details-summary')).toContainText('smaps read');
  await shot(page, 'snapshot-process');

  // ---- Threads: names, states + wait channels, system calls, CPU time, SP/IP.
  await page.getByTestId('snap-tab-threads').click();
  const threads = page.getByTestId('threads-table');
  await expect(threads).toHaveAttribute('data-rows', '4');
  const main = page.getByTestId(`thread-row-${py.pid}`);
  await expect(main).toContainText('python3');
  await expect(main).toContainText('sleeping');
  await expect(main).toContainText('read (0)');
  await expect(threads).toContainText('py-worker-0');
  await expect(threads).toContainText('futex (202)');
  await expect(main).not.toContainText('0x0 '); // no placeholder addresses shown as data
  await main.click();
  await expect(page.getByTestId('details-pane')).toContainText('Wait channel');
  await expect(page.getByTestId('details-pane')).toContainText('read (0)');
  await shot(page, 'threads');

  // ---- Handles: human types, decoded access, sockets like ss, pipe peers.
  await page.getByTestId('snap-tab-handles').click();
  const tcp = page.getByTestId(`handle-row-${py.fds.tcp}`);
  await expect(tcp).toContainText('Socket (IPv4 TCP)');
  await expect(tcp).toContainText(`127.0.0.1:${py.tcpPort} LISTEN`);
  await expect(tcp).toContainText('read/write');
  await expect(tcp).toContainText('cloexec');
  await expect(page.getByTestId(`handle-row-${py.fds.udp}`)).toContainText(
    `UDP 127.0.0.1:${py.udpPort} UNCONN`,
  );
  await expect(page.getByTestId(`handle-row-${py.fds.ux}`)).toContainText(
    `UNIX stream ${py.unixPath} LISTEN`,
  );
  const pipe = page.getByTestId(`handle-row-${py.fds.pipe}`);
  await expect(pipe).toContainText('Pipe');
  await expect(pipe).toContainText(`sleep (pid ${py.childPid}, fd 0)`);
  await pipe.click();
  await expect(page.getByTestId('details-pane')).toContainText('Created');
  await expect(page.getByTestId('details-pane')).toContainText('n/a');
  await shot(page, 'handles');
  await page.getByTestId(`handle-row-${py.fds.client}`).click();
  await expect(page.getByTestId('details-pane')).toContainText(`remote 127.0.0.1:${py.tcpPort}`);
  await shot(page, 'handles-socket');

  // ---- VA space: kinds (every stack, arenas), usage columns and summary rows, the cost.
  await page.getByTestId('snap-tab-va').click();
  await expect(page.getByTestId('va-by-type')).toContainText('Working set');
  await expect(page.getByTestId('va-by-type-Stack')).toBeVisible();
  await expect(page.getByTestId('va-by-type-Heap')).toBeVisible();
  await expect(page.getByTestId('usage-note')).toContainText('smaps');
  await expect(page.getByTestId('usage-rollup')).toContainText('working set');
  // Every thread's stack, found by its stack pointer (3 workers; their guard pages and the
  // main thread's [stack] are further rows).
  await page.getByTestId('va-table-filter').fill('Stack thread -guard -main');
  await expect(page.getByTestId('va-table-count')).toContainText('3 of');
  await page.getByTestId('va-table-filter').fill('arena');
  await expect(page.getByTestId('va-table')).toContainText('malloc arena');
  await page.getByTestId('va-table-filter').fill('');
  await page.getByTestId('va-table-sort-workingSet').click();
  await page.getByTestId('va-table-sort-workingSet').click(); // biggest first
  await page.locator('[data-testid^=va-row-]').first().click();
  await expect(page.getByTestId('details-pane')).toContainText('Rss (working set)');
  await shot(page, 'va');

  // Every column at once: a 2560 px window, the details pane closed.
  await page.setViewportSize({ width: 2560, height: 1000 });
  await page.getByTestId('details-close').click();
  await shot(page, 'va-wide');
  for (const t of ['threads', 'handles'] as const) {
    await page.getByTestId(`snap-tab-${t}`).click();
    await expect(page.getByTestId(`${t}-table`)).toBeVisible();
    await shot(page, `${t}-wide`);
  }
  await page.setViewportSize({ width: 1440, height: 900 });

  // ---- Modules: the ELF images with build-id and soname.
  await page.getByTestId('snap-tab-modules').click();
  const modules = page.getByTestId('modules-table');
  await expect(modules).toContainText('libc.so.6');
  await expect(modules).toContainText('linux-vdso.so.1');
  await expect(modules).toContainText(/[0-9a-f]{40}/);
  await shot(page, 'modules');

  // ---- Compare: python reads 4 MiB from stdin (CPU time and heap grow) and gets a
  // connection it does not accept (its listener's queue fills); the changes read in units.
  const pending = connect(py.tcpPort, '127.0.0.1');
  pending.on('error', () => undefined); // reset when python exits at the end
  await new Promise<void>((r) => pending.once('connect', () => r()));
  try {
    py.poke(4 << 20);
    await expect
      .poll(() => {
        const io = readFileSync(`/proc/${py.pid}/io`, 'utf8');
        return Number(/rchar: (\d+)/.exec(io)?.[1] ?? 0);
      })
      .toBeGreaterThan(4 << 20);
    await waitAllSleeping(py.pid);
    await page.getByTestId('snapshot-recapture').click();
    await expect(page.getByTestId('snapshot-select').locator('option')).toHaveCount(2);
    await page.getByTestId('tab-compare').click();
    await page.getByTestId('compare-run').click();
    await page.getByTestId('compare-tab-threads').click();
    const changed = page.getByTestId(`diff-row-changed-tid:${py.pid}`);
    await expect(changed).toContainText('CPU time');
    await changed.click();
    const changes = page.getByTestId('compare-changes');
    await expect(changes.getByTestId('change-details.cpuTime')).toContainText(/\+[\d.]+ (µs|ms|s)/);
    await expect(changes).not.toContainText('details.cpuTime:'); // labels, not raw paths
    await shot(page, 'compare-threads');
    await page.getByTestId('compare-tab-handles').click();
    const listener = page.locator(`[data-testid^="diff-row-changed-fd:${py.fds.tcp}:"]`);
    await expect(listener).toContainText('Endpoint');
    await page.getByTestId('compare-tab-regions').click();
    // The 4 MiB python read went to a new private mapping, carved out of a free gap.
    const added = page
      .locator('[data-testid^="diff-row-added-va:"]')
      .filter({ hasText: 'Private' });
    await expect(added.first()).toContainText('MiB');
    await page
      .locator('[data-testid^="diff-row-changed-va:"]')
      .filter({ hasText: 'Free' })
      .first()
      .click();
    await expect(changes.getByTestId('change-regionSize')).toContainText(/-[\d.]+ (KiB|MiB)/);
    await shot(page, 'compare-regions');
  } finally {
    pending.destroy();
  }
  expect(errors).toEqual([]);
  await page.close();
});
