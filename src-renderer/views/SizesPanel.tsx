import { memo } from 'react';
/** Size histogram plus the per-API and per-walk-class breakdown (refreshed with the counts). */
import { Histogram } from '../charts/Histogram';
import type { BreakdownRow } from '../data/analysis';
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
  rows: BreakdownRow[];
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

export const SizesPanel = memo(function SizesPanel() {
  // Re-render with the (throttled) counts; the rows are read from the analysis.
  useApp((s) => s.eventsVersion);
  const d = sessionData();
  const byApi = d?.analysis.byApi ?? [];
  const byClass = d?.analysis.byClass ?? [];
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
