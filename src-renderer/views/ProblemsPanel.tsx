import { memo } from 'react';
/**
 * Leaks, violations, failed allocations and API errors, each linked to its event. Its numbers
 * are the ledger's (the same as the session bar's and the tab badge's); with the time cursor
 * set, the problems up to the cursor.
 */
import { VirtualTable } from '../components/VirtualTable';
import { kindLabel } from '../data/eventText';
import { formatCount } from '../lib/format';
import { EventKind } from '../lib/traceEvents';
import { sessionData } from '../session/sessionData';
import { useApp } from '../store';
import { EVENT_COLUMNS } from './eventColumns';
import type { ProblemKindName } from '../../src-shared/ledger/ledger';

const COLUMNS = EVENT_COLUMNS.filter((c) => c.id !== 'live');

export const ProblemsPanel = memo(function ProblemsPanel() {
  const counts = useApp((s) => s.counts);
  const cursor = useApp((s) => s.timeCursor);
  const selectedSeq = useApp((s) => s.selectedSeq);
  const d = sessionData();
  const problems = d?.analysis.problems;
  // now: the published counts (what the bar and the badge show); at the cursor: its state.
  const at = d && cursor !== null ? d.ledgerAt(cursor) : null;
  const byKind: Record<ProblemKindName, number> = at
    ? at.summary().problemsByKind
    : counts.problemsByKind;
  const total = at ? at.problems : counts.problems;
  const n = Math.min(total, problems?.length ?? 0);
  const kinds = (Object.entries(byKind) as [ProblemKindName, number][])
    .filter(([, count]) => count > 0)
    .map(([name, count]) => [EventKind[name], count] as const)
    .sort((a, b) => a[0] - b[0]);
  let selectedIndex: number | null = null;
  if (problems && selectedSeq !== null) {
    const v = problems.view();
    const i = v.indexOf(selectedSeq);
    selectedIndex = i < 0 || i >= n ? null : i;
  }
  return (
    <div className="problems" data-testid="problems-panel">
      <div className="table-toolbar wrap">
        <span className="muted" data-testid="problems-count">
          {formatCount(total)} {total === 1 ? 'problem' : 'problems'}
          {at ? ' up to the time cursor' : ''}
        </span>
        {kinds.length === 0 ? (
          <span className="good" data-testid="problems-empty">
            ✓ No problems: no failed allocations, API errors, contract violations, guard findings or
            leaks {at ? 'up to the time cursor' : 'so far'}.
          </span>
        ) : (
          kinds.map(([k, count]) => (
            <span key={k} className="chip bad" data-testid={`problem-kind-${k}`}>
              {kindLabel(k)} × {formatCount(count)}
            </span>
          ))
        )}
      </div>
      <VirtualTable<number>
        testId="problems-table"
        columns={COLUMNS}
        rowCount={n}
        rowAt={(i) => problems?.get(i)}
        selectedIndex={selectedIndex}
        onRowClick={(i) => {
          const s = problems?.get(i);
          if (s !== undefined) useApp.getState().selectSeq(s);
        }}
        rowTestId={(_i, s) => (s === undefined ? undefined : `problem-row-${s}`)}
        rowClassName={(_i, s) =>
          s === undefined ? undefined : `k-${sessionData()?.columns.kind.get(s) ?? 0}`
        }
        emptyText=""
        ariaLabel="Problems"
      />
    </div>
  );
});
