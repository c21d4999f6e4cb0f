/**
 * Walks with a user allocator library run in a child process (./walk-child.ts: the same
 * WalkCore as the worker), so that a library that crashes ends its session, never the app.
 * The child's native event ring lives in a file mapped shared: when the child dies, the
 * records that continue the ones delivered are read from that file by their seqs (also a batch
 * the child had drained but not sent when it died), delivered as the session's last batch, and
 * the session ends 'failed' with the signal, its last events and exactly how many events were
 * lost (the file's count of events written against those delivered and recovered); its
 * summary is the ledger (src-shared/ledger) folded over exactly the events delivered.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, constants as osConstants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventBatchView } from '../../src-shared/events/batch';
import {
  API_CALL_NAMES,
  EVENT_KIND_NAMES,
  EVENT_SIZE,
  isCallEnding,
} from '../../src-shared/events/layout';
import { Ledger } from '../../src-shared/ledger/ledger';
import type { ErrorReply, SessionState, SessionSummary } from '../../src-shared/contract/model';
import { recoverRing, type RingRecovery } from '../pss/ring-format';
import { WalkServiceError } from '../errors/reply';
import { failedState, startingState } from '../../src-shared/contract/session-state';
import type { FromWorker, ToWorker, WorkerCall, WorkerOp } from './protocol';
import { checkFromWorker } from './protocol-check';
import type {
  SessionAction,
  SessionControlArgs,
  SessionSink,
  StartSessionOptions,
} from './service';

/** A call that found the child's channel already closed (its exit report follows). */
const CHANNEL_GONE: ErrorReply = {
  kind: 'internal',
  code: null,
  codeName: null,
  message: 'the walk’s own process is gone',
  hint: 'Start the session again.',
};

/** How many of the last events a crash report names. */
const LAST_EVENTS = 6;
/** Bytes of the child's stderr kept for a crash report. */
const STDERR_TAIL = 2048;

/** How to start the child: the built walk-child.js, or the .ts source through tsx. */
function childEntry(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    return {
      file: join(dirname(here), 'walk-child.ts'),
      execArgv: ['--import', import.meta.resolve('tsx/esm')],
    };
  }
  for (const dir of [dirname(here), join(dirname(here), '..')]) {
    const file = join(dir, 'walk-child.js');
    if (existsSync(file)) return { file, execArgv: [] };
  }
  throw new Error(`walk-child.js not found next to ${here}; run "electron-vite build"`);
}

