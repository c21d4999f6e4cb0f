/**
 * Push ingest against a fake PssApi (installed as the Electron preload's `pss`): events are
 * copied into the columns and handed to the analysis (its engine runs in the page here: Node
 * has no Web Worker), each analysis frame acks what it analysed, the time cursor's state comes
 * back from the analysis, and the page never asks for events again (no getEvents).
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
  it('analyses every event once, acks what was analysed, and answers the time cursor', async () => {
    const { startIngest, adoptSession, expectSession } = await import('./ingest');
    const { sessionData } = await import('./sessionData');
    const { Ledger } = await import('../../src-shared/ledger/ledger');
    const { ColumnEvents } = await import('../data/analysis');
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
    // The host's credit stream sends the rest in pushes, as the acks allow.
    for (let from = 100; from < 3000; from += 700) {
      const to = Math.min(3000, from + 700);
      push('events', {
        sessionId: 's1',
        firstSeq: from,
        bytes: encode(trace.slice(from, to), from),
      });
    }
    push('sessionState', endedState(state, 'finished', { eventsStored: 3000 }));
    await until(() => d?.analysis.frontier === 3000, 'the analysis to reach 3000');
    expect(d?.columns.received).toBe(3000);
    const l = d?.analysis.ledger;
    expect(l?.events).toBe(3000);
    expect(l?.summary().allocations).toBe(1500);
    expect(l?.summary().frees).toBe(1500);
    expect(l?.liveBytes).toBe(0);
    await until(
      () => calls.filter((c) => c.name === 'ackEvents').at(-1)?.params['seq'] === 2999,
      'the ack of seq 2999',
    );
    expect(calls.filter((c) => c.name === 'getEvents')).toEqual([]);

    // The time cursor: the state comes back from the analysis, equal to a fold to that event.
    const at = 1234;
    const first = d?.ledgerAt(at);
    expect(first?.events).not.toBe(at); // asked; the answer is on its way
    await until(() => d?.ledgerAt(at).events === at, 'the state at the cursor');
    if (!d) throw new Error('no session data');
    const naive = new Ledger(0);
    naive.fold(new ColumnEvents(d.columns), 0, at);
    expect(d?.ledgerAt(at).summary()).toEqual(naive.summary());
    expect([...(d?.ledgerAt(at).live ?? [])].sort()).toEqual([...naive.live].sort());
  });
});
