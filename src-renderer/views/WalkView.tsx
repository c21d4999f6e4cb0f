/** The walk: controls, the entry tables filling as the walk proceeds, bookmarks, summary. */
import { useState } from 'react';
import type { Bookmark, SessionState } from '../../src-shared/contract/model';
import type { WalkableClass } from '../../src-shared/pss/constants';
import { onTabListKey } from '../components/tabs';
import { plural } from '../lib/format';
import { control } from '../api/actions';
import { EntryTable } from '../components/EntryTable';
import { Empty, ErrorBox } from '../components/ErrorBox';
import { CLASS_LABELS, columnsFor } from '../data/entryColumns';
import { sessionData } from '../session/sessionData';
import { useApp } from '../store';
import { SessionBar } from './SessionBar';
import { SummaryCard } from './SummaryCard';

const EMPTY: never[] = [];

/** A bookmark's own label, unless it only repeats its class and index ("HANDLES #10"). */
function customLabel(b: Bookmark): boolean {
  const l = b.label.trim().toLowerCase();
  const cls = b.cls.toLowerCase();
  const name = CLASS_LABELS[b.cls].toLowerCase();
  return !(
    l === '' ||
    l === `${cls} #${b.entryIndex}` ||
    l === `${name} #${b.entryIndex}` ||
    /^(position|bookmark) ?#?\d+$/.test(l)
  );
}

/** What "current position" says when no class is being walked: before the start, or how it ended. */
export function endedPosition(session: SessionState): string {
  const walked = session.classes
    .map(
      (p) =>
        `${p.walked}${p.total !== null ? ` of ${p.total}` : ''} ${CLASS_LABELS[p.cls].toLowerCase()}`,
    )
    .join(', ');
  switch (session.state) {
    case 'starting':
      return 'not started';
    case 'finished':
      return `walk finished: walked ${walked}`;
    case 'cancelled':
      return `walk stopped: walked ${walked}`;
    case 'failed':
      return `walk failed: walked ${walked}`;
    default:
      return `between classes: walked ${walked}`;
  }
}

