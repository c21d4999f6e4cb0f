import { describe, expect, it } from 'vitest';
import { changeLine, describeChange, fieldLabel, fieldValueText } from './fields';

describe('field changes in human units', () => {
  it('durations (100-ns units), sizes and counts with their difference', () => {
    expect(changeLine(describeChange('details.cpuTime', 12_500_000, 15_000_000))).toBe(
      'CPU time 1.250 s → 1.500 s (+250.0 ms)',
    );
    expect(changeLine(describeChange('userTime', 200_000, 100_000))).toBe(
      'User time 20.0 ms → 10.0 ms (-10.0 ms)',
    );
    expect(changeLine(describeChange('details.usage.rss', 4096, 8192))).toBe(
      'Working set (Rss) 4.00 KiB → 8.00 KiB (+4.00 KiB)',
    );
    expect(changeLine(describeChange('regionSize', 8192, 4096))).toBe(
      'Size 8.00 KiB → 4.00 KiB (-4.00 KiB)',
    );
    expect(changeLine(describeChange('details.voluntarySwitches', 1000, 1003))).toBe(
      'Voluntary switches 1,000 → 1,003 (+3)',
    );
  });

  it('dates as local time with every 100-ns digit, never epoch numbers', () => {
    const text = fieldValueText('createTime', '134091983171234567');
    expect(text).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{7}$/);
    expect(text.endsWith('1234567')).toBe(true);
    expect(fieldValueText('details.created', '0')).toBe('—');
  });

  it('decodes flags, sockets and n/a values', () => {
    expect(fieldValueText('details.openFlags', 0o2004002)).toBe('read/write nonblock cloexec');
    expect(fieldValueText('grantedAccess', 0x120089)).toBe('0x00120089');
    expect(fieldValueText('details.waitChannel', { na: 'running' })).toBe('n/a (running)');
    expect(fieldValueText('details.syscall', { number: 202, name: 'futex', args: [] })).toBe(
      'futex (202)',
    );
    expect(fieldLabel('details.usage.privateDirty')).toBe('Private dirty');
    expect(fieldLabel('details.somethingNew')).toBe('Something new');
  });
});
