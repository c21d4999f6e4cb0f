import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { RefObject } from 'react';
import { keyBelongsToTarget } from '../lib/shortcuts';

/** Element content-box size, updated by a ResizeObserver. */
export function useElementSize<T extends HTMLElement>(): [
  RefObject<T | null>,
  { width: number; height: number },
] {
  const ref = useRef<T | null>(null);
  const [size, setSize] = useState({ width: 0, height: 0 });
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const update = (): void => {
      const w = el.clientWidth;
      const h = el.clientHeight;
      setSize((s) => (s.width === w && s.height === h ? s : { width: w, height: h }));
    };
    update();
    const ro = new ResizeObserver(update);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, size];
}

/** The latest value in a ref, for callbacks that outlive a render (raf draws, listeners). */
export function useLatest<T>(value: T): RefObject<T> {
  const ref = useRef(value);
  useLayoutEffect(() => {
    ref.current = value;
  });
  return ref;
}

/**
 * Keyboard shortcut on window, ignored while typing in a field or when the focused widget uses
 * the key itself (Space on a button, arrows in a tab list or a table): lib/shortcuts.ts.
 */
export function useKey(handler: (e: KeyboardEvent) => void, enabled = true): void {
  const h = useLatest(handler);
  useEffect(() => {
    if (!enabled) return;
    const onKey = (e: KeyboardEvent): void => {
      if (e.defaultPrevented || keyBelongsToTarget(e.target, e.key)) return;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      h.current(e);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [enabled, h]);
}
