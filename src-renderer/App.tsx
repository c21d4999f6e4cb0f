/** The shell: header with tabs and the connection indicator, banner, the current view, status bar. */
import { useEffect, useRef, useState } from 'react';
import { exportTrace, importTrace, openSentTrace } from './api/actions';
import { Dialog } from './components/Dialog';
import { ErrorBox } from './components/ErrorBox';
import { Icon } from './components/Icon';
import { Announcer } from './components/Announcer';
import { DropTarget } from './components/DropTarget';
import { ViewBoundary } from './components/ViewBoundary';
import { onTabListKey } from './components/tabs';
import { formatBytes, plural } from './lib/format';
import { SHORTCUTS, keyBelongsToTarget, viewShortcut } from './lib/shortcuts';
import { raf } from './render/raf';
import { onCommand } from './session/ingest';
import { TABS, useApp, useAppShallow, type Tab } from './store';
import { AllocationsView } from './views/AllocationsView';
import { CapturePanel } from './views/CapturePanel';
import { CompareView } from './views/CompareView';
import { ProcessPicker } from './views/ProcessPicker';
import { SnapshotExplorer } from './views/SnapshotExplorer';
import { shownState } from './views/SessionBar';
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
      <span className="sr-only">Host </span>
      <span className="conn-text">{text}</span>
    </span>
  );
}

/** The tab's badge and what a screen reader says for it ("Walk, finished"). */
function useTabBadge(tab: Tab): { text: string; cls: string; spoken: string } | null {
  return useAppShallow((s) => {
    if (tab === 'walk' && s.session) {
      const st = shownState(s.session, s.counts, s.summary);
      return { text: st, cls: `b-${st}`, spoken: st };
    }
    if (tab === 'snapshot' && s.snapshots.length) {
      const n = s.snapshots.length;
      return { text: String(n), cls: 'b-count', spoken: plural(n, 'snapshot') };
    }
    if (tab === 'allocations') {
      const n = s.counts.problems;
      return n ? { text: `${n} ⚠`, cls: 'b-n', spoken: plural(n, 'problem') } : null;
    }
    return null;
  });
}

export const tabButtonId = (tab: Tab): string => `tabbtn-${tab}`;

