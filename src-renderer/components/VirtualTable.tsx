/**
 * A virtualized table: fixed row height, only the visible rows in the DOM (window math in
 * data/virtualWindow.ts, compressed scrolling past the browser's height limit), sticky header
 * with click-to-sort, optional follow-the-tail and scroll-to-row requests.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import type { ColumnSpec } from '../data/entryColumns';
import type { SortSpec } from '../data/tableIndex';
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
  const atBottom = useRef(true);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setViewport(Math.max(0, el.clientHeight - rowHeight)));
    ro.observe(el);
    setViewport(Math.max(0, el.clientHeight - rowHeight));
    return () => ro.disconnect();
  }, [rowHeight]);

  const win = computeWindow(scrollTop, viewport, rowHeight, rowCount);

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

  const totalWidth = columns.reduce((s, c) => s + c.width, 0);
  // Rows are keyed by slot (index modulo the window size), so scrolling reuses the DOM rows
  // and React only updates their text instead of unmounting and mounting them.
  const pool = Math.ceil(viewport / rowHeight) + 16;
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
          width: totalWidth,
        }}
        data-testid={rowTestId?.(i, row)}
        data-index={i}
        role="row"
        aria-selected={i === selectedIndex}
        onClick={onRowClick ? () => onRowClick(i) : undefined}
      >
        {row === undefined ? (
          <div className="vt-cell vt-missing" style={{ width: totalWidth }}>
            {missingText}
          </div>
        ) : (
          columns.map((c) => {
            const text = c.text(row);
            return (
              <div
                key={c.id}
                className={`vt-cell${c.align === 'right' ? ' vt-right' : ''}${c.mono ? ' mono' : ''}`}
                style={{ width: c.width }}
                title={c.cellTitle?.(row) ?? (text.length > 12 ? text : undefined)}
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
      role="table"
      aria-label={ariaLabel}
      aria-rowcount={rowCount}
      tabIndex={0}
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
        <div className="vt-header" style={{ height: rowHeight, width: totalWidth }} role="row">
          {columns.map((c) => {
            const active = sort?.column === c.id;
            return (
              <div
                key={c.id}
                className={`vt-cell vt-head${c.align === 'right' ? ' vt-right' : ''}${onSort ? ' vt-sortable' : ''}`}
                style={{ width: c.width }}
                title={c.title ?? (onSort ? `Sort by ${c.label}` : c.label)}
                onClick={onSort ? () => onSort(c.id) : undefined}
                data-testid={`${testId}-sort-${c.id}`}
                role="columnheader"
                aria-sort={active ? (sort?.dir === 'asc' ? 'ascending' : 'descending') : 'none'}
              >
                {c.label}
                {active ? (sort?.dir === 'asc' ? ' ▲' : ' ▼') : ''}
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
