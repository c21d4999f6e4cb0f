/**
 * A virtualized table: fixed row height, only the visible rows in the DOM (window math in
 * data/virtualWindow.ts, compressed scrolling past the browser's height limit), sticky header
 * with sort buttons, optional follow-the-tail and scroll-to-row requests. Columns fit the width
 * the table has (data/columnFit.ts). For assistive technology it is an ARIA table (a grid when
 * rows can be selected) with aria-rowcount/aria-rowindex, so the windowed rows still say where
 * they are; selectable tables move the selection with ↑/↓/PgUp/PgDn/Home/End and open a row
 * with Enter or a double click.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import type { ColumnSpec } from '../data/entryColumns';
import type { SortSpec } from '../data/tableIndex';
import { fitColumns } from '../data/columnFit';
import { createTextMeasurer } from '../render/textWidth';
import { computeWindow, isAtBottom, scrollTopForRow } from '../data/virtualWindow';

export interface ScrollRequest {
  index: number;
  /** Changes for every request (so the same index can be requested twice). */
  token: number;
  center?: boolean;
}

export interface VirtualTableProps<T> {
  testId: string;
  columns: readonly ColumnSpec<T>[];
  rowCount: number;
  rowAt: (index: number) => T | undefined;
  rowHeight?: number | undefined;
  selectedIndex?: number | null | undefined;
  /** Another highlighted row (e.g. the walk's current entry). */
  currentIndex?: number | null | undefined;
  onRowClick?: ((index: number) => void) | undefined;
  /** Enter or a double click on a row (e.g. Processes: inspect it). */
  onRowActivate?: ((index: number) => void) | undefined;
  sort?: SortSpec | null | undefined;
  onSort?: ((column: string) => void) | undefined;
  rowTestId?: ((index: number, row: T | undefined) => string | undefined) | undefined;
  rowClassName?: ((index: number, row: T | undefined) => string | undefined) | undefined;
  renderCell?: ((column: ColumnSpec<T>, row: T, index: number) => ReactNode) | undefined;
  /** Placeholder for rows that are not loaded (row undefined). */
  missingText?: string | undefined;
  scrollTo?: ScrollRequest | null | undefined;
  /** Keep the newest rows in view while the user is at the bottom. */
  follow?: boolean | undefined;
  emptyText?: ReactNode | undefined;
  ariaLabel?: string | undefined;
}

/** Family of monospace cells (app.css .mono); their size is 12 px. */
const MONO_FAMILY = "ui-monospace, 'SF Mono', Menlo, Consolas, monospace";
/** Cell padding (app.css .vt-cell, 8 px each side) and a pixel of rounding. */
const CELL_PADDING = 17;
/** No column asks for more than this for its content (a long path stays cut). */
const MAX_WANT = 560;
const measurer = createTextMeasurer(() => {
  // A font that finishes loading changes the widths of texts measured before with a fallback.
  document.fonts?.addEventListener('loadingdone', () => measurer.forget());
  return document.createElement('canvas').getContext('2d');
});
const textWidth = (text: string, font: string): number => measurer.width(text, font);

