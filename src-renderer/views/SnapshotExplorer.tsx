/** A captured snapshot: process information, threads, handles, VA space (summary, map, table). */
import { useEffect, useMemo, useState } from 'react';
import type { SnapshotInfo } from '../../src-shared/contract/model';
import {
  PssCaptureFlags,
  PssProcessFlags,
  STILL_ACTIVE,
  flagNames,
  nameOf,
  type WalkableClass,
} from '../../src-shared/pss/constants';
import type {
  HandleEntry,
  ThreadEntry,
  VaSpaceEntry,
  WalkEntry,
} from '../../src-shared/pss/entries';
import { captureSnapshot, freeSnapshot } from '../api/actions';
import { VaMap } from '../charts/VaMap';
import { EntryTable } from '../components/EntryTable';
import { Empty, ErrorBox, Spinner } from '../components/ErrorBox';
import {
  CLASS_LABELS,
  HANDLE_COLUMNS,
  MODULE_COLUMNS,
  PAGE_COLUMNS,
  REGION_COLUMNS,
  THREAD_COLUMNS,
  type ColumnSpec,
} from '../data/entryColumns';
import { categorySlug, summarizeVa, type SummaryRow } from '../data/vaSummary';
import { isNa, type ModuleInfo, type SnapshotDetails } from '../../src-shared/pss/details';
import { usageColumns, type UsageColumn } from '../../src-shared/pss/details-text';
import { DetailsPane } from './DetailsPane';
import {
  formatBytes,
  formatCount,
  formatEpochMs,
  formatFileTime,
  formatHundredNs,
  formatMs,
  plural,
} from '../lib/format';
import { onTabListKey } from '../components/tabs';
import { loadSnapshotClass, snapshotRows } from '../session/snapshotCache';
import { useApp } from '../store';

type SubTab = 'process' | 'threads' | 'handles' | 'va' | 'modules' | 'pages';

const PRIORITY_CLASSES: Record<string, number> = {
  NORMAL: 0x20,
  IDLE: 0x40,
  HIGH: 0x80,
  REALTIME: 0x100,
  BELOW_NORMAL: 0x4000,
  ABOVE_NORMAL: 0x8000,
};

