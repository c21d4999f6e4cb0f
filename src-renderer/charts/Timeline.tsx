/**
 * Live bytes over time (min/max per pixel column), allocation and free rates, failures and
 * violations marked. Wheel zooms around the cursor, drag pans, click selects the nearest event
 * (a failure or violation in that pixel column first), shift-click moves the time cursor there,
 * double-click fits the whole trace. The time cursor (./TimeCursor.tsx) is drawn as a dashed line.
 */
import { useEffect, useRef, memo } from 'react';
import { describeEvent } from '../data/eventText';
import {
  downsample,
  nearestSeq,
  panWindow,
  TimelineBins,
  zoomWindow,
  type TimeWindow,
} from '../data/timeline';
import { formatBytes, formatNs } from '../lib/format';
import { setText } from '../render/dom';
import { raf } from '../render/raf';
import { palette } from '../render/theme';
import { useRafCanvas } from '../render/useCanvas';
import { sessionData } from '../session/sessionData';
import { appStore } from '../store';
import { formatTick, niceByteStep, niceStep } from './axis';
import { TimeCursor } from './TimeCursor';

const RATE_H = 36;
const AXIS_H = 16;
const MARK_H = 8;
const PAD_L = 56;

function windowNow(w: TimeWindow, endNs: number): TimeWindow {
  if (!w.follow) return w;
  return { t0: 0, t1: Math.max(endNs * 1.02, 1_000_000), follow: true };
}

