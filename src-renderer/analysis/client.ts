/**
 * The page's side of the analysis worker: starts it (or, where no worker can be started, runs
 * the same engine on this thread, in slices between frames), forwards the session's event
 * batches to it (transferred, not copied), and keeps what it sends in an AnalysisView: the
 * ready data the views draw from. The page never folds events itself.
 */
import { Ledger, type LedgerState } from '../../src-shared/ledger/ledger';
import { CHUNK, FADE_EVENTS } from '../data/analysis';
import { AddressSpans } from '../data/blockLayout';
import { ChunkedColumn } from '../lib/chunkedColumn';
import { growTo, U32List } from '../lib/growable';
import { AnalysisEngine } from './engine';
import type { AnalysisFrame, FromWorker, ToWorker } from './protocol';

const RECENT_FREES = 8192;

/**
 * The analysis as the page holds it: the same fields AllocAnalysis has (views read them while
 * drawing), filled from the worker's frames. `ledger` is the state after `ledger.events`
 * events, rebuilt from the last frame's state.
 */
export class AnalysisView {
  /** Every seq below this has been analysed (by the worker). */
  frontier = 0;
  ledger = new Ledger(0);
  redZoneBytes = 0;
  /**
   * Live bytes after each event, in 4 bytes an event: per chunk of CHUNK events the value after
   * its first event, per event the difference to it (exact: a chunk whose differences do not
   * fit an int32 keeps its values whole in `liveWhole`).
   */
  private liveChunk = new Float64Array(0);
  private readonly liveDelta = new ChunkedColumn(Int32Array);
  private readonly liveWhole = new Map<number, Float64Array>();
  chMin = new Float64Array(0);
  chMax = new Float64Array(0);
  chAllocs = new Uint32Array(0);
  chFrees = new Uint32Array(0);
  chFails = new Uint32Array(0);
  chViolations = new Uint32Array(0);
  readonly problems = new U32List(256);
  readonly recentFrees = new Float64Array(RECENT_FREES * 2);
  recentFreeCount = 0;
  readonly spans = new AddressSpans();
  readonly addressedViolations = new U32List(64);

  constructor(readonly gen: number) {}

  /** Takes in one frame of the worker. */
  apply(f: AnalysisFrame): void {
    const chunks = f.chunkFrom + f.chMin.length;
    this.liveDelta.ensure(f.to);
    this.liveChunk = growTo(this.liveChunk, chunks, Float64Array);
    for (let i = 0; i < f.liveAfter.length; i++) this.setLive(f.from + i, f.liveAfter[i] as number);
    if (this.chMin.length < chunks) {
      this.chMin = growTo(this.chMin, chunks, Float64Array);
      this.chMax = growTo(this.chMax, chunks, Float64Array);
      this.chAllocs = growTo(this.chAllocs, chunks, Uint32Array);
      this.chFrees = growTo(this.chFrees, chunks, Uint32Array);
      this.chFails = growTo(this.chFails, chunks, Uint32Array);
      this.chViolations = growTo(this.chViolations, chunks, Uint32Array);
    }
    this.chMin.set(f.chMin, f.chunkFrom);
    this.chMax.set(f.chMax, f.chunkFrom);
    this.chAllocs.set(f.chAllocs, f.chunkFrom);
    this.chFrees.set(f.chFrees, f.chunkFrom);
    this.chFails.set(f.chFails, f.chunkFrom);
    this.chViolations.set(f.chViolations, f.chunkFrom);
    for (const s of f.problems) this.problems.push(s);
    for (const s of f.addressedViolations) this.addressedViolations.push(s);
    for (let i = 0; i < f.recentFrees.length; i += 2) {
      const slot = (this.recentFreeCount % RECENT_FREES) * 2;
      this.recentFrees[slot] = f.recentFrees[i] as number;
      this.recentFrees[slot + 1] = f.recentFrees[i + 1] as number;
      this.recentFreeCount++;
    }
    if (f.spans) {
      this.spans.starts = f.spans.starts;
      this.spans.ends = f.spans.ends;
      this.spans.version++;
    }
    this.redZoneBytes = f.redZoneBytes;
    this.ledger = Ledger.fromState(f.state);
    this.frontier = f.to;
  }

  private setLive(s: number, v: number): void {
    const ch = Math.floor(s / CHUNK);
    const at = s - ch * CHUNK;
    if (at === 0) this.liveChunk[ch] = v;
    const whole = this.liveWhole.get(ch);
    if (whole) {
      whole[at] = v;
      return;
    }
    const d = v - (this.liveChunk[ch] as number);
    if (d >= -0x8000_0000 && d <= 0x7fff_ffff) {
      this.liveDelta.set(s, d);
      return;
    }
    const w = new Float64Array(CHUNK);
    for (let j = 0; j < at; j++) w[j] = this.liveAt(ch * CHUNK + j);
    w[at] = v;
    this.liveWhole.set(ch, w);
  }

