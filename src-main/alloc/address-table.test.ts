import { describe, expect, it } from 'vitest';
import { AddressTable, addrHi, addrLo, toAddressNumber } from './address-table';
import { mulberry32 } from './faulty';

describe('AddressTable', () => {
  it('agrees with a Map under random inserts and deletes (with growth and wrap-around)', () => {
    const t = new AddressTable(4);
    const m = new Map<number, [number, number]>();
    const rnd = mulberry32(99);
    const base = 0x7f12_3456_0000;
    for (let step = 0; step < 50_000; step++) {
      // Clustered, 16-byte-aligned keys like real heap addresses, plus a few odd ones.
      const key = base + Math.floor(rnd() * 4000) * 16 + (rnd() < 0.01 ? 8 : 0);
      if (rnd() < 0.55) {
        const size = Math.floor(rnd() * 1e6);
        const tag = step & 0xff;
        expect(t.set(key, size, tag)).toBe(!m.has(key));
        m.set(key, [size, tag]);
      } else {
        expect(t.delete(key)).toBe(m.delete(key));
      }
      expect(t.count).toBe(m.size);
    }
    for (const [k, [size, tag]] of m) {
      const i = t.find(k);
      expect(i).toBeGreaterThanOrEqual(0);
      expect([t.sizeAt(i), t.tagAt(i), t.keyAt(i)]).toEqual([size, tag, k]);
    }
    expect(t.entries().map((e) => e[0])).toEqual([...m.keys()].sort((a, b) => a - b));
    expect(t.find(base + 1)).toBe(-1);
    t.clear();
    expect(t.count).toBe(0);
    expect(t.find(base)).toBe(-1);
  });

  it('splits and converts addresses exactly', () => {
    const a = 0x7ffd_1234_5678n;
    const n = toAddressNumber(a);
    expect(n).toBe(0x7ffd_1234_5678);
    expect(addrLo(n)).toBe(0x1234_5678);
    expect(addrHi(n)).toBe(0x7ffd);
    expect(toAddressNumber(1n << 60n)).toBe(-1);
    expect(() => new AddressTable().set(0, 1, 0)).toThrow(RangeError);
  });
});