export const Timeline = memo(function Timeline() {
  const win = useRef<TimeWindow>({ t0: 0, t1: 1_000_000, follow: true });
  const hoverX = useRef<number | null>(null);
  const bins = useRef(new TimelineBins());
  const drag = useRef<{ x: number; t0: number; moved: boolean } | null>(null);
  const tooltip = useRef<HTMLDivElement | null>(null);
  const label = useRef<HTMLSpanElement | null>(null);

  const endNs = (): number => {
    const d = sessionData();
    if (!d || d.analysis.frontier === 0) return 0;
    return d.columns.timeNs.get(d.analysis.frontier - 1);
  };

  const { ref: baseRef } = useRafCanvas(['events', 'theme', 'timeline'], (ctx, width, height) => {
    const p = palette();
    const d = sessionData();
    const plotW = Math.max(1, Math.floor(width - PAD_L));
    const liveH = height - RATE_H - AXIS_H - MARK_H;
    ctx.font = p.font;
    ctx.fillStyle = p.muted;
    if (!d || d.analysis.frontier === 0) {
      ctx.fillText(
        'No events yet: the live-bytes curve draws here as the walk allocates.',
        PAD_L + 8,
        height / 2,
      );
      return;
    }
    const w = windowNow(win.current, endNs());
    setText(label.current, `${formatNs(w.t0)} – ${formatNs(w.t1)}${w.follow ? ' (all)' : ''}`);
    const b = downsample(d.columns, d.analysis, w.t0, w.t1, plotW, bins.current);
    const maxLive = Math.max(1, b.maxLiveAll) * 1.1;
    const yOf = (v: number): number => MARK_H + liveH - (v / maxLive) * liveH;
    // grid + y labels
    ctx.strokeStyle = p.grid;
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    const ystep = niceByteStep(maxLive, 3);
    for (let v = 0; v <= maxLive; v += ystep) {
      const y = Math.round(yOf(v)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(PAD_L, y);
      ctx.lineTo(width, y);
      ctx.stroke();
      ctx.fillText(formatBytes(v), PAD_L - 4, y);
    }
    // live bytes: filled max envelope, min..max bars
    ctx.beginPath();
    let started = false;
    let lastX = PAD_L;
    for (let x = 0; x < b.n; x++) {
      const mx = b.maxLive[x] as number;
      if (Number.isNaN(mx) || mx === -Infinity) continue;
      const px = PAD_L + x;
      if (!started) {
        ctx.moveTo(px, yOf(0));
        started = true;
      }
      ctx.lineTo(px, yOf(mx));
      ctx.lineTo(px + 1, yOf(mx));
      lastX = px + 1;
    }
    if (started) {
      ctx.lineTo(lastX, yOf(0));
      ctx.closePath();
      ctx.fillStyle = p.liveFill;
      ctx.fill();
    }
    ctx.fillStyle = p.live;
    for (let x = 0; x < b.n; x++) {
      const mx = b.maxLive[x] as number;
      const mn = b.minLive[x] as number;
      if (Number.isNaN(mx) || mx === -Infinity) continue;
      const y1 = yOf(mx);
      const y2 = yOf(mn);
      ctx.fillRect(PAD_L + x, y1 - 0.75, 1, Math.max(1.5, y2 - y1 + 1.5));
    }
    // rates band: allocations up, frees down
    const rateMid = MARK_H + liveH + RATE_H / 2;
    const rs = b.maxCount > 0 ? (RATE_H / 2 - 1) / b.maxCount : 0;
    ctx.fillStyle = p.allocRate;
    for (let x = 0; x < b.n; x++) {
      const a = b.allocs[x] as number;
      if (a) ctx.fillRect(PAD_L + x, rateMid - Math.max(1, a * rs), 1, Math.max(1, a * rs));
    }
    ctx.fillStyle = p.freeRate;
    for (let x = 0; x < b.n; x++) {
      const f = b.frees[x] as number;
      if (f) ctx.fillRect(PAD_L + x, rateMid, 1, Math.max(1, f * rs));
    }
    ctx.strokeStyle = p.grid;
    ctx.beginPath();
    ctx.moveTo(PAD_L, Math.round(rateMid) + 0.5);
    ctx.lineTo(width, Math.round(rateMid) + 0.5);
    ctx.stroke();
    ctx.fillStyle = p.muted;
    ctx.fillText('alloc', PAD_L - 4, rateMid - RATE_H / 4);
    ctx.fillText('free', PAD_L - 4, rateMid + RATE_H / 4);
    // failures and violations: marks along the top
    for (let x = 0; x < b.n; x++) {
      const f = b.fails[x] as number;
      const v = b.violations[x] as number;
      if (!f && !v) continue;
      ctx.fillStyle = f ? p.danger : p.warn;
      ctx.beginPath();
      ctx.moveTo(PAD_L + x - 4, 0);
      ctx.lineTo(PAD_L + x + 4, 0);
      ctx.lineTo(PAD_L + x, MARK_H);
      ctx.closePath();
      ctx.fill();
      ctx.fillRect(PAD_L + x, MARK_H, 1, liveH);
    }
    // time axis
    const ay = height - AXIS_H;
    ctx.fillStyle = p.muted;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const step = niceStep(w.t1 - w.t0, Math.max(2, Math.floor(plotW / 110)));
    for (let t = Math.ceil(w.t0 / step) * step; t <= w.t1; t += step) {
      const x = PAD_L + ((t - w.t0) / (w.t1 - w.t0)) * plotW;
      ctx.fillRect(Math.round(x), ay, 1, 3);
      ctx.fillText(formatTick(t), x, ay + 3);
    }
  });

  const { ref: overlayRef, markDirty: markOverlay } = useRafCanvas(
    ['events', 'selection', 'hover', 'theme', 'timeline', 'cursor'],
    (ctx, width, height) => {
      const p = palette();
      const d = sessionData();
      if (!d || d.analysis.frontier === 0) {
        if (tooltip.current) tooltip.current.hidden = true;
        return;
      }
      const w = windowNow(win.current, endNs());
      const plotW = Math.max(1, width - PAD_L);
      const xOf = (t: number): number => PAD_L + ((t - w.t0) / (w.t1 - w.t0)) * plotW;
      const sel = appStore.get().selectedSeq;
      if (sel !== null && sel < d.columns.length) {
        const x = Math.round(xOf(d.columns.timeNs.get(sel))) + 0.5;
        if (x >= PAD_L && x <= width) {
          ctx.strokeStyle = p.selection;
          ctx.lineWidth = 2;
          ctx.beginPath();
          ctx.moveTo(x, 0);
          ctx.lineTo(x, height - AXIS_H);
          ctx.stroke();
        }
      }
      const cursor = appStore.get().timeCursor;
      if (cursor !== null && cursor > 0 && cursor <= d.columns.length) {
        const x = Math.round(xOf(d.columns.timeNs.get(cursor - 1))) + 0.5;
        if (x >= PAD_L && x <= width) {
          ctx.strokeStyle = p.accent;
          ctx.lineWidth = 2;
          ctx.setLineDash([6, 3]);
          ctx.beginPath();
          ctx.moveTo(x, 0);
          ctx.lineTo(x, height - AXIS_H);
          ctx.stroke();
          ctx.setLineDash([]);
        }
      }
      const hx = hoverX.current;
      const tip = tooltip.current;
      if (hx === null || hx < PAD_L) {
        if (tip) tip.hidden = true;
        return;
      }
      const t = w.t0 + ((hx - PAD_L) / plotW) * (w.t1 - w.t0);
      const s = nearestSeq(d.columns, d.analysis.frontier, t);
      ctx.strokeStyle = p.muted;
      ctx.lineWidth = 1;
      ctx.setLineDash([3, 3]);
      ctx.beginPath();
      ctx.moveTo(Math.round(hx) + 0.5, 0);
      ctx.lineTo(Math.round(hx) + 0.5, height - AXIS_H);
      ctx.stroke();
      ctx.setLineDash([]);
      if (tip && s >= 0) {
        tip.hidden = false;
        tip.textContent = `${formatNs(d.columns.timeNs.get(s))} · live ${formatBytes(d.analysis.liveAt(s))}\n${describeEvent(d.columns, s)}`;
        const left = Math.min(hx + 12, width - 330);
        tip.style.left = `${Math.max(0, left)}px`;
      }
    },
    () =>
      hoverX.current !== null ||
      appStore.get().selectedSeq !== null ||
      appStore.get().timeCursor !== null,
  );

  // A new session starts with the whole trace in view.
  useEffect(
    () =>
      appStore.subscribe((st, prev) => {
        if (st.session?.sessionId !== prev.session?.sessionId) {
          win.current = { t0: 0, t1: 1_000_000, follow: true };
          raf.invalidate('timeline');
        }
      }),
    [],
  );

  // Wheel zoom (non-passive so the page does not scroll).
  useEffect(() => {
    const el = baseRef.current?.parentElement;
    if (!el) return;
    const onWheel = (e: WheelEvent): void => {
      e.preventDefault();
      const rect = el.getBoundingClientRect();
      const plotW = Math.max(1, rect.width - PAD_L);
      const end = endNs();
      const w = windowNow(win.current, end);
      const at = w.t0 + ((e.clientX - rect.left - PAD_L) / plotW) * (w.t1 - w.t0);
      const factor = Math.pow(1.0015, e.deltaY);
      win.current = zoomWindow(w, at, factor, Math.max(end, 1_000_000));
      raf.invalidate('timeline');
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, [baseRef]);

  const toPlotX = (e: React.MouseEvent): number =>
    e.clientX - e.currentTarget.getBoundingClientRect().left;

  return (
    <div className="chart-panel" data-testid="timeline">
      <div className="chart-head">
        <span className="chart-title">Live bytes over time</span>
        <span className="legend">
          <span>
            <i aria-hidden="true" className="sw sw-live" />
            live
          </span>
          <span>
            <i aria-hidden="true" className="sw sw-alloc" />
            allocs
          </span>
          <span>
            <i aria-hidden="true" className="sw sw-free" />
            frees
          </span>
          <span>
            <i aria-hidden="true" className="sw sw-fail" />
            failed
          </span>
          <span>
            <i aria-hidden="true" className="sw sw-viol" />
            violations
          </span>
        </span>
        <span className="spacer" />
        <span className="muted small mono" ref={label} data-testid="timeline-range" />
        <button
          className="small"
          onClick={() => {
            win.current = { ...win.current, follow: true };
            raf.invalidate('timeline');
          }}
          data-testid="timeline-fit"
          title="Show the whole trace (double-click the chart, or 0 while it has focus)"
        >
          Fit
        </button>
      </div>
      <div
        className="canvas-stack chart-focus"
        tabIndex={0}
        role="group"
        aria-label="Live bytes over time: + and − zoom, ← and → pan, 0 shows the whole trace"
        onKeyDown={(e) => {
          // The keyboard's wheel and drag (lib/shortcuts.ts lists these keys).
          const end = Math.max(endNs(), 1_000_000);
          const w = windowNow(win.current, endNs());
          const span = w.t1 - w.t0;
          if (e.key === '+' || e.key === '=')
            win.current = zoomWindow(w, w.t0 + span / 2, 0.8, end);
          else if (e.key === '-' || e.key === '−')
            win.current = zoomWindow(w, w.t0 + span / 2, 1.25, end);
          else if (e.key === 'ArrowLeft') win.current = panWindow(w, -span * 0.1, end);
          else if (e.key === 'ArrowRight') win.current = panWindow(w, span * 0.1, end);
          else if (e.key === '0') win.current = { ...win.current, follow: true };
          else return;
          e.preventDefault();
          e.stopPropagation();
          raf.invalidate('timeline');
        }}
        onMouseMove={(e) => {
          const x = toPlotX(e);
          const dr = drag.current;
          if (dr && e.buttons === 1) {
            const plotW = Math.max(1, e.currentTarget.clientWidth - PAD_L);
            const w = windowNow(win.current, endNs());
            const dt = -((x - dr.x) / plotW) * (w.t1 - w.t0);
            if (Math.abs(x - dr.x) > 3) dr.moved = true;
            if (dr.moved) {
              win.current = panWindow(
                { t0: dr.t0, t1: dr.t0 + (w.t1 - w.t0), follow: false },
                dt,
                Math.max(endNs(), 1_000_000),
              );
              raf.invalidate('timeline');
            }
          }
          hoverX.current = x;
          markOverlay();
        }}
        onMouseLeave={() => {
          hoverX.current = null;
          drag.current = null;
          markOverlay();
        }}
        onMouseDown={(e) => {
          const w = windowNow(win.current, endNs());
          drag.current = { x: toPlotX(e), t0: w.t0, moved: false };
        }}
        onMouseUp={(e) => {
          const dr = drag.current;
          drag.current = null;
          if (dr?.moved) return;
          const d = sessionData();
          if (!d || d.analysis.frontier === 0) return;
          const x = toPlotX(e);
          const plotW = Math.max(1, e.currentTarget.clientWidth - PAD_L);
          const col = Math.floor(x - PAD_L);
          const fp =
            col >= 0 && col < bins.current.n ? (bins.current.firstProblem[col] as number) : -1;
          if (e.shiftKey) {
            // Shift-click: the time cursor goes to the nearest event (its state is shown).
            const w = windowNow(win.current, endNs());
            const t = w.t0 + ((x - PAD_L) / plotW) * (w.t1 - w.t0);
            const s = nearestSeq(d.columns, d.analysis.frontier, t);
            if (s >= 0) appStore.get().setTimeCursor(s + 1);
            return;
          }
          if (fp >= 0) {
            appStore.get().selectSeq(fp);
            return;
          }
          const w = windowNow(win.current, endNs());
          const t = w.t0 + ((x - PAD_L) / plotW) * (w.t1 - w.t0);
          const s = nearestSeq(d.columns, d.analysis.frontier, t);
          if (s >= 0) appStore.get().selectSeq(s);
        }}
        onDoubleClick={() => {
          win.current = { ...win.current, follow: true };
          raf.invalidate('timeline');
        }}
      >
        <canvas ref={baseRef} className="layer" data-testid="timeline-canvas" />
        <canvas ref={overlayRef} className="layer" />
        <div className="chart-tooltip" ref={tooltip} hidden data-testid="timeline-tooltip" />
      </div>
      <TimeCursor />
    </div>
  );
});
