/** Allocation sizes in log2 buckets (counts or bytes), drawn per frame from the analysis. */
import { useRef, useState } from 'react';
import { BUCKETS, SizeHistogram, bucketLabel } from '../data/histogram';
import type { Ledger } from '../../src-shared/ledger/ledger';
import { formatBytes, formatCount } from '../lib/format';
import { palette } from '../render/theme';
import { useRafCanvas } from '../render/useCanvas';
import { sessionData } from '../session/sessionData';
import { appStore } from '../store';

const PAD_B = 30;

/** The ledger's per-size allocations, as the histogram draws them. */
function sizeHistogram(l: Ledger): SizeHistogram {
  const h = new SizeHistogram();
  l.sizeColumns(h.counts, h.bytes);
  return h;
}
const PAD_L = 44;

export function Histogram() {
  const [mode, setMode] = useState<'count' | 'bytes'>('count');
  const modeRef = useRef(mode);
  const hover = useRef<number | null>(null);
  const range = useRef<[number, number] | null>(null);
  const tooltip = useRef<HTMLDivElement | null>(null);

  const { ref: baseRef, markDirty: markBase } = useRafCanvas(
    ['events', 'theme', 'hover', 'cursor'],
    (ctx, width, height) => {
      const p = palette();
      const d = sessionData();
      ctx.font = p.font;
      const h = d ? sizeHistogram(d.ledgerAt(appStore.get().timeCursor)) : null;
      const r = h?.range() ?? null;
      range.current = r;
      if (!h || !r) {
        ctx.fillStyle = p.muted;
        ctx.fillText('No allocations yet.', 8, 20);
        if (tooltip.current) tooltip.current.hidden = true;
        return;
      }
      const lo = Math.max(0, r[0] - 1);
      const hi = Math.min(BUCKETS - 1, r[1] + 1);
      const n = hi - lo + 1;
      const values = modeRef.current === 'count' ? h.counts : h.bytes;
      let max = 1;
      for (let b = lo; b <= hi; b++) max = Math.max(max, values[b] as number);
      const plotW = width - PAD_L - 4;
      const plotH = height - PAD_B - 6;
      const bw = plotW / n;
      ctx.strokeStyle = p.grid;
      ctx.beginPath();
      ctx.moveTo(PAD_L, 6 + plotH + 0.5);
      ctx.lineTo(width, 6 + plotH + 0.5);
      ctx.stroke();
      ctx.fillStyle = p.muted;
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      ctx.fillText(
        modeRef.current === 'count' ? formatCount(max) : formatBytes(max),
        PAD_L - 4,
        10,
      );
      ctx.fillText('0', PAD_L - 4, 6 + plotH);
      ctx.textAlign = 'center';
      ctx.textBaseline = 'top';
      const every = Math.max(1, Math.ceil(46 / bw));
      for (let b = lo; b <= hi; b++) {
        const v = values[b] as number;
        const x = PAD_L + (b - lo) * bw;
        const bh = (v / max) * plotH;
        ctx.fillStyle = hover.current === b ? p.selection : p.accent;
        if (v > 0)
          ctx.fillRect(x + 1, 6 + plotH - Math.max(1, bh), Math.max(1, bw - 2), Math.max(1, bh));
        if ((b - lo) % every === 0) {
          ctx.fillStyle = p.muted;
          ctx.fillText(bucketLabel(b), x + bw / 2, 6 + plotH + 4);
        }
      }
      ctx.fillStyle = p.muted;
      ctx.fillText('request size (bytes, log₂ buckets)', PAD_L + plotW / 2, height - 12);
      const tip = tooltip.current;
      const hb = hover.current;
      if (tip) {
        if (hb === null || hb < lo || hb > hi) tip.hidden = true;
        else {
          tip.hidden = false;
          tip.textContent = `${bucketLabel(hb)} B: ${formatCount(h.counts[hb] as number)} allocations, ${formatBytes(h.bytes[hb] as number)}`;
          tip.style.left = `${Math.min(PAD_L + (hb - lo) * bw, width - 260)}px`;
        }
      }
    },
  );

  return (
    <div className="chart-panel histogram" data-testid="size-histogram">
      <div className="chart-head">
        <span className="chart-title">Allocation sizes</span>
        <span className="seg">
          <button
            className={mode === 'count' ? 'on' : ''}
            onClick={() => {
              modeRef.current = 'count';
              setMode('count');
              markBase();
            }}
            data-testid="histogram-mode-count"
          >
            count
          </button>
          <button
            className={mode === 'bytes' ? 'on' : ''}
            onClick={() => {
              modeRef.current = 'bytes';
              setMode('bytes');
              markBase();
            }}
            data-testid="histogram-mode-bytes"
          >
            bytes
          </button>
        </span>
      </div>
      <div
        className="canvas-stack"
        onMouseMove={(e) => {
          const r = range.current;
          if (!r) return;
          const lo = Math.max(0, r[0] - 1);
          const hi = Math.min(BUCKETS - 1, r[1] + 1);
          const x = e.clientX - e.currentTarget.getBoundingClientRect().left;
          const bw = (e.currentTarget.clientWidth - PAD_L - 4) / (hi - lo + 1);
          const b = lo + Math.floor((x - PAD_L) / bw);
          hover.current = x >= PAD_L && b <= hi ? b : null;
          markBase();
        }}
        onMouseLeave={() => {
          hover.current = null;
          markBase();
        }}
      >
        <canvas ref={baseRef} className="layer" data-testid="histogram-canvas" />
        <div className="chart-tooltip" ref={tooltip} hidden />
      </div>
    </div>
  );
}
