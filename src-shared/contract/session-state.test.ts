import { describe, expect, it } from 'vitest';
import type { ErrorReply, SessionState } from './model';
import {
  endedState,
  failedState,
  hasEnded,
  importedState,
  sessionStateProblem,
  startingState,
  walkingState,
} from './session-state';

const plan = {
  sessionId: 's-1',
  pid: 42,
  snapshotId: null,
  pace: { mode: 'run' },
  classes: ['THREADS', 'HANDLES'],
  passes: 2,
  allocator: { strategy: 'heap' },
  clockOriginEpochMs: 1000,
} as const;

const error: ErrorReply = {
  kind: 'pss',
  code: 8,
  codeName: 'ERROR_NOT_ENOUGH_MEMORY',
  message: 'PssWalkSnapshot failed',
  hint: 'retry',
};

describe('SessionState factories: one per transition, every result valid', () => {
  it('builds each transition, keeping what the session was started with', () => {
    const starting = startingState(plan);
    expect(starting).toMatchObject({ state: 'starting', pid: 42, passes: 2, error: null });
    expect(starting.classes).toEqual([
      { cls: 'THREADS', walked: 0, total: null, done: false },
      { cls: 'HANDLES', walked: 0, total: null, done: false },
    ]);
    const running = walkingState(plan, {
      ...starting,
      state: 'running',
      current: { cls: 'HANDLES', entryIndex: 3 },
      eventsStored: 10,
    });
    const finished = endedState(running, 'finished', { eventsStored: 12 });
    expect(finished).toMatchObject({ state: 'finished', current: null, eventsStored: 12 });
    const failed = failedState(running, error);
    expect(failed).toMatchObject({ state: 'failed', current: null, error, eventsStored: 10 });
    const imported = importedState({
      sessionId: 't-1',
      pid: 7,
      classes: [{ cls: 'VA_SPACE', entries: 5 }],
      eventsStored: 99,
      clockOriginEpochMs: 0,
      allocator: { strategy: 'heap' },
    });
    expect(imported.classes).toEqual([{ cls: 'VA_SPACE', walked: 5, total: 5, done: true }]);
    for (const s of [starting, running, finished, failed, imported] as SessionState[])
      expect(sessionStateProblem(s)).toBeNull();
    expect([starting, running, finished, failed, imported].map(hasEnded)).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
    // The result shares nothing mutable with what it was built from.
    (running.classes[0] as { walked: number }).walked = 99;
    expect(finished.classes[0]?.walked).toBe(0);
  });

  it('the boundary check refuses what the union forbids and what is malformed', () => {
    const running = walkingState(plan, { ...startingState(plan), state: 'running' });
    const failed = failedState(running, error);
    const bad: [unknown, RegExp][] = [
      [null, /not an object/],
      [{ ...failed, error: null }, /failed state without a valid error/],
      [{ ...failed, error: { ...error, kind: 'nope' } }, /unknown kind/],
      [{ ...running, error }, /running state with an error/],
      [
        { ...endedState(running, 'finished'), current: { cls: 'THREADS', entryIndex: 0 } },
        /finished state with a current position/,
      ],
      [{ ...running, state: 'exploded' }, /unknown state/],
      [
        { ...running, classes: [{ cls: 'NOPE', walked: 0, total: null, done: false }] },
        /bad class progress/,
      ],
      [{ ...running, eventsStored: -1 }, /bad eventsStored/],
      [{ ...running, pace: { mode: 'toString' } }, /bad pace/],
    ];
    for (const [x, why] of bad) expect(sessionStateProblem(x)).toMatch(why);
  });
});
