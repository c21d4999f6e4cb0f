/**
 * Opens a trace file of either version for reading: version 2 through TraceReader (random access,
 * recovery of damaged files), version 1 through the trace store's reader (whole file in memory).
 * Both come out as an ExportInput, with what (if anything) is damaged.
 */
import { readFileSync } from 'node:fs';
import { EventBatchView } from '../../src-shared/events/batch';
import { EVENT_SIZE } from '../../src-shared/events/layout';
import { Ledger } from '../../src-shared/ledger/ledger';
import { TraceStore } from '../walk/trace-store';
import type { ExportInput } from './export/exporters';
import {
  FileSource,
  TRACE_VERSION,
  TraceFileError,
  TraceReader,
  traceVersion,
  type TraceDamage,
} from './trace-file';

export interface OpenedTrace extends ExportInput {
  version: number;
  /** null when the file is complete and intact. */
  damage: TraceDamage | null;
  /**
   * The ledger after the first `n` events (0 ≤ n ≤ eventCount), and the checkpoint it started
   * from (version 2: the nearest usable one, so only it and the events after it are read;
   * version 1 has none: folded from the start).
   */
  stateAt(n: number): { ledger: Ledger; checkpoint: number | null };
  close(): void;
}

const BATCH = 65_536;

export function openTraceFile(path: string): OpenedTrace {
  const src = new FileSource(path);
  let version: number;
  try {
    version = traceVersion(src.read(0, 16));
  } catch (e) {
    src.close();
    throw e;
  }
  if (version === TRACE_VERSION) {
    let r: TraceReader;
    try {
      r = TraceReader.open(src);
    } catch (e) {
      src.close();
      throw e;
    }
    return {
      version,
      damage: r.damage,
      session: r.session,
      eventCount: r.eventCount,
      forEachBatch: (fn) => r.forEachBatch(fn),
      entries: () => r.entries(),
      summary: () => r.summary(),
      stateAt: (n) => r.stateFrom(n),
      close: () => r.close(),
    };
  }
  src.close();
  if (version !== 1)
    throw new TraceFileError(`unsupported trace file version ${version} (this app reads 1 and 2)`);
  const bytes = readFileSync(path);
  const store = TraceStore.import(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  );
  return {
    version,
    damage: null,
    session: store.meta as Record<string, unknown>,
    eventCount: store.count,
    forEachBatch: (fn) => {
      for (let at = 0; at < store.count; at += BATCH) fn(at, store.read(at, BATCH));
    },
    entries: () => {
      const m = new Map<string, unknown[]>();
      for (const cls of ['THREADS', 'HANDLES', 'VA_SPACE', 'AUXILIARY_PAGES'] as const) {
        const n = store.entryCount(cls);
        if (n > 0) m.set(cls, store.getEntries(cls, 0, n));
      }
      return m;
    },
    summary: () => store.summary,
    stateAt: (n) => {
      if (!Number.isSafeInteger(n) || n < 0 || n > store.count)
        throw new RangeError(`stateAt(${n}): the trace holds events 0…${store.count}`);
      const ledger = new Ledger();
      for (let at = 0; at < n; at += BATCH) {
        const v = new EventBatchView(store.read(at, Math.min(BATCH, n - at)));
        ledger.fold(v, 0, v.count);
      }
      return { ledger, checkpoint: null };
    },
    close: () => store.dispose(),
  };
}

/** Events per second a reader can decode, etc.: raw size of the stored events. */
export const rawEventBytes = (t: OpenedTrace): number => t.eventCount * EVENT_SIZE;
