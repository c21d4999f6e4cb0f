/**
 * The commands of `pss-inspector`. Each reads its parsed arguments and writes to the given
 * output; failures are thrown as CliError (exit code + one line). Captures and walks run on the
 * app's own walk service (a worker thread over the same koffi binding), errors are mapped by the
 * app's one error mapping (src-main/errors/reply.ts), so the CLI says exactly what the app would.
 */
import { createWriteStream, existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { ProcessRow, SessionState, SessionSummary } from '../../src-shared/contract/model';
import {
  parseAllocatorOptions,
  defaultOptions,
  ALL_STRATEGIES,
  type AllocatorOptions,
} from '../../src-shared/alloc/options';
import {
  DEFAULT_CAPTURE_FLAGS,
  PssCaptureFlags,
  WALKABLE_CLASSES,
  type WalkableClass,
} from '../../src-shared/pss/constants';
import type { WalkEntry } from '../../src-shared/pss/entries';
import { createWalkService } from '../walk/client';
import type { WalkService } from '../walk/service';
import { listProcesses } from '../host/processes';
import { appRoot } from '../host/app';
import { toErrorReply } from '../errors/reply';
import { diffEntries } from '../host/diff';
import { TraceFileError } from '../trace/trace-file';
import { LiveTraceWriter } from '../trace/live-writer';
import { openTraceFile, type OpenedTrace } from '../trace/open-trace';
import {
  exportChrome,
  exportEntriesCsv,
  exportEventsCsv,
  exportJson,
  exportSpeedscope,
  EXPORT_FORMATS,
  type ExportFormat,
} from '../trace/export/exporters';
import { EVENT_KIND_NAMES } from '../../src-shared/events/layout';
import { EventBatchView } from '../../src-shared/events/batch';
import { Ledger } from '../../src-shared/ledger/ledger';
import { CliError, Exit, fromReply, usage, type ExitCode } from './exit-codes';
import { intArg, optionValue, type OptionSpec, type Parsed } from './args';
import { table, bytes as fmtBytes } from './text';

/** Where a command writes: stdout for results, stderr for progress and warnings. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** stderr is a terminal (progress bars only then). */
  errIsTTY: boolean;
  /** Installs a handler for SIGINT/SIGTERM for the duration of a command; returns its remover. */
  onInterrupt(fn: () => void): () => void;
}

export interface Command {
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  run(p: Parsed, io: CliIo): Promise<ExitCode>;
}

/** Version of every --json document; bumped only when a field changes meaning or goes away. */
export const JSON_VERSION = 1;
const jsonDoc = (command: string, body: Record<string, unknown>): string =>
  JSON.stringify({ schema: `pss-inspector/${command}`, version: JSON_VERSION, ...body }, null, 2) +
  '\n';

const JSON_OPT: OptionSpec = { help: 'machine-readable output (stable, versioned JSON)' };

// ---- capture flags ---------------------------------------------------------------------------

const FLAG_SETS: Record<string, number> = {
  threads: PssCaptureFlags.THREADS,
  handles:
    PssCaptureFlags.HANDLES |
    PssCaptureFlags.HANDLE_NAME_INFORMATION |
    PssCaptureFlags.HANDLE_BASIC_INFORMATION |
    PssCaptureFlags.HANDLE_TYPE_SPECIFIC_INFORMATION,
  va: PssCaptureFlags.VA_SPACE | PssCaptureFlags.VA_SPACE_SECTION_INFORMATION,
  context: PssCaptureFlags.THREADS | PssCaptureFlags.THREAD_CONTEXT,
  perf: PssCaptureFlags.CREATE_MEASURE_PERFORMANCE,
  all: DEFAULT_CAPTURE_FLAGS,
};

export function parseFlags(text: string | undefined): number {
  if (text === undefined) return DEFAULT_CAPTURE_FLAGS;
  let flags = 0;
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (/^0x[0-9a-f]+$/i.test(part)) flags |= Number(part);
    else if (FLAG_SETS[part] !== undefined) flags |= FLAG_SETS[part] as number;
    else
      throw usage(
        `unknown capture flag ${JSON.stringify(part)} (use ${Object.keys(FLAG_SETS).join(', ')} or 0x…)`,
      );
  }
  return flags >>> 0;
}

