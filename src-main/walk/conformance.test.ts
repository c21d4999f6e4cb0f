/**
 * The host's test fake of the walk service (src-main/host/testing.ts) fails exactly as the real
 * one: the same failure cases run against the real walk worker (libpss, real processes) and
 * against the fake, and every reply, rejection, pushed state transition, loss and summary must
 * be identical. Ids the services choose (snapshot ids) are compared as placeholders.
 *
 * The real side's world is real: a pid with no process is one that just exited, a process
 * that exits mid-walk is killed during a paced walk, an allocator returning NULL is the
 * faulty strategy failing the marker's allocation, a worker that dies is terminated mid-walk.
 * The fake is told the same facts (gone / unreadable pids).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionState, SessionSummary } from '../../src-shared/contract/model';
import { DEFAULT_CAPTURE_FLAGS, PssCaptureFlags } from '../../src-shared/pss/constants';
import { toErrorReply } from '../errors/reply';
import { FakeWalkService } from '../host/testing';
import { startFixture, type RunningFixture } from '../testing/fixture';
import {
  UNPRIVILEGED_ID,
  canDropPrivileges,
  runScriptWithoutCapabilities,
  spawnAsUnprivileged,
  waitForUid,
} from '../testing/privilege';
import { createWalkService } from './client';
import type { SessionSink, StartSessionOptions, WalkService } from './service';

type Service = WalkService & { terminateWorker(): Promise<void> };

/** What the case saw, in order, as plain data. */
type Trace = unknown[];

/** The world a case runs in: the same pids for both services. */
interface World {
  /** A live, readable process (the fixture). */
  live: number;
  /** A pid that has no process (a child that exited). */
  gone: number;
}

const ID = /\bw\d+-snap\d+\b/g;
function normalize(x: unknown, names: void | Record<string, string>): unknown {
  let text = JSON.stringify(x).replace(ID, '<snapshot>');
  for (const [from, to] of Object.entries(names ?? {})) text = text.split(from).join(to);
  return JSON.parse(text) as unknown;
}

async function settle(p: Promise<unknown>, trace: Trace, label: string): Promise<unknown> {
  try {
    const v = await p;
    trace.push({ [label]: 'ok', ...(isState(v) ? { state: stateOf(v) } : {}) });
    return v;
  } catch (e) {
    trace.push({ [label]: 'rejected', error: toErrorReply(e) });
    return null;
  }
}

const isState = (v: unknown): v is SessionState =>
  typeof v === 'object' && v !== null && 'sessionId' in v && 'state' in v;

/** The comparable part of a state (not what only timing decides: counts of events or entries). */
function stateOf(s: SessionState): unknown {
  return {
    state: s.state,
    error: s.error,
    current: s.current === null ? null : 'some',
    targetExited: s.targetExited,
    classes: s.classes.map((c) => c.cls),
    pid: s.pid,
    snapshotId: s.snapshotId,
  };
}

/**
 * A sink that records the state transitions (a new state name or error: progress pushes of a
 * running walk come as time allows, so they are not compared; a session's first push is
 * compared with 'running'), the summary and a loss.
 */
function recorder(trace: Trace): SessionSink & { ended: Promise<void> } {
  let end!: () => void;
  const ended = new Promise<void>((r) => (end = r));
  let last = 'running';
  return {
    ended,
    events() {},
    entries() {},
    state(s) {
      const k = `${s.state} ${s.error?.message ?? ''}`.trim();
      if (k !== last) trace.push({ push: 'state', state: stateOf(s) });
      last = k;
    },
    summary(s: SessionSummary) {
      trace.push({ push: 'summary', sessionId: s.sessionId });
      end();
    },
    lost(s) {
      trace.push({ push: 'lost', state: stateOf(s) });
      end();
    },
  };
}

const walkOptions = (o: Partial<StartSessionOptions>): StartSessionOptions => ({
  flags: DEFAULT_CAPTURE_FLAGS,
  allocator: { strategy: 'heap' },
  classes: ['THREADS'],
  pace: { mode: 'run' },
  onAllocFailure: 'stop',
  ...o,
});

/** A slow walk: still running after the case's next steps (1 entry/s, many passes). */
const slow = (pid: number): StartSessionOptions =>
  walkOptions({ pid, pace: { mode: 'paced', entriesPerSecond: 1 }, passes: 1000 });

interface Case {
  name: string;
  /** Sets the fake's world to match the real one (before the case runs on the fake). */
  prepareFake?(fake: FakeWalkService, world: World): void;
  /** Runs the case; may name texts that differ between runs by nature (a pid it spawned). */
  run(svc: Service, world: World, trace: Trace): Promise<void | Record<string, string>>;
}

