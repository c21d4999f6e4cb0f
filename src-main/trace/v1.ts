/**
 * Trace file format version 1, and the validation of every trace's description (v1 and v2),
 * for untrusted input: every length and count is checked against a limit
 * before anything is allocated for it, the JSON header is validated field by field (only known
 * fields are kept, so nothing unencodable or unbounded reaches a reply), and the records are
 * validated in fixed-size chunks straight from the file, never held whole in memory.
 *
 * Trace file format version 1 (little-endian), written by TraceStore.exportLayout():
 *   "PSSTRACE" | u32 version (1) | u32 headerBytes | header JSON (UTF-8) | records
 * where records are eventCount × EVENT_SIZE bytes (src-shared/events/layout.ts) with seq 0…n-1,
 * and the header is {version, meta, eventCount, summary, entries}.
 *
 * `readTraceFile` reads version 1; the app's import (./import.ts, in a worker thread) reads
 * version 2 with TraceReader (./trace-file.ts) and validates its description with the same
 * functions (parseMeta, parseSummary, parseEntries), so both versions obey the same limits.
 */
import { EVENT_SIZE } from '../../src-shared/events/layout';
import { CorruptBatchError, EventBatchView } from '../../src-shared/events/batch';
import { WALKABLE_CLASSES, type WalkableClass } from '../../src-shared/pss/constants';
import type { WalkEntry } from '../../src-shared/pss/entries';
import type { Pace, SessionSummary, WalkFacts } from '../../src-shared/contract/model';
import {
  BASE_STRATEGIES,
  LIMITS,
  parseAllocatorOptions,
  type AllocatorOptions,
  type BaseStrategyName,
} from '../../src-shared/alloc/options';
import type { AllocatorStats, FaultFacts, StrategyFacts } from '../../src-shared/alloc/stats';
import { Ledger } from '../../src-shared/ledger/ledger';
import { hasOwn } from '../../src-shared/contract/validate';
import { upgradeLegacyEntryTimes } from '../../src-shared/pss/filetime';

import { TRACE_MAGIC, TraceFileError, type ReadAt } from './trace-file';

export { TraceFileError } from './trace-file';
export { TRACE_MAGIC } from './trace-file';
/** The version word of a version 1 file. */
export const V1_VERSION = 1;
/** Magic, version and header length. */
export const V1_PREAMBLE_BYTES = 16;

/** What a trace file may contain; anything beyond is a TraceFileError naming the limit. */
export const TRACE_LIMITS = {
  /** The JSON header (session description, summary, walked entries). */
  maxHeaderBytes: 32 * 1024 * 1024,
  /** Events (2^32: seqs stay exact in the 48-byte record's f64). */
  maxEvents: 2 ** 32,
  /** Walked entries per class. */
  maxEntriesPerClass: 1_000_000,
  /** Characters in any string of the header. */
  maxStringChars: 32 * 1024,
  /** Keys of any object in the summary (breakdowns per API, class, violation kind…). */
  maxSummaryKeys: 1024,
  /** Records validated per read of the file. */
  chunkEvents: 65_536,
} as const;

export interface TraceMeta {
  pid: number;
  processName: string;
  flags: number;
  allocator: AllocatorOptions;
  classes: WalkableClass[];
  createdAt: string;
  snapshotId: string | null;
  pace: Pace;
  clockOriginEpochMs?: number;
}

/** A validated trace file: its description and where its records are. */
export interface TraceFileContents {
  version: number;
  meta: TraceMeta;
  eventCount: number;
  summary: SessionSummary | null;
  entries: Partial<Record<WalkableClass, WalkEntry[]>>;
  /**
   * Where the eventCount raw records (EVENT_SIZE bytes each, seq 0…) are: at this byte of the
   * file read (version 1), or of the file they were decoded into (`decoded`, version 2).
   */
  records: { fileOffset: number; decoded?: boolean };
  /** What was damaged (version 2 recovers every complete batch before it), or null. */
  damage?: string | null;
}

export function readAtBuffer(bytes: Uint8Array): ReadAt {
  return (buffer, position) => {
    const part = bytes.subarray(position, Math.min(bytes.byteLength, position + buffer.byteLength));
    buffer.set(part);
    return part.byteLength;
  };
}

const corrupt = (what: string): TraceFileError => new TraceFileError(`corrupt trace file: ${what}`);