export function parseAllocator(text: string | undefined): AllocatorOptions {
  if (text === undefined)
    throw usage('--allocator is missing (heap, arena, pool, guard, faulty, or JSON options)');
  let value: unknown;
  if ((ALL_STRATEGIES as readonly string[]).includes(text))
    value = defaultOptions(text as (typeof ALL_STRATEGIES)[number]);
  else {
    try {
      value = JSON.parse(text);
    } catch {
      throw usage(
        `--allocator ${JSON.stringify(text)} is neither a strategy name (${ALL_STRATEGIES.join(', ')}) nor JSON options`,
      );
    }
  }
  const r = parseAllocatorOptions(value);
  if (!r.ok) throw usage(`--allocator: ${r.error}`);
  return r.value;
}

function parseClasses(text: string | undefined): WalkableClass[] {
  if (text === undefined) return WALKABLE_CLASSES.filter((c) => c !== 'AUXILIARY_PAGES');
  const out: WalkableClass[] = [];
  for (const part of text
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean)) {
    const cls = (part === 'VA' ? 'VA_SPACE' : part) as WalkableClass;
    if (!(WALKABLE_CLASSES as readonly string[]).includes(cls))
      throw usage(
        `unknown walk class ${JSON.stringify(part)} (use threads, handles, va, auxiliary_pages)`,
      );
    if (!out.includes(cls)) out.push(cls);
  }
  if (out.length === 0) throw usage('--classes names no class');
  return out;
}

/** The target's name from /proc (empty when gone or unreadable), as the app's host reads it. */
function processName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

async function withWalkService<T>(fn: (w: WalkService) => Promise<T>): Promise<T> {
  const w = createWalkService();
  try {
    return await fn(w);
  } finally {
    await w.close();
  }
}

/** Runs a walk-service call; its failure becomes the app's error line and an exit code. */
async function service<T>(p: Promise<T>, context: 'capture' | 'session'): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw fromReply(toErrorReply(e), context);
  }
}

function openTrace(path: string | undefined): OpenedTrace {
  if (path === undefined) throw usage('the trace FILE is missing');
  if (!existsSync(path)) throw new CliError(Exit.FILE, `${path}: no such file`, 'Check the path.');
  if (statSync(path).isDirectory())
    throw new CliError(Exit.FILE, `${path} is a directory`, 'Give a trace file.');
  try {
    return openTraceFile(path);
  } catch (e) {
    if (e instanceof TraceFileError)
      throw new CliError(
        Exit.CORRUPT,
        `${path}: ${e.message}`,
        'The file is not a trace, or it is damaged before any event.',
      );
    const code = (e as { code?: string }).code;
    if (typeof code === 'string')
      throw new CliError(
        Exit.FILE,
        `${path}: ${(e as Error).message}`,
        'Check the file and its permissions.',
      );
    throw e;
  }
}

/** Warns about a damaged or unfinished file; returns the exit code that reports it. */
function damageWarning(t: OpenedTrace, path: string, io: CliIo): ExitCode {
  if (!t.damage) return Exit.OK;
  io.err(
    `pss-inspector: warning: ${path}: ${t.damage.message} (at byte ${t.damage.offset}); using the ${t.eventCount} events before it\n`,
  );
  return Exit.PARTIAL;
}