function KV({ rows, testId }: { rows: [string, React.ReactNode][]; testId: string }) {
  return (
    <dl className="kv" data-testid={testId}>
      {rows.map(([k, v]) => (
        <div className="kv-row" key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** "5 threads", "1 handle", or "threads not captured". */
function countOrNot(n: number | null, noun: string): string {
  return n === null ? `${noun}s not captured` : plural(n, noun);
}

function ProcessPanel({ snap }: { snap: SnapshotInfo }) {
  const p = snap.process;
  const perf = snap.performance;
  const perfMs = (v: number): string => formatMs(v / 1000);
  return (
    <div
      className="process-panel"
      data-testid="snapshot-process"
      role="region"
      aria-label="Process information"
      tabIndex={0}
    >
      <div className="card">
        <div className="card-title">Process</div>
        <KV
          testId="process-info"
          rows={[
            [
              'Image',
              <span className="mono" key="i">
                {p.imageFileName || '—'}
              </span>,
            ],
            ['Process id', p.processId],
            ['Parent id', p.parentProcessId],
            [
              'Exit status',
              p.exitStatus === STILL_ACTIVE ? 'running (STILL_ACTIVE)' : p.exitStatus,
            ],
            ['Flags', flagNames(p.flags, PssProcessFlags).join(' | ') || 'none'],
            [
              'Priority class',
              `${nameOf(p.priorityClass, PRIORITY_CLASSES)} (base ${p.basePriority})`,
            ],
            [
              'Affinity',
              <span className="mono" key="a">
                {p.affinityMask}
              </span>,
            ],
            [
              'PEB (stack block)',
              <span className="mono" key="p">
                {p.pebBaseAddress}
              </span>,
            ],
            ['Created', formatFileTime(p.createTime)],
            [
              'CPU kernel / user',
              `${formatHundredNs(p.kernelTime)} / ${formatHundredNs(p.userTime)}`,
            ],
            ['Execute flags', `0x${p.executeFlags.toString(16)}`],
          ]}
        />
      </div>
      <div className="card">
        <div className="card-title">Memory</div>
        <KV
          testId="process-memory"
          rows={[
            [
              'Working set',
              `${formatBytes(p.workingSetSize)} (peak ${formatBytes(p.peakWorkingSetSize)})`,
            ],
            [
              'Virtual size',
              `${formatBytes(p.virtualSize)} (peak ${formatBytes(p.peakVirtualSize)})`,
            ],
            ['Private bytes', formatBytes(p.privateUsage)],
            [
              'Pagefile usage',
              `${formatBytes(p.pagefileUsage)} (peak ${formatBytes(p.peakPagefileUsage)})`,
            ],
            ['Page faults', formatCount(p.pageFaultCount)],
            [
              'Non-paged pool',
              `${formatBytes(p.quotaNonPagedPoolUsage)} (peak ${formatBytes(p.quotaPeakNonPagedPoolUsage)})`,
            ],
            [
              'Paged pool',
              `${formatBytes(p.quotaPagedPoolUsage)} (peak ${formatBytes(p.quotaPeakPagedPoolUsage)})`,
            ],
          ]}
        />
      </div>
      <div className="card">
        <div className="card-title">Snapshot</div>
        <KV
          testId="snapshot-info"
          rows={[
            [
              'Snapshot id',
              <span className="mono" key="s">
                {snap.snapshotId}
              </span>,
            ],
            ['Captured', formatEpochMs(snap.capturedAtMs)],
            ['Capture took', formatMs(snap.captureMs)],
            [
              'Flags',
              <span className="mono small" key="f">
                {flagNames(snap.flags, PssCaptureFlags).join(' | ') || 'NONE'}
              </span>,
            ],
            ['Threads', snap.counts.threads ?? 'not captured'],
            ['Handles', snap.counts.handles ?? 'not captured'],
            ['Regions', snap.counts.regions ?? 'not captured'],
            ['Aux pages', snap.counts.auxPages ?? 'not captured'],
          ]}
        />
        <DetailsSummary details={snap.details} />
        {perf && (
          <>
            <div className="subhead">Capture performance (PSS_PERFORMANCE_COUNTERS)</div>
            <p className="muted small explain">
              Measured by PssCaptureSnapshot itself. The toolbar&apos;s &ldquo;capture took&rdquo;
              is the inspector&apos;s own wall-clock time around the call, which also counts opening
              the process and the call&apos;s overhead, so it is longer.
            </p>
            <KV
              testId="snapshot-performance"
              rows={[
                ['Total', perfMs(perf.totalWallClockPeriod)],
                ['VA space', perfMs(perf.vaSpaceWallClockPeriod)],
                ['Handles', perfMs(perf.handlesWallClockPeriod)],
                ['Threads', perfMs(perf.threadsWallClockPeriod)],
                ['VA clone', perfMs(perf.vaCloneWallClockPeriod)],
              ]}
            />
          </>
        )}
      </div>
    </div>
  );
}

function useClassRows(snapshotId: string, cls: WalkableClass, enabled: boolean) {
  const version = useApp((s) => s.snapshotDataVersion);
  useEffect(() => {
    if (enabled) void loadSnapshotClass(snapshotId, cls);
  }, [snapshotId, cls, enabled]);
  return { data: snapshotRows(snapshotId, cls), version };
}

function ClassTable<T extends WalkEntry>({
  snapshotId,
  cls,
  columns,
  testId,
  rowId,
  defaultSort,
}: {
  snapshotId: string;
  cls: WalkableClass;
  columns: ColumnSpec<T>[];
  testId: string;
  rowId: (r: T, i: number) => string;
  defaultSort?: { column: string; dir: 'asc' | 'desc' };
}) {
  const { data, version } = useClassRows(snapshotId, cls, true);
  const [selected, setSelected] = useState<number | null>(null);
  if (!data || (data.loading && data.rows.length === 0)) return <Spinner label="Loading rows…" />;
  if (data.error) return <ErrorBox error={data.error} testId={`${testId}-error`} />;
  const rows = data.rows as T[];
  return (
    <div className="table-with-details">
      <EntryTable<T>
        testId={testId}
        rows={rows}
        version={version + rows.length}
        columns={columns}
        defaultSort={defaultSort ?? null}
        rowTestId={rowId}
        selectedRow={selected}
        onSelectRow={setSelected}
        ariaLabel={`${CLASS_LABELS[cls]} of the snapshot`}
      />
      <DetailsPane
        entry={selected === null ? null : (rows[selected] ?? null)}
        onClose={() => setSelected(null)}
      />
    </div>
  );
}

/** Sizes of the usage columns for a summary row (n/a when no region of it had usage). */
const USAGE_HEADS: [UsageColumn, string, string][] = [
  ['workingSet', 'Working set', 'Resident (Rss)'],
  ['privateWs', 'Private WS', 'Resident and mapped only here'],
  ['sharedWs', 'Shared WS', 'Resident and also mapped elsewhere'],
  ['pss', 'PSS', 'Proportional share'],
  ['dirty', 'Dirty', 'Modified resident pages'],
  ['swap', 'Swap', 'Swapped out'],
  ['locked', 'Locked', 'Locked in memory'],
];

function usageCell(v: number | null): string {
  return v === null ? 'n/a' : formatBytes(v);
}

/** What the inspection details of a snapshot cover, what they cost, what is missing. */
function DetailsSummary({ details }: { details: SnapshotDetails | null }) {
  if (!details) {
    return (
      <div className="muted small" data-testid="details-summary">
        Inspection details were not captured (this platform has no source for them yet).
      </div>
    );
  }
  const parts = Object.entries(details.requested)
    .filter(([, on]) => on)
    .map(([k]) => k);
  const problems = Object.entries(details.problems).filter(
    ([k, p]) => p !== null && details.requested[k as keyof typeof details.requested],
  );
  const c = details.cost;
  return (
    <>
      <div className="subhead">Inspection details (captured at the same moment)</div>
      <KV
        testId="details-summary"
        rows={[
          ['Parts', parts.join(', ')],
          ['Captured', formatFileTime(details.captureTime)],
          [
            'Cost',
            `${formatHundredNs(c.total)} (threads ${formatHundredNs(c.threads)}, handles ${formatHundredNs(c.handles)}, peers ${formatHundredNs(c.peers)}, regions ${formatHundredNs(c.regions)}, modules ${formatHundredNs(c.modules)})`,
          ],
          ...(details.requested.usage
            ? [
                [
                  'Memory usage (smaps)',
                  `${formatBytes(c.usageBytesRead)} of smaps read; rollup ${formatHundredNs(c.rollup)}`,
                ] as [string, React.ReactNode],
              ]
            : []),
          ...problems.map(([k, p]) => [`Missing: ${k}`, p] as [string, React.ReactNode]),
        ]}
      />
    </>
  );
}
function SummaryTable({
  title,
  rows,
  total,
  testId,
  swatch,
  usage,
}: {
  title: string;
  rows: SummaryRow[];
  total: SummaryRow;
  testId: string;
  swatch?: boolean;
  usage: boolean;
}) {
  const cells = (r: SummaryRow) => (
    <>
      <td className="num">{formatCount(r.regions)}</td>
      <td className="num">{formatBytes(r.size)}</td>
      <td className="num">{formatBytes(r.committed)}</td>
      <td className="num">{formatBytes(r.reserved)}</td>
      {usage &&
        USAGE_HEADS.map(([k]) => (
          <td className="num" key={k}>
            {r.label === 'Free' ? '' : usageCell(r.usage[k])}
          </td>
        ))}
    </>
  );
  // In its own box that scrolls sideways only where even the box alone is wider than the window
  // (200 % zoom); a scroll box is a labelled region a keyboard can focus and scroll.
  return (
    <div
      className="va-summary-box"
      role="region"
      aria-label={`Regions by ${title.toLowerCase()}`}
      tabIndex={0}
      data-testid={`${testId}-box`}
    >
      <table className="breakdown va-summary" data-testid={testId}>
        <thead>
          <tr>
            <th>{title}</th>
            <th className="num">Regions</th>
            <th className="num">Size</th>
            <th className="num">Committed</th>
            <th className="num">Reserved</th>
            {usage &&
              USAGE_HEADS.map(([k, label, tip]) => (
                <th className="num" key={k} title={tip}>
                  {label}
                </th>
              ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.label} data-testid={`${testId}-${r.label.replace(/[^A-Za-z]+/g, '-')}`}>
              <td>
                {swatch && <i className={`sw rg-${categorySlug(r.label)}`} />}
                {r.label}
              </td>
              {cells(r)}
            </tr>
          ))}
          <tr className="total" data-testid={`${testId}-total`}>
            <td>{total.label}</td>
            {cells(total)}
          </tr>
        </tbody>
      </table>
    </div>
  );
}

/** How the usage was measured: its cost, and the rollup the sums must meet. */
function UsageNote({ snap }: { snap: SnapshotInfo }) {
  const d = snap.details;
  if (!d || !d.requested.regions) return null;
  if (!d.requested.usage) {
    return (
      <div className="usage-note muted small" data-testid="usage-note">
        Memory usage (working set, PSS, swap…) was not captured: it reads smaps, which costs several
        times the maps read.{' '}
        <button
          className="link"
          onClick={() => void captureSnapshot(snap.pid, snap.flags, true)}
          data-testid="usage-capture-again"
        >
          Capture again with memory usage
        </button>
      </div>
    );
  }
  const r = d.rollup;
  return (
    <div className="usage-note small" data-testid="usage-note">
      Memory usage from <span className="mono">/proc/{snap.pid}/smaps</span>:{' '}
      {formatBytes(d.cost.usageBytesRead)} read in {formatHundredNs(d.cost.regions)} (the maps read
      alone is several times cheaper). Whole process (smaps_rollup):{' '}
      {isNa(r) ? (
        <span className="na" title={r.na}>
          n/a
        </span>
      ) : (
        <span data-testid="usage-rollup">
          working set {usageCell(usageColumns.workingSet(r))}, PSS {usageCell(r.pss)}, swap{' '}
          {usageCell(r.swap)}
        </span>
      )}
      .
    </div>
  );
}

function ModulesPanel({ modules }: { modules: ModuleInfo[] }) {
  return (
    <EntryTable<ModuleInfo>
      testId="modules-table"
      ariaLabel="Modules"
      rows={modules}
      version={modules.length}
      columns={MODULE_COLUMNS}
      defaultSort={{ column: 'base', dir: 'asc' }}
      rowTestId={(m) => `module-row-${m.base}`}
    />
  );
}

const NO_REGIONS: VaSpaceEntry[] = [];

function VaPanel({ snap }: { snap: SnapshotInfo }) {
  const snapshotId = snap.snapshotId;
  const { data, version } = useClassRows(snapshotId, 'VA_SPACE', true);
  const [selected, setSelected] = useState<number | null>(null);
  const rows = (data?.rows ?? NO_REGIONS) as VaSpaceEntry[];
  const loaded = data !== null && !data.loading;
  const count = rows.length;
  const summary = useMemo(
    () => (loaded && count >= 0 ? summarizeVa(rows) : null),
    [rows, loaded, count],
  );
  if (!data || (data.loading && data.rows.length === 0))
    return <Spinner label="Loading regions…" />;
  if (data.error) return <ErrorBox error={data.error} testId="va-error" />;
  return (
    <div className="va-panel" data-testid="snapshot-va">
      <div className={`va-top${summary?.hasUsage ? ' with-usage' : ''}`}>
        {summary && (
          <>
            <SummaryTable
              title="Type"
              rows={summary.byType}
              total={summary.total}
              testId="va-by-type"
              swatch
              usage={summary.hasUsage}
            />
            <SummaryTable
              title="Protection"
              rows={summary.byProtect.slice(0, 8)}
              total={summary.total}
              testId="va-by-protect"
              usage={false}
            />
          </>
        )}
      </div>
      <UsageNote snap={snap} />
      <VaMap
        regions={rows}
        version={version + rows.length}
        selected={selected}
        onSelect={setSelected}
      />
      <div className="table-with-details">
        <EntryTable<VaSpaceEntry>
          testId="va-table"
          ariaLabel="Regions"
          rows={rows}
          version={version + rows.length}
          columns={REGION_COLUMNS}
          currentRow={selected}
          selectedRow={selected}
          onSelectRow={setSelected}
          rowTestId={(_r, i) => `va-row-${i}`}
        />
        <DetailsPane
          entry={selected === null ? null : (rows[selected] ?? null)}
          onClose={() => setSelected(null)}
        />
      </div>
    </div>
  );
}

export function SnapshotExplorer() {
  const snapshots = useApp((s) => s.snapshots);
  const activeId = useApp((s) => s.activeSnapshotId);
  const capturing = useApp((s) => s.capturing);
  const captureError = useApp((s) => s.captureError);
  const [tab, setTab] = useState<SubTab>('process');
  const snap =
    snapshots.find((s) => s.snapshotId === activeId) ?? snapshots[snapshots.length - 1] ?? null;

  if (!snap) {
    return (
      <section className="view" data-testid="view-snapshot">
        {captureError && <ErrorBox error={captureError} testId="capture-error" />}
        <Empty title="No snapshot captured" testId="snapshot-empty">
          Pick a process and press <b>Capture snapshot</b> in the Capture tab.
          <div>
            <button
              onClick={() =>
                useApp.getState().setTab(useApp.getState().selectedPid ? 'capture' : 'processes')
              }
              data-testid="snapshot-go-capture"
            >
              Capture a snapshot
            </button>
          </div>
        </Empty>
      </section>
    );
  }

  const tabs: [SubTab, string, number | null][] = [
    ['process', 'Process', null],
    ['threads', 'Threads', snap.counts.threads],
    ['handles', 'Handles', snap.counts.handles],
    ['va', 'VA space', snap.counts.regions],
  ];
  if (snap.details?.requested.regions)
    tabs.push(['modules', 'Modules', snap.details.modules.length]);
  if ((snap.counts.auxPages ?? 0) > 0) tabs.push(['pages', 'Aux pages', snap.counts.auxPages]);
  const others = snapshots.filter((s) => s.pid === snap.pid && s.snapshotId !== snap.snapshotId);

  return (
    <section className="view snapshot-view" data-testid="view-snapshot">
      <div className="toolbar">
        <select
          value={snap.snapshotId}
          onChange={(e) => useApp.getState().setActiveSnapshot(e.target.value)}
          data-testid="snapshot-select"
          aria-label="Snapshot"
        >
          {snapshots.map((s) => (
            <option key={s.snapshotId} value={s.snapshotId}>
              {s.processName} ({s.pid}) · {formatEpochMs(s.capturedAtMs).slice(11)} · {s.snapshotId}
            </option>
          ))}
        </select>
        <span className="muted small" data-testid="snapshot-facts">
          <span title="Wall-clock time the inspector measured around OpenProcess + PssCaptureSnapshot (the Process tab's capture performance counters are the library's own, inside PssCaptureSnapshot)">
            capture took {formatMs(snap.captureMs)}
          </span>
          {' · '}
          {countOrNot(snap.counts.threads, 'thread')} · {countOrNot(snap.counts.handles, 'handle')}{' '}
          · {countOrNot(snap.counts.regions, 'region')}
        </span>
        <span className="spacer" />
        <button
          onClick={() => {
            if (!capturing)
              void captureSnapshot(snap.pid, snap.flags, snap.details?.requested.usage ?? false);
          }}
          aria-disabled={capturing}
          data-testid="snapshot-recapture"
          title="Capture the same process again with the same flags"
        >
          {capturing ? 'Capturing…' : 'Capture again'}
        </button>
        <button
          onClick={() => {
            const s = useApp.getState();
            s.setCompare({
              a: others[others.length - 1]?.snapshotId ?? null,
              b: snap.snapshotId,
              diff: null,
              error: null,
            });
            s.setTab('compare');
          }}
          data-testid="snapshot-compare"
        >
          Compare…
        </button>
        <button
          onClick={() => {
            const s = useApp.getState();
            s.selectPid(snap.pid);
            s.setWalkTarget(snap.snapshotId);
            s.setTab('capture');
          }}
          data-testid="snapshot-walk"
          title="Choose the allocator, classes and pace in the Capture tab, then start the walk of this snapshot"
        >
          Walk this snapshot…
        </button>
        <button
          onClick={() => void freeSnapshot(snap.snapshotId)}
          data-testid="snapshot-free"
          title="Release this snapshot (PssFreeSnapshot); capture again to get a new one"
        >
          Free snapshot
        </button>
      </div>
      {captureError && (
        <ErrorBox
          error={captureError}
          testId="capture-error"
          onDismiss={() => useApp.getState().setCapturing(false)}
        />
      )}
      <div
        className="subtabs"
        role="tablist"
        aria-label="Snapshot contents"
        onKeyDown={onTabListKey}
      >
        {tabs.map(([id, label, count]) => (
          <button
            key={id}
            role="tab"
            id={`snap-tab-${id}`}
            aria-selected={tab === id}
            aria-controls="snapshot-panel"
            tabIndex={tab === id ? 0 : -1}
            className={`subtab${tab === id ? ' on' : ''}`}
            onClick={() => setTab(id)}
            data-testid={`snap-tab-${id}`}
          >
            {label}
            {count !== null && <span className="muted"> {formatCount(count)}</span>}
          </button>
        ))}
      </div>
      <div
        className="snapshot-body"
        role="tabpanel"
        id="snapshot-panel"
        aria-labelledby={`snap-tab-${tab}`}
      >
        {tab === 'process' && <ProcessPanel snap={snap} />}
        {tab === 'threads' &&
          (snap.counts.threads === null ? (
            <Empty title="Threads were not captured" testId="threads-not-captured">
              Capture with PSS_CAPTURE_THREADS.
            </Empty>
          ) : (
            <ClassTable<ThreadEntry>
              key={snap.snapshotId}
              snapshotId={snap.snapshotId}
              cls="THREADS"
              columns={THREAD_COLUMNS}
              testId="threads-table"
              rowId={(t) => `thread-row-${t.threadId}`}
            />
          ))}
        {tab === 'handles' &&
          (snap.counts.handles === null ? (
            <Empty title="Handles were not captured" testId="handles-not-captured">
              Capture with PSS_CAPTURE_HANDLES.
            </Empty>
          ) : (
            <ClassTable<HandleEntry>
              key={snap.snapshotId}
              snapshotId={snap.snapshotId}
              cls="HANDLES"
              columns={HANDLE_COLUMNS}
              testId="handles-table"
              rowId={(h) => `handle-row-${h.handle}`}
            />
          ))}
        {tab === 'va' &&
          (snap.counts.regions === null ? (
            <Empty title="The VA space was not captured" testId="va-not-captured">
              Capture with PSS_CAPTURE_VA_SPACE.
            </Empty>
          ) : (
            <VaPanel key={snap.snapshotId} snap={snap} />
          ))}
        {tab === 'modules' && snap.details && <ModulesPanel modules={snap.details.modules} />}
        {tab === 'pages' && (
          <ClassTable
            key={snap.snapshotId}
            snapshotId={snap.snapshotId}
            cls="AUXILIARY_PAGES"
            columns={PAGE_COLUMNS}
            testId="pages-table"
            rowId={(_p, i) => `page-row-${i}`}
          />
        )}
      </div>
    </section>
  );
}
