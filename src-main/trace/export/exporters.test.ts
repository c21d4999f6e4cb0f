import { describe, expect, it } from 'vitest';
import { EventWriter } from '../../../src-shared/events/batch';
import { ApiCall, EventKind, NO_CLASS } from '../../../src-shared/events/layout';
import { PssWalkClass } from '../../../src-shared/pss/constants';
import {
  csvField,
  exportChrome,
  exportEntriesCsv,
  exportEventsCsv,
  exportJson,
  exportSpeedscope,
  type ExportInput,
} from './exporters';
import { checkChromeTrace } from './chrome-check';
import { TIMING_NOTES } from './calls';
import { mulberry32 } from '../../alloc/faulty';

/**
 * The event pattern a walk session writes: create (allocs, MarkerCreated), two passes of walk
 * steps with allocations, a seek between them, a violation outside any call, then marker free
 * (frees, a leak, MarkerFreed). The first pass's call-ending events carry their call's
 * duration (150 ns); the second pass's do not (as in a trace written before durations were):
 * its steps are timed from their allocations, and its WalkEnd (no allocation) has no time.
 */
function sessionEvents(): ArrayBuffer[] {
  const batches: ArrayBuffer[] = [];
  let t = 0;
  const w = new EventWriter(
    7,
    (b) => batches.push(b),
    () => (t += 100),
  );
  let live = 0;
  let addr = 0x1000;
  const alloc = (api: number, cls: number, size: number): number => {
    live += size;
    w.write(EventKind.Alloc, api, cls, 0, 1, 77, (addr += 0x100), 0x7f00, size, 0, live);
    return addr;
  };
  const free = (api: number, a: number, size: number): void => {
    live -= size;
    w.write(EventKind.Free, api, NO_CLASS, 0, 1, 77, a, 0x7f00, size, 0, live);
  };
  let duration = 150;
  const m = (kind: number, api: number, cls: number, aux0: number, aux1: number): void => {
    w.write(kind, api, cls, 0, 1, 77, 0, 0, duration, aux0, aux1);
  };
  const blocks: [number, number][] = [];
  blocks.push([alloc(ApiCall.PssWalkMarkerCreate, NO_CLASS, 64), 64]);
  m(EventKind.MarkerCreated, ApiCall.PssWalkMarkerCreate, NO_CLASS, 0, 0);
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < 3; i++) {
      blocks.push([alloc(ApiCall.PssWalkSnapshot, PssWalkClass.THREADS, 16 + i), 16 + i]);
      m(EventKind.WalkStep, ApiCall.PssWalkSnapshot, PssWalkClass.THREADS, i, 0);
    }
    m(EventKind.WalkEnd, ApiCall.PssWalkSnapshot, PssWalkClass.THREADS, 3, 259);
    if (pass === 0) m(EventKind.Seek, ApiCall.PssWalkMarkerSeekToBeginning, NO_CLASS, 0, 0);
    duration = 0;
  }
  duration = 150;
  w.write(EventKind.ViolationWrongThread, ApiCall.None, NO_CLASS, 0, 1, 77, 0, 0, 8, 1, 0);
  for (const [a, s] of blocks.slice(1)) free(ApiCall.PssWalkMarkerFree, a, s);
  w.write(
    EventKind.Leak,
    ApiCall.PssWalkMarkerFree,
    NO_CLASS,
    0,
    1,
    77,
    blocks[0]?.[0] ?? 0,
    0x7f00,
    64,
    0,
    0,
  );
  m(EventKind.MarkerFreed, ApiCall.PssWalkMarkerFree, NO_CLASS, 1, 64);
  w.flush();
  return batches;
}

const input = (batches = sessionEvents()): ExportInput => ({
  session: { pid: 42, processName: 'fixture, "quoted"' },
  eventCount: batches.reduce((n, b) => n + b.byteLength / 48, 0),
  forEachBatch: (fn) => {
    let seq = 0;
    for (const b of batches) {
      fn(seq, b);
      seq += b.byteLength / 48;
    }
  },
  entries: () =>
    new Map<string, unknown[]>([
      [
        'THREADS',
        [
          {
            kind: 'thread',
            threadId: 5,
            createTime: '134091983171234567',
            context: { rip: '0x1' },
          },
        ],
      ],
    ]),
  summary: () => ({ events: 27 }),
});

const collect = (fn: (w: (s: string) => void) => void): string => {
  const parts: string[] = [];
  fn((s) => parts.push(s));
  return parts.join('');
};

