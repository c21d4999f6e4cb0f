import { describe, expect, it } from 'vitest';
import type { PssApi } from '../../src-shared/contract/contract';

describe('getPssApi', () => {
  it('returns the preload’s window.pss in Electron, with an always-open connection state', async () => {
    const injected: PssApi = {
      transport: 'electron',
      request: () => Promise.resolve({ ok: true, value: {} as never }),
      on: () => () => undefined,
    };
    (globalThis as { pss?: PssApi }).pss = injected;
    try {
      const { getPssApi, getConnectionState, watchConnection } = await import('./index');
      expect(getPssApi()).toBe(injected);
      expect(getPssApi()).toBe(injected);
      expect(getConnectionState()).toMatchObject({ status: 'open', generation: 1 });
      expect(typeof watchConnection(() => undefined)).toBe('function');
    } finally {
      delete (globalThis as { pss?: PssApi }).pss;
    }
  });
});
