import { describe, expect, it } from 'vitest';
import { Ledger, type LedgerSummary } from '../../src-shared/ledger/ledger';
import {
  ApiCall,
  EVENT_KIND_NAMES,
  EventKind,
  FAULTY_BIT,
  FailReason,
  GuardVerdict,
  NO_CLASS,
  StrategyId,
} from '../../src-shared/events/layout';
import type { EventKindName } from '../../src-shared/events/layout';
import { EventBatchView, concatBatches } from '../../src-shared/events/batch';
import type { DecodedEvent } from '../../src-shared/events/batch';
import { PssWalkClass, Win32Error } from '../../src-shared/pss/constants';
import {
  ReleasedReason,
  VIOLATION_KINDS,
  WALK_CLASS_KEYS,
  WrongThreadReason,
} from '../../src-shared/alloc/stats';
import type { BreakdownRow, TraceSummary } from '../../src-shared/alloc/stats';
import { nativeMemory } from '../pss/native-memory';
import { ArenaStrategy } from './arena';
import { createStrategy } from './factory';
import { FaultyStrategy, mulberry32 } from './faulty';
import { GuardStrategy } from './guard';
import { HeapStrategy } from './heap';
import { PoolStrategy } from './pool';
import type { AllocatorStrategy } from './strategy';
import { TracedAllocator, createSessionWriter } from './tracer';
import type { TracedAllocatorOptions } from './tracer';

/** A session writer with small batches (so tests cross batch boundaries) that keeps them. */
function session(capacity = 7): {
  writer: ReturnType<typeof createSessionWriter>;
  events(): DecodedEvent[];
  /** The ledger of every event written so far: the one count of them. */
  ledger(): LedgerSummary;
  batches: ArrayBuffer[];
} {
  const batches: ArrayBuffer[] = [];
  const writer = createSessionWriter((b) => batches.push(b), capacity);
  return {
    writer,
    batches,
    events(): DecodedEvent[] {
      writer.flush();
      const view = new EventBatchView(concatBatches(batches));
      view.validate(0);
      return [...view];
    },
    ledger(): LedgerSummary {
      writer.flush();
      const view = new EventBatchView(concatBatches(batches));
      const l = new Ledger();
      l.fold(view, 0, view.count);
      return l.summary();
    },
  };
}

function traced(
  strategy: AllocatorStrategy,
  s: ReturnType<typeof session>,
  extra: Partial<TracedAllocatorOptions> = {},
): TracedAllocator {
  return new TracedAllocator({ strategy, writer: s.writer, markerId: 3, ...extra });
}

const kinds = (es: DecodedEvent[]): EventKindName[] => es.map((e) => e.kindName);

