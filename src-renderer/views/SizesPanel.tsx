import { memo } from 'react';
/** Size histogram plus the per-API and per-walk-class breakdown (refreshed with the counts). */
import { Histogram } from '../charts/Histogram';
import { API_CALL_NAMES } from '../lib/traceEvents';
import { WALK_CLASS_KEYS } from '../../src-shared/alloc/stats';
import type { LedgerRow, LedgerSummary } from '../../src-shared/ledger/ledger';
import { API_SHORT, CLASS_SLOT_LABELS } from '../data/eventText';
import { formatBytes, formatCount } from '../lib/format';
import { sessionData } from '../session/sessionData';
import { useApp } from '../store';

function Breakdown({
  title,
  rows,
  labels,
  testId,
  colourClass,
}: {
  title: string;
  rows: LedgerRow[];
  labels: (i: number) => string;
  testId: string;
  colourClass: string;
}) {
  const shown = rows
    .map((r, i) => [i, r] as const)
    .filter(([, r]) => r.allocations + r.frees + r.failures > 0);
  return (
    <table className="breakdown" data-testid={testId}>
      <thead>
        <tr>
          <th>{title}</th>
          <th className="num">allocs</th>
          <th className="num">bytes</th>
          <th className="num">frees</th>
          <th className="num">failed</th>
          <th className="num">live</th>
          <th className="num">live bytes</th>
        </tr>
      </thead>
      <tbody>
        {shown.length === 0 && (
          <tr>
            <td colSpan={7} className="muted">
              nothing yet
            </td>
          </tr>
        )}
        {shown.map(([i, r]) => (
          <tr key={i} data-testid={`${testId}-${i}`}>
            <td>
              <i className={`sw ${colourClass}-${i}`} />
              {labels(i)}
            </td>
            <td className="num">{formatCount(r.allocations)}</td>
            <td className="num">{formatBytes(r.allocBytes)}</td>
            <td className="num">{formatCount(r.frees)}</td>
            <td className={`num${r.failures ? ' bad' : ''}`}>{formatCount(r.failures)}</td>
            <td className="num">{formatCount(r.liveBlocks)}</td>
            <td className="num">{formatBytes(r.liveBytes)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Rows by API value (0–6) and by class row (0–4, 5 = none), as the labels index them. */
function rowsOf(l: LedgerSummary | null): { byApi: LedgerRow[]; byClass: LedgerRow[] } {
  if (!l) return { byApi: [], byClass: [] };
  const byApi: LedgerRow[] = [];
  for (let a = 0; a < 7; a++)
    byApi.push(l.byApi[API_CALL_NAMES[a] as keyof LedgerSummary['byApi']]);
  return { byApi, byClass: WALK_CLASS_KEYS.map((k) => l.byClass[k]) };
}

export const SizesPanel = memo(function SizesPanel() {
  // Re-render with the (throttled) counts or the cursor; the rows are the ledger's, at the cursor.
  useApp((s) => s.eventsVersion);
  const cursor = useApp((s) => s.timeCursor);
  const d = sessionData();
  const { byApi, byClass } = rowsOf(d ? d.ledgerAt(cursor).summary() : null);
  return (
    <div className="sizes-panel" data-testid="sizes-panel">
      <Histogram />
      <div className="breakdowns">
        <Breakdown
          title="API call"
          rows={byApi}
          labels={(i) => `Pss${API_SHORT[i] ?? i}`}
          testId="breakdown-api"
          colourClass="api"
        />
        <Breakdown
          title="Walk class"
          rows={byClass}
          labels={(i) => CLASS_SLOT_LABELS[i] ?? String(i)}
          testId="breakdown-class"
          colourClass="cls"
        />
      </div>
    </div>
  );
});