function signalText(signal: NodeJS.Signals): string {
  const names: Partial<Record<NodeJS.Signals, string>> = {
    SIGSEGV: 'segmentation fault',
    SIGBUS: 'bus error',
    SIGABRT: 'abort',
    SIGILL: 'illegal instruction',
    SIGFPE: 'arithmetic error',
    SIGKILL: 'killed',
  };
  const n = osConstants.signals[signal];
  return `${signal}${n !== undefined ? ` (${n}` : ''}${names[signal] ? `, ${names[signal]}` : ''}${n !== undefined ? ')' : ''}`;
}

/** The last few events delivered, as text (for a crash report). */
class LastEvents {
  lines: string[] = [];

  add(batch: ArrayBuffer): void {
    const v = new EventBatchView(batch);
    for (let i = Math.max(0, v.count - LAST_EVENTS); i < v.count; i++) {
      const k = v.kind(i);
      const size = v.size(i);
      const addr = v.addressNumber(i);
      this.lines.push(
        `#${v.seq(i)} ${EVENT_KIND_NAMES[k] ?? k} in ${API_CALL_NAMES[v.api(i)] ?? v.api(i)}` +
          (size > 0 ? (isCallEnding(k) ? ` (the call took ${size} ns)` : ` size ${size}`) : '') +
          (addr !== 0 ? ` at 0x${addr.toString(16)}` : ''),
      );
    }
    if (this.lines.length > LAST_EVENTS) this.lines = this.lines.slice(-LAST_EVENTS);
  }
}

/** What a crash report says about the events the child wrote and the app did not receive. */
export function lossText(r: RingRecovery | null, delivered: number): string {
  const recovered = r ? r.records.byteLength / EVENT_SIZE : 0;
  const from =
    recovered > 0
      ? ` (${recovered} of them recovered from its ring file after the crash)`
      : ' (none had to be recovered from its ring file)';
  if (!r || r.written === null || r.lost === null)
    return `How many events were lost is unknown: its event ring file could not be read; ${delivered + recovered} events were delivered.`;
  if (r.lost === 0) return `No events were lost: all ${r.written} it wrote were delivered${from}.`;
  const first = delivered + recovered;
  const range = r.lost === 1 ? `seq ${first}` : `seqs ${first}–${first + r.lost - 1}`;
  return (
    `${r.lost} of the ${r.written} events it wrote were lost (${range}): it had taken them out of its ring but died before sending them, and the ring no longer held them` +
    (r.lostAfterGap > 0
      ? `; ${r.lostAfterGap} of them were still in the ring but after that gap, so they are not shown`
      : '') +
    `. The ${first} delivered events${recovered > 0 ? `, ${recovered} of them recovered from its ring file,` : ''} are complete up to there.`
  );
}

export class ChildWalk {
  private readonly child: ChildProcess;
  private readonly dir: string;
  private readonly ringFile: string;
  private nextCallId = 1;
  private readonly pending = new Map<
    number,
    { op: WorkerOp; resolve(v: SessionState): void; reject(e: unknown): void }
  >();
  /** Every event delivered, folded: a crashed session's summary. */
  private readonly ledger = new Ledger();
  private readonly last = new LastEvents();
  private lastState: SessionState | null = null;
  private ended = false;
  private stderr = '';
  private readonly t0 = performance.now();

  constructor(
    readonly sessionId: string,
    private readonly options: StartSessionOptions,
    private readonly sink: SessionSink,
    private readonly onDone: (sessionId: string) => void,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'pss-walk-'));
    this.ringFile = join(this.dir, 'ring');
    writeFileSync(this.ringFile, '', { mode: 0o600 });
    const entry = childEntry();
    this.child = fork(entry.file, [], {
      execArgv: entry.execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    this.child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString('utf8')).slice(-STDERR_TAIL);
    });
    // Checked at the boundary: a malformed message ends the child, reported as its crash.
    this.child.on('message', (m: unknown) => {
      const checked = checkFromWorker(m, (id) => this.pending.get(id)?.op);
      if (checked.ok) return this.onMessage(checked.message);
      this.stderr = `${this.stderr}\n[inspector] the walk process sent ${checked.problem}`.slice(
        -STDERR_TAIL,
      );
      this.kill();
    });
    this.child.on('exit', (code, signal) => this.onExit(code, signal));
    this.child.on('error', () => undefined); // 'exit' follows and reports
  }

  private call(call: WorkerCall): Promise<SessionState> {
    const id = this.nextCallId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { op: call.op, resolve, reject });
      const m: ToWorker = { t: 'call', id, call };
      if (!this.child.connected) {
        this.pending.delete(id);
        resolve(this.lastState ?? this.stateAfterCrash(CHANNEL_GONE));
        return;
      }
      this.child.send(m, (e) => {
        if (!e) return;
        this.pending.delete(id);
        resolve(this.lastState ?? this.stateAfterCrash(CHANNEL_GONE));
      });
    });
  }

  start(): Promise<SessionState> {
    return this.call({
      op: 'startSession',
      sessionId: this.sessionId,
      options: { ...this.options, ringFile: this.ringFile },
    });
  }

  control(action: SessionAction, args: SessionControlArgs): Promise<SessionState> {
    if (this.ended) return Promise.resolve(this.lastState as SessionState);
    return this.call({ op: 'control', sessionId: this.sessionId, action, args });
  }

  /** Ends the child now (the walk service is closing). */
  kill(): void {
    if (!this.ended && this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  private onMessage(m: FromWorker): void {
    switch (m.t) {
      case 'result': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (!m.ok) p.reject(new WalkServiceError(m.error));
        else if (m.op === 'startSession' || m.op === 'control') p.resolve(m.value);
        return;
      }
      case 'events':
        this.deliver(m.firstSeq, m.batch);
        return;
      case 'entries':
        this.sink.entries(m.cls, m.startIndex, m.entries);
        return;
      case 'state':
        this.lastState = m.state;
        this.sink.state(m.state);
        return;
      case 'summary':
        this.ended = true;
        this.sink.summary(m.summary);
        this.finish();
        // The child exits when its channel closes.
        this.child.disconnect();
        return;
    }
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.ended) return;
    this.ended = true;
    // What the child wrote but the app did not receive is in the ring file, while it holds it.
    const delivered = this.ledger.events;
    let found: RingRecovery | null = null;
    try {
      const file = readFileSync(this.ringFile);
      found = recoverRing(new Uint8Array(file.buffer, file.byteOffset, file.byteLength), delivered);
      if (found.records.byteLength >= EVENT_SIZE) {
        const batch = found.records.slice().buffer;
        new EventBatchView(batch).validate(delivered); // seqs go on from the delivered ones
        this.deliver(delivered, batch);
      }
    } catch {
      // no ring file, or records that do not continue the delivered ones: none recovered
      if (found) found = { ...found, records: new Uint8Array(0), lost: null };
    }
    const how =
      signal !== null
        ? `was killed by ${signalText(signal)}`
        : `exited with code ${code ?? 'unknown'}`;
    const lib =
      this.options.allocator.strategy === 'user'
        ? this.options.allocator.libraryPath
        : this.options.allocator.strategy === 'faulty' &&
            this.options.allocator.inner.strategy === 'user'
          ? this.options.allocator.inner.libraryPath
          : 'the allocator';
    const error: ErrorReply = {
      kind: 'internal',
      code: null,
      codeName: null,
      message: `The walk with the user allocator library ${lib} crashed: its process ${how}. ${lossText(found, delivered)} Last events: ${this.last.lines.length > 0 ? this.last.lines.join('; ') : 'none'}.`,
      hint:
        'The app is unaffected: only the walk’s own process ended. Check the library against the rules in docs/user-allocator.md (FreeRoutine must accept NULL, AllocRoutine may return NULL but must not crash).' +
        (this.stderr.trim() ? ` Its stderr ended with: ${this.stderr.trim().slice(-400)}` : ''),
    };
    const state = this.stateAfterCrash(error);
    for (const p of this.pending.values()) p.resolve(state);
    this.pending.clear();
    this.sink.state(state);
    this.sink.summary(this.summary());
    this.finish();
  }

  private stateAfterCrash(error: ErrorReply): SessionState {
    const start = startingState({
      sessionId: this.sessionId,
      pid: this.options.pid ?? 0,
      snapshotId: null,
      pace: this.options.pace,
      classes: this.options.classes,
      passes: this.options.passes ?? 1,
      allocator: this.options.allocator,
      clockOriginEpochMs: performance.timeOrigin + this.t0,
    });
    return failedState(this.lastState ?? start, error, { eventsStored: this.ledger.events });
  }

  private deliver(firstSeq: number, batch: ArrayBuffer): void {
    const v = new EventBatchView(batch);
    this.ledger.fold(v, 0, v.count);
    this.last.add(batch);
    this.sink.events(firstSeq, batch);
  }

  /** A crashed session's summary: the ledger of exactly the events delivered. */
  private summary(): SessionSummary {
    const entriesWalked: SessionSummary['entriesWalked'] = {};
    for (const p of this.lastState?.classes ?? []) entriesWalked[p.cls] = p.walked;
    const totalMs = performance.now() - this.t0;
    return {
      sessionId: this.sessionId,
      ...this.ledger.summary(),
      entriesWalked,
      durations: { captureMs: 0, walkMs: totalMs, totalMs },
      // The strategy's facts died with the child.
      strategy: null,
      callbackErrors: 0,
    };
  }

  private finish(): void {
    rmSync(this.dir, { recursive: true, force: true });
    this.onDone(this.sessionId);
  }
}
