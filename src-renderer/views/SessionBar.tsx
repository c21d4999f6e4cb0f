import { memo, useEffect, useRef } from 'react';
/** Walk controls shared by the Walk and Allocations tabs: play/pause/step/speed, progress, counters. */
import { describeOptions } from '../../src-shared/alloc/options';
import type { Pace, SessionState, SessionSummary } from '../../src-shared/contract/model';
import { closeSession, control } from '../api/actions';
import { useKey } from '../components/hooks';
import { Icon } from '../components/Icon';
import { CLASS_LABELS } from '../data/entryColumns';
import { formatBytes, formatCount } from '../lib/format';
import { useApp, useAppShallow, type LiveCounts } from '../store';
import { ReplayBar } from './ReplayBar';

const SPEEDS: { label: string; pace: Pace }[] = [
  { label: '1 entry/s', pace: { mode: 'paced', entriesPerSecond: 1 } },
  { label: '5 /s', pace: { mode: 'paced', entriesPerSecond: 5 } },
  { label: '20 /s', pace: { mode: 'paced', entriesPerSecond: 20 } },
  { label: '100 /s', pace: { mode: 'paced', entriesPerSecond: 100 } },
  { label: '1,000 /s', pace: { mode: 'paced', entriesPerSecond: 1000 } },
  { label: '10,000 /s', pace: { mode: 'paced', entriesPerSecond: 10000 } },
  { label: 'full speed', pace: { mode: 'run' } },
];

function paceKey(p: Pace): string {
  return p.mode === 'run' ? 'run' : String(p.entriesPerSecond);
}

export const isActive = (s: SessionState | null): boolean =>
  s !== null && (s.state === 'running' || s.state === 'paused' || s.state === 'starting');

const ENDED = new Set(['finished', 'cancelled', 'failed']);

/**
 * The state the bar shows: an ended session reads "finishing" until the renderer has folded
 * every event it wrote (the summary's count, or the final state's), so that the word
 * FINISHED (or cancelled / failed) only ever stands next to final numbers.
 */
export function shownState(
  session: SessionState,
  counts: Pick<LiveCounts, 'analysed' | 'missing'>,
  summary: SessionSummary | null,
): string {
  if (!ENDED.has(session.state)) return session.state;
  const total =
    summary && summary.sessionId === session.sessionId ? summary.events : session.eventsStored;
  return counts.analysed >= total && counts.missing === 0 ? session.state : 'finishing';
}