describe('TracedAllocator event stream', () => {
  it('records what happened, field by field', () => {
    const s = session();
    const t = traced(new ArenaStrategy(4096), s);
    const tid = nativeMemory.currentThreadId();

    t.enter(ApiCall.PssWalkMarkerCreate);
    const a = t.alloc(100);
    const b = t.alloc(8);
    t.leave(Win32Error.SUCCESS);
    t.markerCreated(9);
    t.enter(ApiCall.PssWalkSnapshot, PssWalkClass.THREADS);
    const c = t.alloc(50);
    t.free(a);
    t.leave(Win32Error.SUCCESS);
    t.walkStep(PssWalkClass.THREADS, 0, Win32Error.SUCCESS);
    t.walkEnd(PssWalkClass.THREADS, 1);
    t.positionGet(0x1_0000_0002n);
    t.positionSet(0x1_0000_0002n);
    t.seek();
    t.apiError(ApiCall.PssWalkSnapshot, Win32Error.NOT_FOUND);
    t.enter(ApiCall.PssWalkMarkerFree);
    t.free(b);
    t.free(0n);
    t.free(c);
    t.leave(Win32Error.SUCCESS);
    t.markerFreed();

    const es = s.events();
    expect(kinds(es)).toEqual([
      'Alloc',
      'Alloc',
      'MarkerCreated',
      'Alloc',
      'Free',
      'WalkStep',
      'WalkEnd',
      'PositionGet',
      'PositionSet',
      'Seek',
      'ApiError',
      'Free',
      'FreeNull',
      'Free',
      'MarkerFreed',
    ]);
    const code = StrategyId.arena;
    for (const e of es) {
      expect(e.strategy).toBe(code);
      expect(e.threadId).toBe(tid);
      expect(e.markerId).toBe(e.seq < 2 ? 3 : 9);
    }
    const ev = (i: number): DecodedEvent => es[i] as DecodedEvent;
    const [e0, e1, e3, e4, e5, e6, e7, e8, e9, e10, e11, e12, e13, e14] = [
      0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    ].map(ev);
    expect(e0).toMatchObject({
      address: a,
      size: 100,
      api: 1,
      walkClass: NO_CLASS,
      aux0: 0,
      aux1: 100,
    });
    expect(e1).toMatchObject({ address: b, size: 8, aux0: 112, aux1: 108 });
    expect(e3).toMatchObject({ address: c, size: 50, api: 2, walkClass: 3, aux0: 128, aux1: 158 });
    expect(e4).toMatchObject({ kind: EventKind.Free, address: a, size: 100, aux0: 0, aux1: 58 });
    expect(e5).toMatchObject({ api: 2, walkClass: 3, aux0: 0, aux1: 0 });
    expect(e6).toMatchObject({ walkClass: 3, aux0: 1, aux1: Win32Error.NO_MORE_ITEMS });
    expect(e7).toMatchObject({ api: ApiCall.PssWalkMarkerGetPosition, aux0: 2, aux1: 1 });
    expect(e8).toMatchObject({ api: ApiCall.PssWalkMarkerSetPosition, aux0: 2, aux1: 1 });
    expect(e9?.api).toBe(ApiCall.PssWalkMarkerSeekToBeginning);
    expect(e10).toMatchObject({ api: 2, aux1: Win32Error.NOT_FOUND });
    expect(e11).toMatchObject({ address: b, size: 8, api: 3, aux0: 112, aux1: 50 });
    expect(e12).toMatchObject({ address: 0n, size: 0, aux1: 50 });
    expect(e13).toMatchObject({ address: c, aux1: 0 });
    expect(e14).toMatchObject({ api: 3, aux0: 0, aux1: 0 });
    // Times are monotonic.
    for (let i = 1; i < es.length; i++)
      expect((es[i] as DecodedEvent).timeNs).toBeGreaterThanOrEqual(
        (es[i - 1] as DecodedEvent).timeNs,
      );
    t.release();
    expect(t.strategy.stats().nativeBytes).toBe(0);
  });

  it('reports a routine called outside any Pss call, and still serves it', () => {
    const s = session();
    const t = traced(new HeapStrategy(), s);
    const p = t.alloc(24);
    expect(p).not.toBe(0n);
    t.free(p);
    const es = s.events();
    expect(kinds(es)).toEqual(['ViolationWrongThread', 'Alloc', 'ViolationWrongThread', 'Free']);
    expect(es[0]).toMatchObject({
      aux0: WrongThreadReason.OutsideCall,
      size: 24,
      api: ApiCall.None,
    });
    expect(es[2]).toMatchObject({ aux0: WrongThreadReason.OutsideCall, address: p });
    expect(s.ledger().violationsByKind.ViolationWrongThread).toBe(2);
    t.release();
  });

  it('reports a thread-id mismatch when checking per call', () => {
    const s = session();
    let tid = 100;
    const t = traced(new HeapStrategy(), s, { threadId: () => tid, verifyThreadPerCall: true });
    t.enter(ApiCall.PssWalkSnapshot, PssWalkClass.HANDLES);
    const p = t.alloc(10);
    tid = 200;
    t.free(p);
    t.leave(0);
    const es = s.events();
    expect(kinds(es)).toEqual(['Alloc', 'ViolationWrongThread', 'Free']);
    expect(es[1]).toMatchObject({
      threadId: 200,
      aux0: WrongThreadReason.ThreadMismatch,
      aux1: 100,
      address: p,
    });
    expect(es[2]?.threadId).toBe(100);
    t.release();
  });

  it('emits one Leak per outstanding block at markerFreed, oldest first', () => {
    const s = session();
    const t = traced(new PoolStrategy([16, 64], 8), s);
    t.enter(ApiCall.PssWalkMarkerCreate);
    const x = t.alloc(40);
    const y = t.alloc(10);
    const z = t.alloc(12);
    t.leave(0);
    t.markerCreated();
    t.enter(ApiCall.PssWalkMarkerFree);
    t.free(y);
    t.leave(0);
    t.markerFreed();
    const es = s.events();
    expect(kinds(es)).toEqual([
      'Alloc',
      'Alloc',
      'Alloc',
      'MarkerCreated',
      'Free',
      'Leak',
      'Leak',
      'MarkerFreed',
    ]);
    expect(es[5]).toMatchObject({ address: x, size: 40, aux0: 0, api: ApiCall.PssWalkMarkerFree });
    expect(es[6]).toMatchObject({ address: z, size: 12, aux0: 2 });
    expect(es[7]).toMatchObject({ aux0: 2, aux1: 52 });
    expect(s.ledger().violationsByKind.Leak).toBe(2);
    expect(t.outstanding()).toEqual(
      [
        { address: x, size: 40 },
        { address: z, size: 12 },
      ].sort((a, b) => (a.address < b.address ? -1 : 1)),
    );
    // The release after the marker is gone returns the leaked blocks' memory too.
    expect(t.release()).toBe(true);
    expect(t.stats()).toMatchObject({ released: true, nativeBytes: 0 });
  });

  it('treats the marker as live from a successful PssWalkMarkerCreate on', () => {
    const s = session();
    const t = traced(new HeapStrategy(), s);
    t.enter(ApiCall.PssWalkMarkerCreate);
    t.alloc(32);
    t.leave(Win32Error.SUCCESS);
    expect(t.release()).toBe(false); // before markerCreated(): still deferred
    t.markerCreated();
    t.markerFreed();
    expect(t.isReleased).toBe(true);
  });

  it('defers release() while the marker lives, and releases at markerFreed', () => {
    const s = session();
    const t = traced(new HeapStrategy(), s);
    t.enter(ApiCall.PssWalkMarkerCreate);
    const p = t.alloc(64);
    t.leave(0);
    t.markerCreated();
    expect(t.release()).toBe(false);
    expect(t.release()).toBe(false);
    expect(t.isReleasePending).toBe(true);
    // The memory is still there: native code may still use it.
    expect(t.stats().released).toBe(false);
    nativeMemory.view(p, 64).fill(7);
    t.enter(ApiCall.PssWalkMarkerFree);
    t.free(p);
    t.leave(0);
    expect(t.stats().released).toBe(false);
    t.markerFreed();
    expect(t.isReleased).toBe(true);
    expect(t.stats()).toMatchObject({ released: true, nativeBytes: 0 });
    const es = s.events();
    expect(kinds(es)).toEqual([
      'Alloc',
      'MarkerCreated',
      'ViolationAllocatorReleased',
      'Free',
      'MarkerFreed',
    ]);
    expect(es[2]?.aux0).toBe(ReleasedReason.ReleaseDeferred);
    expect(s.ledger().violationsByKind.ViolationAllocatorReleased).toBe(1);
  });

  it('defers release() during a Pss call too; after release the routines fail safely', () => {
    const s = session();
    const t = traced(new HeapStrategy(), s);
    t.enter(ApiCall.PssWalkMarkerCreate);
    expect(t.release()).toBe(false);
    expect(t.isReleased).toBe(false);
    t.leave(Win32Error.NOT_ENOUGH_MEMORY); // no marker came of it: the release happens now
    expect(t.isReleased).toBe(true);
    expect(t.release()).toBe(true);
    t.enter(ApiCall.PssWalkSnapshot, 0);
    expect(t.alloc(10)).toBe(0n);
    t.free(0x1234n);
    t.leave(0);
    const es = s.events().slice(-3);
    expect(kinds(es)).toEqual([
      'ViolationAllocatorReleased',
      'AllocFailed',
      'ViolationAllocatorReleased',
    ]);
    expect(es[0]?.aux0).toBe(ReleasedReason.UsedAfterRelease);
    expect(es[2]).toMatchObject({ aux0: ReleasedReason.UsedAfterRelease, address: 0x1234n });
  });

  it('turns guard findings, double frees and unknown frees into violations', () => {
    const s = session();
    const t = traced(new GuardStrategy(16), s);
    t.enter(ApiCall.PssWalkSnapshot, PssWalkClass.VA_SPACE);
    const a = t.alloc(32);
    const b = t.alloc(32);
    nativeMemory.view(a, 33)[32] = 0; // one byte past the end
    t.free(a);
    t.free(a);
    t.free(0x5000n);
    nativeMemory.view(b - 1n, 1)[0] = 0; // one byte before the start, found by markerFreed
    t.leave(0);
    t.markerCreated();
    t.markerFreed();
    const es = s.events();
    expect(kinds(es)).toEqual([
      'Alloc',
      'Alloc',
      'Free',
      'ViolationGuard',
      'ViolationDoubleFree',
      'ViolationUnknownFree',
      'MarkerCreated',
      'ViolationGuard',
      'Leak',
      'MarkerFreed',
    ]);
    expect(es[0]?.aux0).toBe(16); // red-zone bytes
    expect(es[2]).toMatchObject({ address: a, aux0: GuardVerdict.Overrun });
    expect(es[3]).toMatchObject({ address: a, size: 32, aux0: GuardVerdict.Overrun });
    expect(es[4]).toMatchObject({ address: a, aux0: GuardVerdict.DoubleFree });
    expect(es[5]).toMatchObject({ address: 0x5000n, aux0: GuardVerdict.UnknownAddress });
    expect(es[7]).toMatchObject({ address: b, aux0: GuardVerdict.Underrun });
    expect(s.ledger().violationsByKind).toMatchObject({
      ViolationGuard: 2,
      ViolationDoubleFree: 1,
      ViolationUnknownFree: 1,
      Leak: 1,
    });
    t.release();
  });

  it('never lets an exception out of a routine', () => {
    const s = session();
    const errors: string[] = [];
    const boom = new HeapStrategy();
    boom.alloc = (): bigint => {
      throw new Error('alloc boom');
    };
    boom.freeAt = (): void => {
      throw new Error('free boom');
    };
    const t = traced(boom, s, {
      onCallbackError: (r, e) => errors.push(`${r}: ${(e as Error).message}`),
    });
    t.enter(ApiCall.PssWalkSnapshot, 1);
    expect(t.alloc(10)).toBe(0n);
    expect(() => t.free(0n)).not.toThrow();
    t.leave(0);
    expect(errors).toEqual(['alloc: alloc boom', 'free: free boom']);
    expect(t.callbackErrorCount).toBe(2);
    const es = s.events();
    expect(kinds(es)).toEqual(['AllocFailed']);
    expect(es[0]?.aux0).toBe(FailReason.None);
  });

  it('hands the block out even when writing its event fails', () => {
    let fail = false;
    const writer = createSessionWriter(() => {
      if (fail) throw new Error('sink full');
    }, 1);
    const t = new TracedAllocator({ strategy: new HeapStrategy(), writer });
    t.enter(ApiCall.PssWalkSnapshot, 1);
    fail = true;
    const p = t.alloc(16);
    expect(p).not.toBe(0n);
    expect(t.callbackErrorCount).toBe(1);
    expect(t.outstanding()).toHaveLength(1);
    fail = false;
    t.free(p);
    t.leave(0);
    expect(t.outstanding()).toHaveLength(0);
    t.release();
  });

  it('marks events of a faulty-wrapped strategy and records why an allocation failed', () => {
    const s = session();
    const t = traced(new FaultyStrategy(new ArenaStrategy(4096), { failNth: [2] }), s);
    t.enter(ApiCall.PssWalkMarkerCreate);
    t.alloc(10);
    expect(t.alloc(10)).toBe(0n);
    t.alloc(5000);
    t.leave(Win32Error.NOT_ENOUGH_MEMORY);
    const es = s.events();
    expect(kinds(es)).toEqual(['Alloc', 'AllocFailed', 'AllocFailed']);
    expect(es.map((e) => e.strategy)).toEqual(Array(3).fill(StrategyId.arena | FAULTY_BIT));
    expect(es.map((e) => e.aux0)).toEqual([0, FailReason.FailNth, FailReason.Exhausted]);
    expect(es[2]).toMatchObject({ size: 5000, aux1: 10 });
    t.release();
  });

  it('rejects misuse of enter() from the session side (JS, not native)', () => {
    const s = session();
    const t = traced(new HeapStrategy(), s);
    expect(() => t.enter(0)).toThrow(RangeError);
    expect(() => t.enter(ApiCall.PssWalkSnapshot, 7)).toThrow(RangeError);
    t.enter(ApiCall.PssWalkSnapshot, 0);
    expect(() => t.enter(ApiCall.PssWalkSnapshot, 0)).toThrow(/in progress/);
    t.leave(0);
    t.release();
  });
});

