import type { StateCreator } from 'zustand';
import type { AppInfo, ErrorReply } from '../../../src-shared/contract/model';
import type { AppState } from '../index';

export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

export interface ConnectionSlice {
  connection: {
    status: ConnectionStatus;
    appInfo: AppInfo | null;
    error: ErrorReply | null;
    /** Transport detail (retry delay, last error). */
    detail: string | null;
    /** Increments on every (re)connect: the host treats a reconnect as a new client. */
    generation: number;
  };
  setConnection(patch: Partial<ConnectionSlice['connection']>): void;
}

export const createConnectionSlice: StateCreator<AppState, [], [], ConnectionSlice> = (set) => ({
  connection: { status: 'connecting', appInfo: null, error: null, detail: null, generation: 0 },
  setConnection: (patch) => set((s) => ({ connection: { ...s.connection, ...patch } })),
});
