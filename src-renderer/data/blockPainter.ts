/**
 * Keeps the block map's rasters (data/blockLayout.ts BlockRaster) up to date with the analysis,
 * at a bounded cost per frame:
 * - between layout changes, only the events analysed since the last frame are painted;
 * - a full rebuild from the live set (needed when the layout moves pixels, and every
 *   REFRESH_MS to correct pixels shared by several blocks) is spread over frames, at most
 *   `budget` blocks a frame, into a back raster that replaces the front one when complete.
 * While a rebuild after a layout change runs, the partly rebuilt back raster is shown (the old
 * one has pixels in the wrong places); a periodic refresh keeps showing the front one.
 */
import { packedSize, type LiveArrays } from '../../src-shared/ledger/ledger';
import { BlockRaster, type BlockMapLayout } from './blockLayout';
import type { NumberColumn } from '../lib/chunkedColumn';

export interface PaintSource {
  /**
   * Every block live at `frontier` (read when a rebuild starts): its address, size and colour
   * come from the arrays' packed facts, so a rebuild reads no event column but the red zones'.
   */
  live(reuse?: LiveArrays): LiveArrays;
  /** Events below this seq are analysed. */
  frontier: number;
  kind: NumberColumn;
  address: NumberColumn;
  size: NumberColumn;
  allocKind: number;
  freeKind: number;
  /** Raster code of a live block (≥ 1), from its Alloc event… */
  liveCode(seq: number): number;
  /** …or from its packed facts (LiveArrays.packed): the same code. */
  liveCodeOf(packed: number): number;
  /** Red-zone bytes on each side of the block (guard), else 0. */
  redZone(seq: number): number;
}

export class BlockLayers {
  readonly blocks = new BlockRaster();
  readonly zones = new BlockRaster();
  readonly spans = new BlockRaster();
  anyZone = false;

  reset(l: BlockMapLayout): void {
    this.blocks.reset(l);
    this.zones.reset(l);
    this.spans.reset(l);
    this.anyZone = false;
  }

  ensure(l: BlockMapLayout): void {
    this.blocks.ensure(l);
    this.zones.ensure(l);
    this.spans.ensure(l);
  }

  paintSpans(l: BlockMapLayout): void {
    for (let i = 0; i < l.spanStart.length; i++) {
      const from = l.spanStart[i] as number;
      this.spans.paint(l, from, (l.spanEnd[i] as number) - from, 1);
    }
  }

  paintLive(l: BlockMapLayout, src: PaintSource, addr: number, seq: number): void {
    this.paintBlock(l, addr, src.size.get(seq), src.liveCode(seq), src.redZone(seq));
  }

  /** A live block of `size` bytes at `addr` in `code`, with red zones of `rz` bytes. */
  paintBlock(l: BlockMapLayout, addr: number, size: number, code: number, rz: number): void {
    this.blocks.paint(l, addr, size, code);
    if (rz > 0) {
      this.zones.paint(l, addr - rz, rz, 1);
      this.zones.paint(l, addr + size, rz, 1);
      this.anyZone = true;
    }
  }

  /** Paints the Alloc/Free events [from, to). */
  paintEvents(l: BlockMapLayout, src: PaintSource, from: number, to: number): void {
    for (let seq = from; seq < to; seq++) {
      const k = src.kind.get(seq);
      // Painted in order: an Alloc freed later in the range is cleared again by its Free (the
      // live set is not consulted: reading it per event would cost a lookup each).
      if (k === src.allocKind) {
        this.paintLive(l, src, src.address.get(seq), seq);
      } else if (k === src.freeKind) {
        const addr = src.address.get(seq);
        const size = src.size.get(seq);
        this.blocks.paint(l, addr, size, 0);
        const rz = src.redZone(seq);
        if (rz > 0) this.zones.paint(l, addr - rz, size + 2 * rz, 0);
      }
    }
  }
}

/** A full rebuild is started at least this often (ms), to correct shared pixels. */
export const REFRESH_MS = 2000;

