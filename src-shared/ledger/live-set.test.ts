/**
 * LiveSet, the ledger's address table (open addressing, backward-shift deletion), against a
 * Map doing the same operations: random sets, replacements and removals over addresses that
 * collide (a small address range, so clusters wrap and deletions shift), address 0, growth.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LiveSet, type LiveArrays } from './ledger';

type Op = { t: 'set'; a: number; seq: number } | { t: 'take'; a: number };

const sorted = (xs: Iterable<[number, number]>): [number, number][] =>
  [...xs].sort((x, y) => x[0] - y[0]);

function check(ops: Op[]): void {
  const s = new LiveSet();
  const m = new Map<number, [number, number]>();
  for (const op of ops) {
    if (op.t === 'set') {
      const packed = op.seq * 3 + 1;
      const want = m.get(op.a)?.[1] ?? -1;
      expect(s.set(op.a, op.seq, packed)).toBe(want);
      m.set(op.a, [op.seq, packed]);
    } else {
      expect(s.take(op.a)).toBe(m.get(op.a)?.[1]);
      m.delete(op.a);
    }
    expect(s.size).toBe(m.size);
  }
  for (const [a, [seq, packed]] of m) {
    expect(s.get(a)).toBe(seq);
    expect(s.packed(a)).toBe(packed);
  }
  expect(sorted(s.entries())).toEqual(sorted([...m].map(([a, [seq]]) => [a, seq])));
  const seen: [number, number][] = [];
  s.forEach((a, seq, packed) => {
    expect(packed).toBe(m.get(a)?.[1]);
    seen.push([a, seq]);
  });
  expect(sorted(seen)).toEqual(sorted(s));
  // copyInto(): the same blocks (a block at address 0 too), into new arrays or reused ones.
  const want = [...m]
    .map(([a, [seq, packed]]): [number, number, number] => [a, seq, packed])
    .sort((x, y) => x[0] - y[0]);
  const rows = (c: LiveArrays): [number, number, number][] =>
    Array.from({ length: c.length }, (_, j): [number, number, number] => [
      c.addr[j] as number,
      c.seq[j] as number,
      c.packed[j] as number,
    ]).sort((x, y) => x[0] - y[0]);
  const fresh = s.copyInto();
  expect(fresh.copy).toBe(true);
  expect(rows(fresh)).toEqual(want);
  const big = s.copyInto({
    ...fresh,
    addr: new Float64Array(s.size + 5),
    seq: new Float64Array(s.size + 5),
    packed: new Float64Array(s.size + 5),
  });
  expect(rows(big)).toEqual(want);
}

/** Addresses as the ledger sees them: 0, small ones, and 47-bit heap addresses that collide. */
const address = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 1, max: 64 }).map((k) => k * 16),
  fc.integer({ min: 0, max: 300 }).map((k) => 0x7f3a_1c00_0000 + k * 48),
  fc.integer({ min: 0, max: 2 ** 47 - 1 }),
);

describe('LiveSet', () => {
  it('does what a Map does, for any sequence of sets and takes', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ t: fc.constant('set' as const), a: address, seq: fc.nat(1e9) }),
            fc.record({ t: fc.constant('take' as const), a: address }),
          ),
          { maxLength: 2000 },
        ),
        (ops) => check(ops),
      ),
      { numRuns: 300 },
    );
  });

  it('grows past 100,000 blocks and removes them all again, in another order', () => {
    const s = new LiveSet();
    const n = 100_000;
    for (let i = 0; i < n; i++) s.set(0x5555_0000_0000 + i * 32, i, i);
    expect(s.size).toBe(n);
    for (let i = n - 1; i >= 0; i -= 2) expect(s.take(0x5555_0000_0000 + i * 32)).toBe(i);
    for (let i = 0; i < n; i += 2) expect(s.get(0x5555_0000_0000 + i * 32)).toBe(i);
    for (let i = 0; i < n; i += 2) s.take(0x5555_0000_0000 + i * 32);
    expect(s.size).toBe(0);
    expect([...s]).toEqual([]);
  });

  it('an iterator sees the set as it was when it started', () => {
    const s = new LiveSet();
    for (let i = 1; i <= 100; i++) s.set(i * 16, i, 0);
    const it = s.entries();
    const first = it.next().value as [number, number];
    for (let i = 1; i <= 100; i++) if (i * 16 !== first[0]) s.take(i * 16);
    for (let i = 101; i <= 5000; i++) s.set(i * 16, i, 0); // grows (rehash) meanwhile
    const rest = [...it];
    expect(rest).toHaveLength(99);
    expect(sorted([first, ...rest])).toEqual(
      Array.from({ length: 100 }, (_, k) => [(k + 1) * 16, k + 1]),
    );
  });

  it('copyInto() is a copy (the set as it was), reusing arrays that are a copy with room', () => {
    const s = new LiveSet();
    for (let i = 1; i <= 100; i++) s.set(i * 16, i, i * 64);
    const first = s.copyInto();
    for (let i = 1; i <= 100; i++) s.take(i * 16);
    for (let i = 101; i <= 150; i++) s.set(i * 16, i, 0); // grows meanwhile
    expect(Array.from(first.addr.subarray(0, first.length)).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 100 }, (_, k) => (k + 1) * 16),
    );
    // 50 blocks fit in the first copy's arrays: filled again, no new arrays.
    const again = s.copyInto(first);
    expect(again.addr).toBe(first.addr);
    expect(again.length).toBe(50);
    // A posted state's arrays (copy: false) are never written.
    const posted = { ...again, addr: new Float64Array(200), copy: false };
    expect(s.copyInto(posted).addr).not.toBe(posted.addr);
    expect(posted.addr.every((v) => v === 0)).toBe(true);
    // Too small: new arrays.
    for (let i = 151; i <= 400; i++) s.set(i * 16, i, 0);
    expect(s.copyInto(first).addr).not.toBe(first.addr);
  });

  it('reserve keeps every block and clear empties it', () => {
    const s = new LiveSet();
    for (let i = 1; i <= 10; i++) s.set(i * 16, i, i);
    s.reserve(50_000);
    for (let i = 1; i <= 10; i++) expect(s.get(i * 16)).toBe(i);
    s.set(0, 7, 8);
    s.clear();
    expect(s.size).toBe(0);
    expect(s.get(16)).toBeUndefined();
    expect(s.get(0)).toBeUndefined();
  });
});
