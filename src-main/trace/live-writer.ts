/**
 * A recording's trace file, written by a worker thread (./live-writer-worker.ts; one per
 * process, kept warm between recordings):
 * the caller hands each batch over (transferred, no copy) and goes on; the worker encodes,
 * compresses, folds the ledger for its checkpoints and writes. The walk's thread and the
 * caller's thread spend nothing on the trace but one postMessage per batch.
 *
 * The recording must not slow what it records: the thread runs at a lower scheduling priority
 * (Linux: nice 10 for that thread only), and deflates a batch (and a checkpoint it triggers)
 * only when no other is queued behind it (liveWriterBehind): when it falls behind it stores the
 * columns as they are (~10 B an event instead of ~3–5), so it never makes the caller wait for compression.
 *
 * Streaming guarantee, as with a TraceWriter on the caller's thread: at most one batch is
 * handed over and not yet written. appendEvents waits (Atomics.wait, rarely: the worker writes a
 * batch in a fraction of the time the walk takes to make one) until the batch before is on
 * disk, so a crash or kill -9 loses at most the batch being written.
 *
 * The file is opened (and closed) here, on the caller's thread, so a bad path fails at once.
 */
import { closeSync, openSync } from 'node:fs';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { EVENT_SIZE } from '../../src-shared/events/layout';
import { TraceFileError, type TraceWriterOptions } from './trace-file';
import { workerSource } from '../walk/worker-source';

/** Words of the shared block, then the failure message's UTF-8 bytes. */
export const LiveSlot = {
  /** Messages the worker has handled (written, or failed). */
  written: 0,
  /** 1 once a write failed: nothing more is written. */
  failed: 1,
  messageLength: 2,
  /** Messages the caller has handed over (bumped before each postMessage). */
  posted: 3,
  words: 4,
} as const;

/**
 * Whether the writer thread, about to write a batch, is behind: the caller has already handed
 * over the next message. It then stores that batch's columns in deflate's stored blocks (level
 * 0: a copy, 2–3 × the bytes) instead of deflating them, so compression is done only with the
 * CPU the recording leaves over and a writer that cannot keep up with deflate never holds the
 * caller up for it.
 */
export function liveWriterBehind(posted: number, written: number): boolean {
  return posted - written > 1;
}
const MESSAGE_BYTES = 1024;

export type LiveRequest =
  | { t: 'events'; firstSeq: number; batch: ArrayBuffer }
  | { t: 'entries'; cls: string; start: number; entries: readonly unknown[] }
  | { t: 'finish'; summary: unknown }
  | { t: 'abandon' };

export type LiveReply =
  | { t: 'ready' }
  | { t: 'error'; message: string }
  | ({
      t: 'closed';
      /** Trailer written and the file closed without error. */
      finished: boolean;
    } & LiveWriterResult);

/** What the thread gets for each file: its description and the port that drives it. */
export interface LiveOpen {
  data: LiveWorkerData;
  port: MessagePort;
}

export interface LiveWorkerData {
  fd: number;
  session: Record<string, unknown>;
  options: TraceWriterOptions;
  shared: SharedArrayBuffer;
}

/**
 * The writer thread, shared by every live writer of the process and kept between recordings, so
 * its compiled encoder stays warm. Unreferenced: an open writer's port keeps the process alive,
 * the thread itself does not.
 */
let thread: Worker | null = null;
function writerThread(): Worker {
  if (thread) return thread;
  const src = workerSource(
    new URL('../trace/live-writer-worker.ts', import.meta.url),
    'trace-writer-worker.js',
  );
  const w = new Worker(src.file, { eval: src.eval, name: 'pss-trace-writer' });
  w.unref();
  const forget = (): void => {
    if (thread === w) thread = null;
  };
  w.once('error', forget);
  w.once('exit', forget);
  return (thread = w);
}

/** How long appendEvents waits for the writer before it gives up on it. */
const STALL_MS = 60_000;

/** What the writer thread reports when a file is closed (also this thread's result). */
export interface LiveWriterResult {
  eventCount: number;
  bytesWritten: number;
  /** CPU time the writer thread used once it was ready, i.e. writing (Linux), ms. */
  cpuMs: number | null;
  /** Event batches written, and of those the ones stored without deflate (liveWriterBehind). */
  batches: number;
  storedBatches: number;
}

const NOTHING_WRITTEN: LiveWriterResult = {
  eventCount: 0,
  bytesWritten: 0,
  cpuMs: null,
  batches: 0,
  storedBatches: 0,
};

export class LiveTraceWriter {
  private readonly port: MessagePort;
  private readonly state: Int32Array;
  private readonly message: Uint8Array;
  private posted = 0;
  private error: string | null = null;
  private closing: Promise<LiveWriterResult> | null = null;
  private readonly closed: Promise<LiveReply & { t: 'closed' }>;
  private readonly started: Promise<void>;
  private last: LiveWriterResult = NOTHING_WRITTEN;
  private nextSeq = 0;
  private readonly fd: number;
  private detach: () => void = () => undefined;

