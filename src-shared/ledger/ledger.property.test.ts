import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EventBatchView, EventWriter } from '../events/batch';
import { API_CALL_NAMES, EVENT_KIND_NAMES, EventKind, NO_CLASS } from '../events/layout';
import { VIOLATION_KINDS, WALK_CLASS_KEYS } from '../alloc/stats';
import {
  CHECKPOINT_EVENTS,
  Ledger,
  LedgerStateError,
  PROBLEM_KINDS,
  SIZE_BUCKETS,
  packedApiRow,
  packedClassRow,
  packedSize,
  type LedgerSummary,
  type LiveArrays,
} from './ledger';

interface Ev {
  kind: number;
  api: number;
  cls: number;
  addr: number;
  size: number;
}

const KINDS = Object.values(EventKind);

/** Random streams: allocations and frees of a small address pool (so frees match, double
 *  frees and reuse happen), plus every other kind, failures and violations included. */
const eventArb: fc.Arbitrary<Ev> = fc.record({
  kind: fc.oneof(
    { weight: 6, arbitrary: fc.constant<number>(EventKind.Alloc) },
    { weight: 5, arbitrary: fc.constant<number>(EventKind.Free) },
    { weight: 3, arbitrary: fc.constantFrom(...KINDS) },
  ),
  api: fc.integer({ min: 0, max: 6 }),
  cls: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constant(NO_CLASS)),
  // high addresses too (above 2^32), and 0
  addr: fc.oneof(
    fc.integer({ min: 0, max: 24 }).map((k) => 0x1000 + k * 16),
    fc.integer({ min: 0, max: 3 }).map((k) => 0x7f00_0000_0000 + k * 64),
    fc.constant(0),
  ),
  size: fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.constant(0xffff_ffff)),
});

function encode(events: readonly Ev[]): EventBatchView {
  const batches: ArrayBuffer[] = [];
  const w = new EventWriter(
    Math.max(1, events.length),
    (b) => batches.push(b),
    () => 0,
  );
  for (const e of events)
    w.writeFields({
      kind: e.kind,
      api: e.api,
      walkClass: e.cls,
      strategy: 0,
      markerId: 1,
      threadId: 1,
      address: BigInt(e.addr),
      size: e.size,
      aux0: 0,
      aux1: 0,
    });
  w.flush();
  return new EventBatchView(batches[0] ?? new ArrayBuffer(0));
}

function inc(a: number[], i: number, v: number): void {
  a[i] = (a[i] ?? 0) + v;
}

function bucket(size: number): number {
  if (size === 0) return 0;
  let b = 0;
  while (b < SIZE_BUCKETS - 1 && 2 ** b <= size) b++;
  return b;
}

