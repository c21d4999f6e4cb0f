import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SYSCALL_TABLE_SIZE, syscallName } from '../../src-shared/pss/syscalls';

const HEADER = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';

describe('x86-64 syscall names', () => {
  it('names the calls threads are usually found in', () => {
    expect(syscallName(0)).toBe('read');
    expect(syscallName(7)).toBe('poll');
    expect(syscallName(202)).toBe('futex');
    expect(syscallName(230)).toBe('clock_nanosleep');
    expect(syscallName(232)).toBe('epoll_wait');
    expect(syscallName(-1)).toBeNull();
    expect(syscallName(100000)).toBeNull();
    expect(syscallName(1.5)).toBeNull();
  });

  it.skipIf(!existsSync(HEADER))('agrees with <asm/unistd_64.h> for every number', () => {
    const defined = new Map<number, string>();
    for (const m of readFileSync(HEADER, 'utf8').matchAll(/#define __NR_(\w+)\s+(\d+)/g))
      defined.set(Number(m[2]), m[1] as string);
    for (const [n, name] of defined) {
      if (n < SYSCALL_TABLE_SIZE) expect(syscallName(n)).toBe(name);
    }
    for (let n = 0; n < SYSCALL_TABLE_SIZE; n++)
      expect(syscallName(n)).toBe(defined.get(n) ?? null);
  });
});
