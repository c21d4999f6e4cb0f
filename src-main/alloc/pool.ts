/**
 * `pool`: size classes with free lists. A class's blocks come from slabs (one native malloc of
 * blocksPerSlab × class size each, carved into blocks); a freed block goes back on its class's
 * free list (a Float64Array stack of addresses — no per-block objects) and is the next block
 * that class hands out. Requests above the largest class go to malloc (POOL_LARGE_FACT).
 *
 * The fact of an Alloc/Free event is the class index.
 */
import { FailReason, GuardVerdict } from '../../src-shared/events/layout';
import { POOL_LARGE_FACT } from '../../src-shared/alloc/stats';
import type { PoolFacts } from '../../src-shared/alloc/stats';
import { LIMITS } from '../../src-shared/alloc/options';
import { nativeMemory } from '../pss';
import { StrategyBase } from './strategy';

export class PoolStrategy extends StrategyBase {
  readonly id = 'pool' as const;
  readonly classes: readonly number[];
  readonly blocksPerSlab: number;
  private readonly maxClass: number;
  /** ceil(size / 16) → class index. */
  private readonly classOf: Uint8Array;
  private readonly freeStacks: Float64Array[];
  private readonly freeTop: Int32Array;
  private readonly inUse: Int32Array;
  private readonly requests: Float64Array;
  private readonly slabCount: Int32Array;
  private slabs: bigint[] = [];
  private slabBytes = 0;
  private fallbackAllocs = 0;
  private fallbackLive = 0;
  private fallbackBytes = 0;

  constructor(classes: readonly number[], blocksPerSlab: number) {
    super();
    if (classes.length < 1 || classes.length > LIMITS.poolMaxClasses)
      throw new RangeError('pool: 1 to 32 classes');
    let prev = 0;
    for (const c of classes) {
      if (!Number.isInteger(c) || c % 16 !== 0 || c <= prev || c > LIMITS.poolMaxClass)
        throw new RangeError(`pool: bad class size ${c}`);
      prev = c;
    }
    if (!Number.isInteger(blocksPerSlab) || blocksPerSlab < 1)
      throw new RangeError('pool: blocksPerSlab must be a positive integer');
    this.classes = [...classes];
    this.blocksPerSlab = blocksPerSlab;
    this.maxClass = prev;
    const n = classes.length;
    this.classOf = new Uint8Array(prev / 16 + 1);
    let c = 0;
    for (let g = 0; g <= prev / 16; g++) {
      while ((classes[c] as number) < g * 16) c++;
      this.classOf[g] = c;
    }
    this.freeStacks = classes.map(() => new Float64Array(blocksPerSlab));
    this.freeTop = new Int32Array(n);
    this.inUse = new Int32Array(n);
    this.requests = new Float64Array(n);
    this.slabCount = new Int32Array(n);
  }

  alloc(size: number): bigint {
    if (this.released) return this.noteFailure(FailReason.Exhausted);
    if (size > this.maxClass) return this.allocLarge(size);
    const c = this.classOf[(size + 15) >>> 4] as number;
    this.requests[c] = (this.requests[c] as number) + 1;
    let top = this.freeTop[c] as number;
    if (top === 0) {
      top = this.addSlab(c);
      if (top === 0) return this.noteFailure(FailReason.Exhausted);
    }
    top--;
    this.freeTop[c] = top;
    const n = (this.freeStacks[c] as Float64Array)[top] as number;
    this.inUse[c] = (this.inUse[c] as number) + 1;
    this.noteAlloc(n, size, c);
    this.lastFact = c;
    return BigInt(n);
  }

  private allocLarge(size: number): bigint {
    const p = nativeMemory.malloc(size);
    if (p === 0n) return this.noteFailure(FailReason.Exhausted);
    this.fallbackAllocs++;
    this.fallbackLive++;
    this.fallbackBytes += size;
    this.noteAlloc(Number(p), size, POOL_LARGE_FACT);
    this.lastFact = POOL_LARGE_FACT;
    return p;
  }

  /** Mallocs one slab for class `c` and pushes its blocks; returns the new stack top (0 = failed). */
  private addSlab(c: number): number {
    const blockSize = this.classes[c] as number;
    const bytes = blockSize * this.blocksPerSlab;
    const slab = nativeMemory.malloc(bytes);
    if (slab === 0n) return 0;
    this.slabs.push(slab);
    this.slabBytes += bytes;
    this.slabCount[c] = (this.slabCount[c] as number) + 1;
    let stack = this.freeStacks[c] as Float64Array;
    const top = this.freeTop[c] as number;
    // Every block of the class may end up on the stack at once: room for all of them.
    const blocks = (this.slabCount[c] as number) * this.blocksPerSlab;
    if (blocks > stack.length) {
      const bigger = new Float64Array(Math.max(stack.length * 2, blocks));
      bigger.set(stack.subarray(0, top));
      this.freeStacks[c] = stack = bigger;
    }
    // Pushed highest address first, so the slab is handed out in address order.
    const base = Number(slab);
    let t = top;
    for (let b = this.blocksPerSlab - 1; b >= 0; b--) stack[t++] = base + b * blockSize;
    this.freeTop[c] = t;
    return t;
  }

  freeAt(address: bigint, n: number): void {
    if (address === 0n) return this.noteFreeNull();
    const i = this.released ? -1 : this.live.find(n);
    if (i < 0) return this.noteBadFree(GuardVerdict.UnknownAddress);
    const c = this.live.tagAt(i);
    const size = this.live.sizeAt(i);
    this.noteFree(i, size);
    this.lastVerdict = GuardVerdict.Ok;
    this.lastFact = c;
    if (c === POOL_LARGE_FACT) {
      this.fallbackLive--;
      this.fallbackBytes -= size;
      nativeMemory.free(address);
      return;
    }
    this.inUse[c] = (this.inUse[c] as number) - 1;
    const top = this.freeTop[c] as number;
    (this.freeStacks[c] as Float64Array)[top] = n;
    this.freeTop[c] = top + 1;
  }

  release(): void {
    if (this.released) return;
    this.live.forEach((k, _size, tag) => {
      if (tag === POOL_LARGE_FACT) nativeMemory.free(BigInt(k));
    });
    for (const s of this.slabs) nativeMemory.free(s);
    this.slabs = [];
    this.slabBytes = 0;
    this.live.clear();
    this.liveBytes = 0;
    this.fallbackLive = 0;
    this.fallbackBytes = 0;
    this.freeTop.fill(0);
    this.inUse.fill(0);
    this.released = true;
  }

  protected facts(): PoolFacts {
    return {
      strategy: 'pool',
      blocksPerSlab: this.blocksPerSlab,
      classes: this.classes.map((size, c) => ({
        size,
        inUse: this.inUse[c] as number,
        free: this.freeTop[c] as number,
        slabs: this.slabCount[c] as number,
        requests: this.requests[c] as number,
      })),
      fallback: {
        allocations: this.fallbackAllocs,
        liveBlocks: this.fallbackLive,
        liveBytes: this.fallbackBytes,
      },
    };
  }

  protected nativeBytes(): number {
    return this.slabBytes + this.fallbackBytes;
  }
}
