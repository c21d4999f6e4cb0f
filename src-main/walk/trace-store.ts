/**
 * Keeps every event of one session in the main process, so nothing is lost when a consumer is
 * slow: batches stay in memory up to a limit (per store, and for all stores together through a
 * shared TraceMemoryBudget), older ones spill to a temporary file, and any range can be read
 * back. Also holds the session's walked entries and final summary. The app exports a store as a
 * version 2 trace (src-main/trace/store-export.ts); `export()` here writes format version 1
 * (src-main/trace/v1.ts, which also reads it) for the tests of that reader and the bench's
 * baseline only.
 *
 * The spill file is unlinked as soon as it is open (where the OS allows it: Linux, macOS), so
 * it vanishes with the process however the process ends, kill -9 included.
 *
 * A spill that fails (disk full, file-size limit, I/O error) loses nothing: the batches stay in
 * memory, the store stops spilling and records the error in `spillError`; the host then ends
 * the session with that error (src-main/host), so memory grows only by what the walk emits
 * before it stops.
 */
import {
  closeSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  rmdirSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVENT_SIZE } from '../../src-shared/events/layout';
import { CorruptBatchError, EventBatchView } from '../../src-shared/events/batch';
import type { WalkableClass } from '../../src-shared/pss/constants';
import type { WalkEntry } from '../../src-shared/pss/entries';
import type { SessionSummary } from '../../src-shared/contract/model';
import {
  TRACE_MAGIC,
  V1_PREAMBLE_BYTES,
  V1_VERSION,
  TraceFileError,
  readAtBuffer,
  readTraceFile,
  type TraceFileContents,
} from '../trace/v1';

export { TraceFileError } from '../trace/v1';

interface Segment {
  firstSeq: number;
  count: number;
  /** In memory, or null once spilled. */
  bytes: Uint8Array | null;
  /** Byte offset in the spill file once spilled. */
  fileOffset: number;
}

/** Event bytes held in memory by all the stores that share it; the largest spill first. */
export class TraceMemoryBudget {
  private used = 0;
  private readonly stores = new Set<TraceStore>();

  constructor(readonly limitBytes: number) {}

  get bytesInMemory(): number {
    return this.used;
  }

  /** @internal */ add(store: TraceStore): void {
    this.stores.add(store);
  }
  /** @internal */ remove(store: TraceStore): void {
    this.stores.delete(store);
  }
  /** @internal */ adjust(delta: number): void {
    this.used += delta;
  }

  /** Spills the stores holding most until three quarters of the limit are in use. */
  relieve(): void {
    if (this.used <= this.limitBytes) return;
    const target = (this.limitBytes * 3) / 4;
    const bySize = [...this.stores].sort((a, b) => b.bytesInMemory - a.bytesInMemory);
    for (const s of bySize) {
      if (this.used <= target) break;
      s.spillDownTo(Math.max(0, s.bytesInMemory - (this.used - target)));
    }
  }
}

export interface TraceStoreOptions {
  /** Bytes of event records kept in memory before older ones spill to disk. */
  memoryLimitBytes?: number;
  /** Where spill files go (default: the OS temp dir). */
  spillDir?: string;
  /** Memory shared with other stores (the host's global cap). */
  budget?: TraceMemoryBudget;
}

export interface TraceMeta {
  pid: number;
  processName?: string;
  flags: number;
  allocator: unknown;
  classes: WalkableClass[];
  createdAt: string;
  [key: string]: unknown;
}

/** The bytes of a trace file as written by export: computed once, read in chunks. */
export interface ExportLayout {
  /** Magic, version, header length and the header JSON. */
  head: Uint8Array;
  eventCount: number;
  totalBytes: number;
}

/** A spill write failed; nothing was lost (the batches stay in memory). */
export class TraceSpillError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message);
    this.name = 'TraceSpillError';
  }
}

interface SpillFile {
  fd: number;
  size: number;
  /** Left to delete at dispose where it could not be unlinked while open. */
  path: string | null;
  /** The file belongs to someone else's directory tree (an imported file is ours alone). */
}

export class TraceStore {
  private readonly segments: Segment[] = [];
  private total = 0;
  private memoryBytes = 0;
  private spilledBytes = 0;
  private readonly memoryLimit: number;
  private readonly spillDir: string;
  private readonly budget: TraceMemoryBudget | null;
  private spill: SpillFile | null = null;
  private readonly entries = new Map<WalkableClass, WalkEntry[]>();
  private finalSummary: SessionSummary | null = null;
  private disposed = false;
  private failure: TraceSpillError | null = null;

  constructor(
    readonly meta: TraceMeta,
    options: TraceStoreOptions = {},
  ) {
    this.memoryLimit = options.memoryLimitBytes ?? 64 * 1024 * 1024;
    this.spillDir = options.spillDir ?? tmpdir();
    this.budget = options.budget ?? null;
    this.budget?.add(this);
  }

  /** Number of events stored (= next expected seq). */
  get count(): number {
    return this.total;
  }

