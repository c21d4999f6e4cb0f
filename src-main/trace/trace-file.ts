/**
 * Trace file format version 2: versioned, self-describing, streamed to disk while recording,
 * compact, indexed, and validated on every read.
 *
 *   file    = header chunk*
 *   header  = "PSSTRACE" u32 version (2) u32 flags (0)                      16 bytes
 *   chunk   = u32 tag  u32 payloadBytes  u32 crc32(payload)  payload          12 + n bytes
 *
 * Chunks (tag = four ASCII bytes, little-endian u32):
 *   META  JSON: format name, version, event layout, column list, the session description.
 *         Always the first chunk; a file without a readable META is not a trace.
 *   ENTR  deflate(JSON {cls, start, entries}): walked entries, each stored once.
 *   EVTS  f64 firstSeq, u32 count, u32 columnBytes, deflate(column blob): one batch of events
 *         (./event-columns.ts). Batches hold consecutive sequence numbers, in order. A writer
 *         may store a batch in deflate's stored blocks (level 0, storedDeflate): the live
 *         writer does when it is behind; readers see no difference.
 *   CKPT  f64 seq, then deflate(ledger state): the ledger (src-shared/ledger, its exportBytes)
 *         after the first `seq` events. The writer folds the events it writes and adds one after
 *         the batch that passes every `checkpointEvery` events (or 16 × the live blocks, if more:
 *         a checkpoint's size is proportional to the live set, so this keeps them to a bounded
 *         share of the file), so a reader rebuilds the state at any event (stateAt) from the
 *         nearest one and fewer than that many events, without reading the whole file.
 *   SUMM  JSON: the session's final summary.
 *   INDX  n × {u32 tag, u32 count, f64 offset, f64 firstSeq}: every chunk before it.
 *   TEND  f64 indexOffset, f64 eventCount: the trailer, always the last 28 bytes.
 *
 * The writer appends each chunk with one write() as soon as its data exists, so a crash or
 * kill -9 loses at most the batch being written. A file without a valid trailer (a recording that
 * did not finish, or damage) is read by scanning chunks from the start; reading stops at the
 * first chunk that is truncated, fails its CRC or breaks the sequence, and everything before it
 * is recovered, with `damage` naming what and where.
 *
 * Checkpoints are never trusted beyond their checks: one that fails its checksum is skipped at
 * open (it is derived data: the events after it are still read), and one that does not decode
 * to a consistent ledger at the event it claims is ignored by stateAt, which then rebuilds the
 * state from an earlier checkpoint or from the start (`ignoredCheckpoints` says which and why).
 * The state stateAt returns never depends on a checkpoint being intact.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { constants, crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import { EventBatchView } from '../../src-shared/events/batch';
import { EVENT_SIZE } from '../../src-shared/events/layout';
import { Ledger, LedgerStateError } from '../../src-shared/ledger/ledger';
import { COLUMNS, ColumnDecodeError, decodeColumns, encodeColumns } from './event-columns';

export const TRACE_MAGIC = 'PSSTRACE';
export const TRACE_VERSION = 2;
export const HEADER_BYTES = 16;
export const CHUNK_HEADER_BYTES = 12;
const TRAILER_PAYLOAD = 16;
export const TRAILER_BYTES = CHUNK_HEADER_BYTES + TRAILER_PAYLOAD;

/** Limits on what a reader accepts (a corrupt length must not become a huge allocation). */
export const LIMITS = {
  chunkPayloadBytes: 64 * 1024 * 1024,
  eventsPerChunk: 1 << 20,
  entriesPerChunk: 1 << 20,
  chunks: 1 << 24,
  metaBytes: 1024 * 1024,
} as const;

const tag = (s: string): number =>
  s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24);
export const Tag = {
  META: tag('META') >>> 0,
  ENTR: tag('ENTR') >>> 0,
  EVTS: tag('EVTS') >>> 0,
  CKPT: tag('CKPT') >>> 0,
  SUMM: tag('SUMM') >>> 0,
  INDX: tag('INDX') >>> 0,
  TEND: tag('TEND') >>> 0,
} as const;
const TAG_NAMES = new Map<number, string>(Object.entries(Tag).map(([k, v]) => [v, k]));
export const tagName = (t: number): string =>
  TAG_NAMES.get(t) ?? `0x${(t >>> 0).toString(16).padStart(8, '0')}`;

export class TraceFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TraceFileError';
  }
}

/** What META holds: self-description plus the session description (`session`). */
export interface TraceHeaderV2 {
  format: 'pss-inspector-trace';
  version: 2;
  eventBytes: typeof EVENT_SIZE;
  eventLayout: 'src-shared/events/layout.ts';
  columns: readonly string[];
  session: Record<string, unknown>;
}

