import { existsSync, readdirSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBatchView, EventWriter } from '../../src-shared/events/batch';
import { EVENT_SIZE, EventKind, ApiCall } from '../../src-shared/events/layout';
import { TraceFileError, TraceStore } from './trace-store';

const meta = {
  pid: 1,
  flags: 0,
  allocator: { strategy: 'heap' },
  classes: ['THREADS' as const],
  createdAt: 'now',
};
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Writes n events into the store through a real EventWriter, in batches of `cap`. */
function fill(store: TraceStore, n: number, cap = 100): void {
  let t = 0;
  const w = new EventWriter(
    cap,
    (b, first) => store.append(first, b),
    () => t++,
  );
  for (let i = 0; i < n; i++)
    w.write(EventKind.Alloc, ApiCall.PssWalkSnapshot, 2, 0, 1, 42, i * 16, 0x7f, i + 1, i, 0);
  w.flush();
}

describe('TraceStore', () => {
  it('stores every event and reads any range back, across memory and spill file', () => {
    const spillDir = mkdtempSync(join(tmpdir(), 'pss-ts-test-'));
    dirs.push(spillDir);
    const store = new TraceStore(meta, { memoryLimitBytes: 100 * EVENT_SIZE, spillDir });
    fill(store, 1000, 37);
    expect(store.count).toBe(1000);
    expect(store.bytesSpilled).toBeGreaterThan(0);
    expect(store.bytesInMemory).toBeLessThanOrEqual(100 * EVENT_SIZE);
    for (const [from, n] of [
      [0, 1000],
      [0, 1],
      [999, 5],
      [123, 456],
      [36, 2],
      [990, 100],
    ] as const) {
      const v = new EventBatchView(store.read(from, n));
      expect(v.count).toBe(Math.min(n, 1000 - from));
      for (let i = 0; i < v.count; i++) {
        expect(v.seq(i)).toBe(from + i);
        expect(v.size(i)).toBe(from + i + 1);
        expect(v.addrLo(i)).toBe((from + i) * 16);
        expect(v.addrHi(i)).toBe(0x7f);
      }
    }
    expect(new EventBatchView(store.read(2000, 10)).count).toBe(0);
    const spillDirs = readdirSync(spillDir);
    expect(spillDirs.length).toBe(1);
    store.dispose();
    expect(existsSync(join(spillDir, spillDirs[0] as string))).toBe(false);
  });

  it('rejects a batch that does not continue the sequence', () => {
    const store = new TraceStore(meta);
    fill(store, 10);
    const w = new EventWriter(
      4,
      (b) => expect(() => store.append(20, b)).toThrow(/expects 10/),
      () => 0,
      20,
    );
    w.write(EventKind.Free, 0, 255, 0, 0, 0, 0, 0, 0, 0, 0);
    w.flush();
    expect(store.count).toBe(10);
  });

  it('exports and imports a trace file with events, entries and summary', () => {
    const store = new TraceStore(meta);
    fill(store, 250);
    store.appendEntries('THREADS', 0, [{ kind: 'thread', threadId: 7 } as never]);
    store.setSummary({ events: 250 } as never);
    const file = store.export();
    const back = TraceStore.import(file);
    expect(back.count).toBe(250);
    expect(new Uint8Array(back.read(0, 250))).toEqual(new Uint8Array(store.read(0, 250)));
    expect(back.getEntries('THREADS', 0, 10)).toEqual([{ kind: 'thread', threadId: 7 }]);
    expect(back.summary?.events).toBe(250);
    expect(back.meta.pid).toBe(1);
  });

  it('imports entry times of older files (float epoch ms) as exact FILETIME text', () => {
    const store = new TraceStore(meta);
    store.appendEntries('THREADS', 0, [
      { kind: 'thread', threadId: 7, createTime: 1_700_000_000_123, exitTime: 0 } as never,
    ]);
    const back = TraceStore.import(store.export());
    expect(back.getEntries('THREADS', 0, 1)).toEqual([
      { kind: 'thread', threadId: 7, createTime: '133444736001230000', exitTime: '0' },
    ]);
  });

  describe('corrupt trace files give a clear TraceFileError', () => {
    const good = (): Uint8Array<ArrayBuffer> => {
      const s = new TraceStore(meta);
      fill(s, 20);
      s.setSummary({ events: 20 } as never);
      return new Uint8Array(s.export());
    };
    const cases: [string, (b: Uint8Array<ArrayBuffer>) => ArrayBuffer, RegExp][] = [
      ['empty', () => new ArrayBuffer(0), /only 0 bytes/],
      [
        'bad magic',
        (b) => {
          b[0] = 0x58;
          return b.buffer;
        },
        /bad magic/,
      ],
      [
        'future version',
        (b) => {
          new DataView(b.buffer).setUint32(8, 9, true);
          return b.buffer;
        },
        /version 9/,
      ],
      [
        'header longer than file',
        (b) => {
          new DataView(b.buffer).setUint32(12, 1e6, true);
          return b.buffer;
        },
        /exceeds the file/,
      ],
      ['truncated records', (b) => b.slice(0, b.length - 7).buffer, /bytes of records follow/],
      [
        'garbled header',
        (b) => {
          b[20] = 0xff;
          return b.buffer;
        },
        /not valid JSON/,
      ],
      [
        'seq gap',
        (b) => {
          const hdr = new DataView(b.buffer).getUint32(12, true);
          new DataView(b.buffer).setFloat64(16 + hdr + 5 * EVENT_SIZE, 99, true);
          return b.buffer;
        },
        /record 5: sequence 99/,
      ],
      [
        'unknown event kind',
        (b) => {
          const hdr = new DataView(b.buffer).getUint32(12, true);
          b[16 + hdr + 3 * EVENT_SIZE + 28] = 200;
          return b.buffer;
        },
        /record 3: unknown event kind 200/,
      ],
    ];
    for (const [name, corrupt, message] of cases) {
      it(name, () => {
        let err: unknown;
        try {
          TraceStore.import(corrupt(good()));
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(TraceFileError);
        expect((err as Error).message).toMatch(message);
      });
    }
  });
});
