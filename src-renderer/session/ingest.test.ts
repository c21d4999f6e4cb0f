/**
 * Push ingest against a fake PssApi (installed as the Electron preload's `pss`): events are
 * copied and acked with the highest seq, an aggregate's range is paged in with getEvents, and
 * a batch that skips ahead leaves a gap that is fetched too.
 */
import { endedState, startingState, walkingState } from '../../src-shared/contract/session-state';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PushMessages, PushName } from '../../src-shared/contract/contract';
import type { SessionState } from '../../src-shared/contract/model';
import { alloc, encode, free } from '../data/testEvents';
import type { TestEvent } from '../data/testEvents';

type Listener = (m: unknown) => void;
const listeners = new Map<string, Listener[]>();
const calls: { name: string; params: Record<string, unknown> }[] = [];
/** The host's trace: what getEvents answers from. */
const trace: TestEvent[] = [];
for (let i = 0; i < 3000; i++)
  trace.push(
    i % 2 === 0 ? alloc(BigInt(0x1000 + i * 64), 32) : free(BigInt(0x1000 + (i - 1) * 64), 32),
  );

function push<P extends PushName>(name: P, msg: PushMessages[P]): void {
  for (const l of listeners.get(name) ?? []) l(msg);
}

const plan = {
  sessionId: 's1',
  pid: 42,
  snapshotId: null,
  pace: { mode: 'run' },
  classes: ['THREADS'],
  passes: 1,
  allocator: { strategy: 'heap' },
  clockOriginEpochMs: 0,
} as const;
const state: SessionState = walkingState(plan, {
  ...startingState(plan),
  state: 'running',
  classes: [{ cls: 'THREADS', walked: 0, total: 10, done: false }],
});

beforeAll(() => {
  const g = globalThis as Record<string, unknown>;
  g['requestAnimationFrame'] = (cb: (t: number) => void) =>
    setTimeout(() => cb(performance.now()), 1);
  g['pss'] = {
    transport: 'electron',
    request(name: string, params: Record<string, unknown>) {
      calls.push({ name, params });
      if (name === 'getEvents') {
        const from = params['fromSeq'] as number;
        const count = params['count'] as number;
        const slice = trace.slice(from, from + count);
        return Promise.resolve({
          ok: true,
          value: { sessionId: 's1', fromSeq: from, bytes: encode(slice, from) },
        });
      }
      return Promise.resolve({ ok: true, value: { ok: true } });
    },
    on(name: string, l: Listener) {
      const list = listeners.get(name) ?? [];
      list.push(l);
      listeners.set(name, list);
      return () => undefined;
    },
  };
});

const settle = (ms = 30): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits for a condition (frames and pages run on timers: their pace depends on the machine). */
async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await settle(10);
  }
}

describe('push ingest', () => {
  it('acks, fills aggregated ranges and gaps, and analyses everything in order', async () => {
    const { startIngest, adoptSession, expectSession } = await import('./ingest');
    const { sessionData } = await import('./sessionData');
    startIngest();
    expectSession(true);
    // A push that arrives before the startSession reply is kept and replayed.
    push('events', { sessionId: 's1', firstSeq: 0, bytes: encode(trace.slice(0, 100), 0) });
    adoptSession(state);
    const d = sessionData();
    expect(d?.columns.length).toBe(100);
    await until(
      () => calls.filter((c) => c.name === 'ackEvents').at(-1)?.params['seq'] === 99,
      'the ack of seq 99',
    );

    // The host fell behind: 100..1100 arrive as an aggregate, then detail resumes.
    push('aggregate', {
      sessionId: 's1',
      fromSeq: 100,
      toSeq: 1100,
      allocations: 500,
      frees: 500,
      freeNulls: 0,
      failures: 0,
      violations: 0,
      bytesAllocated: 16000,
      bytesFreed: 16000,
      liveBytes: 0,
      firstTimeNs: 100_000,
      lastTimeNs: 1_099_000,
    });
    push('events', {
      sessionId: 's1',
      firstSeq: 1100,
      bytes: encode(trace.slice(1100, 1200), 1100),
    });
    // A batch that skips ahead (1200..1500 never pushed).
    push('events', {
      sessionId: 's1',
      firstSeq: 1500,
      bytes: encode(trace.slice(1500, 1600), 1500),
    });
    await until(() => d?.analysis.frontier === 1600, 'the analysis to reach 1600');
    expect(d?.columns.missing.isEmpty).toBe(true);
    expect(d?.columns.received).toBe(1600);
    expect(d?.analysis.frontier).toBe(1600);
    expect(d?.analysis.ledger.summary().allocations).toBe(800);
    expect(d?.analysis.ledger.summary().frees).toBe(800);
    expect(d?.analysis.ledger.liveBytes).toBe(0);
    const pages = calls
      .filter((c) => c.name === 'getEvents')
      .map((c) => [c.params['fromSeq'], c.params['count']]);
    expect(pages).toContainEqual([100, 1000]);
    expect(pages).toContainEqual([1200, 300]);
    expect(calls.filter((c) => c.name === 'ackEvents').at(-1)?.params['seq']).toBe(1599);

    // The session ends with more events stored than pushed: the rest is paged in.
    push('sessionState', endedState(state, 'finished', { eventsStored: 3000 }));
    await until(() => d?.analysis.frontier === 3000, 'the analysis to reach 3000');
    expect(d?.columns.length).toBe(3000);
    expect(d?.analysis.frontier).toBe(3000);
    expect(d?.analysis.ledger.summary().allocations).toBe(1500);
  });
});
