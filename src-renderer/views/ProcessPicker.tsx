/**
 * Every process as a tree (parent → children), refreshed live (1 s by default, pausable):
 * CPU %, resident memory, threads, handles and user; searchable (matches keep their ancestors),
 * sortable (siblings by column), keyboard-navigable (arrows, Home/End, PageUp/Down, Enter to
 * inspect). Processes we may not inspect say why.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { KeyboardEvent } from 'react';
import type { ProcessRow } from '../../src-shared/contract/model';
import { isNa } from '../../src-shared/pss/details';
import { refreshProcesses } from '../api/actions';
import { ErrorBox, Spinner } from '../components/ErrorBox';
import { Icon } from '../components/Icon';
import { nextSort, VirtualTable, type ScrollRequest } from '../components/VirtualTable';
import type { ColumnSpec } from '../data/entryColumns';
import { buildProcessTree, treeKey, type TreeKey, type TreeRow } from '../data/processTree';
import type { SortSpec } from '../data/tableIndex';
import { formatBytes, formatCount, formatEpochMs, formatHundredNs, plural } from '../lib/format';
import { useApp, useAppShallow } from '../store';

const INTERVALS = [500, 1000, 2000, 5000] as const;

const naText = (v: unknown, text: (x: number) => string): string =>
  isNa(v) ? 'n/a' : text(v as number);

const COLUMNS: ColumnSpec<TreeRow>[] = [
  {
    id: 'name',
    label: 'Name',
    width: 280,
    minWidth: 230,
    text: (t) => t.row.name,
    sortKey: (t) => t.row.name.toLowerCase(),
  },
  {
    id: 'pid',
    label: 'PID',
    width: 70,
    minWidth: 66,
    align: 'right',
    text: (t) => String(t.row.pid),
    sortKey: (t) => t.row.pid,
  },
  {
    id: 'cpu',
    label: 'CPU %',
    width: 62,
    minWidth: 56,
    align: 'right',
    title: 'Share of all CPUs since the previous refresh',
    text: (t) => naText(t.row.cpuPercent, (v) => v.toFixed(1)),
    sortKey: (t) => (isNa(t.row.cpuPercent) ? -1 : t.row.cpuPercent),
    cellTitle: (t) => (isNa(t.row.cpuPercent) ? t.row.cpuPercent.na : undefined),
  },
  {
    id: 'rss',
    label: 'Resident',
    width: 86,
    minWidth: 72,
    align: 'right',
    text: (t) => formatBytes(t.row.rssBytes),
    sortKey: (t) => t.row.rssBytes,
  },
  {
    id: 'threads',
    label: 'Threads',
    width: 62,
    minWidth: 60,
    align: 'right',
    text: (t) => String(t.row.threads),
    sortKey: (t) => t.row.threads,
  },
  {
    id: 'handles',
    label: 'Handles',
    width: 66,
    minWidth: 62,
    align: 'right',
    text: (t) => naText(t.row.handles, formatCount),
    sortKey: (t) => (isNa(t.row.handles) ? -1 : t.row.handles),
    cellTitle: (t) => (isNa(t.row.handles) ? t.row.handles.na : undefined),
  },
  {
    id: 'user',
    label: 'User',
    width: 90,
    minWidth: 70,
    drop: 4,
    text: (t) => t.row.user,
    sortKey: (t) => t.row.user,
  },
  {
    id: 'cpuTime',
    label: 'CPU time',
    width: 80,
    minWidth: 76,
    drop: 2,
    align: 'right',
    text: (t) => formatHundredNs(t.row.cpuTime),
    sortKey: (t) => t.row.cpuTime,
  },
  {
    id: 'vsize',
    label: 'Virtual',
    width: 86,
    minWidth: 76,
    drop: 2,
    align: 'right',
    text: (t) => formatBytes(t.row.vsizeBytes),
    sortKey: (t) => t.row.vsizeBytes,
  },
  {
    id: 'state',
    label: 'State',
    width: 48,
    minWidth: 46,
    drop: 3,
    text: (t) => t.row.state,
    sortKey: (t) => t.row.state,
  },
  {
    id: 'access',
    label: 'Inspect',
    width: 170,
    minWidth: 120,
    text: (t) =>
      t.row.inspectable
        ? t.row.self
          ? 'yes (this inspector)'
          : 'yes'
        : `no — ${t.row.reason ?? 'not permitted'}`,
    sortKey: (t) => (t.row.inspectable ? 0 : 1),
  },
  {
    id: 'started',
    label: 'Started',
    width: 165,
    minWidth: 160,
    drop: 1,
    text: (t) => formatEpochMs(t.row.startTimeMs),
    sortKey: (t) => t.row.startTimeMs,
  },
  {
    id: 'cmd',
    label: 'Command line',
    width: 420,
    minWidth: 160,
    text: (t) => t.row.commandLine,
    sortKey: (t) => t.row.commandLine,
  },
];

const searchText = (r: ProcessRow): string => `${r.pid} ${r.name} ${r.user} ${r.commandLine}`;

export function ProcessPicker() {
  const { rows, loading, error, loadedAtMs } = useAppShallow((s) => s.processes);
  const selectedPid = useApp((s) => s.selectedPid);
  const connected = useApp((s) => s.connection.status === 'connected');
  const [query, setQuery] = useState('');
  const [sort, setSort] = useState<SortSpec | null>({ column: 'pid', dir: 'asc' });
  const [onlyInspectable, setOnlyInspectable] = useState(false);
  const [collapsed, setCollapsed] = useState<ReadonlySet<number>>(new Set());
  const [live, setLive] = useState(true);
  const [intervalMs, setIntervalMs] = useState<number>(1000);
  const [scrollTo, setScrollTo] = useState<ScrollRequest | null>(null);
  const inFlight = useRef(false);

  const refresh = useCallback(async (quiet: boolean) => {
    if (inFlight.current) return;
    inFlight.current = true;
    try {
      await refreshProcesses(quiet);
    } finally {
      inFlight.current = false;
    }
  }, []);

  useEffect(() => {
    if (connected && loadedAtMs === 0 && !loading) void refresh(false);
  }, [connected, loadedAtMs, loading, refresh]);

  // Live refresh: a listing every intervalMs while not paused (skipped while one runs).
  useEffect(() => {
    if (!connected || !live) return;
    const id = setInterval(() => void refresh(true), intervalMs);
    return () => clearInterval(id);
  }, [connected, live, intervalMs, refresh]);

  const tree = useMemo(() => {
    const col = sort ? COLUMNS.find((c) => c.id === sort.column) : undefined;
    return buildProcessTree(rows, {
      query,
      sortKey: col ? (r) => col.sortKey({ row: r } as TreeRow) : null,
      dir: sort?.dir ?? 'asc',
      collapsed,
      text: searchText,
      ...(onlyInspectable ? { keep: (r: ProcessRow) => r.inspectable } : {}),
    });
  }, [rows, query, sort, collapsed, onlyInspectable]);

  const selectedIndex = useMemo(() => {
    if (selectedPid === null) return null;
    const i = tree.findIndex((t) => t.row.pid === selectedPid);
    return i < 0 ? null : i;
  }, [tree, selectedPid]);
  // When the search or filter changes, bring the selected process into view (centred).
  const selectedRef = useRef<number | null>(null);
  useEffect(() => {
    selectedRef.current = selectedIndex;
  });
  useEffect(() => {
    const i = selectedRef.current;
    if (i !== null) setScrollTo({ index: i, token: Date.now(), center: true });
  }, [query, onlyInspectable]);
  const selected = rows.find((r) => r.pid === selectedPid) ?? null;
  const inspectable = rows.filter((r) => r.inspectable).length;
  const shown = tree.length;

  const toggle = (pid: number): void => {
    const next = new Set(collapsed);
    if (next.has(pid)) next.delete(pid);
    else next.add(pid);
    setCollapsed(next);
  };
  const open = (p: ProcessRow): void => {
    useApp.getState().selectPid(p.pid);
    if (p.inspectable) useApp.getState().setTab('capture');
  };
  const select = (index: number): void => {
    const t = tree[index];
    if (!t) return;
    useApp.getState().selectPid(t.row.pid);
    setScrollTo({ index, token: Date.now(), center: false });
  };

  // The table moves the selection with ↑/↓/PgUp/PgDn/Home/End and opens a row with Enter;
  // the tree adds ← (close the branch, or go to the parent) and → (open it, or go to its
  // first child).
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>): void => {
    if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    e.preventDefault();
    const r = treeKey(tree, selectedIndex, e.key as TreeKey);
    if (r.toggle !== null) toggle(r.toggle);
    if (r.index !== null) select(r.index);
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
          onClick={() => setLive(!live)}
          aria-pressed={live}
          className={live ? 'on' : undefined}
          data-testid="process-live"
          title={live ? 'Pause the live refresh' : 'Refresh live again'}
        >
          {live ? 'Pause' : 'Resume live'}
        </button>
        <select
          value={intervalMs}
          onChange={(e) => setIntervalMs(Number(e.target.value))}
          data-testid="process-interval"
          aria-label="Refresh interval"
        >
          {INTERVALS.map((ms) => (
            <option key={ms} value={ms}>
              every {ms < 1000 ? `${ms} ms` : `${ms / 1000} s`}
            </option>
          ))}
        </select>
        <button
          onClick={() => {
            if (!loading) void refresh(false);
          }}
          aria-disabled={loading}
          data-testid="process-refresh"
        >
          {loading ? 'Refreshing…' : 'Refresh'}
        </button>
        <span className="muted" data-testid="process-count">
          {shown === rows.length
            ? plural(rows.length, 'process', 'processes')
            : `${formatCount(shown)} of ${plural(rows.length, 'process', 'processes')}`}{' '}
          · {formatCount(inspectable)} inspectable
        </span>
        <span className="muted small" data-testid="process-updated">
          {live ? 'live' : 'paused'}
          {loadedAtMs ? ` · ${formatEpochMs(loadedAtMs).slice(11, 19)}` : ''}
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
              : 'Capture or walk the selected process (Enter)'
          }
        >
          Inspect {selected ? `${selected.name} (${selected.pid})` : 'selected process'} →
        </button>
      </div>
      {error && <ErrorBox error={error} testId="process-error" />}
      {loading && rows.length === 0 ? (
        <Spinner label="Listing processes…" />
      ) : (
        <div className="process-tree" onKeyDown={onKeyDown}>
          <VirtualTable<TreeRow>
            testId="process-table"
            columns={COLUMNS}
            rowCount={tree.length}
            rowAt={(i) => tree[i]}
            sort={sort}
            onSort={(c) => setSort(nextSort(sort, c))}
            selectedIndex={selectedIndex}
            scrollTo={scrollTo}
            onRowClick={select}
            onRowActivate={(i) => {
              const t = tree[i];
              if (t) open(t.row);
            }}
            rowTestId={(_i, t) => (t ? `process-row-${t.row.pid}` : undefined)}
            rowClassName={(_i, t) =>
              t && !t.row.inspectable ? 'not-inspectable' : t?.row.self ? 'is-self' : undefined
            }
            renderCell={(c, t) =>
              c.id === 'name' ? (
                <span className="tree-name" style={{ paddingLeft: t.depth * 12 }}>
                  {t.hasChildren ? (
                    <button
                      className="twisty"
                      aria-label={t.expanded ? 'Collapse' : 'Expand'}
                      aria-expanded={t.expanded}
                      tabIndex={-1}
                      data-testid={`process-twisty-${t.row.pid}`}
                      onClick={(e) => {
                        e.stopPropagation();
                        toggle(t.row.pid);
                      }}
                    >
                      {t.expanded ? '▾' : '▸'}
                    </button>
                  ) : (
                    <span className="twisty-space" />
                  )}
                  {t.row.name}
                </span>
              ) : c.id === 'access' ? (
                t.row.inspectable ? (
                  <span className="badge ok">{t.row.self ? 'self' : 'yes'}</span>
                ) : (
                  <span className="badge no" title={t.row.reason}>
                    <Icon name="lock" /> {t.row.reason ?? 'not permitted'}
                  </span>
                )
              ) : (
                c.text(t)
              )
            }
            emptyText={
              rows.length === 0 ? 'No processes listed yet.' : 'No process matches the search.'
            }
            ariaLabel="Processes (tree)"
          />
        </div>
      )}
      <div className="hint-line muted" id="process-hint">
        Select a process (click, or ↑/↓ in the tree; ←/→ close or open a branch, ← on a child goes
        to its parent) and press <b>Inspect</b>, Enter or double-click it. A search shows the
        matching processes, each under its nearest matching parent. A locked row says why it cannot
        be inspected: reading another user&apos;s handles and memory map needs ptrace read access.
      </div>
    </section>
  );
}
