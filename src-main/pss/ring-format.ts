/**
 * The native event ring's layout (liballoctrace/include/alloctrace.h), with no koffi: the walk
 * layer reads a crashed walk child's ring file with it on the main thread.
 *
 *   64-byte header of little-endian u32 words: head (records written, mod 2^32), tail
 *   (records consumed), capacity (a power of two), overflow (records waiting outside the
 *   ring); then capacity records of EVENT_SIZE bytes; record i is at slot i & (capacity − 1).
 */
import { EVENT_SIZE } from '../../src-shared/events/layout';

export const RING_HEADER = 64;
export const RING_HEAD = 0;
export const RING_TAIL = 1;
export const RING_CAPACITY = 2;
export const RING_OVERFLOW = 3;

/**
 * The records a ring file holds that its tracer had not consumed yet, in order: what a
 * crashed walk child wrote last. Empty when the header makes no sense.
 */
export function undrainedRecords(file: Uint8Array): Uint8Array {
  if (file.byteLength < RING_HEADER) return new Uint8Array(0);
  const h = new DataView(file.buffer, file.byteOffset, RING_HEADER);
  const head = h.getUint32(RING_HEAD * 4, true);
  const tail = h.getUint32(RING_TAIL * 4, true);
  const cap = h.getUint32(RING_CAPACITY * 4, true);
  const n = (head - tail) >>> 0;
  if (cap === 0 || (cap & (cap - 1)) !== 0 || n > cap) return new Uint8Array(0);
  if (file.byteLength < RING_HEADER + cap * EVENT_SIZE) return new Uint8Array(0);
  const out = new Uint8Array(n * EVENT_SIZE);
  for (let i = 0; i < n; i++) {
    const from = RING_HEADER + ((tail + i) & (cap - 1)) * EVENT_SIZE;
    out.set(file.subarray(from, from + EVENT_SIZE), i * EVENT_SIZE);
  }
  return out;
}
