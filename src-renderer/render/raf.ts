/**
 * The one owner of requestAnimationFrame (after Perfetto's raf scheduler). Data code never
 * draws: it marks a topic dirty ("events", "selection", "theme", …) and the scheduler runs, once
 * per frame, first the registered update steps (bounded work such as analysing newly arrived
 * events), then the redraw of every canvas subscribed to a dirty topic. Per-frame timings are
 * kept for the status bar and the benchmark.
 */
/** What changed; `cursor`: the time cursor moved (only views of the allocation state redraw). */
export type Topic =
  'events' | 'selection' | 'hover' | 'theme' | 'layout' | 'snapshot' | 'timeline' | 'cursor';

export interface Canvas {
  /**
   * Marks this canvas alone for redraw; `prompt`: in the next frame even if it is expensive
   * (the rest of a picture the user is waiting for, e.g. a state being painted over frames).
   */
  markDirty(prompt?: boolean): void;
  dispose(): void;
}

interface CanvasReg {
  draw: () => void;
  topics: ReadonlySet<Topic>;
  dirty: boolean;
  /** Drawn in the next frame whatever its cost (see STREAMING). */
  prompt: boolean;
  /** Duration (ms) of its last draw, and when that draw started. */
  cost: number;
  drawnAt: number;
}

/**
 * A canvas whose draw costs more than this (ms) is redrawn at most once per DUTY × its cost,
 * so one expensive view (a block map of 300,000 blocks) cannot take every frame: it refreshes a
 * little less often while everything else keeps 60 fps.
 */
const EXPENSIVE_DRAW_MS = 3;
const DUTY = 4;
/**
 * The one topic that changes continuously (events streaming in): only a canvas dirty for it
 * alone is held back by the rule above. A change the user made or waits for (the time cursor,
 * a selection, hover, theme, layout, a snapshot, the timeline's range) is drawn in the next
 * frame: holding a cursor move's state back 4 × a block map's cost doubled the time until it
 * was on screen.
 */
const STREAMING: Topic = 'events';
/**
 * Redraws for streaming alone share one budget a frame: once this much was drawn for them, the
 * other expensive canvases dirty only for streaming wait for a later frame, so two expensive
 * views (the block map, the timeline) are not redrawn in the same frame. At least one is drawn.
 */
const STREAMING_FRAME_BUDGET_MS = 6;

/** An update step returns true while it has more work (the scheduler asks for another frame). */
type Update = () => boolean;

const FRAME_SAMPLES = 240;

export class RafScheduler {
  private canvases = new Set<CanvasReg>();
  private updates = new Set<Update>();
  private requested = false;
  private readonly raf: (cb: (t: number) => void) => unknown;
  private readonly now: () => number;
  /** Work time (ms) of recent frames, ring buffer. */
  readonly frameWork = new Float64Array(FRAME_SAMPLES);
  frames = 0;
  lastDrawMs = 0;
  lastUpdateMs = 0;

  constructor(
    raf: (cb: (t: number) => void) => unknown = (cb) => requestAnimationFrame(cb),
    now: () => number = () => performance.now(),
  ) {
    this.raf = raf;
    this.now = now;
  }

  addCanvas(topics: readonly Topic[], draw: () => void): Canvas {
    const reg: CanvasReg = {
      draw,
      topics: new Set(topics),
      dirty: true,
      prompt: true,
      cost: 0,
      drawnAt: -Infinity,
    };
    this.canvases.add(reg);
    this.request();
    return {
      markDirty: (prompt = false) => {
        reg.dirty = true;
        if (prompt) reg.prompt = true;
        this.request();
      },
      dispose: () => {
        this.canvases.delete(reg);
      },
    };
  }

  addUpdate(step: Update): () => void {
    this.updates.add(step);
    this.request();
    return () => this.updates.delete(step);
  }

  /** Marks every canvas subscribed to one of the topics. */
  invalidate(...topics: Topic[]): void {
    let any = false;
    for (const c of this.canvases) {
      if (!topics.some((t) => c.topics.has(t))) continue;
      if (!c.prompt && topics.some((t) => t !== STREAMING && c.topics.has(t))) c.prompt = true;
      if (!c.dirty) {
        c.dirty = true;
        any = true;
      }
    }
    if (any) this.request();
  }

  /** Asks for a frame (for new update work). */
  wake(): void {
    this.request();
  }

  private request(): void {
    if (this.requested) return;
    this.requested = true;
    this.raf(() => this.frame());
  }

  /** One frame: updates, then dirty canvases. Public for tests. */
  frame(): void {
    // `requested` stays set during the updates: what they invalidate is drawn in this frame.
    const t0 = this.now();
    let more = false;
    for (const u of this.updates) {
      try {
        if (u()) more = true;
      } catch (e) {
        console.error('update step failed', e);
      }
    }
    const t1 = this.now();
    this.requested = false;
    let streamingDrawn = 0;
    for (const c of this.canvases) {
      if (!c.dirty) continue;
      const start = this.now();
      const expensive = !c.prompt && c.cost > EXPENSIVE_DRAW_MS;
      if (
        expensive &&
        (start - c.drawnAt < c.cost * DUTY ||
          (streamingDrawn > 0 && streamingDrawn + c.cost > STREAMING_FRAME_BUDGET_MS))
      ) {
        more = true; // still dirty: drawn in a later frame
        continue;
      }
      const wasPrompt = c.prompt;
      c.dirty = false;
      c.prompt = false;
      try {
        c.draw();
      } catch (e) {
        console.error('canvas draw failed', e);
      }
      c.drawnAt = start;
      c.cost = this.now() - start;
      if (!wasPrompt) streamingDrawn += c.cost;
    }
    const t2 = this.now();
    this.lastUpdateMs = t1 - t0;
    this.lastDrawMs = t2 - t1;
    this.frameWork[this.frames % FRAME_SAMPLES] = t2 - t0;
    this.frames++;
    if (more) this.request();
  }

  /** p-th percentile of recent frame work times. */
  workPercentile(p: number): number {
    const n = Math.min(this.frames, FRAME_SAMPLES);
    if (n === 0) return 0;
    const s = Array.from(this.frameWork.subarray(0, n)).sort((a, b) => a - b);
    return s[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)] as number;
  }
}

/** The app's scheduler. */
export const raf = new RafScheduler();