export class BlockPainter {
  private front = new BlockLayers();
  private back: BlockLayers | null = null;
  /** The live blocks a rebuild paints, and the next entry to paint. */
  private live: LiveArrays | null = null;
  private next = 0;
  /** A finished rebuild's copy of the live set, whose arrays the next copy fills… */
  private spare: LiveArrays | null = null;
  /** …and the layers it replaced, which the next rebuild paints into. */
  private spareLayers: BlockLayers | null = null;
  /** Blocks freed since the rebuild started: address → seq of the Free (the rebuild skips them). */
  private readonly freedDuring = new Map<number, number>();
  private showBack = false;
  private key = '';
  private owner: unknown = null;
  private frontier = 0;
  private refreshedAt = -Infinity;

  /** True while a rebuild is spread over frames (the map needs more frames). */
  get rebuilding(): boolean {
    return this.back !== null;
  }

  /**
   * True while the rebuild is what is shown, partly painted (new data: a cursor move, a new
   * layout), rather than a refresh behind a complete picture: the user is waiting for the rest.
   */
  get showingRebuild(): boolean {
    return this.back !== null && this.showBack;
  }

  /**
   * Brings the rasters up to date and returns the layers to show. `key` changes whenever the
   * layout moves pixels; `owner` identifies the data (a new session starts over).
   */
  update(
    l: BlockMapLayout,
    key: string,
    owner: unknown,
    src: PaintSource,
    now: number,
    budget: number,
    /** …and at most this many ms of rebuilding a frame (checked every 4,096 blocks). */
    budgetMs = Infinity,
  ): BlockLayers {
    if (owner !== this.owner || src.frontier < this.frontier) {
      this.owner = owner;
      // The rebuild starts from the live set at src.frontier: no event before it is replayed.
      this.frontier = src.frontier;
      this.front.reset(l);
      this.key = key;
      this.startRebuild(l, src, true);
    } else if (key !== this.key) {
      this.key = key;
      this.startRebuild(l, src, true);
    } else if (!this.back && now - this.refreshedAt > REFRESH_MS) {
      this.startRebuild(l, src, false);
    }
    if (!this.showBack) {
      this.front.ensure(l);
      this.front.paintSpans(l);
      this.front.paintEvents(l, src, this.frontier, src.frontier);
    }
    if (this.back) {
      this.back.ensure(l);
      for (let seq = this.frontier; seq < src.frontier; seq++)
        if (src.kind.get(seq) === src.freeKind) this.freedDuring.set(src.address.get(seq), seq);
      this.back.paintEvents(l, src, this.frontier, src.frontier);
      const live = this.live as LiveArrays;
      const { addr, seq, packed } = live;
      const end = live.length;
      const freedDuring = this.freedDuring;
      const anyFreed = freedDuring.size > 0;
      let j = this.next;
      let n = 0;
      const until = budgetMs === Infinity ? Infinity : performance.now() + budgetMs;
      while (j < end && n < budget) {
        if ((n & 4095) === 4095 && performance.now() > until) break;
        const a = addr[j] as number;
        const s = seq[j] as number;
        const p = packed[j] as number;
        j++;
        n++;
        const freed = anyFreed ? freedDuring.get(a) : undefined;
        if (freed === undefined || freed < s)
          this.back.paintBlock(l, a, packedSize(p), src.liveCodeOf(p), src.redZone(s));
      }
      this.next = j;
      if (j >= end) {
        this.spareLayers = this.front;
        this.front = this.back;
        this.back = null;
        if (this.live?.copy) this.spare = this.live;
        this.live = null;
        this.freedDuring.clear();
        this.showBack = false;
        this.refreshedAt = now;
      }
    }
    this.frontier = src.frontier;
    return this.showBack && this.back ? this.back : this.front;
  }

  private startRebuild(l: BlockMapLayout, src: PaintSource, showBack: boolean): void {
    // The layers and the copy of the live set of the rebuild before are filled again (fresh
    // memory costs more than painting here): a finished one's, or an abandoned one's.
    const back = this.spareLayers ?? this.back ?? new BlockLayers();
    this.spareLayers = null;
    back.reset(l);
    back.paintSpans(l);
    this.back = back;
    const reuse = this.spare ?? (this.live?.copy ? this.live : undefined);
    this.spare = null;
    this.live = src.live(reuse);
    this.next = 0;
    this.freedDuring.clear();
    this.showBack = showBack;
  }
}
