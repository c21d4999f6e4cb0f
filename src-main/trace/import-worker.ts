/**
 * Worker thread entry of the app's trace import (./import.ts): reads and validates one trace
 * file from a descriptor the main thread opened, and posts back the validated contents or the
 * error. The main thread starts it with a bounded heap (resourceLimits), so even a hostile file
 * can only end this worker, never the host, and never blocks the host's event loop.
 *
 * Version 1 files keep their records where they are. Version 2 files (compressed event columns)
 * are decoded batch by batch, each batch validated, into `decodedFd` (a second file the main
 * thread opened), so the imported session reads raw records from disk either way.
 */
import { fstatSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { EventBatchView, CorruptBatchError } from '../../src-shared/events/batch';
import { EVENT_SIZE } from '../../src-shared/events/layout';
import { ReadAheadSource, TraceReader, TraceFileError, readAtFd, traceVersion } from './trace-file';
import {
  TRACE_LIMITS,
  parseEntries,
  parseMeta,
  parseSummary,
  readTraceFile,
  withLedger,
  type TraceFileContents,
} from './v1';
import { Ledger } from '../../src-shared/ledger/ledger';

export interface ImportRequest {
  fd: number;
  fileBytes: number;
  /** Where version 2 records are decoded to (-1 when the main thread saw version 1). */
  decodedFd: number;
}

export type ImportReply =
  { ok: true; contents: TraceFileContents } | { ok: false; name: string; message: string };

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.byteLength) {
    const n = writeSync(fd, bytes, done, bytes.byteLength - done, position + done);
    if (n <= 0) throw new Error(`wrote ${done} of ${bytes.byteLength} decoded bytes`);
    done += n;
  }
}

function readV2(fd: number, fileBytes: number, decodedFd: number): TraceFileContents {
  if (decodedFd < 0) throw new TraceFileError('a version 2 trace needs a file to decode into');
  const r = TraceReader.open(new ReadAheadSource(fileBytes, readAtFd(fd)));
  if (r.eventCount > TRACE_LIMITS.maxEvents)
    throw new TraceFileError(`the trace holds ${r.eventCount} events, more than the limit`);
  const meta = parseMeta(r.session);
  const entries = parseEntries(Object.fromEntries(r.entries()));
  const rawSummary = r.summary();
  let expected = 0;
  const ledger = new Ledger();
  // Each batch is checked, folded and written out before the next: one reused buffer.
  r.forEachBatch(
    (firstSeq, records, count) => {
      if (firstSeq !== expected)
        throw new TraceFileError(
          `corrupt trace file: events jump from seq ${expected} to ${firstSeq}`,
        );
      const batch = new EventBatchView(records, count);
      try {
        batch.validate(firstSeq);
      } catch (e) {
        if (!(e instanceof CorruptBatchError)) throw e;
        throw new TraceFileError(`corrupt trace file: events from seq ${firstSeq}: ${e.message}`);
      }
      ledger.fold(batch, 0, batch.count);
      writeAll(decodedFd, new Uint8Array(records, 0, count * EVENT_SIZE), firstSeq * EVENT_SIZE);
      expected = firstSeq + count;
    },
    { reuse: true },
  );
  // A damaged file keeps what was recovered; its summary (if any) may count more.
  const summary = rawSummary === null || rawSummary === undefined ? null : parseSummary(rawSummary);
  const usable = summary && summary.events === expected ? withLedger(summary, ledger) : null;
  return {
    version: 2,
    meta,
    eventCount: expected,
    summary: usable,
    entries,
    records: { fileOffset: 0, decoded: true },
    damage: r.damage ? `${r.damage.message} (at byte ${r.damage.offset})` : null,
  };
}

if (!parentPort) throw new Error('import-worker must run as a worker thread');
const { fd, fileBytes, decodedFd } = workerData as ImportRequest;
let reply: ImportReply;
try {
  const size = Math.min(fileBytes, fstatSync(fd).size);
  const head = new Uint8Array(16);
  readAtFd(fd)(head, 0);
  const version = traceVersion(head.subarray(0, Math.min(16, size)));
  reply = {
    ok: true,
    contents: version === 2 ? readV2(fd, size, decodedFd) : readTraceFile(readAtFd(fd), size),
  };
} catch (e) {
  reply = {
    ok: false,
    name: e instanceof Error ? e.name : 'Error',
    message: e instanceof Error ? e.message : String(e),
  };
}
parentPort.postMessage(reply);
