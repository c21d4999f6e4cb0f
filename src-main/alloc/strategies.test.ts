import { afterEach, describe, expect, it } from 'vitest';
import { FAULTY_BIT, FailReason, GuardVerdict, StrategyId } from '../../src-shared/events/layout';
import { POOL_LARGE_FACT } from '../../src-shared/alloc/stats';
import { defaultOptions } from '../../src-shared/alloc/options';
import type { AllocatorOptions } from '../../src-shared/alloc/options';
import { nativeMemory } from '../pss/native-memory';
import { ArenaStrategy } from './arena';
import { createStrategy } from './factory';
import { FaultyStrategy, mulberry32 } from './faulty';
import { GuardStrategy } from './guard';
import { HeapStrategy } from './heap';
import { PoolStrategy } from './pool';
import type { AllocatorStrategy } from './strategy';

const made: AllocatorStrategy[] = [];
function track<T extends AllocatorStrategy>(s: T): T {
  made.push(s);
  return s;
}
afterEach(() => {
  for (const s of made.splice(0)) s.release();
});

/** Writes a pattern through a view of the block and reads it back through a fresh view. */
function writeAndReadBack(address: bigint, size: number, seed: number): void {
  const w = nativeMemory.view(address, size);
  for (let i = 0; i < size; i++) w[i] = (seed + i * 7) & 0xff;
  const r = nativeMemory.view(address, size);
  for (let i = 0; i < size; i++) if (r[i] !== ((seed + i * 7) & 0xff)) throw new Error('mismatch');
}

const ALL: Array<[string, AllocatorOptions]> = [
  ['heap', defaultOptions('heap')],
  ['arena', { strategy: 'arena', capacityBytes: 1 << 20 }],
  ['pool', defaultOptions('pool')],
  ['guard', defaultOptions('guard')],
  ['faulty(pool)', { strategy: 'faulty', inner: defaultOptions('pool') }],
];

describe.each(ALL)('%s: common contract', (_name, options) => {
  it('returns real, distinct, 16-byte-aligned native memory that holds what is written', () => {
    const s = track(createStrategy(options));
    const sizes = [0, 1, 15, 16, 17, 100, 256, 1000, 4096, 5000, 70000];
    const blocks = sizes.map((size) => ({ size, p: s.alloc(size) }));
    const seen = new Set<bigint>();
    for (const [i, { size, p }] of blocks.entries()) {
      expect(p).not.toBe(0n);
      expect(p % 16n).toBe(0n);
      expect(seen.has(p)).toBe(false);
      seen.add(p);
      if (size > 0) writeAndReadBack(p, size, i);
    }
    // Nothing overlapped: every block still holds its own pattern.
    for (const [i, { size, p }] of blocks.entries()) {
      const r = nativeMemory.view(p, size);
      let bad = 0;
      for (let j = 0; j < size; j++) if (r[j] !== ((i + j * 7) & 0xff)) bad++;
      expect(bad).toBe(0);
    }
    const st = s.stats();
    expect(st.allocations).toBe(sizes.length);
    expect(st.liveBlocks).toBe(sizes.length);
    expect(st.liveBytes).toBe(sizes.reduce((a, b) => a + b, 0));
    expect(
      s
        .outstanding()
        .map((b) => b.size)
        .sort((a, b) => a - b),
    ).toEqual([...sizes].sort((a, b) => a - b));
    for (const { p } of blocks) s.free(p);
    const after = s.stats();
    expect(after.frees).toBe(sizes.length);
    expect(after.liveBlocks).toBe(0);
    expect(after.liveBytes).toBe(0);
    expect(after.peakBytes).toBe(st.liveBytes);
    expect(after.totalBytes).toBe(st.liveBytes);
  });

  it('accepts free(0n) and refuses an address it never gave out', () => {
    const s = track(createStrategy(options));
    s.free(0n);
    s.free(0n);
    expect(s.stats().freeNulls).toBe(2);
    const foreign = nativeMemory.malloc(64);
    try {
      s.free(foreign);
      s.free(0xdead0000n);
      s.free(1n << 60n);
      expect(s.lastVerdict).toBe(GuardVerdict.UnknownAddress);
      expect(s.stats().badFrees).toBe(3);
      // The foreign block was not passed to libc: it is still ours to use and free.
      writeAndReadBack(foreign, 64, 3);
    } finally {
      nativeMemory.free(foreign);
    }
  });

  it('release() returns the native memory; afterwards alloc fails and free is harmless', () => {
    const s = createStrategy(options);
    const p = s.alloc(100);
    s.alloc(5000);
    expect(s.stats().nativeBytes).toBeGreaterThan(0);
    s.release();
    s.release();
    const st = s.stats();
    expect(st.released).toBe(true);
    expect(st.nativeBytes).toBe(0);
    expect(st.liveBlocks).toBe(0);
    expect(s.alloc(16)).toBe(0n);
    s.free(p);
    s.free(0n);
  });

  it('reports its strategy code', () => {
    const s = track(createStrategy(options));
    const base = options.strategy === 'faulty' ? options.inner.strategy : options.strategy;
    expect(s.id).toBe(base);
    expect(s.code).toBe(StrategyId[base] | (options.strategy === 'faulty' ? FAULTY_BIT : 0));
    expect(s.stats().code).toBe(s.code);
  });
});

