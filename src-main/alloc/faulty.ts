/**
 * `faulty`: sits in front of another strategy and makes chosen allocation attempts return 0n,
 * recording why (FailReason): the Nth attempts (1-based), attempts drawn with probability p from
 * a seeded PRNG, and attempts that would take the live bytes past a budget. Checked in that
 * order; the PRNG is drawn on EVERY attempt, so the same seed and the same call sequence fail
 * the same attempts whatever the other rules did. Frees and everything else pass through.
 */
import { FAULTY_BIT, FailReason } from '../../src-shared/events/layout';
import type { AllocatorStats } from '../../src-shared/alloc/stats';
import type { FaultyOptions } from '../../src-shared/alloc/options';
import { DEFAULT_FAULTY_SEED } from '../../src-shared/alloc/options';
import type { AllocatorStrategy, GuardFinding, LiveBlock } from './strategy';
import { withFaults } from './strategy';
import { toAddressNumber } from './address-table';

/** mulberry32: a tiny, fast, well-distributed 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type FaultRules = Omit<FaultyOptions, 'strategy' | 'inner'>;

export class FaultyStrategy implements AllocatorStrategy {
  readonly code: number;
  lastFact = 0;
  lastAddress = 0;
  lastFailReason: number = FailReason.None;
  lastVerdict = 0;
  private attempts = 0;
  private readonly failAt: Set<number>;
  private readonly probability: number;
  private readonly budget: number;
  private readonly random: () => number;
  private nth = 0;
  private prob = 0;
  private overBudget = 0;
  private innerFailures = 0;

  constructor(
    readonly inner: AllocatorStrategy,
    rules: FaultRules = {},
  ) {
    this.code = inner.code | FAULTY_BIT;
    this.failAt = new Set(rules.failNth ?? []);
    this.probability = rules.failProbability ?? 0;
    this.budget = rules.budgetBytes ?? Infinity;
    this.random = mulberry32(rules.seed ?? DEFAULT_FAULTY_SEED);
  }

  get id(): AllocatorStrategy['id'] {
    return this.inner.id;
  }
  get liveBytes(): number {
    return this.inner.liveBytes;
  }
  get released(): boolean {
    return this.inner.released;
  }
  get pendingFindings(): number {
    return this.inner.pendingFindings;
  }

  alloc(size: number): bigint {
    const attempt = ++this.attempts;
    const draw = this.random();
    let reason: number = FailReason.None;
    if (this.failAt.has(attempt)) reason = FailReason.FailNth;
    else if (draw < this.probability) reason = FailReason.Probability;
    else if (this.inner.liveBytes + size > this.budget) reason = FailReason.Budget;
    if (reason !== FailReason.None) {
      if (reason === FailReason.FailNth) this.nth++;
      else if (reason === FailReason.Probability) this.prob++;
      else this.overBudget++;
      this.lastFailReason = reason;
      this.lastFact = 0;
      return 0n;
    }
    const p = this.inner.alloc(size);
    this.lastFact = this.inner.lastFact;
    this.lastAddress = this.inner.lastAddress;
    if (p === 0n) {
      this.innerFailures++;
      this.lastFailReason = this.inner.lastFailReason;
    }
    return p;
  }

  free(address: bigint): void {
    this.freeAt(address, address === 0n ? 0 : toAddressNumber(address));
  }

  freeAt(address: bigint, n: number): void {
    this.inner.freeAt(address, n);
    this.lastFact = this.inner.lastFact;
    this.lastVerdict = this.inner.lastVerdict;
  }

  takeFindings(): GuardFinding[] {
    return this.inner.takeFindings();
  }
  checkAll(): GuardFinding[] {
    return this.inner.checkAll();
  }
  outstanding(): LiveBlock[] {
    return this.inner.outstanding();
  }
  reset(): boolean {
    return this.inner.reset();
  }
  release(): void {
    this.inner.release();
  }

  stats(): AllocatorStats {
    return withFaults(this.inner.stats(), this.nth + this.prob + this.overBudget, {
      attempts: this.attempts,
      failNth: this.nth,
      probability: this.prob,
      budget: this.overBudget,
      innerFailures: this.innerFailures,
    });
  }
}
