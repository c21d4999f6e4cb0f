/**
 * Text formatting of sizes, counts, durations and dates, shared by the renderer's views and any
 * text printer of captures (a CLI): pure functions, no DOM, no Node.
 */
import { fileTimeSubMs, fileTimeToEpochMs, type FileTime } from '../pss/filetime';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** 1536 → "1.5 KiB"; exact small values stay integers ("512 B"). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const neg = n < 0;
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const digits = u === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${neg ? '-' : ''}${v.toFixed(digits)} ${UNITS[u] ?? 'B'}`;
}

const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
/** 1234567 → "1,234,567". */
export function formatCount(n: number): string {
  return Number.isFinite(n) ? intFmt.format(n) : '—';
}

/** Nanoseconds → "12.3 ms", "4.56 s", "850 ns". */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return '—';
  const a = Math.abs(ns);
  if (a < 1e3) return `${ns.toFixed(0)} ns`;
  if (a < 1e6) return `${(ns / 1e3).toFixed(a < 1e4 ? 2 : 1)} µs`;
  if (a < 1e9) return `${(ns / 1e6).toFixed(a < 1e7 ? 2 : 1)} ms`;
  return `${(ns / 1e9).toFixed(a < 1e10 ? 3 : 2)} s`;
}

/** Milliseconds → "850 ms" / "1.25 s". */
export function formatMs(ms: number): string {
  return formatNs(ms * 1e6);
}

/** An address held as a number (exact below 2^53) → "0x7f12…". */
export function hexNumber(n: number, pad = 0): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  return '0x' + Math.floor(n).toString(16).padStart(pad, '0');
}

/** Parses a `0x…` address string into a number (exact for user-space addresses < 2^53). */
export function parseHex(hex: string): number {
  if (!hex) return 0;
  const s = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex;
  if (s.length <= 13) {
    const v = parseInt(s, 16);
    return Number.isFinite(v) ? v : 0;
  }
  try {
    return Number(BigInt('0x' + s));
  } catch {
    return 0;
  }
}

/** 0x120089 → "0x00120089". */
export function hex32(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

/** Epoch ms → local "2026-11-25 15:36:42.123" ("—" for 0). */
export function formatEpochMs(ms: number): string {
  if (!ms) return '—';
  const d = new Date(ms);
  const p = (x: number, w = 2): string => String(x).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/**
 * Exact FILETIME → local "2026-11-25 15:36:42.1234567" (every 100-ns digit kept; "—" when
 * unset).
 */
export function formatFileTime(ft: FileTime): string {
  const ms = fileTimeToEpochMs(ft);
  if (ms === null) return '—';
  const sub = String(fileTimeSubMs(ft)).padStart(4, '0');
  return formatEpochMs(ms) + sub;
}

/** 100-ns units (FILETIME durations) → "1.25 s". */
export function formatHundredNs(v: number): string {
  return formatNs(v * 100);
}

/** Rate per second → "12.3k/s". */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '—';
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(1)}M/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k/s`;
  return `${perSecond.toFixed(perSecond < 10 ? 1 : 0)}/s`;
}

/**
 * A count with its noun, singular or plural: (1, 'thread') → "1 thread", (3, 'thread') →
 * "3 threads", (1234, 'entry', 'entries') → "1,234 entries".
 */
export function plural(n: number, one: string, many = one + 's'): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** A change of a size: "+1.5 KiB" / "-512 B" / "±0 B". */
export function formatBytesDelta(d: number): string {
  if (d === 0) return '±0 B';
  return (d > 0 ? '+' : '') + formatBytes(d);
}

/** A change of a 100-ns duration: "+12.0 ms". */
export function formatHundredNsDelta(d: number): string {
  if (d === 0) return '±0';
  return (d > 0 ? '+' : '') + formatHundredNs(d);
}

/** A change of a count: "+3" / "-1". */
export function formatCountDelta(d: number): string {
  return d === 0 ? '±0' : (d > 0 ? '+' : '') + formatCount(d);
}
