/**
 * Reads a trace file off the main thread: one short-lived worker (trace-reader-worker.ts) per
 * file, with a bounded heap, reading through a file descriptor this thread opened (worker
 * threads share the process's descriptors). The host's event loop keeps serving everyone while
 * a file of any size is validated; a header too large for the worker's heap ends the worker
 * with a clear TraceFileError, never the process.
 */
import { Worker } from 'node:worker_threads';
import { TraceFileError, type TraceFileContents } from './trace-file';
import type { TraceReaderReply, TraceReaderRequest } from './trace-reader-worker';
import { workerSource } from './worker-source';

/** Heap of a reader worker: room for the largest header TRACE_LIMITS allows, parsed. */
const READER_HEAP_MB = 512;

export function readTraceFileInWorker(fd: number, fileBytes: number): Promise<TraceFileContents> {
  const src = workerSource('trace-reader-worker.ts', 'trace-reader-worker.js');
  const data: TraceReaderRequest = { fd, fileBytes };
  return new Promise((resolve, reject) => {
    const worker = new Worker(src.file, {
      eval: src.eval,
      name: 'pss-trace-reader',
      workerData: data,
      resourceLimits: { maxOldGenerationSizeMb: READER_HEAP_MB, maxYoungGenerationSizeMb: 32 },
    });
    let settled = false;
    worker.once('message', (m: TraceReaderReply) => {
      settled = true;
      if (m.ok) resolve(m.contents);
      else if (m.name === 'TraceFileError') reject(new TraceFileError(m.message));
      else reject(new Error(m.message));
      void worker.terminate();
    });
    worker.once('error', (e: Error & { code?: string }) => {
      if (settled) return;
      settled = true;
      reject(
        e.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new TraceFileError(
              `the trace header needs more than the reader's ${READER_HEAP_MB} MB to read; nothing was loaded`,
            )
          : e,
      );
    });
    worker.once('exit', (code) => {
      if (settled) return;
      settled = true;
      reject(new Error(`the trace reader exited (code ${code}) without an answer`));
    });
  });
}
