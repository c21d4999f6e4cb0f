import { describe, expect, it } from 'vitest';
import { flatColumn } from '../lib/chunkedColumn';
import { AddressSpans, layoutBlockMap } from './blockLayout';
import { BlockPainter, type PaintSource } from './blockPainter';

const ALLOC = 0;
const FREE = 2;

/** A tiny analysis: events appended in order, the live map kept as the real one is. */
function source() {
  const kind: number[] = [];
  const address: number[] = [];
  const size: number[] = [];
  const live = new Map<number, number>();
  const src: PaintSource & {
    live: Map<number, number>;
    alloc(a: number, n: number): void;
    free(a: number): void;
  } = {
    live,
    // A copy, as a posted ledger state is: frees after the rebuild started must still count.
    liveEntries: () => new Map(live).entries(),
    frontier: 0,
    kind: flatColumn(kind),
    address: flatColumn(address),
    size: flatColumn(size),
    allocKind: ALLOC,
    freeKind: FREE,
    liveCode: () => 5,
    redZone: () => 0,
    alloc(a, n) {
      kind.push(ALLOC);
      address.push(a);
      size.push(n);
      live.set(a, kind.length - 1);
      src.frontier = kind.length;
    },
    free(a) {
      const s = live.get(a) as number;
      kind.push(FREE);
      address.push(a);
      size.push(size[s] as number);
      live.delete(a);
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
    const frames: string[] = [];
    let layers = painter.update(l, 'k2', 'd', src, 2, 10);
    frames.push(pixels(layers.blocks.codes, n));
    while (painter.rebuilding) {
      layers = painter.update(l, 'k2', 'd', src, 3, 10);
      frames.push(pixels(layers.blocks.codes, n));
    }
    expect(frames.length).toBe(Math.ceil(src.live.size / 10));
    expect(frames[0]).not.toBe(incremental);
    expect(frames.at(-1)).toBe(incremental);
  });

  it('frees during a rebuild are honoured whether or not the iterator passed the block', () => {
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
});
