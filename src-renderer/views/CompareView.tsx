/** Two snapshots of one process side by side: threads, handles and regions added, removed, changed. */
import { onTabListKey, SubTab } from '../components/tabs';
import { useMemo, useState } from 'react';
import type { ChangeKind, DiffRow } from '../../src-shared/contract/model';
import type { WalkEntry } from '../../src-shared/pss/entries';
import { compareSnapshots } from '../api/actions';
import { Empty, ErrorBox, Spinner } from '../components/ErrorBox';
import { VirtualTable } from '../components/VirtualTable';
import { diffCounts, diffEntry, fieldChange, filterDiff } from '../data/diff';
import {
  HANDLE_COLUMNS,
  REGION_COLUMNS,
  THREAD_COLUMNS,
  searchText,
  type ColumnSpec,
} from '../data/entryColumns';
import { formatCount, formatEpochMs, plural } from '../lib/format';
import { changeLine, describeChange } from '../../src-shared/text/fields';
import { useApp } from '../store';

type Cat = 'threads' | 'handles' | 'regions';
const KINDS: ChangeKind[] = ['added', 'removed', 'changed'];

/** Every changed field of a row, in words and units ("CPU time 1.250 s → 1.500 s (+250.0 ms)"). */
function changesOf(r: DiffRow<WalkEntry>) {
  return r.fields.map((f) => {
    const [a, b] = fieldChange(r, f);
    return describeChange(f, a, b);
  });
}

function baseColumns(cat: Cat): ColumnSpec<WalkEntry>[] {
  const pick = <T,>(cols: ColumnSpec<T>[], ids: string[]): ColumnSpec<WalkEntry>[] =>
    cols.filter((c) => ids.includes(c.id)) as unknown as ColumnSpec<WalkEntry>[];
  if (cat === 'threads') return pick(THREAD_COLUMNS, ['tid', 'name', 'state', 'cpu']);
  if (cat === 'handles') return pick(HANDLE_COLUMNS, ['handle', 'type', 'name', 'access']);
  return pick(REGION_COLUMNS, ['base', 'size', 'category', 'file']);
}

function columnsFor(cat: Cat): ColumnSpec<DiffRow<WalkEntry>>[] {
  const wrap = ({ cellTitle, ...c }: ColumnSpec<WalkEntry>): ColumnSpec<DiffRow<WalkEntry>> => ({
    ...c,
    text: (r) => {
      const e = diffEntry(r);
      return e ? c.text(e) : '';
    },
    sortKey: (r) => {
      const e = diffEntry(r);
      return e ? c.sortKey(e) : '';
    },
    cellTitle: (r) => {
      const e = diffEntry(r);
      return e && cellTitle ? cellTitle(e) : undefined;
    },
  });
  return [
    { id: 'change', label: 'Change', width: 80, text: (r) => r.change, sortKey: (r) => r.change },
    ...baseColumns(cat).map(wrap),
    {
      id: 'fields',
      label: 'What changed (select a row for all of it)',
      width: 560,
      text: (r) => (r.change === 'changed' ? changesOf(r).map(changeLine).join('; ') : ''),
      sortKey: (r) => r.fields.join(','),
    },
  ];
}