  /** Live bytes after event `s` (< frontier). */
  liveAt(s: number): number {
    const ch = Math.floor(s / CHUNK);
    const whole = this.liveWhole.get(ch);
    if (whole) return whole[s - ch * CHUNK] as number;
    return (this.liveChunk[ch] as number) + this.liveDelta.get(s);
  }

  /** Recent frees still fading at the current frontier: calls fn(allocSeq, age 0..1). */
  forEachFading(fn: (allocSeq: number, age: number) => void): void {
    const n = Math.min(this.recentFreeCount, RECENT_FREES);
    for (let i = 0; i < n; i++) {
      const slot = ((this.recentFreeCount - 1 - i) % RECENT_FREES) * 2;
      const freeSeq = this.recentFrees[slot + 1] as number;
      const age = (this.frontier - freeSeq) / FADE_EVENTS;
      if (age >= 1) break;
      fn(this.recentFrees[slot] as number, age);
    }
  }

  /** Bytes the page holds for it (the memory read-out). */
  get byteSize(): number {
    return this.liveDelta.capacity * 4 + this.liveChunk.byteLength + this.chMin.length * 32;
  }
}

export { CHUNK };

// ---- the worker ------------------------------------------------------------------------------

export interface AnalysisListener {
  frame(f: AnalysisFrame): void;
  state(gen: number, id: number, n: number, state: LedgerState): void;
  error(message: string): void;
}

interface Port {
  post(m: ToWorker, transfer: ArrayBuffer[]): void;
}

let port: Port | null = null;
let listener: AnalysisListener | null = null;
/** Where the analysis runs: 'worker', or 'page' when no worker could be started. */
export let analysisThread: 'worker' | 'page' = 'worker';

// ---- chunk memory: written first by the worker, so its page faults are not the UI thread's ----

/** Buffers kept ready (a chunk is 65,536 events: ~0.3 s of streaming at full speed). */
const MEMORY_AHEAD = 2;
const memoryPool: ArrayBuffer[] = [];
let memoryAsked = 0;

/**
 * A buffer of `bytes` the worker has already touched, or null (none ready yet: the caller
 * allocates). Each one taken is replaced, so the next is ready when it is wanted.
 */
export function takeChunkMemory(bytes: number): ArrayBuffer | null {
  const i = memoryPool.findIndex((b) => b.byteLength === bytes);
  const b = i >= 0 ? (memoryPool.splice(i, 1)[0] ?? null) : null;
  if (analysisThread === 'worker' && memoryPool.length + memoryAsked < MEMORY_AHEAD) {
    const count = MEMORY_AHEAD - memoryPool.length - memoryAsked;
    memoryAsked += count;
    toAnalysis({ t: 'memory', bytes, count });
  }
  return b;
}

function deliver(m: FromWorker): void {
  if (m.t === 'memory') {
    memoryAsked = Math.max(0, memoryAsked - m.buffers.length);
    memoryPool.push(...m.buffers);
    return;
  }
  const l = listener;
  if (!l) return;
  if (m.t === 'frame') l.frame(m);
  else if (m.t === 'stateAt') l.state(m.gen, m.id, m.n, m.state);
  else l.error(m.message);
}

/** The engine on this thread (tests, or a page that cannot start workers). */
function inPage(): Port {
  analysisThread = 'page';
  const engine = new AnalysisEngine(
    (m) => setTimeout(() => deliver(m), 0),
    (fn) => setTimeout(fn, 0),
  );
  return { post: (m) => engine.handle(m) };
}

function startWorker(): Port {
  if (typeof Worker === 'undefined') return inPage();
  try {
    const w = new Worker(new URL('./analysis.worker.ts', import.meta.url), {
      type: 'module',
      name: 'analysis',
    });
    let fallback: Port | null = null;
    w.onmessage = (e: MessageEvent<FromWorker>) => deliver(e.data);
    w.onerror = (e) => {
      // The worker could not start (or died): carry on in the page from the next session.
      console.error('analysis worker failed; analysing in the page', e.message);
      e.preventDefault();
      fallback = inPage();
      listener?.error('The analysis worker stopped; start the session again to analyse it.');
    };
    return {
      post(m, transfer) {
        if (fallback) fallback.post(m, transfer);
        else w.postMessage(m, transfer);
      },
    };
  } catch (e) {
    console.error('no analysis worker; analysing in the page', e);
    return inPage();
  }
}

export function connectAnalysis(l: AnalysisListener): void {
  listener = l;
  port ??= startWorker();
}

export function toAnalysis(m: ToWorker, transfer: ArrayBuffer[] = []): void {
  port ??= startWorker();
  port.post(m, transfer);
}
