import { describe, expect, it } from 'vitest';
import { buildIndex, parseQuery, matchesQuery, sortIndices } from './tableIndex';

const rows = [
  { name: 'bash', pid: 30, mem: 5 },
  { name: 'Xorg', pid: 2, mem: 500 },
  { name: 'node', pid: 100, mem: 50 },
  { name: 'nodejs-helper', pid: 7, mem: 50 },
];

describe('table index', () => {
  it('filters by all tokens, with exclusions', () => {
    const q = parseQuery(' NODE  -helper ');
    expect(q).toEqual({ include: ['node'], exclude: ['helper'] });
    expect(matchesQuery('node 100', q)).toBe(true);
    expect(matchesQuery('nodejs-helper 7', q)).toBe(false);
    const idx = buildIndex(rows, 'node', (r) => `${r.name} ${r.pid}`, null, 'asc');
    expect([...idx]).toEqual([2, 3]);
  });
  it('sorts indices by numbers and strings, stable on ties, without copying rows', () => {
    const byMem = buildIndex(
      rows,
      '',
      (r) => r.name,
      (r) => r.mem,
      'desc',
    );
    expect([...byMem]).toEqual([1, 2, 3, 0]);
    const byName = buildIndex(
      rows,
      '',
      (r) => r.name,
      (r) => r.name,
      'asc',
    );
    expect([...byName]).toEqual([0, 2, 3, 1]);
    const idx = Uint32Array.of(3, 1, 0);
    sortIndices(idx, (i) => rows[i]?.pid ?? 0, 'asc', rows.length);
    expect([...idx]).toEqual([1, 3, 0]);
  });
  it('sorts 100k rows quickly', () => {
    const big = Array.from({ length: 100_000 }, (_, i) => ({
      v: (i * 7919) % 100_003,
      s: `r${i}`,
    }));
    const t = performance.now();
    const idx = buildIndex(
      big,
      'r1',
      (r) => r.s,
      (r) => r.v,
      'asc',
    );
    expect(performance.now() - t).toBeLessThan(1000);
    for (let i = 1; i < idx.length; i++)
      expect((big[idx[i] as number]?.v ?? 0) >= (big[idx[i - 1] as number]?.v ?? 0)).toBe(true);
  });
});
