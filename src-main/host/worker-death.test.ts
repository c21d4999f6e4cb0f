/**
 * A walk worker that dies mid-walk (issue 10, item 5), for real: the host runs on the real walk
 * service, a paced walk of the fixture is running (and a snapshot is held), and the worker
 * thread is terminated. The session must end at once as 'failed' with "walk worker died: …"
 * (never "live" forever): a state push, an error push, and a summary that is the ledger of the
 * events the host stored (so no count mismatch is reported); it can no longer be controlled,
 * its trace stays readable, the running count is released. The next capture and walk work on
 * a new worker; the old snapshot is "not found".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  PushMessages,
  PushName,
  Reply,
  RequestName,
} from '../../src-shared/contract/contract';
import type {
  ErrorReply,
  SessionState,
  SessionSummary,
  SnapshotInfo,
} from '../../src-shared/contract/model';
import { EventBatchView } from '../../src-shared/events/batch';
import { DEFAULT_CAPTURE_FLAGS } from '../../src-shared/pss/constants';
import { createWalkService, type WalkServiceClient } from '../walk/client';
import { startFixture, type RunningFixture } from '../testing/fixture';
import { SessionHost, type ConnectionSink } from './host';
import { toErrorReply } from '../errors/reply';

class Pushes implements ConnectionSink {
  readonly list: { name: PushName; message: unknown }[] = [];
  private wake: (() => void)[] = [];
  push<P extends PushName>(name: P, message: PushMessages[P]): void {
    this.list.push({ name, message });
    for (const w of this.wake.splice(0)) w();
  }
  of<P extends PushName>(name: P, sessionId: string): PushMessages[P][] {
    return this.list
      .filter((p) => p.name === name)
      .map((p) => p.message as PushMessages[P])
      .filter((m) => (m as { sessionId?: string }).sessionId === sessionId);
  }
  /** Resolves when a push satisfies `check` (the session's end cannot be missed: it is pushed). */
  async until(check: () => boolean): Promise<void> {
    while (!check()) await new Promise<void>((r) => this.wake.push(r));
  }
}

function value<T>(r: Reply<RequestName>): T {
  if (!r.ok) throw new Error(`${r.error.kind}: ${r.error.message}`);
  return r.value as T;
}

let fixture: RunningFixture;
let walk: WalkServiceClient;
let host: SessionHost;

beforeAll(async () => {
  fixture = await startFixture();
  walk = createWalkService();
  host = new SessionHost({
    walk,
    transport: 'web',
    library: 'libpss',
    version: 'test',
    log: () => undefined,
  });
}, 60_000);

afterAll(async () => {
  await host?.close();
  await walk?.close();
  await fixture?.stop();
});

const walkParams = (pid: number) => ({
  pid,
  flags: DEFAULT_CAPTURE_FLAGS,
  allocator: { strategy: 'heap' },
  classes: ['THREADS', 'HANDLES'],
  pace: { mode: 'paced', entriesPerSecond: 20 },
  onAllocFailure: 'stop',
  passes: 1000,
});