export interface ChunkRef {
  tag: number;
  /** File offset of the chunk header. */
  offset: number;
  payloadBytes: number;
  /** EVTS: first event; CKPT: its event; ENTR: first entry index; else 0. */
  firstSeq: number;
  /** EVTS: events; ENTR: entries; else 0. */
  count: number;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Where chunks go: a file descriptor (streamed) or memory. */
export interface ChunkSink {
  write(bytes: Uint8Array): void;
  close(): void;
}

/** Appends to a descriptor it does not own: close() leaves it open (closing is the owner's job). */
export class FdSink implements ChunkSink {
  /** Bytes written so far. */
  size = 0;
  constructor(protected fd: number | null) {}
  write(bytes: Uint8Array): void {
    if (this.fd === null) throw new TraceFileError('trace file is closed');
    let done = 0;
    // writeSync may write less than asked (e.g. a nearly full disk): loop, and let a real
    // error (ENOSPC, EIO…) propagate so that nothing is lost silently.
    while (done < bytes.byteLength) {
      const n = writeSync(this.fd, bytes, done, bytes.byteLength - done);
      if (n <= 0) throw new TraceFileError(`trace write made no progress (${n})`);
      done += n;
    }
    this.size += bytes.byteLength;
  }
  close(): void {}
}

/** Creates (or truncates) a file and appends to it; close() closes it. */
export class FileSink extends FdSink {
  constructor(path: string) {
    super(openSync(path, 'w', 0o644));
  }
  override close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

export class MemorySink implements ChunkSink {
  private parts: Uint8Array[] = [];
  private length = 0;
  write(bytes: Uint8Array): void {
    this.parts.push(bytes.slice());
    this.length += bytes.byteLength;
  }
  close(): void {}
  bytes(): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  }
}

const encoder = new TextEncoder();

/** Events between ledger checkpoints in a trace file (at least; see CKPT above). */
export const FILE_CHECKPOINT_EVENTS = 65_536;
/** A checkpoint waits for this many events per live block (its size is ~24 bytes per block). */
const CHECKPOINT_EVENTS_PER_LIVE_BLOCK = 16;

export interface TraceWriterOptions {
  /** zlib level for event columns and entries (1 = fastest). */
  level?: number;
  /** Events between ledger checkpoints (FILE_CHECKPOINT_EVENTS; 0 = none). */
  checkpointEvery?: number;
}

/**
 * Streams one session into a v2 trace: header + META at creation, then chunks as they come,
 * SUMM + INDX + TEND at finish(). Events must arrive in sequence order.
 */
export class TraceWriter {
  private offset = 0;
  private readonly index: ChunkRef[] = [];
  private nextSeq = 0;
  private finished = false;
  private readonly level: number;
  private readonly checkpointEvery: number;
  /** The events written, folded: the checkpoints' source. */
  private readonly ledger = new Ledger();
  private lastCheckpoint = 0;

  constructor(
    private readonly sink: ChunkSink,
    session: Record<string, unknown>,
    options: TraceWriterOptions = {},
  ) {
    this.level = options.level ?? 1;
    this.checkpointEvery = options.checkpointEvery ?? FILE_CHECKPOINT_EVENTS;
    if (!Number.isSafeInteger(this.checkpointEvery) || this.checkpointEvery < 0)
      throw new RangeError('checkpointEvery must be a non-negative integer');
    const header = new Uint8Array(HEADER_BYTES);
    header.set(encoder.encode(TRACE_MAGIC), 0);
    new DataView(header.buffer).setUint32(8, TRACE_VERSION, true);
    this.put(header);
    const meta: TraceHeaderV2 = {
      format: 'pss-inspector-trace',
      version: 2,
      eventBytes: EVENT_SIZE,
      eventLayout: 'src-shared/events/layout.ts',
      columns: COLUMNS,
      session,
    };
    this.chunk(Tag.META, encoder.encode(JSON.stringify(meta)), 0, 0);
  }

  get eventCount(): number {
    return this.nextSeq;
  }

  get bytesWritten(): number {
    return this.offset;
  }

  private put(bytes: Uint8Array): void {
    this.sink.write(bytes);
    this.offset += bytes.byteLength;
  }

  private chunk(t: number, payload: Uint8Array, firstSeq: number, count: number): void {
    if (this.finished) throw new TraceFileError('trace already finished');
    if (payload.byteLength > LIMITS.chunkPayloadBytes)
      throw new TraceFileError(`chunk ${tagName(t)} of ${payload.byteLength} bytes is too large`);
    const out = new Uint8Array(CHUNK_HEADER_BYTES + payload.byteLength);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, t, true);
    dv.setUint32(4, payload.byteLength, true);
    dv.setUint32(8, crc32(payload), true);
    out.set(payload, CHUNK_HEADER_BYTES);
    if (t !== Tag.INDX && t !== Tag.TEND)
      this.index.push({
        tag: t,
        offset: this.offset,
        payloadBytes: payload.byteLength,
        firstSeq,
        count,
      });
    this.put(out); // one write per chunk: a crash leaves whole chunks plus at most one partial
  }

