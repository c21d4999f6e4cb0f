/**
 * The address space as one wrapped line of regions (VMMap's fragmentation view), coloured by
 * type. Linear scale shows true proportions; log scale gives every region a visible width.
 * Hover names the region; click selects it in the table.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { useLatest } from '../components/hooks';
import { MemState } from '../../src-shared/pss/constants';
import type { VaSpaceEntry } from '../../src-shared/pss/entries';
import {
  categoryOf,
  categorySlug,
  lineIndexAt,
  protectLabel,
  REGION_CATEGORIES,
  stateLabel,
  vaLine,
  type VaScale,
} from '../data/vaSummary';
import { formatBytes } from '../lib/format';
import { palette } from '../render/theme';
import { useRafCanvas } from '../render/useCanvas';

const ROW_H = 18;
const GAP = 3;

export function VaMap({
  regions,
  version,
  selected,
  onSelect,
}: {
  regions: readonly VaSpaceEntry[];
  /** Changes when rows are appended to `regions` in place. */
  version: number;
  selected: number | null;
  onSelect: (row: number) => void;
}) {
  const [scale, setScale] = useState<VaScale>('log');
  const [showFree, setShowFree] = useState(false);
  const order = useMemo(() => {
    void version;
    const idx: number[] = [];
    regions.forEach((r, i) => {
      if (showFree || r.state !== MemState.FREE) idx.push(i);
    });
    return Uint32Array.from(idx);
  }, [regions, showFree, version]);
  const line = useMemo(() => vaLine(regions, order, scale), [regions, order, scale]);
  const hover = useRef<{ x: number; y: number } | null>(null);
  const tooltip = useRef<HTMLDivElement | null>(null);
  const geom = useRef({ width: 1, rows: 1 });
  const state = useLatest({ regions, order, line, selected });

  const posAt = (x: number, y: number): number => {
    const { width, rows } = geom.current;
    const row = Math.floor(y / ROW_H);
    if (row < 0 || row >= rows || y - row * ROW_H > ROW_H - GAP) return -1;
    const total = state.current.line[state.current.order.length] ?? 0;
    return ((row * width + x) / (rows * width)) * total;
  };

  const { ref: canvasRef, markDirty: markCanvas } = useRafCanvas(
    ['snapshot', 'theme', 'hover'],
    (ctx, width, height) => {
      const p = palette();
      const { regions: rs, order: ord, line: ln, selected: sel } = state.current;
      const n = ord.length;
      ctx.font = p.font;
      if (n === 0) {
        ctx.fillStyle = p.muted;
        ctx.fillText('No regions.', 8, 16);
        return;
      }
      const rows = Math.max(1, Math.floor(height / ROW_H));
      geom.current = { width, rows };
      const total = ln[n] as number;
      const pxPer = (rows * width) / total;
      const draw = (start: number, end: number, colour: string, stroke = false): void => {
        let p0 = start * pxPer;
        const p1 = Math.max(p0 + 1, end * pxPer);
        ctx.fillStyle = colour;
        ctx.strokeStyle = colour;
        while (p0 < p1 - 0.01) {
          const row = Math.floor(p0 / width);
          const x = p0 - row * width;
          const w = Math.min(p1 - p0, width - x);
          if (stroke) ctx.strokeRect(x + 1, row * ROW_H + 1, Math.max(2, w - 2), ROW_H - GAP - 2);
          else ctx.fillRect(x, row * ROW_H, Math.max(1, w - (w > 3 ? 1 : 0)), ROW_H - GAP);
          p0 += w;
        }
      };
      for (let i = 0; i < n; i++) {
        const r = rs[ord[i] as number] as VaSpaceEntry;
        const c = p.region[categoryOf(r)] ?? p.muted;
        draw(ln[i] as number, ln[i + 1] as number, r.state === MemState.RESERVE ? `${c}66` : c);
      }
      ctx.lineWidth = 2;
      if (sel !== null) {
        const i = ord.indexOf(sel);
        if (i >= 0) draw(ln[i] as number, ln[i + 1] as number, p.selection, true);
      }
      const h = hover.current;
      const tip = tooltip.current;
      if (!tip) return;
      const k = h ? lineIndexAt(ln, posAt(h.x, h.y)) : -1;
      if (!h || k < 0) {
        tip.hidden = true;
        return;
      }
      const r = rs[ord[k] as number] as VaSpaceEntry;
      draw(ln[k] as number, ln[k + 1] as number, p.fg, true);
      tip.hidden = false;
      tip.textContent = `${r.baseAddress} · ${formatBytes(r.regionSize)} · ${categoryOf(r)} · ${stateLabel(r.state)}${r.state === MemState.COMMIT ? ` · ${protectLabel(r.protect)}` : ''}${r.mappedFileName ? `\n${r.mappedFileName}` : ''}`;
      tip.style.left = `${Math.max(0, Math.min(h.x + 14, width - 340))}px`;
      tip.style.top = `${h.y + 14}px`;
    },
  );

  useEffect(() => markCanvas(), [regions, order, line, selected, markCanvas]);

  return (
    <div className="chart-panel va-map" data-testid="va-map">
      <div className="chart-head">
        <span className="chart-title">Address space</span>
        <span className="seg">
          <button
            className={scale === 'log' ? 'on' : ''}
            onClick={() => {
              setScale('log');
              markCanvas();
            }}
            data-testid="va-scale-log"
            title="Width ∝ log₂(size): every region visible"
          >
            log
          </button>
          <button
            className={scale === 'linear' ? 'on' : ''}
            onClick={() => {
              setScale('linear');
              markCanvas();
            }}
            data-testid="va-scale-linear"
            title="Width ∝ size: true proportions"
          >
            linear
          </button>
        </span>
        <label className="check small">
          <input
            type="checkbox"
            checked={showFree}
            onChange={(e) => {
              setShowFree(e.target.checked);
              markCanvas();
            }}
            data-testid="va-show-free"
          />
          free regions
        </label>
        <span className="legend">
          {REGION_CATEGORIES.filter((c) => c !== 'Other').map((c) => (
            <span key={c}>
              <i className={`sw rg-${categorySlug(c)}`} />
              {c}
            </span>
          ))}
        </span>
      </div>
      <div
        className="canvas-stack"
        onMouseMove={(e) => {
          const r = e.currentTarget.getBoundingClientRect();
          hover.current = { x: e.clientX - r.left, y: e.clientY - r.top };
          markCanvas();
        }}
        onMouseLeave={() => {
          hover.current = null;
          markCanvas();
        }}
        onClick={(e) => {
          const r = e.currentTarget.getBoundingClientRect();
          const k = lineIndexAt(state.current.line, posAt(e.clientX - r.left, e.clientY - r.top));
          if (k >= 0) onSelect(state.current.order[k] as number);
        }}
      >
        <canvas ref={canvasRef} className="layer" data-testid="va-map-canvas" />
        <div className="chart-tooltip" ref={tooltip} hidden data-testid="va-map-tooltip" />
      </div>
    </div>
  );
}
