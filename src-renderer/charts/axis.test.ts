import { describe, expect, it } from 'vitest';
import { formatTick, niceByteStep, niceStep } from './axis';

describe('axis', () => {
  it('picks nice steps', () => {
    expect(niceStep(1000, 4)).toBe(500);
    expect(niceStep(7, 3)).toBe(5);
    expect(niceByteStep(3000, 3)).toBe(1024);
  });
  it('formats time ticks without trailing zeros', () => {
    expect(formatTick(0)).toBe('0');
    expect(formatTick(200_000_000)).toBe('200 ms');
    expect(formatTick(1_500_000)).toBe('1.5 ms');
    expect(formatTick(2e9)).toBe('2 s');
  });
});