/** "permission denied reading its memory map (/proc/PID/maps): run as…" → "permission denied". */
const shortReason = (reason: string | undefined): string =>
  (reason ?? 'unknown')
    .split(/[:(]/)[0]
    ?.trim()
    .replace(/ reading.*$/, '') || 'unknown';

// ---- ps --------------------------------------------------------------------------------------

const ps: Command = {
  summary: 'list processes (with what the inspector may read)',
  usage: 'pss-inspector ps [--tree] [--json]',
  options: { tree: { help: 'show parent/child structure' }, json: JSON_OPT },
  async run(p, io) {
    const rows = await listProcesses();
    if (p.flags.has('json')) {
      io.out(jsonDoc('ps', { processes: rows }));
      return Exit.OK;
    }
    const ordered: { row: ProcessRow; depth: number }[] = [];
    if (p.flags.has('tree')) {
      const pids = new Set(rows.map((r) => r.pid));
      const children = new Map<number, ProcessRow[]>();
      for (const r of rows) {
        const parent = pids.has(r.ppid) && r.ppid !== r.pid ? r.ppid : 0;
        children.set(parent, [...(children.get(parent) ?? []), r]);
      }
      const visit = (pid: number, depth: number): void => {
        for (const r of (children.get(pid) ?? []).sort((a, b) => a.pid - b.pid)) {
          ordered.push({ row: r, depth });
          visit(r.pid, depth + 1);
        }
      };
      visit(0, 0);
    } else for (const r of rows) ordered.push({ row: r, depth: 0 });
    io.out(
      table(
        ['PID', 'PPID', 'USER', 'THR', 'RSS', 'INSPECT', 'COMMAND'],
        ordered.map(({ row: r, depth }) => [
          String(r.pid),
          String(r.ppid),
          r.user,
          String(r.threads),
          fmtBytes(r.rssBytes),
          r.inspectable ? 'yes' : `no (${shortReason(r.reason)})`,
          '  '.repeat(depth) + (r.commandLine || `[${r.name}]`),
        ]),
        { right: [0, 1, 3, 4] },
      ),
    );
    return Exit.OK;
  },
};

// ---- capture ---------------------------------------------------------------------------------

const capture: Command = {
  summary: 'capture a process and print its information, threads, handles and regions',
  usage:
    'pss-inspector capture PID [--flags threads,handles,va,context,perf,all|0xHEX] [--json|--table]',
  options: {
    flags: {
      value: true,
      arg: 'LIST',
      help: 'what to capture (default: all, without thread context)',
    },
    json: JSON_OPT,
    table: { help: 'human-readable tables (the default)' },
  },
  async run(p, io) {
    const pid = intArg(p.positionals[0], 'PID');
    if (p.flags.has('json') && p.flags.has('table'))
      throw usage('--json and --table exclude each other');
    const flags = parseFlags(optionValue(p, 'flags'));
    return withWalkService(async (walk) => {
      const snap = await service(walk.capture(pid, flags), 'capture');
      const lists: Record<string, WalkEntry[]> = {};
      for (const cls of ['THREADS', 'HANDLES', 'VA_SPACE'] as const) {
        const count =
          cls === 'THREADS'
            ? snap.counts.threads
            : cls === 'HANDLES'
              ? snap.counts.handles
              : snap.counts.regions;
        lists[cls] =
          count === null ? [] : await service(walk.allEntries(snap.snapshotId, cls), 'capture');
      }
      await walk.freeSnapshot(snap.snapshotId);
      const { snapshotId: _drop, ...info } = snap;
      if (p.flags.has('json')) {
        io.out(
          jsonDoc('capture', {
            snapshot: info,
            threads: lists['THREADS'],
            handles: lists['HANDLES'],
            regions: lists['VA_SPACE'],
          }),
        );
        return Exit.OK;
      }
      const pi = snap.process;
      io.out(
        `process ${pi.processId} (${snap.processName || pi.imageFileName}) parent ${pi.parentProcessId}\n` +
          `captured in ${snap.captureMs.toFixed(2)} ms: ` +
          `${snap.counts.threads ?? 'n/a'} threads, ${snap.counts.handles ?? 'n/a'} handles, ${snap.counts.regions ?? 'n/a'} regions\n` +
          `virtual ${fmtBytes(pi.virtualSize)}, working set ${fmtBytes(pi.workingSetSize)}, private ${fmtBytes(pi.privateUsage)}\n`,
      );
      const threads = lists['THREADS'] as Extract<WalkEntry, { kind: 'thread' }>[];
      if (threads.length)
        io.out(
          '\nTHREADS\n' +
            table(
              ['TID', 'PRIO', 'BASE', 'FLAGS', 'SUSP', 'CONTEXT RIP'],
              threads.map((t) => [
                String(t.threadId),
                String(t.priority),
                String(t.basePriority),
                `0x${t.flags.toString(16)}`,
                String(t.suspendCount),
                t.context?.rip ?? 'n/a (no context captured)',
              ]),
              { right: [0, 1, 2, 4] },
            ),
        );
      const handles = lists['HANDLES'] as Extract<WalkEntry, { kind: 'handle' }>[];
      if (handles.length)
        io.out(
          '\nHANDLES\n' +
            table(
              ['FD', 'TYPE', 'ACCESS', 'COUNT', 'NAME'],
              handles.map((h) => [
                String(h.handle),
                h.typeName,
                `0x${h.grantedAccess.toString(16).padStart(8, '0')}`,
                String(h.handleCount),
                h.objectName,
              ]),
              { right: [0, 3] },
            ),
        );
      const regions = lists['VA_SPACE'] as Extract<WalkEntry, { kind: 'region' }>[];
      if (regions.length)
        io.out(
          '\nREGIONS\n' +
            table(
              ['BASE', 'SIZE', 'STATE', 'TYPE', 'PROTECT', 'FILE'],
              regions.map((r) => [
                r.baseAddress,
                fmtBytes(r.regionSize),
                `0x${r.state.toString(16)}`,
                `0x${r.type.toString(16)}`,
                `0x${r.protect.toString(16)}`,
                r.mappedFileName,
              ]),
              { right: [1] },
            ),
        );
      return Exit.OK;
    });
  },
};

// ---- walk ------------------------------------------------------------------------------------

const walkCmd: Command = {
  summary: 'capture a process and walk it with a traced allocator, streaming the trace to a file',
  usage:
    'pss-inspector walk PID --allocator SPEC --out FILE [--classes threads,handles,va] [--passes N] [--flags LIST] [--on-failure stop|retry] [--json]',
  options: {
    allocator: {
      value: true,
      arg: 'SPEC',
      help: 'heap | arena | pool | guard | faulty | JSON allocator options',
    },
    out: {
      value: true,
      arg: 'FILE',
      help: 'trace file to write (version 2, streamed while recording)',
    },
    classes: {
      value: true,
      arg: 'LIST',
      help: 'walk classes in order (default threads,handles,va)',
    },
    passes: {
      value: true,
      arg: 'N',
      help: 'walk every class N times, seeking to the beginning between passes',
    },
    flags: { value: true, arg: 'LIST', help: 'capture flags (see capture)' },
    'on-failure': {
      value: true,
      arg: 'POLICY',
      help: 'stop (default) or retry when the allocator returns NULL',
    },
    json: JSON_OPT,
  },
  async run(p, io) {
    const pid = intArg(p.positionals[0], 'PID');
    const allocator = parseAllocator(optionValue(p, 'allocator'));
    const out = optionValue(p, 'out');
    if (!out) throw usage('--out FILE is missing');
    const classes = parseClasses(optionValue(p, 'classes'));
    const passes =
      optionValue(p, 'passes') === undefined
        ? 1
        : intArg(optionValue(p, 'passes'), '--passes', 1, 1000);
    const flags = parseFlags(optionValue(p, 'flags'));
    const policy = optionValue(p, 'on-failure') ?? 'stop';
    if (policy !== 'stop' && policy !== 'retry') throw usage('--on-failure must be stop or retry');
    // The trace is encoded, compressed and written by a worker thread of its own; at most the
    // batch being written is not on disk yet (src-main/trace/live-writer.ts).
    let writer: LiveTraceWriter;
    try {
      writer = new LiveTraceWriter(out, {
        pid,
        processName: processName(pid),
        flags,
        allocator,
        classes,
        passes,
        createdAt: new Date().toISOString(),
        recordedBy: 'pss-inspector walk',
      });
    } catch (e) {
      throw new CliError(
        Exit.FILE,
        `${out}: ${(e as Error).message}`,
        'Check the folder exists and is writable.',
      );
    }
    return withWalkService(async (walk) => {
      const sessionId = 'cli-walk';
      let last: SessionState | null = null;
      let summary: SessionSummary | null = null;
      let writeError: Error | null = null;
      const progress = new Progress(io);
      const failWrite = (e: unknown): void => {
        writeError ??= e as Error;
        void walk.control(sessionId, 'cancel', {}).catch(() => undefined);
      };
      const stopInterrupt = io.onInterrupt(() => {
        io.err(
          '\npss-inspector: interrupted: cancelling the walk; the trace keeps what was recorded\n',
        );
        void walk.control(sessionId, 'cancel', {}).catch(() => undefined);
      });
      // Settles when the session has ended (its summary arrived) or could not start.
      const outcome = await new Promise<{ started: true } | { started: false; error: unknown }>(
        (resolve) => {
          const sink = {
            events(firstSeq: number, batch: ArrayBuffer) {
              if (writeError) return;
              try {
                writer.appendEvents(firstSeq, batch); // one write per batch: streamed as it comes
              } catch (e) {
                failWrite(e);
              }
            },
            entries(cls: WalkableClass, start: number, entries: WalkEntry[]) {
              if (writeError) return;
              try {
                writer.appendEntries(cls, start, entries);
              } catch (e) {
                failWrite(e);
              }
            },
            state(s: SessionState) {
              last = s;
              progress.update(s);
            },
            summary(s: SessionSummary) {
              summary = s;
              resolve({ started: true });
            },
            // The walk worker died: the session ends failed, without a summary.
            lost(s: SessionState) {
              last = s;
              progress.update(s);
              resolve({ started: true });
            },
          };
          walk
            .startSession(
              sessionId,
              {
                pid,
                flags,
                allocator,
                classes,
                pace: { mode: 'run' },
                onAllocFailure: policy,
                passes,
              },
              sink,
            )
            .then((s) => {
              last ??= s;
            })
            .catch((error: unknown) => resolve({ started: false, error }));
        },
      );
      stopInterrupt();
      progress.end();
      if (!outcome.started) {
        await writer.abandon();
        throw fromReply(toErrorReply(outcome.error), 'capture');
      }
      if (writeError) {
        await writer.abandon();
        throw new CliError(
          Exit.FILE,
          `${out}: ${(writeError as Error).message}`,
          'The trace file could not be written (is the disk full?); it holds the events before the failure.',
        );
      }
      try {
        await writer.finish(summary);
      } catch (e) {
        throw new CliError(
          Exit.FILE,
          `${out}: ${(e as Error).message}`,
          'The trace could not be finished; it opens as an unfinished recording.',
        );
      }
      const state = last as SessionState | null;
      const s = summary as SessionSummary | null;
      if (state?.state === 'failed' && state.error) throw fromReply(state.error, 'session');
      if (p.flags.has('json')) io.out(jsonDoc('walk', { file: out, state, summary: s }));
      else
        io.out(
          `${out}: ${s?.events ?? writer.eventCount} events, ${s?.allocations ?? 0} allocations, ${s?.frees ?? 0} frees, ` +
            `${s?.allocationFailures ?? 0} failed, peak live ${fmtBytes(s?.peakLiveBytes ?? 0)}, ${fmtBytes(writer.bytesWritten)} on disk\n`,
        );
      return state?.state === 'cancelled' ? Exit.INTERRUPTED : Exit.OK;
    });
  },
};

/** A one-line progress bar on stderr, only when stderr is a terminal. */
class Progress {
  private shown = false;
  private lastDraw = 0;
  constructor(private readonly io: CliIo) {}
  update(s: SessionState): void {
    if (!this.io.errIsTTY) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && s.state === 'running') return;
    this.lastDraw = now;
    const total = s.classes.reduce((n, c) => n + (c.total ?? 0), 0) * Math.max(1, s.passes);
    const walked =
      s.classes.reduce((n, c) => n + c.walked, 0) + s.pass * (total / Math.max(1, s.passes));
    const frac = total > 0 ? Math.min(1, walked / total) : 0;
    const width = 30;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    this.io.err(
      `\r[${bar}] ${(frac * 100).toFixed(0).padStart(3)}%  pass ${s.pass + 1}/${s.passes}  ${s.eventsStored} events  ${s.state}   `,
    );
    this.shown = true;
  }
  end(): void {
    if (this.shown) this.io.err('\n');
    this.shown = false;
  }
}

