/**
 * A hash table from block address to (size, tag) kept in typed arrays: no per-entry objects,
 * no BigInt keys, no allocation on insert/remove except when it grows. Used for every live
 * block table on the allocation hot path (strategies and the tracer).
 *
 * Keys are addresses as numbers. Every x86-64 / arm64 user-space address is below 2^48, so the
 * conversion from bigint is exact; callers treat an address ≥ 2^53 as one they never gave out
 * (see toAddressNumber). 0 marks an empty slot, so NULL can never be a key.
 *
 * Open addressing, linear probing, Fibonacci hashing of the address bits above the 16-byte
 * alignment, backward-shift deletion (no tombstones), load factor ≤ 1/2.
 */

const TWO_POW_32 = 4294967296;

/** bigint address → number key, or -1 when it cannot be one of ours (≥ 2^53). */
export function toAddressNumber(address: bigint): number {
  const n = Number(address);
  return n <= Number.MAX_SAFE_INTEGER ? n : -1;
}

/** Low 32 bits of a numeric address (exact for any integer < 2^53). */
export function addrLo(n: number): number {
  return n >>> 0;
}

/** High 32 bits of a numeric address. */
export function addrHi(n: number): number {
  return (n / TWO_POW_32) >>> 0;
}

export class AddressTable {
  private keys: Float64Array;
  private sizes: Uint32Array;
  private tags: Uint32Array;
  private mask: number;
  private shift: number;
  private n = 0;

  constructor(initialCapacity = 64) {
    let cap = 16;
    while (cap < initialCapacity * 2) cap *= 2;
    this.keys = new Float64Array(cap);
    this.sizes = new Uint32Array(cap);
    this.tags = new Uint32Array(cap);
    this.mask = cap - 1;
    this.shift = 32 - Math.log2(cap);
  }

  get count(): number {
    return this.n;
  }

  private home(key: number): number {
    const lo = key >>> 0;
    const hi = (key / TWO_POW_32) >>> 0;
    const x = ((lo >>> 4) | (lo << 28)) ^ Math.imul(hi, 0x85ebca6b);
    return Math.imul(x, 0x9e3779b1) >>> this.shift;
  }

  /** Slot index of `key`, or -1. */
  find(key: number): number {
    const keys = this.keys;
    const mask = this.mask;
    let i = this.home(key);
    for (;;) {
      const k = keys[i] as number;
      if (k === key) return i;
      if (k === 0) return -1;
      i = (i + 1) & mask;
    }
  }

  sizeAt(i: number): number {
    return this.sizes[i] as number;
  }

  tagAt(i: number): number {
    return this.tags[i] as number;
  }

  keyAt(i: number): number {
    return this.keys[i] as number;
  }

  setTagAt(i: number, tag: number): void {
    this.tags[i] = tag;
  }

  /** Inserts or overwrites. Returns false when the key was already present. */
  set(key: number, size: number, tag: number): boolean {
    if (key <= 0) throw new RangeError('address table keys must be positive');
    if ((this.n + 1) * 2 > this.keys.length) this.grow();
    const keys = this.keys;
    const mask = this.mask;
    let i = this.home(key);
    for (;;) {
      const k = keys[i] as number;
      if (k === 0) break;
      if (k === key) {
        this.sizes[i] = size;
        this.tags[i] = tag;
        return false;
      }
      i = (i + 1) & mask;
    }
    keys[i] = key;
    this.sizes[i] = size;
    this.tags[i] = tag;
    this.n++;
    return true;
  }

  /** Removes the entry in slot `i` (from find()). */
  removeAt(i: number): void {
    const keys = this.keys;
    const sizes = this.sizes;
    const tags = this.tags;
    const mask = this.mask;
    let hole = i;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const k = keys[j] as number;
      if (k === 0) break;
      // The entry at j may move back into the hole unless its home lies in (hole, j].
      if (((j - this.home(k)) & mask) >= ((j - hole) & mask)) {
        keys[hole] = k;
        sizes[hole] = sizes[j] as number;
        tags[hole] = tags[j] as number;
        hole = j;
      }
    }
    keys[hole] = 0;
    this.n--;
  }

  /** Removes `key` if present; returns whether it was. */
  delete(key: number): boolean {
    const i = this.find(key);
    if (i < 0) return false;
    this.removeAt(i);
    return true;
  }

  clear(): void {
    this.keys.fill(0);
    this.n = 0;
  }

  /** Calls `fn` for every entry (in slot order). The table must not change meanwhile. */
  forEach(fn: (key: number, size: number, tag: number, slot: number) => void): void {
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as number;
      if (k !== 0) fn(k, this.sizes[i] as number, this.tags[i] as number, i);
    }
  }

  /** Entries sorted by address, as [key, size, tag] triples (for reports, not hot paths). */
  entries(): Array<[number, number, number]> {
    const out: Array<[number, number, number]> = [];
    this.forEach((k, s, t) => out.push([k, s, t]));
    return out.sort((a, b) => a[0] - b[0]);
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldSizes = this.sizes;
    const oldTags = this.tags;
    const cap = oldKeys.length * 2;
    this.keys = new Float64Array(cap);
    this.sizes = new Uint32Array(cap);
    this.tags = new Uint32Array(cap);
    this.mask = cap - 1;
    this.shift = 32 - Math.log2(cap);
    this.n = 0;
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i] as number;
      if (k !== 0) this.set(k, oldSizes[i] as number, oldTags[i] as number);
    }
  }
}
