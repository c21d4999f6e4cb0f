/** Live allocation views: timeline and block map on the left, log / problems / sizes on the right. */
import { useState } from 'react';
import { BlockMap } from '../charts/BlockMap';
import { Timeline } from '../charts/Timeline';
import { Empty, ErrorBox } from '../components/ErrorBox';
import { describeEvent } from '../data/eventText';
import { formatBytes, formatCount } from '../lib/format';
import { sessionData } from '../session/sessionData';
import { useApp, useAppShallow } from '../store';
import { EventLog } from './EventLog';
import { ProblemsPanel } from './ProblemsPanel';
import { SessionBar } from './SessionBar';
import { SizesPanel } from './SizesPanel';

type Side = 'events' | 'problems' | 'sizes';

function SelectionLine() {
  const seq = useApp((s) => s.selectedSeq);
  const d = sessionData();
  if (seq === null || !d || seq >= d.columns.length) {
    return (
      <div className="selection-line muted small">
        Click an event, a block or a point in the timeline to select it.
      </div>
    );
  }
  return (
    <div className="selection-line small" data-testid="selected-event">
      <b>Selected:</b> <span className="mono">{describeEvent(d.columns, seq)}</span>
      <button
        className="link"
        onClick={() => useApp.getState().selectSeq(null)}
        data-testid="selection-clear"
      >
        clear
      </button>
    </div>
  );
}

function AllocFoot() {
  const c = useAppShallow((s) => ({
    peak: s.counts.peakLiveBytes,
    blocks: s.counts.liveBlocks,
    store: s.counts.storeBytes,
  }));
  return (
    <div className="alloc-foot muted small">
      peak live <b>{formatBytes(c.peak)}</b> · live blocks <b>{formatCount(c.blocks)}</b> · event
      store <b data-testid="store-bytes">{formatBytes(c.store)}</b>
    </div>
  );
}

export function AllocationsView() {
  const session = useApp((s) => s.session);
  const sessionError = useApp((s) => s.sessionError);
  const [side, setSide] = useState<Side>('events');
  const problems = useApp(
    (s) => s.counts.failures + s.counts.violations + s.counts.leaks + s.counts.apiErrors,
  );

  if (!session) {
    return (
      <section className="view" data-testid="view-allocations">
        <Empty title="No allocations to show" testId="allocations-empty">
          Start a walk (Capture tab) or open a saved trace: the timeline, block map, size histogram,
          event log and problems fill in live.
          <div>
            <button
              onClick={() =>
                useApp.getState().setTab(useApp.getState().selectedPid ? 'capture' : 'processes')
              }
              data-testid="allocations-go-capture"
            >
              Set up a walk
            </button>
          </div>
        </Empty>
      </section>
    );
  }
  return (
    <section className="view allocations-view" data-testid="view-allocations">
      <SessionBar />
      {sessionError && (
        <ErrorBox
          error={sessionError}
          testId="session-error"
          onDismiss={() => useApp.getState().setSessionError(null)}
        />
      )}
      <div className="alloc-grid">
        <div className="alloc-left">
          <Timeline />
          <BlockMap />
          <AllocFoot />
        </div>
        <div className="alloc-right">
          <div className="subtabs" role="tablist">
            <button
              role="tab"
              aria-selected={side === 'events'}
              className={`subtab${side === 'events' ? ' on' : ''}`}
              onClick={() => setSide('events')}
              data-testid="tab-events"
            >
              Event log
            </button>
            <button
              role="tab"
              aria-selected={side === 'problems'}
              className={`subtab${side === 'problems' ? ' on' : ''}`}
              onClick={() => setSide('problems')}
              data-testid="tab-problems"
            >
              Problems{' '}
              {problems > 0 && <span className="count-badge bad">{formatCount(problems)}</span>}
            </button>
            <button
              role="tab"
              aria-selected={side === 'sizes'}
              className={`subtab${side === 'sizes' ? ' on' : ''}`}
              onClick={() => setSide('sizes')}
              data-testid="tab-sizes"
            >
              Sizes &amp; breakdown
            </button>
          </div>
          <SelectionLine />
          {side === 'events' && <EventLog />}
          {side === 'problems' && <ProblemsPanel />}
          {side === 'sizes' && <SizesPanel />}
        </div>
      </div>
    </section>
  );
}