// ---- summary ---------------------------------------------------------------------------------

/**
 * The trace's numbers, counted the one way (src-shared/ledger) from the events the file holds,
 * so an unfinished or damaged recording still tells what it recorded; the walk's own facts
 * (entries walked, durations, strategy facts) come from the file's summary when it has one.
 */
function traceTotals(t: OpenedTrace): {
  kinds: Record<string, number>;
  summary: SessionSummary;
  walkFacts: boolean;
} {
  const counts: Record<string, number> = {};
  const ledger = new Ledger();
  t.forEachBatch((_f, records) => {
    const v = new EventBatchView(records);
    for (let i = 0; i < v.count; i++) {
      const k = EVENT_KIND_NAMES[v.kind(i)] ?? String(v.kind(i));
      counts[k] = (counts[k] ?? 0) + 1;
    }
    ledger.fold(v, 0, v.count);
  });
  const file = t.summary() as Partial<SessionSummary> | null;
  const summary: SessionSummary = {
    sessionId: typeof file?.sessionId === 'string' ? file.sessionId : '',
    entriesWalked: file?.entriesWalked ?? {},
    durations: file?.durations ?? { captureMs: 0, walkMs: 0, totalMs: 0 },
    strategy: file?.strategy ?? null,
    callbackErrors: typeof file?.callbackErrors === 'number' ? file.callbackErrors : 0,
    ...ledger.summary(),
  };
  return { kinds: counts, summary, walkFacts: file !== null };
}

