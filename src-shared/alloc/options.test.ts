import { describe, expect, it } from 'vitest';
import {
  ALL_STRATEGIES,
  DEFAULT_ARENA_BYTES,
  DEFAULT_POOL_CLASSES,
  STRATEGY_INFO,
  defaultOptions,
  describeOptions,
  parseAllocatorOptions,
} from './options';

function err(input: unknown): string {
  const r = parseAllocatorOptions(input);
  if (r.ok) throw new Error(`expected a rejection, got ${JSON.stringify(r.value)}`);
  return r.error;
}

describe('parseAllocatorOptions', () => {
  it('accepts every default and round-trips it through JSON', () => {
    for (const s of ALL_STRATEGIES) {
      const o = defaultOptions(s);
      const r = parseAllocatorOptions(JSON.parse(JSON.stringify(o)));
      expect(r).toEqual({ ok: true, value: o });
      expect(STRATEGY_INFO[s].label.length).toBeGreaterThan(0);
      expect(describeOptions(o).length).toBeGreaterThan(0);
    }
  });

  it('fills missing numeric fields with defaults', () => {
    expect(parseAllocatorOptions({ strategy: 'arena' })).toEqual({
      ok: true,
      value: { strategy: 'arena', capacityBytes: DEFAULT_ARENA_BYTES },
    });
    const pool = parseAllocatorOptions({ strategy: 'pool' });
    expect(pool.ok && pool.value.strategy === 'pool' && pool.value.classes).toEqual([
      ...DEFAULT_POOL_CLASSES,
    ]);
    expect(parseAllocatorOptions({ strategy: 'faulty' })).toEqual({
      ok: true,
      value: { strategy: 'faulty', inner: { strategy: 'heap' } },
    });
  });

  it('normalizes failNth (sorted, unique) and keeps absent optionals absent', () => {
    const r = parseAllocatorOptions({
      strategy: 'faulty',
      inner: { strategy: 'guard', redZoneBytes: 16 },
      failNth: [5, 1, 5, 3],
    });
    expect(r).toEqual({
      ok: true,
      value: {
        strategy: 'faulty',
        inner: { strategy: 'guard', redZoneBytes: 16 },
        failNth: [1, 3, 5],
      },
    });
    if (r.ok) expect('seed' in r.value).toBe(false);
  });

  it('rejects bad numbers', () => {
    expect(err({ strategy: 'arena', capacityBytes: NaN })).toMatch(/capacityBytes/);
    expect(err({ strategy: 'arena', capacityBytes: -4096 })).toMatch(/capacityBytes/);
    expect(err({ strategy: 'arena', capacityBytes: 1.5e12 })).toMatch(/capacityBytes/);
    expect(err({ strategy: 'arena', capacityBytes: 4096.5 })).toMatch(/integer/);
    expect(err({ strategy: 'arena', capacityBytes: '4096' })).toMatch(/capacityBytes/);
    expect(err({ strategy: 'guard', redZoneBytes: 0 })).toMatch(/redZoneBytes/);
    expect(err({ strategy: 'guard', redZoneBytes: Infinity })).toMatch(/redZoneBytes/);
    expect(err({ strategy: 'faulty', failProbability: 1.5 })).toMatch(/failProbability/);
    expect(err({ strategy: 'faulty', failProbability: NaN })).toMatch(/failProbability/);
    expect(err({ strategy: 'faulty', failNth: [0] })).toMatch(/failNth\[0\]/);
    expect(err({ strategy: 'faulty', failNth: [1, -2] })).toMatch(/failNth\[1\]/);
    expect(err({ strategy: 'faulty', seed: -1 })).toMatch(/seed/);
    expect(err({ strategy: 'faulty', budgetBytes: -1 })).toMatch(/budgetBytes/);
  });

  it('rejects bad pool classes', () => {
    expect(err({ strategy: 'pool', classes: [] })).toMatch(/classes/);
    expect(err({ strategy: 'pool', classes: [32, 16] })).toMatch(/ascending/);
    expect(err({ strategy: 'pool', classes: [16, 16] })).toMatch(/ascending/);
    expect(err({ strategy: 'pool', classes: [24] })).toMatch(/multiple of 16/);
    expect(err({ strategy: 'pool', classes: [8] })).toMatch(/classes\[0\]/);
    expect(err({ strategy: 'pool', classes: 'x' })).toMatch(/array/);
    expect(err({ strategy: 'pool', classes: [1 << 20], blocksPerSlab: 65536 })).toMatch(/slab/);
  });

  it('rejects unknown keys, unknown strategies, nesting and non-objects', () => {
    expect(err({ strategy: 'heap', extra: 1 })).toMatch(/unknown key "extra"/);
    expect(err({ strategy: 'faulty', inner: { strategy: 'heap', x: 1 } })).toMatch(/inner/);
    expect(err({ strategy: 'faulty', inner: { strategy: 'faulty' } })).toMatch(/faulty/);
    expect(err({ strategy: 'slab' })).toMatch(/strategy/);
    expect(err(null)).toMatch(/object/);
    expect(err([])).toMatch(/object/);
    expect(err('heap')).toMatch(/object/);
    expect(
      err(Object.assign(Object.create({ polluted: true }) as object, { strategy: 'heap' })),
    ).toMatch(/object/);
  });
});
