/** Small canvas helpers: nice tick steps and text. */
export function niceStep(range: number, targetTicks: number): number {
  if (!(range > 0)) return 1;
  const raw = range / Math.max(1, targetTicks);
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/** Binary-friendly step for byte axes (1, 2, 4… × 2^10k). */
export function niceByteStep(range: number, targetTicks: number): number {
  if (!(range > 0)) return 1;
  const raw = range / Math.max(1, targetTicks);
  return 2 ** Math.ceil(Math.log2(raw));
}

export function crisp(x: number): number {
  return Math.round(x) + 0.5;
}

/** Axis label for a time in ns: "0", "250 µs", "1.5 ms", "2 s" (no trailing zeros). */
export function formatTick(ns: number): string {
  const a = Math.abs(ns);
  const trim = (v: number): string => String(Number(v.toPrecision(4)));
  if (a === 0) return '0';
  if (a < 1e3) return `${trim(ns)} ns`;
  if (a < 1e6) return `${trim(ns / 1e3)} µs`;
  if (a < 1e9) return `${trim(ns / 1e6)} ms`;
  return `${trim(ns / 1e9)} s`;
}