/** Reads and validates a whole trace file of `fileBytes` bytes. */
export function readTraceFile(read: ReadAt, fileBytes: number): TraceFileContents {
  if (fileBytes < V1_PREAMBLE_BYTES)
    throw new TraceFileError(`not a trace file: only ${fileBytes} bytes`);
  const pre = new Uint8Array(V1_PREAMBLE_BYTES);
  if (read(pre, 0) !== V1_PREAMBLE_BYTES) throw corrupt('the file is shorter than its size');
  let magic = '';
  for (let i = 0; i < 8; i++) magic += String.fromCharCode(pre[i] as number);
  if (magic !== TRACE_MAGIC)
    throw new TraceFileError('not a trace file: bad magic (expected "PSSTRACE")');
  const dv = new DataView(pre.buffer);
  const version = dv.getUint32(8, true);
  switch (version) {
    case 1:
      return readV1(read, fileBytes, dv.getUint32(12, true));
    default:
      throw new TraceFileError(
        `unsupported trace file version ${version} (version ${V1_VERSION} is read here)`,
      );
  }
}

function readV1(read: ReadAt, fileBytes: number, headerBytes: number): TraceFileContents {
  if (V1_PREAMBLE_BYTES + headerBytes > fileBytes) {
    throw corrupt(`header length ${headerBytes} exceeds the file`);
  }
  if (headerBytes > TRACE_LIMITS.maxHeaderBytes) {
    throw new TraceFileError(
      `trace header of ${headerBytes} bytes is larger than the ${TRACE_LIMITS.maxHeaderBytes}-byte limit`,
    );
  }
  const raw = new Uint8Array(headerBytes);
  if (read(raw, V1_PREAMBLE_BYTES) !== headerBytes) throw corrupt('the header is cut short');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch (e) {
    throw corrupt(`header is not valid JSON (${(e as Error).message.slice(0, 200)})`);
  }
  const h = parseHeader(header);
  const recordsOffset = V1_PREAMBLE_BYTES + headerBytes;
  const recordBytes = fileBytes - recordsOffset;
  if (recordBytes !== h.eventCount * EVENT_SIZE) {
    throw corrupt(
      `header says ${h.eventCount} events (${h.eventCount * EVENT_SIZE} bytes) but ${recordBytes} bytes of records follow`,
    );
  }
  const ledger = new Ledger();
  validateRecords(read, recordsOffset, h.eventCount, ledger);
  if (h.summary && h.summary.events !== h.eventCount) {
    throw corrupt(`summary counts ${h.summary.events} events but the file holds ${h.eventCount}`);
  }
  return {
    ...h,
    summary: h.summary ? withLedger(h.summary, ledger) : null,
    version: 1,
    records: { fileOffset: recordsOffset },
  };
}

/**
 * Validates eventCount records from `offset`, one bounded chunk at a time, folding them into
 * `ledger` when one is given.
 */
export function validateRecords(
  read: ReadAt,
  offset: number,
  eventCount: number,
  ledger?: Ledger,
): void {
  const chunk = new Uint8Array(Math.min(eventCount, TRACE_LIMITS.chunkEvents) * EVENT_SIZE);
  for (let first = 0; first < eventCount; first += TRACE_LIMITS.chunkEvents) {
    const n = Math.min(TRACE_LIMITS.chunkEvents, eventCount - first);
    const view = chunk.subarray(0, n * EVENT_SIZE);
    if (read(view, offset + first * EVENT_SIZE) !== view.byteLength)
      throw corrupt('the records are cut short');
    try {
      const batch = new EventBatchView(view.buffer.slice(0, view.byteLength));
      batch.validate(first);
      ledger?.fold(batch, 0, batch.count);
    } catch (e) {
      if (!(e instanceof CorruptBatchError)) throw e;
      throw corrupt(
        e.message.replace(/^record (\d+)/, (_m, i: string) => `record ${first + Number(i)}`),
      );
    }
  }
}

// ---- the header, field by field ------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObj(x: unknown): x is Obj {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const proto: unknown = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function field(o: Obj, key: string): unknown {
  return hasOwn(o, key) ? o[key] : undefined;
}

