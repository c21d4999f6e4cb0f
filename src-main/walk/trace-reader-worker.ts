/**
 * Worker thread entry: reads and validates one trace file (trace-file.ts) from a file
 * descriptor the main thread opened, and posts back the validated contents or the error. The
 * main thread starts it with a bounded heap (resourceLimits), so even a hostile header can only
 * end this worker, never the host, and never blocks the host's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readAtFd, readTraceFile } from './trace-file';

export interface TraceReaderRequest {
  fd: number;
  fileBytes: number;
}

export type TraceReaderReply =
  | { ok: true; contents: ReturnType<typeof readTraceFile> }
  | { ok: false; name: string; message: string };

if (!parentPort) throw new Error('trace-reader-worker must run as a worker thread');
const { fd, fileBytes } = workerData as TraceReaderRequest;
let reply: TraceReaderReply;
try {
  reply = { ok: true, contents: readTraceFile(readAtFd(fd), fileBytes) };
} catch (e) {
  reply = {
    ok: false,
    name: e instanceof Error ? e.name : 'Error',
    message: e instanceof Error ? e.message : String(e),
  };
}
parentPort.postMessage(reply);