describe('arena', () => {
  it('bumps 16-byte-aligned offsets and reports them as the fact', () => {
    const a = track(new ArenaStrategy(4096));
    const p0 = a.alloc(10);
    expect(a.lastFact).toBe(0);
    const p1 = a.alloc(17);
    expect(a.lastFact).toBe(16);
    const p2 = a.alloc(32);
    expect(a.lastFact).toBe(48);
    expect(p1 - p0).toBe(16n);
    expect(p2 - p1).toBe(32n);
    a.free(p1);
    expect(a.lastFact).toBe(16);
    const f = a.stats().facts;
    expect(f).toMatchObject({
      strategy: 'arena',
      usedBytes: 80,
      freedBytes: 32,
      paddingBytes: 6,
      wasteBytes: 80 - 42,
    });
  });

  it('returns 0n when exhausted, and only rewinds when nothing is live', () => {
    const a = track(new ArenaStrategy(4096));
    const blocks: bigint[] = [];
    for (let i = 0; i < 4; i++) blocks.push(a.alloc(1000));
    expect(a.alloc(1000)).toBe(0n);
    expect(a.lastFailReason).toBe(FailReason.Exhausted);
    expect(a.stats().failures).toBe(1);
    a.free(blocks[0] ?? 0n);
    expect(a.alloc(1000)).toBe(0n); // frees are not reclaimed before reset
    expect(a.reset()).toBe(false);
    for (const b of blocks.slice(1)) a.free(b);
    expect(a.reset()).toBe(true);
    expect(a.alloc(1000)).not.toBe(0n);
    const f = a.stats().facts;
    expect(f).toMatchObject({ strategy: 'arena', resets: 1, exhausted: 2, usedBytes: 1008 });
    expect(f.strategy === 'arena' && f.highWaterBytes).toBe(4032);
  });
});

