/**
 * The boundary check of what a walk worker (or walk child) sends the main thread: every
 * message is checked here before the client uses it, so nothing untyped crosses. A result must
 * answer the op that was called, with a value of that op's shape; a session state must be a
 * valid SessionState (src-shared/contract/session-state.ts); an event batch must be whole
 * records. A message that fails is a broken worker: the client ends it (and restarts it).
 */
import { EVENT_SIZE } from '../../src-shared/events/layout';
import { WALKABLE_CLASSES } from '../../src-shared/pss/constants';
import { errorReplyProblem, sessionStateProblem } from '../../src-shared/contract/session-state';
import type { FromWorker, WorkerOp } from './protocol';

export type Checked = { ok: true; message: FromWorker } | { ok: false; problem: string };

const isObj = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);
const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
const isClass = (x: unknown): boolean =>
  typeof x === 'string' && (WALKABLE_CLASSES as readonly string[]).includes(x);

/** What is wrong with the value a call of `op` answered (null: nothing). */
function valueProblem(op: WorkerOp, v: unknown): string | null {
  switch (op) {
    case 'capture':
      return isObj(v) && typeof v.snapshotId === 'string' && isCount(v.pid) && isObj(v.counts)
        ? null
        : 'not a SnapshotInfo';
    case 'freeSnapshot':
    case 'shutdown':
      return v === null ? null : 'expected null';
    case 'query':
      return isObj(v) &&
        typeof v.snapshotId === 'string' &&
        isClass(v.cls) &&
        isCount(v.offset) &&
        isCount(v.total) &&
        Array.isArray(v.entries)
        ? null
        : 'not an EntryPage';
    case 'allEntries':
      return Array.isArray(v) ? null : 'not an array of entries';
    case 'startSession':
    case 'control':
      return sessionStateProblem(v);
    case 'stats':
      return isObj(v) &&
        ['snapshots', 'sessions', 'allocatorNativeBytes', 'heapUsed', 'rss'].every((k) =>
          isCount(v[k]),
        )
        ? null
        : 'not WorkerStats';
  }
}

/**
 * Checks one message from the worker. `opOf(id)` is the op the client called under that id
 * (undefined: no such call is pending).
 */
export function checkFromWorker(m: unknown, opOf: (id: number) => WorkerOp | undefined): Checked {
  const bad = (problem: string): Checked => ({ ok: false, problem });
  if (!isObj(m)) return bad('a message that is not an object');
  switch (m.t) {
    case 'result': {
      if (!isCount(m.id)) return bad('a result without an id');
      const op = opOf(m.id);
      if (op === undefined) return bad(`a result for call ${m.id}, which is not pending`);
      if (m.op !== op)
        return bad(
          typeof m.op === 'string'
            ? `a ${m.op} result for the ${op} call ${m.id}`
            : `a result naming no op for the ${op} call ${m.id}`,
        );
      if (m.ok === false) {
        const p = errorReplyProblem(m.error);
        return p
          ? bad(`a ${op} error that is no ErrorReply: ${p}`)
          : { ok: true, message: m as FromWorker };
      }
      if (m.ok !== true) return bad(`a ${op} result that is neither ok nor failed`);
      const p = valueProblem(op, m.value);
      return p ? bad(`a malformed ${op} result: ${p}`) : { ok: true, message: m as FromWorker };
    }
    case 'events':
      return typeof m.sessionId === 'string' &&
        isCount(m.firstSeq) &&
        m.batch instanceof ArrayBuffer &&
        m.batch.byteLength % EVENT_SIZE === 0
        ? { ok: true, message: m as FromWorker }
        : bad('a malformed events message');
    case 'entries':
      return typeof m.sessionId === 'string' &&
        isClass(m.cls) &&
        isCount(m.startIndex) &&
        Array.isArray(m.entries)
        ? { ok: true, message: m as FromWorker }
        : bad('a malformed entries message');
    case 'state': {
      const p = sessionStateProblem(m.state);
      return p ? bad(`a malformed session state: ${p}`) : { ok: true, message: m as FromWorker };
    }
    case 'summary':
      return isObj(m.summary) &&
        typeof m.summary.sessionId === 'string' &&
        isCount(m.summary.events) &&
        isObj(m.summary.entriesWalked) &&
        isObj(m.summary.durations)
        ? { ok: true, message: m as FromWorker }
        : bad('a malformed summary');
    default:
      return bad(`a message of unknown type ${String(m.t)}`);
  }
}
