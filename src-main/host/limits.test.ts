/**
 * The host's caps and strictness (issue 13, items 5–7, 9, 10), driven over real WebSockets
 * against the real web mode (child process: host, walk worker, libpss) and real fixture
 * processes. Each case checks the server still runs and answers the next request.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CAPTURE_FLAGS, PssCaptureFlags } from '../../src-shared/pss/constants';
import type { SessionState, SnapshotInfo } from '../../src-shared/contract/model';
import { LARGE_FIXTURE, startFixture, type RunningFixture } from '../testing/fixture';
import { startWebChild, valueOf, type WebChild, type WsClient } from '../testing/web-mode';

let web: WebChild;
let fixture: RunningFixture;

beforeAll(async () => {
  [web, fixture] = await Promise.all([
    startWebChild(),
    startFixture({ threads: 3, pipes: 2, maps: 10 }),
  ]);
});

afterAll(async () => {
  await Promise.all([web?.stop(), fixture?.stop()]);
});

async function expectAlive(): Promise<void> {
  expect(web.exit(), web.output.join('\n')).toBeNull();
  const c = await web.connect();
  expect(valueOf<{ transport: string }>(await c.request('appInfo', {})).transport).toBe('web');
  c.close();
}

const walkParams = (pid: number, extra: Record<string, unknown> = {}) => ({
  pid,
  flags: DEFAULT_CAPTURE_FLAGS,
  allocator: { strategy: 'heap' },
  classes: ['THREADS'],
  pace: { mode: 'run' },
  onAllocFailure: 'stop',
  ...extra,
});

describe('item 5: replies have back-pressure', () => {
  it('100 getEvents of a client that does not read leave memory bounded; others are answered', async () => {
    const big = await startFixture(LARGE_FIXTURE);
    try {
      const owner = await web.connect();
      const st = valueOf<SessionState>(
        await owner.request(
          'startSession',
          walkParams(big.pid, { classes: ['THREADS', 'HANDLES', 'VA_SPACE'], passes: 16 }),
        ),
      );
      const summary = await owner.summaryOf(st.sessionId);
      expect(summary.events).toBeGreaterThan(131_072);
      // The flooder is the owner itself (sessions belong to their connection): it stops reading.
      const before = web.rss();
      owner.ws.pause();
      const floods = Array.from({ length: 100 }, () =>
        owner.request('getEvents', { sessionId: st.sessionId, fromSeq: 0, count: 131_072 }),
      );
      // Meanwhile another client is answered.
      const other = await web.connect();
      expect(valueOf<{ transport: string }>(await other.request('appInfo', {})).transport).toBe(
        'web',
      );
      // 100 replies of 6 MiB would be 600 MiB; the server holds a few socket-loads at most.
      let peak = 0;
      for (let i = 0; i < 20; i++) {
        peak = Math.max(peak, web.rss() - before);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(peak).toBeLessThan(200 * 1024 * 1024);
      owner.ws.resume();
      const replies = await Promise.all(floods);
      // Every request was answered, none lost.
      expect(replies.every((r) => r.ok)).toBe(true);
      other.close();
      owner.close();
      await expectAlive();
    } finally {
      await big.stop();
    }
  });
});

describe('item 6: acks are validated', () => {
  it('an ack of a seq never sent is a validation error and changes nothing', async () => {
    const c = await web.connect();
    const st = valueOf<SessionState>(await c.request('startSession', walkParams(fixture.pid)));
    const summary = await c.summaryOf(st.sessionId);
    expect(summary.events).toBeGreaterThan(0);
    for (const seq of [summary.events, summary.events + 1, 1e12]) {
      const r = await c.request('ackEvents', { sessionId: st.sessionId, seq });
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.kind).toBe('validation');
        expect(r.error.message).toMatch(/only seqs below \d+ .* have been sent/);
      }
    }
    // The last seq sent is fine.
    expect(
      (await c.request('ackEvents', { sessionId: st.sessionId, seq: summary.events - 1 })).ok,
    ).toBe(true);
    c.close();
    await expectAlive();
  });
});

describe('item 7: snapshots, sessions and /proc scans are capped', () => {
  it('a connection holds at most 16 snapshots; the 17th capture is a clear limit error', async () => {
    const c = await web.connect();
    const ids: string[] = [];
    for (let i = 0; i < 16; i++) {
      ids.push(
        valueOf<SnapshotInfo>(await c.request('capture', { pid: fixture.pid, flags: 0 }))
          .snapshotId,
      );
    }
    const r = await c.request('capture', { pid: fixture.pid, flags: 0 });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.kind).toBe('limit');
      expect(r.error.message).toMatch(/already holds 16 snapshots/);
      expect(r.error.hint).toMatch(/Free snapshots/);
    }
    valueOf(await c.request('freeSnapshot', { snapshotId: ids[0] as string }));
    valueOf(await c.request('capture', { pid: fixture.pid, flags: 0 }));
    c.close();
    await expectAlive();
  });

  it('the host holds at most 64 snapshots across connections', async () => {
    const own = await startWebChild();
    const conns: WsClient[] = [];
    for (let k = 0; k < 4; k++) {
      const c = await own.connect();
      conns.push(c);
      for (let i = 0; i < 16; i++)
        valueOf(await c.request('capture', { pid: fixture.pid, flags: 0 }));
    }
    const fifth = await own.connect();
    const r = await fifth.request('capture', { pid: fixture.pid, flags: 0 });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.kind).toBe('limit');
      expect(r.error.message).toMatch(/the inspector already holds 64 snapshots/);
    }
    // A connection that goes away gives its snapshots back (its close runs on the server).
    conns[0]?.close();
    await conns[0]?.waitClosed();
    let ok = false;
    for (let i = 0; i < 200 && !ok; i++) {
      ok = (await fifth.request('capture', { pid: fixture.pid, flags: 0 })).ok;
      if (!ok) await new Promise((res) => setTimeout(res, 50));
    }
    expect(ok).toBe(true);
    expect(own.exit()).toBeNull();
    for (const c of [...conns, fifth]) c.close();
    await own.stop();
  });

  it('a connection holds at most 64 sessions; the 65th start is a clear limit error', async () => {
    const c = await web.connect();
    const snap = valueOf<SnapshotInfo>(await c.request('capture', { pid: fixture.pid, flags: 0 }));
    const params = {
      snapshotId: snap.snapshotId,
      flags: 0,
      allocator: { strategy: 'heap' },
      classes: ['THREADS'],
      pace: { mode: 'run' },
      onAllocFailure: 'stop',
    };
    for (let i = 0; i < 64; i++) {
      const st = valueOf<SessionState>(await c.request('startSession', params));
      await c.summaryOf(st.sessionId);
    }
    const r = await c.request('startSession', params);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.kind).toBe('limit');
      expect(r.error.message).toMatch(/already holds 64 sessions/);
    }
    c.close();
    await expectAlive();
  });

  it('200 concurrent listProcesses under a 256-descriptor limit all succeed', async () => {
    const small = await startWebChild({ maxOpenFiles: 256 });
    try {
      const conns = await Promise.all(Array.from({ length: 4 }, () => small.connect()));
      const replies = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          (conns[i % conns.length] as WsClient).request('listProcesses', {}),
        ),
      );
      const failed = replies.filter((r) => !r.ok);
      expect(failed.map((r) => (r.ok ? '' : r.error.message)).slice(0, 3)).toEqual([]);
      expect(small.exit()).toBeNull();
      for (const c of conns) c.close();
    } finally {
      await small.stop();
    }
  });
});

describe('item 9: errors that say what happened', () => {
  it('THREAD_CONTEXT captures contexts; a gone process and refused flags have their own hints', async () => {
    const c = await web.connect();
    const flags = PssCaptureFlags.THREADS | PssCaptureFlags.THREAD_CONTEXT;
    const info = valueOf<SnapshotInfo>(await c.request('capture', { pid: fixture.pid, flags }));
    expect(info.counts.threads).toBeGreaterThan(1);
    expect(info.counts.contextLength).toBeGreaterThan(0);
    const ext = await c.request('capture', {
      pid: fixture.pid,
      flags: flags | PssCaptureFlags.THREAD_CONTEXT_EXTENDED,
    });
    expect(ext.ok).toBe(false);
    if (!ext.ok) expect(ext.error.hint).not.toMatch(/no longer exists/);
    // A process that is gone.
    const child = spawn('true');
    const gonePid = child.pid as number;
    await new Promise((r) => child.once('exit', r));
    const gone = await c.request('capture', { pid: gonePid, flags: 0 });
    expect(gone.ok).toBe(false);
    if (!gone.ok) expect(gone.error.hint).toMatch(/no longer exists/);
    c.close();
  });

  it('restorePosition of an unknown bookmark is not-found, not an internal failure', async () => {
    const c = await web.connect();
    const st = valueOf<SessionState>(
      await c.request(
        'startSession',
        walkParams(fixture.pid, { pace: { mode: 'paced', entriesPerSecond: 1 } }),
      ),
    );
    valueOf(await c.request('sessionControl', { sessionId: st.sessionId, action: 'pause' }));
    const r = await c.request('sessionControl', {
      sessionId: st.sessionId,
      action: 'restorePosition',
      bookmarkId: 999,
    });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.kind).toBe('not-found');
      expect(r.error.message).toMatch(/no bookmark 999/);
      expect(r.error.hint).not.toMatch(/cleaned up/);
    }
    // The session is untouched: it can still be stepped.
    const stepped = valueOf<SessionState>(
      await c.request('sessionControl', { sessionId: st.sessionId, action: 'step' }),
    );
    expect(stepped.state).toBe('paused');
    const missing = await c.request('sessionControl', {
      sessionId: st.sessionId,
      action: 'restorePosition',
    });
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.error.message).toMatch(/needs the bookmarkId/);
    c.close();
  });

  it('a kernel-thread-like name with "/" is kept whole', async () => {
    // A zombie whose comm is "kworker/7": no exe, no cmdline, so its image name is its comm.
    const parent = spawn(
      '/bin/sh',
      [
        '-c',
        `python3 -c 'import ctypes; ctypes.CDLL(None).prctl(15, b"kworker/7", 0, 0, 0)' & echo $!; exec sleep 60`,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    try {
      const pid = await new Promise<number>((resolve) =>
        parent.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))),
      );
      const c = await web.connect();
      // Wait until it is a zombie (its python has exited).
      const { readFileSync } = await import('node:fs');
      for (let i = 0; i < 200; i++) {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      const info = valueOf<SnapshotInfo>(await c.request('capture', { pid, flags: 0 }));
      expect(info.processName).toBe('kworker/7');
      c.close();
    } finally {
      parent.kill('SIGKILL');
    }
  });
});

describe('item 10: bounded state pushes and unambiguous sessions', () => {
  it('a session keeps at most 100 bookmarks, so a state push stays small', async () => {
    const c = await web.connect();
    const st = valueOf<SessionState>(
      await c.request(
        'startSession',
        walkParams(fixture.pid, {
          classes: ['THREADS', 'HANDLES', 'VA_SPACE'],
          pace: { mode: 'paced', entriesPerSecond: 1 },
        }),
      ),
    );
    valueOf(await c.request('sessionControl', { sessionId: st.sessionId, action: 'pause' }));
    valueOf(await c.request('sessionControl', { sessionId: st.sessionId, action: 'step' }));
    let last: SessionState | null = null;
    for (let i = 0; i < 100; i++) {
      last = valueOf<SessionState>(
        await c.request('sessionControl', { sessionId: st.sessionId, action: 'savePosition' }),
      );
    }
    expect(last?.bookmarks.length).toBe(100);
    const r = await c.request('sessionControl', {
      sessionId: st.sessionId,
      action: 'savePosition',
    });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.kind).toBe('limit');
      expect(r.error.message).toMatch(/100 bookmarks/);
    }
    // The session itself is fine.
    const state = valueOf<SessionState>(
      await c.request('sessionControl', { sessionId: st.sessionId, action: 'step' }),
    );
    expect(state.state).toBe('paused');
    expect(JSON.stringify(state).length).toBeLessThan(32 * 1024);
    c.close();
  });

  it('a session given both a pid and a snapshotId is refused', async () => {
    const c = await web.connect();
    const snap = valueOf<SnapshotInfo>(await c.request('capture', { pid: fixture.pid, flags: 0 }));
    const r = await c.request(
      'startSession',
      walkParams(process.pid, { snapshotId: snap.snapshotId }),
    );
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.kind).toBe('validation');
      expect(r.error.message).toMatch(/not both/);
    }
    c.close();
    await expectAlive();
  });
});
