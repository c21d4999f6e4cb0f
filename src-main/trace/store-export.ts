/**
 * The app's "Export trace": a session's trace store written as a trace file of format version 2
 * (./trace-file.ts), the format `pss-inspector walk` records and every reader opens. The one
 * place the app turns a TraceStore into a file.
 *
 * The file is written once, when an export starts (offset 0), into a temporary file that is
 * unlinked as soon as it is open (nothing is left behind, even after kill -9); the client then
 * reads it in chunks (exportTrace with an offset). Writing yields to the event loop between
 * batches, so the host keeps serving while a large trace is compressed. Events appended after
 * the export started are not in it: the file holds the store as it was at offset 0.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, rmdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { WALKABLE_CLASSES } from '../../src-shared/pss/constants';
import type { TraceStore } from '../walk/trace-store';
import { FdSink, TraceFileError, TraceWriter, type ChunkSink } from './trace-file';

/** Events read from the store and encoded per chunk. */
const EXPORT_BATCH = 65_536;

/** Writes `store` (as it is now) into `sink` as a version 2 trace; the sink is closed at the end. */
export async function writeStoreTrace(
  store: TraceStore,
  sink: ChunkSink,
  pause: () => Promise<unknown> = () => yieldToLoop(),
): Promise<void> {
  const w = new TraceWriter(sink, { ...store.meta });
  try {
    for (const cls of WALKABLE_CLASSES) {
      const n = store.entryCount(cls);
      if (n > 0) w.appendEntries(cls, 0, store.getEntries(cls, 0, n));
    }
    const count = store.count;
    for (let at = 0; at < count; at += EXPORT_BATCH) {
      w.appendEvents(at, store.read(at, Math.min(EXPORT_BATCH, count - at)));
      await pause();
    }
    w.finish(store.summary);
  } catch (e) {
    w.abandon();
    throw e;
  }
}

/** One export in progress: the finished v2 file, read back in chunks. */
export class StoreExport {
  private fd: number | null;

  private constructor(
    fd: number,
    readonly totalBytes: number,
    /** Left to delete at close where the file could not be unlinked while open. */
    private readonly leftDir: string | null,
  ) {
    this.fd = fd;
  }

  /** Writes the store's trace into an unlinked temporary file in `dir`. */
  static async create(store: TraceStore, dir: string = tmpdir()): Promise<StoreExport> {
    const d = mkdtempSync(join(dir, 'pss-export-'));
    const path = join(d, 'trace.psstrace');
    const fd = openSync(path, 'w+', 0o600);
    let left: string | null = d;
    try {
      unlinkSync(path);
      rmdirSync(d);
      left = null;
    } catch {
      // An open file cannot be unlinked everywhere (Windows): removed at close below.
    }
    const sink = new FdSink(fd);
    try {
      await writeStoreTrace(store, sink);
    } catch (e) {
      closeSync(fd);
      if (left) rmSync(left, { recursive: true, force: true });
      throw e;
    }
    return new StoreExport(fd, sink.size, left);
  }

  /** Bytes [offset, offset + maxBytes) of the file, clipped to its end. */
  read(offset: number, maxBytes: number): ArrayBuffer {
    if (this.fd === null) throw new TraceFileError('the export was closed');
    const start = Math.max(0, Math.min(offset, this.totalBytes));
    const n = Math.min(this.totalBytes - start, maxBytes);
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const got = readSync(this.fd, out, done, n - done, start + done);
      if (got <= 0) throw new TraceFileError(`the export file ended at byte ${start + done}`);
      done += got;
    }
    return out.buffer;
  }

  /** Releases the temporary file. Idempotent. */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    if (this.leftDir) rmSync(this.leftDir, { recursive: true, force: true });
  }
}
