/**
 * Worker thread entry of the live trace writer (./live-writer.ts): one thread per process, kept
 * (warm) across recordings; for each file, a TraceWriter over a descriptor the main thread
 * opened, driven through a port of its own. It does all of a recording's trace work — encoding the
 * event columns, deflate, the ledger fold and its checkpoints, the write() calls — so that
 * neither the walk's thread nor the main thread spends time on them.
 *
 * After each message is written it bumps the shared `written` counter (the main thread waits on
 * it to keep at most one batch unwritten). A failure is published in the shared block (flag +
 * message) as well as posted, since the main thread may be waiting rather than reading
 * messages.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import { parentPort, type MessagePort } from 'node:worker_threads';
import { FdSink, TraceWriter } from './trace-file';
import {
  LiveSlot,
  liveWriterBehind,
  type LiveOpen,
  type LiveReply,
  type LiveRequest,
  type LiveWorkerData,
} from './live-writer';

if (!parentPort) throw new Error('live-writer-worker must run as a worker thread');

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

/**
 * This thread yields to the recording's threads: on Linux setpriority() with a thread id sets
 * that thread's nice value alone (/proc/thread-self names it). Best effort: elsewhere, or if
 * refused, the thread keeps its priority.
 */
function lowerThisThreadsPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isSafeInteger(tid) && tid > 0)
      setPriority(tid, constants.priority.PRIORITY_BELOW_NORMAL);
  } catch {
    // not Linux, or not allowed: run at the normal priority
  }
}
lowerThisThreadsPriority();

parentPort.on('message', (m: LiveOpen) => openWriter(m.data, m.port));

/** One trace file, driven through its own port (messages in order, per file). */
function openWriter(data: LiveWorkerData, port: MessagePort): void {
  const { fd, session, options, shared } = data;
  const state = new Int32Array(shared, 0, LiveSlot.words);
  const messageBytes = new Uint8Array(shared, LiveSlot.words * 4);

  const fail = (e: unknown): void => {
    const message = e instanceof Error ? e.message : String(e);
    const bytes = new TextEncoder().encode(message).subarray(0, messageBytes.byteLength);
    messageBytes.set(bytes);
    Atomics.store(state, LiveSlot.messageLength, bytes.byteLength);
    Atomics.store(state, LiveSlot.failed, 1);
    Atomics.notify(state, LiveSlot.written);
    port.postMessage({ t: 'error', message } satisfies LiveReply);
  };

  let writer: TraceWriter | null = null;
  try {
    writer = new TraceWriter(new FdSink(fd), session, options);
  } catch (e) {
    fail(e);
  }
  const cpuAtStart = threadCpuMs();
  let batches = 0;
  let storedBatches = 0;
  port.postMessage({ t: 'ready' } satisfies LiveReply);

  /** Done with the file: the main thread, which opened it, closes it. */
  const close = (finished: boolean): void => {
    port.postMessage({
      t: 'closed',
      finished: finished && Atomics.load(state, LiveSlot.failed) === 0,
      eventCount: writer?.eventCount ?? 0,
      bytesWritten: writer?.bytesWritten ?? 0,
      cpuMs: cpuAtStart === null ? null : (threadCpuMs() ?? cpuAtStart) - cpuAtStart,
      batches,
      storedBatches,
    } satisfies LiveReply);
    // The main thread closes the port once it has this message.
  };

  port.on('message', (m: LiveRequest) => {
    try {
      if (writer === null || Atomics.load(state, LiveSlot.failed) === 1) {
        if (m.t === 'finish' || m.t === 'abandon') close(m.t === 'finish');
        return;
      }
      if (m.t === 'events') {
        const behind = liveWriterBehind(
          Atomics.load(state, LiveSlot.posted),
          Atomics.load(state, LiveSlot.written),
        );
        writer.appendEvents(m.firstSeq, m.batch, behind ? 0 : undefined);
        batches++;
        if (behind) storedBatches++;
      } else if (m.t === 'entries') writer.appendEntries(m.cls, m.start, m.entries);
      else if (m.t === 'finish') {
        writer.finish(m.summary);
        close(true);
      } else {
        writer.abandon();
        close(false);
      }
    } catch (e) {
      fail(e);
      if (m.t === 'finish' || m.t === 'abandon') close(false);
    } finally {
      Atomics.add(state, LiveSlot.written, 1);
      Atomics.notify(state, LiveSlot.written);
    }
  });
}
