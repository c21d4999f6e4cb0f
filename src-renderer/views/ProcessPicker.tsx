/** Every process (listProcesses): search, sort, refresh; non-inspectable ones say why. */
import { useEffect, useMemo, useState } from 'react';
import type { ProcessRow } from '../../src-shared/contract/model';
import { refreshProcesses } from '../api/actions';
import { ErrorBox, Spinner } from '../components/ErrorBox';
import { Icon } from '../components/Icon';
import { nextSort, VirtualTable } from '../components/VirtualTable';
import type { ColumnSpec } from '../data/entryColumns';
import { buildIndex, type SortSpec } from '../data/tableIndex';
import { formatBytes, formatCount, formatEpochMs, plural } from '../lib/format';
import { useApp, useAppShallow } from '../store';

const COLUMNS: ColumnSpec<ProcessRow>[] = [
  {
    id: 'pid',
    label: 'PID',
    width: 72,
    align: 'right',
    text: (p) => String(p.pid),
    sortKey: (p) => p.pid,
  },
  {
    id: 'name',
    label: 'Name',
    width: 190,
    minWidth: 110,
    text: (p) => p.name,
    sortKey: (p) => p.name,
  },
  { id: 'user', label: 'User', width: 100, text: (p) => p.user, sortKey: (p) => p.user },
  {
    id: 'threads',
    label: 'Threads',
    width: 70,
    align: 'right',
    text: (p) => String(p.threads),
    sortKey: (p) => p.threads,
  },
  {
    id: 'rss',
    label: 'Resident',
    width: 100,
    align: 'right',
    text: (p) => formatBytes(p.rssBytes),
    sortKey: (p) => p.rssBytes,
  },
  {
    id: 'vsize',
    label: 'Virtual',
    width: 95,
    drop: 2,
    align: 'right',
    text: (p) => formatBytes(p.vsizeBytes),
    sortKey: (p) => p.vsizeBytes,
  },
  {
    id: 'state',
    label: 'State',
    width: 50,
    drop: 3,
    text: (p) => p.state,
    sortKey: (p) => p.state,
  },
  {
    id: 'access',
    label: 'Inspect',
    width: 190,
    minWidth: 120,
    text: (p) =>
      p.inspectable
        ? p.self
          ? 'yes (this inspector)'
          : 'yes'
        : `no — ${p.reason ?? 'not permitted'}`,
    sortKey: (p) => (p.inspectable ? 0 : 1),
  },
  {
    id: 'started',
    label: 'Started',
    width: 175,
    minWidth: 160,
    drop: 1,
    text: (p) => formatEpochMs(p.startTimeMs),
    sortKey: (p) => p.startTimeMs,
  },
  {
    id: 'cmd',
    label: 'Command line',
    width: 420,
    minWidth: 160,
    text: (p) => p.commandLine,
    sortKey: (p) => p.commandLine,
  },
];

