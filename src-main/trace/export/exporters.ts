/**
 * Export of a trace to formats other tools open:
 *   chrome      Trace Event Format JSON (chrome://tracing, Perfetto UI): API calls as complete
 *               slices ("X"), each pass as a B/E slice around them, live bytes as a counter
 *               track ("C"), every allocation, free, failure and violation as an instant
 *               event ("i") with its fields as args. Timestamps are µs, monotonic per track.
 *               A call whose duration the trace does not hold (./calls.ts: timing 'unknown')
 *               is an instant with args.duration saying so, never a 0 µs slice.
 *   speedscope  speedscope's own file format: one evented profile, frames Pass N → API call;
 *               calls of unknown duration are left out and counted in the profile's name.
 *   csv         RFC 4180 CSV of the events (call_ns: a call-ending event's call duration,
 *               "n/a" when not recorded), or of one class's walked entries.
 * Output is streamed through `write` in pieces, so a 10 M-event trace never becomes one string.
 */
import { EventBatchView } from '../../../src-shared/events/batch';
import { hexAddress } from '../../../src-shared/events/batch';
import {
  API_CALL_NAMES,
  ApiCall,
  EVENT_KIND_NAMES,
  EventKind,
  NO_CLASS,
  STRATEGY_NAMES,
  FAULTY_BIT,
  isCallEnding,
} from '../../../src-shared/events/layout';
import { CallSegmenter, TIMING_NOTES, className, sliceName, type CallSlice } from './calls';

export const EXPORT_FORMATS = ['chrome', 'speedscope', 'csv', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** What an exporter reads: the session description, event batches in order, entries. */
export interface ExportInput {
  session: Record<string, unknown>;
  eventCount: number;
  forEachBatch(fn: (firstSeq: number, records: ArrayBuffer) => void): void;
  entries(): Map<string, unknown[]>;
  summary(): unknown;
}

/** Buffers small strings into larger writes. */
class Out {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly write: (text: string) => void) {}
  put(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= 1 << 16) this.flush();
  }
  flush(): void {
    if (this.parts.length) this.write(this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }
}

/**
 * The track the passes are drawn on: a tid above Linux's largest possible pid (2^22), so it is
 * never a real thread's and sorts after the walking thread (speedscope opens the first track).
 */
const PASS_TRACK = 4_194_305;
/**
 * ns → the format's µs, on a grid of 1/1024 µs (0.98 ns: as fine as the ns the trace holds).
 * Binary fractions, not 3-decimal ones: a viewer's arithmetic on them is exact. speedscope
 * subtracts the first ts from every ts and ends an X slice at ts + dur; with decimal µs those
 * sums rounded, and a slice ending where the next began (a batch of walk steps) could end a
 * hair after it, which speedscope reports as a broken stack and draws wrong.
 */
const us = (ns: number): number => Math.round((ns * 1024) / 1000) / 1024;
const pidOf = (session: Record<string, unknown>): number =>
  typeof session['pid'] === 'number' ? session['pid'] : 0;
const strategyName = (s: number): string =>
  (STRATEGY_NAMES[s & ~FAULTY_BIT] ?? `strategy ${s & ~FAULTY_BIT}`) +
  (s & FAULTY_BIT ? '+faulty' : '');

/** Allocation-side events: those drawn as instants and moving the live-bytes counter. */
const isAllocEvent = (kind: number): boolean =>
  kind === EventKind.Alloc ||
  kind === EventKind.AllocFailed ||
  kind === EventKind.Free ||
  kind === EventKind.FreeNull ||
  kind === EventKind.Leak ||
  kind >= EventKind.ViolationWrongThread;

// ---------------------------------------------------------------------------------------------