export const SessionBar = memo(function SessionBar() {
  const session = useApp((s) => s.session);
  const pending = useApp((s) => s.controlPending);
  const imported = useApp((s) => s.importedTrace);
  const c = useAppShallow((s) => ({
    allocations: s.counts.allocations,
    frees: s.counts.frees,
    failures: s.counts.failures,
    problems: s.counts.problems,
    liveBytes: s.counts.liveBytes,
    known: s.counts.known,
    missing: s.counts.missing,
  }));
  const shown = useApp((s) => (s.session ? shownState(s.session, s.counts, s.summary) : ''));
  const active = isActive(session);
  const running = session?.state === 'running';
  const paused = session?.state === 'paused';
  const toolbar = useRef<HTMLDivElement | null>(null);
  const lastFocused = useRef<string | null>(null);

  // Play and Pause swap places as the state changes, and a disabled button cannot keep focus:
  // when the one with focus is disabled, focus goes to the one that now does the job.
  useEffect(() => {
    const bar = toolbar.current;
    const a = document.activeElement as HTMLButtonElement | null;
    const lost = a === null || a === document.body || (bar?.contains(a) && a.disabled);
    if (!bar || !lost || lastFocused.current === null) return;
    const order = [lastFocused.current, 'walk-pause', 'walk-play', 'walk-step', 'walk-speed'];
    for (const id of order) {
      const el = bar.querySelector<HTMLElement>(`[data-testid="${id}"]:not(:disabled)`);
      if (el) {
        el.focus();
        return;
      }
    }
  }, [running, paused, active]);

  useKey((e) => {
    if (!session || !active) return;
    if (e.key === ' ') {
      e.preventDefault();
      void control(running ? 'pause' : 'resume');
    } else if (e.key === 'ArrowRight' || e.key === 'ArrowDown') {
      e.preventDefault();
      void control('step');
    } else if (e.key === 'Home') {
      e.preventDefault();
      void control('seekToBeginning');
    } else if (e.key === 'b' || e.key === 'B') {
      e.preventDefault();
      void control('savePosition');
    }
  }, active);

  if (!session) return null;
  const speedOptions = SPEEDS.some((s) => paceKey(s.pace) === paceKey(session.pace))
    ? SPEEDS
    : [...SPEEDS, { label: `${paceKey(session.pace)} /s`, pace: session.pace }];

  return (
    <div className="session-bar" data-testid="session-bar" role="region" aria-label="Walk session">
      <div
        className="controls"
        role="toolbar"
        aria-label="Walk controls"
        ref={toolbar}
        onFocus={(e) => {
          lastFocused.current = (e.target as HTMLElement).dataset.testid ?? null;
        }}
      >
        <span
          className={`state-badge state-${shown}`}
          data-testid="session-state"
          title={
            shown === 'finishing'
              ? `The walk has ${session.state === 'finished' ? 'ended' : session.state}; the last events are still being counted`
              : undefined
          }
        >
          <span className="sr-only">Session </span>
          {shown}
        </span>
        {imported !== null && (
          <span
            className="badge imported"
            data-testid="session-imported"
            title={`Opened from ${imported}: the events are replayed from the file, not walked live`}
          >
            imported · {imported}
          </span>
        )}
        {session.passes > 1 && (
          <span className="muted" data-testid="session-pass">
            pass {Math.min(session.pass + 1, session.passes)} / {session.passes}
          </span>
        )}
        <button
          onClick={() => {
            if (pending === null) void control('resume');
          }}
          disabled={!paused}
          aria-disabled={pending !== null}
          data-testid="walk-play"
          title="Play (Space)"
          aria-label="Play"
        >
          <Icon name="play" />
        </button>
        <button
          onClick={() => {
            if (pending === null) void control('pause');
          }}
          disabled={!running}
          aria-disabled={pending !== null}
          data-testid="walk-pause"
          title="Pause (Space)"
          aria-label="Pause"
        >
          <Icon name="pause" />
        </button>
        <button
          onClick={() => {
            if (pending === null) void control('step');
          }}
          disabled={!active || running}
          aria-disabled={pending !== null}
          data-testid="walk-step"
          title="Step one entry (→)"
          aria-label="Step"
        >
          <Icon name="step" />
        </button>
        <button
          onClick={() => {
            if (pending === null) void control('seekToBeginning');
          }}
          disabled={!active}
          aria-disabled={pending !== null}
          data-testid="walk-seek-start"
          title="Seek to beginning (Home): PssWalkMarkerSeekToBeginning"
          aria-label="Seek to beginning"
        >
          <Icon name="seekStart" />
        </button>
        <select
          value={paceKey(session.pace)}
          onChange={(e) => {
            const s = speedOptions.find((x) => paceKey(x.pace) === e.target.value);
            if (s) void control('setPace', { pace: s.pace });
          }}
          disabled={!active}
          data-testid="walk-speed"
          aria-label="Speed"
        >
          {speedOptions.map((s) => (
            <option key={paceKey(s.pace)} value={paceKey(s.pace)}>
              {s.label}
            </option>
          ))}
        </select>
        <button
          onClick={() => {
            if (pending === null) void control('savePosition');
          }}
          disabled={!active}
          aria-disabled={pending !== null}
          data-testid="walk-save-position"
          title="Bookmark the position (B): PssWalkMarkerGetPosition"
        >
          <Icon name="bookmark" /> Save position
        </button>
        <button
          onClick={() => void control('cancel')}
          disabled={!active}
          data-testid="walk-cancel"
          title="Cancel the walk"
        >
          <Icon name="stop" /> Stop
        </button>
      </div>
      <div className="progress-list">
        {session.classes.map((p) => {
          const frac = p.total ? Math.min(1, p.walked / p.total) : p.done ? 1 : 0;
          const cur = session.current?.cls === p.cls;
          return (
            <div
              key={p.cls}
              className={`progress${cur ? ' current' : ''}`}
              data-testid={`progress-${p.cls}`}
              title={`${p.walked} of ${p.total ?? 'an unknown number of'} entries`}
            >
              <span className="progress-label" id={`progress-label-${p.cls}`}>
                {CLASS_LABELS[p.cls]}
              </span>
              <span
                className="progress-track"
                role="progressbar"
                aria-labelledby={`progress-label-${p.cls}`}
                aria-valuemin={0}
                aria-valuemax={p.total ?? undefined}
                aria-valuenow={p.total !== null ? p.walked : undefined}
                aria-valuetext={`${p.walked} of ${p.total ?? 'unknown'} entries${p.done ? ', done' : ''}`}
              >
                <span className="progress-fill" style={{ width: `${(frac * 100).toFixed(1)}%` }} />
              </span>
              <span className="progress-num mono">
                {p.walked}/{p.total ?? '?'}
                {p.done ? <span aria-hidden="true"> ✓</span> : ''}
              </span>
            </div>
          );
        })}
      </div>
      <div className="counters">
        <span title="Successful allocations">
          allocs <b data-testid="count-allocations">{formatCount(c.allocations)}</b>
        </span>
        <span title="Frees">
          frees <b data-testid="count-frees">{formatCount(c.frees)}</b>
        </span>
        <span title="Failed allocations" className={c.failures ? 'bad' : ''}>
          failed <b data-testid="count-failures">{formatCount(c.failures)}</b>
        </span>
        <span
          title="Failed allocations, API errors, contract violations, guard findings and leaks"
          className={c.problems ? 'bad' : ''}
        >
          problems <b data-testid="count-problems">{formatCount(c.problems)}</b>
        </span>
        <span title="Live bytes">
          live <b data-testid="count-live-bytes">{formatBytes(c.liveBytes)}</b>
        </span>
        <span title="Events received (missing ones are being fetched)">
          events <b data-testid="count-events">{formatCount(c.known)}</b>
          {c.missing > 0 && <span className="muted"> ({formatCount(c.missing)} fetching)</span>}
        </span>
      </div>
      <div className="session-actions">
        <span className="muted small allocator-line" title={describeOptions(session.allocator)}>
          <span className="sr-only">Allocator: </span>
          {describeOptions(session.allocator)}
        </span>
        <button
          onClick={() => void closeSession()}
          disabled={active}
          data-testid="session-close"
          title={
            active
              ? 'Stop the walk first; then Close frees its trace'
              : 'Close the session and free its trace (export it first to keep it)'
          }
        >
          Close session
        </button>
      </div>
      {!active && <ReplayBar />}
    </div>
  );
});
