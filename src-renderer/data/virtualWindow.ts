/**
 * Window math of the virtualized tables: which rows to put in the DOM for a scroll position.
 * Fixed row height. Browsers cap an element's height (Chromium ~33 M px, Firefox ~17 M px), so
 * past MAX_SCROLL_PX the scroll range is compressed: the scrollbar position maps to a fraction
 * of the rows, and the rendered rows are placed relative to the viewport.
 */
export const MAX_SCROLL_PX = 8_000_000;

export interface VirtualWindow {
  /** First row rendered (inclusive). */
  first: number;
  /** Last row rendered (exclusive). */
  last: number;
  /** Top of row `first`, in content pixels (use as translateY). */
  offsetY: number;
  /** Height of the scroll content. */
  totalHeight: number;
  /** Whether the compressed mapping is in use. */
  scaled: boolean;
}

export function computeWindow(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  rowCount: number,
  overscan = 6,
  maxPx = MAX_SCROLL_PX,
): VirtualWindow {
  const natural = rowCount * rowHeight;
  const visible = Math.ceil(viewportHeight / rowHeight) + 1;
  if (rowCount === 0) return { first: 0, last: 0, offsetY: 0, totalHeight: 0, scaled: false };
  if (natural <= maxPx) {
    const top = Math.max(0, Math.min(scrollTop, Math.max(0, natural - viewportHeight)));
    const first = Math.max(0, Math.floor(top / rowHeight) - overscan);
    const last = Math.min(rowCount, Math.floor(top / rowHeight) + visible + overscan);
    return { first, last, offsetY: first * rowHeight, totalHeight: natural, scaled: false };
  }
  const range = maxPx - viewportHeight;
  const frac = range > 0 ? Math.max(0, Math.min(1, scrollTop / range)) : 0;
  const topRowExact = frac * Math.max(0, rowCount - viewportHeight / rowHeight);
  const topRow = Math.floor(topRowExact);
  const first = Math.max(0, topRow - overscan);
  const last = Math.min(rowCount, topRow + visible + overscan);
  const topRowY = frac * range - (topRowExact - topRow) * rowHeight;
  return {
    first,
    last,
    offsetY: topRowY - (topRow - first) * rowHeight,
    totalHeight: maxPx,
    scaled: true,
  };
}

/** scrollTop that shows `row` (centred when `center`, else minimally scrolled into view). */
export function scrollTopForRow(
  row: number,
  currentScrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  rowCount: number,
  center = false,
  maxPx = MAX_SCROLL_PX,
): number {
  const natural = rowCount * rowHeight;
  if (natural <= maxPx) {
    const y = row * rowHeight;
    if (center)
      return Math.max(0, Math.min(natural - viewportHeight, y - (viewportHeight - rowHeight) / 2));
    if (y < currentScrollTop) return y;
    if (y + rowHeight > currentScrollTop + viewportHeight) return y + rowHeight - viewportHeight;
    return currentScrollTop;
  }
  const visibleRows = viewportHeight / rowHeight;
  const topRow = Math.max(0, row - (center ? visibleRows / 2 : 0));
  const frac = Math.min(1, topRow / Math.max(1, rowCount - visibleRows));
  return frac * (maxPx - viewportHeight);
}

/** Whether the view is scrolled to (within a row of) the bottom: keep following new rows. */
export function isAtBottom(
  scrollTop: number,
  viewportHeight: number,
  totalHeight: number,
  rowHeight: number,
): boolean {
  return scrollTop + viewportHeight >= totalHeight - rowHeight;
}
