/**
 * The only way a SessionState is built: one factory per transition of a session's life.
 *
 *   startingState(plan)              the host's placeholder, before the walk service answers
 *   walkingState(plan, progress)     a walk in progress: starting, running or paused
 *   endedState(prev, how, facts)     finished or cancelled with nothing wrong
 *   failedState(prev, error, facts)  ended with an error (it always names one)
 *   importedState(...)               a trace file opened as a finished session
 *
 * SessionState is a discriminated union (src-shared/contract/model.ts), so a failed state
 * without its error, or an ended one with a current position, does not compile.
 */
import type { AllocatorOptions } from '../alloc/options';
import { WALKABLE_CLASSES, type WalkableClass } from '../pss/constants';
import type {
  ActiveSessionState,
  Bookmark,
  ClassProgress,
  EndedSessionState,
  ErrorKind,
  ErrorReply,
  FailedSessionState,
  Pace,
  SessionState,
} from './model';

/** What a session is started with: fixed for its whole life. */
export interface SessionPlan {
  sessionId: string;
  pid: number;
  snapshotId: string | null;
  pace: Pace;
  classes: readonly WalkableClass[];
  passes: number;
  allocator: AllocatorOptions;
  clockOriginEpochMs: number;
}

/** How far a running walk has got. */
export interface WalkProgress {
  state: ActiveSessionState['state'];
  pace: Pace;
  classes: readonly ClassProgress[];
  current: ActiveSessionState['current'];
  pass: number;
  bookmarks: readonly Bookmark[];
  eventsStored: number;
  targetExited: boolean;
}

/** Facts an ending may update (what the walk had reached when it ended). */
export type EndFacts = Partial<
  Pick<SessionState, 'classes' | 'pass' | 'bookmarks' | 'eventsStored' | 'targetExited' | 'pace'>
>;

const freshClasses = (classes: readonly WalkableClass[]): ClassProgress[] =>
  classes.map((cls) => ({ cls, walked: 0, total: null, done: false }));

/** A session that was asked for and has not walked anything yet. */
export function startingState(plan: SessionPlan): ActiveSessionState {
  return walkingState(plan, {
    state: 'starting',
    pace: plan.pace,
    classes: freshClasses(plan.classes),
    current: null,
    pass: 0,
    bookmarks: [],
    eventsStored: 0,
    targetExited: false,
  });
}

/** A walk in progress (copies what it is given: the result shares nothing mutable). */
export function walkingState(plan: SessionPlan, p: WalkProgress): ActiveSessionState {
  return {
    sessionId: plan.sessionId,
    state: p.state,
    pid: plan.pid,
    snapshotId: plan.snapshotId,
    pace: p.pace,
    classes: p.classes.map((c) => ({ ...c })),
    current: p.current ? { ...p.current } : null,
    pass: p.pass,
    passes: plan.passes,
    bookmarks: [...p.bookmarks],
    eventsStored: p.eventsStored,
    error: null,
    targetExited: p.targetExited,
    clockOriginEpochMs: plan.clockOriginEpochMs,
    allocator: plan.allocator,
  };
}

function ended<S extends SessionState['state']>(
  prev: SessionState,
  state: S,
  facts: EndFacts,
): Omit<SessionState, 'state' | 'current' | 'error'> & { state: S; current: null } {
  return {
    sessionId: prev.sessionId,
    state,
    pid: prev.pid,
    snapshotId: prev.snapshotId,
    pace: facts.pace ?? prev.pace,
    classes: (facts.classes ?? prev.classes).map((c) => ({ ...c })),
    current: null,
    pass: facts.pass ?? prev.pass,
    passes: prev.passes,
    bookmarks: [...(facts.bookmarks ?? prev.bookmarks)],
    eventsStored: facts.eventsStored ?? prev.eventsStored,
    targetExited: facts.targetExited ?? prev.targetExited,
    clockOriginEpochMs: prev.clockOriginEpochMs,
    allocator: prev.allocator,
  };
}

/** The session ended with nothing wrong: it finished, or it was cancelled. */
export function endedState(
  prev: SessionState,
  how: EndedSessionState['state'],
  facts: EndFacts = {},
): EndedSessionState {
  return { ...ended(prev, how, facts), error: null };
}

/** The session ended with this error (whatever state it was in). */
export function failedState(
  prev: SessionState,
  error: ErrorReply,
  facts: EndFacts = {},
): FailedSessionState {
  return { ...ended(prev, 'failed', facts), error };
}