  /**
   * One batch of `count` records (seq firstSeq…). Large batches are split into chunks. `level`
   * overrides the writer's zlib level for this batch: 0 stores the columns in deflate's stored
   * blocks (a copy; readers need nothing new), which the live writer uses when it is behind.
   */
  appendEvents(firstSeq: number, batch: ArrayBuffer, level: number = this.level): void {
    const count = Math.floor(batch.byteLength / EVENT_SIZE);
    if (batch.byteLength !== count * EVENT_SIZE)
      throw new TraceFileError(`event batch of ${batch.byteLength} bytes is not whole records`);
    if (firstSeq !== this.nextSeq)
      throw new TraceFileError(`event batch starts at ${firstSeq}, expected ${this.nextSeq}`);
    for (let at = 0; at < count; at += LIMITS.eventsPerChunk) {
      const n = Math.min(LIMITS.eventsPerChunk, count - at);
      const slice =
        at === 0 && n === count ? batch : batch.slice(at * EVENT_SIZE, (at + n) * EVENT_SIZE);
      const columns = encodeColumns(slice, n);
      // Z_RLE: the columns' redundancy is runs (zero high bytes, repeated values); matching
      // only runs deflates and inflates them about twice as fast as the default for ~4 % more.
      const payload =
        level === 0
          ? storedDeflate(columns, 16)
          : withHead(16, deflateRawSync(columns, { level, strategy: constants.Z_RLE }));
      const dv = new DataView(payload.buffer);
      dv.setFloat64(0, firstSeq + at, true);
      dv.setUint32(8, n, true);
      dv.setUint32(12, columns.byteLength, true);
      this.chunk(Tag.EVTS, payload, firstSeq + at, n);
      this.nextSeq = firstSeq + at + n;
    }
    const K = this.checkpointEvery;
    if (K === 0) return;
    const view = new EventBatchView(batch);
    this.ledger.fold(view, 0, count);
    const since = this.ledger.events - this.lastCheckpoint;
    if (since >= Math.max(K, CHECKPOINT_EVENTS_PER_LIVE_BLOCK * this.ledger.liveBlockCount))
      this.appendCheckpoint(level);
  }

  appendEntries(cls: string, start: number, entries: readonly unknown[]): void {
    for (let at = 0; at < entries.length; at += LIMITS.entriesPerChunk) {
      const part = entries.slice(at, at + LIMITS.entriesPerChunk);
      const json = encoder.encode(JSON.stringify({ cls, start: start + at, entries: part }));
      this.chunk(Tag.ENTR, deflateRawSync(json, { level: this.level }), start + at, part.length);
    }
  }

  /**
   * The ledger after every event written so far, as a CKPT chunk; deflated at `level`, the
   * level of the batch that triggered it (0, a live writer that is behind: stored, ~3.5× the
   * bytes — ~1 byte an event more — and none of the deflate's CPU).
   */
  private appendCheckpoint(level: number): void {
    const seq = this.ledger.events;
    const state = this.ledger.exportBytes();
    const payload =
      level === 0 ? storedDeflate(state, 8) : withHead(8, deflateRawSync(state, { level }));
    new DataView(payload.buffer).setFloat64(0, seq, true);
    this.chunk(Tag.CKPT, payload, seq, 0);
    this.lastCheckpoint = seq;
  }

  /** Writes the summary, the index and the trailer, then closes the sink. */
  finish(summary: unknown): void {
    if (this.finished) return;
    this.chunk(Tag.SUMM, encoder.encode(JSON.stringify(summary ?? null)), 0, 0);
    const idx = new Uint8Array(this.index.length * 24);
    const dv = new DataView(idx.buffer);
    this.index.forEach((c, i) => {
      dv.setUint32(i * 24, c.tag, true);
      dv.setUint32(i * 24 + 4, c.count, true);
      dv.setFloat64(i * 24 + 8, c.offset, true);
      dv.setFloat64(i * 24 + 16, c.firstSeq, true);
    });
    const indexOffset = this.offset;
    this.chunk(Tag.INDX, idx, 0, 0);
    const tend = new Uint8Array(TRAILER_PAYLOAD);
    new DataView(tend.buffer).setFloat64(0, indexOffset, true);
    new DataView(tend.buffer).setFloat64(8, this.nextSeq, true);
    this.chunk(Tag.TEND, tend, 0, 0);
    this.finished = true;
    this.sink.close();
  }

