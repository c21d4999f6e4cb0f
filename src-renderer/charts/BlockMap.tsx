/**
 * The allocator's address space: every live block at its address and size, coloured by the API
 * call or the walk class that allocated it; freed blocks fade out over the next FADE_EVENTS
 * events; guard red zones and violations are drawn in red. Far-apart address ranges are laid out
 * side by side (see data/blockLayout.ts) so that blocks stay visible.
 */
import { useRef, memo } from 'react';
import type { AllocatorOptions } from '../../src-shared/alloc/options';
import { apiRow, packedApiRow, packedClassRow } from '../../src-shared/ledger/ledger';
import { FADE_EVENTS, classSlot } from '../data/analysis';
import { blockRects, layoutBlockMap, pxToAddress, type BlockMapLayout } from '../data/blockLayout';
import { API_SHORT, CLASS_SLOT_LABELS, describeEvent } from '../data/eventText';
import { formatBytes, formatNs, hexNumber } from '../lib/format';
import { EventKind, FAULTY_BIT, StrategyId } from '../lib/traceEvents';
import { palette } from '../render/theme';
import { setText } from '../render/dom';
import { useRafCanvas } from '../render/useCanvas';
import { BlockPainter, type BlockLayers, type PaintSource } from '../data/blockPainter';
import { sessionData, type SessionData } from '../session/sessionData';
import { appStore, useApp } from '../store';

const ROW_H = 10;
/** Live blocks a frame repaints while the map is rebuilt (a layout change, a cursor move)… */
const REBUILD_BLOCKS_PER_FRAME = 400_000;
/** …and at most this many ms of painting a frame, of any kind (new events, a rebuild, its catch-up)… */
const REBUILD_MS = 6;
/**
 * …or this many while the time cursor is set: a state at the cursor is what the user waits
 * for, and it takes no new events (frames of a cursor move measured 8.5–9.5 ms p95 at 6 ms).
 */
const CURSOR_REBUILD_MS = 10;

/** Colour of a block by its Alloc event: the ledger's byApi / byClass row, as packed facts have it. */
function colourIndex(d: SessionData, seq: number, by: 'api' | 'class'): number {
  return by === 'api' ? apiRow(d.columns.api.get(seq)) : classSlot(d.columns.cls.get(seq));
}

/**
 * Freed blocks fade out over FADE_EVENTS events only while the walk runs and the map shows
 * "now": at the time cursor, or once the walk has ended, only live blocks are drawn.
 */
function showsFading(): boolean {
  const s = appStore.get();
  const st = s.session?.state;
  return s.timeCursor === null && (st === 'running' || st === 'paused' || st === 'starting');
}

/** The live block containing addr: [allocSeq] or -1. */
function blockAt(d: SessionData, addr: number): number {
  const A = d.columns.address;
  const S = d.columns.size;
  for (const [a, seq] of d.ledgerAt(appStore.get().timeCursor).live) {
    if (addr >= a && addr < a + Math.max(1, S.get(seq))) return seq;
  }
  // Recently freed blocks (drawn fading) can be hovered too.
  let found = -1;
  if (!showsFading()) return found;
  d.analysis.forEachFading((seq) => {
    if (found < 0) {
      const a = A.get(seq);
      if (addr >= a && addr < a + Math.max(1, S.get(seq))) found = seq;
    }
  });
  return found;
}

function redZoneOf(d: SessionData, seq: number, fallback: number): number {
  if ((d.columns.strategy.get(seq) & ~FAULTY_BIT) !== StrategyId.guard) return 0;
  return d.columns.aux0.get(seq) || fallback;
}

/** The red zone (bytes, rounded up to 16) of a guard allocator, faulty or not; else 0. */
function guardRedZoneOf(allocator: AllocatorOptions | null): number {
  const guard =
    allocator?.strategy === 'guard'
      ? allocator
      : allocator?.strategy === 'faulty' && allocator.inner.strategy === 'guard'
        ? allocator.inner
        : null;
  return guard ? Math.ceil(guard.redZoneBytes / 16) * 16 : 0;
}

