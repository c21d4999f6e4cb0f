/**
 * Native helpers for the allocator strategies and their tests/benchmarks (owned by
 * src-main/alloc; kept here because only src-main/pss may know koffi).
 *
 * - memoryEqual: memcmp, ~50 ns per call — the guard strategy's canary check (a koffi.view
 *   costs ~1 µs).
 * - registerAllocatorRoutines / callAllocRoutine / callFreeRoutine: register a NativeAllocator
 *   the way the binding does (snapshot.ts) and call the routine pointers through koffi.call.
 *   koffi.call goes JS → C → JS: a stand-in for a native caller, not the real thing (and an
 *   exception thrown in the routine comes back to the JS caller, which real C would never see).
 * - NativeRoutineCaller: a REAL native caller. glibc's obstack calls its chunk allocator as
 *   `chunkfun(arg, size)` and `freefun(arg, chunk)` — the exact AllocRoutine(Context, Size) /
 *   FreeRoutine(Context, Address) shape — from C, writes its chunk header into the returned
 *   memory, and frees chunks from C. Until libpss's walk functions can be driven here, this
 *   is how tests and benchmarks get C code calling the registered routines.
 */
import koffi from 'koffi';
import type { NativeAllocator } from './allocator';
import { nativeMemory } from './native-memory';
import { AllocRoutine, FreeRoutine } from './types';
import { asAddress, type RegisteredRoutines } from './routines';

const isLinux = process.platform === 'linux';
const libc = koffi.load(process.platform === 'win32' ? 'msvcrt.dll' : 'libc.so.6');
const cMemcmp = libc.func('int memcmp(const void *a, const void *b, size_t n)') as (
  a: bigint,
  b: bigint,
  n: number,
) => number;

/** True when the `length` bytes at `a` and at `b` are equal (memcmp). */
export function memoryEqual(a: bigint, b: bigint, length: number): boolean {
  return length <= 0 || cMemcmp(a, b, length) === 0;
}

export { registerAllocatorRoutines, type RegisteredRoutines } from './routines';

/** Calls an AllocRoutine pointer through koffi.call (JS → C → JS stand-in). NULL → 0n. */
export function callAllocRoutine(routine: bigint, context: bigint, size: number): bigint {
  return asAddress(koffi.call(routine, AllocRoutine, context, size >>> 0));
}

/** Calls a FreeRoutine pointer through koffi.call (JS → C → JS stand-in). */
export function callFreeRoutine(routine: bigint, context: bigint, address: bigint): void {
  koffi.call(routine, FreeRoutine, context, address === 0n ? null : address);
}

// ---- a real C caller: glibc obstack -------------------------------------------------------

interface ObstackFns {
  begin1: (
    h: bigint,
    size: number,
    alignment: number,
    chunkfun: bigint,
    freefun: bigint,
    arg: bigint,
  ) => number;
  begin: (h: bigint, size: number, alignment: number, chunkfun: bigint, freefun: bigint) => number;
  newchunk: (h: bigint, length: number) => void;
  free: (h: bigint, obj: null) => void;
  malloc: bigint;
  libcFree: bigint;
}

let obstack: ObstackFns | null | undefined;

function obstackFns(): ObstackFns | null {
  if (obstack !== undefined) return obstack;
  obstack = null;
  if (!isLinux) return null;
  try {
    obstack = {
      begin1: libc.func(
        'int _obstack_begin_1(void *h, int size, int alignment, void *chunkfun, void *freefun, void *arg)',
      ) as ObstackFns['begin1'],
      begin: libc.func(
        'int _obstack_begin(void *h, int size, int alignment, void *chunkfun, void *freefun)',
      ) as ObstackFns['begin'],
      newchunk: libc.func('void _obstack_newchunk(void *h, int length)') as ObstackFns['newchunk'],
      free: libc.func('void obstack_free(void *h, void *obj)') as ObstackFns['free'],
      malloc: asAddress(libc.symbol('malloc')),
      libcFree: asAddress(libc.symbol('free')),
    };
  } catch {
    obstack = null; // not glibc (e.g. musl): no native caller
  }
  return obstack;
}

/** Whether NativeRoutineCaller works here (Linux with glibc). */
export function nativeCallerAvailable(): boolean {
  return obstackFns() !== null;
}

/** sizeof(struct obstack) is 88 on x86-64 glibc; keep headroom. */
const OBSTACK_STRUCT_BYTES = 128;
const MIN_CHUNK_BYTES = 256;