const summaryCmd: Command = {
  summary: "print a trace file's session and totals",
  usage: 'pss-inspector summary FILE [--at N] [--json]',
  options: {
    at: {
      value: true,
      arg: 'N',
      help: 'the state after the first N events instead (rebuilt from the nearest ledger checkpoint)',
    },
    json: JSON_OPT,
  },
  async run(p, io) {
    const path = p.positionals[0];
    const t = openTrace(path);
    try {
      const code = damageWarning(t, path as string, io);
      if (optionValue(p, 'at') !== undefined) {
        const n = intArg(optionValue(p, 'at'), '--at', 0, t.eventCount);
        const { ledger, checkpoint } = t.stateAt(n);
        const s = ledger.summary();
        if (p.flags.has('json'))
          io.out(
            jsonDoc('state', {
              file: path,
              formatVersion: t.version,
              complete: t.damage === null,
              events: t.eventCount,
              at: n,
              fromCheckpoint: checkpoint,
              state: s,
            }),
          );
        else
          io.out(
            `${path}: state after ${n} of ${t.eventCount} events (${checkpoint === null ? 'folded from the start' : `from the checkpoint at event ${checkpoint}`})\n` +
              `allocations ${s.allocations} (${fmtBytes(s.bytesAllocated)}), frees ${s.frees} (${fmtBytes(s.bytesFreed)}), ` +
              `failed ${s.allocationFailures}, peak live ${fmtBytes(s.peakLiveBytes)}, live ${s.liveBlocks} blocks (${fmtBytes(s.liveBytes)}), problems ${s.problems}\n`,
          );
        return code;
      }
      const { kinds, summary, walkFacts } = traceTotals(t);
      if (p.flags.has('json')) {
        io.out(
          jsonDoc('summary', {
            file: path,
            formatVersion: t.version,
            complete: t.damage === null,
            damage: t.damage,
            session: t.session,
            events: t.eventCount,
            eventsByKind: kinds,
            summary,
          }),
        );
        return code;
      }
      const s = t.session;
      io.out(
        `${path}: trace version ${t.version}, ${t.damage ? 'INCOMPLETE' : 'complete'}\n` +
          `process ${String(s['pid'] ?? 'n/a')} ${String(s['processName'] ?? '')}, allocator ${JSON.stringify(s['allocator'] ?? null)}\n` +
          `${t.eventCount} events: ${Object.entries(kinds)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')}\n`,
      );
      io.out(
        `allocations ${summary.allocations} (${fmtBytes(summary.bytesAllocated)}), frees ${summary.frees} (${fmtBytes(summary.bytesFreed)}), ` +
          `failed ${summary.allocationFailures}, peak live ${fmtBytes(summary.peakLiveBytes)}, outstanding ${summary.liveBlocks} blocks (${fmtBytes(summary.liveBytes)})\n` +
          `problems ${summary.problems}: ${
            Object.entries(summary.problemsByKind)
              .filter(([, n]) => n > 0)
              .map(([k, n]) => `${k} ${n}`)
              .join(', ') || 'none'
          }\n`,
      );
      if (!walkFacts)
        io.out(
          'walk facts: n/a (the recording did not finish, so no final summary was written; the counts above are from its events)\n',
        );
      return code;
    } finally {
      t.close();
    }
  },
};

