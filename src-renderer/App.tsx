/** The shell: header with tabs and the connection indicator, banner, the current view, status bar. */
import { useEffect, useRef, useState } from 'react';
import { exportTrace, importTrace } from './api/actions';
import { ErrorBox } from './components/ErrorBox';
import { formatBytes, formatCount } from './lib/format';
import { raf } from './render/raf';
import { onCommand } from './session/ingest';
import { TABS, useApp, useAppShallow, type Tab } from './store';
import { AllocationsView } from './views/AllocationsView';
import { CapturePanel } from './views/CapturePanel';
import { CompareView } from './views/CompareView';
import { ProcessPicker } from './views/ProcessPicker';
import { SnapshotExplorer } from './views/SnapshotExplorer';
import { WalkView } from './views/WalkView';

const TAB_LABELS: Record<Tab, string> = {
  processes: 'Processes',
  capture: 'Capture',
  walk: 'Walk',
  allocations: 'Allocations',
  snapshot: 'Snapshot',
  compare: 'Compare',
};

function ConnectionIndicator() {
  const { status, detail } = useAppShallow((s) => ({
    status: s.connection.status,
    detail: s.connection.detail,
  }));
  const transport = useApp((s) => s.connection.appInfo?.transport ?? null);
  const text =
    status === 'connected'
      ? 'connected'
      : status === 'connecting'
        ? 'connecting…'
        : status === 'reconnecting'
          ? 'reconnecting…'
          : 'disconnected';
  return (
    <span
      className={`conn conn-${status}`}
      data-testid="connection-status"
      data-status={status}
      title={detail ?? (transport ? `transport: ${transport}` : '')}
      role="status"
    >
      <i className="conn-dot" aria-hidden="true" />
      {text}
    </span>
  );
}

function TabButton({ tab }: { tab: Tab }) {
  const on = useApp((s) => s.tab === tab);
  const badge = useApp((s) => {
    if (tab === 'walk') return s.session ? s.session.state : null;
    if (tab === 'snapshot') return s.snapshots.length ? String(s.snapshots.length) : null;
    if (tab === 'allocations') {
      const n = s.counts.failures + s.counts.violations + s.counts.leaks;
      return n ? `${n} ⚠` : null;
    }
    return null;
  });
  return (
    <button
      role="tab"
      aria-selected={on}
      className={`tab${on ? ' on' : ''}`}
      onClick={() => useApp.getState().setTab(tab)}
      data-testid={`tab-${tab}`}
    >
      {TAB_LABELS[tab]}
      {badge && (
        <span className={`tab-badge b-${badge.replace(/[^a-z]/g, '') || 'n'}`}>{badge}</span>
      )}
    </button>
  );
}

function StatusBar() {
  const info = useApp((s) => s.connection.appInfo);
  const c = useAppShallow((s) => ({ known: s.counts.known, store: s.counts.storeBytes }));
  const [frame, setFrame] = useState({ p95: 0, frames: 0 });
  useEffect(() => {
    const t = setInterval(
      () => setFrame({ p95: raf.workPercentile(95), frames: raf.frames }),
      1000,
    );
    return () => clearInterval(t);
  }, []);
  return (
    <footer className="status-bar" data-testid="status-bar">
      <span>
        {info
          ? `${info.name} ${info.version} · ${info.platform} · ${info.library} · ${info.transport}`
          : 'host: —'}
      </span>
      <span className="spacer" />
      <span title="Events held in the renderer's column store">
        {formatCount(c.known)} events · {formatBytes(c.store)}
      </span>
      <span
        title="95th percentile of the renderer's per-frame work (updates + canvas draws)"
        data-testid="frame-p95"
      >
        frame work p95 {frame.p95.toFixed(1)} ms
      </span>
    </footer>
  );
}