describe('a walk worker that dies mid-walk', () => {
  it('ends its sessions failed with "walk worker died", and the next capture and walk work', async () => {
    const pushes = new Pushes();
    const c = host.connect(pushes);
    const snap = value<SnapshotInfo>(
      await c.handle('capture', { pid: fixture.pid, flags: DEFAULT_CAPTURE_FLAGS }),
    );
    const st = value<SessionState>(await c.handle('startSession', walkParams(fixture.pid)));
    const id = st.sessionId;
    // Mid-walk: some events are stored.
    await pushes.until(() => pushes.of('events', id).length > 0);
    expect(host.counts.running).toBe(1);

    await walk.terminateWorker();
    await pushes.until(() => pushes.of('summary', id).length > 0);

    const states = pushes.of('sessionState', id);
    const last = states[states.length - 1] as SessionState;
    expect(last.state).toBe('failed');
    expect(last.error?.message).toMatch(/^walk worker died: it was terminated$/);
    expect(last.error?.hint).toMatch(/restarted on the next request/);
    expect(pushes.of('error', id).map((e) => e.error.message)).toEqual([
      'walk worker died: it was terminated',
    ]);
    // The summary is the ledger of exactly the events stored: no mismatch was reported.
    const summary = pushes.of('summary', id)[0] as SessionSummary;
    const stored = pushes
      .of('events', id)
      .reduce((n, e) => n + new EventBatchView(e.bytes).count, 0);
    expect(summary.events).toBeGreaterThan(0);
    expect(summary.events).toBe(stored);
    expect(summary.strategy).toBeNull();
    expect(last.eventsStored).toBe(stored);
    expect(host.counts.running).toBe(0);
    expect(value<SessionSummary>(await c.handle('sessionSummary', { sessionId: id })).events).toBe(
      stored,
    );
    const control = await c.handle('sessionControl', { sessionId: id, action: 'pause' });
    expect(control).toMatchObject({ ok: false, error: { kind: 'misuse' } });
    if (!control.ok) expect(control.error.message).toMatch(/has ended \(failed\)/);

    // What the dead worker held is gone; the next requests run on a new worker.
    const old = await c.handle('querySnapshot', {
      snapshotId: snap.snapshotId,
      cls: 'THREADS',
      offset: 0,
      limit: 5,
    });
    expect(old).toMatchObject({ ok: false, error: { kind: 'not-found' } as Partial<ErrorReply> });
    const again = value<SnapshotInfo>(
      await c.handle('capture', { pid: fixture.pid, flags: DEFAULT_CAPTURE_FLAGS }),
    );
    expect(again.snapshotId).not.toBe(snap.snapshotId);
    expect(again.counts.threads).toBeGreaterThan(0);
    const next = value<SessionState>(
      await c.handle('startSession', {
        ...walkParams(fixture.pid),
        pace: { mode: 'run' },
        passes: 1,
      }),
    );
    await pushes.until(() => pushes.of('summary', next.sessionId).length > 0);
    const ended = pushes.of('sessionState', next.sessionId);
    expect(ended[ended.length - 1]?.state).toBe('finished');
    expect((pushes.of('summary', next.sessionId)[0] as SessionSummary).events).toBeGreaterThan(0);
    await c.close();
  }, 60_000);

  it('fails the calls it had not answered with the same error; the next call works', async () => {
    // Posted to the worker synchronously: it cannot have answered before the terminate below.
    const inFlight = walk.capture(fixture.pid, DEFAULT_CAPTURE_FLAGS).then(
      () => null,
      (e: unknown) => e,
    );
    await walk.terminateWorker();
    expect(toErrorReply(await inFlight)).toEqual({
      kind: 'internal',
      code: null,
      codeName: null,
      message: 'walk worker died: it was terminated',
      hint: expect.stringMatching(/restarted on the next request/) as unknown as string,
    });
    const info = await walk.capture(fixture.pid, DEFAULT_CAPTURE_FLAGS);
    expect(info.counts.threads).toBeGreaterThan(0);
    await walk.freeSnapshot(info.snapshotId);
  }, 60_000);

  it('a worker that answers with a malformed message is ended and replaced', async () => {
    // A call of an op the worker does not know: its core answers a result that names no op,
    // which the boundary check refuses (the one way to make the real worker misbehave).
    const bogus = (walk as unknown as { call(c: { op: string }): Promise<unknown> })
      .call({ op: 'bogus' })
      .then(
        () => null,
        (e: unknown) => e,
      );
    const reply = toErrorReply(await bogus);
    expect(reply.message).toMatch(
      /^walk worker died: it sent a result naming no op for the bogus call \d+$/,
    );
    const info = await walk.capture(fixture.pid, DEFAULT_CAPTURE_FLAGS);
    expect(info.snapshotId).toMatch(/^w\d+-snap\d+$/);
    await walk.freeSnapshot(info.snapshotId);
  }, 60_000);
});