// ---- diff ------------------------------------------------------------------------------------

const NUMERIC_SUMMARY: (keyof SessionSummary)[] = [
  'events',
  'allocations',
  'allocationFailures',
  'frees',
  'freeNulls',
  'bytesAllocated',
  'bytesFreed',
  'peakLiveBytes',
  'liveBlocks',
  'liveBytes',
  'problems',
];

const diffCmd: Command = {
  summary: 'compare two trace files: totals and walked entries',
  usage: 'pss-inspector diff A B [--json]',
  options: { json: JSON_OPT },
  async run(p, io) {
    const [pa, pb] = p.positionals;
    if (pb === undefined) throw usage('diff needs two trace files');
    const a = openTrace(pa);
    try {
      const b = openTrace(pb);
      try {
        let code: ExitCode = damageWarning(a, pa as string, io);
        if (damageWarning(b, pb, io) !== Exit.OK) code = Exit.PARTIAL;
        const sa = traceTotals(a).summary;
        const sb = traceTotals(b).summary;
        const totals = NUMERIC_SUMMARY.map((k) => {
          const va = sa ? (sa[k] as number) : null;
          const vb = sb ? (sb[k] as number) : null;
          return { field: k, a: va, b: vb, delta: va !== null && vb !== null ? vb - va : null };
        });
        const ea = a.entries();
        const eb = b.entries();
        const entries: Record<
          string,
          { added: number; removed: number; changed: number; unchanged: number; rows: unknown[] }
        > = {};
        for (const cls of ['THREADS', 'HANDLES', 'VA_SPACE']) {
          const d = diffEntries(
            (ea.get(cls) ?? []) as WalkEntry[],
            (eb.get(cls) ?? []) as WalkEntry[],
          );
          entries[cls] = {
            added: d.rows.filter((r) => r.change === 'added').length,
            removed: d.rows.filter((r) => r.change === 'removed').length,
            changed: d.rows.filter((r) => r.change === 'changed').length,
            unchanged: d.unchanged,
            rows: d.rows.map((r) => ({ change: r.change, key: r.key, fields: r.fields })),
          };
        }
        if (p.flags.has('json')) {
          io.out(jsonDoc('diff', { a: pa, b: pb, totals, entries }));
          return code;
        }
        io.out(
          table(
            ['TOTAL', 'A', 'B', 'CHANGE'],
            totals.map((t) => [
              t.field,
              t.a === null ? 'n/a' : String(t.a),
              t.b === null ? 'n/a' : String(t.b),
              t.delta === null ? 'n/a' : (t.delta > 0 ? '+' : '') + String(t.delta),
            ]),
            { right: [1, 2, 3] },
          ),
        );
        for (const [cls, e] of Object.entries(entries)) {
          io.out(
            `\n${cls}: ${e.added} added, ${e.removed} removed, ${e.changed} changed, ${e.unchanged} unchanged\n`,
          );
          for (const r of e.rows.slice(0, 50) as {
            change: string;
            key: string;
            fields: string[];
          }[])
            io.out(
              `  ${r.change.padEnd(7)} ${r.key}${r.fields.length ? ` (${r.fields.join(', ')})` : ''}\n`,
            );
          if (e.rows.length > 50) io.out(`  … ${e.rows.length - 50} more (use --json for all)\n`);
        }
        return code;
      } finally {
        b.close();
      }
    } finally {
      a.close();
    }
  },
};

