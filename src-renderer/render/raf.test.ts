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
});
