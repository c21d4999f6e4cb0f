/** A sortable, filterable, virtualized table over an array of rows (indices, never copies). */
import { formatCount, plural } from '../lib/format';
import { useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import type { ColumnSpec } from '../data/entryColumns';
import { searchText } from '../data/entryColumns';
import { buildIndex, type SortSpec } from '../data/tableIndex';
import { nextSort, VirtualTable, type ScrollRequest } from './VirtualTable';

export interface EntryTableProps<T> {
  testId: string;
  rows: readonly T[];
  /** Changes when rows were appended/replaced in place (arrays are mutated by loaders). */
  version: number;
  columns: readonly ColumnSpec<T>[];
  defaultSort?: SortSpec | null;
  /** Row number (in `rows`) to highlight as current, and scroll to when it changes. */
  currentRow?: number | null;
  selectedRow?: number | null;
  onSelectRow?: (row: number) => void;
  rowTestId?: (row: T, rowNumber: number) => string | undefined;
  rowClassName?: (row: T) => string | undefined;
  toolbar?: ReactNode;
  extraFilter?: (row: T) => boolean;
  emptyText?: ReactNode;
  follow?: boolean;
  /** What the table is, for screen readers ("Threads of the snapshot"). */
  ariaLabel?: string;
}

export function EntryTable<T>(p: EntryTableProps<T>) {
  const [query, setQuery] = useState('');
  const [sort, setSort] = useState<SortSpec | null>(p.defaultSort ?? null);
  const { rows, version, columns, extraFilter } = p;
  // Rows arrive in place (the array grows before `version` is bumped): its length is a
  // dependency too, so the count and the rows never disagree.
  const rowCount = rows.length;
  const index = useMemo(() => {
    void version;
    void rowCount;
    const col = sort ? columns.find((c) => c.id === sort.column) : undefined;
    return buildIndex(
      rows,
      query,
      (r) => searchText(columns, r),
      col ? (r) => col.sortKey(r) : null,
      sort?.dir ?? 'asc',
      extraFilter,
    );
  }, [rows, rowCount, version, query, sort, columns, extraFilter]);

  const posOf = (rowNumber: number | null | undefined): number | null => {
    if (rowNumber === null || rowNumber === undefined) return null;
    if (!sort && !query && !extraFilter) return rowNumber < index.length ? rowNumber : null;
    const i = index.indexOf(rowNumber);
    return i < 0 ? null : i;
  };
  const currentPos = posOf(p.currentRow);
  const selectedPos = posOf(p.selectedRow);
  const scrollTo: ScrollRequest | null =
    currentPos !== null ? { index: currentPos, token: p.currentRow ?? 0, center: false } : null;

  return (
    <div className="entry-table" data-testid={`${p.testId}-panel`}>
      <div className="table-toolbar">
        <input
          className="filter-input"
          type="search"
          placeholder="Filter (words, -exclude)"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          data-testid={`${p.testId}-filter`}
          aria-label={p.ariaLabel ? `Filter ${p.ariaLabel.toLowerCase()}` : 'Filter rows'}
        />
        <span className="muted" data-testid={`${p.testId}-count`}>
          {index.length === rows.length
            ? plural(rows.length, 'row')
            : `${formatCount(index.length)} of ${plural(rows.length, 'row')}`}
        </span>
        {p.toolbar}
      </div>
      <VirtualTable<T>
        testId={p.testId}
        columns={columns}
        rowCount={index.length}
        rowAt={(i) => rows[index[i] as number]}
        sort={sort}
        onSort={(c) => setSort(nextSort(sort, c))}
        currentIndex={currentPos}
        selectedIndex={selectedPos}
        onRowClick={p.onSelectRow ? (i) => p.onSelectRow?.(index[i] as number) : undefined}
        rowTestId={
          p.rowTestId
            ? (i, r) => (r === undefined ? undefined : p.rowTestId?.(r, index[i] as number))
            : undefined
        }
        rowClassName={
          p.rowClassName
            ? (_i, r) => (r === undefined ? undefined : p.rowClassName?.(r))
            : undefined
        }
        scrollTo={scrollTo}
        follow={p.follow ?? false}
        emptyText={p.emptyText ?? (query ? 'No rows match the filter.' : 'No rows.')}
        ariaLabel={p.ariaLabel}
      />
    </div>
  );
}