describe('exporters', () => {
  it('chrome: a structurally valid Trace Event Format file with slices, passes, counter, instants', () => {
    const text = collect((w) => exportChrome(input(), w));
    const doc = JSON.parse(text) as { traceEvents: Record<string, unknown>[] };
    expect(checkChromeTrace(doc)).toEqual([]);
    const names = doc.traceEvents.filter((e) => e['ph'] === 'X').map((e) => e['name']);
    expect(names).toEqual([
      'PssWalkMarkerCreate',
      'PssWalkSnapshot THREADS #0',
      'PssWalkSnapshot THREADS #1',
      'PssWalkSnapshot THREADS #2',
      'PssWalkSnapshot THREADS end',
      'PssWalkMarkerSeekToBeginning',
      'PssWalkSnapshot THREADS #0',
      'PssWalkSnapshot THREADS #1',
      'PssWalkSnapshot THREADS #2',
      'PssWalkMarkerFree',
    ]);
    // a recorded duration: the slice starts that long before its ending event (150 ns)
    const slices = doc.traceEvents.filter((e) => e['ph'] === 'X') as {
      ts: number;
      dur: number;
      args: { duration?: string };
    }[];
    // (µs on a grid of 1/1024 µs: each end within half a step of its ns)
    expect(Math.abs((slices[1]?.dur ?? 0) - 0.15)).toBeLessThanOrEqual(1 / 1024);
    // slices never overlap on their track in float arithmetic (a viewer adds ts + dur)
    for (let i = 1; i < slices.length; i++)
      expect((slices[i - 1]?.ts ?? 0) + (slices[i - 1]?.dur ?? 0)).toBeLessThanOrEqual(
        slices[i]?.ts ?? 0,
      );
    expect(slices[1]?.args.duration).toBeUndefined();
    // none recorded: timed from the call's first event, and said so
    expect(Math.abs((slices[6]?.dur ?? 0) - 0.1)).toBeLessThanOrEqual(1 / 1024);
    expect(slices[6]?.args.duration).toBe(TIMING_NOTES.events);
    // none recorded and no event inside: an instant saying so, not a 0 µs slice
    const untimed = doc.traceEvents.filter((e) => e['ph'] === 'i' && e['cat'] === 'walk') as {
      name: string;
      args: { duration: string };
    }[];
    expect(untimed.map((e) => e.name)).toEqual(['PssWalkSnapshot THREADS end']);
    expect(untimed[0]?.args.duration).toBe(TIMING_NOTES.unknown);
    expect(doc.traceEvents.filter((e) => e['ph'] === 'B').map((e) => e['name'])).toEqual([
      'Pass 1',
      'Pass 2',
    ]);
    const counters = doc.traceEvents.filter((e) => e['ph'] === 'C');
    expect(counters.length).toBe(7 + 6); // 7 allocs, 6 frees
    expect((counters.at(-1)?.['args'] as { live: number }).live).toBe(64); // the leaked block
    const instants = doc.traceEvents.filter((e) => e['ph'] === 'i').map((e) => e['name']);
    expect(instants.filter((n) => n === 'Alloc')).toHaveLength(7);
    expect(instants).toContain('ViolationWrongThread');
    expect(instants).toContain('Leak');
    // The free slice spans its frees: its duration covers them.
    const free = doc.traceEvents.find((e) => e['name'] === 'PssWalkMarkerFree') as {
      dur: number;
      args: { events: number };
    };
    expect(free.args.events).toBe(7);
    expect(free.dur).toBeGreaterThan(0);
  });

  it("chrome: steps that touch never overlap in a viewer's arithmetic, at any time (speedscope shifts every ts by the first)", () => {
    // Walk steps back to back (each starts where the one before ended, as a batch of steps
    // does), at ns times up to a day into the session, each ending event carrying its duration.
    const r = mulberry32(7);
    const batches: ArrayBuffer[] = [];
    let t = 0;
    const w = new EventWriter(
      64,
      (b) => batches.push(b),
      () => t,
    );
    // The session's first call at 1 µs (speedscope's zero), then steps from a random time up
    // to 10 ms in (where 3-decimal µs went wrong for ~1 in 4,000 touching pairs).
    t = 1_000;
    w.write(
      EventKind.MarkerCreated,
      ApiCall.PssWalkMarkerCreate,
      NO_CLASS,
      0,
      1,
      77,
      0,
      0,
      200,
      0,
      0,
    );
    let prevEnd = (t = 5_000 + Math.floor(r() * 10e6));
    const start = t;
    for (let i = 0; i < 20_000; i++) {
      const duration = 1 + Math.floor(r() * 5_000);
      t = prevEnd + duration;
      w.write(
        EventKind.WalkStep,
        ApiCall.PssWalkSnapshot,
        PssWalkClass.HANDLES,
        0,
        1,
        77,
        0,
        0,
        duration,
        i,
        0,
      );
      prevEnd = t;
      // now and then a pause between steps
      if (r() < 0.1) prevEnd += Math.floor(r() * 1e5);
    }
    w.flush();
    const doc = JSON.parse(collect((out) => exportChrome(input(batches), out))) as {
      traceEvents: { ph: string; ts: number; dur?: number; tid: number }[];
    };
    const xs = doc.traceEvents.filter((e) => e.ph === 'X');
    expect(xs).toHaveLength(20_001);
    expect(Math.abs((xs[1]?.ts ?? 0) - start / 1000)).toBeLessThan(0.01);
    const first = Math.min(...doc.traceEvents.filter((e) => e.ph !== 'M').map((e) => e.ts));
    for (let i = 1; i < xs.length; i++) {
      const a = xs[i - 1] as { ts: number; dur: number };
      const b = xs[i] as { ts: number };
      // what speedscope computes: the end of one, and the start of the next, both shifted
      expect(a.ts - first + a.dur).toBeLessThanOrEqual(b.ts - first);
      expect(a.ts + a.dur).toBeLessThanOrEqual(b.ts);
    }
  });

  it('chrome check catches what it must', () => {
    expect(
      checkChromeTrace({ traceEvents: [{ ph: 'X', name: 'a', pid: 1, tid: 1, ts: 5 }] }),
    ).toEqual(['event 0 (X "a"): dur missing or negative']);
    expect(
      checkChromeTrace({
        traceEvents: [
          { ph: 'i', name: 'a', pid: 1, tid: 1, ts: 5, s: 't' },
          { ph: 'i', name: 'b', pid: 1, tid: 1, ts: 4, s: 't' },
        ],
      }),
    ).toEqual(['event 1 (i "b"): ts 4 goes back on track 1/1 (last 5)']);
    expect(checkChromeTrace({ traceEvents: [{ ph: 'E', pid: 1, tid: 1, ts: 1 }] })).toEqual([
      'event 0 (E): no open B on track 1/1',
    ]);
  });

  it('speedscope: properly nested evented profile', () => {
    const doc = JSON.parse(collect((w) => exportSpeedscope(input(), w))) as {
      name: string;
      shared: { frames: { name: string }[] };
      profiles: {
        type: string;
        unit: string;
        startValue: number;
        endValue: number;
        events: { type: string; frame: number; at: number }[];
      }[];
    };
    expect(doc.profiles[0]?.type).toBe('evented');
    expect(doc.name).toMatch(/\(1 call not drawn: the trace holds no duration for it\)$/);
    const frames = doc.shared.frames.map((f) => f.name);
    expect(frames).toEqual(
      expect.arrayContaining([
        'Pass 1',
        'Pass 2',
        'PssWalkMarkerCreate',
        'PssWalkSnapshot THREADS',
        'PssWalkMarkerFree',
      ]),
    );
    const stack: number[] = [];
    let at = -Infinity;
    const p = doc.profiles[0] as NonNullable<(typeof doc.profiles)[0]>;
    for (const e of p.events) {
      expect(e.at).toBeGreaterThanOrEqual(at);
      at = e.at;
      if (e.type === 'O') stack.push(e.frame);
      else expect(stack.pop()).toBe(e.frame);
    }
    expect(stack).toEqual([]);
    expect(p.startValue).toBeLessThanOrEqual(p.endValue);
  });

  it('csv: events and entries, quoted per RFC 4180', () => {
    const ev = collect((w) => exportEventsCsv(input(), w)).split('\r\n');
    expect(ev[0]).toBe(
      'seq,time_ns,kind,api,class,strategy,marker,thread,address,size,aux0,aux1,call_ns',
    );
    expect(ev[1]).toBe('0,100,Alloc,PssWalkMarkerCreate,,heap,1,77,0x7f0000001100,64,0,64,');
    expect(ev[2]).toBe('1,200,MarkerCreated,PssWalkMarkerCreate,,heap,1,77,0x0,,0,0,150');
    expect(ev.find((l) => l.includes('WalkEnd') && l.endsWith(',n/a'))).toBeDefined();
    expect(ev.filter(Boolean)).toHaveLength(1 + 26);
    const en = collect((w) => exportEntriesCsv(input(), 'THREADS', w)).split('\r\n');
    expect(en[0]).toBe('kind,threadId,createTime,context');
    expect(en[1]).toBe('thread,5,134091983171234567,"{""rip"":""0x1""}"');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('x\ny')).toBe('"x\ny"');
  });

  it('json: every event decoded, with session, summary and entries', () => {
    const doc = JSON.parse(collect((w) => exportJson(input(), w))) as {
      events: { kind: string; size: number | null; callNs?: number | null }[];
      summary: unknown;
    };
    expect(doc.events).toHaveLength(26);
    expect(doc.events[1]).toMatchObject({ kind: 'MarkerCreated', size: null, callNs: 150 });
    expect(doc.events[0]?.callNs).toBeUndefined();
    expect(doc.summary).toEqual({ events: 27 });
  });
});
