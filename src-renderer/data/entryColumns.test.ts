import { describe, expect, it } from 'vitest';
import type { HandleEntry } from '../../src-shared/pss/entries';
import { HANDLE_COLUMNS, searchText, typeSpecificText } from './entryColumns';

const h: HandleEntry = {
  kind: 'handle',
  handle: 7,
  flags: 0xf,
  objectType: 4,
  captureTime: '0',
  attributes: 2,
  grantedAccess: 0x1f0003,
  handleCount: 1,
  pointerCount: 1,
  pagedPoolCharge: 0,
  nonPagedPoolCharge: 0,
  creationTime: '0',
  typeName: 'EventFd',
  objectName: 'anon_inode:[eventfd]',
  typeSpecific: { type: 'event', manualReset: false, signaled: true },
};

describe('entry columns', () => {
  it('formats a handle row', () => {
    const byId = Object.fromEntries(HANDLE_COLUMNS.map((c) => [c.id, c.text(h)]));
    expect(byId['objectType']).toBe('EVENT');
    expect(byId['access']).toBe('0x001f0003');
    expect(byId['specific']).toBe('auto-reset, signaled');
    expect(searchText(HANDLE_COLUMNS, h)).toContain('eventfd');
    expect(typeSpecificText(null)).toBe('');
  });
});
