/**
 * Raw native memory for the allocator strategies (src-main/alloc), behind a small facade so that
 * only src-main/pss knows koffi. Addresses are bigint end to end; 0n is NULL.
 */
import koffi from 'koffi';

const libc = koffi.load(process.platform === 'win32' ? 'msvcrt.dll' : 'libc.so.6');

const cMalloc = libc.func('void *malloc(size_t size)') as (size: number) => bigint | null;
const cFree = libc.func('void free(void *ptr)') as (ptr: bigint) => void;
/*
 * Copies out of native memory go through memcpy into a JS typed array: koffi 3.3's
 * koffi.view() and koffi.decode() each leave native memory behind on every call (measured:
 * ~200 and ~18 bytes per call, never reclaimed by GC), which a walk decoding every string of
 * every entry turned into ~0.5 MB per session.
 */
const cMemcpyOut = libc.func('void *memcpy(void *dst, const void *src, size_t n)') as (
  dst: ArrayBufferView,
  src: bigint,
  n: number,
) => unknown;
const cMemset = libc.func('void *memset(void *s, int c, size_t n)') as (
  p: bigint,
  c: number,
  n: number,
) => bigint;
/** glibc: returns free heap memory of every arena to the OS (musl and others lack it). */
let cMallocTrim: ((pad: number) => number) | null = null;
if (process.platform === 'linux') {
  try {
    cMallocTrim = libc.func('int malloc_trim(size_t pad)') as (pad: number) => number;
  } catch {
    cMallocTrim = null;
  }
}
const cGettid =
  process.platform === 'linux' ? (libc.func('int gettid(void)') as () => number) : null;
const kernel32 = process.platform === 'win32' ? koffi.load('kernel32.dll') : null;
const cGetCurrentThreadId = kernel32
  ? (kernel32.func('uint32_t __stdcall GetCurrentThreadId(void)') as () => number)
  : null;

function asAddress(p: bigint | null | number): bigint {
  if (p === null) return 0n;
  return typeof p === 'bigint' ? p : BigInt(p);
}

export const nativeMemory = {
  /** libc malloc; 0n when it fails. */
  malloc(size: number): bigint {
    return asAddress(cMalloc(size));
  },
  /** libc free; free(0n) is a no-op as in C. */
  free(address: bigint): void {
    if (address !== 0n) cFree(address);
  },
  fill(address: bigint, byte: number, length: number): void {
    if (length > 0) cMemset(address, byte, length);
  },
  /** A copy of `length` bytes of native memory at `address` (no view, nothing left behind). */
  copyOut(address: bigint, length: number): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(length);
    if (length > 0 && address !== 0n) cMemcpyOut(out, address, length);
    return out;
  },
  /** `units` UTF-16 code units at `address`, copied out. */
  copyOutUtf16(address: bigint, units: number): Uint16Array<ArrayBuffer> {
    const out = new Uint16Array(units);
    if (units > 0 && address !== 0n) cMemcpyOut(out, address, units * 2);
    return out;
  },
  /**
   * A writable view of `length` bytes of native memory at `address`. The view is only valid
   * while the memory is; never keep it past the block's free. Each view costs native memory
   * that is never returned (koffi 3.3): make one per long-lived block, never one per call.
   */
  view(address: bigint, length: number): Uint8Array {
    return new Uint8Array(koffi.view(address, length));
  },
  /**
   * Gives the C heap's free pages back to the OS (glibc malloc_trim(0), all arenas). Freed
   * memory otherwise stays resident in the arena that held it (event buffers, snapshots), so a
   * process that was busy keeps its peak RSS. No-op where the C library has no such call.
   */
  releaseFreeMemory(): void {
    cMallocTrim?.(0);
  },
  /** The OS id of the calling thread (gettid on Linux, GetCurrentThreadId on Windows). */
  currentThreadId(): number {
    if (cGettid) return cGettid();
    if (cGetCurrentThreadId) return cGetCurrentThreadId();
    return 0;
  },
};

export type NativeMemory = typeof nativeMemory;