export function exportChrome(input: ExportInput, write: (text: string) => void): void {
  const out = new Out(write);
  const pid = pidOf(input.session);
  const name = typeof input.session['processName'] === 'string' ? input.session['processName'] : '';
  out.put('{"displayTimeUnit":"ns","otherData":');
  out.put(JSON.stringify({ exporter: 'PSS Inspector', session: input.session }));
  out.put(',"traceEvents":[\n');
  let first = true;
  const ev = (o: Record<string, unknown>): void => {
    out.put((first ? '' : ',\n') + JSON.stringify(o));
    first = false;
  };
  ev({
    ph: 'M',
    name: 'process_name',
    pid,
    tid: 0,
    args: { name: `walk of ${name || 'process'} (pid ${pid})` },
  });
  const threads = new Set<number>();
  /** Events of the call in progress, written after its slice so each track stays in ts order. */
  let pending: string[] = [];
  // Passes are drawn on a track of their own (PASS_TRACK), so that no two slices on a track share
  // a start (viewers order equal timestamps differently).
  let passOpen: { pass: number } | null = null;
  ev({ ph: 'M', name: 'thread_name', pid, tid: PASS_TRACK, args: { name: 'walk passes' } });

  /** Where the last slice of each track ended: a slice never starts before it. */
  const trackEnd = new Map<number, number>();
  const onSlice = (s: CallSlice): void => {
    const beginNs = Math.max(s.beginNs, trackEnd.get(s.threadId) ?? -Infinity);
    trackEnd.set(s.threadId, Math.max(s.endNs, beginNs));
    if (!threads.has(s.threadId)) {
      threads.add(s.threadId);
      ev({
        ph: 'M',
        name: 'thread_name',
        pid,
        tid: s.threadId,
        args: { name: `walking thread ${s.threadId}` },
      });
    }
    if (!passOpen || passOpen.pass !== s.pass) {
      if (passOpen)
        ev({
          ph: 'E',
          name: `Pass ${passOpen.pass}`,
          pid,
          tid: PASS_TRACK,
          ts: us(beginNs),
        });
      passOpen = { pass: s.pass };
      ev({
        ph: 'B',
        name: `Pass ${s.pass}`,
        cat: 'pass',
        pid,
        tid: PASS_TRACK,
        ts: us(beginNs),
      });
    }
    const args = {
      api: API_CALL_NAMES[s.api],
      class: className(s.walkClass) || undefined,
      result: EVENT_KIND_NAMES[s.endKind],
      events: s.events,
      lastSeq: s.endSeq,
      duration: s.timing === 'call' ? undefined : TIMING_NOTES[s.timing],
    };
    const cat = s.api === ApiCall.PssWalkSnapshot ? 'walk' : 'api';
    const ts = us(beginNs);
    if (s.timing === 'unknown')
      ev({ ph: 'i', s: 't', name: sliceName(s), cat, pid, tid: s.threadId, ts, args });
    else
      ev({
        ph: 'X',
        name: sliceName(s),
        cat,
        pid,
        tid: s.threadId,
        ts,
        // end − start, both on the grid of `us`: exact, so ts + dur is exactly the end (also
        // after a viewer shifts every ts), and a call that starts where the one before ended
        // (a batch of steps) never overlaps it in a viewer
        dur: us(Math.max(s.endNs, beginNs)) - ts,
        args,
      });
    for (const p of pending) out.put(',\n' + p);
    pending = [];
    if (s.endKind === EventKind.Seek && passOpen) {
      ev({ ph: 'E', name: `Pass ${passOpen.pass}`, pid, tid: PASS_TRACK, ts: us(s.endNs) });
      passOpen = null;
    }
  };
  const seg = new CallSegmenter(onSlice);
  let lastEnd = 0;
  input.forEachBatch((_first, records) => {
    const v = new EventBatchView(records);
    for (let i = 0; i < v.count; i++) {
      // The segmenter first: it closes the previous call (writing its slice and held-back
      // events) before this event can be held back for the call it opens or continues.
      seg.pushEvent(v, i);
      const kind = v.kind(i);
      const t = v.timeNs(i);
      lastEnd = t;
      if (!isAllocEvent(kind)) continue;
      const tid = v.threadId(i);
      let text = JSON.stringify({
        ph: 'i',
        s: 't',
        name: EVENT_KIND_NAMES[kind],
        cat: 'alloc',
        pid,
        tid,
        ts: us(t),
        args: {
          seq: v.seq(i),
          address: hexAddress(v.addrLo(i), v.addrHi(i)),
          size: v.size(i),
          api: API_CALL_NAMES[v.api(i)],
          class: className(v.walkClass(i)) || undefined,
          strategy: strategyName(v.strategy(i)),
          aux0: v.aux0(i),
          aux1: v.aux1(i),
        },
      });
      if (kind === EventKind.Alloc || kind === EventKind.Free || kind === EventKind.AllocFailed)
        text +=
          ',\n' +
          JSON.stringify({
            ph: 'C',
            name: 'live bytes',
            pid,
            tid: 0,
            ts: us(t),
            args: { live: v.aux1(i) },
          });
      // Inside a call: written after the call's slice (same track, ts order). Outside any call
      // (e.g. a contract violation between calls): written now.
      if (v.api(i) === ApiCall.None) {
        seg.end(); // a call left without its marker event ends before this event
        out.put((first ? '' : ',\n') + text);
        first = false;
      } else pending.push(text);
    }
  });
  seg.end();
  for (const p of pending) out.put(',\n' + p);
  const lastPass = passOpen as { pass: number } | null;
  if (lastPass)
    ev({ ph: 'E', name: `Pass ${lastPass.pass}`, pid, tid: PASS_TRACK, ts: us(lastEnd) });
  out.put('\n]}\n');
  out.flush();
}

