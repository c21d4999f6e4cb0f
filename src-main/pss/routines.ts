/**
 * A NativeAllocator registered as the AllocRoutine/FreeRoutine callbacks of a PSS_ALLOCATOR:
 * the one place the binding (snapshot.ts, for markers) and the allocator tests and benchmarks
 * (native-extra.ts) turn TypeScript routines into native function pointers.
 */
import koffi from 'koffi';
import type { NativeAllocator } from './allocator';
import { AllocRoutine, FreeRoutine } from './types';

/** koffi hands pointers over as bigint (koffi 3), a number, or null for NULL. */
export function asAddress(p: unknown): bigint {
  if (typeof p === 'bigint') return p;
  if (typeof p === 'number') return BigInt(p);
  return 0n;
}

export interface RegisteredRoutines {
  /** Function pointer of the AllocRoutine callback. */
  readonly allocRoutine: bigint;
  /** Function pointer of the FreeRoutine callback. */
  readonly freeRoutine: bigint;
  /** Releases both koffi callback slots. Idempotent. */
  unregister(): void;
}

/**
 * Registers `allocator`'s routines. Nothing thrown inside a routine crosses the native frame:
 * an exception in alloc returns NULL, one in free is swallowed, and both reach `onError`.
 * A NULL address reaches free() as 0n.
 */
export function registerAllocatorRoutines(
  allocator: NativeAllocator,
  onError?: (routine: 'alloc' | 'free', error: unknown) => void,
): RegisteredRoutines {
  const alloc = (_ctx: unknown, size: number): bigint => {
    try {
      return allocator.alloc(size);
    } catch (e) {
      onError?.('alloc', e);
      return 0n;
    }
  };
  const free = (_ctx: unknown, address: unknown): void => {
    try {
      allocator.free(asAddress(address));
    } catch (e) {
      onError?.('free', e);
    }
  };
  const allocRoutine = koffi.register(alloc, koffi.pointer(AllocRoutine));
  const freeRoutine = koffi.register(free, koffi.pointer(FreeRoutine));
  let live = true;
  return {
    allocRoutine,
    freeRoutine,
    unregister(): void {
      if (!live) return;
      live = false;
      koffi.unregister(allocRoutine);
      koffi.unregister(freeRoutine);
    },
  };
}
