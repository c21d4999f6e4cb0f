/** Transient subscriptions: store changes that only canvases care about mark them dirty. */
import { sessionData } from '../session/sessionData';
import { appStore } from '../store';
import { raf } from './raf';

export function bridgeStoreToCanvases(): () => void {
  return appStore.subscribe((s, prev) => {
    if (s.selectedSeq !== prev.selectedSeq) raf.invalidate('selection');
    if (s.colorBy !== prev.colorBy) raf.invalidate('layout');
    // The time cursor moved: every view of the allocation state draws that state.
    if (s.timeCursor !== prev.timeCursor) {
      // Ask the analysis worker for that state now, not when the next frame draws.
      sessionData()?.ledgerAt(s.timeCursor);
      raf.invalidate('cursor');
    }
    // An ended walk stops the block map's fading of freed blocks.
    if (s.session?.state !== prev.session?.state) raf.invalidate('events');
    if (s.session?.sessionId !== prev.session?.sessionId)
      raf.invalidate('events', 'selection', 'timeline', 'layout');
    if (s.snapshotDataVersion !== prev.snapshotDataVersion) raf.invalidate('snapshot');
    if (s.tab !== prev.tab) raf.invalidate('layout', 'events', 'snapshot');
  });
}