function About() {
  const open = useApp((s) => s.aboutOpen);
  const info = useApp((s) => s.connection.appInfo);
  if (!open) return null;
  return (
    <div className="modal-backdrop" onClick={() => useApp.getState().setAboutOpen(false)}>
      <div
        className="modal"
        role="dialog"
        aria-label="About"
        data-testid="about-dialog"
        onClick={(e) => e.stopPropagation()}
      >
        <h2>PSS Inspector</h2>
        <p>
          Inspects running processes through the Process Snapshotting API and shows, live, every
          allocation the snapshot walk makes through the allocator you choose.
        </p>
        {info && (
          <dl className="kv">
            <div className="kv-row">
              <dt>Version</dt>
              <dd>{info.version}</dd>
            </div>
            <div className="kv-row">
              <dt>Platform</dt>
              <dd>{info.platform}</dd>
            </div>
            <div className="kv-row">
              <dt>PSS library</dt>
              <dd>{info.library}</dd>
            </div>
            <div className="kv-row">
              <dt>Transport</dt>
              <dd>{info.transport}</dd>
            </div>
            <div className="kv-row">
              <dt>Host pid</dt>
              <dd>{info.pid}</dd>
            </div>
          </dl>
        )}
        <p className="muted small">
          Keys: Space play/pause · → step · Home seek to beginning. Wheel zooms the timeline, drag
          pans.
        </p>
        <button onClick={() => useApp.getState().setAboutOpen(false)} data-testid="about-close">
          Close
        </button>
      </div>
    </div>
  );
}

export function App() {
  const tab = useApp((s) => s.tab);
  const banner = useApp((s) => s.banner);
  const connError = useApp((s) =>
    s.connection.status === 'disconnected' ? s.connection.error : null,
  );
  const lost = useAppShallow((s) =>
    s.connection.status === 'reconnecting' ||
    (s.connection.status === 'disconnected' && !s.connection.error)
      ? { status: s.connection.status, detail: s.connection.detail }
      : null,
  );
  const hasSession = useApp((s) => s.session !== null);
  const fileInput = useRef<HTMLInputElement | null>(null);

  useEffect(() => {
    onCommand((c) => {
      if (c === 'openTrace') fileInput.current?.click();
      else if (c === 'exportTrace') void exportTrace();
      else useApp.getState().setAboutOpen(true);
    });
  }, []);

  return (
    <div className="app" data-testid="app">
      <header className="app-header">
        <span className="brand">
          <span className="brand-mark" aria-hidden="true">
            ◧
          </span>{' '}
          PSS Inspector
        </span>
        <nav className="tabs" role="tablist">
          {TABS.map((t) => (
            <TabButton key={t} tab={t} />
          ))}
        </nav>
        <span className="spacer" />
        <button
          onClick={() => fileInput.current?.click()}
          data-testid="open-trace"
          title="Open a saved .psstrace file"
        >
          Open trace…
        </button>
        {hasSession && (
          <button
            onClick={() => void exportTrace()}
            data-testid="header-export-trace"
            title="Save the session's trace"
          >
            Export
          </button>
        )}
        <input
          ref={fileInput}
          type="file"
          accept=".psstrace,application/octet-stream"
          hidden
          data-testid="open-trace-input"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void importTrace(f);
            e.target.value = '';
          }}
        />
        <ConnectionIndicator />
        <button
          className="icon"
          onClick={() => useApp.getState().setAboutOpen(true)}
          data-testid="about-button"
          aria-label="About"
          title="About"
        >
          ?
        </button>
      </header>
      {connError && <ErrorBox error={connError} testId="connection-error" />}
      {lost && (
        <div className="notice conn-notice" role="status" data-testid="connection-lost">
          The connection to the inspector host was lost
          {lost.status === 'reconnecting'
            ? ` — reconnecting${lost.detail ? `, ${lost.detail}` : ''}.`
            : '.'}{' '}
          A walk that was running is ended by the host; its events so far stay on screen.
        </div>
      )}
      {banner && (
        <ErrorBox
          error={banner}
          testId="banner-error"
          onDismiss={() => useApp.getState().setBanner(null)}
        />
      )}
      <main className="app-main">
        {tab === 'processes' && <ProcessPicker />}
        {tab === 'capture' && <CapturePanel />}
        {tab === 'walk' && <WalkView />}
        {tab === 'allocations' && <AllocationsView />}
        {tab === 'snapshot' && <SnapshotExplorer />}
        {tab === 'compare' && <CompareView />}
      </main>
      <StatusBar />
      <About />
    </div>
  );
}