export function WalkView() {
  const session = useApp((s) => s.session);
  const summary = useApp((s) => s.summary);
  const sessionError = useApp((s) => s.sessionError);
  const entriesVersion = useApp((s) => s.entriesVersion);
  const [tab, setTab] = useState<WalkableClass | null>(null);
  const [followCurrent, setFollowCurrent] = useState(true);
  const currentCls = session?.current?.cls ?? null;

  if (!session) {
    return (
      <section className="view" data-testid="view-walk">
        {sessionError && <ErrorBox error={sessionError} testId="session-error" />}
        <Empty title="No walk session" testId="walk-empty">
          Choose a process, set the capture flags and the allocator in the Capture tab, and press{' '}
          <b>Start walk</b>. Every allocation the walk makes through your allocator appears here and
          in the Allocations tab as it happens.
          <div>
            <button
              onClick={() =>
                useApp.getState().setTab(useApp.getState().selectedPid ? 'capture' : 'processes')
              }
              data-testid="walk-go-capture"
            >
              Set up a walk
            </button>
          </div>
        </Empty>
      </section>
    );
  }

  const classes = session.classes.map((p) => p.cls);
  const wanted = followCurrent && currentCls ? currentCls : tab;
  const shown = wanted && classes.includes(wanted) ? wanted : (classes[0] ?? 'THREADS');
  const data = sessionData();
  const rows = data?.entries[shown] ?? EMPTY;
  // current.entryIndex is the walked count of the class: the next entry; highlight the last one.
  const currentRow =
    session.current?.cls === shown && session.current.entryIndex > 0
      ? session.current.entryIndex - 1
      : null;

  return (
    <section className="view walk-view" data-testid="view-walk">
      <SessionBar />
      {sessionError && sessionError.message !== session.error?.message && (
        <ErrorBox
          error={sessionError}
          testId="session-error"
          onDismiss={() => useApp.getState().setSessionError(null)}
        />
      )}
      {session.error && <ErrorBox error={session.error} testId="session-state-error" />}
      {session.targetExited && (
        <div className="notice">
          The target process exited; the walk continues over the captured snapshot.
        </div>
      )}
      <div className="walk-body">
        <div className="walk-main">
          <div className="subtabs">
            <div
              className="subtab-list"
              role="tablist"
              aria-label="Walked entries by class"
              onKeyDown={onTabListKey}
            >
              {classes.map((c) => (
                <button
                  key={c}
                  role="tab"
                  id={`walk-class-tab-${c}`}
                  aria-selected={c === shown}
                  aria-controls="walk-entries-panel"
                  tabIndex={c === shown ? 0 : -1}
                  className={`subtab${c === shown ? ' on' : ''}${c === currentCls ? ' live' : ''}`}
                  onClick={() => {
                    setTab(c);
                    setFollowCurrent(false);
                  }}
                  data-testid={`walk-class-${c}`}
                >
                  {CLASS_LABELS[c]}{' '}
                  <span className="muted">
                    <span className="sr-only">, </span>
                    {plural(data?.entries[c].length ?? 0, 'entry', 'entries')}
                  </span>
                  {c === currentCls && <span className="sr-only">, being walked</span>}
                </button>
              ))}
            </div>
            <label className="check small">
              <input
                type="checkbox"
                checked={followCurrent}
                onChange={(e) => setFollowCurrent(e.target.checked)}
                data-testid="walk-follow"
              />
              follow the walk
            </label>
          </div>
          <div
            className="entry-panel"
            role="tabpanel"
            id="walk-entries-panel"
            aria-labelledby={`walk-class-tab-${shown}`}
          >
            <EntryTable
              key={shown}
              testId={`walk-entries-${shown}`}
              ariaLabel={`Walked ${CLASS_LABELS[shown].toLowerCase()} entries`}
              rows={rows}
              version={entriesVersion}
              columns={columnsFor(shown)}
              currentRow={currentRow}
              rowTestId={(_r, i) => `walk-entry-${shown}-${i}`}
              emptyText={
                session.state === 'starting'
                  ? 'Capturing…'
                  : 'No entries walked yet: press ▶ (Space) or step (→).'
              }
            />
          </div>
        </div>
        <aside className="walk-side">
          <div className="card">
            <div className="card-title">Current position</div>
            <div data-testid="walk-current">
              {session.current ? (
                <>
                  {CLASS_LABELS[session.current.cls]}:{' '}
                  {session.current.entryIndex === 0 ? (
                    'no entry walked yet'
                  ) : (
                    <>
                      last walked <b>#{session.current.entryIndex - 1}</b>
                    </>
                  )}
                  <span className="muted"> · next #{session.current.entryIndex}</span>
                </>
              ) : (
                <span className="muted">{endedPosition(session)}</span>
              )}
            </div>
          </div>
          <div className="card" data-testid="bookmarks">
            <div className="card-title">Saved positions</div>
            {session.bookmarks.length === 0 ? (
              <div className="muted small">
                None yet. <b>Save position</b> calls PssWalkMarkerGetPosition; restoring calls
                PssWalkMarkerSetPosition.
              </div>
            ) : (
              <ul className="bookmark-list">
                {session.bookmarks.map((b) => (
                  <li key={b.id} data-testid={`bookmark-${b.id}`}>
                    <span
                      title={`Before ${CLASS_LABELS[b.cls]} entry #${b.entryIndex} (${b.entryIndex} walked). PssWalkMarkerGetPosition returned ${b.position}, an opaque ULONG_PTR that restoring passes back to PssWalkMarkerSetPosition.`}
                    >
                      <b>
                        {CLASS_LABELS[b.cls]} #{b.entryIndex}
                      </b>
                      {customLabel(b) && <span className="muted"> · {b.label}</span>}
                    </span>
                    <button
                      aria-label={`Restore ${CLASS_LABELS[b.cls]} #${b.entryIndex}`}
                      onClick={() => void control('restorePosition', { bookmarkId: b.id })}
                      data-testid={`bookmark-restore-${b.id}`}
                      disabled={
                        session.state === 'finished' ||
                        session.state === 'cancelled' ||
                        session.state === 'failed'
                      }
                    >
                      Restore
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </div>
          {summary ? (
            <SummaryCard summary={summary} />
          ) : (
            <div className="card muted small">The summary appears when the walk ends.</div>
          )}
          <button
            onClick={() => useApp.getState().setTab('allocations')}
            data-testid="walk-go-allocations"
          >
            Allocation views →
          </button>
        </aside>
      </div>
    </section>
  );
}
