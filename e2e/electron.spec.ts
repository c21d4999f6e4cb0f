/**
 * The Electron app (Playwright's _electron) running the same flows as web mode: the preload's
 * window.pss exposes exactly the contract, a session's pushes arrive with binary batches and the
 * totals equal the summary, and the UI flow of web-ui.spec.ts. Skipped, saying so, where the Electron binary is absent (an
 * offline machine cannot download it; web mode covers the host there).
 */
import { _electron as electron, expect, test } from '@playwright/test';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startFixture, type RunningFixture } from '../src-main/testing/fixture';
import { DEFAULT_CAPTURE_FLAGS } from '../src-shared/pss/constants';
import { ROOT } from './support/web-mode';
import { walkFlowThroughUi } from './support/ui-flow';

const { locateElectron } = (await import(
  pathToFileURL(join(ROOT, 'scripts', 'electron-binary.mjs')).href
)) as { locateElectron(): { path: string | null; reason: string } };
const binary = locateElectron();
const SKIP_MESSAGE = `Electron binary absent (${binary.reason}): the Electron flow is skipped; web mode runs the same host.`;
if (binary.path === null) console.log(`[e2e] ${SKIP_MESSAGE}`);

test.skip(binary.path === null, SKIP_MESSAGE);

let fixture: RunningFixture;
test.beforeAll(async () => {
  fixture = await startFixture({ threads: 4, pipes: 4, maps: 50 });
});
test.afterAll(async () => {
  await fixture?.stop();
});

test('Electron: window.pss is exactly the contract, and a session delivers every event', async () => {
  const app = await electron.launch({
    executablePath: binary.path as string,
    args: [ROOT, '--no-sandbox'],
    cwd: ROOT,
  });
  try {
    const win = await app.firstWindow();
    await win.waitForLoadState('domcontentloaded');
    const shape = await win.evaluate(() => {
      const pss = (globalThis as { pss?: Record<string, unknown> }).pss;
      return pss ? Object.keys(pss).sort() : null;
    });
    expect(shape).toEqual(['on', 'request', 'transport']);
    expect(await win.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe(
      'undefined',
    );
    const result = await win.evaluate(
      async ([pid, flags]) => {
        type Api = {
          request(
            n: string,
            p: unknown,
          ): Promise<{ ok: boolean; value: never; error?: { message: string } }>;
          on(n: string, l: (m: never) => void): () => void;
        };
        const api = (globalThis as unknown as { pss: Api }).pss;
        let events = 0;
        let binary = true;
        let sessionId = '';
        api.on('events', (m: { sessionId: string; firstSeq: number; bytes: ArrayBuffer }) => {
          if (m.sessionId !== sessionId) return;
          binary &&= m.bytes instanceof ArrayBuffer;
          events += m.bytes.byteLength / 48;
          void api.request('ackEvents', {
            sessionId,
            seq: m.firstSeq + m.bytes.byteLength / 48 - 1,
          });
        });
        const done = new Promise<{ events: number }>((resolve) =>
          api.on(
            'summary',
            (s: { sessionId: string; events: number }) => s.sessionId === sessionId && resolve(s),
          ),
        );
        const st = await api.request('startSession', {
          pid,
          flags,
          allocator: { strategy: 'heap' },
          classes: ['THREADS', 'HANDLES'],
          pace: { mode: 'run' },
          onAllocFailure: 'stop',
        });
        if (!st.ok) throw new Error(st.error?.message);
        sessionId = (st.value as { sessionId: string }).sessionId;
        const summary = await done;
        // The credit stream may still be sending what the acks allow after the summary.
        for (let i = 0; i < 300 && events < summary.events; i++)
          await new Promise((r) => setTimeout(r, 100));
        return { events, binary, summaryEvents: summary.events };
      },
      [fixture.pid, DEFAULT_CAPTURE_FLAGS] as const,
    );
    expect(result.binary).toBe(true);
    expect(result.summaryEvents).toBeGreaterThan(0);
    expect(result.events).toBe(result.summaryEvents);
  } finally {
    await app.close();
  }
});

test('Electron: the same UI flow as web mode (picker → paced walk → pause/step → finish)', async () => {
  const app = await electron.launch({
    executablePath: binary.path as string,
    args: [ROOT, '--no-sandbox'],
    cwd: ROOT,
  });
  try {
    const win = await app.firstWindow();
    const problems: string[] = [];
    win.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await walkFlowThroughUi(win, fixture.pid);
    expect(problems).toEqual([]);
  } finally {
    await app.close();
  }
});