// ---- export ----------------------------------------------------------------------------------

const exportCmd: Command = {
  summary:
    'convert a trace for other tools: chrome (Perfetto, chrome://tracing), speedscope, csv, json',
  usage:
    'pss-inspector export FILE --format chrome|speedscope|csv|json [--table events|threads|handles|va] [--out OUT]',
  options: {
    format: { value: true, arg: 'FORMAT', help: EXPORT_FORMATS.join(' | ') },
    table: {
      value: true,
      arg: 'TABLE',
      help: 'csv only: events (default), threads, handles or va',
    },
    out: { value: true, arg: 'OUT', help: 'write here instead of standard output' },
  },
  async run(p, io) {
    const path = p.positionals[0];
    const format = optionValue(p, 'format') as ExportFormat | undefined;
    if (!format || !(EXPORT_FORMATS as readonly string[]).includes(format))
      throw usage(`--format must be one of ${EXPORT_FORMATS.join(', ')}`);
    const tableName = optionValue(p, 'table') ?? 'events';
    const tables: Record<string, string | null> = {
      events: null,
      threads: 'THREADS',
      handles: 'HANDLES',
      va: 'VA_SPACE',
    };
    if (!(tableName in tables)) throw usage('--table must be events, threads, handles or va');
    if (optionValue(p, 'table') && format !== 'csv')
      throw usage('--table applies to --format csv only');
    const t = openTrace(path);
    try {
      const code = damageWarning(t, path as string, io);
      const target = optionValue(p, 'out');
      let write: (s: string) => void = (s) => io.out(s);
      let stream: ReturnType<typeof createWriteStream> | null = null;
      let streamError: Error | null = null;
      if (target) {
        stream = createWriteStream(target);
        stream.on('error', (e) => (streamError = e));
        write = (s) => {
          stream?.write(s);
        };
      }
      switch (format) {
        case 'chrome':
          exportChrome(t, write);
          break;
        case 'speedscope':
          exportSpeedscope(t, write);
          break;
        case 'json':
          exportJson(t, write);
          break;
        case 'csv': {
          const cls = tables[tableName];
          if (cls) exportEntriesCsv(t, cls, write);
          else exportEventsCsv(t, write);
          break;
        }
      }
      if (stream) {
        stream.end();
        await Promise.race([once(stream, 'finish'), once(stream, 'error')]).catch(() => undefined);
        if (streamError)
          throw new CliError(
            Exit.FILE,
            `${target}: ${(streamError as Error).message}`,
            'Check the folder exists and is writable.',
          );
      }
      return code;
    } finally {
      t.close();
    }
  },
};

