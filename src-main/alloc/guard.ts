/**
 * `guard`: every block is malloc'd with a red zone before and after it, both filled with a
 * canary byte. At free (and at checkAll(), which the tracer runs when the marker is freed) the
 * zones are compared with a reference canary block by memcmp (~50 ns; a koffi view would cost
 * ~1 µs). Damage after the block is an overrun, before it an underrun: each is queued as a
 * finding (reported once per block) and the block is still freed — it is ours.
 *
 * Freed blocks wait in a quarantine (the last QUARANTINE_BLOCKS frees) before going back to
 * libc, so a second free of a recently freed block is recognised as a double free; an address
 * that is neither live nor quarantined is an unknown address. Neither is passed to libc.
 *
 * Layout of one block:  [ red zone | user bytes (size) | red zone ]
 *                        ^ malloc   ^ returned (16-byte aligned)
 */
import { FailReason, GuardVerdict } from '../../src-shared/events/layout';
import type { GuardFacts } from '../../src-shared/alloc/stats';
import { LIMITS } from '../../src-shared/alloc/options';
import { memoryEqual, nativeMemory } from '../pss';
import { AddressTable } from './address-table';
import { StrategyBase, align16 } from './strategy';
import type { GuardFinding } from './strategy';

export const CANARY_BYTE = 0xfd;
/** Freed blocks held back from libc to recognise double frees. */
export const QUARANTINE_BLOCKS = 256;
/** Up to this size one memset over zones + user bytes is cheaper than two calls (~60 ns each). */
const PAINT_WHOLE_MAX = 1024;
const UNDERRUN_REPORTED = 1;
const OVERRUN_REPORTED = 2;
/** Queued findings beyond this are counted but dropped (a runaway overrun loop). */
const MAX_PENDING = 4096;

export class GuardStrategy extends StrategyBase {
  readonly id = 'guard' as const;
  readonly redZoneBytes: number;
  private readonly ref: bigint;
  private readonly quarantine = new AddressTable(QUARANTINE_BLOCKS);
  private readonly ring = new Float64Array(QUARANTINE_BLOCKS);
  private ringNext = 0;
  private heldBytes = 0;
  private overruns = 0;
  private underruns = 0;
  private doubleFrees = 0;
  private unknownFrees = 0;
  private checks = 0;
  private pending: GuardFinding[] = [];

  constructor(redZoneBytes: number) {
    super();
    if (
      !Number.isInteger(redZoneBytes) ||
      redZoneBytes < LIMITS.guardMinRedZone ||
      redZoneBytes > LIMITS.guardMaxRedZone
    )
      throw new RangeError(`guard: red zone ${redZoneBytes} out of range`);
    this.redZoneBytes = align16(redZoneBytes);
    this.ref = nativeMemory.malloc(this.redZoneBytes);
    if (this.ref === 0n) throw new Error('guard: malloc of the reference canary failed');
    nativeMemory.fill(this.ref, CANARY_BYTE, this.redZoneBytes);
  }

  override get pendingFindings(): number {
    return this.pending.length;
  }

  alloc(size: number): bigint {
    if (this.released) return this.noteFailure(FailReason.Exhausted);
    const rz = this.redZoneBytes;
    const total = rz + size + rz;
    const base = nativeMemory.malloc(total);
    if (base === 0n) return this.noteFailure(FailReason.Exhausted);
    const b = Number(base);
    if (size <= PAINT_WHOLE_MAX) {
      nativeMemory.fill(base, CANARY_BYTE, total);
    } else {
      nativeMemory.fill(base, CANARY_BYTE, rz);
      nativeMemory.fill(BigInt(b + rz + size), CANARY_BYTE, rz);
    }
    this.heldBytes += total;
    const n = b + rz;
    this.noteAlloc(n, size, 0);
    this.lastFact = rz;
    return BigInt(n);
  }

