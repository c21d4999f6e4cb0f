import { describe, expect, it } from 'vitest';
import { flatColumn } from '../lib/chunkedColumn';
import { LiveSet, type LiveArrays } from '../../src-shared/ledger/ledger';
import { AddressSpans, layoutBlockMap } from './blockLayout';
import { BlockPainter, EVENT_SLICE, type PaintSource } from './blockPainter';

const ALLOC = 0;
const FREE = 2;

/**
 * A tiny analysis: events appended in order, the live set kept as the real one is (the ledger's
 * LiveSet). The rebuild reads a copy of it, as it does for "now"; `posted`: arrays of its own,
 * as a posted time-cursor state's (never to be written).
 */
function source(posted = false) {
  const kind: number[] = [];
  const address: number[] = [];
  const size: number[] = [];
  const blocks = new LiveSet();
  const src: PaintSource & {
    blocks: LiveSet;
    copies: LiveArrays[];
    alloc(a: number, n: number): void;
    free(a: number): void;
  } = {
    blocks,
    copies: [],
    live: (reuse) => {
      const c = blocks.copyInto(reuse);
      src.copies.push(c);
      return posted ? { ...c, copy: false } : c;
    },
    frontier: 0,
    kind: flatColumn(kind),
    address: flatColumn(address),
    size: flatColumn(size),
    allocKind: ALLOC,
    freeKind: FREE,
    liveCode: () => 5,
    liveCodeOf: () => 5,
    redZone: () => 0,
    alloc(a, n) {
      kind.push(ALLOC);
      address.push(a);
      size.push(n);
      blocks.set(a, kind.length - 1, n * 64);
      src.frontier = kind.length;
    },
    free(a) {
      const s = blocks.get(a) as number;
      kind.push(FREE);
      address.push(a);
      size.push(size[s] as number);
      blocks.take(a);
      src.frontier = kind.length;
    },
  };
  return src;
}

function pixels(codes: Uint16Array, n: number): string {
  return Array.from(codes.subarray(0, n), (c) => (c ? 'x' : '.')).join('');
}

