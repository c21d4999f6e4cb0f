/**
 * The analysis as the worker runs it (./analysis.worker.ts; also run in the page's thread when
 * no worker can be started, ./client.ts): the events in columns, the AllocAnalysis fold over
 * them, frames of ready data for the page (./protocol.ts) and time-cursor states.
 *
 * It works in slices of SLICE_MS and yields between them, so a stateAt query or new events
 * are taken in within a slice; a stateAt is answered before the next slice (only the newest
 * query of a run of them: the cursor moved on).
 */
import { AllocAnalysis, CHUNK, ColumnEvents } from '../data/analysis';
import { AnalysisColumns } from '../data/eventColumns';
import {
  FRAME_MS,
  MAX_MEMORY_BYTES,
  stateBuffers,
  touchedBuffer,
  type AnalysisFrame,
  type FromWorker,
  type ToWorker,
} from './protocol';

/** Work between two yields (ms). */
const SLICE_MS = 8;
/** Events between two looks at the clock. */
const STEP = 2048;

export type Post = (msg: FromWorker, transfer: ArrayBuffer[]) => void;

export class AnalysisEngine {
  private columns = new AnalysisColumns();
  private analysis = new AllocAnalysis();
  private gen = 0;
  private limit: number | null = null;
  private pendingQuery: { id: number; n: number; gen: number } | null = null;
  private scheduled = false;
  /** What the page has been sent. */
  private sentTo = 0;
  private sentProblems = 0;
  private sentViolations = 0;
  private sentFrees = 0;
  private sentSpans = -1;
  private lastFrame = 0;

  constructor(
    private readonly post: Post,
    private readonly yieldThen: (fn: () => void) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  handle(m: ToWorker): void {
    switch (m.t) {
      case 'open':
        this.gen = m.gen;
        this.columns = new AnalysisColumns();
        this.restartAnalysis();
        this.limit = null;
        this.pendingQuery = null;
        break;
      case 'restart':
        this.gen = m.gen;
        this.restartAnalysis();
        this.pendingQuery = null;
        break;
      case 'events':
        this.columns.append(m.bytes, m.firstSeq);
        break;
      case 'limit':
        if (m.gen === this.gen) this.limit = m.limit;
        break;
      case 'stateAt':
        if (m.gen === this.gen) this.pendingQuery = { id: m.id, n: m.n, gen: m.gen };
        break;
      case 'memory': {
        const n = Number.isSafeInteger(m.bytes) && m.bytes > 0 ? m.bytes : 0;
        const asked = Number.isSafeInteger(m.count) && n > 0 ? m.count : 0;
        const count = Math.min(asked, Math.floor(MAX_MEMORY_BYTES / Math.max(1, n)));
        const buffers: ArrayBuffer[] = [];
        for (let i = 0; i < count; i++) buffers.push(touchedBuffer(n));
        this.post({ t: 'memory', buffers }, buffers);
        return;
      }
    }
    this.schedule();
  }

  private restartAnalysis(): void {
    this.analysis = new AllocAnalysis();
    this.sentTo = 0;
    this.sentProblems = 0;
    this.sentViolations = 0;
    this.sentFrees = 0;
    this.sentSpans = -1;
    this.lastFrame = 0;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.yieldThen(() => {
      this.scheduled = false;
      this.run();
    });
  }

  /** The end of what may be analysed now. */
  private target(): number {
    const end = this.columns.length;
    const gap = this.columns.missing.first();
    const reachable = gap === null ? end : Math.min(end, gap.start);
    return this.limit === null ? reachable : Math.min(reachable, this.limit);
  }

  private run(): void {
    try {
      this.answerQuery();
      const a = this.analysis;
      const until = this.now() + SLICE_MS;
      let target = this.target();
      while (a.frontier < target) {
        a.advance(this.columns, Math.min(STEP, target - a.frontier));
        if (this.now() >= until) break;
        target = this.target();
      }
      const more = a.frontier < this.target();
      // A frame when one is due, and always once the work is done (the final numbers).
      if (a.frontier > this.sentTo && (!more || this.now() - this.lastFrame >= FRAME_MS))
        this.sendFrame();
      if (more || this.pendingQuery) this.schedule();
    } catch (e) {
      this.post({ t: 'error', message: e instanceof Error ? e.message : String(e) }, []);
    }
  }

  private answerQuery(): void {
    const q = this.pendingQuery;
    if (!q) return;
    this.pendingQuery = null;
    if (q.gen !== this.gen) return;
    const a = this.analysis;
    const n = Math.max(0, Math.min(Math.floor(q.n), a.frontier));
    const state = a.ledger.stateAt(n, new ColumnEvents(this.columns)).snapshot();
    this.post({ t: 'stateAt', gen: q.gen, id: q.id, n, state }, stateBuffers(state));
  }

  private sendFrame(): void {
    const a = this.analysis;
    const from = this.sentTo;
    const to = a.frontier;
    const chunkFrom = Math.floor(from / CHUNK);
    const chunkTo = Math.ceil(to / CHUNK);
    const spans =
      a.spans.version !== this.sentSpans
        ? { starts: a.spans.starts.slice(), ends: a.spans.ends.slice(), version: a.spans.version }
        : null;
    this.sentSpans = a.spans.version;
    const freesNew = Math.min(a.recentFreeCount - this.sentFrees, a.recentFrees.length / 2);
    const recentFrees = new Float64Array(freesNew * 2);
    for (let i = 0; i < freesNew; i++) {
      const k = a.recentFreeCount - freesNew + i;
      const slot = (k % (a.recentFrees.length / 2)) * 2;
      recentFrees[i * 2] = a.recentFrees[slot] as number;
      recentFrees[i * 2 + 1] = a.recentFrees[slot + 1] as number;
    }
    const state = a.ledger.snapshot();
    const frame: AnalysisFrame = {
      t: 'frame',
      gen: this.gen,
      from,
      to,
      liveAfter: a.liveAfter.slice(from - a.liveBase, to - a.liveBase),
      chunkFrom,
      chMin: a.chMin.slice(chunkFrom, chunkTo),
      chMax: a.chMax.slice(chunkFrom, chunkTo),
      chAllocs: a.chAllocs.slice(chunkFrom, chunkTo),
      chFrees: a.chFrees.slice(chunkFrom, chunkTo),
      chFails: a.chFails.slice(chunkFrom, chunkTo),
      chViolations: a.chViolations.slice(chunkFrom, chunkTo),
      problems: a.problems.view().slice(this.sentProblems),
      addressedViolations: a.addressedViolations.view().slice(this.sentViolations),
      recentFrees,
      spans,
      redZoneBytes: a.redZoneBytes,
      state,
    };
    this.sentTo = to;
    a.dropLiveAfter(to);
    this.sentProblems = a.problems.length;
    this.sentViolations = a.addressedViolations.length;
    this.sentFrees = a.recentFreeCount;
    this.lastFrame = this.now();
    this.post(frame, [
      frame.liveAfter.buffer,
      frame.chMin.buffer,
      frame.chMax.buffer,
      frame.chAllocs.buffer,
      frame.chFrees.buffer,
      frame.chFails.buffer,
      frame.chViolations.buffer,
      frame.problems.buffer,
      frame.addressedViolations.buffer,
      frame.recentFrees.buffer,
      ...stateBuffers(state),
    ] as ArrayBuffer[]);
  }
}
