/**
 * Block-map geometry. The allocator's blocks can lie far apart (an arena, malloc's heap, mmap'd
 * large blocks), so a single linear min..max scale would shrink every block to a dot. Instead we
 * keep the address ranges ever touched, merged with some slack ("spans"), lay the spans out one
 * after another with a short separator, and wrap that line into rows like a hex dump. Inside a
 * span the scale is linear: `bytesPerPx` bytes per pixel, a power of two chosen so everything fits.
 */

export class AddressSpans {
  starts: number[] = [];
  ends: number[] = [];
  /** Bumped whenever a span is added or grows. */
  version = 0;
  constructor(readonly slack = 64 * 1024) {}

  get count(): number {
    return this.starts.length;
  }
  get min(): number {
    return this.starts[0] ?? 0;
  }
  get max(): number {
    return this.ends[this.ends.length - 1] ?? 0;
  }
  get totalBytes(): number {
    let n = 0;
    for (let i = 0; i < this.starts.length; i++)
      n += (this.ends[i] as number) - (this.starts[i] as number);
    return n;
  }

  /** Index of the span containing addr, or -1. */
  find(addr: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (addr < (this.starts[mid] as number)) hi = mid - 1;
      else if (addr >= (this.ends[mid] as number)) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  /** Adds [start, end); returns true when the spans changed. */
  add(start: number, end: number): boolean {
    if (end <= start) end = start + 1;
    const s = start - this.slack;
    const e = end + this.slack;
    // First span whose end ≥ s.
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.ends[mid] as number) < s) lo = mid + 1;
      else hi = mid;
    }
    let j = lo;
    let ns = start;
    let ne = end;
    while (j < this.starts.length && (this.starts[j] as number) <= e) {
      ns = Math.min(ns, this.starts[j] as number);
      ne = Math.max(ne, this.ends[j] as number);
      j++;
    }
    if (j === lo + 1 && ns === this.starts[lo] && ne === this.ends[lo]) return false;
    this.starts.splice(lo, j - lo, ns);
    this.ends.splice(lo, j - lo, ne);
    this.version++;
    return true;
  }

  clear(): void {
    this.starts = [];
    this.ends = [];
    this.version++;
  }
}

export interface BlockMapLayout {
  width: number;
  height: number;
  rowHeight: number;
  /** Pixels drawn per row (rowHeight minus the gap between rows). */
  barHeight: number;
  bytesPerPx: number;
  /** Per span: aligned start address and first linear pixel. */
  spanStart: number[];
  spanEnd: number[];
  spanPx: number[];
  /** Linear pixels used (spans + separators). */
  totalPx: number;
  rows: number;
  gapPx: number;
}

export interface LayoutOptions {
  rowHeight?: number;
  rowGap?: number;
  gapPx?: number;
}

/** Lays the spans out in a width × height box. */
export function layoutBlockMap(
  spans: AddressSpans,
  width: number,
  height: number,
  opts: LayoutOptions = {},
): BlockMapLayout {
  const rowHeight = opts.rowHeight ?? 10;
  const rowGap = opts.rowGap ?? 2;
  const gapPx = opts.gapPx ?? 12;
  const w = Math.max(1, Math.floor(width));
  const rowsAvail = Math.max(1, Math.floor(height / rowHeight));
  const capacity = rowsAvail * w;
  const n = spans.count;
  let bpp = 1;
  const pxFor = (b: number): number => {
    let total = Math.max(0, n - 1) * gapPx;
    for (let i = 0; i < n; i++) {
      const s = Math.floor((spans.starts[i] as number) / b) * b;
      total += Math.ceil(((spans.ends[i] as number) - s) / b);
    }
    return total;
  };
  while (bpp < 2 ** 52 && pxFor(bpp) > capacity) bpp *= 2;
  const spanStart: number[] = [];
  const spanEnd: number[] = [];
  const spanPx: number[] = [];
  let px = 0;
  for (let i = 0; i < n; i++) {
    const s = Math.floor((spans.starts[i] as number) / bpp) * bpp;
    const e = spans.ends[i] as number;
    spanStart.push(s);
    spanEnd.push(e);
    spanPx.push(px);
    px += Math.ceil((e - s) / bpp) + (i < n - 1 ? gapPx : 0);
  }
  return {
    width: w,
    height,
    rowHeight,
    barHeight: Math.max(1, rowHeight - rowGap),
    bytesPerPx: bpp,
    spanStart,
    spanEnd,
    spanPx,
    totalPx: px,
    rows: Math.ceil(px / w),
    gapPx,
  };
}