const CASES: Case[] = [
  {
    name: 'capture: a pid with no process',
    prepareFake: (f, w) => f.gone.add(w.gone),
    run: async (svc, w, t) => {
      await settle(svc.capture(w.gone, DEFAULT_CAPTURE_FLAGS), t, 'capture');
    },
  },
  {
    name: 'capture: flags the platform refuses (bad options)',
    run: async (svc, w, t) => {
      const flags =
        PssCaptureFlags.THREADS |
        PssCaptureFlags.THREAD_CONTEXT |
        PssCaptureFlags.THREAD_CONTEXT_EXTENDED;
      await settle(svc.capture(w.live, flags), t, 'capture');
    },
  },
  {
    name: 'unknown snapshot: free, query, all entries, walk',
    run: async (svc, _w, t) => {
      await settle(svc.freeSnapshot('w9-snap9'), t, 'free');
      await settle(svc.querySnapshot('w9-snap9', 'THREADS', 0, 10), t, 'query');
      await settle(svc.allEntries('w9-snap9', 'HANDLES'), t, 'allEntries');
      const sink = recorder(t);
      await settle(
        svc.startSession('c-unknown-snap', walkOptions({ snapshotId: 'w9-snap9' }), sink),
        t,
        'start',
      );
      await sink.ended;
    },
  },
  {
    name: 'a freed snapshot is unknown afterwards',
    run: async (svc, w, t) => {
      const info = await svc.capture(w.live, DEFAULT_CAPTURE_FLAGS);
      await settle(svc.freeSnapshot(info.snapshotId), t, 'free');
      await settle(svc.freeSnapshot(info.snapshotId), t, 'free again');
      await settle(svc.querySnapshot(info.snapshotId, 'THREADS', 0, 1), t, 'query');
    },
  },
  {
    name: 'startSession: a pid with no process',
    prepareFake: (f, w) => f.gone.add(w.gone),
    run: async (svc, w, t) => {
      const sink = recorder(t);
      await settle(svc.startSession('c-gone', walkOptions({ pid: w.gone }), sink), t, 'start');
      await sink.ended;
    },
  },
  {
    name: 'startSession: the allocator returns NULL for the marker (policy stop)',
    run: async (svc, w, t) => {
      const sink = recorder(t);
      const allocator = { strategy: 'faulty', inner: { strategy: 'heap' }, failNth: [1] } as const;
      await settle(
        svc.startSession('c-null', walkOptions({ pid: w.live, allocator }), sink),
        t,
        'start',
      );
      await sink.ended;
    },
  },
  {
    name: 'startSession: a user allocator library on an existing snapshot (bad options)',
    run: async (svc, w, t) => {
      const info = await svc.capture(w.live, DEFAULT_CAPTURE_FLAGS);
      const allocator = { strategy: 'user', libraryPath: '/nonexistent/liballoc.so' } as const;
      await settle(
        svc.startSession(
          'c-user',
          walkOptions({ snapshotId: info.snapshotId, allocator }),
          recorder(t),
        ),
        t,
        'start',
      );
      await svc.freeSnapshot(info.snapshotId);
    },
  },
  {
    name: 'unknown session, the same id twice, an unknown bookmark, a session that ended',
    run: async (svc, w, t) => {
      await settle(svc.control('c-nobody', 'pause', {}), t, 'control unknown');
      const sink = recorder(t);
      await settle(svc.startSession('c-dup', slow(w.live), sink), t, 'start');
      await settle(svc.startSession('c-dup', slow(w.live), recorder(t)), t, 'start again');
      await settle(svc.control('c-dup', 'pause', {}), t, 'pause');
      await settle(
        svc.control('c-dup', 'restorePosition', { bookmarkId: 999 }),
        t,
        'restore unknown',
      );
      await settle(svc.control('c-dup', 'cancel', {}), t, 'cancel');
      await sink.ended;
      await settle(svc.control('c-dup', 'resume', {}), t, 'control ended');
    },
  },
  {
    name: 'the target exits mid-walk: the walk goes on from the capture and says so',
    run: async (svc, _w, t) => {
      const target = spawn('sleep', ['60'], { stdio: 'ignore' });
      const pid = target.pid as number;
      const exited = new Promise((r) => target.once('exit', r));
      const sink = recorder(t);
      const fake = svc instanceof FakeWalkService ? svc : null;
      if (fake) fake.plan = { batches: 200, eventsPerBatch: 10, tickMs: 10 };
      // sleep has one thread: 200 passes at 100 entries/s is 2 s of walking.
      await settle(
        svc.startSession(
          'c-exit',
          walkOptions({ pid, pace: { mode: 'paced', entriesPerSecond: 100 }, passes: 200 }),
          sink,
        ),
        t,
        'start',
      );
      target.kill('SIGKILL');
      await exited;
      fake?.gone.add(pid);
      await sink.ended;
      return { [String(pid)]: '"<target>"' };
    },
  },
  {
    name: 'the worker dies mid-walk: its sessions end failed, the next requests work',
    run: async (svc, w, t) => {
      const info = await svc.capture(w.live, DEFAULT_CAPTURE_FLAGS);
      const sink = recorder(t);
      await settle(svc.startSession('c-died', slow(w.live), sink), t, 'start');
      await svc.terminateWorker();
      await sink.ended;
      // The next requests work on a new worker; what the dead one held is gone.
      await settle(svc.control('c-died', 'pause', {}), t, 'control lost session');
      await settle(svc.querySnapshot(info.snapshotId, 'THREADS', 0, 1), t, 'query old snapshot');
      const next = (await settle(svc.capture(w.live, DEFAULT_CAPTURE_FLAGS), t, 'capture')) as {
        snapshotId: string;
      } | null;
      const again = recorder(t);
      await settle(svc.startSession('c-after', slow(w.live), again), t, 'start after');
      await settle(svc.control('c-after', 'cancel', {}), t, 'cancel after');
      await again.ended;
      if (next) await settle(svc.freeSnapshot(next.snapshotId), t, 'free');
    },
  },
];