export function CompareView() {
  const snapshots = useApp((s) => s.snapshots);
  const compare = useApp((s) => s.compare);
  const capturing = useApp((s) => s.capturing);
  const [cat, setCat] = useState<Cat>('handles');
  const [kinds, setKinds] = useState<ReadonlySet<ChangeKind>>(new Set(KINDS));
  const [query, setQuery] = useState('');
  const [selected, setSelected] = useState<number | null>(null);
  const a = compare.a ?? snapshots[snapshots.length - 2]?.snapshotId ?? null;
  const b = compare.b ?? snapshots[snapshots.length - 1]?.snapshotId ?? null;
  const sa = snapshots.find((s) => s.snapshotId === a) ?? null;
  const sb = snapshots.find((s) => s.snapshotId === b) ?? null;
  const diff = compare.diff && compare.diff.a === a && compare.diff.b === b ? compare.diff : null;
  const rows = useMemo(() => (diff ? diff[cat] : []), [diff, cat]);
  const columns = useMemo(() => columnsFor(cat), [cat]);
  const counts = useMemo(() => diffCounts(rows), [rows]);
  const index = useMemo(
    () => filterDiff(rows, kinds, query, (r) => `${r.key} ${r.change} ${searchText(columns, r)}`),
    [rows, kinds, query, columns],
  );

  if (snapshots.length < 2) {
    return (
      <section className="view" data-testid="view-compare">
        <Empty title="Compare needs two snapshots" testId="compare-empty">
          Capture the same process twice (Capture tab, or <b>Capture again</b> in the snapshot
          explorer) to see threads, handles and regions added, removed and changed in between.
          <div>
            <button
              onClick={() =>
                useApp.getState().setTab(useApp.getState().selectedPid ? 'capture' : 'processes')
              }
              data-testid="compare-go-capture"
            >
              Capture a snapshot
            </button>
          </div>
        </Empty>
      </section>
    );
  }

  const option = (id: string | null, set: (v: string) => void, testId: string, label: string) => (
    <label className="field">
      <span>{label}</span>
      <select value={id ?? ''} onChange={(e) => set(e.target.value)} data-testid={testId}>
        {snapshots.map((s) => (
          <option key={s.snapshotId} value={s.snapshotId}>
            {s.processName} ({s.pid}) · {formatEpochMs(s.capturedAtMs).slice(11)} · {s.snapshotId}
          </option>
        ))}
      </select>
    </label>
  );
  const setA = (v: string): void => useApp.getState().setCompare({ a: v, b });
  const setB = (v: string): void => useApp.getState().setCompare({ a, b: v });

  return (
    <section className="view compare-view" data-testid="view-compare">
      <div className="toolbar wrap">
        {option(a, setA, 'compare-a', 'Before')}
        {option(b, setB, 'compare-b', 'After')}
        <button
          className="primary"
          disabled={!a || !b || a === b}
          aria-disabled={compare.loading || capturing}
          title={capturing ? 'A capture is in progress: it will be one of the choices' : undefined}
          onClick={() => {
            if (a && b && !compare.loading && !capturing) void compareSnapshots(a, b);
          }}
          data-testid="compare-run"
        >
          {compare.loading ? 'Comparing…' : 'Compare'}
        </button>
        {sa && sb && sa.pid !== sb.pid && (
          <span className="badge no">
            different processes ({sa.pid} vs {sb.pid})
          </span>
        )}
        {a === b && <span className="muted">choose two different snapshots</span>}
      </div>
      {compare.error && <ErrorBox error={compare.error} testId="compare-error" />}
      {compare.loading && <Spinner label="Comparing snapshots…" />}
      {!diff && !compare.loading && !compare.error && (
        <div className="muted hint-line">Pick the two snapshots and press Compare.</div>
      )}
      {diff && (
        <>
          <div
            className="subtabs"
            role="tablist"
            aria-label="Differences by class"
            onKeyDown={onTabListKey}
          >
            {(['threads', 'handles', 'regions'] as Cat[]).map((c) => {
              const n = diff[c].length;
              return (
                <SubTab
                  key={c}
                  id={`compare-tabbtn-${c}`}
                  selected={cat === c}
                  panelId="compare-panel"
                  onSelect={() => {
                    setCat(c);
                    setSelected(null);
                  }}
                  testId={`compare-tab-${c}`}
                >
                  {c[0]?.toUpperCase()}
                  {c.slice(1)}{' '}
                  <span className={n ? 'count-badge' : 'muted'}>
                    {formatCount(n)}
                    <span className="sr-only"> changed</span>
                  </span>
                  <span className="muted small"> ({formatCount(diff.unchanged[c])} same)</span>
                </SubTab>
              );
            })}
          </div>
          <div
            className="compare-panel"
            role="tabpanel"
            id="compare-panel"
            aria-labelledby={`compare-tabbtn-${cat}`}
          >
            <div className="table-toolbar">
              {KINDS.map((k) => (
                <button
                  key={k}
                  className={`chip change-${k}${kinds.has(k) ? ' on' : ''}`}
                  aria-pressed={kinds.has(k)}
                  onClick={() => {
                    const next = new Set(kinds);
                    if (next.has(k)) next.delete(k);
                    else next.add(k);
                    setKinds(next);
                  }}
                  data-testid={`compare-kind-${k}`}
                >
                  {k} <b data-testid={`compare-count-${k}`}>{formatCount(counts[k])}</b>
                </button>
              ))}
              <input
                type="search"
                className="filter-input"
                placeholder="Filter"
                value={query}
                onChange={(e) => setQuery(e.target.value)}
                data-testid="compare-filter"
                aria-label="Filter differences"
              />
              <span className="muted small">{plural(index.length, 'row')}</span>
            </div>
            <VirtualTable<DiffRow<WalkEntry>>
              testId="compare-table"
              columns={columns}
              rowCount={index.length}
              rowAt={(i) => rows[index[i] as number]}
              selectedIndex={selected !== null && selected < index.length ? selected : null}
              onRowClick={setSelected}
              rowTestId={(_i, r) => (r ? `diff-row-${r.change}-${r.key}` : undefined)}
              rowClassName={(_i, r) => (r ? `diff-${r.change}` : undefined)}
              emptyText={
                rows.length === 0
                  ? `No ${cat} changed between the two snapshots.`
                  : 'No row matches the filter.'
              }
              ariaLabel="Differences"
            />
            <ChangeDetails
              row={selected === null ? null : (rows[index[selected] as number] ?? null)}
            />
          </div>
        </>
      )}
    </section>
  );
}

/** All the changes of the selected row, one per line, wrapped (nothing cut). */
function ChangeDetails({ row }: { row: DiffRow<WalkEntry> | null }) {
  if (!row) return null;
  const e = diffEntry(row);
  return (
    <div className="change-details card" data-testid="compare-changes">
      <div className="card-title">
        {row.change} · {row.key}
        {e && e.kind === 'handle' ? ` · ${e.objectName}` : ''}
      </div>
      {row.change === 'changed' ? (
        <table className="breakdown">
          <thead>
            <tr>
              <th>Field</th>
              <th>Before</th>
              <th>After</th>
              <th className="num">Change</th>
            </tr>
          </thead>
          <tbody>
            {changesOf(row).map((c) => (
              <tr key={c.path} data-testid={`change-${c.path}`}>
                <td title={c.path}>{c.label}</td>
                <td>{c.before}</td>
                <td>{c.after}</td>
                <td className="num">{c.delta ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <div className="muted small">
          {row.change === 'added' ? 'Only in the second snapshot.' : 'Only in the first snapshot.'}
        </div>
      )}
    </div>
  );
}
