/**
 * The renderer's way to the host: `getPssApi()` returns `window.pss` when the Electron preload
 * provided it, otherwise a WebSocket bridge to the page's own origin (web mode). Both offer the
 * identical PssApi (src-shared/contract/contract.ts); in web mode the app's page receives its
 * event stream on a second socket in a worker (setSocketStarter, relay.ts). `watchConnection` reports the transport's
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

/** Starts the web-mode bridge elsewhere (the app: in its connection worker, socketWorker.ts). */
export type SocketStarter = (url: string) => WebSocketBridge | null;
let starter: SocketStarter | null = null;

/**
 * Lets the app run its socket in a worker (socketWorker.ts: receiving event batches on the UI
 * thread cost most of its frame budget). Without it, or when it returns null, the socket runs on
 * this thread (tests, the e2e helper bundle). Call before the first getPssApi.
 */
export function setSocketStarter(fn: SocketStarter): void {
  starter = fn;
}

/** The one PssApi of this page (created on first use). */
export function getPssApi(): PssApi {
  if (api) return api;
  const injected = (globalThis as { pss?: PssApi }).pss;
  if (injected && injected.transport === 'electron') {
    api = injected;
  } else {
    // Read through globalThis so this module also type-checks where it is bundled for tests.
    const page = (globalThis as unknown as { location: Parameters<typeof socketUrl>[0] }).location;
    const url = socketUrl(page, Channels.webSocket);
    bridge = starter?.(url) ?? createWebSocketBridge({ url });
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
