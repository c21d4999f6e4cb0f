/**
 * A whole walk session in Chromium against web mode, with the real walk service, libpss and
 * the fixture process: through the page's bridge API (the same PssApi the UI uses).
 */
import { expect, test, type Page } from '@playwright/test';
import { startFixture, type RunningFixture } from '../src-main/testing/fixture';
import { DEFAULT_CAPTURE_FLAGS } from '../src-shared/pss/constants';
import type {
  ProcessRow,
  SessionState,
  SessionSummary,
  SnapshotInfo,
} from '../src-shared/contract/model';
import type * as PageHelpers from './page/entry';
import type { ProbeReport } from './page/entry';
import { injectPageHelpers } from './support/page';
import { startWebMode, type WebMode } from './support/web-mode';

let web: WebMode;
let fixture: RunningFixture;

test.beforeAll(async () => {
  fixture = await startFixture({ threads: 8, pipes: 20, files: 20, maps: 200 });
  web = await startWebMode();
});
test.afterAll(async () => {
  await web?.stop();
  await fixture?.stop();
});

/** Runs a request through the page's bridge; throws with the ErrorReply when it fails. */
async function call<T>(page: Page, name: string, params: unknown): Promise<T> {
  const r = await page.evaluate(
    async ([n, p]) => {
      const t = (
        globalThis as unknown as {
          __t: { api: { request(n: string, p: unknown): Promise<unknown> } };
        }
      ).__t;
      return t.api.request(n as string, p);
    },
    [name, params] as const,
  );
  const reply = r as { ok: boolean; value?: T; error?: { message: string; hint: string } };
  if (!reply.ok) throw new Error(`${name}: ${reply.error?.message} (${reply.error?.hint})`);
  return reply.value as T;
}

const report = (page: Page): Promise<ProbeReport> =>
  page.evaluate(() =>
    (globalThis as unknown as { __t: { probe: { report(): ProbeReport } } }).__t.probe.report(),
  );

test('capture, walk slowly, pause, step, finish: the page sees every event and the totals match the summary', async ({
  page,
}) => {
  await page.goto(web.url);
  await injectPageHelpers(page, web.origin);
  await page.evaluate(() => {
    const P = (globalThis as unknown as { PssPage: typeof PageHelpers }).PssPage;
    const api = P.getPssApi();
    let origin = 0;
    const probe = P.createProbe(api, () => origin);
    (globalThis as unknown as { __t: unknown }).__t = {
      api,
      probe,
      setOrigin: (o: number) => (origin = o),
    };
  });

  const procs = await call<ProcessRow[]>(page, 'listProcesses', {});
  const row = procs.find((p) => p.pid === fixture.pid);
  expect(row).toMatchObject({ inspectable: true, name: 'pss-fixture' });
  const snap = await call<SnapshotInfo>(page, 'capture', {
    pid: fixture.pid,
    flags: DEFAULT_CAPTURE_FLAGS,
  });
  expect(snap.counts.threads).toBe(9);

  const st = await call<SessionState>(page, 'startSession', {
    snapshotId: snap.snapshotId,
    flags: DEFAULT_CAPTURE_FLAGS,
    allocator: { strategy: 'heap' },
    classes: ['THREADS', 'HANDLES', 'VA_SPACE'],
    pace: { mode: 'paced', entriesPerSecond: 40 },
    onAllocFailure: 'stop',
  });
  await page.evaluate(
    ([id, o]) => {
      const t = (
        globalThis as unknown as {
          __t: { probe: { follow(id: string): void }; setOrigin(o: number): void };
        }
      ).__t;
      t.probe.follow(id as string);
      t.setOrigin(o as number);
    },
    [st.sessionId, st.clockOriginEpochMs] as const,
  );

  // Slow walk: allocation counts rise while it proceeds.
  await expect
    .poll(async () => (await report(page)).allocations, { timeout: 20_000 })
    .toBeGreaterThan(0);
  const a1 = (await report(page)).allocations;
  await expect
    .poll(async () => (await report(page)).allocations, { timeout: 20_000 })
    .toBeGreaterThan(a1);

  // Pause: nothing more arrives.
  const paused = await call<SessionState>(page, 'sessionControl', {
    sessionId: st.sessionId,
    action: 'pause',
  });
  expect(paused.state).toBe('paused');
  await page.waitForTimeout(300);
  const p1 = await report(page);
  await page.waitForTimeout(500);
  expect((await report(page)).events).toBe(p1.events);

  // Step: one entry walked, its events arrive, still paused.
  const walkedBefore = paused.classes.reduce((n, c) => n + c.walked, 0);
  const stepped = await call<SessionState>(page, 'sessionControl', {
    sessionId: st.sessionId,
    action: 'step',
  });
  expect(stepped.state).toBe('paused');
  expect(stepped.classes.reduce((n, c) => n + c.walked, 0)).toBe(walkedBefore + 1);
  await expect.poll(async () => (await report(page)).events).toBeGreaterThan(p1.events);

  // Finish at full speed.
  await call<SessionState>(page, 'sessionControl', {
    sessionId: st.sessionId,
    action: 'setPace',
    pace: { mode: 'run' },
  });
  await call<SessionState>(page, 'sessionControl', { sessionId: st.sessionId, action: 'resume' });
  const summary = await page.evaluate(
    (id) =>
      new Promise<SessionSummary>((resolve) => {
        const t = (
          globalThis as unknown as {
            __t: {
              api: {
                on(n: string, l: (m: SessionSummary) => void): () => void;
                request(n: string, p: unknown): Promise<{ ok: boolean; value: SessionSummary }>;
              };
            };
          }
        ).__t;
        t.api.on('summary', (m) => m.sessionId === id && resolve(m));
        // It may already have ended.
        void t.api
          .request('sessionSummary', { sessionId: id })
          .then((r) => r.ok && resolve(r.value));
      }),
    st.sessionId,
  );
  await expect.poll(async () => (await report(page)).nextSeq).toBe(summary.events);
  const r = await report(page);
  expect(r.gaps).toBe(0);
  expect(r.events).toBe(summary.events);
  expect(r.allocations).toBe(summary.allocations);
  expect(r.frees).toBe(summary.frees);
  expect(summary.allocations).toBeGreaterThan(0);
  expect(summary.entriesWalked).toMatchObject({ THREADS: 9 });
  // The trace store holds exactly what the summary counts.
  const all = await page.evaluate(async (id) => {
    const t = (
      globalThis as unknown as {
        __t: {
          api: {
            request(n: string, p: unknown): Promise<{ ok: boolean; value: { bytes: ArrayBuffer } }>;
          };
        };
      }
    ).__t;
    const res = await t.api.request('getEvents', { sessionId: id, fromSeq: 0, count: 1_000_000 });
    return res.ok ? res.value.bytes.byteLength / 48 : -1;
  }, st.sessionId);
  expect(all).toBe(summary.events);
});
