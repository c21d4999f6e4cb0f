/**
 * Canvas colours come from the CSS custom properties of the current theme (light/dark follows
 * prefers-color-scheme), read once and cached until the scheme changes.
 */
import { raf } from './raf';

export interface Palette {
  bg: string;
  panel: string;
  fg: string;
  muted: string;
  grid: string;
  accent: string;
  danger: string;
  warn: string;
  ok: string;
  live: string;
  liveFill: string;
  allocRate: string;
  freeRate: string;
  selection: string;
  redZone: string;
  /** By ApiCall value 0–6. */
  api: string[];
  /** By walk class 0–4, then 5 = outside a walk call. */
  cls: string[];
  /** VA categories. */
  region: Record<string, string>;
  font: string;
  monoFont: string;
}

let cached: Palette | null = null;

function v(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const x = style.getPropertyValue(name).trim();
  return x || fallback;
}

export function palette(): Palette {
  if (cached) return cached;
  const st = getComputedStyle(document.documentElement);
  cached = {
    bg: v(st, '--bg', '#fff'),
    panel: v(st, '--panel', '#f6f7f9'),
    fg: v(st, '--fg', '#1b1f24'),
    muted: v(st, '--muted', '#6a737d'),
    grid: v(st, '--grid', '#e3e6ea'),
    accent: v(st, '--accent', '#2f6fde'),
    danger: v(st, '--danger', '#d1242f'),
    warn: v(st, '--warn', '#bf8700'),
    ok: v(st, '--ok', '#1a7f37'),
    live: v(st, '--live', '#2f6fde'),
    liveFill: v(st, '--live-fill', 'rgba(47,111,222,0.15)'),
    allocRate: v(st, '--alloc-rate', '#3fb950'),
    freeRate: v(st, '--free-rate', '#a371f7'),
    selection: v(st, '--selection', '#f0883e'),
    redZone: v(st, '--red-zone', 'rgba(209,36,47,0.55)'),
    api: [0, 1, 2, 3, 4, 5, 6].map((i) => v(st, `--api-${i}`, '#888')),
    cls: [0, 1, 2, 3, 4, 5].map((i) => v(st, `--cls-${i}`, '#888')),
    region: {
      Image: v(st, '--rg-image', '#a371f7'),
      'Mapped file': v(st, '--rg-mapped', '#2f6fde'),
      'Shared memory': v(st, '--rg-shared', '#1f9e89'),
      Heap: v(st, '--rg-heap', '#e5534b'),
      Stack: v(st, '--rg-stack', '#d4a72c'),
      Private: v(st, '--rg-private', '#f0883e'),
      Reserved: v(st, '--rg-reserved', '#b7bdc5'),
      Kernel: v(st, '--rg-kernel', '#57606a'),
      Free: v(st, '--rg-free', '#d0d7de'),
      Other: v(st, '--rg-other', '#8b949e'),
    },
    font: v(st, '--canvas-font', '11px system-ui, sans-serif'),
    monoFont: v(st, '--canvas-mono', '11px ui-monospace, monospace'),
  };
  return cached;
}

/** Re-reads the palette when the system theme changes and redraws every canvas. */
export function watchTheme(): () => void {
  const mq = window.matchMedia('(prefers-color-scheme: dark)');
  const onChange = (): void => {
    cached = null;
    raf.invalidate('theme');
  };
  mq.addEventListener('change', onChange);
  return () => mq.removeEventListener('change', onChange);
}
