/**
 * The allocator's address space: every live block at its address and size, coloured by the API
 * call or the walk class that allocated it; freed blocks fade out over the next FADE_EVENTS
 * events; guard red zones and violations are drawn in red. Far-apart address ranges are laid out
 * side by side (see data/blockLayout.ts) so that blocks stay visible.
 */
import { useRef, memo } from 'react';
import { classSlot } from '../data/analysis';
import { blockRects, layoutBlockMap, pxToAddress, type BlockMapLayout } from '../data/blockLayout';
import { API_SHORT, CLASS_SLOT_LABELS, describeEvent } from '../data/eventText';
import { formatBytes, formatNs, hexNumber } from '../lib/format';
import { FAULTY_BIT, StrategyId } from '../lib/traceEvents';
import { palette } from '../render/theme';
import { useRafCanvas } from '../render/useCanvas';
import { sessionData, type SessionData } from '../session/sessionData';
import { appStore, useApp } from '../store';

const ROW_H = 10;

function colourIndex(d: SessionData, seq: number, by: 'api' | 'class'): number {
  return by === 'api' ? (d.columns.api[seq] as number) : classSlot(d.columns.cls[seq] as number);
}

/** The live block containing addr: [allocSeq] or -1. */
function blockAt(d: SessionData, addr: number): number {
  const A = d.columns.address;
  const S = d.columns.size;
  for (const [a, seq] of d.analysis.live) {
    if (addr >= a && addr < a + Math.max(1, S[seq] as number)) return seq;
  }
  // Recently freed blocks can be hovered too.
  let found = -1;
  d.analysis.forEachFading((seq) => {
    if (found < 0) {
      const a = A[seq] as number;
      if (addr >= a && addr < a + Math.max(1, S[seq] as number)) found = seq;
    }
  });
  return found;
}

function redZoneOf(d: SessionData, seq: number, fallback: number): number {
  if (((d.columns.strategy[seq] as number) & ~FAULTY_BIT) !== StrategyId.guard) return 0;
  return (d.columns.aux0[seq] as number) || fallback;
}

