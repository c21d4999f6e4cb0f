import { memo, useMemo } from 'react';
/**
 * The live set: every block allocated and not freed, by address, at the time cursor (now by
 * default). Rows are the seqs of the blocks' Alloc events (the event log's columns); the count
 * is the ledger's, the same as the block map's and the session bar's.
 */
import { VirtualTable } from '../components/VirtualTable';
import { formatBytes, formatCount } from '../lib/format';
import { sessionData } from '../session/sessionData';
import { useApp } from '../store';
import { EVENT_COLUMNS } from './eventColumns';

const COLUMNS = EVENT_COLUMNS.filter((c) => c.id !== 'live');

export const LiveBlocksPanel = memo(function LiveBlocksPanel() {
  const version = useApp((s) => s.eventsVersion);
  const cursor = useApp((s) => s.timeCursor);
  const selectedSeq = useApp((s) => s.selectedSeq);
  const d = sessionData();
  const { seqs, bytes } = useMemo(() => {
    void version;
    if (!d) return { seqs: [] as number[], bytes: 0 };
    const l = d.ledgerAt(cursor);
    return { seqs: l.liveBlocks().map((b) => b.seq), bytes: l.liveBytes };
  }, [d, cursor, version]);
  const selectedIndex = selectedSeq === null ? -1 : seqs.indexOf(selectedSeq);
  return (
    <div className="problems" data-testid="live-blocks-panel">
      <div className="table-toolbar wrap">
        <span className="muted" data-testid="live-blocks-count">
          {formatCount(seqs.length)} live {seqs.length === 1 ? 'block' : 'blocks'},{' '}
          {formatBytes(bytes)} {cursor === null ? 'now' : 'at the time cursor'}, by address
        </span>
      </div>
      <VirtualTable<number>
        testId="live-blocks-table"
        columns={COLUMNS}
        rowCount={seqs.length}
        rowAt={(i) => seqs[i]}
        selectedIndex={selectedIndex < 0 ? null : selectedIndex}
        onRowClick={(i) => {
          const s = seqs[i];
          if (s !== undefined) useApp.getState().selectSeq(s);
        }}
        rowTestId={(_i, s) => (s === undefined ? undefined : `live-block-row-${s}`)}
        emptyText="No live blocks: everything allocated so far has been freed."
        ariaLabel="Live blocks"
      />
    </div>
  );
});