  /** Creates (or truncates) `path`; throws at once when it cannot be opened. */
  constructor(path: string, session: Record<string, unknown>, options: TraceWriterOptions = {}) {
    const fd = (this.fd = openSync(path, 'w', 0o644));
    const shared = new SharedArrayBuffer(LiveSlot.words * 4 + MESSAGE_BYTES);
    this.state = new Int32Array(shared, 0, LiveSlot.words);
    this.message = new Uint8Array(shared, LiveSlot.words * 4);
    const data: LiveWorkerData = { fd, session, options, shared };
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    let ready!: () => void;
    this.started = new Promise<void>((r) => (ready = r));
    const lost: LiveReply & { t: 'closed' } = { t: 'closed', finished: false, ...NOTHING_WRITTEN };
    let worker: Worker;
    try {
      worker = writerThread();
      worker.postMessage({ data, port: port2 } satisfies LiveOpen, [port2]);
    } catch (e) {
      closeSync(fd);
      port1.close();
      throw e;
    }
    this.closed = new Promise((resolve) => {
      port1.on('message', (m: LiveReply) => {
        if (m.t === 'ready') ready();
        else if (m.t === 'error') this.error ??= m.message;
        else resolve(m);
      });
      // The thread died (or the port closed) without a word: the file is left as it is.
      port1.once('close', () => resolve(lost));
      const died = (e?: Error): void => {
        this.error ??= `the trace writer stopped${e instanceof Error ? `: ${e.message}` : ''}`;
        resolve(lost);
      };
      worker.on('error', died);
      worker.on('exit', died);
      this.detach = () => {
        worker.off('error', died);
        worker.off('exit', died);
      };
    });
  }

  /** Resolves once the worker is up and the file's header is written (batches may come before). */
  ready(): Promise<void> {
    return Promise.race([this.started, this.closed.then(() => undefined)]);
  }

  /** Events handed over so far (= seq of the next batch). */
  get eventCount(): number {
    return this.closing ? this.last.eventCount : this.nextSeq;
  }

  /** Bytes on disk (known once finished or abandoned). */
  get bytesWritten(): number {
    return this.last.bytesWritten;
  }

  private failure(): string | null {
    if (this.error === null && Atomics.load(this.state, LiveSlot.failed) === 1) {
      const n = Atomics.load(this.state, LiveSlot.messageLength);
      this.error = new TextDecoder().decode(this.message.slice(0, n));
    }
    return this.error;
  }

  private post(m: LiveRequest, transfer: ArrayBuffer[] = []): void {
    const bad = this.failure();
    if (bad !== null) throw new TraceFileError(bad);
    if (this.closing) throw new TraceFileError('trace already finished');
    Atomics.add(this.state, LiveSlot.posted, 1);
    this.port.postMessage(m, transfer);
    this.posted++;
  }

  /** Waits until at most `queued` handed-over messages are unwritten. */
  private drain(queued: number): void {
    const deadline = Date.now() + STALL_MS;
    for (;;) {
      const written = Atomics.load(this.state, LiveSlot.written);
      if (this.posted - written <= queued || this.failure() !== null) break;
      if (Date.now() > deadline)
        throw new TraceFileError(`the trace writer wrote nothing for ${STALL_MS / 1000} s`);
      Atomics.wait(this.state, LiveSlot.written, written, 100);
    }
    const bad = this.failure();
    if (bad !== null) throw new TraceFileError(bad);
  }

  /**
   * Hands one batch of records over (transferred: `batch` is detached afterwards). Returns once
   * every batch before it is written; throws a TraceFileError once a write has failed.
   */
  appendEvents(firstSeq: number, batch: ArrayBuffer): void {
    if (firstSeq !== this.nextSeq)
      throw new TraceFileError(`event batch starts at ${firstSeq}, expected ${this.nextSeq}`);
    const count = batch.byteLength / EVENT_SIZE;
    if (!Number.isInteger(count))
      throw new TraceFileError(`event batch of ${batch.byteLength} bytes is not whole records`);
    this.post({ t: 'events', firstSeq, batch }, [batch]);
    this.nextSeq = firstSeq + count;
    this.drain(1);
  }

  appendEntries(cls: string, start: number, entries: readonly unknown[]): void {
    this.post({ t: 'entries', cls, start, entries });
  }

  /** Writes the summary, index and trailer; resolves once the file is complete and closed. */
  finish(summary: unknown): Promise<LiveWriterResult> {
    return this.close({ t: 'finish', summary });
  }

  /** Closes without a trailer (the file reads as an unfinished recording). Idempotent. */
  abandon(): Promise<LiveWriterResult> {
    return this.close({ t: 'abandon' });
  }

  private close(m: LiveRequest): Promise<LiveWriterResult> {
    if (this.closing) return this.closing;
    const finishing = m.t === 'finish';
    const bad = this.failure();
    Atomics.add(this.state, LiveSlot.posted, 1);
    this.port.postMessage(m);
    this.closing = this.closed.then((c) => {
      const { t: _t, finished: _finished, ...result } = c;
      this.last = result;
      this.port.close();
      this.detach();
      let closeError: string | null = null;
      try {
        closeSync(this.fd);
      } catch (e) {
        closeError = (e as Error).message;
      }
      const err = this.failure() ?? bad ?? closeError;
      if (finishing && (err !== null || !c.finished))
        throw new TraceFileError(err ?? 'the trace writer stopped before the trace was finished');
      return this.last;
    });
    return this.closing;
  }
}
