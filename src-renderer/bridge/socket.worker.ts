/**
 * The page's connection worker (web mode): owns the WebSocket to the host so that receiving
 * event batches never runs on the UI thread (relay.ts). Bundled by Vite as its own module,
 * loaded from the page's origin (CSP `worker-src 'self'`).
 */
import { serveBridge, type FromSocket, type ToSocket } from './relay';
import { createWebSocketBridge } from './websocket';

interface WorkerScope {
  onmessage: ((e: MessageEvent<ToSocket>) => void) | null;
  postMessage(msg: FromSocket, transfer: ArrayBuffer[]): void;
}
const scope = self as unknown as WorkerScope;

serveBridge(
  {
    post: (m, transfer) => scope.postMessage(m, transfer),
    listen: (fn) => {
      scope.onmessage = (e) => fn(e.data);
    },
  },
  (url) => createWebSocketBridge({ url }),
);
