/**
 * Replay of an opened trace, in Chromium over web mode, driven with the keyboard only: the
 * replay bar's controls are labelled (roles and names a screen reader reads); at 1× the trace's
 * 100 s of recording advance in real time and a pause holds them; arrow keys pick 100× and the
 * replay reaches the end; "max" replays it again at once; "Show all" ends the replay.
 */
import { expect, test, type Page } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSink } from '../src-main/trace/trace-file';
import { startWebMode, type WebMode } from './support/web-mode';
import { writeSyntheticTrace } from '../src-main/testing/synthetic-trace';

/** 100,000 events 1 ms apart: 100 s of recording. */
const EVENTS = 100_000;
let web: WebMode;
let dir: string;
test.beforeAll(async () => {
  web = await startWebMode();
  dir = mkdtempSync(join(tmpdir(), `pss-e2e-replay-${process.pid}-`));
});
test.afterAll(async () => {
  await web?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function writeTrace(path: string): void {
  writeSyntheticTrace(new FileSink(path), {
    processName: 'replayed',
    events: EVENTS,
    stepNs: 1_000_000,
    addressStride: 64,
    freeEach: true,
  });
}

const count = async (page: Page, id: string): Promise<number> =>
  Number(((await page.getByTestId(id).textContent()) ?? '').replace(/\D/g, ''));

/** Long enough for the counters (published every 250 ms) to show where things stand. */
const settle = (page: Page): Promise<void> => page.waitForTimeout(700);

test('an opened trace replays at 1×, pauses, speeds up to 100× and max, all by keyboard', async ({
  page,
}) => {
  const file = join(dir, 'replayed.psstrace');
  writeTrace(file);
  await page.goto(web.url);
  await page.getByTestId('open-trace-input').setInputFiles(file);
  await expect(page.getByTestId('session-state')).toHaveText(/finished/, { timeout: 60_000 });
  await expect.poll(() => count(page, 'count-events'), { timeout: 60_000 }).toBe(EVENTS);

  // Labelled controls.
  const bar = page.getByRole('group', { name: 'Replay', exact: true });
  await expect(bar).toBeVisible();
  const play = bar.getByRole('button', { name: 'Replay', exact: true });
  const speeds = bar.getByRole('group', { name: 'Replay speed' });
  await expect(speeds.getByRole('radio')).toHaveCount(4);
  await expect(speeds.getByRole('radio', { name: '1 times real time' })).toBeVisible();
  await expect(speeds.getByRole('radio', { name: 'as fast as possible' })).toBeVisible();
  await expect(page.getByTestId('replay-speed-10')).toBeChecked();

  // 1×: keyboard only. The checked radio takes focus; the arrow keys move between speeds.
  await page.getByTestId('replay-speed-10').focus();
  await page.keyboard.press('ArrowLeft');
  await expect(page.getByTestId('replay-speed-1')).toBeChecked();
  await play.focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('replay-status')).toHaveText('Replaying at 1×.');
  await expect.poll(() => count(page, 'count-events')).toBeGreaterThan(0);
  const pause = bar.getByRole('button', { name: 'Pause replay' });
  await expect(pause).toBeFocused();
  await page.keyboard.press('Space');
  await expect(page.getByTestId('replay-status')).toHaveText('Replay paused.');
  await settle(page);
  const held = await count(page, 'count-events');
  // At 1×, far from the end of 100 s of recording; the event log shows what was replayed.
  expect(held).toBeGreaterThan(0);
  expect(held).toBeLessThan(EVENTS);
  expect(await count(page, 'eventlog-count')).toBe(held);
  await settle(page);
  expect(await count(page, 'count-events')).toBe(held);

  // 100×: ten seconds of the recording per 0.1 s; on to the end.
  await page.getByTestId('replay-speed-1').focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('replay-speed-100')).toBeChecked();
  await bar.getByRole('button', { name: 'Resume replay' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('replay-status')).toHaveText('Replaying at 100×.');
  await expect(page.getByTestId('replay-status')).toHaveText('Replay finished.', {
    timeout: 60_000,
  });
  await expect.poll(() => count(page, 'count-events')).toBe(EVENTS);
  await expect(page.getByTestId('count-allocations')).toHaveText(/50[,. ]?000/);

  // max: again from the start, as fast as the analysis goes.
  await page.getByTestId('replay-speed-100').focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('replay-speed-max')).toBeChecked();
  await play.focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('replay-status')).toHaveText('Replay finished.', {
    timeout: 60_000,
  });
  await expect.poll(() => count(page, 'count-events')).toBe(EVENTS);

  // Show all ends the replay.
  await page.getByTestId('replay-show-all').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('replay-status')).toHaveText('');
  await expect(page.getByTestId('replay-progress')).toHaveText(/100,000 events recorded/);
  await expect(page.getByTestId('replay-show-all')).toBeDisabled();
});
