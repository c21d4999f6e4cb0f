/**
 * `pss-inspector open FILE` while the app runs: the second instance ends at once (Electron's
 * single-instance lock) and hands its argv to the first, whose second-instance handler
 * (src-main/electron/main.ts) resolves the file (./open-arg.ts) and gives it to the host. The
 * host side, without Electron (the argv part: ../electron/open-arg.test.ts): host.openTrace tells every connection (a `command` push of
 * `openedTrace`), and openedTrace then opens that file as an imported session, real trace
 * files read by the real import worker.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PushMessages, PushName } from '../../src-shared/contract/contract';
import type { SessionState } from '../../src-shared/contract/model';
import { FileSink } from '../trace/trace-file';
import { writeSyntheticTrace } from '../testing/synthetic-trace';
import { createWalkService } from '../walk/client';
import { SessionHost } from './host';

const dir = mkdtempSync(join(tmpdir(), 'pss-open-sent-'));
const walk = createWalkService();
afterAll(async () => {
  await walk.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A finished v2 trace of `events` allocations. */
function traceFile(name: string, events: number): string {
  const path = join(dir, name);
  writeSyntheticTrace(new FileSink(path), {
    processName: name,
    pid: 77,
    events,
    stepNs: 100,
    batchEvents: 64,
  });
  return path;
}

describe('a trace sent to the running app (second instance)', () => {
  it('host.openTrace tells every connection, and openedTrace then opens that file', async () => {
    const first = traceFile('first.pstrace', 100);
    const second = traceFile('second.pstrace', 300);
    const host = new SessionHost({
      walk,
      transport: 'electron',
      library: 'test',
      version: '0',
      log: () => undefined,
      openTrace: first,
    });
    const pushes: { name: PushName; msg: unknown }[][] = [[], []];
    const conns = pushes.map((list) =>
      host.connect({
        push<P extends PushName>(name: P, msg: PushMessages[P]) {
          list.push({ name, msg });
        },
      }),
    );
    const [a, b] = conns as [(typeof conns)[number], (typeof conns)[number]];
    try {
      const started = await a.handle('openedTrace', {});
      expect(started).toMatchObject({ ok: true, value: { fileName: 'first.pstrace' } });
      expect((started as { value: { session: SessionState } }).value.session.eventsStored).toBe(
        100,
      );
      expect(pushes.flat().filter((p) => p.name === 'command')).toEqual([]);

      host.openTrace(second);
      for (const list of pushes)
        expect(list.filter((p) => p.name === 'command').map((p) => p.msg)).toEqual([
          { command: 'openedTrace' },
        ]);
      const sent = await b.handle('openedTrace', {});
      expect(sent).toMatchObject({ ok: true, value: { fileName: 'second.pstrace' } });
      const session = (sent as { value: { session: SessionState } }).value.session;
      expect(session.state).toBe('finished');
      expect(session.eventsStored).toBe(300);

      // A file that is not there: a clear error for the page to show, the host serving on.
      host.openTrace(join(dir, 'gone.pstrace'));
      expect(await a.handle('openedTrace', {})).toMatchObject({
        ok: false,
        error: { kind: 'not-found', message: expect.stringMatching(/gone\.pstrace/) as unknown },
      });
      expect(await a.handle('appInfo', {})).toMatchObject({ ok: true });
    } finally {
      await Promise.all(conns.map((c) => c.close()));
      await host.close();
    }
  });
});
