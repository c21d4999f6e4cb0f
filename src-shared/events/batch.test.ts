import { describe, expect, it } from 'vitest';
import {
  CorruptBatchError,
  EventBatchView,
  EventWriter,
  concatBatches,
  hexAddress,
  joinAddress,
  splitAddress,
} from './batch';
import { ApiCall, EVENT_SIZE, EventKind, NO_CLASS } from './layout';

describe('event batch codec', () => {
  it('round-trips every field, including 64-bit addresses', () => {
    const batches: [ArrayBuffer, number][] = [];
    let clock = 1000;
    const w = new EventWriter(
      3,
      (b, first) => batches.push([b, first]),
      () => (clock += 7),
    );
    const addrs = [0n, 0x7ffd_1234_5678n, 0xffff_ffff_ff60_0000n, 0x1000n];
    addrs.forEach((a, i) =>
      w.writeFields({
        kind: EventKind.Free,
        api: ApiCall.PssWalkMarkerFree,
        walkClass: i === 3 ? NO_CLASS : i,
        strategy: 0x83,
        markerId: 9,
        threadId: 4242,
        address: a,
        size: 4096 + i,
        aux0: 0xffffffff,
        aux1: i,
      }),
    );
    w.flush();
    expect(batches.map(([b, f]) => [b.byteLength / EVENT_SIZE, f])).toEqual([
      [3, 0],
      [1, 3],
    ]);
    const all = new EventBatchView(concatBatches(batches.map(([b]) => b)));
    all.validate(0);
    expect(all.count).toBe(4);
    for (let i = 0; i < 4; i++) {
      const e = all.toObject(i);
      expect(e.seq).toBe(i);
      expect(e.timeNs).toBe(1007 + 7 * i);
      expect(e.address).toBe(addrs[i]);
      expect(e.addressHex).toBe('0x' + (addrs[i] as bigint).toString(16));
      expect(e.kindName).toBe('Free');
      expect(e.apiName).toBe('PssWalkMarkerFree');
      expect(e.strategy).toBe(0x83);
      expect(e.threadId).toBe(4242);
      expect(e.size).toBe(4096 + i);
      expect(e.aux0).toBe(0xffffffff);
    }
    expect(all.addressNumber(1)).toBe(0x7ffd_1234_5678);
  });

  it('splits and joins addresses exactly', () => {
    for (const a of [0n, 1n, 0xffffffffn, 0x1_0000_0000n, 0xdead_beef_cafe_f00dn]) {
      const [lo, hi] = splitAddress(a);
      expect(joinAddress(lo, hi)).toBe(a);
      expect(hexAddress(lo, hi)).toBe('0x' + a.toString(16));
    }
  });

  it('rejects buffers that are not whole records, and gaps in sequence', () => {
    expect(() => new EventBatchView(new ArrayBuffer(EVENT_SIZE + 1))).toThrow(CorruptBatchError);
    const out: ArrayBuffer[] = [];
    const w = new EventWriter(
      8,
      (b) => out.push(b),
      () => 0,
      10,
    );
    w.write(EventKind.Alloc, 0, NO_CLASS, 0, 0, 0, 0, 0, 8, 0, 0);
    w.write(EventKind.Alloc, 0, NO_CLASS, 0, 0, 0, 0, 0, 8, 0, 0);
    w.flush();
    const v = new EventBatchView(out[0] as ArrayBuffer);
    expect(() => v.validate(10)).not.toThrow();
    expect(() => v.validate(0)).toThrow(/record 0: sequence 10, expected 0/);
  });

  it('views the first `count` records of a longer (reused) buffer, and refuses counts that do not fit', () => {
    const buf = new ArrayBuffer(10 * EVENT_SIZE + 5);
    expect(() => new EventBatchView(buf)).toThrow(CorruptBatchError);
    expect(new EventBatchView(buf, 10).count).toBe(10);
    expect(new EventBatchView(buf, 0).count).toBe(0);
    for (const bad of [11, -1, 2.5, Number.NaN])
      expect(() => new EventBatchView(buf, bad)).toThrow(CorruptBatchError);
  });
});
