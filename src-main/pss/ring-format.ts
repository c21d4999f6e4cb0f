/**
 * The native event ring's layout (liballoctrace/include/alloctrace.h), with no koffi: the walk
 * layer reads a crashed walk child's ring file with it on the main thread.
 *
 *   64-byte header of little-endian u32 words: head (records written into the ring, mod 2^32),
 *   tail (records consumed), capacity (a power of two), overflow (records waiting outside the
 *   ring), the last at_step_n code, written (records written in all, ring and overflow: the
 *   next seq, mod 2^32); then capacity records of EVENT_SIZE bytes; record i is at slot
 *   i & (capacity − 1).
 */
import { EVENT_SIZE } from '../../src-shared/events/layout';

export const RING_HEADER = 64;
export const RING_HEAD = 0;
export const RING_TAIL = 1;
export const RING_CAPACITY = 2;
export const RING_OVERFLOW = 3;
export const RING_WRITTEN = 5;

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

/** What a crashed walk child's ring file still holds beyond what was delivered. */
export interface RingRecovery {
  /** The records recovered, seqs firstSeq, firstSeq + 1, … in order (may be empty). */
  records: Uint8Array;
  /** = the `delivered` asked for. */
  firstSeq: number;
  /** Events the tracer had written in all (null: the file does not say). */
  written: number | null;
  /**
   * Events that never reach the app: written − delivered − recovered (null: unknown). A batch
   * the child drained from its ring but died before sending is recovered while the ring still
   * holds it; records it had moved out (overwritten since, or waiting in the tracer's overflow
   * buffer in the child's memory) are lost, and so is everything after the first lost one
   * (a trace has no gaps in its seqs).
   */
  lost: number | null;
  /** Of the lost, how many the ring still held but after the gap (so not delivered). */
  lostAfterGap: number;
}

/**
 * Reads a crashed walk child's ring file against the `delivered` events (seqs 0 … delivered −
 * 1) its parent received: recovers the records that continue them (by each record's own seq,
 * not by the header's tail, which also counts records drained but never sent), and counts what
 * is lost.
 */
export function recoverRing(file: Uint8Array, delivered: number): RingRecovery {
  const none: RingRecovery = {
    records: new Uint8Array(0),
    firstSeq: delivered,
    written: null,
    lost: null,
    lostAfterGap: 0,
  };
  if (file.byteLength < RING_HEADER) return none;
  const h = new DataView(file.buffer, file.byteOffset, RING_HEADER);
  const head = h.getUint32(RING_HEAD * 4, true);
  const cap = h.getUint32(RING_CAPACITY * 4, true);
  if (cap === 0 || (cap & (cap - 1)) !== 0) return none;
  if (file.byteLength < RING_HEADER + cap * EVENT_SIZE) return none;
  // written counts mod 2^32: the events after `delivered` (a session writes fewer than 2^32)
  const written = delivered + ((h.getUint32(RING_WRITTEN * 4, true) - delivered) >>> 0);
  const inRing = head >= cap ? cap : head;
  const seqAt = (q: number): number => {
    const off = file.byteOffset + RING_HEADER + ((q >>> 0) & (cap - 1)) * EVENT_SIZE;
    return new DataView(file.buffer, off, 8).getFloat64(0, true);
  };
  // Ring positions hold ascending seqs: find `delivered`, take the run that continues it.
  let q = (head - inRing) >>> 0;
  const end = (q + inRing) >>> 0;
  while (q !== end && !(seqAt(q) >= delivered)) q = (q + 1) >>> 0;
  const start = q;
  let next = delivered;
  while (q !== end && seqAt(q) === next) {
    q = (q + 1) >>> 0;
    next++;
  }
  const n = next - delivered;
  let lostAfterGap = 0;
  for (let r = q; r !== end; r = (r + 1) >>> 0) if (seqAt(r) > next) lostAfterGap++;
  const records = new Uint8Array(n * EVENT_SIZE);
  for (let i = 0; i < n; i++) {
    const from = RING_HEADER + (((start + i) >>> 0) & (cap - 1)) * EVENT_SIZE;
    records.set(file.subarray(from, from + EVENT_SIZE), i * EVENT_SIZE);
  }
  const lost = written - delivered - n;
  return {
    records,
    firstSeq: delivered,
    written: lost >= 0 ? written : null,
    lost: lost >= 0 ? lost : null,
    lostAfterGap,
  };
}
