import { describe, expect, it } from 'vitest';
import {
  FILETIME_UNIX_EPOCH,
  compareFileTime,
  fileTimeFromEpochMs,
  fileTimeFromParts,
  fileTimeSortKey,
  fileTimeSubMs,
  fileTimeToEpochMs,
  isFileTime,
} from './filetime';

describe('FILETIME text', () => {
  it('keeps every 100-ns unit of a 64-bit value (no float on the way)', () => {
    // 2025-12-03 01:18:37.1234567 UTC: above 2^53, so a Number could not hold it exactly.
    const exact = 134091983171234567n;
    const ft = fileTimeFromParts(Number(exact >> 32n), Number(exact & 0xffffffffn));
    expect(ft).toBe('134091983171234567');
    expect(BigInt(ft)).toBe(exact);
    expect(Number(exact) === Number(exact + 1n)).toBe(true); // what float would have lost
    expect(fileTimeSubMs(ft)).toBe(4567);
    expect(fileTimeToEpochMs(ft)).toBe(Number((exact - FILETIME_UNIX_EPOCH) / 10_000n));
    expect(fileTimeFromParts(0xffffffff, 0xffffffff)).toBe('18446744073709551615');
  });

  it('0 means unset', () => {
    expect(fileTimeFromParts(0, 0)).toBe('0');
    expect(fileTimeToEpochMs('0')).toBeNull();
    expect(fileTimeFromEpochMs(0)).toBe('0');
  });

  it('orders exactly, including values one 100-ns unit apart', () => {
    const a = '134091983171234567';
    const b = '134091983171234568';
    expect(compareFileTime(a, b)).toBeLessThan(0);
    expect(compareFileTime(b, a)).toBeGreaterThan(0);
    expect(compareFileTime(a, a)).toBe(0);
    expect(compareFileTime('9', '10')).toBeLessThan(0);
    const sorted = ['10', '9', '0', b, a].sort((x, y) =>
      fileTimeSortKey(x) < fileTimeSortKey(y) ? -1 : 1,
    );
    expect(sorted).toEqual(['0', '9', '10', a, b]);
  });

  it('validates its text form', () => {
    expect(isFileTime('0')).toBe(true);
    expect(isFileTime('18446744073709551615')).toBe(true);
    expect(isFileTime('18446744073709551616')).toBe(false);
    expect(isFileTime('01')).toBe(false);
    expect(isFileTime('1.5')).toBe(false);
    expect(isFileTime(5)).toBe(false);
  });

  it('converts epoch milliseconds (legacy traces) and back', () => {
    const ft = fileTimeFromEpochMs(1_700_000_000_123);
    expect(fileTimeToEpochMs(ft)).toBe(1_700_000_000_123);
    expect(fileTimeSubMs(ft)).toBe(0);
  });
});
