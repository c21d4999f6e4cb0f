/**
 * A canvas painted by the raf scheduler: sized to its CSS box × devicePixelRatio, redrawn only
 * when one of its topics is invalidated (or it is marked dirty). The draw callback always sees
 * the latest props through a ref, so React renders never paint.
 */
import { useCallback, useEffect, useRef } from 'react';
import type { RefObject } from 'react';
import { useLatest } from '../components/hooks';
import { raf, type Canvas, type Topic } from './raf';

export type DrawFn = (ctx: CanvasRenderingContext2D, width: number, height: number) => void;

export function useRafCanvas(
  topics: readonly Topic[],
  draw: DrawFn,
): { ref: RefObject<HTMLCanvasElement | null>; markDirty: () => void } {
  const ref = useRef<HTMLCanvasElement | null>(null);
  const drawRef = useLatest(draw);
  const handle = useRef<Canvas | null>(null);
  const topicKey = topics.join(',');
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const reg = raf.addCanvas(topicKey.split(',') as Topic[], () => {
      const dpr = window.devicePixelRatio || 1;
      const w = canvas.clientWidth;
      const h = canvas.clientHeight;
      if (w === 0 || h === 0) return;
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
      drawRef.current(ctx, w, h);
    });
    handle.current = reg;
    const ro = new ResizeObserver(() => reg.markDirty());
    ro.observe(canvas);
    return () => {
      ro.disconnect();
      reg.dispose();
      handle.current = null;
    };
  }, [topicKey, drawRef]);
  const markDirty = useCallback(() => handle.current?.markDirty(), []);
  return { ref, markDirty };
}
