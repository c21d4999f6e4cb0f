/** The walk worker's entry: one WalkCore answering the main thread over postMessage. */
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWorker, ToWorker, WalkWorkerData } from './protocol';
import { WalkCore } from './core';

if (!parentPort) throw new Error('walk-worker must run as a worker thread');
const port = parentPort;
const { generation } = workerData as WalkWorkerData;
const core = new WalkCore(
  (message: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer ?? []),
  `w${generation}-`,
);
port.on('message', (m: ToWorker) => {
  if (m.t === 'call') core.handle(m.id, m.call);
});
