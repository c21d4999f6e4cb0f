/**
 * `heap`: libc malloc/free for every request — the baseline, what PssWalkMarkerCreate does
 * without a PSS_ALLOCATOR. The live table exists only so that a free of an address we never
 * returned is reported instead of handed to libc (which would corrupt the heap or abort).
 */
import { FailReason, GuardVerdict } from '../../src-shared/events/layout';
import type { HeapFacts } from '../../src-shared/alloc/stats';
import { nativeMemory } from '../pss';
import { StrategyBase } from './strategy';

export class HeapStrategy extends StrategyBase {
  readonly id = 'heap' as const;

  alloc(size: number): bigint {
    if (this.released) return this.noteFailure(FailReason.Exhausted);
    const p = nativeMemory.malloc(size);
    if (p === 0n) return this.noteFailure(FailReason.Exhausted);
    this.noteAlloc(Number(p), size, 0);
    this.lastFact = 0;
    return p;
  }

  freeAt(address: bigint, n: number): void {
    if (address === 0n) return this.noteFreeNull();
    const i = this.released ? -1 : this.live.find(n);
    if (i < 0) return this.noteBadFree(GuardVerdict.UnknownAddress);
    this.noteFree(i, this.live.sizeAt(i));
    nativeMemory.free(address);
    this.lastFact = 0;
    this.lastVerdict = GuardVerdict.Ok;
  }

  release(): void {
    if (this.released) return;
    this.live.forEach((k) => nativeMemory.free(BigInt(k)));
    this.live.clear();
    this.liveBytes = 0;
    this.released = true;
  }

  protected facts(): HeapFacts {
    return { strategy: 'heap' };
  }

  /** malloc's own headers are not counted: the requested bytes of the live blocks. */
  protected nativeBytes(): number {
    return this.liveBytes;
  }
}