  get bytesInMemory(): number {
    return this.memoryBytes;
  }

  get bytesSpilled(): number {
    return this.spilledBytes;
  }

  /** The first spill failure, if any (then the store keeps everything in memory). */
  get spillError(): TraceSpillError | null {
    return this.failure;
  }

  /** Appends one batch; its first seq must be the next expected one. */
  append(firstSeq: number, batch: ArrayBuffer): void {
    this.assertLive();
    if (firstSeq !== this.total) {
      throw new CorruptBatchError(
        `event batch starts at seq ${firstSeq}, the store expects ${this.total}`,
      );
    }
    const view = new EventBatchView(batch);
    if (view.count === 0) return;
    this.segments.push({
      firstSeq,
      count: view.count,
      bytes: new Uint8Array(batch),
      fileOffset: -1,
    });
    this.total += view.count;
    this.grow(batch.byteLength);
    // Spill down to half the limit so spilling is not done batch by batch.
    if (this.memoryBytes > this.memoryLimit) this.spillDownTo(this.memoryLimit / 2);
    this.budget?.relieve();
  }

  private grow(delta: number): void {
    this.memoryBytes += delta;
    this.budget?.adjust(delta);
  }

  private openSpill(): SpillFile {
    if (this.spill) return this.spill;
    const dir = mkdtempSync(join(this.spillDir, 'pss-trace-'));
    const path = join(dir, 'events.bin');
    const fd = openSync(path, 'w+', 0o600);
    let left: string | null = dir;
    try {
      unlinkSync(path);
      rmdirSync(dir);
      left = null;
    } catch {
      // Windows: an open file cannot be unlinked; dispose() deletes it.
    }
    this.spill = { fd, size: 0, path: left };
    return this.spill;
  }

  /** Spills the oldest in-memory segments until at most `target` bytes stay in memory. */
  spillDownTo(target: number): void {
    if (this.failure || this.disposed) return;
    try {
      const spill = this.openSpill();
      for (const seg of this.segments) {
        if (this.memoryBytes <= target) break;
        if (!seg.bytes) continue;
        writeFully(spill.fd, seg.bytes, spill.size);
        seg.fileOffset = spill.size;
        spill.size += seg.bytes.byteLength;
        this.grow(-seg.bytes.byteLength);
        this.spilledBytes += seg.bytes.byteLength;
        seg.bytes = null;
      }
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      this.failure = new TraceSpillError(
        `the trace could not be written to its spill file in ${this.spillDir}: ${(e as Error).message}`,
        typeof code === 'string' ? code : null,
      );
    }
  }

  /** Events [fromSeq, fromSeq+count) clipped to what is stored, as one buffer of records. */
  read(fromSeq: number, count: number): ArrayBuffer {
    this.assertLive();
    const start = Math.max(0, Math.min(fromSeq, this.total));
    const end = Math.max(start, Math.min(fromSeq + count, this.total));
    const out = new Uint8Array((end - start) * EVENT_SIZE);
    if (end === start) return out.buffer;
    this.readInto(out, start, end);
    return out.buffer;
  }

  private readInto(out: Uint8Array, start: number, end: number): void {
    let i = this.findSegment(start);
    let at = start;
    while (at < end) {
      const seg = this.segments[i++] as Segment;
      const from = at - seg.firstSeq;
      const n = Math.min(seg.count - from, end - at);
      const dst = (at - start) * EVENT_SIZE;
      if (seg.bytes) {
        out.set(seg.bytes.subarray(from * EVENT_SIZE, (from + n) * EVENT_SIZE), dst);
      } else {
        const spill = this.spill as SpillFile;
        const want = n * EVENT_SIZE;
        let got = 0;
        while (got < want) {
          const r = readSync(
            spill.fd,
            out,
            dst + got,
            want - got,
            seg.fileOffset + from * EVENT_SIZE + got,
          );
          if (r === 0) break;
          got += r;
        }
        if (got !== want)
          throw new TraceFileError(`spill file is short: read ${got} of ${want} bytes`);
      }
      at += n;
    }
  }

