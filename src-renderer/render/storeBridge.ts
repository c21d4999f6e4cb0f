/** Transient subscriptions: store changes that only canvases care about mark them dirty. */
import { appStore } from '../store';
import { raf } from './raf';

export function bridgeStoreToCanvases(): () => void {
  return appStore.subscribe((s, prev) => {
    if (s.selectedSeq !== prev.selectedSeq) raf.invalidate('selection');
    if (s.colorBy !== prev.colorBy) raf.invalidate('layout');
    if (s.session?.sessionId !== prev.session?.sessionId)
      raf.invalidate('events', 'selection', 'timeline', 'layout');
    if (s.snapshotDataVersion !== prev.snapshotDataVersion) raf.invalidate('snapshot');
    if (s.tab !== prev.tab) raf.invalidate('layout', 'events', 'snapshot');
  });
}
