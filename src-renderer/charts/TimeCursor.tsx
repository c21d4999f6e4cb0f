/**
 * The time cursor (Tracy-style time travel): a slider over the analysed events. Where it stands,
 * the block map, the live blocks, the size histogram, the breakdowns and the problems show the
 * state after that many events (src-shared/ledger stateAt: one checkpoint copy plus fewer than
 * 16,384 events folded); "Now" (the default, and the slider's right end) follows the walk.
 */
import { memo } from 'react';
import { formatCount, formatNs } from '../lib/format';
import { sessionData } from '../session/sessionData';
import { useApp } from '../store';

export const TimeCursor = memo(function TimeCursor() {
  const cursor = useApp((s) => s.timeCursor);
  const analysed = useApp((s) => s.counts.analysed);
  const d = sessionData();
  const at = cursor === null ? analysed : Math.min(cursor, analysed);
  const t = d && at > 0 ? d.columns.timeNs.get(at - 1) : 0;
  const text =
    cursor === null
      ? `now · ${formatCount(analysed)} events`
      : at === 0
        ? 'before the first event'
        : `after event #${formatCount(at - 1)} of ${formatCount(analysed)} · ${formatNs(t)}`;
  return (
    <div className="time-cursor" data-testid="time-cursor-row">
      <label className="small" htmlFor="time-cursor">
        Time cursor
      </label>
      <input
        id="time-cursor"
        type="range"
        min={0}
        max={analysed}
        step={1}
        value={at}
        disabled={analysed === 0}
        onChange={(e) => {
          const v = Number(e.target.value);
          // The right end is "now": it follows the walk as events arrive.
          useApp.getState().setTimeCursor(v >= analysed ? null : v);
        }}
        aria-valuetext={text}
        data-testid="time-cursor"
        title="Drag to see the heap as it was after any event (shift-click the chart does the same)"
      />
      <span className="muted small mono" data-testid="time-cursor-label" aria-live="off">
        {text}
      </span>
      <button
        className="small"
        onClick={() => useApp.getState().setTimeCursor(null)}
        disabled={cursor === null}
        data-testid="time-cursor-now"
        title="Show the state now (follows the walk)"
      >
        Now
      </button>
    </div>
  );
});
