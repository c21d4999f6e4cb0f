/**
 * Trace files through the real UI in Chromium over web mode: a trace larger than one transfer
 * chunk is opened with "Open trace…" (uploaded in chunks, read off the host's main thread), its
 * events all reach the page, and "Export" downloads it back (in chunks) as a version 2 trace
 * with the same events.
 */
import { expect, test } from '@playwright/test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventWriter } from '../src-shared/events/batch';
import { ApiCall, EVENT_SIZE, EventKind } from '../src-shared/events/layout';
import { CONTRACT_LIMITS } from '../src-shared/contract/contract';
import { TraceStore } from '../src-main/walk/trace-store';
import { readAtBuffer, readTraceFile } from '../src-main/trace/v1';
import { BytesSource, TraceReader } from '../src-main/trace/trace-file';
import { startWebMode, type WebMode } from './support/web-mode';

let web: WebMode;
let dir: string;
test.beforeAll(async () => {
  web = await startWebMode();
  dir = mkdtempSync(join(tmpdir(), `pss-e2e-traces-${process.pid}-`));
});
test.afterAll(async () => {
  await web?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const EVENTS = 200_000;

function bigTrace(): Uint8Array {
  const store = new TraceStore({
    pid: 4242,
    processName: 'synthetic',
    flags: 0,
    allocator: { strategy: 'heap' },
    classes: ['THREADS'],
    createdAt: '2024-01-01T00:00:00.000Z',
  });
  let t = 0;
  const w = new EventWriter(
    4096,
    (b, first) => store.append(first, b),
    () => (t += 1000),
  );
  for (let i = 0; i < EVENTS; i++) {
    if (i % 2 === 0)
      w.write(EventKind.Alloc, ApiCall.PssWalkSnapshot, 0, 0, 1, 1, 0x1000 + i, 0, 32, 0, 32);
    else w.write(EventKind.Free, ApiCall.PssWalkSnapshot, 0, 0, 1, 1, 0x1000 + i - 1, 0, 32, 0, 0);
  }
  w.flush();
  const bytes = new Uint8Array(store.export());
  store.dispose();
  return bytes;
}

test('a trace of several chunks opens in the UI and exports back with the same events', async ({
  page,
}) => {
  const original = bigTrace();
  expect(original.byteLength).toBeGreaterThan(2 * CONTRACT_LIMITS.traceChunkBytes);
  const file = join(dir, 'big.psstrace');
  writeFileSync(file, original);

  await page.goto(web.url);
  await page.getByTestId('open-trace-input').setInputFiles(file);
  await expect(page.getByTestId('session-state')).toHaveText(/finished/, { timeout: 60_000 });
  await expect
    .poll(
      async () =>
        Number(((await page.getByTestId('count-events').textContent()) ?? '').replace(/\D/g, '')),
      { timeout: 60_000 },
    )
    .toBe(EVENTS);

  const download = page.waitForEvent('download');
  await page.getByTestId('header-export-trace').click();
  const saved = join(dir, 'exported.psstrace');
  await (await download).saveAs(saved);
  const back = new Uint8Array(readFileSync(saved));
  const a = readTraceFile(readAtBuffer(original), original.byteLength);
  const b = TraceReader.open(new BytesSource(back));
  expect(b.damage).toBeNull();
  expect(b.eventCount).toBe(EVENTS);
  expect(b.session['processName']).toBe('synthetic');
  const recs = original.subarray(a.records.fileOffset, a.records.fileOffset + EVENTS * EVENT_SIZE);
  expect(Buffer.from(b.readEvents(0, EVENTS)).equals(Buffer.from(recs))).toBe(true);
  // Smaller than the version 1 file it came from.
  expect(back.byteLength).toBeLessThan(original.byteLength / 2);
});
