import { describe, expect, it } from 'vitest';
import { appStore } from './index';

describe('app store', () => {
  it('combines the slices and notifies transient subscribers', () => {
    const seen: (number | null)[] = [];
    const off = appStore.subscribe((s, prev) => {
      if (s.selectedSeq !== prev.selectedSeq) seen.push(s.selectedSeq);
    });
    appStore.get().selectSeq(42);
    appStore.get().selectSeq(null);
    off();
    expect(seen).toEqual([42, null]);
    expect(appStore.get().connection.status).toBe('connecting');
    appStore.get().setCaptureForm({ onAllocFailure: 'retry' });
    expect(appStore.get().captureForm.onAllocFailure).toBe('retry');
    expect(appStore.get().captureForm.classes.length).toBe(3);
  });
});
