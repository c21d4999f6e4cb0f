import { describe, expect, it } from 'vitest';
import { ApiCall, EventKind, NO_CLASS } from '../lib/traceEvents';
import { EventColumns } from './eventColumns';
import { FilteredIndex, isFilterActive, makeMatcher, NO_FILTER, opGroupOf } from './eventFilter';
import { alloc, encode, free } from './testEvents';

function cols(): EventColumns {
  const c = new EventColumns();
  c.append(
    encode([
      alloc(0x10n, 16, { api: ApiCall.PssWalkMarkerCreate }),
      alloc(0x20n, 4096, { walkClass: 2 }),
      { kind: EventKind.WalkStep, walkClass: 2 },
      free(0x10n, 16, { api: ApiCall.PssWalkMarkerFree }),
      { kind: EventKind.ViolationGuard, address: 0x20n, size: 4096 },
    ]),
    0,
  );
  return c;
}

describe('event filter', () => {
  it('groups kinds', () => {
    expect(opGroupOf(EventKind.Alloc)).toBe('alloc');
    expect(opGroupOf(EventKind.ViolationDoubleFree)).toBe('violation');
    expect(opGroupOf(EventKind.Leak)).toBe('violation');
    expect(opGroupOf(EventKind.Seek)).toBe('walk');
    expect(isFilterActive(NO_FILTER)).toBe(false);
  });
  it('matches by op, api, class and size range', () => {
    const c = cols();
    const all = (f: Parameters<typeof makeMatcher>[1]): number[] => {
      const m = makeMatcher(c, f);
      return [0, 1, 2, 3, 4].filter(m);
    };
    expect(all({ ...NO_FILTER, ops: ['alloc', 'free'] })).toEqual([0, 1, 3]);
    expect(all({ ...NO_FILTER, api: ApiCall.PssWalkMarkerFree })).toEqual([3]);
    expect(all({ ...NO_FILTER, cls: 2 })).toEqual([1, 2]);
    expect(all({ ...NO_FILTER, cls: NO_CLASS })).toEqual([0, 3, 4]);
    expect(all({ ...NO_FILTER, minSize: 100, maxSize: 5000 })).toEqual([1, 4]);
  });
  it('extends incrementally and stops at missing rows', () => {
    const c = cols();
    c.noteMissing(5, 10, 5000, 10000);
    const fi = new FilteredIndex();
    fi.setFilter(c, { ...NO_FILTER, ops: ['alloc'] });
    fi.extend(c.length);
    expect([...fi.rows.view()]).toEqual([0, 1]);
    expect(fi.scanned).toBe(5);
    expect(fi.positionOf(1)).toBe(1);
    expect(fi.positionOf(3)).toBe(2);
  });
});