// ---- summary == recount --------------------------------------------------------------------

function recount(
  events: DecodedEvent[],
  markerId: number,
): Omit<
  TraceSummary,
  | 'markerLive'
  | 'released'
  | 'releasePending'
  | 'strategyCode'
  | 'callbackErrors'
  | 'peakLiveBytes'
  | 'liveBytes'
> {
  const mine = events.filter((e) => e.markerId === markerId);
  const zero = (): BreakdownRow => ({
    calls: 0,
    errors: 0,
    allocations: 0,
    allocBytes: 0,
    failures: 0,
    frees: 0,
    freeBytes: 0,
    freeNulls: 0,
  });
  const byApi = Object.fromEntries(
    Object.keys(ApiCall).map((k) => [k, zero()]),
  ) as TraceSummary['byApi'];
  const byWalkClass = Object.fromEntries(
    WALK_CLASS_KEYS.map((k) => [k, zero()]),
  ) as TraceSummary['byWalkClass'];
  const violations = Object.fromEntries(
    VIOLATION_KINDS.map((k) => [k, 0]),
  ) as TraceSummary['violations'];
  let allocations = 0;
  let failures = 0;
  let frees = 0;
  let freeNulls = 0;
  let bytesAllocated = 0;
  let bytesFreed = 0;
  for (const e of mine) {
    const rows = [
      byApi[e.apiName],
      byWalkClass[WALK_CLASS_KEYS[e.walkClass === NO_CLASS ? 5 : e.walkClass] ?? 'NONE'],
    ];
    switch (e.kind) {
      case EventKind.Alloc:
        allocations++;
        bytesAllocated += e.size;
        for (const r of rows) {
          r.allocations++;
          r.allocBytes += e.size;
        }
        break;
      case EventKind.AllocFailed:
        failures++;
        for (const r of rows) r.failures++;
        break;
      case EventKind.Free:
        frees++;
        bytesFreed += e.size;
        for (const r of rows) {
          r.frees++;
          r.freeBytes += e.size;
        }
        break;
      case EventKind.FreeNull:
        freeNulls++;
        for (const r of rows) r.freeNulls++;
        break;
      default: {
        const name = EVENT_KIND_NAMES[e.kind];
        if (name !== undefined && (VIOLATION_KINDS as readonly string[]).includes(name))
          violations[name as keyof typeof violations]++;
      }
    }
  }
  return {
    markerId,
    events: mine.length,
    allocations,
    failures,
    frees,
    freeNulls,
    bytesAllocated,
    bytesFreed,
    outstandingBlocks: allocations - frees,
    outstandingBytes: bytesAllocated - bytesFreed,
    violations,
    byApi,
    byWalkClass,
  };
}

