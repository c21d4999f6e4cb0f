/**
 * Keeps the block map's rasters (data/blockLayout.ts BlockRaster) up to date with the analysis,
 * at a bounded cost per frame (one time budget for all of it):
 * - between layout changes, only the events analysed since the last frame are painted;
 * - a full rebuild from the live set (needed when the layout moves pixels, and every
 *   REFRESH_MS to correct pixels shared by several blocks) is spread over frames, at most
 *   `budget` blocks a frame, into a back raster; then the events analysed since the live set was
 *   read are painted into it in order, and it replaces the front one when it has caught up.
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

/** Events painted between two looks at the clock. */
export const EVENT_SLICE = 4096;

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
  private showBack = false;
  private key = '';
  private owner: unknown = null;
  /** Events below this are painted into the front layers… */
  private frontier = 0;
  /** …into the back layers, once its live set is painted (the live set is the state here)… */
  private backFrontier = 0;
  /** …and the analysis's frontier at the last update. */
  private srcFrontier = 0;
  private refreshedAt = -Infinity;

  /** True while a rebuild is spread over frames (the map needs more frames). */
  get rebuilding(): boolean {
    return this.back !== null;
  }

  /**
   * True while the layers shown lag behind the analysis (events arrived faster than a frame's
   * budget paints them): the map needs more frames, as during a rebuild.
   */
  get behind(): boolean {
    return this.back !== null || this.frontier < this.srcFrontier;
  }

  /**
   * True while the rebuild is what is shown, partly painted (new data: a cursor move, a new
   * layout), rather than a refresh behind a complete picture: the user is waiting for the rest.
   */
  get showingRebuild(): boolean {
    return this.back !== null && this.showBack;
  }

  /**
   * Brings the rasters up to date, within a frame's budget, and returns the layers to show.
   * `key` changes whenever the layout moves pixels; `owner` identifies the data (a new session
   * starts over). Every kind of painting shares the budget (events newly analysed, a rebuild's
   * live set, the events that arrived while it was painted): what does not fit waits for the
   * next frame (`behind`), so no frame paints a backlog at once.
   */
  update(
    l: BlockMapLayout,
    key: string,
    owner: unknown,
    src: PaintSource,
    now: number,
    /** At most this many blocks of a rebuild's live set a frame… */
    budget: number,
    /** …and at most this many ms of painting a frame (the clock read every 4,096 items). */
    budgetMs = Infinity,
  ): BlockLayers {
    if (owner !== this.owner || src.frontier < this.srcFrontier) {
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
    this.srcFrontier = src.frontier;
    const until = budgetMs === Infinity ? Infinity : performance.now() + budgetMs;
    if (this.showBack) {
      // The front's pixels are in the wrong places: it is replaced, not brought up to date.
      this.frontier = src.frontier;
    } else {
      this.front.ensure(l);
      this.front.paintSpans(l);
      this.frontier = paintEventsUntil(this.front, l, src, this.frontier, src.frontier, until);
    }
    const back = this.back;
    if (back) {
      back.ensure(l);
      const live = this.live as LiveArrays;
      const { addr, seq, packed } = live;
      const end = live.length;
      let j = this.next;
      let n = 0;
      while (j < end && n < budget) {
        if ((n & 4095) === 4095 && performance.now() > until) break;
        const p = packed[j] as number;
        back.paintBlock(
          l,
          addr[j] as number,
          packedSize(p),
          src.liveCodeOf(p),
          src.redZone(seq[j] as number),
        );
        j++;
        n++;
      }
      this.next = j;
      // The live set painted, the events since it was read follow in order: a block freed
      // meanwhile is cleared, one allocated is painted, as they happened.
      if (j >= end)
        this.backFrontier = paintEventsUntil(back, l, src, this.backFrontier, src.frontier, until);
      if (j >= end && this.backFrontier >= src.frontier) {
        this.spareLayers = this.front;
        this.front = back;
        this.frontier = this.backFrontier;
        this.back = null;
        if (this.live?.copy) this.spare = this.live;
        this.live = null;
        this.showBack = false;
        this.refreshedAt = now;
      }
    }
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
    this.backFrontier = src.frontier;
    this.next = 0;
    this.showBack = showBack;
  }
}

/**
 * Paints the events [from, to) into `layers`, slice by slice until the clock passes `until`
 * (at least one slice), and returns where it stopped.
 */
function paintEventsUntil(
  layers: BlockLayers,
  l: BlockMapLayout,
  src: PaintSource,
  from: number,
  to: number,
  until: number,
): number {
  let at = from;
  while (at < to) {
    const end = Math.min(to, at + EVENT_SLICE);
    layers.paintEvents(l, src, at, end);
    at = end;
    if (until !== Infinity && performance.now() > until) break;
  }
  return at;
}
