import { describe, expect, it } from 'vitest';
import { startingState } from '../../src-shared/contract/session-state';
import type { WorkerOp } from './protocol';
import { checkFromWorker } from './protocol-check';

const state = startingState({
  sessionId: 's-1',
  pid: 1,
  snapshotId: null,
  pace: { mode: 'run' },
  classes: ['THREADS'],
  passes: 1,
  allocator: { strategy: 'heap' },
  clockOriginEpochMs: 0,
});
const pending = new Map<number, WorkerOp>([
  [1, 'startSession'],
  [2, 'freeSnapshot'],
  [3, 'stats'],
]);
const opOf = (id: number): WorkerOp | undefined => pending.get(id);

describe('checkFromWorker: nothing unchecked crosses from the walk worker', () => {
  it('passes well-formed messages', () => {
    const good: unknown[] = [
      { t: 'result', id: 1, op: 'startSession', ok: true, value: state },
      { t: 'result', id: 2, op: 'freeSnapshot', ok: true, value: null },
      {
        t: 'result',
        id: 3,
        op: 'stats',
        ok: false,
        error: { kind: 'internal', code: null, codeName: null, message: 'x', hint: 'y' },
      },
      { t: 'events', sessionId: 's-1', firstSeq: 0, batch: new ArrayBuffer(96) },
      { t: 'entries', sessionId: 's-1', cls: 'HANDLES', startIndex: 0, entries: [] },
      { t: 'state', state },
      { t: 'summary', summary: { sessionId: 's-1', events: 0, entriesWalked: {}, durations: {} } },
    ];
    for (const m of good) expect(checkFromWorker(m, opOf)).toMatchObject({ ok: true, message: m });
  });

  it('names what is wrong with a malformed one', () => {
    const bad: [unknown, RegExp][] = [
      ['hello', /not an object/],
      [{ t: 'gossip' }, /unknown type gossip/],
      [{ t: 'result', id: 9, op: 'stats', ok: true, value: {} }, /call 9, which is not pending/],
      [
        { t: 'result', id: 1, op: 'control', ok: true, value: state },
        /a control result for the startSession call 1/,
      ],
      [
        { t: 'result', id: 1, op: 'startSession', ok: true, value: { ...state, state: 'failed' } },
        /malformed startSession result: a failed state without a valid error/,
      ],
      [{ t: 'result', id: 2, op: 'freeSnapshot', ok: true, value: 0 }, /expected null/],
      [{ t: 'result', id: 3, op: 'stats', ok: true, value: { snapshots: -1 } }, /not WorkerStats/],
      [{ t: 'result', id: 3, op: 'stats', ok: false, error: { kind: 'pss' } }, /no ErrorReply/],
      [{ t: 'result', id: 3, op: 'stats', ok: 'yes' }, /neither ok nor failed/],
      [
        { t: 'events', sessionId: 's-1', firstSeq: 0, batch: new ArrayBuffer(50) },
        /malformed events/,
      ],
      [{ t: 'events', sessionId: 's-1', firstSeq: 0, batch: [1, 2] }, /malformed events/],
      [
        { t: 'entries', sessionId: 's-1', cls: 'PEERS', startIndex: 0, entries: [] },
        /malformed entries/,
      ],
      [{ t: 'state', state: { ...state, current: 5 } }, /bad current/],
      [{ t: 'summary', summary: { sessionId: 's-1' } }, /malformed summary/],
    ];
    for (const [m, why] of bad) {
      const r = checkFromWorker(m, opOf);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.problem).toMatch(why);
    }
  });
});