/** The definitions of ledger.ts, spelled out the slow and obvious way. */
function naive(events: readonly Ev[]): { summary: LedgerSummary; live: [number, number][] } {
  const row = () => ({
    allocations: 0,
    allocBytes: 0,
    failures: 0,
    frees: 0,
    freeBytes: 0,
    freeNulls: 0,
    apiErrors: 0,
    liveBlocks: 0,
    liveBytes: 0,
  });
  const apiName = (a: number) => API_CALL_NAMES[a] as keyof LedgerSummary['byApi'];
  const clsName = (c: number) =>
    WALK_CLASS_KEYS[c === NO_CLASS ? 5 : c] as keyof LedgerSummary['byClass'];
  const s: LedgerSummary = {
    events: events.length,
    allocations: 0,
    allocationFailures: 0,
    frees: 0,
    freeNulls: 0,
    unmatchedFrees: 0,
    bytesAllocated: 0,
    bytesFreed: 0,
    liveBlocks: 0,
    liveBytes: 0,
    peakLiveBytes: 0,
    violations: 0,
    leaks: 0,
    apiErrors: 0,
    problems: 0,
    violationsByKind: Object.fromEntries(
      VIOLATION_KINDS.map((k) => [k, 0]),
    ) as LedgerSummary['violationsByKind'],
    problemsByKind: Object.fromEntries(
      PROBLEM_KINDS.map((k) => [k, 0]),
    ) as LedgerSummary['problemsByKind'],
    byApi: Object.fromEntries(
      Object.values(API_CALL_NAMES).map((k) => [k, row()]),
    ) as LedgerSummary['byApi'],
    byClass: Object.fromEntries(WALK_CLASS_KEYS.map((k) => [k, row()])) as LedgerSummary['byClass'],
    bySize: {
      allocations: new Array<number>(SIZE_BUCKETS).fill(0),
      allocBytes: new Array<number>(SIZE_BUCKETS).fill(0),
      liveBlocks: new Array<number>(SIZE_BUCKETS).fill(0),
      liveBytes: new Array<number>(SIZE_BUCKETS).fill(0),
    },
  };
  // the live set is recomputed from scratch: which allocs were never followed by a free
  const live = new Map<number, Ev>();
  let running = 0;
  for (const e of events) {
    const name = EVENT_KIND_NAMES[e.kind] as string;
    if (e.kind === EventKind.Alloc) {
      live.set(e.addr, e);
      s.allocations++;
      s.bytesAllocated += e.size;
      s.byApi[apiName(e.api)].allocations++;
      s.byApi[apiName(e.api)].allocBytes += e.size;
      s.byClass[clsName(e.cls)].allocations++;
      s.byClass[clsName(e.cls)].allocBytes += e.size;
      inc(s.bySize.allocations, bucket(e.size), 1);
      inc(s.bySize.allocBytes, bucket(e.size), e.size);
    } else if (e.kind === EventKind.Free) {
      const a = live.get(e.addr);
      if (!a) s.unmatchedFrees++;
      else {
        live.delete(e.addr);
        s.frees++;
        s.bytesFreed += a.size;
        s.byApi[apiName(e.api)].frees++;
        s.byApi[apiName(e.api)].freeBytes += a.size;
        s.byClass[clsName(e.cls)].frees++;
        s.byClass[clsName(e.cls)].freeBytes += a.size;
      }
    } else if (e.kind === EventKind.FreeNull) {
      s.freeNulls++;
      s.byApi[apiName(e.api)].freeNulls++;
      s.byClass[clsName(e.cls)].freeNulls++;
    } else if (e.kind === EventKind.AllocFailed) {
      s.allocationFailures++;
      s.byApi[apiName(e.api)].failures++;
      s.byClass[clsName(e.cls)].failures++;
    } else if (e.kind === EventKind.ApiError) {
      s.apiErrors++;
      s.byApi[apiName(e.api)].apiErrors++;
      s.byClass[clsName(e.cls)].apiErrors++;
    } else if (name === 'Leak') s.leaks++;
    else if (name.startsWith('Violation')) s.violations++;
    if ((VIOLATION_KINDS as readonly string[]).includes(name))
      s.violationsByKind[name as keyof LedgerSummary['violationsByKind']]++;
    if ((PROBLEM_KINDS as readonly string[]).includes(name)) {
      s.problemsByKind[name as keyof LedgerSummary['problemsByKind']]++;
      s.problems++;
    }
    running = [...live.values()].reduce((n, b) => n + b.size, 0);
    s.peakLiveBytes = Math.max(s.peakLiveBytes, running);
  }
  for (const b of live.values()) {
    s.liveBlocks++;
    s.liveBytes += b.size;
    s.byApi[apiName(b.api)].liveBlocks++;
    s.byApi[apiName(b.api)].liveBytes += b.size;
    s.byClass[clsName(b.cls)].liveBlocks++;
    s.byClass[clsName(b.cls)].liveBytes += b.size;
    inc(s.bySize.liveBlocks, bucket(b.size), 1);
    inc(s.bySize.liveBytes, bucket(b.size), b.size);
  }
  const liveList = [...live.entries()].map(([a, b]) => [a, b.size] as [number, number]);
  return { summary: s, live: liveList.sort((x, y) => x[0] - y[0]) };
}

function liveOf(l: Ledger): [number, number][] {
  return l.liveBlocks().map((b) => [b.address, b.size]);
}

