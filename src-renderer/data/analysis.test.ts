import { describe, expect, it } from 'vitest';
import { ApiCall, EventKind, StrategyId } from '../lib/traceEvents';
import { AllocAnalysis, CHUNK, classSlot } from './analysis';
import { EventColumns } from './eventColumns';
import { alloc, encode, free } from './testEvents';

describe('AllocAnalysis', () => {
  it('tracks live blocks, bytes, peak, histogram and breakdowns', () => {
    const c = new EventColumns();
    c.append(
      encode([
        alloc(0x1000n, 100, { api: ApiCall.PssWalkMarkerCreate }),
        alloc(0x2000n, 50, { walkClass: 3 }),
        free(0x1000n, 100, { api: ApiCall.PssWalkMarkerFree }),
        { kind: EventKind.AllocFailed, size: 4096 },
        { kind: EventKind.FreeNull },
        { kind: EventKind.Leak, address: 0x2000n, size: 50 },
      ]),
      0,
    );
    const a = new AllocAnalysis();
    expect(a.advance(c)).toBe(6);
    const l = a.ledger.summary();
    expect(l.allocations).toBe(2);
    expect(l.frees).toBe(1);
    expect(l.allocationFailures).toBe(1);
    expect(l.freeNulls).toBe(1);
    expect(l.leaks).toBe(1);
    expect(l.liveBytes).toBe(50);
    expect(l.peakLiveBytes).toBe(150);
    expect(l.problems).toBe(2);
    expect([...a.liveAfter.subarray(0, 6)]).toEqual([100, 150, 50, 50, 50, 50]);
    expect(a.ledger.live.get(0x2000)).toBe(1);
    expect(l.bySize.allocations[7]).toBe(1); // 100 → [64,128)
    expect(l.byApi.PssWalkMarkerCreate.liveBytes).toBe(0);
    expect(l.byApi.PssWalkMarkerFree.frees).toBe(1);
    expect(l.byClass.THREADS.liveBlocks).toBe(1);
    expect(classSlot(3)).toBe(3);
    expect([...a.problems.view()]).toEqual([3, 5]);
    const fading: number[] = [];
    a.forEachFading((s) => fading.push(s));
    expect(fading).toEqual([0]);
  });

  it('stops at a missing range and resumes when it is filled', () => {
    const c = new EventColumns();
    c.append(encode([alloc(0x10n, 8)]), 0);
    c.append(encode([free(0x20n, 8)], 2), 2);
    const a = new AllocAnalysis();
    a.advance(c);
    expect(a.frontier).toBe(1);
    c.append(encode([alloc(0x20n, 8)], 1), 1);
    a.advance(c);
    expect(a.frontier).toBe(3);
    expect(a.ledger.liveBytes).toBe(8);
    expect(a.ledger.summary().unmatchedFrees).toBe(0);
  });

  it('summarises chunks for the timeline and honours a budget', () => {
    const c = new EventColumns();
    const evs = [];
    for (let i = 0; i < CHUNK * 2; i++)
      evs.push(alloc(BigInt(0x1000 + i * 32), 16, { strategy: StrategyId.guard, aux0: 16 }));
    c.append(encode(evs), 0);
    const a = new AllocAnalysis();
    expect(a.advance(c, 100)).toBe(100);
    a.advance(c);
    expect(a.chAllocs[0]).toBe(CHUNK);
    expect(a.chMin[1]).toBe((CHUNK + 1) * 16);
    expect(a.chMax[1]).toBe(CHUNK * 2 * 16);
    expect(a.redZoneBytes).toBe(16);
    expect(a.spans.count).toBe(1);
  });
});