/**
 * Drives AllocRoutine/FreeRoutine from C (glibc obstack), one chunk size for every request:
 * - begin(): C calls alloc(chunkBytes) once;
 * - swap(n): n times, C calls alloc(chunkBytes) for a new chunk, then free(previous chunk);
 * - end(): C calls free for the chunk it holds.
 *
 * glibc exits the process when a chunk allocation returns NULL, so the routines registered
 * here hand C a private emergency block instead of NULL (never passed on to the allocator's
 * free) and count it in `failures`; an allocator that may fail is safe to drive, but its
 * failures are only visible there. With `NativeRoutineCaller.libc()`, C calls libc
 * malloc/free directly (no JS at all): the pure-C baseline.
 */
export class NativeRoutineCaller {
  /** Allocations that returned NULL (or threw) and got the emergency block. */
  failures = 0;
  /** Exceptions thrown by the allocator (they never reach C). */
  errors = 0;
  private readonly fns: ObstackFns;
  private readonly h: bigint;
  private readonly emergency: bigint;
  private readonly routines: RegisteredRoutines | null;
  private open = false;
  private disposed = false;

  private constructor(
    allocator: NativeAllocator | null,
    readonly chunkBytes: number,
    private readonly context: bigint,
  ) {
    const fns = obstackFns();
    if (fns === null) throw new Error('NativeRoutineCaller needs glibc (obstack)');
    if (!Number.isInteger(chunkBytes) || chunkBytes < MIN_CHUNK_BYTES || chunkBytes > 1 << 30)
      throw new RangeError(`chunkBytes must be an integer from ${MIN_CHUNK_BYTES} to 2^30`);
    this.fns = fns;
    this.h = nativeMemory.malloc(OBSTACK_STRUCT_BYTES);
    this.emergency = allocator ? nativeMemory.malloc(chunkBytes) : 0n;
    if (this.h === 0n || (allocator && this.emergency === 0n)) {
      nativeMemory.free(this.h);
      nativeMemory.free(this.emergency);
      throw new Error('NativeRoutineCaller: out of memory');
    }
    this.routines = allocator ? this.register(allocator) : null;
  }

  /** C calls `allocator`'s routines (registered like the binding registers them). */
  static forAllocator(
    allocator: NativeAllocator,
    chunkBytes = 4096,
    context = 0n,
  ): NativeRoutineCaller {
    return new NativeRoutineCaller(allocator, chunkBytes, context);
  }

  /** C calls libc malloc/free itself: the pure native baseline. */
  static libc(chunkBytes = 4096): NativeRoutineCaller {
    return new NativeRoutineCaller(null, chunkBytes, 0n);
  }

  private register(allocator: NativeAllocator): RegisteredRoutines {
    const emergency = this.emergency;
    const alloc = (_ctx: unknown, size: number): bigint => {
      let p = 0n;
      try {
        p = allocator.alloc(size);
      } catch {
        this.errors++;
      }
      if (p !== 0n) return p;
      this.failures++;
      return emergency;
    };
    const free = (_ctx: unknown, address: unknown): void => {
      const a = asAddress(address);
      if (a === emergency) return;
      try {
        allocator.free(a);
      } catch {
        this.errors++;
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

  /** The routine pointers C calls (null for the libc baseline). */
  get registered(): RegisteredRoutines | null {
    return this.routines;
  }

  begin(): void {
    if (this.disposed) throw new Error('NativeRoutineCaller disposed');
    if (this.open) throw new Error('NativeRoutineCaller: begin() twice without end()');
    if (this.routines) {
      this.fns.begin1(
        this.h,
        this.chunkBytes,
        0,
        this.routines.allocRoutine,
        this.routines.freeRoutine,
        this.context,
      );
    } else {
      this.fns.begin(this.h, this.chunkBytes, 0, this.fns.malloc, this.fns.libcFree);
    }
    this.open = true;
  }

  swap(count = 1): void {
    if (!this.open) throw new Error('NativeRoutineCaller: swap() before begin()');
    const newchunk = this.fns.newchunk;
    const h = this.h;
    for (let i = 0; i < count; i++) newchunk(h, 0);
  }

  end(): void {
    if (!this.open) return;
    this.open = false;
    this.fns.free(this.h, null);
  }

  dispose(): void {
    if (this.disposed) return;
    this.end();
    this.disposed = true;
    this.routines?.unregister();
    nativeMemory.free(this.h);
    nativeMemory.free(this.emergency);
  }
}