  /** Closes without a trailer (the file then reads as an unfinished recording). */
  abandon(): void {
    this.finished = true;
    this.sink.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Random access to the bytes of a trace (a file, or bytes in memory). */
export interface ByteSource {
  readonly size: number;
  /** Exactly `length` bytes at `offset`, or fewer at the end of the source. */
  read(offset: number, length: number): Uint8Array;
  close(): void;
}

export class BytesSource implements ByteSource {
  constructor(private readonly bytes: Uint8Array) {}
  get size(): number {
    return this.bytes.byteLength;
  }
  read(offset: number, length: number): Uint8Array {
    return this.bytes.subarray(offset, Math.min(this.bytes.byteLength, offset + length));
  }
  close(): void {}
}

/** Reads up to `buffer.byteLength` bytes at `position` into `buffer`; returns how many. */
export type ReadAt = (buffer: Uint8Array, position: number) => number;

/** Bytes a ReadAheadSource reads at once. */
export const READ_AHEAD_BYTES = 1 << 20;

/**
 * A ByteSource over positional reads that reads ahead: a reader walks a trace's chunks in
 * order (at open to check every checksum, then again to decode), each a few KB, so a read is
 * served from a window of READ_AHEAD_BYTES read at once instead of costing a system call or
 * two of its own (~4,700 reads a pass of a 10 M-event trace before). The window is one buffer,
 * refilled in place (a fresh megabyte per refill cost more in page faults than the reads it
 * saved); a read returns a copy of its bytes, so what a caller holds never changes under it. A
 * read larger than half a window is read on its own.
 */
export class ReadAheadSource implements ByteSource {
  private window: Uint8Array | null = null;
  private windowAt = 0;
  private windowBytes = 0;
  private closed = false;
  constructor(
    readonly size: number,
    private readonly readAt: ReadAt,
    private readonly onClose: () => void = () => undefined,
  ) {}
  read(offset: number, length: number): Uint8Array {
    if (this.closed) throw new TraceFileError('trace file is closed');
    const end = Math.min(this.size, offset + length);
    if (end <= offset) return new Uint8Array(0);
    if (end - offset > READ_AHEAD_BYTES / 2) {
      const out = new Uint8Array(end - offset);
      const got = this.readAt(out, offset);
      return got === out.byteLength ? out : out.subarray(0, got);
    }
    if (this.window === null || offset < this.windowAt || end > this.windowAt + this.windowBytes) {
      this.window ??= new Uint8Array(READ_AHEAD_BYTES);
      const want = Math.min(READ_AHEAD_BYTES, this.size - offset);
      this.windowBytes = this.readAt(this.window.subarray(0, want), offset);
      this.windowAt = offset;
    }
    const from = offset - this.windowAt;
    return this.window.slice(from, Math.min(end - this.windowAt, this.windowBytes));
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.window = null;
    this.onClose();
  }
}

/** Positional reads of a descriptor, retried until the buffer is full or the file ends. */
export function readAtFd(fd: number): ReadAt {
  return (buffer, position) => {
    let done = 0;
    while (done < buffer.byteLength) {
      const got = readSync(fd, buffer, done, buffer.byteLength - done, position + done);
      if (got <= 0) break;
      done += got;
    }
    return done;
  };
}

/** A trace file opened by path (closed with the source). */
export class FileSource extends ReadAheadSource {
  constructor(path: string) {
    const fd = openSync(path, 'r');
    let size: number;
    try {
      size = fstatSync(fd).size;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    super(size, readAtFd(fd), () => closeSync(fd));
  }
}

/** What went wrong where, for a file that is readable only up to some point. */
export interface TraceDamage {
  offset: number;
  message: string;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** `body` after `head` zero bytes, in a new buffer. */
function withHead(head: number, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(head + body.byteLength);
  out.set(body, head);
  return out;
}

const STORED_BLOCK_BYTES = 65_535;

/**
 * `data` as a raw deflate stream of stored blocks (RFC 1951 §3.2.4: per block of ≤ 65,535 bytes,
 * a header byte BFINAL | BTYPE=00, LEN and its complement NLEN, then the bytes), after `head`
 * zero bytes. What zlib writes at level 0, without its cost: each deflateRawSync call sets up
 * a stream (~16 µs, and ~47 µs for a 38 KB batch at level 0); this is a copy.
 */
export function storedDeflate(data: Uint8Array, head = 0): Uint8Array<ArrayBuffer> {
  const blocks = Math.max(1, Math.ceil(data.byteLength / STORED_BLOCK_BYTES));
  const out = new Uint8Array(head + blocks * 5 + data.byteLength);
  let p = head;
  for (let b = 0; b < blocks; b++) {
    const from = b * STORED_BLOCK_BYTES;
    const len = Math.min(STORED_BLOCK_BYTES, data.byteLength - from);
    out[p] = b === blocks - 1 ? 1 : 0;
    out[p + 1] = len & 0xff;
    out[p + 2] = len >>> 8;
    out[p + 3] = ~len & 0xff;
    out[p + 4] = (~len >>> 8) & 0xff;
    out.set(data.subarray(from, from + len), p + 5);
    p += 5 + len;
  }
  return out;
}

function parseJson(bytes: Uint8Array, what: string, at: number): unknown {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch (e) {
    throw new TraceFileError(`${what} at byte ${at} is not valid JSON (${(e as Error).message})`);
  }
}

function inflate(bytes: Uint8Array, what: string, at: number, maxBytes: number): Uint8Array {
  try {
    return inflateRawSync(bytes, { maxOutputLength: maxBytes });
  } catch (e) {
    throw new TraceFileError(`${what} at byte ${at} does not decompress (${(e as Error).message})`);
  }
}

/** Version of a trace file from its first 16 bytes, or an error naming what is wrong. */
export function traceVersion(head: Uint8Array): number {
  if (head.byteLength < HEADER_BYTES)
    throw new TraceFileError(`not a trace file: only ${head.byteLength} bytes`);
  if (new TextDecoder().decode(head.subarray(0, 8)) !== TRACE_MAGIC)
    throw new TraceFileError('not a trace file: bad magic (expected "PSSTRACE")');
  return new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(8, true);
}

/**
 * A v2 trace opened for reading. `damage` is null for a complete, intact file; otherwise it
 * says what is wrong and where, and everything before that point is readable.
 */
export class TraceReader {
  readonly header: TraceHeaderV2;
  readonly chunks: readonly ChunkRef[];
  readonly eventCount: number;
  readonly complete: boolean;
  readonly damage: TraceDamage | null;
  /** Checkpoints found unusable (at open, or by stateAt) and done without: what and where. */
  readonly ignoredCheckpoints: TraceDamage[] = [];
  private readonly events: ChunkRef[];

  private constructor(
    private readonly src: ByteSource,
    header: TraceHeaderV2,
    chunks: ChunkRef[],
    complete: boolean,
    damage: TraceDamage | null,
    ignored: TraceDamage[],
  ) {
    this.header = header;
    this.chunks = chunks;
    this.complete = complete;
    this.damage = damage;
    this.ignoredCheckpoints.push(...ignored);
    this.events = chunks.filter((c) => c.tag === Tag.EVTS);
    const last = this.events[this.events.length - 1];
    this.eventCount = last ? last.firstSeq + last.count : 0;
  }

  /**
   * Opens a trace. `verify: 'all'` (the default) checks every chunk's checksum now, so a
   * damaged file is known at once and its undamaged prefix recovered. `verify: 'lazy'` reads
   * only the index of a finished file (random access to a range without reading the whole
   * file): a damaged chunk is then a TraceFileError naming it when it is read. A file without
   * a valid index is scanned from the start either way.
   */
  static open(src: ByteSource, options: { verify?: 'all' | 'lazy' } = {}): TraceReader {
    const version = traceVersion(src.read(0, HEADER_BYTES));
    if (version !== TRACE_VERSION)
      throw new TraceFileError(`trace file version ${version} is not version ${TRACE_VERSION}`);
    const metaRef = readChunkHeader(src, HEADER_BYTES);
    if (typeof metaRef === 'string' || metaRef.tag !== Tag.META)
      throw new TraceFileError(
        `corrupt trace file: no session description at byte ${HEADER_BYTES}` +
          (typeof metaRef === 'string' ? ` (${metaRef})` : ` (found ${tagName(metaRef.tag)})`),
      );
    if (metaRef.payloadBytes > LIMITS.metaBytes)
      throw new TraceFileError(
        `corrupt trace file: session description of ${metaRef.payloadBytes} bytes`,
      );
    const header = validateHeader(
      parseJson(readPayload(src, metaRef), 'session description', HEADER_BYTES),
    );
    const fromIndex = readIndexed(src, options.verify !== 'lazy');
    if (fromIndex)
      return new TraceReader(src, header, fromIndex.chunks, true, null, fromIndex.ignored);
    const { chunks, damage, complete, ignored } = scan(src);
    return new TraceReader(src, header, chunks, complete, damage, ignored);
  }

  get session(): Record<string, unknown> {
    return this.header.session;
  }

  /** Events [fromSeq, fromSeq+count) clipped to what the file holds, as 48-byte records. */
  readEvents(fromSeq: number, count: number): ArrayBuffer {
    const start = Math.max(0, Math.min(fromSeq, this.eventCount));
    const end = Math.max(start, Math.min(fromSeq + count, this.eventCount));
    const out = new ArrayBuffer((end - start) * EVENT_SIZE);
    if (end === start) return out;
    let i = this.findEvents(start);
    let at = start;
    while (at < end) {
      const c = this.events[i++] as ChunkRef;
      const records = this.decodeEventChunk(c);
      const from = at - c.firstSeq;
      const n = Math.min(c.count - from, end - at);
      new Uint8Array(out).set(
        new Uint8Array(records, from * EVENT_SIZE, n * EVENT_SIZE),
        (at - start) * EVENT_SIZE,
      );
      at += n;
    }
    return out;
  }

  /**
   * Calls `fn` with every event chunk in order, decoded (the fast path for whole-file reads):
   * `count` records from the start of `records`. By default each chunk gets a buffer of its
   * own, exactly `count` records long, which `fn` may keep. With `reuse`, every chunk is decoded
   * into one buffer (grown as needed, possibly longer than `count` records) that `fn` must
   * consume before it returns — for readers that fold, check or copy the records and drop them
   * (the app's import does): a 10 M-event trace otherwise allocates, zeroes and
   * collects ~480 MB of buffers it never keeps.
   */
  forEachBatch(
    fn: (firstSeq: number, records: ArrayBuffer, count: number) => void,
    options: { reuse?: boolean } = {},
  ): void {
    let scratch: ArrayBuffer | null = null;
    for (const c of this.events) {
      if (!options.reuse) {
        fn(c.firstSeq, this.decodeEventChunk(c), c.count);
        continue;
      }
      if (scratch === null || scratch.byteLength < c.count * EVENT_SIZE)
        scratch = new ArrayBuffer(c.count * EVENT_SIZE);
      fn(c.firstSeq, this.decodeEventChunk(c, scratch), c.count);
    }
  }

  private findEvents(seq: number): number {
    let lo = 0;
    let hi = this.events.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((this.events[mid] as ChunkRef).firstSeq <= seq) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The chunk's records, decoded into `out` (a new buffer of exactly its records by default). */
  private decodeEventChunk(c: ChunkRef, out?: ArrayBuffer): ArrayBuffer {
    return decodeEventPayload(readPayload(this.src, c), c, out);
  }

  /** Every stored entry list, by class; an index rewritten later in the file wins. */
  entries(): Map<string, unknown[]> {
    const out = new Map<string, unknown[]>();
    for (const c of this.chunks) {
      if (c.tag !== Tag.ENTR) continue;
      const v = parseJson(
        inflate(readPayload(this.src, c), 'entry chunk', c.offset, LIMITS.chunkPayloadBytes * 4),
        'entry chunk',
        c.offset,
      ) as { cls?: unknown; start?: unknown; entries?: unknown };
      if (
        typeof v !== 'object' ||
        v === null ||
        typeof v.cls !== 'string' ||
        !Number.isSafeInteger(v.start) ||
        (v.start as number) < 0 ||
        !Array.isArray(v.entries) ||
        v.entries.length > LIMITS.entriesPerChunk
      )
        throw new TraceFileError(`corrupt trace file: bad entry chunk at byte ${c.offset}`);
      let list = out.get(v.cls);
      if (!list) out.set(v.cls, (list = []));
      const start = v.start as number;
      if (start > list.length)
        throw new TraceFileError(
          `corrupt trace file: entry chunk at byte ${c.offset} starts at ${start} after ${list.length} entries`,
        );
      for (let i = 0; i < v.entries.length; i++) list[start + i] = v.entries[i];
    }
    return out;
  }

  /**
   * The ledger checkpoints, in file order: the event count each holds the state after, and a
   * loader of that state, validated (a TraceFileError naming the chunk when it is unusable).
   */
  checkpoints(): { seq: number; offset: number; load: () => Ledger }[] {
    return this.chunks
      .filter((c) => c.tag === Tag.CKPT)
      .map((c) => ({ seq: c.firstSeq, offset: c.offset, load: () => this.loadCheckpoint(c) }));
  }

  private loadCheckpoint(c: ChunkRef): Ledger {
    const p = readPayload(this.src, c);
    if (
      p.byteLength < 8 ||
      new DataView(p.buffer, p.byteOffset, 8).getFloat64(0, true) !== c.firstSeq
    )
      throw new TraceFileError(`CKPT chunk at byte ${c.offset} disagrees with the index`);
    const state = inflate(p.subarray(8), 'CKPT chunk', c.offset, LIMITS.chunkPayloadBytes * 4);
    let l: Ledger;
    try {
      l = Ledger.fromBytes(state);
    } catch (e) {
      if (!(e instanceof LedgerStateError)) throw e;
      throw new TraceFileError(`CKPT chunk at byte ${c.offset}: ${e.message}`);
    }
    if (l.events !== c.firstSeq)
      throw new TraceFileError(
        `CKPT chunk at byte ${c.offset} holds the state after ${l.events} events, not ${c.firstSeq}`,
      );
    return l;
  }

  /**
   * The ledger after the first `n` events (0 ≤ n ≤ eventCount): the nearest usable checkpoint
   * at or before n, plus the events after it (fewer than the checkpoint interval), so only that
   * checkpoint and those batches are read. An unusable checkpoint is recorded in
   * `ignoredCheckpoints` and the next earlier one (or the start) is used instead.
   */
  stateAt(n: number): Ledger {
    return this.stateFrom(n).ledger;
  }

  /** stateAt, and the checkpoint (its event count) the state was rebuilt from, or null. */
  stateFrom(n: number): { ledger: Ledger; checkpoint: number | null } {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.eventCount)
      throw new RangeError(`stateAt(${n}): the trace holds events 0…${this.eventCount}`);
    let l: Ledger | null = null;
    let checkpoint: number | null = null;
    const usable = this.chunks
      .filter((c) => c.tag === Tag.CKPT && c.firstSeq <= n)
      .sort((a, b) => b.firstSeq - a.firstSeq);
    for (const c of usable) {
      try {
        l = this.loadCheckpoint(c);
        checkpoint = c.firstSeq;
        break;
      } catch (e) {
        if (!(e instanceof TraceFileError)) throw e;
        if (!this.ignoredCheckpoints.some((d) => d.offset === c.offset))
          this.ignoredCheckpoints.push({ offset: c.offset, message: e.message });
      }
    }
    l ??= new Ledger();
    let at = l.events;
    for (let i = this.findEvents(at); at < n; i++) {
      const c = this.events[i] as ChunkRef;
      const view = new EventBatchView(this.decodeEventChunk(c));
      const to = Math.min(c.count, n - c.firstSeq);
      l.fold(view, at - c.firstSeq, to);
      at = c.firstSeq + to;
    }
    return { ledger: l, checkpoint };
  }

  /** The final summary, or null for a recording that did not finish. */
  summary(): unknown {
    const c = this.chunks.find((x) => x.tag === Tag.SUMM);
    return c ? parseJson(readPayload(this.src, c), 'summary', c.offset) : null;
  }

  close(): void {
    this.src.close();
  }
}

function validateHeader(v: unknown): TraceHeaderV2 {
  const h = v as Partial<TraceHeaderV2> | null;
  if (
    typeof h !== 'object' ||
    h === null ||
    h.format !== 'pss-inspector-trace' ||
    h.version !== 2 ||
    h.eventBytes !== EVENT_SIZE ||
    !Array.isArray(h.columns) ||
    h.columns.join(',') !== COLUMNS.join(',') ||
    typeof h.session !== 'object' ||
    h.session === null ||
    Array.isArray(h.session)
  )
    throw new TraceFileError(
      'corrupt trace file: the session description does not describe this format (version 2, 48-byte events, known columns)',
    );
  return h as TraceHeaderV2;
}

/** The chunk header at `offset` with its payload's extent checked, or why it is not one. */
function readChunkHeader(src: ByteSource, offset: number): ChunkRef | string {
  const h = src.read(offset, CHUNK_HEADER_BYTES);
  if (h.byteLength < CHUNK_HEADER_BYTES)
    return `chunk header truncated (${h.byteLength} of ${CHUNK_HEADER_BYTES} bytes)`;
  const dv = new DataView(h.buffer, h.byteOffset, CHUNK_HEADER_BYTES);
  const t = dv.getUint32(0, true);
  const payloadBytes = dv.getUint32(4, true);
  if (!TAG_NAMES.has(t)) return `unknown chunk type ${tagName(t)}`;
  if (payloadBytes > LIMITS.chunkPayloadBytes)
    return `${tagName(t)} chunk claims ${payloadBytes} bytes (limit ${LIMITS.chunkPayloadBytes})`;
  if (offset + CHUNK_HEADER_BYTES + payloadBytes > src.size)
    return `${tagName(t)} chunk truncated (${src.size - offset - CHUNK_HEADER_BYTES} of ${payloadBytes} payload bytes)`;
  return { tag: t, offset, payloadBytes, firstSeq: 0, count: 0 };
}

/** The payload of a chunk, CRC-checked. */
function readPayload(src: ByteSource, c: ChunkRef): Uint8Array {
  const all = src.read(c.offset, CHUNK_HEADER_BYTES + c.payloadBytes);
  if (all.byteLength !== CHUNK_HEADER_BYTES + c.payloadBytes)
    throw new TraceFileError(`${tagName(c.tag)} chunk at byte ${c.offset} is truncated`);
  const dv = new DataView(all.buffer, all.byteOffset, CHUNK_HEADER_BYTES);
  if (dv.getUint32(0, true) !== c.tag || dv.getUint32(4, true) !== c.payloadBytes)
    throw new TraceFileError(
      `chunk at byte ${c.offset} is not the ${tagName(c.tag)} the index names`,
    );
  const payload = all.subarray(CHUNK_HEADER_BYTES);
  if (crc32(payload) !== dv.getUint32(8, true))
    throw new TraceFileError(`${tagName(c.tag)} chunk at byte ${c.offset} fails its checksum`);
  return payload;
}

/** Decodes an EVTS payload into `out` (from its start; a new buffer of exactly its records by default). */
function decodeEventPayload(
  payload: Uint8Array,
  c: ChunkRef,
  out: ArrayBuffer = new ArrayBuffer(c.count * EVENT_SIZE),
): ArrayBuffer {
  if (payload.byteLength < 16)
    throw new TraceFileError(`EVTS chunk at byte ${c.offset} is too short`);
  const dv = new DataView(payload.buffer, payload.byteOffset, 16);
  const firstSeq = dv.getFloat64(0, true);
  const count = dv.getUint32(8, true);
  const columnBytes = dv.getUint32(12, true);
  if (firstSeq !== c.firstSeq || count !== c.count)
    throw new TraceFileError(`EVTS chunk at byte ${c.offset} disagrees with the index`);
  if (columnBytes > count * 64 + 256)
    throw new TraceFileError(`EVTS chunk at byte ${c.offset} claims ${columnBytes} column bytes`);
  const columns = inflate(payload.subarray(16), 'EVTS chunk', c.offset, columnBytes);
  if (columns.byteLength !== columnBytes)
    throw new TraceFileError(
      `EVTS chunk at byte ${c.offset} holds ${columns.byteLength} column bytes, expected ${columnBytes}`,
    );
  try {
    // Checks every value a record may not hold while decoding (no second pass over the batch).
    decodeColumns(columns, count, firstSeq, out);
  } catch (e) {
    if (e instanceof ColumnDecodeError)
      throw new TraceFileError(`EVTS chunk at byte ${c.offset}: ${e.message}`);
    throw e;
  }
  return out;
}

/** The seq/count an EVTS, ENTR or CKPT payload starts with (cheap: no decompression). */
function chunkExtent(src: ByteSource, c: ChunkRef): { firstSeq: number; count: number } {
  if (c.tag === Tag.EVTS) {
    const p = src.read(c.offset + CHUNK_HEADER_BYTES, 12);
    if (p.byteLength < 12) return { firstSeq: -1, count: 0 };
    const dv = new DataView(p.buffer, p.byteOffset, 12);
    return { firstSeq: dv.getFloat64(0, true), count: dv.getUint32(8, true) };
  }
  if (c.tag === Tag.CKPT) {
    const p = src.read(c.offset + CHUNK_HEADER_BYTES, 8);
    if (p.byteLength < 8) return { firstSeq: -1, count: 0 };
    return { firstSeq: new DataView(p.buffer, p.byteOffset, 8).getFloat64(0, true), count: 0 };
  }
  return { firstSeq: 0, count: 0 };
}

function checkEventOrder(c: ChunkRef, next: number): string | null {
  if (!Number.isSafeInteger(c.firstSeq) || c.firstSeq !== next)
    return `EVTS chunk starts at event ${c.firstSeq}, expected ${next}`;
  if (c.count < 1 || c.count > LIMITS.eventsPerChunk) return `EVTS chunk holds ${c.count} events`;
  return null;
}

/**
 * The chunk table from INDX via the trailer, or null when the trailer is missing or bad. With
 * `verify`, every chunk's header and checksum are checked here; without, only the index is read.
 */
function readIndexed(
  src: ByteSource,
  verify: boolean,
): { chunks: ChunkRef[]; ignored: TraceDamage[] } | null {
  const ignored: TraceDamage[] = [];
  if (src.size < HEADER_BYTES + TRAILER_BYTES) return null;
  const tendAt = src.size - TRAILER_BYTES;
  const tend = readChunkHeader(src, tendAt);
  if (typeof tend === 'string' || tend.tag !== Tag.TEND || tend.payloadBytes !== TRAILER_PAYLOAD)
    return null;
  try {
    const tp = readPayload(src, tend);
    const dv = new DataView(tp.buffer, tp.byteOffset, TRAILER_PAYLOAD);
    const indexOffset = dv.getFloat64(0, true);
    const eventCount = dv.getFloat64(8, true);
    if (!Number.isSafeInteger(indexOffset) || indexOffset < HEADER_BYTES || indexOffset >= tendAt)
      return null;
    const ix = readChunkHeader(src, indexOffset);
    if (
      typeof ix === 'string' ||
      ix.tag !== Tag.INDX ||
      ix.offset + CHUNK_HEADER_BYTES + ix.payloadBytes !== tendAt
    )
      return null;
    const p = readPayload(src, ix);
    if (p.byteLength % 24 !== 0 || p.byteLength / 24 > LIMITS.chunks) return null;
    const pv = new DataView(p.buffer, p.byteOffset, p.byteLength);
    const chunks: ChunkRef[] = [];
    let next = 0;
    let end = HEADER_BYTES;
    const n = p.byteLength / 24;
    for (let i = 0; i < n; i++) {
      const t = pv.getUint32(i * 24, true);
      const count = pv.getUint32(i * 24 + 4, true);
      const offset = pv.getFloat64(i * 24 + 8, true);
      const firstSeq = pv.getFloat64(i * 24 + 16, true);
      // Chunks are contiguous: each starts where the previous ended.
      if (offset !== end || !TAG_NAMES.has(t)) return null;
      let payloadBytes: number;
      if (verify) {
        const h = readChunkHeader(src, offset);
        if (typeof h === 'string' || h.tag !== t) return null;
        payloadBytes = h.payloadBytes;
      } else {
        // Lazily: the extent from where the next chunk (or the index) starts; the chunk's own
        // header and checksum are checked when it is read.
        const nextAt = i + 1 < n ? pv.getFloat64((i + 1) * 24 + 8, true) : indexOffset;
        payloadBytes = nextAt - offset - CHUNK_HEADER_BYTES;
        if (!Number.isSafeInteger(payloadBytes) || payloadBytes < 0) return null;
        if (payloadBytes > LIMITS.chunkPayloadBytes) return null;
      }
      const c: ChunkRef = { tag: t, offset, payloadBytes, firstSeq, count };
      end = offset + CHUNK_HEADER_BYTES + payloadBytes;
      if (t === Tag.CKPT && (!Number.isSafeInteger(firstSeq) || firstSeq < 0 || firstSeq > next))
        return null;
      if (verify) {
        // Every chunk's checksum, once, at open; a checkpoint's failure only drops it.
        try {
          readPayload(src, c);
        } catch (e) {
          if (t !== Tag.CKPT) throw e;
          ignored.push({ offset, message: (e as Error).message });
          continue;
        }
      }
      if (t === Tag.EVTS) {
        if (checkEventOrder(c, next)) return null;
        next += count;
      }
      chunks.push(c);
    }
    if (end !== indexOffset || next !== eventCount) return null;
    return { chunks, ignored };
  } catch {
    return null;
  }
}

/** Reads chunk after chunk from the start; stops at the first damage. */
function scan(src: ByteSource): {
  chunks: ChunkRef[];
  damage: TraceDamage | null;
  complete: boolean;
  ignored: TraceDamage[];
} {
  const chunks: ChunkRef[] = [];
  const ignored: TraceDamage[] = [];
  let at = HEADER_BYTES;
  let next = 0;
  let complete = false;
  let damage: TraceDamage | null = null;
  while (at < src.size) {
    const h = readChunkHeader(src, at);
    if (typeof h === 'string') {
      damage = { offset: at, message: h };
      break;
    }
    const after = at + CHUNK_HEADER_BYTES + h.payloadBytes;
    try {
      readPayload(src, h); // CRC of every chunk, once
    } catch (e) {
      // A damaged checkpoint is derived data: skipped when what follows it is a chunk again.
      if (
        h.tag === Tag.CKPT &&
        (after === src.size || typeof readChunkHeader(src, after) !== 'string')
      ) {
        ignored.push({ offset: at, message: (e as Error).message });
        at = after;
        continue;
      }
      damage = { offset: at, message: (e as Error).message };
      break;
    }
    const ext = chunkExtent(src, h);
    const c: ChunkRef = { ...h, firstSeq: ext.firstSeq, count: ext.count };
    if (
      c.tag === Tag.CKPT &&
      (!Number.isSafeInteger(c.firstSeq) || c.firstSeq < 0 || c.firstSeq > next)
    ) {
      ignored.push({
        offset: at,
        message: `CKPT chunk at byte ${at} claims event ${c.firstSeq}, after the ${next} before it`,
      });
      at = after;
      continue;
    }
    if (c.tag === Tag.EVTS) {
      const bad = checkEventOrder(c, next);
      if (bad) {
        damage = { offset: at, message: bad };
        break;
      }
      next += c.count;
    }
    if (c.tag === Tag.TEND) {
      complete = true;
      break;
    }
    if (c.tag !== Tag.INDX) chunks.push(c);
    if (chunks.length > LIMITS.chunks) {
      damage = { offset: at, message: `more than ${LIMITS.chunks} chunks` };
      break;
    }
    at += CHUNK_HEADER_BYTES + h.payloadBytes;
  }
  if (!complete && !damage)
    damage = { offset: src.size, message: 'the recording did not finish (no index or trailer)' };
  return { chunks, damage, complete: complete && !damage, ignored };
}
