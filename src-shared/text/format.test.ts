import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatCount,
  formatNs,
  hexNumber,
  parseHex,
  formatRate,
  plural,
} from './format';

describe('format', () => {
  it('formats bytes with binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(10 * 1024 * 1024)).toBe('10.0 MiB');
    expect(formatBytes(-2048)).toBe('-2.00 KiB');
  });
  it('says counts with the right plural', () => {
    expect(plural(0, 'thread')).toBe('0 threads');
    expect(plural(1, 'thread')).toBe('1 thread');
    expect(plural(2, 'thread')).toBe('2 threads');
    expect(plural(1, 'entry', 'entries')).toBe('1 entry');
    expect(plural(12345, 'entry', 'entries')).toBe('12,345 entries');
  });
  it('formats counts and durations', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatNs(850)).toBe('850 ns');
    expect(formatNs(12_300_000)).toBe('12.3 ms');
    expect(formatNs(4_560_000_000)).toBe('4.560 s');
    expect(formatRate(12_345)).toBe('12.3k/s');
  });
  it('round-trips user-space addresses through hex', () => {
    const a = 0x7ffd_1234_5678;
    expect(hexNumber(a)).toBe('0x7ffd12345678');
    expect(parseHex('0x7ffd12345678')).toBe(a);
    expect(parseHex('0xffffffffffffffff')).toBe(2 ** 64);
    expect(parseHex('')).toBe(0);
  });
});
