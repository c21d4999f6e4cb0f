import { describe, expect, it } from 'vitest';
import { flatColumn } from '../lib/chunkedColumn';
import { LiveSet } from '../../src-shared/ledger/ledger';
import { AddressSpans, layoutBlockMap } from './blockLayout';
import { BlockPainter, type PaintSource } from './blockPainter';

const ALLOC = 0;
const FREE = 2;

/**
 * A tiny analysis: events appended in order, the live set kept as the real one is (the ledger's
 * LiveSet). `sparse`: the rebuild reads a copy of its hash slots (empty slots between blocks), as
 * it does for "now"; else dense arrays, as a posted state's.
 */
function source(sparse = false) {
  const kind: number[] = [];
  const address: number[] = [];
  const size: number[] = [];
  const blocks = new LiveSet();
  const src: PaintSource & {
    blocks: LiveSet;
    alloc(a: number, n: number): void;
    free(a: number): void;
  } = {
    blocks,
    // A copy, as a posted ledger state is: frees after the rebuild started must still count.
    live: () => {
      const slots = blocks.slots();
      if (sparse) return slots;
      const n = blocks.size;
      const out = {
        addr: new Float64Array(n),
        seq: new Float64Array(n),
        packed: new Float64Array(n),
        sparse: false,
        zero: null,
      };
      let j = 0;
      blocks.forEach((a, q, p) => {
        out.addr[j] = a;
        out.seq[j] = q;
        out.packed[j++] = p;
      });
      return out;
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

  it("paints the same from a copy of the live set's slots (empty slots, a block at address 0) as from dense arrays", () => {
    const dense = source(false);
    const sparse = source(true);
    for (const src of [dense, sparse]) {
      src.alloc(0, 30); // address 0: kept beside the slots
      for (let a = 40; a < 4000; a += 40) src.alloc(a, 20);
      for (let a = 120; a < 4000; a += 120) src.free(a);
    }
    expect(sparse.live().addr.length).toBeGreaterThan(sparse.blocks.size); // there are empty slots
    const fromDense = rebuildFrames(new BlockPainter(), dense, 'k', 7);
    const fromSparse = rebuildFrames(new BlockPainter(), sparse, 'k', 7);
    // 7 blocks a frame either way (empty slots are not blocks), the same picture at the end.
    expect(fromSparse.length).toBe(fromDense.length);
    expect(fromDense.length).toBe(Math.ceil(dense.blocks.size / 7));
    expect(fromSparse.at(-1)).toBe(fromDense.at(-1));
    expect(fromDense.at(-1)?.[0]).toBe('x'); // the block at address 0 is drawn
  });
});