// ---- open ------------------------------------------------------------------------------------

/**
 * How the app is started on a trace: the packaged app's executable ($PSS_INSPECTOR_APP, which
 * the packaged folder's launcher sets: packaging/cli), the checkout's launcher (scripts/start.mjs:
 * the Electron window, or web mode where Electron is missing or --web is asked), else the
 * bundled web mode.
 */
export function appLaunch(
  root: string,
  file: string,
  web: boolean,
  port: string | undefined,
  packagedApp: string | undefined = process.env['PSS_INSPECTOR_APP'],
): { command: string; args: string[] } | string {
  if (!web && packagedApp) return { command: packagedApp, args: ['--open', file] };
  const launcher = join(root, 'scripts', 'start.mjs');
  const webEntry = join(root, 'out', 'main', 'web.js');
  const appEntry = join(root, 'out', 'main', 'index.js');
  const need = web ? webEntry : appEntry;
  if (!existsSync(need)) return `${need} is missing`;
  const appArgs = ['--open', file, ...(port !== undefined ? ['--port', port] : [])];
  if (existsSync(launcher))
    return {
      command: process.execPath,
      args: [launcher, '--no-build', ...(web ? ['--web'] : []), ...appArgs],
    };
  if (!existsSync(webEntry)) return `${webEntry} is missing`;
  return { command: process.execPath, args: [webEntry, ...appArgs] };
}

const openCmd: Command = {
  summary: 'start the app (or web mode) on a trace file',
  usage: 'pss-inspector open FILE [--web] [--port N]',
  options: {
    web: { help: 'web mode: serve the app on 127.0.0.1 and print its URL (no window)' },
    port: { value: true, arg: 'N', help: 'web mode port (default: any free port)' },
  },
  async run(p, io) {
    const path = p.positionals[0];
    // Checked here, so a bad file is one line and its exit code, not an app that shows an error.
    const t = openTrace(path);
    const code = damageWarning(t, path as string, io);
    t.close();
    const port = optionValue(p, 'port');
    if (port !== undefined) intArg(port, '--port', 0, 65535);
    const web = p.flags.has('web');
    const launch = appLaunch(appRoot(), resolve(path as string), web, port);
    if (typeof launch === 'string')
      throw new CliError(
        Exit.FILE,
        `the app is not built: ${launch}`,
        'Run `npm run build` in the checkout first.',
      );
    io.err(
      `pss-inspector: opening ${path} in ${web ? 'web mode' : 'the app (web mode where Electron is missing)'}…\n`,
    );
    const child = spawn(launch.command, launch.args, { stdio: ['pipe', 'inherit', 'inherit'] });
    // The app ends with this command: a signal is passed on; if this process dies, the
    // launcher's stdin closes and it stops what it started.
    const stop = io.onInterrupt(() => child.kill('SIGTERM'));
    try {
      const [exit, signal] = (await once(child, 'exit')) as [number | null, string | null];
      if (signal === 'SIGTERM' || signal === 'SIGINT') return code;
      if (exit === 0 || exit === null) return code;
      throw new CliError(Exit.FAILURE, `the app exited with code ${exit}`, 'See its output above.');
    } finally {
      stop();
    }
  },
};

export const COMMANDS: Record<string, Command> = {
  ps,
  capture,
  walk: walkCmd,
  summary: summaryCmd,
  diff: diffCmd,
  export: exportCmd,
  open: openCmd,
};

export const commandName = (path: string): string => basename(path);
