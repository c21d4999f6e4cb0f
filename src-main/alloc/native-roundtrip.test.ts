/**
 * The strategies and the tracer driven through registered koffi callbacks, called by native
 * code: glibc's obstack (NativeRoutineCaller) calls AllocRoutine(Context, Size) and
 * FreeRoutine(Context, Address) from C and writes its chunk header into the returned memory;
 * koffi.call on the registered pointers is the JS → C → JS stand-in. The libpss walk
 * integration comes later (src-main/walk).
 */
import { describe, expect, it } from 'vitest';
import { ApiCall, EventKind, FailReason } from '../../src-shared/events/layout';
import { EventBatchView, concatBatches } from '../../src-shared/events/batch';
import type { DecodedEvent } from '../../src-shared/events/batch';
import { PssWalkClass } from '../../src-shared/pss/constants';
import { WrongThreadReason } from '../../src-shared/alloc/stats';
import type { AllocatorOptions } from '../../src-shared/alloc/options';
import {
  NativeRoutineCaller,
  callAllocRoutine,
  callFreeRoutine,
  nativeCallerAvailable,
  registerAllocatorRoutines,
} from '../pss/native-extra';
import { nativeMemory } from '../pss/native-memory';
import { createStrategy } from './factory';
import { TracedAllocator, createSessionWriter } from './tracer';

function setup(options: AllocatorOptions): {
  t: TracedAllocator;
  events(): DecodedEvent[];
} {
  const batches: ArrayBuffer[] = [];
  const writer = createSessionWriter((b) => batches.push(b), 64);
  const t = new TracedAllocator({ strategy: createStrategy(options), writer, markerId: 1 });
  return {
    t,
    events(): DecodedEvent[] {
      writer.flush();
      const v = new EventBatchView(concatBatches(batches));
      v.validate(0);
      return [...v];
    },
  };
}

const STRATEGIES: Array<[string, AllocatorOptions]> = [
  ['heap', { strategy: 'heap' }],
  ['arena', { strategy: 'arena', capacityBytes: 64 * 1024 }],
  ['pool', { strategy: 'pool', classes: [256, 512, 1024], blocksPerSlab: 4 }],
  ['guard', { strategy: 'guard', redZoneBytes: 32 }],
  ['faulty(heap), no faults', { strategy: 'faulty', inner: { strategy: 'heap' } }],
];

describe.skipIf(!nativeCallerAvailable())('C calls the registered routines (glibc obstack)', () => {
  it.each(STRATEGIES)('%s: every C call becomes the right event', (_name, options) => {
    const { t, events } = setup(options);
    const caller = NativeRoutineCaller.forAllocator(t, 512, 0x1234n);
    try {
      t.enter(ApiCall.PssWalkSnapshot, PssWalkClass.HANDLES);
      caller.begin(); // C: alloc
      caller.swap(10); // C: 10 × (alloc new, free old)
      caller.end(); // C: free
      t.leave(0);
    } finally {
      caller.dispose();
    }
    expect(caller.failures).toBe(0);
    expect(caller.errors).toBe(0);
    const es = events();
    expect(es.map((e) => e.kind)).toEqual([
      EventKind.Alloc,
      ...Array.from({ length: 10 }, () => [EventKind.Alloc, EventKind.Free]).flat(),
      EventKind.Free,
    ]);
    for (const e of es) {
      expect(e).toMatchObject({ size: 512, api: ApiCall.PssWalkSnapshot, walkClass: 2 });
    }
    // Each free releases the chunk allocated just before the newest one.
    const allocs = es.filter((e) => e.kind === EventKind.Alloc).map((e) => e.address);
    const frees = es.filter((e) => e.kind === EventKind.Free).map((e) => e.address);
    expect(frees).toEqual(allocs);
    // No violation event above: the guard saw C stay inside its blocks; nothing is outstanding.
    expect(t.outstanding()).toEqual([]);
    t.markerFreed();
    expect(t.release()).toBe(true);
    expect(t.stats().nativeBytes).toBe(0);
  });

  it('a C call outside any Pss call is reported (and served)', () => {
    const { t, events } = setup({ strategy: 'heap' });
    const caller = NativeRoutineCaller.forAllocator(t, 256);
    caller.begin();
    caller.end();
    caller.dispose();
    const es = events();
    expect(es.map((e) => e.kind)).toEqual([
      EventKind.ViolationWrongThread,
      EventKind.Alloc,
      EventKind.ViolationWrongThread,
      EventKind.Free,
    ]);
    expect(es[0]?.aux0).toBe(WrongThreadReason.OutsideCall);
    t.release();
  });

  it('a NULL from a faulty allocator reaches C as NULL (caller falls back, C survives)', () => {
    const { t, events } = setup({
      strategy: 'faulty',
      inner: { strategy: 'pool', classes: [256], blocksPerSlab: 8 },
      failNth: [3],
    });
    const caller = NativeRoutineCaller.forAllocator(t, 256);
    t.enter(ApiCall.PssWalkSnapshot, PssWalkClass.THREADS);
    caller.begin();
    caller.swap(3);
    caller.end();
    t.leave(0);
    caller.dispose();
    expect(caller.failures).toBe(1);
    const es = events();
    const failed = es.filter((e) => e.kind === EventKind.AllocFailed);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.aux0).toBe(FailReason.FailNth);
    expect(es.filter((e) => e.kind === EventKind.Alloc)).toHaveLength(3);
    expect(es.filter((e) => e.kind === EventKind.Free)).toHaveLength(3);
    expect(t.outstanding()).toEqual([]);
    t.release();
  });
});

describe('koffi.call on the registered routine pointers (JS → C → JS stand-in)', () => {
  it('alloc, write, free and free(NULL) through the native trampolines', () => {
    const { t, events } = setup({ strategy: 'guard', redZoneBytes: 16 });
    const routines = registerAllocatorRoutines(t);
    try {
      t.enter(ApiCall.PssWalkMarkerCreate);
      const p = callAllocRoutine(routines.allocRoutine, 0n, 100);
      expect(p).not.toBe(0n);
      nativeMemory.view(p, 100).fill(0xab);
      callFreeRoutine(routines.freeRoutine, 0n, p);
      callFreeRoutine(routines.freeRoutine, 0n, 0n);
      t.leave(0);
    } finally {
      routines.unregister();
      routines.unregister();
    }
    expect(events().map((e) => e.kind)).toEqual([
      EventKind.Alloc,
      EventKind.Free,
      EventKind.FreeNull,
    ]);
    t.release();
  });

  it('a failing allocation comes back as NULL', () => {
    const { t, events } = setup({ strategy: 'arena', capacityBytes: 4096 });
    const routines = registerAllocatorRoutines(t);
    t.enter(ApiCall.PssWalkSnapshot, 0);
    expect(callAllocRoutine(routines.allocRoutine, 0n, 8192)).toBe(0n);
    t.leave(0);
    routines.unregister();
    expect(events().filter((e) => e.kind === EventKind.AllocFailed)).toHaveLength(1);
    t.release();
  });
});
