/**
 * `arena`: one native block malloc'd up front; each request takes the next 16-byte-aligned
 * slice (bump allocation). A free is only booked — the slice stays consumed — until reset()
 * (when the marker is freed and nothing is live) rewinds the arena, or release() returns the
 * block. A request that does not fit returns 0n (FailReason.Exhausted).
 *
 * The fact of an Alloc/Free event is the block's offset in the arena.
 */
import { FailReason, GuardVerdict } from '../../src-shared/events/layout';
import type { ArenaFacts } from '../../src-shared/alloc/stats';
import { LIMITS } from '../../src-shared/alloc/options';
import { nativeMemory } from '../pss';
import { StrategyBase, align16 } from './strategy';

export class ArenaStrategy extends StrategyBase {
  readonly id = 'arena' as const;
  readonly capacityBytes: number;
  private base: bigint;
  private readonly baseNum: number;
  /** First usable offset (0 unless malloc returned a block that is not 16-byte aligned). */
  private readonly start: number;
  private offset: number;
  private highWater = 0;
  private freedBytes = 0;
  private paddingBytes = 0;
  private exhausted = 0;
  private resets = 0;

  constructor(capacityBytes: number) {
    super();
    if (
      !Number.isInteger(capacityBytes) ||
      capacityBytes < LIMITS.arenaMinBytes ||
      capacityBytes > LIMITS.arenaMaxBytes
    )
      throw new RangeError(`arena capacity ${capacityBytes} out of range`);
    this.capacityBytes = capacityBytes;
    this.base = nativeMemory.malloc(capacityBytes);
    if (this.base === 0n) throw new Error(`arena: malloc(${capacityBytes}) failed`);
    this.baseNum = Number(this.base);
    this.start = align16(this.baseNum) - this.baseNum;
    this.offset = this.start;
    this.highWater = this.start;
  }

  alloc(size: number): bigint {
    if (this.released) return this.noteFailure(FailReason.Exhausted);
    const need = size <= 16 ? 16 : align16(size);
    const at = this.offset;
    if (at + need > this.capacityBytes) {
      this.exhausted++;
      return this.noteFailure(FailReason.Exhausted);
    }
    this.offset = at + need;
    if (this.offset > this.highWater) this.highWater = this.offset;
    this.paddingBytes += need - size;
    const n = this.baseNum + at;
    this.noteAlloc(n, size, need);
    this.lastFact = at;
    return BigInt(n);
  }

  freeAt(address: bigint, n: number): void {
    if (address === 0n) return this.noteFreeNull();
    const i = this.released ? -1 : this.live.find(n);
    if (i < 0) return this.noteBadFree(GuardVerdict.UnknownAddress);
    const size = this.live.sizeAt(i);
    const need = this.live.tagAt(i);
    this.noteFree(i, size);
    this.freedBytes += need;
    this.paddingBytes -= need - size;
    this.lastFact = n - this.baseNum;
    this.lastVerdict = GuardVerdict.Ok;
  }

  /** Rewinds the arena when nothing is live (a live block must stay valid). */
  override reset(): boolean {
    if (this.released) return true;
    if (this.live.count > 0) return false;
    this.offset = this.start;
    this.freedBytes = 0;
    this.paddingBytes = 0;
    this.resets++;
    return true;
  }

  release(): void {
    if (this.released) return;
    nativeMemory.free(this.base);
    this.base = 0n;
    this.live.clear();
    this.liveBytes = 0;
    this.released = true;
  }

  protected facts(): ArenaFacts {
    const used = this.offset - this.start;
    return {
      strategy: 'arena',
      capacityBytes: this.capacityBytes,
      usedBytes: used,
      highWaterBytes: this.highWater - this.start,
      freedBytes: this.freedBytes,
      paddingBytes: this.paddingBytes,
      wasteBytes: used - this.liveBytes,
      exhausted: this.exhausted,
      resets: this.resets,
    };
  }

  protected nativeBytes(): number {
    return this.capacityBytes;
  }
}
