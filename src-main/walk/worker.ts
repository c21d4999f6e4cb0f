/** The walk worker's entry: one WalkCore answering the main thread over postMessage. */
import { parentPort } from 'node:worker_threads';
import type { FromWorker, ToWorker } from './protocol';
import { WalkCore } from './core';

if (!parentPort) throw new Error('walk-worker must run as a worker thread');
const port = parentPort;
const core = new WalkCore((message: FromWorker, transfer?: ArrayBuffer[]) =>
  port.postMessage(message, transfer ?? []),
);
port.on('message', (m: ToWorker) => {
  if (m.t === 'call') core.handle(m.id, m.call);
});
