/**
 * The contract every allocator strategy keeps, and the bookkeeping they share.
 *
 * A strategy is a NativeAllocator (what the binding registers as a marker's AllocRoutine /
 * FreeRoutine) that hands out REAL native memory and also reports what it did, cheaply: after
 * each call the tracer reads plain numeric fields (lastFact, lastFailReason, lastVerdict)
 * instead of asking through a method or an object, so the hot path allocates nothing.
 *
 * Every strategy refuses to pass an address it never gave out (or already took back) to libc:
 * such a free is counted as a bad free and reported through lastVerdict, never a crash.
 */
import type { NativeAllocator } from '../pss';
import { FAULTY_BIT, FailReason, GuardVerdict, StrategyId } from '../../src-shared/events/layout';
import type {
  AllocatorCounters,
  AllocatorStats,
  FaultFacts,
  StrategyFacts,
} from '../../src-shared/alloc/stats';
import type { BaseStrategyName } from '../../src-shared/alloc/options';
import { AddressTable, addrHi, addrLo, toAddressNumber } from './address-table';

/** A block the strategy gave out and that was not freed yet. */
export interface LiveBlock {
  address: bigint;
  size: number;
}

/** A red-zone finding of the guard strategy (verdict: GuardVerdict.Overrun / Underrun). */
export interface GuardFinding {
  verdict: number;
  address: bigint;
  size: number;
}

export interface AllocatorStrategy extends NativeAllocator {
  /** The base strategy (a faulty wrapper reports the strategy it wraps). */
  readonly id: BaseStrategyName;
  /** The event's strategy byte: StrategyId[id], | FAULTY_BIT behind a faulty wrapper. */
  readonly code: number;
  /**
   * Fact about the last successful alloc or non-NULL free, for an event's aux0:
   * arena → offset of the block in the arena; pool → class index (POOL_LARGE_FACT for a
   * malloc fallback); guard → red-zone bytes at alloc, GuardVerdict at free; heap → 0.
   */
  readonly lastFact: number;
  /** The last successful alloc's address as a number (exact: below 2^53), so the tracer
   *  need not convert the returned bigint again (~26 ns). */
  readonly lastAddress: number;
  /** FailReason of the last alloc that returned 0n. */
  readonly lastFailReason: number;
  /**
   * GuardVerdict of the last non-NULL free, for every strategy: Ok; UnknownAddress (not ours:
   * nothing was freed); DoubleFree (guard only: recently freed block); Overrun/Underrun (guard:
   * the block was freed and a finding queued).
   */
  readonly lastVerdict: number;
  /** Requested bytes of the live blocks. */
  readonly liveBytes: number;
  /**
   * free() with the address already converted by the caller (toAddressNumber(address); 0 for
   * NULL, -1 when it cannot be ours). free(a) ≡ freeAt(a, toAddressNumber(a)).
   */
  freeAt(address: bigint, n: number): void;
  readonly released: boolean;
  /** Number of queued guard findings (0 for every other strategy). */
  readonly pendingFindings: number;
  /** Returns and clears the queued findings. */
  takeFindings(): GuardFinding[];
  /** Checks every live block now (guard); returns the new findings, does not queue them. */
  checkAll(): GuardFinding[];
  stats(): AllocatorStats;
  /** Live blocks, sorted by address. */
  outstanding(): LiveBlock[];
  /**
   * Called when the marker using the strategy is freed: reclaims what can be reclaimed while
   * keeping live blocks valid (arena: rewinds only if nothing is live). Returns whether
   * everything was reclaimed.
   */
  reset(): boolean;
  /**
   * Returns every byte of native memory the strategy holds, live blocks included. Afterwards
   * alloc returns 0n and free ignores its argument. Idempotent.
   */
  release(): void;
}

/** Counters, the live table and the stats plumbing shared by the four base strategies. */
export abstract class StrategyBase implements AllocatorStrategy {
  abstract readonly id: BaseStrategyName;
  lastFact = 0;
  lastAddress = 0;
  lastFailReason: number = FailReason.None;
  lastVerdict: number = GuardVerdict.Ok;
  allocations = 0;
  failures = 0;
  frees = 0;
  freeNulls = 0;
  badFrees = 0;
  liveBytes = 0;
  peakBytes = 0;
  totalBytes = 0;
  released = false;
  /** address → (requested size, strategy-specific tag) */
  protected readonly live = new AddressTable();

  get code(): number {
    return StrategyId[this.id];
  }

  get pendingFindings(): number {
    return 0;
  }

  abstract alloc(size: number): bigint;
  abstract freeAt(address: bigint, n: number): void;

  free(address: bigint): void {
    this.freeAt(address, address === 0n ? 0 : toAddressNumber(address));
  }
  abstract release(): void;
  protected abstract facts(): StrategyFacts;
  protected abstract nativeBytes(): number;

  takeFindings(): GuardFinding[] {
    return [];
  }

  checkAll(): GuardFinding[] {
    return [];
  }

  reset(): boolean {
    return this.live.count === 0;
  }

  /** Bookkeeping of a successful allocation at numeric address `n`. */
  protected noteAlloc(n: number, size: number, tag: number): void {
    this.live.set(n, size, tag);
    this.lastAddress = n;
    this.allocations++;
    this.totalBytes += size;
    const live = (this.liveBytes += size);
    if (live > this.peakBytes) this.peakBytes = live;
  }

  /** Bookkeeping of a refused allocation. Always returns 0n. */
  protected noteFailure(reason: number): bigint {
    this.failures++;
    this.lastFailReason = reason;
    return 0n;
  }

  /** Bookkeeping of free(NULL). */
  protected noteFreeNull(): void {
    this.freeNulls++;
    this.lastVerdict = GuardVerdict.Ok;
    this.lastFact = 0;
  }

  /** Bookkeeping of a free of an address that is not live here. */
  protected noteBadFree(verdict: number): void {
    this.badFrees++;
    this.lastVerdict = verdict;
    this.lastFact = verdict;
  }

  /** Removes live slot `i` (of requested size `size`) from the books. */
  protected noteFree(i: number, size: number): void {
    this.live.removeAt(i);
    this.frees++;
    this.liveBytes -= size;
  }

  outstanding(): LiveBlock[] {
    return this.live
      .entries()
      .map(([k, size]) => ({ address: (BigInt(addrHi(k)) << 32n) | BigInt(addrLo(k)), size }));
  }

  protected counters(): AllocatorCounters {
    return {
      allocations: this.allocations,
      failures: this.failures,
      frees: this.frees,
      freeNulls: this.freeNulls,
      badFrees: this.badFrees,
      liveBlocks: this.live.count,
      liveBytes: this.liveBytes,
      peakBytes: this.peakBytes,
      totalBytes: this.totalBytes,
      nativeBytes: this.released ? 0 : this.nativeBytes(),
    };
  }

  stats(): AllocatorStats {
    return {
      strategy: this.id,
      code: this.code,
      faulty: false,
      released: this.released,
      ...this.counters(),
      facts: this.facts(),
      faults: null,
    };
  }
}

/** Stats of a strategy wrapped by `faulty`: same counters, failures include injected ones. */
export function withFaults(
  inner: AllocatorStats,
  injected: number,
  faults: FaultFacts,
): AllocatorStats {
  return {
    ...inner,
    code: inner.code | FAULTY_BIT,
    faulty: true,
    failures: inner.failures + injected,
    faults,
  };
}

/** Rounds up to a multiple of 16 (the alignment every strategy guarantees). */
export function align16(n: number): number {
  return Math.ceil(n / 16) * 16;
}