  /** Compares both zones of the block at `n`; queues/returns new findings. Returns the verdict. */
  private check(n: number, size: number, slot: number, out: GuardFinding[] | null): number {
    const rz = this.redZoneBytes;
    this.checks++;
    const headOk = memoryEqual(BigInt(n - rz), this.ref, rz);
    const tailOk = memoryEqual(BigInt(n + size), this.ref, rz);
    if (headOk && tailOk) return GuardVerdict.Ok;
    const flags = this.live.tagAt(slot);
    if (!tailOk && (flags & OVERRUN_REPORTED) === 0) {
      this.overruns++;
      this.report({ verdict: GuardVerdict.Overrun, address: BigInt(n), size }, out);
    }
    if (!headOk && (flags & UNDERRUN_REPORTED) === 0) {
      this.underruns++;
      this.report({ verdict: GuardVerdict.Underrun, address: BigInt(n), size }, out);
    }
    this.live.setTagAt(
      slot,
      flags | (tailOk ? 0 : OVERRUN_REPORTED) | (headOk ? 0 : UNDERRUN_REPORTED),
    );
    return tailOk ? GuardVerdict.Underrun : GuardVerdict.Overrun;
  }

  private report(f: GuardFinding, out: GuardFinding[] | null): void {
    if (out) out.push(f);
    else if (this.pending.length < MAX_PENDING) this.pending.push(f);
  }

  freeAt(address: bigint, n: number): void {
    if (address === 0n) return this.noteFreeNull();
    const i = this.released ? -1 : this.live.find(n);
    if (i < 0) {
      if (!this.released && n > 0 && this.quarantine.find(n) >= 0) {
        this.doubleFrees++;
        return this.noteBadFree(GuardVerdict.DoubleFree);
      }
      this.unknownFrees++;
      return this.noteBadFree(GuardVerdict.UnknownAddress);
    }
    const size = this.live.sizeAt(i);
    const verdict = this.check(n, size, i, null);
    this.noteFree(i, size);
    this.lastFact = verdict;
    this.lastVerdict = verdict;
    this.quarantinePush(n, size);
  }

  private quarantinePush(n: number, size: number): void {
    const at = this.ringNext;
    const old = this.ring[at] as number;
    if (old !== 0) {
      const q = this.quarantine.find(old);
      if (q >= 0) {
        const oldSize = this.quarantine.sizeAt(q);
        this.quarantine.removeAt(q);
        this.heldBytes -= oldSize + 2 * this.redZoneBytes;
        nativeMemory.free(BigInt(old - this.redZoneBytes));
      }
    }
    this.ring[at] = n;
    this.ringNext = (at + 1) % QUARANTINE_BLOCKS;
    this.quarantine.set(n, size, 0);
  }

  override takeFindings(): GuardFinding[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  override checkAll(): GuardFinding[] {
    const out: GuardFinding[] = [];
    if (this.released) return out;
    const blocks: Array<[number, number]> = [];
    this.live.forEach((k, size) => blocks.push([k, size]));
    for (const [k, size] of blocks) this.check(k, size, this.live.find(k), out);
    return out;
  }

  release(): void {
    if (this.released) return;
    const rz = this.redZoneBytes;
    this.live.forEach((k) => nativeMemory.free(BigInt(k - rz)));
    this.quarantine.forEach((k) => nativeMemory.free(BigInt(k - rz)));
    nativeMemory.free(this.ref);
    this.live.clear();
    this.quarantine.clear();
    this.ring.fill(0);
    this.liveBytes = 0;
    this.heldBytes = 0;
    this.pending = [];
    this.released = true;
  }

  protected facts(): GuardFacts {
    return {
      strategy: 'guard',
      redZoneBytes: this.redZoneBytes,
      canaryByte: CANARY_BYTE,
      overruns: this.overruns,
      underruns: this.underruns,
      doubleFrees: this.doubleFrees,
      unknownFrees: this.unknownFrees,
      checks: this.checks,
      quarantinedBlocks: this.quarantine.count,
    };
  }

  protected nativeBytes(): number {
    return this.heldBytes + this.redZoneBytes;
  }
}