function str(x: unknown, path: string, optional = false): string {
  if (x === undefined && optional) return '';
  if (typeof x !== 'string') throw corrupt(`${path} is not a string`);
  if (x.length > TRACE_LIMITS.maxStringChars)
    throw corrupt(`${path} is longer than ${TRACE_LIMITS.maxStringChars} characters`);
  return x;
}

function int(x: unknown, path: string, min: number, max: number): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max)
    throw corrupt(`${path} is not an integer from ${min} to ${max}`);
  return x;
}

function finite(x: unknown, path: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw corrupt(`${path} is not a number`);
  return x;
}

function parseHeader(x: unknown): Omit<TraceFileContents, 'version' | 'records' | 'summary'> & {
  summary: FileSummary | null;
} {
  if (!isObj(x)) throw corrupt('header is not an object');
  const version = field(x, 'version');
  if (version !== undefined && version !== 1) {
    // Never String(x) on parsed input: an object whose toString is data throws.
    throw corrupt(`header version ${(JSON.stringify(version) ?? 'undefined').slice(0, 40)}`);
  }
  const meta = parseMeta(field(x, 'meta'));
  const eventCount = field(x, 'eventCount');
  if (
    typeof eventCount !== 'number' ||
    !Number.isInteger(eventCount) ||
    eventCount < 0 ||
    eventCount > TRACE_LIMITS.maxEvents
  ) {
    throw corrupt('header has no valid event count');
  }
  const summaryRaw = field(x, 'summary');
  const summary = summaryRaw === undefined || summaryRaw === null ? null : parseSummary(summaryRaw);
  const entries = parseEntries(field(x, 'entries'));
  return { meta, eventCount, summary, entries };
}

export function parseMeta(x: unknown): TraceMeta {
  if (!isObj(x)) throw corrupt('header has no session description');
  const alloc = parseAllocatorOptions(field(x, 'allocator') ?? { strategy: 'heap' });
  if (!alloc.ok) throw corrupt(`meta.allocator: ${alloc.error}`);
  const classesRaw = field(x, 'classes') ?? [];
  if (!Array.isArray(classesRaw) || classesRaw.length > WALKABLE_CLASSES.length)
    throw corrupt('meta.classes is not a list of walk classes');
  const classes: WalkableClass[] = [];
  for (const c of classesRaw as unknown[]) {
    if (typeof c !== 'string' || !(WALKABLE_CLASSES as readonly string[]).includes(c))
      throw corrupt(`meta.classes holds ${JSON.stringify(c)?.slice(0, 40)}, not a walk class`);
    classes.push(c as WalkableClass);
  }
  const snapshotId = field(x, 'snapshotId');
  const paceRaw = field(x, 'pace');
  let pace: Pace = { mode: 'run' };
  if (isObj(paceRaw) && field(paceRaw, 'mode') === 'paced') {
    const eps = field(paceRaw, 'entriesPerSecond');
    pace = { mode: 'paced', entriesPerSecond: finite(eps, 'meta.pace.entriesPerSecond') };
  }
  const meta: TraceMeta = {
    pid: int(field(x, 'pid') ?? 0, 'meta.pid', 0, 0x7fffffff),
    processName: str(field(x, 'processName'), 'meta.processName', true),
    flags: int(field(x, 'flags') ?? 0, 'meta.flags', 0, 0xffffffff),
    allocator: alloc.value,
    classes,
    createdAt: str(field(x, 'createdAt') ?? '', 'meta.createdAt'),
    snapshotId:
      snapshotId === undefined || snapshotId === null ? null : str(snapshotId, 'meta.snapshotId'),
    pace,
  };
  const origin = field(x, 'clockOriginEpochMs');
  if (origin !== undefined) meta.clockOriginEpochMs = finite(origin, 'meta.clockOriginEpochMs');
  return meta;
}

/**
 * A plain JSON value of bounded size: numbers (finite), strings, booleans, null, and objects or
 * arrays of those nested at most `depth` deep with at most maxSummaryKeys members each.
 */
