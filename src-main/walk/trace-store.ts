/**
 * Keeps every event of one session in the main process, so nothing is lost when a consumer is
 * slow: batches stay in memory up to a limit, older ones spill to a temporary file, and any
 * range can be read back. Also holds the session's walked entries and final summary, and
 * reads/writes trace files.
 *
 * Trace file format (little-endian):
 *   "PSSTRACE" | u32 version (1) | u32 headerBytes | header JSON (UTF-8) | records
 * where records are eventCount × EVENT_SIZE bytes (src-shared/events/layout.ts) with seq 0…n-1.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVENT_SIZE } from '../../src-shared/events/layout';
import { CorruptBatchError, EventBatchView } from '../../src-shared/events/batch';
import type { WalkableClass } from '../../src-shared/pss/constants';
import { WALKABLE_CLASSES } from '../../src-shared/pss/constants';
import type { WalkEntry } from '../../src-shared/pss/entries';
import { upgradeLegacyEntryTimes } from '../../src-shared/pss/filetime';
import type { SessionSummary } from '../../src-shared/contract/model';

export class TraceFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TraceFileError';
  }
}

interface Segment {
  firstSeq: number;
  count: number;
  /** In memory, or null once spilled. */
  bytes: Uint8Array | null;
  /** Byte offset in the spill file once spilled. */
  fileOffset: number;
}

export interface TraceStoreOptions {
  /** Bytes of event records kept in memory before older ones spill to disk. */
  memoryLimitBytes?: number;
  /** Where spill files go (default: the OS temp dir). */
  spillDir?: string;
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

const MAGIC = 'PSSTRACE';
const VERSION = 1;
const MAX_HEADER_BYTES = 256 * 1024 * 1024;

export class TraceStore {
  private readonly segments: Segment[] = [];
  private total = 0;
  private memoryBytes = 0;
  private spilledBytes = 0;
  private readonly memoryLimit: number;
  private readonly spillDir: string;
  private spill: { dir: string; fd: number; size: number } | null = null;
  private readonly entries = new Map<WalkableClass, WalkEntry[]>();
  private finalSummary: SessionSummary | null = null;
  private disposed = false;

  constructor(
    readonly meta: TraceMeta,
    options: TraceStoreOptions = {},
  ) {
    this.memoryLimit = options.memoryLimitBytes ?? 64 * 1024 * 1024;
    this.spillDir = options.spillDir ?? tmpdir();
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
    this.memoryBytes += batch.byteLength;
    if (this.memoryBytes > this.memoryLimit) this.spillOldest();
  }

  private spillOldest(): void {
    if (!this.spill) {
      const dir = mkdtempSync(join(this.spillDir, 'pss-trace-'));
      this.spill = { dir, fd: openSync(join(dir, 'events.bin'), 'w+', 0o600), size: 0 };
    }
    // Spill down to half the limit so spilling is not done batch by batch.
    for (const seg of this.segments) {
      if (this.memoryBytes <= this.memoryLimit / 2) break;
      if (!seg.bytes) continue;
      writeSync(this.spill.fd, seg.bytes, 0, seg.bytes.byteLength, this.spill.size);
      seg.fileOffset = this.spill.size;
      this.spill.size += seg.bytes.byteLength;
      this.memoryBytes -= seg.bytes.byteLength;
      this.spilledBytes += seg.bytes.byteLength;
      seg.bytes = null;
    }
  }

  /** Events [fromSeq, fromSeq+count) clipped to what is stored, as one buffer of records. */
  read(fromSeq: number, count: number): ArrayBuffer {
    this.assertLive();
    const start = Math.max(0, Math.min(fromSeq, this.total));
    const end = Math.max(start, Math.min(fromSeq + count, this.total));
    const out = new Uint8Array((end - start) * EVENT_SIZE);
    if (end === start) return out.buffer;
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
        const spill = this.spill as { fd: number };
        const got = readSync(
          spill.fd,
          out,
          dst,
          n * EVENT_SIZE,
          seg.fileOffset + from * EVENT_SIZE,
        );
        if (got !== n * EVENT_SIZE)
          throw new TraceFileError(`spill file is short: read ${got} of ${n * EVENT_SIZE} bytes`);
      }
      at += n;
    }
    return out.buffer;
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

