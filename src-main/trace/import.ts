/**
 * The app's trace import, off the main thread: one short-lived worker (./import-worker.ts) per
 * file, with a bounded heap, reading through a descriptor this thread opened (worker threads
 * share the process's descriptors). The host's event loop keeps serving everyone while a file
 * of any size is validated; a file too large for the worker's heap ends the worker with a clear
 * TraceFileError, never the process. Reads versions 1 and 2.
 */
import { readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { traceVersion } from './trace-file';
import { TraceFileError, type TraceFileContents } from './v1';
import type { ImportRequest } from './import-worker';
import { checkImportReply } from './import-check';
import { workerSource } from '../walk/worker-source';

/** Heap of a reader worker: room for the largest description TRACE_LIMITS allows, parsed. */
const READER_HEAP_MB = 512;

/** The version word of an open trace file (TraceFileError when it is not a trace). */
export function versionOfFd(fd: number): number {
  const head = new Uint8Array(16);
  const n = readSync(fd, head, 0, 16, 0);
  return traceVersion(head.subarray(0, n));
}

/**
 * Reads and validates the trace file open as `fd` (`fileBytes` long). Version 2 records are
 * decoded into `decodedFd` (pass -1 for version 1 files).
 */
export function readTraceFileInWorker(
  fd: number,
  fileBytes: number,
  decodedFd: number,
): Promise<TraceFileContents> {
  const src = workerSource(
    new URL('../trace/import-worker.ts', import.meta.url),
    'trace-import-worker.js',
  );
  const data: ImportRequest = { fd, fileBytes, decodedFd };
  return new Promise((resolve, reject) => {
    const worker = new Worker(src.file, {
      eval: src.eval,
      name: 'pss-trace-import',
      workerData: data,
      resourceLimits: { maxOldGenerationSizeMb: READER_HEAP_MB, maxYoungGenerationSizeMb: 32 },
    });
    let settled = false;
    worker.once('message', (raw: unknown) => {
      settled = true;
      const checked = checkImportReply(raw);
      if (!checked.ok) {
        reject(new Error(`the trace reader sent a malformed answer (${checked.problem})`));
        void worker.terminate();
        return;
      }
      const m = checked.reply;
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
              `the trace's description needs more than the reader's ${READER_HEAP_MB} MB to read; nothing was loaded`,
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
