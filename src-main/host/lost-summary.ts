/**
 * The summary of a session whose walk worker died with it (WalkService `lost`): the ledger
 * folded over exactly the events the trace store received, plus what the last state says of
 * the walk. The strategy's facts and the durations died with the worker.
 */
import { EventBatchView } from '../../src-shared/events/batch';
import { Ledger } from '../../src-shared/ledger/ledger';
import type { SessionState, SessionSummary } from '../../src-shared/contract/model';
import type { TraceStore } from '../walk/trace-store';

/** Events folded per read (6 MiB of records). */
const FOLD_BATCH = 131_072;

export function summaryOfLostSession(store: TraceStore, state: SessionState): SessionSummary {
  const ledger = new Ledger();
  for (let seq = 0; seq < store.count; seq += FOLD_BATCH) {
    const view = new EventBatchView(store.read(seq, Math.min(FOLD_BATCH, store.count - seq)));
    ledger.fold(view, 0, view.count);
  }
  const entriesWalked: SessionSummary['entriesWalked'] = {};
  for (const p of state.classes) entriesWalked[p.cls] = p.walked;
  return {
    sessionId: state.sessionId,
    ...ledger.summary(),
    entriesWalked,
    durations: { captureMs: 0, walkMs: 0, totalMs: 0 },
    strategy: null,
    callbackErrors: 0,
  };
}
