import { describe, expect, it } from 'vitest';
import type { SessionState } from '../../src-shared/contract/model';
import {
  endedState,
  startingState,
  walkingState,
  type WalkProgress,
} from '../../src-shared/contract/session-state';
import { DEFAULT_ALLOCATOR_OPTIONS } from '../../src-shared/alloc/options';
import { sessionAnnouncement } from './Announcer';

const plan = {
  sessionId: 's1',
  pid: 1,
  snapshotId: null,
  pace: { mode: 'paced', entriesPerSecond: 5 } as const,
  classes: ['THREADS', 'HANDLES'] as const,
  passes: 1,
  allocator: DEFAULT_ALLOCATOR_OPTIONS,
  clockOriginEpochMs: 0,
};

/** A walk in progress (running unless told), or one that ended as `patch.state` says. */
function state(
  patch: Partial<WalkProgress> | { state: 'finished' | 'cancelled' } = {},
): SessionState {
  const running = walkingState(plan, {
    ...startingState(plan),
    state: 'running',
    classes: [
      { cls: 'THREADS', walked: 2, total: 3, done: false },
      { cls: 'HANDLES', walked: 0, total: 10, done: false },
    ],
    current: { cls: 'THREADS', entryIndex: 2 },
  });
  if (patch.state === 'finished' || patch.state === 'cancelled')
    return endedState(running, patch.state);
  return walkingState(plan, { ...running, ...(patch as Partial<WalkProgress>) });
}

describe('sessionAnnouncement (the walk live region)', () => {
  it('says state changes, with the position when paused', () => {
    expect(sessionAnnouncement(null, state({ state: 'starting' }))).toMatch(/starting/);
    expect(sessionAnnouncement(state(), state({ state: 'paused' }))).toBe(
      'Walk paused at Threads entry 1.',
    );
    expect(sessionAnnouncement(state({ state: 'paused' }), state())).toBe('Walk running.');
    expect(sessionAnnouncement(state(), state({ state: 'finished' }))).toBe('Walk finished.');
    expect(sessionAnnouncement(state(), null)).toBe('Walk session closed.');
  });

  it('stays quiet while entries tick by, but says when a class is done', () => {
    const a = state();
    const b = state({
      current: { cls: 'THREADS', entryIndex: 3 },
      classes: [
        { cls: 'THREADS', walked: 3, total: 3, done: false },
        { cls: 'HANDLES', walked: 0, total: 10, done: false },
      ],
    });
    expect(sessionAnnouncement(a, b)).toBeNull();
    const c = state({
      classes: [
        { cls: 'THREADS', walked: 3, total: 3, done: true },
        { cls: 'HANDLES', walked: 0, total: 10, done: false },
      ],
    });
    expect(sessionAnnouncement(b, c)).toBe('Threads walked: 3 entries.');
  });

  it('says where a step or a seek landed while paused, and a saved position', () => {
    const p = state({ state: 'paused' });
    expect(
      sessionAnnouncement(
        p,
        state({ state: 'paused', current: { cls: 'THREADS', entryIndex: 3 } }),
      ),
    ).toBe('At Threads entry 2.');
    expect(
      sessionAnnouncement(
        p,
        state({ state: 'paused', current: { cls: 'HANDLES', entryIndex: 0 } }),
      ),
    ).toBe('At the start of Handles.');
    expect(
      sessionAnnouncement(
        p,
        state({
          state: 'paused',
          bookmarks: [
            { id: 1, label: 'THREADS #2', cls: 'THREADS', entryIndex: 2, position: '99' },
          ],
        }),
      ),
    ).toBe('Position saved: Threads #2.');
  });
});