function TabButton({ tab }: { tab: Tab }) {
  const on = useApp((s) => s.tab === tab);
  const badge = useTabBadge(tab);
  return (
    <button
      role="tab"
      id={tabButtonId(tab)}
      aria-selected={on}
      aria-controls="view-panel"
      tabIndex={on ? 0 : -1}
      className={`tab${on ? ' on' : ''}`}
      onClick={() => useApp.getState().setTab(tab)}
      data-testid={`tab-${tab}`}
      title={`${TAB_LABELS[tab]} (Alt+${TABS.indexOf(tab) + 1})`}
      // The name in one piece ("Walk, finished"): a visually hidden span would be a block of its
      // own and read "Walk , session finished"; it holds the visible text, as axe's
      // label-content-name-mismatch asks.
      aria-label={badge ? `${TAB_LABELS[tab]}, ${badge.spoken}` : undefined}
    >
      {TAB_LABELS[tab]}
      {badge && ' '}
      {badge && (
        <span
          className={`tab-badge ${badge.cls}`}
          aria-hidden="true"
          data-testid={`tab-badge-${tab}`}
        >
          {badge.text}
        </span>
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
        {plural(c.known, 'event')} · {formatBytes(c.store)}
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
  const close = (): void => useApp.getState().setAboutOpen(false);
  return (
    <Dialog title="About PSS Inspector" testId="about-dialog" onClose={close}>
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
            <dd className="break">{info.library}</dd>
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
        Press <kbd>?</kbd> for the keyboard shortcuts.
      </p>
      <div className="modal-actions">
        <button onClick={close} data-testid="about-close">
          Close
        </button>
      </div>
    </Dialog>
  );
}

function Help() {
  const open = useApp((s) => s.helpOpen);
  if (!open) return null;
  const close = (): void => useApp.getState().setHelpOpen(false);
  return (
    <Dialog title="Keyboard shortcuts" testId="help-dialog" onClose={close} wide>
      <div className="shortcut-groups">
        {SHORTCUTS.map((g) => (
          <section key={g.title} className="shortcut-group">
            <h3>{g.title}</h3>
            <table className="shortcuts">
              <tbody>
                {g.items.map((k) => (
                  <tr key={k.what}>
                    <th scope="row">
                      {k.keys.map((key, i) =>
                        key === '…' ? <span key={i}> … </span> : <kbd key={i}>{key}</kbd>,
                      )}
                    </th>
                    <td>{k.what}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        ))}
      </div>
      <div className="modal-actions">
        <button onClick={close} data-testid="help-close">
          Close
        </button>
      </div>
    </Dialog>
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
  const mainRef = useRef<HTMLElement | null>(null);
  const tablistRef = useRef<HTMLDivElement | null>(null);

  // A view change that did not come from the tab list (Inspect →, Capture, Start walk, a link in
  // an empty view) moves focus to the new view, so keyboard and screen-reader users land in it
  // instead of on the page's body; a view that focuses a field of its own keeps that.
  useEffect(() => {
    const active = document.activeElement;
    if (mainRef.current?.contains(active) || tablistRef.current?.contains(active)) return;
    if (document.querySelector('[role=dialog]')) return;
    mainRef.current?.focus({ preventScroll: true });
  }, [tab]);

  // Alt+1…6 switch views; ? and F1 open the shortcut list.
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      const v = viewShortcut(e);
      if (v !== null) {
        e.preventDefault();
        const t = TABS[v] as Tab;
        useApp.getState().setTab(t);
        document.getElementById(tabButtonId(t))?.focus();
        return;
      }
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === 'F1' || (e.key === '?' && !keyBelongsToTarget(e.target, e.key))) {
        const t = e.target as HTMLElement | null;
        if (e.key === '?' && t && ['INPUT', 'TEXTAREA'].includes(t.tagName)) return;
        e.preventDefault();
        useApp.getState().setHelpOpen(true);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  useEffect(() => {
    onCommand((c) => {
      if (c === 'openTrace') fileInput.current?.click();
      else if (c === 'openedTrace') void openSentTrace();
      else if (c === 'exportTrace') void exportTrace();
      else useApp.getState().setAboutOpen(true);
    });
  }, []);

  return (
    <div className="app" data-testid="app">
      <header className="app-header">
        <span className="brand" title="PSS Inspector">
          <span className="brand-mark" aria-hidden="true">
            ◧
          </span>
          <span className="brand-text">PSS Inspector</span>
        </span>
        <div
          role="tablist"
          aria-label="Views"
          className="tabs"
          ref={tablistRef}
          onKeyDown={onTabListKey}
        >
          {TABS.map((t) => (
            <TabButton key={t} tab={t} />
          ))}
        </div>
        <span className="spacer" />
        <div className="header-actions">
          <button
            onClick={() => fileInput.current?.click()}
            data-testid="open-trace"
            title="Open a saved .psstrace file (or drop one onto the window): its events are shown as an imported session"
          >
            <Icon name="open" /> <span className="btn-text">Open trace…</span>
          </button>
          {hasSession && (
            <button
              onClick={() => void exportTrace()}
              data-testid="header-export-trace"
              title="Save the session's events to a .psstrace file (open it later with Open trace…)"
            >
              <Icon name="save" /> <span className="btn-text">Export trace…</span>
            </button>
          )}
          <input
            ref={fileInput}
            type="file"
            accept=".psstrace,application/octet-stream"
            hidden
            tabIndex={-1}
            aria-hidden="true"
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
            onClick={() => useApp.getState().setHelpOpen(true)}
            data-testid="help-button"
            aria-label="Keyboard shortcuts"
            title="Keyboard shortcuts (?)"
          >
            <Icon name="keyboard" />
          </button>
          <button
            className="icon"
            onClick={() => useApp.getState().setAboutOpen(true)}
            data-testid="about-button"
            aria-label="About"
            title="About"
          >
            <Icon name="info" />
          </button>
        </div>
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
      <main
        className="app-main"
        id="view-panel"
        role="tabpanel"
        aria-labelledby={tabButtonId(tab)}
        tabIndex={-1}
        ref={mainRef}
      >
        <ViewBoundary key={tab} name={TAB_LABELS[tab]}>
          {tab === 'processes' && <ProcessPicker />}
          {tab === 'capture' && <CapturePanel />}
          {tab === 'walk' && <WalkView />}
          {tab === 'allocations' && <AllocationsView />}
          {tab === 'snapshot' && <SnapshotExplorer />}
          {tab === 'compare' && <CompareView />}
        </ViewBoundary>
      </main>
      <StatusBar />
      <Announcer />
      <DropTarget />
      <About />
      <Help />
    </div>
  );
}
