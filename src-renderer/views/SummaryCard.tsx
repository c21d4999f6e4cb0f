import type { SessionSummary } from '../../src-shared/contract/model';
import { formatBytes, formatCount, formatMs, plural } from '../lib/format';

export function SummaryCard({ summary }: { summary: SessionSummary }) {
  const items: [string, string, string][] = [
    ['events', 'Events', formatCount(summary.events)],
    ['allocations', 'Allocations', formatCount(summary.allocations)],
    ['failures', 'Failed allocations', formatCount(summary.allocationFailures)],
    ['frees', 'Frees', formatCount(summary.frees)],
    ['free-nulls', 'free(NULL)', formatCount(summary.freeNulls)],
    ['bytes-allocated', 'Bytes allocated', formatBytes(summary.bytesAllocated)],
    ['bytes-freed', 'Bytes freed', formatBytes(summary.bytesFreed)],
    ['peak', 'Peak live', formatBytes(summary.peakLiveBytes)],
    [
      'outstanding',
      'Outstanding',
      `${plural(summary.liveBlocks, 'block')}, ${formatBytes(summary.liveBytes)}`,
    ],
    ['walk-ms', 'Walk time', formatMs(summary.durations.walkMs)],
  ];
  const violations = Object.entries(summary.violationsByKind).filter(([, n]) => n > 0);
  return (
    <div className="card summary" data-testid="summary-card">
      <div className="card-title">Session summary</div>
      <dl className="kv">
        {items.map(([id, label, value]) => (
          <div key={id} className="kv-row">
            <dt>{label}</dt>
            <dd data-testid={`summary-${id}`}>{value}</dd>
          </div>
        ))}
        <div className="kv-row">
          <dt>Violations</dt>
          <dd data-testid="summary-violations" className={violations.length ? 'bad' : 'good'}>
            {violations.length === 0 ? 'none' : violations.map(([k, n]) => `${k} ×${n}`).join(', ')}
          </dd>
        </div>
      </dl>
    </div>
  );
}