  /** The whole trace as a trace file. */
  export(): ArrayBuffer {
    this.assertLive();
    const entries: Partial<Record<WalkableClass, WalkEntry[]>> = {};
    for (const [cls, list] of this.entries) entries[cls] = list;
    const header = new TextEncoder().encode(
      JSON.stringify({
        version: VERSION,
        meta: this.meta,
        eventCount: this.total,
        summary: this.finalSummary,
        entries,
      }),
    );
    const out = new Uint8Array(16 + header.byteLength + this.total * EVENT_SIZE);
    out.set(new TextEncoder().encode(MAGIC), 0);
    const dv = new DataView(out.buffer);
    dv.setUint32(8, VERSION, true);
    dv.setUint32(12, header.byteLength, true);
    out.set(header, 16);
    out.set(new Uint8Array(this.read(0, this.total)), 16 + header.byteLength);
    return out.buffer;
  }

  /** Reads a trace file; any inconsistency is a TraceFileError naming what is wrong. */
  static import(bytes: ArrayBuffer, options: TraceStoreOptions = {}): TraceStore {
    if (bytes.byteLength < 16)
      throw new TraceFileError(`not a trace file: only ${bytes.byteLength} bytes`);
    const u8 = new Uint8Array(bytes);
    if (new TextDecoder().decode(u8.subarray(0, 8)) !== MAGIC)
      throw new TraceFileError('not a trace file: bad magic (expected "PSSTRACE")');
    const dv = new DataView(bytes);
    const version = dv.getUint32(8, true);
    if (version !== VERSION)
      throw new TraceFileError(
        `unsupported trace file version ${version} (this app reads version ${VERSION})`,
      );
    const headerBytes = dv.getUint32(12, true);
    if (headerBytes > MAX_HEADER_BYTES || 16 + headerBytes > bytes.byteLength) {
      throw new TraceFileError(`corrupt trace file: header length ${headerBytes} exceeds the file`);
    }
    let header: unknown;
    try {
      header = JSON.parse(
        new TextDecoder('utf-8', { fatal: true }).decode(u8.subarray(16, 16 + headerBytes)),
      );
    } catch (e) {
      throw new TraceFileError(
        `corrupt trace file: header is not valid JSON (${(e as Error).message})`,
      );
    }
    const h = header as {
      meta?: TraceMeta;
      eventCount?: unknown;
      summary?: SessionSummary | null;
      entries?: Record<string, unknown>;
    };
    if (typeof h !== 'object' || h === null || typeof h.meta !== 'object' || h.meta === null) {
      throw new TraceFileError('corrupt trace file: header has no session description');
    }
    const eventCount = h.eventCount;
    if (typeof eventCount !== 'number' || !Number.isInteger(eventCount) || eventCount < 0) {
      throw new TraceFileError('corrupt trace file: header has no valid event count');
    }
    const recordBytes = bytes.byteLength - 16 - headerBytes;
    if (recordBytes !== eventCount * EVENT_SIZE) {
      throw new TraceFileError(
        `corrupt trace file: header says ${eventCount} events (${eventCount * EVENT_SIZE} bytes) but ${recordBytes} bytes of records follow`,
      );
    }
    const records = bytes.slice(16 + headerBytes);
    try {
      new EventBatchView(records).validate(0);
    } catch (e) {
      throw new TraceFileError(`corrupt trace file: ${(e as Error).message}`);
    }
    if (h.summary && typeof h.summary.events === 'number' && h.summary.events !== eventCount) {
      throw new TraceFileError(
        `corrupt trace file: summary counts ${h.summary.events} events but the file holds ${eventCount}`,
      );
    }
    const store = new TraceStore(h.meta, options);
    if (eventCount > 0) store.append(0, records);
    for (const [cls, list] of Object.entries(h.entries ?? {})) {
      if (!(WALKABLE_CLASSES as readonly string[]).includes(cls) || !Array.isArray(list)) {
        throw new TraceFileError(`corrupt trace file: bad entry list "${cls.slice(0, 40)}"`);
      }
      for (const e of list) {
        if (typeof e === 'object' && e !== null)
          upgradeLegacyEntryTimes(e as Record<string, unknown>);
      }
      store.appendEntries(cls as WalkableClass, 0, list as WalkEntry[]);
    }
    if (h.summary) store.setSummary(h.summary);
    return store;
  }

  /** Releases memory and deletes the spill file. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.segments.length = 0;
    this.entries.clear();
    this.memoryBytes = 0;
    if (this.spill) {
      closeSync(this.spill.fd);
      rmSync(this.spill.dir, { recursive: true, force: true });
      this.spill = null;
    }
  }

  private assertLive(): void {
    if (this.disposed) throw new Error('trace store used after dispose');
  }
}