describe('pool', () => {
  it('reuses a freed block for the next request of the same class', () => {
    const p = track(new PoolStrategy([16, 32, 64], 4));
    const a = p.alloc(24);
    expect(p.lastFact).toBe(1);
    const b = p.alloc(30);
    p.free(a);
    expect(p.lastFact).toBe(1);
    expect(p.alloc(20)).toBe(a);
    expect(p.alloc(17)).not.toBe(b);
    const small = p.alloc(1);
    expect(p.lastFact).toBe(0);
    p.alloc(0);
    expect(p.lastFact).toBe(0);
    expect(small).not.toBe(0n);
    const f = p.stats().facts;
    expect(f.strategy === 'pool' && f.classes[1]).toEqual({
      size: 32,
      inUse: 3,
      free: 1,
      slabs: 1,
      requests: 4,
    });
  });

  it('adds slabs as a class runs dry and sends large requests to malloc', () => {
    const p = track(new PoolStrategy([16, 32], 2));
    const xs = [p.alloc(16), p.alloc(16), p.alloc(16)];
    expect(new Set(xs).size).toBe(3);
    const big = p.alloc(1000);
    expect(p.lastFact).toBe(POOL_LARGE_FACT);
    writeAndReadBack(big, 1000, 9);
    const f = p.stats().facts;
    expect(f.strategy === 'pool' && f.classes[0]).toMatchObject({ slabs: 2, inUse: 3, free: 1 });
    expect(f.strategy === 'pool' && f.fallback).toEqual({
      allocations: 1,
      liveBlocks: 1,
      liveBytes: 1000,
    });
    p.free(big);
    expect(p.lastFact).toBe(POOL_LARGE_FACT);
    expect(p.stats().nativeBytes).toBe(2 * 32 + 0);
  });
  it('takes back every block of a class after several slabs (free list never overflows)', () => {
    const p = track(new PoolStrategy([16], 4));
    for (let round = 0; round < 3; round++) {
      const xs = Array.from({ length: 4 * 5 }, () => p.alloc(16));
      expect(new Set(xs).size).toBe(20);
      for (const x of xs) p.free(x);
      const f = p.stats().facts;
      expect(f.strategy === 'pool' && f.classes[0]).toMatchObject({ slabs: 5, inUse: 0, free: 20 });
    }
  });
});

describe('guard', () => {
  it('puts canary-filled red zones on both sides', () => {
    const g = track(new GuardStrategy(20));
    expect(g.redZoneBytes).toBe(32);
    const p = g.alloc(40);
    expect(g.lastFact).toBe(32);
    const around = nativeMemory.view(p - 32n, 32 + 40 + 32);
    for (let i = 0; i < 32; i++) expect(around[i]).toBe(0xfd);
    for (let i = 72; i < 104; i++) expect(around[i]).toBe(0xfd);
    g.free(p);
    expect(g.lastVerdict).toBe(GuardVerdict.Ok);
    expect(g.pendingFindings).toBe(0);
  });

  it('detects an overrun (one byte past the end) at free, and still frees the block', () => {
    const g = track(new GuardStrategy(16));
    for (const size of [1, 40, 300]) {
      const p = g.alloc(size);
      nativeMemory.view(p, size + 1)[size] = 0;
      g.free(p);
      expect(g.lastVerdict).toBe(GuardVerdict.Overrun);
      expect(g.takeFindings()).toEqual([{ verdict: GuardVerdict.Overrun, address: p, size }]);
    }
    expect(g.stats().liveBlocks).toBe(0);
    expect(g.stats().facts).toMatchObject({ overruns: 3, underruns: 0 });
  });

  it('detects an underrun (one byte before the start) at free', () => {
    const g = track(new GuardStrategy(16));
    const p = g.alloc(64);
    nativeMemory.view(p - 1n, 1)[0] = 0x41;
    g.free(p);
    expect(g.lastVerdict).toBe(GuardVerdict.Underrun);
    expect(g.takeFindings()).toEqual([{ verdict: GuardVerdict.Underrun, address: p, size: 64 }]);
  });

  it('checkAll() finds damage in live blocks, once per block', () => {
    const g = track(new GuardStrategy(32));
    const a = g.alloc(10);
    const b = g.alloc(10);
    const c = g.alloc(10);
    nativeMemory.view(a, 11)[10] = 1;
    nativeMemory.view(c - 32n, 1)[0] = 2;
    nativeMemory.view(c, 11)[10] = 3;
    const found = g.checkAll();
    expect(found).toEqual(
      expect.arrayContaining([
        { verdict: GuardVerdict.Overrun, address: a, size: 10 },
        { verdict: GuardVerdict.Overrun, address: c, size: 10 },
        { verdict: GuardVerdict.Underrun, address: c, size: 10 },
      ]),
    );
    expect(found).toHaveLength(3);
    expect(g.checkAll()).toEqual([]);
    g.free(a);
    expect(g.lastVerdict).toBe(GuardVerdict.Overrun); // still the verdict of this free…
    expect(g.pendingFindings).toBe(0); // …but not reported twice
    g.free(b);
    g.free(c);
    expect(g.stats().facts).toMatchObject({ overruns: 2, underruns: 1 });
  });

  it('detects a double free and a foreign free without passing them to libc', () => {
    const g = track(new GuardStrategy(16));
    const p = g.alloc(32);
    g.free(p);
    g.free(p);
    expect(g.lastVerdict).toBe(GuardVerdict.DoubleFree);
    const foreign = nativeMemory.malloc(32);
    g.free(foreign);
    expect(g.lastVerdict).toBe(GuardVerdict.UnknownAddress);
    g.free(p + 16n);
    expect(g.lastVerdict).toBe(GuardVerdict.UnknownAddress);
    nativeMemory.free(foreign);
    expect(g.stats()).toMatchObject({
      frees: 1,
      badFrees: 3,
      facts: { doubleFrees: 1, unknownFrees: 2, quarantinedBlocks: 1 },
    });
  });
});

