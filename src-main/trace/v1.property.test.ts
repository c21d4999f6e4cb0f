/**
 * Property tests (fast-check) of the trace reader, which reads untrusted files: any bytes, any
 * header JSON, any mutation of a valid file gives valid contents or a TraceFileError, never
 * another exception, and what it accepts obeys its limits; what TraceStore writes (whole or in
 * chunks of any size) reads back equal.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventBatchView, EventWriter } from '../../src-shared/events/batch';
import { ApiCall, EVENT_SIZE, EventKind } from '../../src-shared/events/layout';
import { WALKABLE_CLASSES } from '../../src-shared/pss/constants';
import {
  TRACE_LIMITS,
  TraceFileError,
  readAtBuffer,
  readTraceFile,
  type TraceFileContents,
} from './v1';
import { TraceStore } from '../walk/trace-store';

const RUNS = { numRuns: 600 };

function read(bytes: Uint8Array): TraceFileContents | TraceFileError {
  try {
    return readTraceFile(readAtBuffer(bytes), bytes.byteLength);
  } catch (e) {
    if (e instanceof TraceFileError) return e;
    throw e;
  }
}

function fileOf(header: string, recs: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(16 + json.byteLength + recs.byteLength);
  out.set(new TextEncoder().encode('PSSTRACE'), 0);
  new DataView(out.buffer).setUint32(8, 1, true);
  new DataView(out.buffer).setUint32(12, json.byteLength, true);
  out.set(json, 16);
  out.set(recs, 16 + json.byteLength);
  return out;
}

/** A store with `n` events and a few entries, as a session would leave it. */
function storeWith(n: number, threads: number): TraceStore {
  const store = new TraceStore({
    pid: 7,
    processName: 'p',
    flags: 0,
    allocator: { strategy: 'heap' },
    classes: ['THREADS'],
    createdAt: 'now',
  });
  let t = 0;
  const w = new EventWriter(
    97,
    (b, first) => store.append(first, b),
    () => t++,
  );
  for (let i = 0; i < n; i++)
    w.write(EventKind.Alloc, ApiCall.PssWalkSnapshot, 0, 0, 1, 1, i * 16, 0, 16, 0, 16 * (i + 1));
  w.flush();
  store.appendEntries(
    'THREADS',
    0,
    Array.from({ length: threads }, (_, i) => ({ kind: 'thread', threadId: i }) as never),
  );
  return store;
}

/** Whatever was accepted is within the limits and consistent with the file. */
function checkContents(c: TraceFileContents, size: number): void {
  expect(c.records.fileOffset + c.eventCount * EVENT_SIZE).toBe(size);
  expect(c.eventCount).toBeLessThanOrEqual(TRACE_LIMITS.maxEvents);
  expect(typeof c.meta.pid).toBe('number');
  expect(typeof c.meta.processName).toBe('string');
  for (const cls of c.meta.classes) expect(WALKABLE_CLASSES).toContain(cls);
  for (const [cls, list] of Object.entries(c.entries)) {
    expect(WALKABLE_CLASSES).toContain(cls);
    expect(list.length).toBeLessThanOrEqual(TRACE_LIMITS.maxEntriesPerClass);
  }
  if (c.summary) expect(c.summary.events).toBe(c.eventCount);
  // The whole thing is plain data: it survives a structured clone and a JSON round trip.
  expect(JSON.parse(JSON.stringify(c.meta))).toEqual(c.meta);
}

describe('trace reader (property)', () => {
  it('any bytes: contents or a TraceFileError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, magic) => {
        const b = bytes.slice();
        if (magic && b.byteLength >= 12) {
          b.set(new TextEncoder().encode('PSSTRACE'), 0);
          new DataView(b.buffer).setUint32(8, 1, true);
        }
        const r = read(b);
        if (!(r instanceof TraceFileError)) checkContents(r, b.byteLength);
      }),
      RUNS,
    );
  });

  it('any JSON as the header: contents or a TraceFileError', () => {
    const protoKey = fc.constantFrom(...Object.getOwnPropertyNames(Object.prototype));
    const header = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.record({
        version: fc.oneof(fc.constant(1), fc.jsonValue({ maxDepth: 1 })),
        meta: fc.oneof(
          fc.jsonValue({ maxDepth: 2 }),
          fc.record({
            pid: fc.oneof(fc.integer(), fc.jsonValue({ maxDepth: 0 })),
            processName: fc.oneof(fc.string(), fc.integer()),
            flags: fc.oneof(fc.nat(), fc.double()),
            allocator: fc.oneof(
              fc.constant({ strategy: 'heap' }),
              fc.dictionary(fc.oneof(fc.string(), protoKey), fc.jsonValue({ maxDepth: 2 })),
            ),
            classes: fc.array(fc.oneof(fc.constantFrom(...WALKABLE_CLASSES), protoKey)),
            createdAt: fc.oneof(fc.string(), fc.integer()),
          }),
        ),
        eventCount: fc.oneof(fc.constant(3), fc.integer(), fc.double()),
        summary: fc.oneof(fc.constant(null), fc.jsonValue({ maxDepth: 3 })),
        entries: fc.oneof(
          fc.constant({}),
          fc.dictionary(
            fc.oneof(fc.constantFrom(...WALKABLE_CLASSES), protoKey),
            fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 3 }),
          ),
        ),
      }),
    );
    const recs = new Uint8Array(storeWith(3, 0).read(0, 3));
    fc.assert(
      fc.property(header, (h) => {
        const file = fileOf(JSON.stringify(h) ?? 'null', recs);
        const r = read(file);
        if (!(r instanceof TraceFileError)) checkContents(r, file.byteLength);
      }),
      RUNS,
    );
  });

  it('any mutation of a valid file: contents or a TraceFileError', () => {
    const good = new Uint8Array(storeWith(50, 3).export());
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.option(fc.nat()),
        (flips, cut) => {
          const b = good.slice();
          for (const [at, v] of flips) b[at % b.byteLength] = v;
          const file = cut === null ? b : b.subarray(0, cut % (b.byteLength + 1));
          const r = read(file);
          if (!(r instanceof TraceFileError)) checkContents(r, file.byteLength);
        },
      ),
      RUNS,
    );
  });

  it('what a store exports reads back equal, whole and in chunks of any size', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 400 }),
        fc.nat({ max: 5 }),
        fc.oneof(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 61, max: 5000 })),
        (n0, threads, chunk) => {
          // Tiny chunks on small traces only (a chunk per byte of 20 KB is slow, not wrong).
          const n = chunk < 61 ? n0 % 40 : n0;
          const store = storeWith(n, threads);
          const whole = new Uint8Array(store.export());
          const layout = store.exportLayout();
          expect(layout.totalBytes).toBe(whole.byteLength);
          const parts: Uint8Array[] = [];
          for (let at = 0; at < layout.totalBytes; at += chunk) {
            parts.push(new Uint8Array(store.exportChunk(layout, at, chunk)));
          }
          const joined = new Uint8Array(whole.byteLength);
          let at = 0;
          for (const p of parts) {
            joined.set(p, at);
            at += p.byteLength;
          }
          expect(Buffer.from(joined).equals(Buffer.from(whole))).toBe(true);
          const back = readTraceFile(readAtBuffer(joined), joined.byteLength);
          expect(back.eventCount).toBe(n);
          expect(back.entries.THREADS?.length ?? 0).toBe(threads);
          const recs = joined.slice(back.records.fileOffset);
          new EventBatchView(recs.buffer).validate(0);
          expect(Buffer.from(recs).equals(Buffer.from(store.read(0, n)))).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});
