import { memo } from 'react';
/** Leaks, violations, failed allocations and API errors, each linked to its event. */
import { VirtualTable } from '../components/VirtualTable';
import { kindLabel } from '../data/eventText';
import { formatCount } from '../lib/format';
import { sessionData } from '../session/sessionData';
import { useApp } from '../store';
import { EVENT_COLUMNS } from './eventColumns';

const COLUMNS = EVENT_COLUMNS.filter((c) => c.id !== 'live');

export const ProblemsPanel = memo(function ProblemsPanel() {
  useApp((s) => s.eventsVersion);
  const selectedSeq = useApp((s) => s.selectedSeq);
  const d = sessionData();
  const problems = d?.analysis.problems;
  const n = problems?.length ?? 0;
  const kinds = d ? [...d.analysis.problemCounts.entries()].sort((a, b) => a[0] - b[0]) : [];
  let selectedIndex: number | null = null;
  if (problems && selectedSeq !== null) {
    const v = problems.view();
    const i = v.indexOf(selectedSeq);
    selectedIndex = i < 0 ? null : i;
  }
  return (
    <div className="problems" data-testid="problems-panel">
      <div className="table-toolbar wrap">
        {kinds.length === 0 ? (
          <span className="good" data-testid="problems-empty">
            ✓ No problems: no failed allocations, contract violations, guard findings or leaks so
            far.
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
          s === undefined ? undefined : `k-${sessionData()?.columns.kind[s] ?? 0}`
        }
        emptyText=""
        ariaLabel="Problems"
      />
    </div>
  );
});