function spanIndex(l: BlockMapLayout, addr: number): number {
  let lo = 0;
  let hi = l.spanStart.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (addr < (l.spanStart[mid] as number)) hi = mid - 1;
    else if (addr >= (l.spanEnd[mid] as number)) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** Linear pixel of an address (fractional), or -1 when outside every span. */
export function addressToPx(l: BlockMapLayout, addr: number): number {
  const i = spanIndex(l, addr);
  if (i < 0) return -1;
  return (l.spanPx[i] as number) + (addr - (l.spanStart[i] as number)) / l.bytesPerPx;
}

/**
 * Appends the rectangles [x, y, w, h] covering [addr, addr + size) to `out` (wrapping over
 * rows). Every block is at least one pixel wide so it stays visible. Returns rects appended.
 */
export function blockRects(l: BlockMapLayout, addr: number, size: number, out: number[]): number {
  const i = spanIndex(l, addr);
  if (i < 0) return 0;
  const base = (l.spanPx[i] as number) - (l.spanStart[i] as number) / l.bytesPerPx;
  const p0 = Math.floor(base + addr / l.bytesPerPx);
  const p1 = Math.max(p0 + 1, Math.ceil(base + (addr + Math.max(1, size)) / l.bytesPerPx));
  let p = p0;
  let n = 0;
  while (p < p1) {
    const row = Math.floor(p / l.width);
    const x = p - row * l.width;
    const w = Math.min(p1 - p, l.width - x);
    out.push(x, row * l.rowHeight, w, l.barHeight);
    p += w;
    n++;
  }
  return n;
}

/** Address under pixel (x, y), or -1 over a separator or empty space. */
export function pxToAddress(l: BlockMapLayout, x: number, y: number): number {
  const row = Math.floor(y / l.rowHeight);
  if (row < 0 || x < 0 || x >= l.width || y - row * l.rowHeight >= l.barHeight) return -1;
  const p = row * l.width + Math.floor(x);
  // Last span whose first pixel ≤ p.
  let lo = 0;
  let hi = l.spanPx.length - 1;
  let k = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((l.spanPx[mid] as number) <= p) {
      k = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (k < 0) return -1;
  const addr = (l.spanStart[k] as number) + (p - (l.spanPx[k] as number)) * l.bytesPerPx;
  return addr < (l.spanEnd[k] as number) ? addr : -1;
}

/**
 * Pixel raster of the block map: one code per layout pixel (row-major, l.width × l.rows),
 * 0 = nothing. Drawing a million blocks as a million canvas rects costs hundreds of ms a frame;
 * writing their codes here costs O(blocks + pixels) and the canvas then gets one rect per run of
 * equal codes, which is bounded by the pixel count whatever the number of blocks.
 */
export class BlockRaster {
  codes = new Uint16Array(0);
  width = 0;
  rows = 0;

  reset(l: BlockMapLayout): void {
    const n = l.width * l.rows;
    if (this.codes.length < n) this.codes = new Uint16Array(n);
    else this.codes.fill(0, 0, n);
    this.width = l.width;
    this.rows = l.rows;
  }

  /**
   * Adopts a layout with the same width that may have more rows, keeping what is painted (a
   * growing last address range adds pixels at the end without moving any).
   */
  ensure(l: BlockMapLayout): void {
    const n = l.width * l.rows;
    if (this.codes.length < n) {
      const grown = new Uint16Array(Math.max(n, this.codes.length * 2));
      grown.set(this.codes.subarray(0, this.width * this.rows));
      this.codes = grown;
    } else if (l.rows < this.rows) this.codes.fill(0, n, this.width * this.rows);
    this.width = l.width;
    this.rows = l.rows;
  }

  /** Paints [addr, addr+size) with `code` (at least one pixel, like blockRects). */
  paint(l: BlockMapLayout, addr: number, size: number, code: number): void {
    const i = spanIndex(l, addr);
    if (i < 0) return;
    const base = (l.spanPx[i] as number) - (l.spanStart[i] as number) / l.bytesPerPx;
    const p0 = Math.max(0, Math.floor(base + addr / l.bytesPerPx));
    const p1 = Math.min(
      this.width * this.rows,
      Math.max(p0 + 1, Math.ceil(base + (addr + Math.max(1, size)) / l.bytesPerPx)),
    );
    if (p1 - p0 === 1) this.codes[p0] = code;
    else this.codes.fill(code, p0, p1);
  }

  /** Paints like paint(), but only over pixels whose code is below `below` (never over live). */
  paintUnder(l: BlockMapLayout, addr: number, size: number, code: number, below: number): void {
    const i = spanIndex(l, addr);
    if (i < 0) return;
    const base = (l.spanPx[i] as number) - (l.spanStart[i] as number) / l.bytesPerPx;
    const p0 = Math.max(0, Math.floor(base + addr / l.bytesPerPx));
    const p1 = Math.min(
      this.width * this.rows,
      Math.max(p0 + 1, Math.ceil(base + (addr + Math.max(1, size)) / l.bytesPerPx)),
    );
    const c = this.codes;
    for (let p = p0; p < p1; p++) if ((c[p] as number) < below) c[p] = code;
  }

  /** Clears every pixel whose code is below `below`. */
  clearBelow(below: number): void {
    const c = this.codes;
    const n = this.width * this.rows;
    for (let p = 0; p < n; p++) if ((c[p] as number) < below) c[p] = 0;
  }

  /** Calls fn for every run of equal non-zero codes, row by row. */
  forEachRun(fn: (row: number, x0: number, x1: number, code: number) => void): void {
    const { codes, width, rows } = this;
    for (let r = 0; r < rows; r++) {
      const o = r * width;
      let x = 0;
      while (x < width) {
        const c = codes[o + x] as number;
        let e = x + 1;
        while (e < width && codes[o + e] === c) e++;
        if (c !== 0) fn(r, x, e, c);
        x = e;
      }
    }
  }
}