describe('ledger (property)', () => {
  it('at every checkpoint equals a naive recount of the events before it', () => {
    fc.assert(
      fc.property(
        fc.array(eventArb, { maxLength: 400 }),
        fc.integer({ min: 1, max: 40 }),
        (evs, k) => {
          const view = encode(evs);
          const ledger = new Ledger(k);
          // fold in uneven pieces, as batches arrive
          let at = 0;
          while (at < view.count) {
            const to = Math.min(view.count, at + 1 + ((at * 7) % 13));
            ledger.fold(view, at, to);
            at = to;
          }
          expect(ledger.checkpointCount).toBe(Math.floor(evs.length / k));
          for (let j = 0; j < ledger.checkpointCount; j++) {
            const cp = ledger.checkpointState(j, view);
            const want = naive(evs.slice(0, (j + 1) * k));
            expect(cp.summary()).toEqual(want.summary);
            expect(liveOf(cp)).toEqual(want.live);
          }
          const all = naive(evs);
          expect(ledger.summary()).toEqual(all.summary);
          expect(liveOf(ledger)).toEqual(all.live);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('stateAt(i) equals the state reached by streaming the first i events', () => {
    fc.assert(
      fc.property(
        fc.array(eventArb, { maxLength: 400 }),
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
        (evs, k, picks) => {
          const view = encode(evs);
          const ledger = new Ledger(k);
          ledger.fold(view, 0, view.count);
          for (const p of [0, evs.length, ...picks.map((x) => x % (evs.length + 1))]) {
            const streamed = new Ledger(0);
            streamed.fold(view, 0, p);
            const rebuilt = ledger.stateAt(p, view);
            expect(rebuilt.summary()).toEqual(streamed.summary());
            expect(rebuilt.liveBlocks()).toEqual(streamed.liveBlocks());
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('keeps checkpoints every CHECKPOINT_EVENTS events of a long stream', () => {
    const evs: Ev[] = [];
    for (let i = 0; i < CHECKPOINT_EVENTS * 2 + 100; i++)
      evs.push({
        kind: i % 3 === 2 ? EventKind.Free : EventKind.Alloc,
        api: 2,
        cls: i % 5,
        addr: 0x10000 + (i % 64) * 32,
        size: 1 + (i % 300),
      });
    const view = encode(evs);
    const ledger = new Ledger(CHECKPOINT_EVENTS);
    ledger.fold(view, 0, view.count);
    expect(ledger.checkpointCount).toBe(2);
    const at = CHECKPOINT_EVENTS + 1234;
    expect(ledger.stateAt(at, view).summary()).toEqual(naive(evs.slice(0, at)).summary);
  });

  it('a state posted as typed arrays (snapshot → fromState) is the same ledger, and folds on alike', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 300 }), fc.nat(300), (evs, cut) => {
        const view = encode(evs);
        const at = Math.min(cut, view.count);
        const ledger = new Ledger(0);
        ledger.fold(view, 0, at);
        const copy = Ledger.fromState(structuredClone(ledger.snapshot()));
        // The counts first (the live set of a copy is built when first read).
        expect(copy.liveBlockCount).toBe(ledger.liveBlockCount);
        expect(copy.summary()).toEqual(ledger.summary());
        // liveArrays: the posted arrays as they are, the original's a copy of its set; the same
        // blocks, address, seq and size/API/class, either way.
        const blocksOf = (a: LiveArrays): [number, number, number, number, number][] => {
          const out: [number, number, number, number, number][] = [];
          for (let j = 0; j < a.length; j++) {
            const p = a.packed[j] as number;
            out.push([
              a.addr[j] as number,
              a.seq[j] as number,
              packedSize(p),
              packedApiRow(p),
              packedClassRow(p),
            ]);
          }
          return out.sort((x, y) => x[0] - y[0]);
        };
        expect(copy.liveArrays().copy).toBe(false);
        expect(ledger.liveArrays().copy).toBe(true);
        expect(blocksOf(copy.liveArrays())).toEqual(blocksOf(ledger.liveArrays()));
        expect(blocksOf(ledger.liveArrays())).toEqual(
          ledger.liveBlocks().map((b) => [b.address, b.seq, b.size, b.api, b.cls]),
        );
        expect(liveOf(copy)).toEqual(liveOf(ledger));
        // Folding on from the copy reaches the same state as the original.
        copy.fold(view, at, view.count);
        const want = naive(evs);
        expect(copy.summary()).toEqual(want.summary);
        expect(liveOf(copy)).toEqual(want.live);
      }),
      { numRuns: 150 },
    );
  });

  it('rejects a position it has not folded', () => {
    const ledger = new Ledger(4);
    expect(() => ledger.stateAt(1, encode([]))).toThrow(RangeError);
    expect(() => new Ledger(-1)).toThrow(RangeError);
  });

  it('exportBytes / fromBytes: a ledger rebuilt from its bytes folds on exactly as the original', () => {
    fc.assert(
      fc.property(
        fc.array(eventArb, { maxLength: 300 }),
        fc.array(eventArb, { maxLength: 100 }),
        (head, tail) => {
          const view = encode([...head, ...tail]);
          const original = new Ledger(0);
          original.fold(view, 0, head.length);
          const rebuilt = Ledger.fromBytes(original.exportBytes());
          expect(rebuilt.summary()).toEqual(original.summary());
          expect(rebuilt.liveBlocks()).toEqual(original.liveBlocks());
          original.fold(view, head.length, view.count);
          rebuilt.fold(view, head.length, view.count);
          expect(rebuilt.summary()).toEqual(naive([...head, ...tail]).summary);
          expect(liveOf(rebuilt)).toEqual(liveOf(original));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('fromBytes rejects any damaged state with a LedgerStateError, or gives a consistent ledger', () => {
    const evs: Ev[] = [];
    for (let i = 0; i < 500; i++)
      evs.push({
        kind: i % 3 === 2 ? EventKind.Free : EventKind.Alloc,
        api: i % 7,
        cls: i % 6,
        addr: 0x10000 + (i % 40) * 32,
        size: 1 + ((i * 37) % 3000),
      });
    const l = new Ledger(0);
    l.fold(encode(evs), 0, evs.length);
    const good = l.exportBytes();
    fc.assert(
      fc.property(
        fc.nat({ max: good.byteLength - 1 }),
        fc.nat({ max: 7 }),
        fc.boolean(),
        (at, bit, cut) => {
          const bad = cut ? good.slice(0, at) : good.slice();
          if (!cut) bad[at] = (bad[at] as number) ^ (1 << bit);
          let r: Ledger;
          try {
            r = Ledger.fromBytes(bad);
          } catch (e) {
            expect(e).toBeInstanceOf(LedgerStateError);
            return;
          }
          // Accepted: then it is self-consistent (live bytes are the live blocks' sizes).
          const s = r.summary();
          expect(r.liveBlocks().reduce((n, b) => n + b.size, 0)).toBe(s.liveBytes);
          expect(s.bySize.liveBlocks.reduce((n, b) => n + b, 0)).toBe(s.liveBlocks);
        },
      ),
      { numRuns: 600, seed: 12 },
    );
    expect(() => Ledger.fromBytes(new Uint8Array(3))).toThrow(/ledger state: only 3 bytes/);
  });
});