function plain(x: unknown, path: string, depth: number): unknown {
  if (x === null || typeof x === 'boolean') return x;
  if (typeof x === 'number') return finite(x, path);
  if (typeof x === 'string') return str(x, path);
  if (depth <= 0) throw corrupt(`${path} is nested too deeply`);
  if (Array.isArray(x)) {
    if (x.length > TRACE_LIMITS.maxSummaryKeys) throw corrupt(`${path} has too many items`);
    return x.map((v, i) => plain(v, `${path}[${i}]`, depth - 1));
  }
  if (!isObj(x)) throw corrupt(`${path} is not plain data`);
  const keys = Object.keys(x);
  if (keys.length > TRACE_LIMITS.maxSummaryKeys) throw corrupt(`${path} has too many keys`);
  const out: Obj = {};
  for (const k of keys) {
    if (k === '__proto__') continue;
    out[k] = plain(x[k], `${path}.${k.slice(0, 40)}`, depth - 1);
  }
  return out;
}

/**
 * What a trace file's summary contributes: the walk's own facts, and the event count it claims
 * (checked against the records). Its allocation numbers are not read: they are the ledger's,
 * folded from the file's events (`withLedger`), whatever the file says.
 */
export type FileSummary = WalkFacts & { events: number };

export function parseSummary(x: unknown): FileSummary {
  if (!isObj(x)) throw corrupt('summary is not an object');
  const entriesWalked: WalkFacts['entriesWalked'] = {};
  const ew = field(x, 'entriesWalked');
  if (ew !== undefined) {
    if (!isObj(ew)) throw corrupt('summary.entriesWalked is not an object');
    for (const cls of WALKABLE_CLASSES) {
      const n = field(ew, cls);
      if (n !== undefined)
        entriesWalked[cls] = int(n, `summary.entriesWalked.${cls}`, 0, Number.MAX_SAFE_INTEGER);
    }
  }
  const d = field(x, 'durations');
  const sessionId = field(x, 'sessionId');
  return {
    events: int(field(x, 'events') ?? 0, 'summary.events', 0, Number.MAX_SAFE_INTEGER),
    sessionId: typeof sessionId === 'string' ? str(sessionId, 'summary.sessionId') : '',
    entriesWalked,
    durations: isObj(d)
      ? {
          captureMs: finite(field(d, 'captureMs') ?? 0, 'summary.durations.captureMs'),
          walkMs: finite(field(d, 'walkMs') ?? 0, 'summary.durations.walkMs'),
          totalMs: finite(field(d, 'totalMs') ?? 0, 'summary.durations.totalMs'),
        }
      : { captureMs: 0, walkMs: 0, totalMs: 0 },
    strategy: parseStrategyStats(field(x, 'strategy')),
    callbackErrors: int(
      field(x, 'callbackErrors') ?? 0,
      'summary.callbackErrors',
      0,
      Number.MAX_SAFE_INTEGER,
    ),
  };
}

/** A file's walk facts joined to the ledger of its events. */
export function withLedger(facts: FileSummary, ledger: Ledger): SessionSummary {
  const { events: _claimed, ...walk } = facts;
  return { ...walk, ...ledger.summary() };
}

const COUNTER_FIELDS = [
  'allocations',
  'failures',
  'frees',
  'freeNulls',
  'badFrees',
  'liveBlocks',
  'liveBytes',
  'peakBytes',
  'totalBytes',
  'nativeBytes',
] as const;

const FACT_FIELDS: Record<BaseStrategyName, readonly string[]> = {
  heap: [],
  arena: [
    'capacityBytes',
    'usedBytes',
    'highWaterBytes',
    'freedBytes',
    'paddingBytes',
    'wasteBytes',
    'exhausted',
    'resets',
  ],
  pool: ['blocksPerSlab'],
  guard: [
    'redZoneBytes',
    'canaryByte',
    'overruns',
    'underruns',
    'doubleFrees',
    'unknownFrees',
    'checks',
    'quarantinedBlocks',
  ],
};

function nums(o: Obj, keys: readonly string[], path: string, out: Obj): void {
  for (const k of keys) out[k] = finite(field(o, k) ?? 0, `${path}.${k}`);
}

/**
 * The strategy's facts of a summary, field by field: an older file's loose `{}` (or nothing)
 * is null; anything else must have the shape the app writes.
 */
