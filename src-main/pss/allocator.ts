/**
 * The PSS_ALLOCATOR a caller supplies to PssWalkMarkerCreate, in TypeScript form.
 * The binding registers `alloc` and `free` as the native AllocRoutine/FreeRoutine of a marker
 * (koffi callbacks, called synchronously on the thread that called the Pss function) and
 * unregisters them when the marker is freed.
 *
 * Rules (../shared/pss-api.md §3.3): `alloc` returns a real native block of at least `size`
 * bytes, or 0n (NULL) to fail the call with ERROR_NOT_ENOUGH_MEMORY; `free` must accept 0n
 * (NULL) and do nothing harmful. A thrown exception counts as failure (NULL for alloc) and is
 * reported through `onCallbackError`, never across the native frame.
 */
export interface NativeAllocator {
  alloc(size: number): bigint;
  free(address: bigint): void;
}
