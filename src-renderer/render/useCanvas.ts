/**
 * A canvas painted by the raf scheduler: sized to its CSS box × devicePixelRatio, redrawn only
 * when one of its topics is invalidated (or it is marked dirty). The draw callback always sees
 * the latest props through a ref, so React renders never paint. The CSS size comes from a
 * ResizeObserver, so a draw never forces a synchronous layout by reading clientWidth.
 */
import { useCallback, useEffect, useRef } from 'react';
import type { RefObject } from 'react';
import { useLatest } from '../components/hooks';
import { raf, type Canvas, type Topic } from './raf';

export type DrawFn = (ctx: CanvasRenderingContext2D, width: number, height: number) => void;

/**
 * `active` (optional): whether there is anything to draw at all. A canvas that is blank and
 * inactive is skipped entirely (no clear, no new frame for the compositor): overlays with no
 * hover and no selection cost nothing while events stream.
 */
export function useRafCanvas(
  topics: readonly Topic[],
  draw: DrawFn,
  active?: () => boolean,
): { ref: RefObject<HTMLCanvasElement | null>; markDirty: (prompt?: boolean) => void } {
  const ref = useRef<HTMLCanvasElement | null>(null);
  const drawRef = useLatest(draw);
  const activeRef = useLatest(active);
  const handle = useRef<Canvas | null>(null);
  const topicKey = topics.join(',');
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    let w = canvas.clientWidth;
    let h = canvas.clientHeight;
    let blank = true;
    const reg = raf.addCanvas(topicKey.split(',') as Topic[], () => {
      if (w === 0 || h === 0) return;
      const isActive = activeRef.current?.() ?? true;
      if (!isActive && blank) return;
      const dpr = window.devicePixelRatio || 1;
      const pw = Math.round(w * dpr);
      const ph = Math.round(h * dpr);
      if (canvas.width !== pw || canvas.height !== ph) {
        canvas.width = pw;
        canvas.height = ph;
      }
      const ctx = canvas.getContext('2d');
      if (!ctx) return;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, h);
      blank = !isActive;
      if (isActive) drawRef.current(ctx, w, h);
    });
    handle.current = reg;
    const ro = new ResizeObserver((entries) => {
      const box = entries[entries.length - 1]?.contentRect;
      if (box) {
        w = box.width;
        h = box.height;
      }
      blank = false;
      reg.markDirty(true); // a new size: drawn in the next frame, not held back as streaming is
    });
    ro.observe(canvas);
    return () => {
      ro.disconnect();
      reg.dispose();
      handle.current = null;
    };
  }, [topicKey, drawRef, activeRef]);
  const markDirty = useCallback((prompt?: boolean) => handle.current?.markDirty(prompt), []);
  return { ref, markDirty };
}