describe('BlockPainter', () => {
  const spans = new AddressSpans(0);
  spans.add(0, 4000);
  const l = layoutBlockMap(spans, 100, 1000, { rowHeight: 10, rowGap: 2 });
  const n = l.width * l.rows;

  /** The pictures shown frame after frame until a rebuild (started by `key`) is complete. */
  function rebuildFrames(
    painter: BlockPainter,
    src: PaintSource,
    key: string,
    perFrame: number,
  ): string[] {
    const frames: string[] = [];
    let now = 10;
    do {
      const layers = painter.update(l, key, 'd', src, now++, perFrame);
      frames.push(pixels(layers.blocks.codes, n));
    } while (painter.rebuilding);
    return frames;
  }

  it('incremental updates draw what a full rebuild draws; rebuilds spread over frames', () => {
    const src = source();
    const painter = new BlockPainter();
    // First frame: a rebuild of an empty set completes at once.
    painter.update(l, 'k', 'd', src, 0, 10);
    for (let a = 0; a < 4000; a += 40) src.alloc(a, 20);
    for (let a = 0; a < 4000; a += 120) src.free(a);
    const inc = painter.update(l, 'k', 'd', src, 1, 10);
    expect(painter.rebuilding).toBe(false);
    const incremental = pixels(inc.blocks.codes, n);
    // Same data, new layout key: rebuilt 10 blocks a frame, the partial raster is shown.
    const frames = rebuildFrames(painter, src, 'k2', 10);
    expect(frames.length).toBe(Math.ceil(src.blocks.size / 10));
    expect(frames[0]).not.toBe(incremental);
    expect(frames.at(-1)).toBe(incremental);
  });

  it('frees during a rebuild are honoured whether or not the rebuild passed the block', () => {
    const src = source();
    const painter = new BlockPainter();
    for (let a = 0; a < 4000; a += 40) src.alloc(a, 20);
    painter.update(l, 'k', 'd', src, 0, 5); // rebuild starts (new owner)
    src.free(0); // already painted by the rebuild
    src.free(3960); // not reached yet
    src.alloc(3970, 10);
    let layers = painter.update(l, 'k', 'd', src, 1, 5);
    while (painter.rebuilding) layers = painter.update(l, 'k', 'd', src, 2, 5);
    const fresh = new BlockPainter();
    let expected = fresh.update(l, 'k', 'other', src, 0, 1e9);
    expected = fresh.update(l, 'k', 'other', src, 1, 1e9);
    expect(pixels(layers.blocks.codes, n)).toBe(pixels(expected.blocks.codes, n));
  });

  it("a copy of the live set is filled again by the next rebuild; a posted state's arrays never are", () => {
    for (const posted of [false, true]) {
      const src = source(posted);
      const painter = new BlockPainter();
      for (let a = 0; a < 4000; a += 40) src.alloc(a, 20);
      rebuildFrames(painter, src, 'k', 7);
      for (let a = 0; a < 4000; a += 120) src.free(a);
      src.alloc(0, 30); // address 0 is a block like any other
      const second = rebuildFrames(painter, src, 'k2', 7).at(-1);
      const [c1, c2] = src.copies;
      expect(c2?.addr === c1?.addr).toBe(!posted);
      // The picture is the live set's, whichever arrays it was read from: a painter that never
      // rebuilt before draws the same.
      expect(rebuildFrames(new BlockPainter(), src, 'k2', 1e9).at(-1)).toBe(second);
      expect(second?.[0]).toBe('x'); // the block at address 0 is drawn
      expect(second?.slice(40, 48)).toBe('xxxxxxxx'); // a block live since the first rebuild
    }
  });

  it('paints at most a slice of events a frame past its budget, and catches up to the same picture', () => {
    const src = source();
    const painter = new BlockPainter();
    painter.update(l, 'k', 'd', src, 0, 1e9, 0);
    // 3 slices + 1 event: allocations and frees of the same addresses, so order matters.
    for (let i = 0; src.frontier < 3 * EVENT_SLICE + 1; i++) {
      const a = (i * 40) % 4000;
      if (src.blocks.get(a) === undefined) src.alloc(a, 20);
      else src.free(a);
    }
    let frames = 0;
    let layers = painter.update(l, 'k', 'd', src, 1, 1e9, 0);
    frames++;
    expect(painter.behind).toBe(true);
    while (painter.behind) {
      layers = painter.update(l, 'k', 'd', src, 1, 1e9, 0);
      frames++;
    }
    // One slice a frame: a zero budget still makes progress.
    expect(frames).toBe(Math.ceil(src.frontier / EVENT_SLICE));
    const fresh = rebuildFrames(new BlockPainter(), src, 'k', 1e9).at(-1);
    expect(pixels(layers.blocks.codes, n)).toBe(fresh);
  });

  it("a rebuild's live set is followed by the events analysed while it was painted, in order", () => {
    const src = source();
    const painter = new BlockPainter();
    for (let a = 0; a < 4000; a += 40) src.alloc(a, 20);
    painter.update(l, 'k', 'd', src, 0, 1e9);
    painter.update(l, 'k2', 'd', src, 1, 10); // a new layout: 10 live blocks a frame
    for (let round = 0; painter.rebuilding; round++) {
      // Frees and allocations of the same addresses arrive between the rebuild's frames.
      const a = (round * 80) % 4000;
      if (src.blocks.get(a) === undefined) src.alloc(a, 30);
      else src.free(a);
      painter.update(l, 'k2', 'd', src, 2, 10);
    }
    const shown = painter.update(l, 'k2', 'd', src, 3, 10);
    expect(painter.behind).toBe(false);
    expect(pixels(shown.blocks.codes, n)).toBe(
      rebuildFrames(new BlockPainter(), src, 'k2', 1e9).at(-1),
    );
  });
});
