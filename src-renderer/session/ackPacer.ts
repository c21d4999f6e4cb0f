/**
 * The page's intake of events, metered by its frames. The host's credit stream sends a session's
 * events as fast as the page acks them (src-main/host/flow.ts); the page acks once its analysis
 * worker has folded them. Acking at once, a walk at full speed kept the host, the page's socket
 * worker and its analysis worker busy together, and on two cores the UI thread then waited for
 * a core: frames were missed although the UI thread's own work was small.
 *
 * So the acks are handed out by the frames: each frame lets the page ack at most `grant` more
 * events of what is analysed, and the grant adapts (additive increase, multiplicative decrease,
 * as TCP's window): it grows by STEP each frame that came on time and halves after a late one.
 * A machine that keeps its frames takes events as fast as before; one that cannot is sent
 * fewer until it can. A page that has no frames (hidden: no requestAnimationFrame) acks all it
 * has analysed, as there is nothing to keep smooth.
 */

/** A frame later than this after the one before (ms) was missed (1.5 frames at 60 Hz). */
export const LATE_FRAME_MS = 25;
/** Events a frame may let the page ack: at least, at most, at first, and the growth a frame. */
export const GRANT_MIN = 1024;
export const GRANT_MAX = 65_536;
export const GRANT_START = 8192;
export const GRANT_STEP = 256;

export class AckPacer {
  /** The highest seq analysed (that may be acked once granted). */
  private wanted = -1;
  /** The highest seq the frames have let through so far. */
  private granted = -1;
  private grant = GRANT_START;
  private lastFrameAt = -1;

  /** A new session: nothing analysed, nothing granted. */
  reset(): void {
    this.wanted = -1;
    this.granted = -1;
    this.grant = GRANT_START;
    this.lastFrameAt = -1;
  }

  /** Events up to `seq` are analysed. */
  analysed(seq: number): void {
    if (seq > this.wanted) this.wanted = seq;
  }

  /** True while analysed events wait for a frame's grant. */
  get waiting(): boolean {
    return this.wanted > this.granted;
  }

  /** The events a frame currently lets through (read by the tests). */
  get perFrame(): number {
    return this.grant;
  }

  /**
   * A frame starts at `now` (ms): adapts the grant to whether it came on time and returns the
   * seq to ack now, or -1 when there is nothing new to ack.
   */
  frame(now: number): number {
    if (this.lastFrameAt >= 0) {
      if (now - this.lastFrameAt > LATE_FRAME_MS)
        this.grant = Math.max(GRANT_MIN, Math.floor(this.grant / 2));
      else this.grant = Math.min(GRANT_MAX, this.grant + GRANT_STEP);
    }
    this.lastFrameAt = now;
    return this.let(Math.min(this.wanted, this.granted + this.grant));
  }

  /** No frames to keep (the page is hidden): all that is analysed may be acked; -1 if none new. */
  unmetered(): number {
    this.lastFrameAt = -1;
    return this.let(this.wanted);
  }

  /**
   * Frames stopped for a while (nothing was waiting): the next one is not counted as late, as
   * the pause was not a missed frame.
   */
  idle(): void {
    this.lastFrameAt = -1;
  }

  private let(to: number): number {
    if (to <= this.granted) return -1;
    this.granted = to;
    return to;
  }
}
