import { describe, expect, it } from 'vitest';
import { ApiCall, EventKind, FailReason, StrategyId } from '../lib/traceEvents';
import { EventColumns } from './eventColumns';
import { describeEvent, eventDetail, strategyLabel } from './eventText';
import { alloc, encode } from './testEvents';

describe('event text', () => {
  it('describes events with their aux fields explained', () => {
    const c = new EventColumns();
    c.append(
      encode([
        alloc(0x55d000001000n, 64, { walkClass: 3, strategy: StrategyId.guard, aux0: 16 }),
        {
          kind: EventKind.AllocFailed,
          size: 4096,
          aux0: FailReason.FailNth,
          api: ApiCall.PssWalkMarkerCreate,
        },
        { kind: EventKind.ApiError, aux1: 8 },
      ]),
      0,
    );
    expect(describeEvent(c, 0)).toBe(
      '#0 alloc 64 B @0x55d000001000 in PssWalkSnapshot(THREADS) — red zones 16 B',
    );
    expect(eventDetail(c, 1)).toBe('injected: fail Nth');
    expect(describeEvent(c, 2)).toContain('ERROR_NOT_ENOUGH_MEMORY');
    expect(strategyLabel(0x83)).toBe('faulty→guard');
  });
});
