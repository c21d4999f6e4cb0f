/** Typed arrays that grow by doubling, for module-owned columnar data. */

type TypedArray = Float64Array | Uint32Array | Uint8Array | Int32Array | Float32Array;
type TypedArrayCtor<T extends TypedArray> = new (length: number) => T;

/** Above this many elements arrays grow by a quarter, not by doubling (less slack held). */
const DOUBLE_BELOW = 1 << 22;

/**
 * Returns `arr` if it holds `need` elements, else a copy with more capacity: doubled while
 * small, +25 % past DOUBLE_BELOW elements (a 10 M-event column then holds ≤ 25 % slack).
 */
export function growTo<T extends TypedArray>(arr: T, need: number, ctor: TypedArrayCtor<T>): T {
  if (need <= arr.length) return arr;
  let cap = Math.max(arr.length, 1024);
  while (cap < need) cap = cap < DOUBLE_BELOW ? cap * 2 : Math.ceil(cap * 1.25);
  const next = new ctor(cap);
  next.set(arr as never);
  return next;
}

/** An append-only list of uint32 values. */
export class U32List {
  data: Uint32Array;
  length = 0;
  constructor(initial = 1024) {
    this.data = new Uint32Array(initial);
  }
  push(v: number): void {
    if (this.length === this.data.length)
      this.data = growTo(this.data, this.length + 1, Uint32Array);
    this.data[this.length++] = v;
  }
  get(i: number): number {
    return this.data[i] as number;
  }
  clear(): void {
    this.length = 0;
  }
  /** A view of the filled part (no copy). */
  view(): Uint32Array {
    return this.data.subarray(0, this.length);
  }
}
