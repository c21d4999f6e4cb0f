/**
 * Disk full while a trace spills (issue 13, item 8): the real web mode runs with a file-size
 * limit (RLIMIT_FSIZE, `ulimit -f`: writes beyond it fail with EFBIG, as ENOSPC does on a full
 * disk) and a small trace memory budget, so a long walk of the large fixture must spill and the
 * spill fails. The session must end with one clear error, as 'failed', and keep every event
 * its summary counts; the server keeps serving, and nothing is left in its temp directory.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBatchView } from '../../src-shared/events/batch';
import { CONTRACT_LIMITS } from '../../src-shared/contract/contract';
import { DEFAULT_CAPTURE_FLAGS } from '../../src-shared/pss/constants';
import type { ErrorReply, SessionState } from '../../src-shared/contract/model';
import { LARGE_FIXTURE, startFixture, type RunningFixture } from '../testing/fixture';
import { startWebChild, valueOf, type WebChild } from '../testing/web-mode';

let web: WebChild;
let fixture: RunningFixture;
let spillDir: string;

beforeAll(async () => {
  spillDir = mkdtempSync(join(tmpdir(), `pss-disk-full-${process.pid}-`));
  [web, fixture] = await Promise.all([
    startWebChild({
      maxFileBytes: 2 * 1024 * 1024,
      env: { TMPDIR: spillDir },
      args: ['--trace-memory-mb=1'],
    }),
    startFixture(LARGE_FIXTURE),
  ]);
});

afterAll(async () => {
  await Promise.all([web?.stop(), fixture?.stop()]);
  rmSync(spillDir, { recursive: true, force: true });
});

describe('item 8: disk full while a trace spills', () => {
  it('ends the session with one clear error and keeps every event', async () => {
    const c = await web.connect();
    const st = valueOf<SessionState>(
      await c.request('startSession', {
        pid: fixture.pid,
        flags: DEFAULT_CAPTURE_FLAGS,
        allocator: { strategy: 'heap' },
        classes: ['THREADS', 'HANDLES', 'VA_SPACE'],
        pace: { mode: 'run' },
        onAllocFailure: 'stop',
        passes: 80,
      }),
    );
    const summary = await c.summaryOf(st.sessionId);
    const errors = c
      .of('error')
      .filter((m) => (m as { sessionId: string }).sessionId === st.sessionId)
      .map((m) => (m as { error: ErrorReply }).error);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ kind: 'io', codeName: 'EFBIG' });
    expect(errors[0]?.message).toMatch(/spill file/);
    const states = c
      .of('sessionState')
      .filter((m) => (m as SessionState).sessionId === st.sessionId) as SessionState[];
    const final = states[states.length - 1] as SessionState;
    expect(final.state).toBe('failed');
    expect(final.error).toMatchObject({ kind: 'io', codeName: 'EFBIG' });
    // Nothing silently lost: every event the summary counts is in the store, readable.
    let read = 0;
    for (;;) {
      const page = valueOf<{ bytes: ArrayBuffer }>(
        await c.request('getEvents', {
          sessionId: st.sessionId,
          fromSeq: read,
          count: CONTRACT_LIMITS.maxEventsPerReply,
        }),
      );
      const v = new EventBatchView(page.bytes);
      if (v.count === 0) break;
      v.validate(read);
      read += v.count;
    }
    expect(read).toBe(summary.events);
    // More than the 2 MiB the spill file could take: the spill did fail.
    expect(summary.events).toBeGreaterThan((2 * 1024 * 1024) / 48);
    // The spill file vanished with its open descriptor: nothing in the temp directory.
    expect(readdirSync(spillDir).filter((f) => f.startsWith('pss-'))).toEqual([]);
    valueOf(await c.request('closeSession', { sessionId: st.sessionId }));
    // The server keeps serving.
    expect(web.exit()).toBeNull();
    expect(valueOf<{ transport: string }>(await c.request('appInfo', {})).transport).toBe('web');
    c.close();
  });
});
