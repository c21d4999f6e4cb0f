import { describe, expect, it } from 'vitest';
import { MemState, MemType, PageProtect } from '../../src-shared/pss/constants';
import type { VaSpaceEntry } from '../../src-shared/pss/entries';
import { categoryOf, lineIndexAt, protectLabel, summarizeVa, vaLine } from './vaSummary';

function region(
  base: number,
  size: number,
  state: number,
  type: number,
  protect: number,
  name = '',
): VaSpaceEntry {
  return {
    kind: 'region',
    baseAddress: '0x' + base.toString(16),
    allocationBase: '0x' + base.toString(16),
    allocationProtect: protect,
    regionSize: size,
    state,
    protect,
    type,
    timeDateStamp: 0,
    sizeOfImage: 0,
    imageBase: '0x0',
    checkSum: 0,
    mappedFileName: name,
  };
}

const regions = [
  region(0, 0x10000, MemState.FREE, 0, 0),
  region(0x10000, 0x2000, MemState.COMMIT, MemType.IMAGE, PageProtect.EXECUTE_READ, '/usr/bin/cat'),
  region(0x12000, 0x1000, MemState.COMMIT, MemType.IMAGE, PageProtect.READONLY, '/usr/bin/cat'),
  region(0x20000, 0x21000, MemState.COMMIT, MemType.PRIVATE, PageProtect.READWRITE, '[heap]'),
  region(0x7ff000, 0x21000, MemState.COMMIT, MemType.PRIVATE, PageProtect.READWRITE, '[stack]'),
  region(0x900000, 0x100000, MemState.RESERVE, MemType.PRIVATE, 0),
  region(
    0xa00000,
    0x1000,
    MemState.COMMIT,
    MemType.MAPPED,
    PageProtect.READONLY | PageProtect.GUARD,
    '/dev/shm/x',
  ),
];

describe('VA summary', () => {
  it('categorises like VMMap', () => {
    expect(regions.map(categoryOf)).toEqual([
      'Free',
      'Image',
      'Image',
      'Heap',
      'Stack',
      'Reserved',
      'Mapped file',
    ]);
    expect(protectLabel(PageProtect.READONLY | PageProtect.GUARD)).toBe('Read +Guard');
    expect(protectLabel(0)).toBe('—');
  });
  it('sums by type and protection', () => {
    const s = summarizeVa(regions);
    const image = s.byType.find((r) => r.label === 'Image');
    expect(image).toMatchObject({
      label: 'Image',
      regions: 2,
      size: 0x3000,
      committed: 0x3000,
      reserved: 0,
    });
    expect(image?.usage.workingSet).toBeNull(); // no usage captured: not a zero
    expect(s.hasUsage).toBe(false);
    expect(s.byType.find((r) => r.label === 'Reserved')?.reserved).toBe(0x100000);
    expect(s.total.regions).toBe(6);
    expect(s.total.size).toBe(0x3000 + 0x42000 + 0x100000 + 0x1000);
    expect(s.byProtect[0]?.label).toBe('Reserved');
    expect(s.byProtect.find((r) => r.label === 'Read/Write')?.regions).toBe(2);
  });
  it('lays out regions on a linear or log line', () => {
    const order = Uint32Array.from(regions.keys());
    const lin = vaLine(regions, order, 'linear');
    expect(lin[1]).toBe(0x10000);
    const log = vaLine(regions, order, 'log');
    expect((log[2] as number) - (log[1] as number)).toBe(2); // 8 KiB → log2(2)+1
    expect(lineIndexAt(log, 0)).toBe(0);
    expect(lineIndexAt(log, (log[3] as number) + 0.5)).toBe(3);
    expect(lineIndexAt(log, log[7] as number)).toBe(-1);
  });
  it('uses the details kind and sums usage columns only over regions that have usage', () => {
    const usage = (rss: number, priv: number, shared: number) => ({
      rss,
      pss: rss,
      pssDirty: null,
      pssAnon: null,
      pssFile: null,
      pssShmem: null,
      sharedClean: shared,
      sharedDirty: 0,
      privateClean: 0,
      privateDirty: priv,
      referenced: rss,
      anonymous: priv,
      lazyFree: 0,
      anonHugePages: 0,
      shmemPmdMapped: 0,
      sharedHugetlb: 0,
      privateHugetlb: 0,
      swap: 0,
      swapPss: 0,
      locked: 0,
    });
    const stack = {
      ...region(0x100000, 0x800000, MemState.COMMIT, MemType.PRIVATE, PageProtect.READWRITE),
      details: {
        kind: 'Stack' as const,
        note: 'thread 7',
        threadId: 7,
        usage: usage(8192, 8192, 0),
        vmFlags: [],
      },
    };
    const lib = {
      ...region(
        0x900000,
        0x4000,
        MemState.COMMIT,
        MemType.IMAGE,
        PageProtect.READONLY,
        '/lib/x.so',
      ),
      details: {
        kind: 'Image' as const,
        note: '',
        threadId: null,
        usage: usage(16384, 0, 16384),
        vmFlags: [],
      },
    };
    const gone = {
      ...region(0xa00000, 0x1000, MemState.COMMIT, MemType.PRIVATE, PageProtect.READWRITE),
      details: { na: 'the mapping changed' },
    };
    expect(categoryOf(stack)).toBe('Stack'); // by the thread's SP, not by a [stack] name
    const s = summarizeVa([stack, lib, gone]);
    expect(s.hasUsage).toBe(true);
    expect(s.total.usage).toMatchObject({ workingSet: 24576, privateWs: 8192, sharedWs: 16384 });
    expect(s.byType.find((r) => r.label === 'Private')?.usage.workingSet).toBeNull();
  });
});
