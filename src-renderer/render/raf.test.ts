import { describe, expect, it } from 'vitest';
import { RafScheduler } from './raf';

describe('RafScheduler', () => {
  it('coalesces requests into one frame and draws only dirty canvases', () => {
    const queued: (() => void)[] = [];
    const r = new RafScheduler(
      (cb) => queued.push(() => cb(0)),
      () => 0,
    );
    const draws: string[] = [];
    const a = r.addCanvas(['events'], () => draws.push('a'));
    r.addCanvas(['selection'], () => draws.push('b'));
    expect(queued.length).toBe(1);
    queued.shift()?.();
    expect(draws).toEqual(['a', 'b']);
    r.invalidate('events');
    r.invalidate('events');
    a.markDirty();
    expect(queued.length).toBe(1);
    queued.shift()?.();
    expect(draws).toEqual(['a', 'b', 'a']);
  });
  it('runs update steps before drawing and keeps going while they have work', () => {
    const queued: (() => void)[] = [];
    const r = new RafScheduler(
      (cb) => queued.push(() => cb(0)),
      () => 0,
    );
    let work = 3;
    const order: string[] = [];
    r.addUpdate(() => {
      order.push('u');
      work--;
      r.invalidate('events');
      return work > 0;
    });
    r.addCanvas(['events'], () => order.push('d'));
    while (queued.length) queued.shift()?.();
    expect(order).toEqual(['u', 'd', 'u', 'd', 'u', 'd']);
    expect(r.frames).toBe(3);
  });
  it('redraws an expensive canvas at most once per 4× its cost; cheap ones every frame', () => {
    const queued: (() => void)[] = [];
    let clock = 0;
    const r = new RafScheduler(
      (cb) => queued.push(() => cb(0)),
      () => clock,
    );
    let slow = 0;
    let fast = 0;
    let frame = 0;
    let lastSlowFrame = -2;
    r.addCanvas(['events'], () => {
      slow++;
      expect(frame - lastSlowFrame, 'two 10 ms draws in consecutive frames').toBeGreaterThan(1);
      lastSlowFrame = frame;
      clock += 10; // a 10 ms draw
    });
    r.addCanvas(['events'], () => fast++);
    // 16 frames of 16.7 ms, every one with new events.
    for (frame = 0; frame < 16; frame++) {
      r.invalidate('events');
      queued.shift()?.();
      clock += 16.7;
    }
    expect(fast).toBe(16);
    // 10 ms at most every 40 ms: every other frame here.
    expect(slow).toBe(8);
    // Its last change is still drawn once the events stop.
    const before = slow;
    while (queued.length) {
      frame++;
      clock += 16.7;
      queued.shift()?.();
    }
    expect(slow).toBe(before + 1);
  });
  it('draws an expensive canvas in the next frame for a change the user waits for, not only for streaming events', () => {
    const queued: (() => void)[] = [];
    let clock = 0;
    const r = new RafScheduler(
      (cb) => queued.push(() => cb(0)),
      () => clock,
    );
    const drawnAt: number[] = [];
    const map = r.addCanvas(['events', 'cursor'], () => {
      drawnAt.push(clock);
      clock += 12; // a 12 ms draw: held back 48 ms after each while events stream
    });
    const tick = (): void => {
      clock += 16.7;
      queued.shift()?.();
    };
    tick(); // first draw
    r.invalidate('events');
    tick(); // 16.7 ms after a 10 ms draw: held back
    expect(drawnAt).toHaveLength(1);
    r.invalidate('cursor'); // the time cursor moved: drawn now, though still within 40 ms
    tick();
    expect(drawnAt).toHaveLength(2);
    // The canvas's own continuation (the rest of a state painted over frames) when prompt…
    map.markDirty(true);
    tick();
    expect(drawnAt).toHaveLength(3);
    // …and held back when not (a refresh behind a complete picture).
    map.markDirty();
    tick();
    expect(drawnAt).toHaveLength(3);
    while (queued.length) tick();
    expect(drawnAt).toHaveLength(4);
    // A topic no canvas is subscribed to asks for no frame.
    r.invalidate('hover');
    expect(queued).toHaveLength(0);
  });
  it('does not redraw two expensive canvases for streaming in one frame; each still gets its turn', () => {
    const queued: (() => void)[] = [];
    let clock = 0;
    const r = new RafScheduler(
      (cb) => queued.push(() => cb(0)),
      () => clock,
    );
    const drawnIn: number[][] = [[], []];
    let frame = 0;
    for (const i of [0, 1])
      r.addCanvas(['events'], () => {
        drawnIn[i]?.push(frame);
        clock += 5; // each a 5 ms draw
      });
    // Frames 16.7 ms apart while events stream in.
    // One frame per vsync, as requestAnimationFrame runs them.
    for (frame = 0; frame < 40; frame++) {
      r.invalidate('events');
      const due = queued.splice(0);
      for (const f of due) f();
      clock = (frame + 1) * 16.7;
    }
    const a = new Set(drawnIn[0]?.slice(1));
    const both = (drawnIn[1] ?? []).slice(1).filter((f) => a.has(f));
    expect(both, 'frames where both 5 ms canvases were redrawn for streaming').toEqual([]);
    expect(drawnIn[0]?.length).toBeGreaterThan(5);
    expect(drawnIn[1]?.length).toBeGreaterThan(5);
  });
});