// ---------------------------------------------------------------------------------------------

/** speedscope's file format (https://www.speedscope.app/file-format-schema.json). */
export function exportSpeedscope(input: ExportInput, write: (text: string) => void): void {
  const frames: { name: string }[] = [];
  const frameIndex = new Map<string, number>();
  const frame = (name: string): number => {
    let i = frameIndex.get(name);
    if (i === undefined) {
      i = frames.length;
      frames.push({ name });
      frameIndex.set(name, i);
    }
    return i;
  };
  const events: string[] = [];
  let start = -1;
  let end = 0;
  let pass = 0;
  const open = (f: number, at: number): void => {
    events.push(`{"type":"O","frame":${f},"at":${at}}`);
  };
  const close = (f: number, at: number): void => {
    events.push(`{"type":"C","frame":${f},"at":${at}}`);
  };
  const passFrame = (p: number): number => frame(`Pass ${p}`);
  let undrawn = 0;
  const seg = new CallSegmenter((s) => {
    if (s.timing === 'unknown') {
      undrawn++; // a 0 ns frame would read as a measured time
      return;
    }
    const b = Math.max(s.beginNs, end);
    const e = Math.max(s.endNs, b);
    if (start < 0) start = b;
    if (s.pass !== pass) {
      if (pass > 0) close(passFrame(pass), end);
      pass = s.pass;
      open(passFrame(pass), b);
    }
    const api = API_CALL_NAMES[s.api] ?? `api ${s.api}`;
    const f = frame(s.api === ApiCall.PssWalkSnapshot ? `${api} ${className(s.walkClass)}` : api);
    open(f, b);
    close(f, e);
    end = e;
  });
  input.forEachBatch((_f, records) => seg.push(records));
  seg.end();
  if (pass > 0) close(passFrame(pass), end);
  const session = input.session;
  const title =
    `PSS Inspector walk of ${String(session['processName'] ?? 'process')} (pid ${pidOf(session)})` +
    (undrawn > 0
      ? ` (${undrawn} call${undrawn === 1 ? '' : 's'} not drawn: the trace holds no duration for ${undrawn === 1 ? 'it' : 'them'})`
      : '');
  const out = new Out(write);
  out.put('{"$schema":"https://www.speedscope.app/file-format-schema.json",');
  out.put(`"name":${JSON.stringify(title)},"exporter":"PSS Inspector","activeProfileIndex":0,`);
  out.put(`"shared":{"frames":${JSON.stringify(frames)}},"profiles":[{"type":"evented",`);
  out.put(
    `"name":${JSON.stringify(title)},"unit":"nanoseconds","startValue":${Math.max(0, start)},"endValue":${end},"events":[`,
  );
  for (let i = 0; i < events.length; i++) out.put((i ? ',' : '') + (events[i] as string));
  out.put(']}]}\n');
  out.flush();
}