describe('TracedAllocator events against its strategy', () => {
  it.each([
    ['heap', { strategy: 'heap' }],
    ['arena', { strategy: 'arena', capacityBytes: 256 * 1024 }],
    ['pool', { strategy: 'pool', classes: [16, 32, 64, 128, 256], blocksPerSlab: 16 }],
    ['guard', { strategy: 'guard', redZoneBytes: 16 }],
    [
      'faulty(pool)',
      {
        strategy: 'faulty',
        inner: { strategy: 'pool', classes: [32, 128], blocksPerSlab: 8 },
        failProbability: 0.1,
        seed: 5,
        failNth: [3, 4],
      },
    ],
  ] as const)(
    'its events agree with the strategy and its outstanding blocks (%s)',
    (_name, options) => {
      const s = session(13);
      // A second marker on the same writer: its events must not leak into the first's summary.
      const other = new TracedAllocator({
        strategy: new HeapStrategy(),
        writer: s.writer,
        markerId: 2,
      });
      const t = new TracedAllocator({
        strategy: createStrategy(options),
        writer: s.writer,
        markerId: 1,
      });
      const rnd = mulberry32(1234);
      const live: bigint[] = [];
      const apis = [
        ApiCall.PssWalkMarkerCreate,
        ApiCall.PssWalkSnapshot,
        ApiCall.PssWalkMarkerFree,
      ] as const;
      t.enter(ApiCall.PssWalkMarkerCreate);
      live.push(t.alloc(200));
      t.leave(0);
      t.markerCreated();
      for (let call = 0; call < 300; call++) {
        const api = apis[Math.floor(rnd() * apis.length)] ?? ApiCall.PssWalkSnapshot;
        const cls = api === ApiCall.PssWalkSnapshot ? Math.floor(rnd() * 4) : NO_CLASS;
        const outside = rnd() < 0.03;
        if (!outside) t.enter(api, cls);
        for (let k = 0, n = Math.floor(rnd() * 6); k < n; k++) {
          const r = rnd();
          if (r < 0.5) {
            const p = t.alloc(Math.floor(rnd() * (rnd() < 0.1 ? 3000 : 200)));
            if (p !== 0n) live.push(p);
          } else if (r < 0.85 && live.length > 0) {
            const [p] = live.splice(Math.floor(rnd() * live.length), 1);
            t.free(p ?? 0n);
          } else if (r < 0.93) {
            t.free(0n);
          } else {
            t.free(0x10n + BigInt(Math.floor(rnd() * 1000)) * 16n); // not ours
          }
        }
        if (!outside) t.leave(rnd() < 0.05 ? Win32Error.NOT_ENOUGH_MEMORY : 0);
        if (rnd() < 0.2) {
          other.enter(ApiCall.PssWalkSnapshot, 2);
          other.free(other.alloc(10));
          other.leave(0);
        }
      }
      t.markerFreed();
      other.release();

      // The tracer counts nothing itself: the events are the record. They agree with what the
      // strategy saw and with the blocks the tracer still tracks.
      const want = recount(s.events(), 1);
      expect(want.violations.Leak).toBe(want.outstandingBlocks);
      expect(want.outstandingBlocks).toBe(live.length);
      expect(t.outstanding()).toHaveLength(live.length);
      expect(
        want.byApi.PssWalkSnapshot.allocations + want.byApi.PssWalkSnapshot.frees,
      ).toBeGreaterThan(0);
      const st = t.stats();
      expect(st.allocations).toBe(want.allocations);
      expect(st.frees).toBe(want.frees);
      expect(st.failures).toBe(want.failures);
      t.release();
      expect(t.stats().nativeBytes).toBe(0);
    },
  );
});
