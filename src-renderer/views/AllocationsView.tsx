/** Live allocation views: timeline and block map on the left, log / problems / sizes on the right. */
import { onTabListKey, SubTab } from '../components/tabs';
import { useState } from 'react';
import { BlockMap } from '../charts/BlockMap';
import { Timeline } from '../charts/Timeline';
import { Empty, ErrorBox } from '../components/ErrorBox';
import { describeEvent } from '../data/eventText';
import { formatBytes, formatCount } from '../lib/format';
import { sessionData } from '../session/sessionData';
import { useApp, useAppShallow } from '../store';
import { EventLog } from './EventLog';
import { LiveBlocksPanel } from './LiveBlocksPanel';
import { ProblemsPanel } from './ProblemsPanel';
import { SessionBar } from './SessionBar';
import { SizesPanel } from './SizesPanel';

type Side = 'events' | 'problems' | 'live' | 'sizes';

function SelectionLine() {
  const seq = useApp((s) => s.selectedSeq);
  const d = sessionData();
  if (seq === null || !d || seq >= d.columns.length) {
    return (
      <div className="selection-line muted small">
        Select an event: click it (or ↑/↓ in the table), a block or a point in the timeline.
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
  // Only whether there is a session: its state changes with every progress push while events
  // stream, and each change re-rendered the whole view (timeline, block map, event log…).
  const hasSession = useApp((s) => s.session !== null);
  const sessionError = useApp((s) => s.sessionError);
  const [side, setSide] = useState<Side>('events');
  const problems = useApp((s) => s.counts.problems);

  if (!hasSession) {
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
          <div
            className="subtabs"
            role="tablist"
            aria-label="Allocation details"
            onKeyDown={onTabListKey}
          >
            <SubTab
              id="alloc-tab-events"
              selected={side === 'events'}
              panelId="alloc-side-panel"
              onSelect={() => setSide('events')}
              testId="tab-events"
            >
              Event log
            </SubTab>
            <SubTab
              id="alloc-tab-problems"
              selected={side === 'problems'}
              panelId="alloc-side-panel"
              onSelect={() => setSide('problems')}
              testId="tab-problems"
            >
              Problems{' '}
              {problems > 0 && (
                <span className="count-badge bad">
                  {formatCount(problems)}
                  <span className="sr-only"> found</span>
                </span>
              )}
            </SubTab>
            <SubTab
              id="alloc-tab-live"
              selected={side === 'live'}
              panelId="alloc-side-panel"
              onSelect={() => setSide('live')}
              testId="tab-live"
            >
              Live blocks
            </SubTab>
            <SubTab
              id="alloc-tab-sizes"
              selected={side === 'sizes'}
              panelId="alloc-side-panel"
              onSelect={() => setSide('sizes')}
              testId="tab-sizes"
            >
              Sizes &amp; breakdown
            </SubTab>
          </div>
          <div
            className="alloc-side"
            role="tabpanel"
            id="alloc-side-panel"
            aria-labelledby={`alloc-tab-${side}`}
          >
            <SelectionLine />
            {side === 'events' && <EventLog />}
            {side === 'problems' && <ProblemsPanel />}
            {side === 'live' && <LiveBlocksPanel />}
            {side === 'sizes' && <SizesPanel />}
          </div>
        </div>
      </div>
    </section>
  );
}
