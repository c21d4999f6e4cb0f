/**
 * Benchmark figures: printed as a table and written to bench/results/NAME.json as
 * {"figures":[{"name","value","unit","baseline","ratio"}]} so versions can be compared.
 * A figure's baseline is measured in the same run; ratio = value / baseline.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** What the ratio is against, measured in the same run; null when there is none. */
  baseline: number | null;
  ratio: number | null;
  /** Optional free text: the baseline's name, the target. */
  note?: string;
}

export function figure(
  name: string,
  value: number,
  unit: string,
  baseline: number | null = null,
  note?: string,
): Figure {
  const ratio = baseline !== null && baseline !== 0 ? value / baseline : null;
  return note === undefined
    ? { name, value, unit, baseline, ratio }
    : { name, value, unit, baseline, ratio, note };
}

export const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

export function writeResults(
  benchName: string,
  figures: Figure[],
  extra: Record<string, unknown> = {},
): string {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${benchName}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      { bench: benchName, date: new Date().toISOString(), figures, ...extra },
      null,
      2,
    ) + '\n',
  );
  printFigures(benchName, figures);
  return file;
}

export function printFigures(title: string, figures: Figure[]): void {
  const fmt = (v: number | null): string =>
    v === null
      ? '—'
      : Math.abs(v) >= 100
        ? v.toFixed(0)
        : Math.abs(v) >= 1
          ? v.toFixed(2)
          : v.toPrecision(3);
  console.log(`\n== ${title} ==`);
  const rows = figures.map((f) => [
    f.name,
    `${fmt(f.value)} ${f.unit}`,
    f.baseline === null ? '' : `${fmt(f.baseline)} ${f.unit}`,
    f.ratio === null ? '' : `${fmt(f.ratio)}×`,
    f.note ?? '',
  ]);
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => (r[c] ?? '').length), 4));
  for (const r of rows) {
    console.log(
      `  ${(r[0] ?? '').padEnd(widths[0] ?? 0)}  ${(r[1] ?? '').padStart(widths[1] ?? 0)}  ${(r[2] ?? '').padStart(widths[2] ?? 0)}  ${(r[3] ?? '').padStart(widths[3] ?? 0)}  ${r[4] ?? ''}`,
    );
  }
}

/** Median of a sample (copy-sorted). */
export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const idx = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[idx] as number;
}