export function VirtualTable<T>(props: VirtualTableProps<T>) {
  const {
    testId,
    columns,
    rowCount,
    rowAt,
    rowHeight = 22,
    selectedIndex = null,
    currentIndex = null,
    onRowClick,
    onRowActivate,
    sort,
    onSort,
    rowTestId,
    rowClassName,
    renderCell,
    missingText = '…',
    scrollTo,
    follow = false,
    emptyText,
    ariaLabel,
  } = props;
  const scroller = useRef<HTMLDivElement | null>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(400);
  const [width, setWidth] = useState(0);
  const [font, setFont] = useState('');
  const atBottom = useRef(true);
  // The widest text of each column among the rows seen since the columns last changed: spare
  // room goes to the columns it does not fit (data/columnFit.ts). Only grows, so columns do not
  // jump back and forth while scrolling.
  const [wants, setWants] = useState<{
    columns: readonly ColumnSpec<T>[];
    px: Record<string, number>;
  }>({ columns, px: {} });

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const update = (): void => {
      setViewport(Math.max(0, el.clientHeight - rowHeight));
      setWidth(el.clientWidth);
      const cs = getComputedStyle(el);
      setFont(`${cs.fontSize} ${cs.fontFamily}`);
    };
    const ro = new ResizeObserver(update);
    ro.observe(el);
    update();
    return () => ro.disconnect();
  }, [rowHeight]);

  const win = computeWindow(scrollTop, viewport, rowHeight, rowCount);

  useLayoutEffect(() => {
    if (!font || width <= 0) return;
    const measure = (prev: typeof wants): typeof wants => {
      const same = prev.columns === columns;
      const px = same ? { ...prev.px } : {};
      let grew = !same;
      // The heading too (bold, with room for the sort arrow).
      for (const c of columns) {
        const w = Math.min(
          MAX_WANT,
          Math.ceil(textWidth(`${c.label} ▼`, `600 ${font}`)) + CELL_PADDING,
        );
        if (w > (px[c.id] ?? 0)) {
          px[c.id] = w;
          grew = true;
        }
      }
      const rows: T[] = [];
      for (let i = win.first; i < win.last; i++) {
        const row = rowAt(i);
        if (row !== undefined) rows.push(row);
      }
      // Column by column: one font at a time.
      for (const c of columns) {
        const cellFont = c.mono ? `12px ${MONO_FAMILY}` : font;
        let widest = px[c.id] ?? 0;
        for (const row of rows)
          widest = Math.max(
            widest,
            Math.min(MAX_WANT, Math.ceil(textWidth(c.text(row), cellFont)) + CELL_PADDING),
          );
        if (widest > (px[c.id] ?? 0)) {
          px[c.id] = widest;
          grew = true;
        }
      }
      return grew ? { columns, px } : prev;
    };
    // The text's width needs the laid-out font (the DOM); measure returns the same state, and
    // so renders nothing more, unless a column's widest text grew.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    setWants(measure);
  }, [columns, font, width, win.first, win.last, rowAt, rowCount]);
  const measured = wants.columns === columns ? wants.px : null;

  // Follow the tail while the user sits at the bottom.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el || !follow || !atBottom.current) return;
    const target = Math.max(0, win.totalHeight - viewport);
    if (Math.abs(el.scrollTop - target) > 1) {
      el.scrollTop = target;
      setScrollTop(el.scrollTop);
    }
  }, [follow, rowCount, win.totalHeight, viewport]);

  // Scroll requests (selection from elsewhere, walk's current entry).
  useEffect(() => {
    const el = scroller.current;
    if (!el || !scrollTo || scrollTo.index < 0 || scrollTo.index >= rowCount) return;
    const top = scrollTopForRow(
      scrollTo.index,
      el.scrollTop,
      viewport,
      rowHeight,
      rowCount,
      scrollTo.center ?? false,
    );
    if (Math.abs(top - el.scrollTop) > 0.5) {
      el.scrollTop = top;
      setScrollTop(el.scrollTop);
    }
    atBottom.current = isAtBottom(el.scrollTop, viewport, win.totalHeight, rowHeight);
    // Only on a new request.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [scrollTo?.token, scrollTo?.index]);

  // Monospace columns (addresses, hex) keep their width unless they say otherwise (a cut
  // address is worse than a hidden column), and no column gets narrower than its heading.
  const fit = useMemo(
    () =>
      fitColumns(
        columns.map((c) => ({
          ...c,
          want: measured?.[c.id],
          minWidth:
            c.minWidth ??
            (c.mono
              ? c.width
              : Math.min(c.width, Math.max(Math.round(c.width * 0.6), c.label.length * 7 + 20))),
        })),
        width > 0 ? width : columns.reduce((s, c) => s + c.width, 0),
      ),
    [columns, width, measured],
  );
  const shownCols = fit.shown.map((i) => ({
    c: columns[i] as ColumnSpec<T>,
    w: fit.widths[i] ?? 0,
  }));
  const totalWidth = fit.total;
  const selectable = onRowClick !== undefined;
  const rowId = (i: number): string => `${testId}-r${i}`;

  const onKeyDown = (e: React.KeyboardEvent<HTMLDivElement>): void => {
    if (!selectable || rowCount === 0 || e.altKey || e.ctrlKey || e.metaKey) return;
    if ((e.target as HTMLElement).closest('button')) return;
    const page = Math.max(1, Math.floor(viewport / rowHeight) - 1);
    const cur = selectedIndex ?? -1;
    let next: number | null = null;
    if (e.key === 'ArrowDown') next = Math.min(rowCount - 1, cur + 1);
    else if (e.key === 'ArrowUp') next = Math.max(0, cur < 0 ? 0 : cur - 1);
    else if (e.key === 'PageDown') next = Math.min(rowCount - 1, Math.max(0, cur) + page);
    else if (e.key === 'PageUp') next = Math.max(0, cur - page);
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = rowCount - 1;
    else if (e.key === 'Enter' && cur >= 0 && onRowActivate) {
      e.preventDefault();
      e.stopPropagation();
      onRowActivate(cur);
      return;
    }
    if (next === null) return;
    e.preventDefault();
    e.stopPropagation();
    onRowClick(next);
    const el = scroller.current;
    if (el) {
      const top = scrollTopForRow(next, el.scrollTop, viewport, rowHeight, rowCount, false);
      if (Math.abs(top - el.scrollTop) > 0.5) {
        el.scrollTop = top;
        setScrollTop(el.scrollTop);
      }
    }
  };

  // Rows are keyed by slot (index modulo the window size), so scrolling reuses the DOM rows
  // and React only updates their text instead of unmounting and mounting them.
  // An even pool: a slot's rows are all odd or all even, so its class does not flip each time the
  // window moves (a class change restyles the row and its cells).
  const pool = 2 * Math.ceil((Math.ceil(viewport / rowHeight) + 16) / 2);
  const rows: ReactNode[] = [];
  for (let i = win.first; i < win.last; i++) {
    const row = rowAt(i);
    const cls = ['vt-row'];
    if (i % 2 === 1) cls.push('vt-odd');
    if (i === selectedIndex) cls.push('vt-selected');
    if (i === currentIndex) cls.push('vt-current');
    const extra = rowClassName?.(i, row);
    if (extra) cls.push(extra);
    rows.push(
      <div
        key={i % pool}
        className={cls.join(' ')}
        style={{
          top: win.offsetY + (i - win.first) * rowHeight + rowHeight,
          height: rowHeight,
          lineHeight: `${rowHeight}px`,
          width: totalWidth,
        }}
        data-testid={rowTestId?.(i, row)}
        data-index={i}
        id={rowId(i)}
        role="row"
        aria-rowindex={i + 2}
        aria-selected={selectable ? i === selectedIndex : undefined}
        onClick={onRowClick ? () => onRowClick(i) : undefined}
        onDoubleClick={onRowActivate ? () => onRowActivate(i) : undefined}
      >
        {row === undefined ? (
          <div
            className="vt-cell vt-missing"
            style={{ width: totalWidth }}
            role={selectable ? 'gridcell' : 'cell'}
          >
            {missingText}
          </div>
        ) : (
          shownCols.map(({ c, w }) => {
            const text = c.text(row);
            return (
              <div
                key={c.id}
                className={`vt-cell vt-col-${c.id}${c.align === 'right' ? ' vt-right' : ''}${c.mono ? ' mono' : ''}`}
                style={{ width: w }}
                title={
                  c.cellTitle?.(row) ?? (w < (measured?.[c.id] ?? Infinity) ? text : undefined)
                }
                role={selectable ? 'gridcell' : 'cell'}
              >
                {renderCell ? renderCell(c, row, i) : text}
              </div>
            );
          })
        )}
      </div>,
    );
  }

  return (
    <div
      className="vt"
      ref={scroller}
      data-testid={testId}
      data-rows={rowCount}
      role={selectable ? 'grid' : 'table'}
      aria-label={ariaLabel}
      aria-rowcount={rowCount + 1}
      aria-colcount={shownCols.length}
      aria-activedescendant={
        selectable &&
        selectedIndex !== null &&
        selectedIndex >= win.first &&
        selectedIndex < win.last
          ? rowId(selectedIndex)
          : undefined
      }
      tabIndex={0}
      onKeyDown={onKeyDown}
      onScroll={(e) => {
        const el = e.currentTarget;
        setScrollTop(el.scrollTop);
        atBottom.current = isAtBottom(el.scrollTop, viewport, win.totalHeight, rowHeight);
      }}
    >
      <div
        className="vt-content"
        style={{ height: win.totalHeight + rowHeight, width: totalWidth }}
      >
        <div
          className="vt-header"
          style={{ height: rowHeight, width: totalWidth, lineHeight: `${rowHeight}px` }}
          role="row"
          aria-rowindex={1}
        >
          {shownCols.map(({ c, w }) => {
            const active = sort?.column === c.id;
            const arrow = active ? (sort?.dir === 'asc' ? ' ▲' : ' ▼') : '';
            return (
              <div
                key={c.id}
                className={`vt-cell vt-head${c.align === 'right' ? ' vt-right' : ''}${onSort ? ' vt-sortable' : ''}`}
                style={{ width: w }}
                title={c.title ?? (onSort ? `Sort by ${c.label}` : c.label)}
                data-testid={onSort ? undefined : `${testId}-sort-${c.id}`}
                role="columnheader"
                aria-sort={
                  onSort
                    ? active
                      ? sort?.dir === 'asc'
                        ? 'ascending'
                        : 'descending'
                      : 'none'
                    : undefined
                }
              >
                {onSort ? (
                  <button
                    className="vt-sort"
                    onClick={() => onSort(c.id)}
                    data-testid={`${testId}-sort-${c.id}`}
                    aria-label={c.title ? `${c.label}: ${c.title}` : undefined}
                  >
                    {c.label}
                    <span aria-hidden="true">{arrow}</span>
                  </button>
                ) : (
                  c.label
                )}
              </div>
            );
          })}
        </div>
        {rows}
      </div>
      {rowCount === 0 && emptyText !== undefined && <div className="vt-empty">{emptyText}</div>}
    </div>
  );
}

/** Toggles a sort spec the way table headers usually do. */
export function nextSort(current: SortSpec | null, column: string): SortSpec {
  if (current?.column === column) return { column, dir: current.dir === 'asc' ? 'desc' : 'asc' };
  return { column, dir: 'asc' };
}
