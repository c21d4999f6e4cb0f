/**
 * Fits a table's columns to the width it has, so that tables do not scroll sideways at common
 * window sizes: extra room goes first to the columns whose content is wider than they are (their
 * `want`, measured from the rows in view), the least cut first, and what is left to the last
 * column; when short, columns shrink towards their
 * minimum (in proportion to what each can give); when even the minimums do not fit, the
 * columns with a `drop` priority are hidden, lowest priority first. Only when the remaining
 * minimums are still wider than the table does it scroll. Pure; no DOM.
 */
export interface FitColumn {
  width: number;
  /** Narrowest useful width (default: 60 % of width, at least 40 px). */
  minWidth?: number | undefined;
  /** Hidden when space runs out: lower numbers go first; undefined: never hidden. */
  drop?: number | undefined;
  /** Width its content needs (measured); spare room goes to columns short of it first. */
  want?: number | undefined;
}

export interface Fit {
  /** Width of each column (0 for a hidden one). */
  widths: number[];
  /** Indices of the columns shown. */
  shown: number[];
  total: number;
}

export function minWidthOf(c: FitColumn): number {
  return Math.min(c.width, c.minWidth ?? Math.max(40, Math.round(c.width * 0.6)));
}

export function fitColumns(cols: readonly FitColumn[], available: number): Fit {
  const n = cols.length;
  const widths = cols.map((c) => c.width);
  if (n === 0) return { widths, shown: [], total: 0 };
  const visible = new Set(cols.map((_, i) => i));
  const sum = (f: (i: number) => number): number => [...visible].reduce((s, i) => s + f(i), 0);
  const col = (i: number): FitColumn => cols[i] as FitColumn;

  // Drop optional columns, lowest priority first, while even the minimums do not fit.
  const droppable = cols
    .map((c, i) => ({ i, d: c.drop }))
    .filter((x): x is { i: number; d: number } => x.d !== undefined)
    .sort((a, b) => a.d - b.d || b.i - a.i);
  for (const { i } of droppable) {
    if (sum((j) => minWidthOf(col(j))) <= available) break;
    if (visible.size > 1) visible.delete(i);
  }

  const preferred = sum((i) => col(i).width);
  const out = cols.map(() => 0);
  if (preferred <= available) {
    for (const i of visible) out[i] = col(i).width;
    // Water-filling: the least cut first, each up to an equal share of what is left, so short
    // cuts ("SCHED_OTH…") are mended before a long path takes the rest.
    const lacking = [...visible]
      .map((i) => ({ i, lack: Math.max(0, (col(i).want ?? 0) - col(i).width) }))
      .filter((x) => x.lack > 0)
      .sort((a, b) => a.lack - b.lack);
    let spare = available - preferred;
    lacking.forEach(({ i, lack }, k) => {
      const give = Math.min(lack, Math.floor(spare / (lacking.length - k)));
      out[i] = (out[i] ?? 0) + give;
      spare -= give;
    });
    const last = Math.max(...visible);
    out[last] = (out[last] ?? 0) + (available - sum((i) => out[i] ?? 0));
  } else {
    const give = sum((i) => col(i).width - minWidthOf(col(i)));
    const need = preferred - available;
    const f = give > 0 ? Math.min(1, need / give) : 0;
    for (const i of visible) {
      const c = col(i);
      out[i] = Math.floor(c.width - (c.width - minWidthOf(c)) * f);
    }
  }
  const shown = [...visible].sort((a, b) => a - b);
  return { widths: out, shown, total: shown.reduce((s, i) => s + (out[i] ?? 0), 0) };
}