/** A trace file opened as a session: finished, every entry it recorded walked. */
export function importedState(args: {
  sessionId: string;
  pid: number;
  classes: readonly { cls: WalkableClass; entries: number }[];
  eventsStored: number;
  clockOriginEpochMs: number;
  allocator: AllocatorOptions;
}): EndedSessionState {
  return {
    sessionId: args.sessionId,
    state: 'finished',
    pid: args.pid,
    snapshotId: null,
    pace: { mode: 'run' },
    classes: args.classes.map(({ cls, entries }) => ({
      cls,
      walked: entries,
      total: entries,
      done: true,
    })),
    current: null,
    pass: 0,
    passes: 1,
    bookmarks: [],
    eventsStored: args.eventsStored,
    error: null,
    targetExited: false,
    clockOriginEpochMs: args.clockOriginEpochMs,
    allocator: args.allocator,
  };
}

/** Whether the session's walk has ended (finished, cancelled or failed). */
export const hasEnded = (s: SessionState): s is EndedSessionState | FailedSessionState =>
  s.state === 'finished' || s.state === 'cancelled' || s.state === 'failed';

// ---- checks at a boundary (a state that crossed from a worker or a process) ----------------

const STATE_NAMES: readonly SessionState['state'][] = [
  'starting',
  'running',
  'paused',
  'finished',
  'cancelled',
  'failed',
];
const ERROR_KINDS: readonly ErrorKind[] = [
  'pss',
  'validation',
  'misuse',
  'not-found',
  'unsupported',
  'io',
  'limit',
  'internal',
];

const isObj = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);
const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
const isClass = (x: unknown): x is WalkableClass =>
  typeof x === 'string' && (WALKABLE_CLASSES as readonly string[]).includes(x);

/** What is wrong with an ErrorReply that crossed a boundary (null: nothing). */
export function errorReplyProblem(x: unknown): string | null {
  if (!isObj(x)) return 'not an object';
  if (typeof x.kind !== 'string' || !(ERROR_KINDS as readonly string[]).includes(x.kind))
    return `unknown kind ${String(x.kind)}`;
  if (x.code !== null && !Number.isSafeInteger(x.code)) return 'code is neither null nor a number';
  if (x.codeName !== null && typeof x.codeName !== 'string') return 'bad codeName';
  if (typeof x.message !== 'string' || typeof x.hint !== 'string') return 'no message or hint';
  return null;
}

/**
 * What is wrong with a SessionState that crossed a boundary (null: nothing), including the
 * rules the union states: a failed state names its error, the others have none, an ended one
 * has no current position.
 */
export function sessionStateProblem(x: unknown): string | null {
  if (!isObj(x)) return 'not an object';
  if (typeof x.sessionId !== 'string' || x.sessionId === '') return 'no sessionId';
  const state = x.state;
  if (typeof state !== 'string' || !(STATE_NAMES as readonly string[]).includes(state))
    return `unknown state ${String(state)}`;
  if (!isCount(x.pid)) return 'bad pid';
  if (x.snapshotId !== null && typeof x.snapshotId !== 'string') return 'bad snapshotId';
  if (!isObj(x.pace) || (x.pace.mode !== 'run' && x.pace.mode !== 'paced')) return 'bad pace';
  if (!Array.isArray(x.classes)) return 'classes is not an array';
  for (const c of x.classes as unknown[]) {
    if (!isObj(c) || !isClass(c.cls) || !isCount(c.walked) || typeof c.done !== 'boolean')
      return 'bad class progress';
    if (c.total !== null && !isCount(c.total)) return 'bad class total';
  }
  if (
    x.current !== null &&
    (!isObj(x.current) || !isClass(x.current.cls) || !isCount(x.current.entryIndex))
  )
    return 'bad current';
  if (!isCount(x.pass) || !isCount(x.passes)) return 'bad pass';
  if (!Array.isArray(x.bookmarks)) return 'bookmarks is not an array';
  if (!isCount(x.eventsStored)) return 'bad eventsStored';
  if (typeof x.targetExited !== 'boolean') return 'bad targetExited';
  if (typeof x.clockOriginEpochMs !== 'number' || !Number.isFinite(x.clockOriginEpochMs))
    return 'bad clockOriginEpochMs';
  if (!isObj(x.allocator) || typeof x.allocator.strategy !== 'string') return 'bad allocator';
  if (state === 'failed') {
    const p = errorReplyProblem(x.error);
    if (p) return `a failed state without a valid error (${p})`;
  } else if (x.error !== null) return `a ${state} state with an error`;
  const ended = state === 'finished' || state === 'cancelled' || state === 'failed';
  if (ended && x.current !== null) return `a ${state} state with a current position`;
  return null;
}