export const BlockMap = memo(function BlockMap() {
  const colorBy = useApp((s) => s.colorBy);
  const allocator = useApp((s) => s.session?.allocator ?? null);
  const layout = useRef<BlockMapLayout | null>(null);
  const hover = useRef<{ x: number; y: number } | null>(null);
  const tooltip = useRef<HTMLDivElement | null>(null);
  const info = useRef<HTMLDivElement | null>(null);
  const guardFallback =
    allocator?.strategy === 'guard'
      ? Math.ceil(allocator.redZoneBytes / 16) * 16
      : allocator?.strategy === 'faulty' && allocator.inner.strategy === 'guard'
        ? Math.ceil(allocator.inner.redZoneBytes / 16) * 16
        : 0;

  const { ref: baseRef } = useRafCanvas(['events', 'theme', 'layout'], (ctx, width, height) => {
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
      if (info.current) info.current.textContent = '';
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
    if (info.current) {
      info.current.textContent = `${hexNumber(d.analysis.spans.min)} – ${hexNumber(d.analysis.spans.max)} · ${d.analysis.spans.count} range${d.analysis.spans.count === 1 ? '' : 's'} · ${formatBytes(l.bytesPerPx)}/px`;
    }
    // Address ranges (the background the blocks sit on).
    ctx.fillStyle = p.grid;
    const tmp: number[] = [];
    for (let i = 0; i < l.spanStart.length; i++) {
      tmp.length = 0;
      blockRects(
        l,
        l.spanStart[i] as number,
        (l.spanEnd[i] as number) - (l.spanStart[i] as number),
        tmp,
      );
      for (let k = 0; k < tmp.length; k += 4)
        ctx.fillRect(
          tmp[k] as number,
          tmp[k + 1] as number,
          tmp[k + 2] as number,
          tmp[k + 3] as number,
        );
    }
    const colours = by === 'api' ? p.api : p.cls;
    const A = d.columns.address;
    const S = d.columns.size;
    // Fading freed blocks: one path per colour and alpha step.
    const FADE_STEPS = 6;
    const fading: number[][] = Array.from({ length: colours.length * FADE_STEPS }, () => []);
    d.analysis.forEachFading((seq, age) => {
      const step = Math.min(FADE_STEPS - 1, Math.floor(age * FADE_STEPS));
      const g = fading[colourIndex(d, seq, by) * FADE_STEPS + step];
      if (g) blockRects(l, A[seq] as number, S[seq] as number, g);
    });
    fading.forEach((g, k) => {
      if (g.length === 0) return;
      const step = k % FADE_STEPS;
      ctx.globalAlpha = 0.6 * (1 - (step + 0.5) / FADE_STEPS);
      ctx.fillStyle = colours[Math.floor(k / FADE_STEPS)] ?? p.muted;
      ctx.beginPath();
      for (let q = 0; q < g.length; q += 4)
        ctx.rect(g[q] as number, g[q + 1] as number, g[q + 2] as number, g[q + 3] as number);
      ctx.fill();
    });
    ctx.globalAlpha = 1;
    // Live blocks, one path per colour.
    const groups: number[][] = colours.map(() => []);
    const zones: number[] = [];
    for (const [addr, seq] of d.analysis.live) {
      const g = groups[colourIndex(d, seq, by)] ?? groups[0];
      if (!g) continue;
      const size = S[seq] as number;
      blockRects(l, addr, size, g);
      const rz = redZoneOf(d, seq, guardFallback);
      if (rz > 0) {
        blockRects(l, addr - rz, rz, zones);
        blockRects(l, addr + size, rz, zones);
      }
    }
    groups.forEach((g, ci) => {
      if (g.length === 0) return;
      ctx.fillStyle = colours[ci] ?? p.muted;
      ctx.beginPath();
      for (let k = 0; k < g.length; k += 4)
        ctx.rect(g[k] as number, g[k + 1] as number, g[k + 2] as number, g[k + 3] as number);
      ctx.fill();
    });
    if (zones.length) {
      // Red zones as a lower-half stripe, so blocks stay distinguishable from their guards.
      for (let k = 0; k < zones.length; k += 4) {
        const half = (zones[k + 3] as number) / 2;
        zones[k + 1] = (zones[k + 1] as number) + half;
        zones[k + 3] = half;
      }
      ctx.fillStyle = p.redZone;
      ctx.beginPath();
      for (let k = 0; k < zones.length; k += 4)
        ctx.rect(
          zones[k] as number,
          zones[k + 1] as number,
          zones[k + 2] as number,
          zones[k + 3] as number,
        );
      ctx.fill();
    }
    // Violations that name an address.
    const v = d.analysis.addressedViolations;
    ctx.strokeStyle = p.danger;
    ctx.lineWidth = 2;
    for (let i = 0; i < v.length; i++) {
      const seq = v.get(i);
      tmp.length = 0;
      blockRects(l, A[seq] as number, Math.max(1, S[seq] as number), tmp);
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
  });

  const { ref: overlayRef, markDirty: markOverlay } = useRafCanvas(
    ['events', 'selection', 'hover', 'theme', 'layout'],
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
        blockRects(
          l,
          d.columns.address[seq] as number,
          Math.max(1, d.columns.size[seq] as number),
          tmp,
        );
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
      if (sel !== null && sel < d.columns.length && (d.columns.address[sel] as number) !== 0)
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
        const live = d.analysis.live.get(d.columns.address[seq] as number) === seq;
        tip.textContent = `${hexNumber(d.columns.address[seq] as number)} · ${formatBytes(d.columns.size[seq] as number)} · ${live ? 'live' : 'freed'} · at ${formatNs(d.columns.timeNs[seq] as number)}\n${describeEvent(d.columns, seq)}`;
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
    <div className="chart-panel" data-testid="block-map">
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