let fixture: RunningFixture;
let real: Service;
let world: World;

beforeAll(async () => {
  fixture = await startFixture();
  real = createWalkService();
  const child = spawn('true');
  await new Promise((r) => child.once('exit', r));
  world = { live: fixture.pid, gone: child.pid as number };
}, 60_000);

afterAll(async () => {
  await real?.close();
  await fixture?.stop();
});

describe('the walk service fake fails exactly as the real worker', () => {
  for (const c of CASES) {
    it(
      c.name,
      async () => {
        const realTrace: Trace = [];
        const realNames = await c.run(real, world, realTrace);
        const fake = new FakeWalkService();
        c.prepareFake?.(fake, world);
        const fakeTrace: Trace = [];
        const fakeNames = await c.run(fake, world, fakeTrace);
        await fake.close();
        // The case saw failures (it is not vacuous) and both services gave the same ones.
        expect(JSON.stringify(realTrace)).toMatch(/rejected|"failed"|"lost"|targetExited":true/);
        expect(normalize(fakeTrace, fakeNames)).toEqual(normalize(realTrace, realNames));
      },
      60_000,
    );
  }

  it.skipIf(!canDropPrivileges())(
    'capture: a pid the inspector may not read (root without CAP_SYS_PTRACE)',
    async () => {
      const { child, exited } = spawnAsUnprivileged(['sleep', '30']);
      try {
        const pid = child.pid as number;
        await waitForUid(pid, UNPRIVILEGED_ID);
        const client = join(import.meta.dirname, 'client.ts');
        const mapping = join(import.meta.dirname, '..', 'errors', 'reply.ts');
        const r = runScriptWithoutCapabilities(`
          import { createWalkService } from ${JSON.stringify(client)};
          import { toErrorReply } from ${JSON.stringify(mapping)};
          // The walk worker is unref'd: keep this script alive until the answer is in.
          const keepAlive = setInterval(() => undefined, 1000);
          const w = createWalkService();
          const out = await w.capture(${pid}, ${DEFAULT_CAPTURE_FLAGS}).then(
            () => ({ ok: true }),
            (e) => ({ ok: false, error: toErrorReply(e) }),
          );
          await w.close();
          clearInterval(keepAlive);
          process.stdout.write(JSON.stringify(out));`);
        expect(r.status, r.stderr).toBe(0);
        const realReply = JSON.parse(r.stdout) as unknown;
        expect(realReply).toMatchObject({ ok: false, error: { kind: 'pss', code: 5 } });
        const fake = new FakeWalkService();
        fake.unreadable.add(pid);
        const fakeReply = await fake.capture(pid, DEFAULT_CAPTURE_FLAGS).then(
          () => ({ ok: true }),
          (e: unknown) => ({ ok: false, error: toErrorReply(e) }),
        );
        expect(fakeReply).toEqual(realReply);
      } finally {
        child.kill('SIGKILL');
        await exited;
      }
    },
    60_000,
  );
});
