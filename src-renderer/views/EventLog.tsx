/**
 * Every event, virtualized (a million rows scroll smoothly: only the visible rows are in the
 * DOM), filterable by operation, API, walk class and size. Clicking selects the event: its block
 * in the block map and its moment in the timeline.
 */
import { useMemo, useState, memo } from 'react';
import { applyEventFilter } from '../api/actions';
import { VirtualTable } from '../components/VirtualTable';
import {
  isFilterActive,
  NO_FILTER,
  OP_GROUPS,
  OP_LABELS,
  type EventFilter,
  type OpGroup,
} from '../data/eventFilter';
import { API_SHORT, CLASS_NAMES } from '../data/eventText';
import { formatCount, plural } from '../lib/format';
import { MISSING_KIND } from '../data/eventColumns';
import { NO_CLASS } from '../lib/traceEvents';
import { sessionData } from '../session/sessionData';
import { shownEvents, useReplay } from '../session/replay';
import { useApp } from '../store';
import { EVENT_COLUMNS } from './eventColumns';

function OpChip({ op, on, toggle }: { op: OpGroup; on: boolean; toggle: () => void }) {
  return (
    <button
      className={`chip op-${op}${on ? ' on' : ''}`}
      onClick={toggle}
      data-testid={`eventlog-op-${op}`}
      aria-pressed={on}
    >
      {OP_LABELS[op]}
    </button>
  );
}

export const EventLog = memo(function EventLog() {
  const version = useApp((s) => s.eventsVersion);
  const sessionId = useApp((s) => s.session?.sessionId ?? null);
  const filter = useApp((s) => s.eventFilter);
  const selectedSeq = useApp((s) => s.selectedSeq);
  const walking = useApp((s) => s.session?.state === 'running');
  const replaying = useReplay().playing;
  const running = walking || replaying;
  const [follow, setFollow] = useState(true);
  const d = sessionData();

  const active = isFilterActive(filter);
  // Rows: all known seqs (during a replay: those it has reached), or the filtered index.
  const rowCount = !d ? 0 : active ? d.filtered.rows.length : shownEvents(d);
  const rowAt = (i: number): number | undefined => {
    if (!d) return undefined;
    const seq = active ? d.filtered.rows.get(i) : i;
    return d.columns.kind.get(seq) === MISSING_KIND ? undefined : seq;
  };
  const selectedIndex = useMemo(() => {
    void filter;
    void sessionId;
    void version;
    if (selectedSeq === null || !d) return null;
    if (!active) return selectedSeq < shownEvents(d) ? selectedSeq : null;
    const pos = d.filtered.positionOf(selectedSeq);
    return d.filtered.rows.get(pos) === selectedSeq && pos < d.filtered.rows.length ? pos : null;
  }, [selectedSeq, d, active, filter, sessionId, version]);

  const set = (patch: Partial<EventFilter>): void => applyEventFilter({ ...filter, ...patch });
  const toggleOp = (op: OpGroup): void =>
    set({
      ops: filter.ops.includes(op) ? filter.ops.filter((o) => o !== op) : [...filter.ops, op],
    });
  const numOrNull = (v: string): number | null =>
    v.trim() === '' || !Number.isFinite(Number(v)) ? null : Number(v);

  return (
    <div className="event-log" data-testid="event-log">
      <div className="table-toolbar wrap">
        {OP_GROUPS.map((op) => (
          <OpChip key={op} op={op} on={filter.ops.includes(op)} toggle={() => toggleOp(op)} />
        ))}
        <select
          value={filter.api}
          onChange={(e) => set({ api: Number(e.target.value) })}
          data-testid="eventlog-api"
          aria-label="API call"
        >
          <option value={-1}>any API</option>
          {[1, 2, 3, 4, 5, 6].map((a) => (
            <option key={a} value={a}>
              {API_SHORT[a]}
            </option>
          ))}
        </select>
        <select
          value={filter.cls}
          onChange={(e) => set({ cls: Number(e.target.value) })}
          data-testid="eventlog-class"
          aria-label="Walk class"
        >
          <option value={-1}>any class</option>
          {[3, 2, 1, 0].map((c) => (
            <option key={c} value={c}>
              {CLASS_NAMES[c]}
            </option>
          ))}
          <option value={NO_CLASS}>outside a walk</option>
        </select>
        <input
          type="number"
          className="size-input"
          placeholder="min B"
          min={0}
          value={filter.minSize ?? ''}
          onChange={(e) => set({ minSize: numOrNull(e.target.value) })}
          data-testid="eventlog-size-min"
          aria-label="Minimum size"
        />
        <input
          type="number"
          className="size-input"
          placeholder="max B"
          min={0}
          value={filter.maxSize ?? ''}
          onChange={(e) => set({ maxSize: numOrNull(e.target.value) })}
          data-testid="eventlog-size-max"
          aria-label="Maximum size"
        />
        {active && (
          <button
            className="link"
            onClick={() => applyEventFilter(NO_FILTER)}
            data-testid="eventlog-clear"
          >
            clear
          </button>
        )}
        <span className="spacer" />
        <label className="check small">
          <input
            type="checkbox"
            checked={follow}
            onChange={(e) => setFollow(e.target.checked)}
            data-testid="eventlog-follow"
          />
          follow
        </label>
        <span className="muted small" data-testid="eventlog-count">
          {active
            ? `${formatCount(rowCount)} of ${plural(d?.columns.length ?? 0, 'event')}`
            : plural(rowCount, 'event')}
        </span>
      </div>
      <VirtualTable<number>
        testId="eventlog-table"
        columns={EVENT_COLUMNS}
        rowCount={rowCount}
        rowAt={rowAt}
        selectedIndex={selectedIndex}
        onRowClick={(i) => {
          const s = rowAt(i);
          if (s !== undefined) useApp.getState().selectSeq(s);
        }}
        rowTestId={(_i, s) => (s === undefined ? undefined : `event-row-${s}`)}
        rowClassName={(_i, s) =>
          s === undefined ? 'missing' : `k-${sessionData()?.columns.kind.get(s) ?? 0}`
        }
        missingText="not received yet — fetching…"
        scrollTo={
          selectedIndex !== null
            ? { index: selectedIndex, token: selectedSeq ?? 0, center: true }
            : null
        }
        follow={follow && running && selectedSeq === null}
        emptyText={active ? 'No event matches the filter.' : 'No events yet.'}
        ariaLabel="Event log"
      />
    </div>
  );
});