describe('faulty', () => {
  it('fails exactly the Nth attempts', () => {
    const f = track(new FaultyStrategy(new HeapStrategy(), { failNth: [2, 5] }));
    const got = Array.from({ length: 6 }, () => f.alloc(8));
    expect(got.map((p) => p === 0n)).toEqual([false, true, false, false, true, false]);
    expect(f.lastFailReason).toBe(FailReason.FailNth);
    for (const p of got) f.free(p);
    const st = f.stats();
    expect(st).toMatchObject({ failures: 2, allocations: 4, frees: 4, freeNulls: 2 });
    expect(st.faults).toMatchObject({ attempts: 6, failNth: 2 });
  });

  it('fails with a seeded probability, reproducibly', () => {
    const run = (seed: number): boolean[] => {
      const f = new FaultyStrategy(new PoolStrategy([16, 32], 64), {
        failProbability: 0.3,
        seed,
      });
      const out = Array.from({ length: 400 }, () => {
        const p = f.alloc(16);
        if (p !== 0n) f.free(p);
        return p === 0n;
      });
      f.release();
      return out;
    };
    const a = run(42);
    expect(run(42)).toEqual(a);
    expect(run(43)).not.toEqual(a);
    const rate = a.filter(Boolean).length / a.length;
    expect(rate).toBeGreaterThan(0.2);
    expect(rate).toBeLessThan(0.4);
    // The PRNG itself is deterministic.
    const r1 = mulberry32(7);
    const r2 = mulberry32(7);
    for (let i = 0; i < 10; i++) expect(r1()).toBe(r2());
  });

  it('fails past the live-byte budget and succeeds again once bytes are freed', () => {
    const f = track(new FaultyStrategy(new ArenaStrategy(8192), { budgetBytes: 100 }));
    const a = f.alloc(60);
    expect(a).not.toBe(0n);
    expect(f.alloc(60)).toBe(0n);
    expect(f.lastFailReason).toBe(FailReason.Budget);
    expect(f.alloc(40)).not.toBe(0n);
    f.free(a);
    expect(f.alloc(60)).not.toBe(0n);
  });

  it('reports the inner strategy running out as Exhausted', () => {
    const f = track(new FaultyStrategy(new ArenaStrategy(4096), {}));
    expect(f.alloc(5000)).toBe(0n);
    expect(f.lastFailReason).toBe(FailReason.Exhausted);
    expect(f.stats()).toMatchObject({ failures: 1, faults: { innerFailures: 1 } });
  });
});