function parseStrategyStats(x: unknown): AllocatorStats | null {
  if (x === undefined || x === null) return null;
  if (!isObj(x)) throw corrupt('summary.strategy is not an object');
  if (Object.keys(x).length === 0) return null;
  const name = field(x, 'strategy');
  if (
    typeof name !== 'string' ||
    !([...BASE_STRATEGIES, 'user'] as readonly string[]).includes(name)
  )
    throw corrupt('summary.strategy.strategy is not a strategy name');
  const base = name as BaseStrategyName | 'user';
  const out: Obj = { strategy: base };
  nums(x, COUNTER_FIELDS, 'summary.strategy', out);
  out['code'] = int(field(x, 'code') ?? 0, 'summary.strategy.code', 0, 255);
  out['faulty'] = field(x, 'faulty') === true;
  out['released'] = field(x, 'released') === true;
  const f = field(x, 'facts');
  if (!isObj(f) || field(f, 'strategy') !== base)
    throw corrupt(`summary.strategy.facts are not ${base} facts`);
  const facts: Obj = { strategy: base };
  if (base === 'user') {
    const lp = field(f, 'libraryPath');
    if (typeof lp !== 'string' || lp.length > LIMITS.libraryPathMax)
      throw corrupt('summary.strategy.facts.libraryPath is not a path');
    facts['libraryPath'] = lp;
  } else nums(f, FACT_FIELDS[base], 'summary.strategy.facts', facts);
  if (base === 'pool') {
    const classes = field(f, 'classes') ?? [];
    if (!Array.isArray(classes) || classes.length > 64)
      throw corrupt('summary.strategy.facts.classes is not a list of size classes');
    facts['classes'] = (classes as unknown[]).map((c, i) => {
      if (!isObj(c)) throw corrupt(`summary.strategy.facts.classes[${i}] is not an object`);
      const row: Obj = {};
      nums(
        c,
        ['size', 'inUse', 'free', 'slabs', 'requests'],
        `summary.strategy.facts.classes[${i}]`,
        row,
      );
      return row;
    });
    const fb = field(f, 'fallback');
    const fallback: Obj = {};
    nums(
      isObj(fb) ? fb : {},
      ['allocations', 'liveBlocks', 'liveBytes'],
      'summary.strategy.facts.fallback',
      fallback,
    );
    facts['fallback'] = fallback;
  }
  out['facts'] = facts as unknown as StrategyFacts;
  const faults = field(x, 'faults');
  if (faults === undefined || faults === null) out['faults'] = null;
  else {
    if (!isObj(faults)) throw corrupt('summary.strategy.faults is not an object');
    const ff: Obj = {};
    nums(
      faults,
      ['attempts', 'failNth', 'probability', 'budget', 'innerFailures'],
      'summary.strategy.faults',
      ff,
    );
    out['faults'] = ff as unknown as FaultFacts;
  }
  return out as unknown as AllocatorStats;
}

const ENTRY_KIND: Record<WalkableClass, string> = {
  THREADS: 'thread',
  HANDLES: 'handle',
  VA_SPACE: 'region',
  AUXILIARY_PAGES: 'page',
};

export function parseEntries(x: unknown): Partial<Record<WalkableClass, WalkEntry[]>> {
  if (x === undefined || x === null) return {};
  if (!isObj(x)) throw corrupt('entries is not an object');
  const out: Partial<Record<WalkableClass, WalkEntry[]>> = {};
  for (const [cls, list] of Object.entries(x)) {
    if (!(WALKABLE_CLASSES as readonly string[]).includes(cls) || !Array.isArray(list)) {
      throw corrupt(`bad entry list "${cls.slice(0, 40)}"`);
    }
    if (list.length > TRACE_LIMITS.maxEntriesPerClass) {
      throw new TraceFileError(
        `the trace holds ${list.length} ${cls} entries, more than the limit of ${TRACE_LIMITS.maxEntriesPerClass}`,
      );
    }
    const kind = ENTRY_KIND[cls as WalkableClass];
    const entries: WalkEntry[] = [];
    for (let i = 0; i < list.length; i++) {
      const e: unknown = list[i];
      const path = `entries.${cls}[${i}]`;
      if (!isObj(e) || field(e, 'kind') !== kind) throw corrupt(`${path} is not a ${kind} entry`);
      const entry = plain(e, path, 3) as Record<string, unknown>;
      // Files written before FILETIMEs crossed as decimal text hold float epoch ms.
      upgradeLegacyEntryTimes(entry);
      entries.push(entry as unknown as WalkEntry);
    }
    out[cls as WalkableClass] = entries;
  }
  return out;
}
