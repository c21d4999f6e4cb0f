/**
 * The renderer's way to the host: `getPssApi()` returns `window.pss` when the Electron preload
 * provided it, otherwise a WebSocket bridge to the page's own origin (web mode). Both offer the
 * identical PssApi (src-shared/contract/contract.ts). `watchConnection` reports the transport's
 * state for a connection indicator (the Electron transport is always open).
 */
import { Channels, type PssApi } from '../../src-shared/contract/contract';
import {
  createWebSocketBridge,
  socketUrl,
  type ConnectionState,
  type WebSocketBridge,
} from './websocket';

export type { ConnectionState, ConnectionStatus, WebSocketBridge } from './websocket';
export { createWebSocketBridge, socketUrl } from './websocket';

let api: PssApi | null = null;
let bridge: WebSocketBridge | null = null;

const ELECTRON_STATE: ConnectionState = {
  status: 'open',
  generation: 1,
  attempt: 0,
  retryInMs: null,
  lastError: null,
};

/** The one PssApi of this page (created on first use). */
export function getPssApi(): PssApi {
  if (api) return api;
  const injected = (globalThis as { pss?: PssApi }).pss;
  if (injected && injected.transport === 'electron') {
    api = injected;
  } else {
    // Read through globalThis so this module also type-checks where it is bundled for tests.
    const page = (globalThis as unknown as { location: Parameters<typeof socketUrl>[0] }).location;
    bridge = createWebSocketBridge({ url: socketUrl(page, Channels.webSocket) });
    api = bridge;
  }
  return api;
}

export function getConnectionState(): ConnectionState {
  getPssApi();
  return bridge ? bridge.state : ELECTRON_STATE;
}

/** Calls `listener` on every transport state change; returns the unsubscribe function. */
export function watchConnection(listener: (state: ConnectionState) => void): () => void {
  getPssApi();
  return bridge ? bridge.watch(listener) : () => undefined;
}
