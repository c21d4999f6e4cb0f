import { describe, expect, it } from 'vitest';
import { EventBatchView, EventWriter } from '../../src-shared/events/batch';
import { ApiCall, EventKind, NO_CLASS } from '../../src-shared/events/layout';
import { Ledger } from '../../src-shared/ledger/ledger';
import { TraceFileError, parseSummary, withLedger } from './v1';

function ledgerOf(kinds: number[]): Ledger {
  const out: ArrayBuffer[] = [];
  const w = new EventWriter(
    64,
    (b) => out.push(b),
    () => 0,
  );
  kinds.forEach((kind, i) =>
    w.write(kind, ApiCall.PssWalkSnapshot, NO_CLASS, 0, 1, 1, 0x1000 + (i >> 1) * 16, 0, 24, 0, 0),
  );
  w.flush();
  const l = new Ledger();
  for (const b of out) {
    const v = new EventBatchView(b);
    l.fold(v, 0, v.count);
  }
  return l;
}

describe("a trace file's summary", () => {
  it('keeps the walk facts and takes every count from the events, whatever the file claims', () => {
    const facts = parseSummary({
      sessionId: 's1',
      events: 3,
      allocations: 999, // an old or lying file: ignored
      violations: { ViolationGuard: 5 },
      entriesWalked: { HANDLES: 4, NOT_A_CLASS: 1 },
      durations: { captureMs: 1, walkMs: 2, totalMs: 3 },
      strategy: {},
    });
    expect(facts.entriesWalked).toEqual({ HANDLES: 4 });
    expect(facts.strategy).toBeNull();
    const s = withLedger(facts, ledgerOf([EventKind.Alloc, EventKind.Free, EventKind.AllocFailed]));
    expect(s.allocations).toBe(1);
    expect(s.frees).toBe(1);
    expect(s.violations).toBe(0);
    expect(s.problems).toBe(1);
    expect(s.sessionId).toBe('s1');
    expect(s.durations.walkMs).toBe(2);
  });

  it('validates the strategy facts field by field', () => {
    const heap = {
      strategy: 'heap',
      code: 0,
      allocations: 1,
      facts: { strategy: 'heap' },
      faults: null,
    };
    expect(parseSummary({ strategy: heap }).strategy?.strategy).toBe('heap');
    // a user allocator library's session (the native tracer): its facts are its path
    const user = {
      ...heap,
      strategy: 'user',
      code: 4,
      facts: { strategy: 'user', libraryPath: '/opt/liballoc.so' },
    };
    expect(parseSummary({ strategy: user }).strategy?.facts).toEqual({
      strategy: 'user',
      libraryPath: '/opt/liballoc.so',
    });
    expect(() =>
      parseSummary({ strategy: { ...user, facts: { strategy: 'user', libraryPath: 7 } } }),
    ).toThrow(TraceFileError);
    for (const bad of [
      { ...heap, strategy: 'faulty' },
      { ...heap, facts: { strategy: 'pool' } },
      { ...heap, allocations: 'many' },
      { ...heap, faults: 3 },
      { strategy: 'pool', facts: { strategy: 'pool', classes: [1] } },
      'heap',
    ])
      expect(() => parseSummary({ strategy: bad })).toThrow(TraceFileError);
    expect(() => parseSummary({ entriesWalked: { HANDLES: -1 } })).toThrow(TraceFileError);
  });
});
