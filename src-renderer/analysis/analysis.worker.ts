/**
 * The page's analysis worker: a dedicated Web Worker (a module bundled by Vite as its own
 * file, loaded from the page's origin: CSP `worker-src 'self'`), running the AnalysisEngine.
 */
import { AnalysisEngine } from './engine';
import type { FromWorker, ToWorker } from './protocol';

interface WorkerScope {
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  postMessage(msg: FromWorker, transfer: ArrayBuffer[]): void;
}
const scope = self as unknown as WorkerScope;

// Yields through a MessageChannel (a timer in a worker is clamped to ≥ 4 ms once nested).
const channel = new MessageChannel();
const queue: (() => void)[] = [];
channel.port1.onmessage = () => queue.shift()?.();
const yieldThen = (fn: () => void): void => {
  queue.push(fn);
  channel.port2.postMessage(null);
};

const engine = new AnalysisEngine((msg, transfer) => scope.postMessage(msg, transfer), yieldThen);
scope.onmessage = (e) => engine.handle(e.data);