// ---------------------------------------------------------------------------------------------

/** One CSV field, quoted when needed (RFC 4180). */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const EVENT_CSV_COLUMNS = [
  'seq',
  'time_ns',
  'kind',
  'api',
  'class',
  'strategy',
  'marker',
  'thread',
  'address',
  'size',
  'aux0',
  'aux1',
  'call_ns',
] as const;

export function exportEventsCsv(input: ExportInput, write: (text: string) => void): void {
  const out = new Out(write);
  out.put(EVENT_CSV_COLUMNS.join(',') + '\r\n');
  input.forEachBatch((_f, records) => {
    const v = new EventBatchView(records);
    for (let i = 0; i < v.count; i++) {
      const cls = v.walkClass(i);
      const kind = v.kind(i);
      // a call-ending event's size is its call's duration: its own column (n/a: not recorded)
      const ending = isCallEnding(kind);
      const size = ending ? '' : v.size(i);
      const callNs = ending ? v.size(i) || 'n/a' : '';
      out.put(
        `${v.seq(i)},${v.timeNs(i)},${EVENT_KIND_NAMES[kind] ?? kind},${API_CALL_NAMES[v.api(i)] ?? v.api(i)},${cls === NO_CLASS ? '' : className(cls)},${strategyName(v.strategy(i))},${v.markerId(i)},${v.threadId(i)},${hexAddress(v.addrLo(i), v.addrHi(i))},${size},${v.aux0(i)},${v.aux1(i)},${callNs}\r\n`,
      );
    }
  });
  out.flush();
}

/** The walked entries of one class as CSV: one column per field (nested values as JSON). */
export function exportEntriesCsv(
  input: ExportInput,
  cls: string,
  write: (text: string) => void,
): void {
  const list = input.entries().get(cls) ?? [];
  const cols: string[] = [];
  const seen = new Set<string>();
  for (const e of list)
    for (const k of Object.keys((e ?? {}) as object))
      if (!seen.has(k)) {
        seen.add(k);
        cols.push(k);
      }
  const out = new Out(write);
  out.put(cols.map(csvField).join(',') + '\r\n');
  for (const e of list) {
    const r = (e ?? {}) as Record<string, unknown>;
    out.put(cols.map((c) => csvField(r[c])).join(',') + '\r\n');
  }
  out.flush();
}

/** Everything as one JSON document: session, summary, entries, decoded events. */
export function exportJson(input: ExportInput, write: (text: string) => void): void {
  const out = new Out(write);
  out.put('{"format":"pss-inspector-trace-json","version":1,');
  out.put(`"session":${JSON.stringify(input.session)},`);
  out.put(`"summary":${JSON.stringify(input.summary() ?? null)},`);
  out.put(`"entries":${JSON.stringify(Object.fromEntries(input.entries()))},`);
  out.put('"events":[');
  let first = true;
  input.forEachBatch((_f, records) => {
    const v = new EventBatchView(records);
    for (let i = 0; i < v.count; i++) {
      const o = v.toObject(i);
      const ending = isCallEnding(o.kind);
      out.put(
        (first ? '\n' : ',\n') +
          JSON.stringify({
            seq: o.seq,
            timeNs: o.timeNs,
            kind: o.kindName,
            api: o.apiName,
            class: className(o.walkClass) || null,
            strategy: strategyName(o.strategy),
            marker: o.markerId,
            thread: o.threadId,
            address: o.addressHex,
            size: ending ? null : o.size,
            aux0: o.aux0,
            aux1: o.aux1,
            // the call's duration in ns, null when not recorded (call-ending events only)
            callNs: ending ? o.size || null : undefined,
          }),
      );
      first = false;
    }
  });
  out.put('\n]}\n');
  out.flush();
}
