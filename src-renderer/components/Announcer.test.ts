import { describe, expect, it } from 'vitest';
import type { SessionState } from '../../src-shared/contract/model';
import { DEFAULT_ALLOCATOR_OPTIONS } from '../../src-shared/alloc/options';
import { sessionAnnouncement } from './Announcer';

function state(patch: Partial<SessionState> = {}): SessionState {
  return {
    sessionId: 's1',
    state: 'running',
    pid: 1,
    snapshotId: null,
    pace: { mode: 'paced', entriesPerSecond: 5 },
    classes: [
      { cls: 'THREADS', walked: 2, total: 3, done: false },
      { cls: 'HANDLES', walked: 0, total: 10, done: false },
    ],
    current: { cls: 'THREADS', entryIndex: 2 },
    pass: 0,
    passes: 1,
    bookmarks: [],
    eventsStored: 0,
    error: null,
    targetExited: false,
    clockOriginEpochMs: 0,
    allocator: DEFAULT_ALLOCATOR_OPTIONS,
    ...patch,
  };
}

describe('sessionAnnouncement (the walk live region)', () => {
  it('says state changes, with the position when paused', () => {
    expect(sessionAnnouncement(null, state({ state: 'starting' }))).toMatch(/starting/);
    expect(sessionAnnouncement(state(), state({ state: 'paused' }))).toBe(
      'Walk paused at Threads entry 1.',
    );
    expect(sessionAnnouncement(state({ state: 'paused' }), state())).toBe('Walk running.');
    expect(sessionAnnouncement(state(), state({ state: 'finished', current: null }))).toBe(
      'Walk finished.',
    );
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
