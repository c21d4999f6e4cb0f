import { relaySocket, type FromSocket } from './relay';
import { createWebSocketBridge, type WebSocketBridge } from './websocket';

/**
 * The web-mode bridge with its socket in a worker of its own (relay.ts: receiving event batches
 * on the UI thread cost most of its frame budget); null where no worker starts (the caller then
 * runs the socket on this thread).
 */
export function startSocketWorker(url: string): WebSocketBridge | null {
  if (typeof Worker === 'undefined') return null;
  let worker: Worker;
  try {
    worker = new Worker(new URL('./socket.worker.ts', import.meta.url), {
      type: 'module',
      name: 'connection',
    });
  } catch (e) {
    console.error('no connection worker; the socket runs on the page', e);
    return null;
  }
  const relay = relaySocket({
    post: (m, transfer) => worker.postMessage(m, transfer),
    listen: (fn) => {
      worker.onmessage = (e: MessageEvent<FromSocket>) => fn(e.data);
    },
  });
  worker.onerror = (e) => {
    console.error('the connection worker failed', e.message);
    e.preventDefault();
    relay.fail(e.message || 'it could not start');
  };
  return createWebSocketBridge({ url, createSocket: relay.createSocket });
}
