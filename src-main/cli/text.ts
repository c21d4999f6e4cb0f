/** Plain-text output helpers of the CLI: aligned tables and byte sizes. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

export function bytes(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const text = u === 0 ? String(v) : v.toFixed(v >= 100 ? 0 : 1);
  return `${n < 0 ? '-' : ''}${text} ${UNITS[u]}`;
}

/** Columns padded to their widest cell; the last column is never padded (no trailing blanks). */
export function table(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  opts: { right?: readonly number[] } = {},
): string {
  const right = new Set(opts.right ?? []);
  const clean = (s: string): string => s.replace(/[\r\n\t]/g, ' ');
  const all = [head, ...rows].map((r) => r.map(clean));
  const widths = head.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  return (
    all
      .map((r) =>
        r
          .map((cell, c) =>
            c === r.length - 1 && !right.has(c)
              ? cell
              : right.has(c)
                ? cell.padStart(widths[c] ?? 0)
                : cell.padEnd(widths[c] ?? 0),
          )
          .join('  '),
      )
      .join('\n') + '\n'
  );
}
