/**
 * The page's connection worker (web mode): owns the page's events socket and decodes its frames,
 * so that receiving event batches never runs on the UI thread (relay.ts). Bundled by Vite as its
 * own module, loaded from the page's origin (CSP `worker-src 'self'`).
 */
import { serveEvents, type FromSocket, type ToSocket, type WorkerSocket } from './relay';

interface WorkerScope {
  onmessage: ((e: MessageEvent<ToSocket>) => void) | null;
  postMessage(msg: FromSocket, transfer: ArrayBuffer[]): void;
}
const scope = self as unknown as WorkerScope;

serveEvents(
  {
    post: (m, transfer) => scope.postMessage(m, transfer),
    listen: (fn) => {
      scope.onmessage = (e) => fn(e.data);
    },
  },
  (url) => new WebSocket(url) as unknown as WorkerSocket,
);