  /** Index of the segment holding seq (binary search; segments are contiguous). */
  private findSegment(seq: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((this.segments[mid] as Segment).firstSeq <= seq) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  appendEntries(cls: WalkableClass, startIndex: number, entries: WalkEntry[]): void {
    this.assertLive();
    let list = this.entries.get(cls);
    if (!list) this.entries.set(cls, (list = []));
    // Entries re-walked after a seek overwrite the same indices.
    for (let i = 0; i < entries.length; i++) list[startIndex + i] = entries[i] as WalkEntry;
  }

  entryCount(cls: WalkableClass): number {
    return this.entries.get(cls)?.length ?? 0;
  }

  getEntries(cls: WalkableClass, offset: number, limit: number): WalkEntry[] {
    return (this.entries.get(cls) ?? []).slice(offset, offset + limit);
  }

  setSummary(summary: SessionSummary): void {
    this.finalSummary = summary;
  }

  get summary(): SessionSummary | null {
    return this.finalSummary;
  }

  /** The trace file's layout as of now: its head (preamble + header JSON) and total size. */
  exportLayout(): ExportLayout {
    this.assertLive();
    const entries: Partial<Record<WalkableClass, WalkEntry[]>> = {};
    for (const [cls, list] of this.entries) entries[cls] = list;
    const header = new TextEncoder().encode(
      JSON.stringify({
        version: V1_VERSION,
        meta: this.meta,
        eventCount: this.total,
        summary: this.finalSummary,
        entries,
      }),
    );
    const head = new Uint8Array(V1_PREAMBLE_BYTES + header.byteLength);
    head.set(new TextEncoder().encode(TRACE_MAGIC), 0);
    const dv = new DataView(head.buffer);
    dv.setUint32(8, V1_VERSION, true);
    dv.setUint32(12, header.byteLength, true);
    head.set(header, V1_PREAMBLE_BYTES);
    return { head, eventCount: this.total, totalBytes: head.byteLength + this.total * EVENT_SIZE };
  }

  /** Bytes [offset, offset + maxBytes) of the trace file `layout` describes. */
  exportChunk(layout: ExportLayout, offset: number, maxBytes: number): ArrayBuffer {
    this.assertLive();
    const start = Math.max(0, Math.min(offset, layout.totalBytes));
    const end = Math.min(layout.totalBytes, start + maxBytes);
    const out = new Uint8Array(end - start);
    const headEnd = layout.head.byteLength;
    if (start < headEnd) out.set(layout.head.subarray(start, Math.min(end, headEnd)), 0);
    if (end > headEnd) {
      // Records: whole events around the range, then the part inside it.
      const from = Math.max(start, headEnd) - headEnd;
      const to = end - headEnd;
      const firstEvent = Math.floor(from / EVENT_SIZE);
      const lastEvent = Math.min(layout.eventCount, Math.ceil(to / EVENT_SIZE));
      const recs = new Uint8Array((lastEvent - firstEvent) * EVENT_SIZE);
      if (lastEvent > firstEvent) this.readInto(recs, firstEvent, lastEvent);
      const skip = from - firstEvent * EVENT_SIZE;
      out.set(recs.subarray(skip, skip + (to - from)), Math.max(start, headEnd) - start);
    }
    return out.buffer;
  }

  /** The whole trace as one trace file (small traces, tests; the host exports in chunks). */
  export(): ArrayBuffer {
    const layout = this.exportLayout();
    return this.exportChunk(layout, 0, layout.totalBytes);
  }

  /** A store over a validated trace file whose records stay in the file (it takes the fd). */
  static fromFile(
    contents: TraceFileContents,
    fd: number,
    options: TraceStoreOptions = {},
  ): TraceStore {
    const store = new TraceStore({ ...contents.meta }, options);
    store.spill = {
      fd,
      size: contents.records.fileOffset + contents.eventCount * EVENT_SIZE,
      path: null,
    };
    if (contents.eventCount > 0) {
      store.segments.push({
        firstSeq: 0,
        count: contents.eventCount,
        bytes: null,
        fileOffset: contents.records.fileOffset,
      });
      store.total = contents.eventCount;
    }
    store.adopt(contents);
    return store;
  }

  private adopt(contents: TraceFileContents): void {
    for (const [cls, list] of Object.entries(contents.entries)) {
      this.appendEntries(cls as WalkableClass, 0, list);
    }
    if (contents.summary) this.setSummary(contents.summary);
  }

  /** Reads a trace file held in memory (tests, small files), on this thread. */
  static import(bytes: ArrayBuffer, options: TraceStoreOptions = {}): TraceStore {
    const u8 = new Uint8Array(bytes);
    const contents = readTraceFile(readAtBuffer(u8), u8.byteLength);
    const store = new TraceStore({ ...contents.meta }, options);
    if (contents.eventCount > 0) {
      store.append(
        0,
        bytes.slice(
          contents.records.fileOffset,
          contents.records.fileOffset + contents.eventCount * EVENT_SIZE,
        ),
      );
    }
    store.adopt(contents);
    return store;
  }

  /** Releases memory and the spill file. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.budget?.adjust(-this.memoryBytes);
    this.budget?.remove(this);
    this.segments.length = 0;
    this.entries.clear();
    this.memoryBytes = 0;
    if (this.spill) {
      closeSync(this.spill.fd);
      if (this.spill.path) rmSync(this.spill.path, { recursive: true, force: true });
      this.spill = null;
    }
  }

  private assertLive(): void {
    if (this.disposed) throw new Error('trace store used after dispose');
  }
}

/** Writes all of `bytes` at `position`, however many writes it takes; throws on failure. */
function writeFully(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.byteLength) {
    const n = writeSync(fd, bytes, done, bytes.byteLength - done, position + done);
    if (n <= 0) {
      const e = new Error(`wrote ${done} of ${bytes.byteLength} bytes`) as Error & {
        code: string;
      };
      e.code = 'EIO';
      throw e;
    }
    done += n;
  }
}