/** A CSS colour as a little-endian RGBA pixel (ImageData's Uint32 layout), cached. */
const colourCache = new Map<string, number>();
let probe: CanvasRenderingContext2D | null = null;
export function cssColour(css: string): number {
  const hit = colourCache.get(css);
  if (hit !== undefined) return hit;
  probe ??= new OffscreenCanvas(1, 1).getContext('2d') as unknown as CanvasRenderingContext2D;
  probe.clearRect(0, 0, 1, 1);
  probe.fillStyle = css;
  probe.fillRect(0, 0, 1, 1);
  const [r = 0, g = 0, b = 0, a = 0] = probe.getImageData(0, 0, 1, 1).data;
  const px = ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;
  colourCache.set(css, px);
  return px;
}

/** `top` at `alpha` over the opaque-or-not `under` (both little-endian RGBA). */
function blend(top: number, under: number, alpha: number): number {
  const mix = (shift: number): number =>
    Math.round(((top >>> shift) & 255) * alpha + ((under >>> shift) & 255) * (1 - alpha));
  const ua = (under >>> 24) & 255;
  const a = Math.round(255 * alpha + ua * (1 - alpha));
  return ((a << 24) | (mix(16) << 16) | (mix(8) << 8) | mix(0)) >>> 0;
}

interface RasterState {
  image: ImageData | null;
  table: Uint32Array;
}

/** Pixel colour per raster code: 0 = span background, fading codes blended over it, live codes. */
function colourTable(
  r: RasterState,
  colours: readonly string[],
  grid: string,
  steps: number,
  live: number,
): Uint32Array {
  const n = live + colours.length;
  if (r.table.length !== n) r.table = new Uint32Array(n);
  const bg = cssColour(grid);
  r.table[0] = bg;
  colours.forEach((c, ci) => {
    const px = cssColour(c);
    for (let step = 0; step < steps; step++)
      r.table[1 + ci * steps + step] = blend(px, bg, 0.6 * (1 - (step + 0.5) / steps));
    r.table[live + ci] = px;
  });
  return r.table;
}

/** Writes the raster into an ImageData of the canvas's device size (rows repeat per bar). */
function composeBlockImage(
  r: RasterState,
  layers: BlockLayers,
  l: BlockMapLayout,
  dpr: number,
  table: Uint32Array,
  codes: number,
  zone: number,
): ImageData {
  const w = Math.max(1, Math.round(l.width * dpr));
  const h = Math.max(1, Math.round(l.rows * l.rowHeight * dpr));
  if (!r.image || r.image.width !== w || r.image.height !== h) r.image = new ImageData(w, h);
  const out = new Uint32Array(r.image.data.buffer);
  out.fill(0);
  const blocks = layers.blocks.codes;
  const spans = layers.spans.codes;
  const zones = layers.zones.codes;
  const lineFor = new Uint32Array(w);
  for (let row = 0; row < l.rows; row++) {
    const o = row * l.width;
    for (const lower of [false, true]) {
      for (let x = 0; x < w; x++) {
        const p = o + Math.min(l.width - 1, Math.floor(x / dpr));
        const c = blocks[p] as number;
        let px = c > 0 && c < codes ? (table[c] as number) : spans[p] ? (table[0] as number) : 0;
        if (lower && zone !== 0 && zones[p]) px = blend(zone, px, ((zone >>> 24) & 255) / 255);
        lineFor[x] = px;
      }
      const y0 = Math.round((row * l.rowHeight + (lower ? l.barHeight / 2 : 0)) * dpr);
      const y1 = Math.round((row * l.rowHeight + (lower ? l.barHeight : l.barHeight / 2)) * dpr);
      for (let y = y0; y < Math.min(y1, h); y++) out.set(lineFor, y * w);
    }
  }
  return r.image;
}

