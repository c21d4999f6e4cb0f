/**
 * Worker thread entry of the live trace writer (./live-writer.ts): owns one TraceWriter over a
 * descriptor the main thread opened, and does all of a recording's trace work — encoding the
 * event columns, deflate, the ledger fold and its checkpoints, the write() calls — so that
 * neither the walk's thread nor the main thread spends time on them.
 *
 * After each message is written it bumps the shared `written` counter (the main thread waits on
 * it to keep at most one batch unwritten). A failure is published in the shared block (flag +
 * message) as well as posted, since the main thread may be waiting rather than reading
 * messages.
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { FdSink, TraceWriter } from './trace-file';
import { LiveSlot, type LiveReply, type LiveRequest, type LiveWorkerData } from './live-writer';

if (!parentPort) throw new Error('live-writer-worker must run as a worker thread');
const port = parentPort;
const { fd, session, options, shared } = workerData as LiveWorkerData;
const state = new Int32Array(shared, 0, LiveSlot.words);
const messageBytes = new Uint8Array(shared, LiveSlot.words * 4);

/** CPU time of this thread so far, ms (Linux: /proc/thread-self/stat), or null. */
function threadCpuMs(): number | null {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime (fields 14 and 15 of stat; 12 and 13 after the name), in USER_HZ ticks
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

function fail(e: unknown): void {
  const message = e instanceof Error ? e.message : String(e);
  const bytes = new TextEncoder().encode(message).subarray(0, messageBytes.byteLength);
  messageBytes.set(bytes);
  Atomics.store(state, LiveSlot.messageLength, bytes.byteLength);
  Atomics.store(state, LiveSlot.failed, 1);
  Atomics.notify(state, LiveSlot.written);
  port.postMessage({ t: 'error', message } satisfies LiveReply);
}

let writer: TraceWriter | null = null;
const sink = new FdSink(fd);
try {
  writer = new TraceWriter(sink, session, options);
} catch (e) {
  fail(e);
}

port.on('message', (m: LiveRequest) => {
  try {
    if (writer === null || Atomics.load(state, LiveSlot.failed) === 1) {
      if (m.t === 'finish' || m.t === 'abandon') close(m.t === 'finish');
      return;
    }
    if (m.t === 'events') writer.appendEvents(m.firstSeq, m.batch);
    else if (m.t === 'entries') writer.appendEntries(m.cls, m.start, m.entries);
    else if (m.t === 'finish') {
      writer.finish(m.summary);
      close(true);
      return;
    } else {
      writer.abandon();
      close(false);
      return;
    }
  } catch (e) {
    fail(e);
    if (m.t === 'finish' || m.t === 'abandon') close(false);
    return;
  } finally {
    Atomics.add(state, LiveSlot.written, 1);
    Atomics.notify(state, LiveSlot.written);
  }
});

/** Done with the file: the main thread, which opened it, closes it. */
function close(finished: boolean): void {
  port.postMessage({
    t: 'closed',
    finished: finished && Atomics.load(state, LiveSlot.failed) === 0,
    eventCount: writer?.eventCount ?? 0,
    bytesWritten: writer?.bytesWritten ?? 0,
    cpuMs: threadCpuMs(),
  } satisfies LiveReply);
  port.close();
}
