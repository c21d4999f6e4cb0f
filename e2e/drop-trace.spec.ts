/**
 * Drag and drop of a trace file onto the window, in Chromium over web mode: dragging files over
 * the window shows the drop overlay; dropping a version 2 trace uploads it to the host (web-mode
 * upload, in chunks) and opens it as the session, with every event; dropping a file that is not
 * a trace, or two files at once, shows an error and changes nothing.
 */
import { expect, test, type JSHandle, type Page } from '@playwright/test';
import { MemorySink } from '../src-main/trace/trace-file';
import { startWebMode, type WebMode } from './support/web-mode';
import { writeSyntheticTrace } from '../src-main/testing/synthetic-trace';

let web: WebMode;
test.beforeAll(async () => {
  web = await startWebMode();
});
test.afterAll(async () => {
  await web?.stop();
});

const EVENTS = 40_000;

function traceBytes(): Uint8Array {
  const sink = new MemorySink();
  writeSyntheticTrace(sink, {
    processName: 'dropped',
    events: EVENTS,
    stepNs: 1000,
    addressStride: 1,
    freeEach: true,
  });
  return sink.bytes();
}

/** A DataTransfer in the page holding these files, as a drag from the desktop would. */
function dataTransfer(page: Page, files: { name: string; b64: string }[]): Promise<JSHandle> {
  return page.evaluateHandle((list) => {
    // Runs in the page (this file is typed for Node: the DOM classes are declared here).
    const g = globalThis as unknown as {
      DataTransfer: new () => { items: { add(file: unknown): void } };
      File: new (parts: Uint8Array[], name: string, options: { type: string }) => unknown;
    };
    const dt = new g.DataTransfer();
    for (const f of list) {
      const bin = atob(f.b64);
      const u8 = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
      dt.items.add(new g.File([u8], f.name, { type: 'application/octet-stream' }));
    }
    return dt;
  }, files);
}

async function eventCount(page: Page): Promise<number> {
  return Number(((await page.getByTestId('count-events').textContent()) ?? '').replace(/\D/g, ''));
}

test('a trace dropped onto the window opens as the session; a wrong drop says why', async ({
  page,
}) => {
  await page.goto(web.url);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-status', 'connected');
  const good = { name: 'dropped.psstrace', b64: Buffer.from(traceBytes()).toString('base64') };
  const junk = { name: 'notes.txt', b64: Buffer.from('not a trace at all').toString('base64') };

  // Dragging files over the window shows the overlay; leaving hides it.
  const dt = await dataTransfer(page, [good]);
  await page.dispatchEvent('main', 'dragenter', { dataTransfer: dt });
  await expect(page.getByTestId('drop-overlay')).toBeVisible();
  await expect(page.getByTestId('drop-overlay')).toContainText('Drop a .psstrace file');
  await page.dispatchEvent('main', 'dragleave', { dataTransfer: dt });
  await expect(page.getByTestId('drop-overlay')).toHaveCount(0);

  // Two files at once: an error, nothing opened.
  const two = await dataTransfer(page, [good, junk]);
  await page.dispatchEvent('main', 'dragenter', { dataTransfer: two });
  await page.dispatchEvent('main', 'drop', { dataTransfer: two });
  await expect(page.getByTestId('drop-overlay')).toHaveCount(0);
  await expect(page.getByTestId('banner-error-message')).toContainText('2 files were dropped');
  await expect(page.getByTestId('session-imported')).toHaveCount(0);

  // Not a trace: the host's validation error, nothing opened.
  const bad = await dataTransfer(page, [junk]);
  await page.dispatchEvent('main', 'drop', { dataTransfer: bad });
  await expect(page.getByTestId('banner-error-message')).toContainText(/not a trace file/);
  await expect(page.getByTestId('session-imported')).toHaveCount(0);

  // The trace: uploaded, opened as the session with all its events.
  await page.dispatchEvent('main', 'dragenter', { dataTransfer: dt });
  await page.dispatchEvent('main', 'drop', { dataTransfer: dt });
  await expect(page.getByTestId('drop-overlay')).toHaveCount(0);
  await expect(page.getByTestId('session-imported')).toContainText('dropped.psstrace', {
    timeout: 60_000,
  });
  await expect(page.getByTestId('session-state')).toHaveText(/finished/);
  await expect.poll(() => eventCount(page), { timeout: 60_000 }).toBe(EVENTS);
  await expect(page.getByTestId('banner-error')).toHaveCount(0);
});