export const BlockMap = memo(function BlockMap() {
  const colorBy = useApp((s) => s.colorBy);
  // A number, not the allocator object: every state push brings a new SessionState (and a new
  // allocator object), which re-rendered the map ten times a second while events streamed.
  const guardFallback = useApp((s) => guardRedZoneOf(s.session?.allocator ?? null));
  const layout = useRef<BlockMapLayout | null>(null);
  const rasters = useRef({
    painter: new BlockPainter(),
    image: null as ImageData | null,
    table: new Uint32Array(0),
  });
  const baseDirty = useRef<(prompt?: boolean) => void>(() => undefined);
  const cursor = useApp((s) => s.timeCursor);
  const sessionState = useApp((s) => s.session?.state);
  const fadingLegend =
    cursor === null &&
    (sessionState === 'running' || sessionState === 'paused' || sessionState === 'starting');
  const hover = useRef<{ x: number; y: number } | null>(null);
  const tooltip = useRef<HTMLDivElement | null>(null);
  const info = useRef<HTMLDivElement | null>(null);
  const panel = useRef<HTMLDivElement | null>(null);

  const { ref: baseRef, markDirty: markBase } = useRafCanvas(
    ['events', 'theme', 'layout', 'cursor'],
    (ctx, width, height) => {
      const p = palette();
      const d = sessionData();
      ctx.font = p.font;
      if (!d || d.analysis.spans.count === 0) {
        layout.current = null;
        ctx.fillStyle = p.muted;
        ctx.fillText(
          'No blocks yet: every block the walk allocates appears here at its address.',
          8,
          20,
        );
        setText(info.current, '');
        return;
      }
      const by = appStore.get().colorBy;
      let l = layoutBlockMap(d.analysis.spans, width, height, {
        rowHeight: ROW_H,
        rowGap: 2,
        gapPx: 14,
      });
      // Few rows: make them taller (same scale, since the rows still fit).
      const taller = Math.min(28, Math.floor(height / Math.max(1, l.rows)));
      if (taller > ROW_H)
        l = layoutBlockMap(d.analysis.spans, width, height, {
          rowHeight: taller,
          rowGap: 2,
          gapPx: 14,
        });
      layout.current = l;
      setText(
        info.current,
        `${hexNumber(d.analysis.spans.min)} – ${hexNumber(d.analysis.spans.max)} · ${d.analysis.spans.count} range${d.analysis.spans.count === 1 ? '' : 's'} · ${formatBytes(l.bytesPerPx)}/px`,
      );
      const tmp: number[] = [];
      const colours = by === 'api' ? p.api : p.cls;
      const A = d.columns.address;
      const S = d.columns.size;
      // Blocks are rasterized (one code per layout pixel) and drawn as runs, so the cost is
      // bounded by the pixels, not by the number of blocks (a long walk has hundreds of thousands).
      // Codes: fading freed blocks 1 + colour × FADE_STEPS + step; live blocks LIVE + colour.
      const FADE_STEPS = 6;
      const LIVE = 1 + colours.length * FADE_STEPS;
      const r = rasters.current;
      const a = d.analysis;
      const cursor = appStore.get().timeCursor;
      const shown = d.ledgerAt(cursor);
      // What moves pixels: scale, width, row height, where each range starts. A range that only
      // grows at its end (a heap growing upward) keeps every painted pixel in place.
      let key = `${l.width}:${l.rowHeight}:${l.bytesPerPx}:${by}:${guardFallback}`;
      for (let i = 0; i < l.spanStart.length; i++) key += `|${l.spanStart[i]}@${l.spanPx[i]}`;
      if (l.spanStart.length > 1) key += `|${l.spanEnd[l.spanStart.length - 2]}`;
      const src: PaintSource = {
        // Read only when a rebuild starts (a posted state's own arrays: no live set is built).
        live: (reuse) => shown.liveArrays(reuse),
        frontier: shown.events,
        kind: d.columns.kind,
        address: A,
        size: S,
        allocKind: EventKind.Alloc,
        freeKind: EventKind.Free,
        liveCode: (seq) => LIVE + colourIndex(d, seq, by),
        liveCodeOf: (packed) =>
          LIVE + (by === 'api' ? packedApiRow(packed) : packedClassRow(packed)),
        redZone: (seq) => redZoneOf(d, seq, guardFallback),
      };
      // Moving the cursor is new data (a rebuild from that state's live set); "now" is the
      // session's data, painted incrementally as events are analysed.
      const owner = shown === a.ledger ? d : shown;
      const layers = r.painter.update(
        l,
        key,
        owner,
        src,
        performance.now(),
        REBUILD_BLOCKS_PER_FRAME,
        cursor === null ? REBUILD_MS : CURSOR_REBUILD_MS,
      );
      // The rest of a time-cursor state being painted is drawn in the next frame (each frame
      // paints at most CURSOR_REBUILD_MS of it): the user moved the cursor and waits for it. While
      // events stream in ("now"), the events a frame had no time for, rebuilds (the address
      // ranges grew) and refreshes wait like any expensive draw, so streaming frames stay short.
      if (r.painter.behind) baseDirty.current(r.painter.showingRebuild && cursor !== null);
      // What is drawn, for tests and tools: the state's event count, live set and completeness.
      const el = panel.current;
      if (el) {
        const set = (k: string, v: string): void => {
          if (el.dataset[k] !== v) el.dataset[k] = v; // no attribute churn while nothing changes
        };
        set('events', String(shown.events));
        set('liveBlocks', String(shown.liveBlockCount));
        set('liveBytes', String(shown.liveBytes));
        set('complete', String(!r.painter.behind));
      }
      // Fading blocks (at most a few thousand) are repainted every frame, under the live ones.
      const blocks = layers.blocks;
      blocks.clearBelow(LIVE);
      const fading = showsFading();
      if (fading)
        a.forEachFading((seq, age) => {
          const step = Math.min(FADE_STEPS - 1, Math.floor(age * FADE_STEPS));
          blocks.paintUnder(
            l,
            A.get(seq),
            S.get(seq),
            1 + colourIndex(d, seq, by) * FADE_STEPS + step,
            LIVE,
          );
        });
      // Compose the pixels: one ImageData write per device pixel (cost bounded by the canvas size,
      // whatever the number of blocks), then the violations are stroked on top.
      const dpr = window.devicePixelRatio || 1;
      const table = colourTable(r, colours, p.grid, FADE_STEPS, LIVE);
      const img = composeBlockImage(
        r,
        layers,
        l,
        dpr,
        table,
        LIVE + colours.length,
        layers.anyZone ? cssColour(p.redZone) : 0,
      );
      ctx.putImageData(img, 0, 0);
      // Violations that name an address.
      const v = d.analysis.addressedViolations;
      ctx.strokeStyle = p.danger;
      ctx.lineWidth = 2;
      for (let i = 0; i < v.length; i++) {
        const seq = v.get(i);
        if (seq >= shown.events) break; // after the cursor: not happened yet
        tmp.length = 0;
        blockRects(l, A.get(seq), Math.max(1, S.get(seq)), tmp);
        for (let k = 0; k < tmp.length; k += 4) {
          const x = tmp[k] as number;
          const y = tmp[k + 1] as number;
          ctx.strokeRect(
            x - 1,
            y - 1,
            Math.max(3, (tmp[k + 2] as number) + 2),
            (tmp[k + 3] as number) + 2,
          );
        }
      }
    },
  );

  baseDirty.current = markBase;

  const { ref: overlayRef, markDirty: markOverlay } = useRafCanvas(
    ['events', 'selection', 'hover', 'theme', 'layout', 'cursor'],
    (ctx, width) => {
      const p = palette();
      const d = sessionData();
      const l = layout.current;
      const tip = tooltip.current;
      if (!d || !l) {
        if (tip) tip.hidden = true;
        return;
      }
      const outline = (seq: number, colour: string): void => {
        const tmp: number[] = [];
        blockRects(l, d.columns.address.get(seq), Math.max(1, d.columns.size.get(seq)), tmp);
        ctx.strokeStyle = colour;
        ctx.lineWidth = 2;
        for (let k = 0; k < tmp.length; k += 4)
          ctx.strokeRect(
            (tmp[k] as number) - 1.5,
            (tmp[k + 1] as number) - 1.5,
            Math.max(4, (tmp[k + 2] as number) + 3),
            (tmp[k + 3] as number) + 3,
          );
      };
      const sel = appStore.get().selectedSeq;
      if (sel !== null && sel < d.columns.length && d.columns.address.get(sel) !== 0)
        outline(sel, p.selection);
      const h = hover.current;
      if (!h) {
        if (tip) tip.hidden = true;
        return;
      }
      const addr = pxToAddress(l, h.x, h.y);
      const seq = addr >= 0 ? blockAt(d, addr) : -1;
      if (!tip) return;
      if (addr < 0) {
        tip.hidden = true;
        return;
      }
      tip.hidden = false;
      if (seq < 0) {
        tip.textContent = `${hexNumber(addr)} · no live block`;
      } else {
        outline(seq, p.fg);
        const live =
          d.ledgerAt(appStore.get().timeCursor).live.get(d.columns.address.get(seq)) === seq;
        tip.textContent = `${hexNumber(d.columns.address.get(seq))} · ${formatBytes(d.columns.size.get(seq))} · ${live ? 'live' : 'freed'} · at ${formatNs(d.columns.timeNs.get(seq))}\n${describeEvent(d.columns, seq)}`;
      }
      tip.style.left = `${Math.max(0, Math.min(h.x + 14, width - 340))}px`;
      tip.style.top = `${h.y + 14}px`;
    },
    () => hover.current !== null || appStore.get().selectedSeq !== null,
  );

  const legend =
    colorBy === 'api'
      ? [1, 2, 3, 4, 5, 6].map((i) => [i, API_SHORT[i] ?? ''])
      : [3, 2, 1, 0, 5].map((i) => [i, CLASS_SLOT_LABELS[i] ?? '']);

  return (
    <div className="chart-panel" data-testid="block-map" ref={panel}>
      <div className="chart-head">
        <span className="chart-title">Block map</span>
        <span className="seg" role="group" aria-label="Colour blocks by">
          <button
            className={colorBy === 'api' ? 'on' : ''}
            onClick={() => useApp.getState().setColorBy('api')}
            data-testid="blockmap-color-api"
          >
            by API
          </button>
          <button
            className={colorBy === 'class' ? 'on' : ''}
            onClick={() => useApp.getState().setColorBy('class')}
            data-testid="blockmap-color-class"
          >
            by class
          </button>
        </span>
        <span className="legend">
          {legend.map(([i, name]) => (
            <span key={String(i)}>
              <i className={`sw ${colorBy === 'api' ? 'api' : 'cls'}-${i}`} />
              {name}
            </span>
          ))}
          {guardFallback > 0 && (
            <span>
              <i className="sw sw-redzone" />
              red zone {guardFallback} B
            </span>
          )}
          <span>
            <i className="sw sw-viol-outline" />
            violation
          </span>
          {fadingLegend ? (
            <span
              data-testid="blockmap-fading-legend"
              title={`Blocks freed in the last ${FADE_EVENTS.toLocaleString('en-US')} events are drawn pale and fade out; they are not live`}
            >
              <i className="sw sw-fading" />
              recently freed (fading)
            </span>
          ) : (
            <span data-testid="blockmap-live-legend" className="muted">
              live blocks only{cursor !== null ? ' · at the time cursor' : ''}
            </span>
          )}
        </span>
      </div>
      <div
        className="canvas-stack"
        onMouseMove={(e) => {
          const r = e.currentTarget.getBoundingClientRect();
          hover.current = { x: e.clientX - r.left, y: e.clientY - r.top };
          markOverlay();
        }}
        onMouseLeave={() => {
          hover.current = null;
          markOverlay();
        }}
        onClick={(e) => {
          const d = sessionData();
          const l = layout.current;
          if (!d || !l) return;
          const r = e.currentTarget.getBoundingClientRect();
          const addr = pxToAddress(l, e.clientX - r.left, e.clientY - r.top);
          const seq = addr >= 0 ? blockAt(d, addr) : -1;
          if (seq >= 0) appStore.get().selectSeq(seq);
        }}
      >
        <canvas ref={baseRef} className="layer" data-testid="blockmap-canvas" />
        <canvas ref={overlayRef} className="layer" />
        <div className="chart-tooltip" ref={tooltip} hidden data-testid="blockmap-tooltip" />
      </div>
      <div className="chart-foot muted small mono" ref={info} data-testid="blockmap-range" />
    </div>
  );
});
