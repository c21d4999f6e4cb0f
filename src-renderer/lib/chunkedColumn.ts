/**
 * A column of numbers stored in fixed-size typed-array chunks, for the event columns that grow
 * while events stream. Growing allocates one more chunk and never copies what is stored: a
 * doubling array copied its whole content at every doubling, and on the UI thread one such copy
 * was a 20–60 ms task (fresh memory is what costs on the machines measured). Reads are one shift
 * and one mask more than a flat array's.
 */

export type TypedArray = Float64Array | Uint32Array | Uint8Array | Int32Array;
type TypedArrayCtor<T extends TypedArray> = new (length: number) => T;

/** Rows per chunk (2^16: a Float64Array chunk is 512 KiB). */
export const CHUNK_SHIFT = 16;
export const CHUNK_ROWS = 1 << CHUNK_SHIFT;
const MASK = CHUNK_ROWS - 1;

export class ChunkedColumn<T extends TypedArray> {
  /** The chunks; row i is chunks[i >>> CHUNK_SHIFT][i & (CHUNK_ROWS - 1)]. */
  readonly chunks: T[] = [];

  constructor(private readonly ctor: TypedArrayCtor<T>) {}

  /** Rows the allocated chunks hold. */
  get capacity(): number {
    return this.chunks.length * CHUNK_ROWS;
  }

  get bytesPerRow(): number {
    return (this.ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  }

  /** Makes rows [0, n) writable (new chunks are zero). */
  ensure(n: number): void {
    while (this.chunks.length * CHUNK_ROWS < n) this.chunks.push(new this.ctor(CHUNK_ROWS));
  }

  /** Appends a chunk made elsewhere (CHUNK_ROWS elements, e.g. a view of shared chunk memory). */
  adopt(chunk: T): void {
    if (chunk.length !== CHUNK_ROWS) throw new RangeError(`a chunk holds ${CHUNK_ROWS} rows`);
    this.chunks.push(chunk);
  }

  /** Row i (i < capacity). */
  get(i: number): number {
    return (this.chunks[i >>> CHUNK_SHIFT] as T)[i & MASK] as number;
  }

  set(i: number, v: number): void {
    (this.chunks[i >>> CHUNK_SHIFT] as T)[i & MASK] = v;
  }
}

/**
 * Splits rows [first, first + n) at chunk boundaries: fn(i, s, rows) for each run of `rows` rows
 * from row s (the i-th of the n), all in one chunk.
 */
export function forEachChunkRun(
  first: number,
  n: number,
  fn: (i: number, s: number, rows: number) => void,
): void {
  for (let i = 0; i < n;) {
    const s = first + i;
    const rows = Math.min(n - i, CHUNK_ROWS - (s & MASK));
    fn(i, s, rows);
    i += rows;
  }
}

/** Anything that reads numbers by row: a ChunkedColumn or a plain typed array (tests). */
export interface NumberColumn {
  get(i: number): number;
}

/** A flat typed array as a NumberColumn. */
export function flatColumn(a: ArrayLike<number>): NumberColumn {
  return { get: (i) => a[i] as number };
}
