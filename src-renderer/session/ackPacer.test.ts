import { describe, expect, it } from 'vitest';
import { AckPacer, GRANT_MAX, GRANT_MIN, GRANT_START, GRANT_STEP, LATE_FRAME_MS } from './ackPacer';

describe('AckPacer', () => {
  it('lets a frame ack at most its grant of what is analysed, and nothing twice', () => {
    const p = new AckPacer();
    expect(p.frame(0)).toBe(-1); // nothing analysed yet
    p.analysed(100_000);
    expect(p.waiting).toBe(true);
    expect(p.frame(16)).toBe(GRANT_START + GRANT_STEP - 1);
    const second = p.frame(32);
    expect(second).toBe(GRANT_START + GRANT_STEP - 1 + GRANT_START + 2 * GRANT_STEP);
    p.analysed(50); // an older seq changes nothing
    let last = second;
    for (let t = 48; p.waiting; t += 16) last = p.frame(t);
    expect(last).toBe(100_000);
    expect(p.frame(2000)).toBe(-1);
  });

  it('grows the grant by a step a frame on time and halves it after a late frame, within bounds', () => {
    const p = new AckPacer();
    p.analysed(1e12);
    let t = 0;
    p.frame(t);
    expect(p.perFrame).toBe(GRANT_START);
    for (let i = 0; i < 4; i++) p.frame((t += 16));
    expect(p.perFrame).toBe(GRANT_START + 4 * GRANT_STEP);
    p.frame((t += LATE_FRAME_MS + 1));
    expect(p.perFrame).toBe(Math.floor((GRANT_START + 4 * GRANT_STEP) / 2));
    for (let i = 0; i < 40; i++) p.frame((t += 100));
    expect(p.perFrame).toBe(GRANT_MIN);
    for (let i = 0; i < 100_000 / GRANT_STEP + 300; i++) p.frame((t += 16));
    expect(p.perFrame).toBe(GRANT_MAX);
  });

  it('does not count a pause with nothing to ack as a late frame', () => {
    const p = new AckPacer();
    p.analysed(1e9);
    p.frame(0);
    p.idle(); // frames stopped: nothing was waiting
    p.frame(5000);
    expect(p.perFrame).toBe(GRANT_START);
  });

  it('acks everything analysed when there are no frames (a hidden page), and starts over per session', () => {
    const p = new AckPacer();
    p.analysed(500_000);
    expect(p.unmetered()).toBe(500_000);
    expect(p.waiting).toBe(false);
    expect(p.unmetered()).toBe(-1);
    p.reset();
    expect(p.waiting).toBe(false);
    p.analysed(10);
    expect(p.frame(0)).toBe(10);
  });
});
