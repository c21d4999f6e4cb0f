/**
 * Replay of a session that has ended (an opened trace above all): play, pause, speed 1× / 10× /
 * 100× / max, and "Show all". Every control is a native button or radio button (Tab, Space,
 * Enter, arrow keys between the speeds) with a visible or accessible name; a polite live region
 * says when the replay starts, pauses and finishes. The replay itself is ../session/replay.ts.
 */
import { memo } from 'react';
import { Icon } from '../components/Icon';
import { formatCount, formatNs } from '../lib/format';
import {
  REPLAY_SPEEDS,
  pauseReplay,
  resumeReplay,
  setReplaySpeed,
  speedLabel,
  stopReplay,
  useReplay,
  type ReplayView,
} from '../session/replay';
import { sessionData } from '../session/sessionData';
import { useApp, useAppShallow } from '../store';

/** What the live region says for a replay state (pure). */
export function replayAnnouncement(r: ReplayView): string {
  if (!r.on) return '';
  if (r.done) return 'Replay finished.';
  return r.playing ? `Replaying at ${speedLabel(r.speed)}.` : 'Replay paused.';
}

export const ReplayBar = memo(function ReplayBar() {
  const r = useReplay();
  const total = useApp((s) => s.session?.eventsStored ?? 0);
  const c = useAppShallow((s) => ({ shown: s.counts.known, lastTimeNs: s.counts.lastTimeNs }));
  const d = sessionData();
  const t0 = d && d.columns.length > 0 ? d.columns.timeNs.get(0) : 0;
  const playLabel = r.playing ? 'Pause replay' : r.on && !r.done ? 'Resume replay' : 'Replay';
  return (
    <div className="replay-bar" role="group" aria-label="Replay" data-testid="replay-bar">
      <button
        onClick={() => (r.playing ? pauseReplay() : resumeReplay())}
        disabled={total === 0}
        data-testid="replay-play"
        aria-label={playLabel}
        title={
          r.playing
            ? 'Pause the replay'
            : 'Replay the recording from the start at the chosen speed (every view follows it)'
        }
      >
        <Icon name={r.playing ? 'pause' : 'play'} />{' '}
        <span className="btn-text" aria-hidden="true">
          {playLabel}
        </span>
      </button>
      <fieldset className="replay-speeds" data-testid="replay-speed">
        <legend className="sr-only">Replay speed</legend>
        <span className="muted small" aria-hidden="true">
          speed
        </span>
        {REPLAY_SPEEDS.map((s) => (
          <label key={String(s)} className={`seg${r.speed === s ? ' on' : ''}`}>
            <input
              type="radio"
              name="replay-speed"
              value={String(s)}
              checked={r.speed === s}
              onChange={() => setReplaySpeed(s)}
              data-testid={`replay-speed-${s}`}
              aria-label={s === 'max' ? 'as fast as possible' : `${s} times real time`}
            />
            {speedLabel(s)}
          </label>
        ))}
      </fieldset>
      <button
        onClick={() => stopReplay()}
        disabled={!r.on}
        data-testid="replay-show-all"
        title="End the replay and show the whole recording"
      >
        Show all
      </button>
      <span className="muted small mono" data-testid="replay-progress">
        {r.on
          ? `${formatCount(c.shown)} of ${formatCount(total)} events · ${formatNs(Math.max(0, c.lastTimeNs - t0))}`
          : `${formatCount(total)} events recorded`}
      </span>
      <span className="sr-only" role="status" data-testid="replay-status">
        {replayAnnouncement(r)}
      </span>
    </div>
  );
});