export function ProcessPicker() {
  const { rows, loading, error, loadedAtMs } = useAppShallow((s) => s.processes);
  const selectedPid = useApp((s) => s.selectedPid);
  const connected = useApp((s) => s.connection.status === 'connected');
  const [query, setQuery] = useState('');
  const [sort, setSort] = useState<SortSpec | null>({ column: 'rss', dir: 'desc' });
  const [onlyInspectable, setOnlyInspectable] = useState(false);

  useEffect(() => {
    if (connected && loadedAtMs === 0 && !loading) void refreshProcesses();
  }, [connected, loadedAtMs, loading]);

  const index = useMemo(() => {
    const col = sort ? COLUMNS.find((c) => c.id === sort.column) : undefined;
    return buildIndex(
      rows,
      query,
      (p) => `${p.pid} ${p.name} ${p.user} ${p.commandLine}`,
      col ? (p) => col.sortKey(p) : null,
      sort?.dir ?? 'asc',
      onlyInspectable ? (p) => p.inspectable : undefined,
    );
  }, [rows, query, sort, onlyInspectable]);

  const selectedPos = useMemo(() => {
    if (selectedPid === null) return null;
    const i = index.findIndex((r) => rows[r]?.pid === selectedPid);
    return i < 0 ? null : i;
  }, [index, rows, selectedPid]);
  const selected = rows.find((r) => r.pid === selectedPid) ?? null;
  const inspectable = rows.filter((r) => r.inspectable).length;

  const choose = (p: ProcessRow): void => {
    useApp.getState().selectPid(p.pid);
  };
  const open = (p: ProcessRow): void => {
    useApp.getState().selectPid(p.pid);
    if (p.inspectable) useApp.getState().setTab('capture');
  };

  return (
    <section className="view process-picker" data-testid="view-processes">
      <div className="toolbar">
        <input
          type="search"
          className="filter-input wide"
          placeholder="Search name, pid, user, command line…"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          data-testid="process-search"
          aria-label="Search processes"
          autoFocus
        />
        <label className="check">
          <input
            type="checkbox"
            checked={onlyInspectable}
            onChange={(e) => setOnlyInspectable(e.target.checked)}
            data-testid="process-only-inspectable"
          />
          Only inspectable
        </label>
        <button
          onClick={() => {
            if (!loading) void refreshProcesses();
          }}
          aria-disabled={loading}
          data-testid="process-refresh"
        >
          {loading ? 'Refreshing…' : 'Refresh'}
        </button>
        <span className="muted" data-testid="process-count">
          {index.length === rows.length
            ? plural(rows.length, 'process', 'processes')
            : `${formatCount(index.length)} of ${plural(rows.length, 'process', 'processes')}`}{' '}
          · {formatCount(inspectable)} inspectable
        </span>
        <span className="spacer" />
        <button
          className="primary"
          disabled={!selected?.inspectable}
          onClick={() => selected && open(selected)}
          data-testid="process-inspect"
          title={
            selected && !selected.inspectable
              ? selected.reason
              : 'Capture or walk the selected process'
          }
        >
          Inspect {selected ? `${selected.name} (${selected.pid})` : 'selected process'} →
        </button>
      </div>
      {error && <ErrorBox error={error} testId="process-error" />}
      {loading && rows.length === 0 ? (
        <Spinner label="Listing processes…" />
      ) : (
        <VirtualTable<ProcessRow>
          testId="process-table"
          columns={COLUMNS}
          rowCount={index.length}
          rowAt={(i) => rows[index[i] as number]}
          sort={sort}
          onSort={(c) => setSort(nextSort(sort, c))}
          selectedIndex={selectedPos}
          onRowClick={(i) => {
            const p = rows[index[i] as number];
            if (p) choose(p);
          }}
          onRowActivate={(i) => {
            const p = rows[index[i] as number];
            if (p) open(p);
          }}
          rowTestId={(_i, p) => (p ? `process-row-${p.pid}` : undefined)}
          rowClassName={(_i, p) =>
            p && !p.inspectable ? 'not-inspectable' : p?.self ? 'is-self' : undefined
          }
          renderCell={(c, p) =>
            c.id === 'access' ? (
              p.inspectable ? (
                <span className="badge ok">{p.self ? 'self' : 'yes'}</span>
              ) : (
                <span className="badge no" title={p.reason}>
                  <Icon name="lock" /> {p.reason ?? 'not permitted'}
                </span>
              )
            ) : (
              c.text(p)
            )
          }
          emptyText={
            rows.length === 0 ? 'No processes listed yet.' : 'No process matches the search.'
          }
          ariaLabel="Processes"
        />
      )}
      <div className="hint-line muted" id="process-hint">
        Select a process (click, or ↑/↓ in the table) and press <b>Inspect</b>, Enter or
        double-click it. A locked row says why it cannot be inspected: reading another user&apos;s
        handles and memory map needs ptrace read access (run as that user or as root).
      </div>
    </section>
  );
}
