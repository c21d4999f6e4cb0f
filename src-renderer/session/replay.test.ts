import { describe, expect, it } from 'vitest';
import { flatColumn } from '../lib/chunkedColumn';
import { ReplayClock, eventsReached } from './replay';
import { replayAnnouncement } from '../views/ReplayBar';

describe('replay clock', () => {
  it('advances trace time at its speed while playing, and holds it while paused', () => {
    const c = new ReplayClock(5_000, 10);
    expect(c.playing).toBe(false);
    expect(c.horizonNs(100)).toBe(5_000);
    c.play(100);
    expect(c.horizonNs(100)).toBe(5_000);
    // 2 ms of wall time at 10× = 20 ms of trace time.
    expect(c.horizonNs(102)).toBe(5_000 + 20e6);
    c.pause(103);
    expect(c.horizonNs(500)).toBe(5_000 + 30e6);
    c.play(1000);
    c.setSpeed(100, 1001);
    expect(c.horizonNs(1002)).toBe(5_000 + 30e6 + 10e6 + 100e6);
    c.setSpeed(1, 1002);
    expect(c.horizonNs(1003)).toBe(5_000 + 140e6 + 1e6);
  });

  it('max shows everything while playing; leaving max continues from what was shown', () => {
    const c = new ReplayClock(0, 'max');
    c.play(0);
    expect(c.horizonNs(1)).toBe(Infinity);
    c.setSpeed(1, 10);
    c.catchUp(7e9, 10);
    expect(c.horizonNs(11)).toBe(7e9 + 1e6);
    // catchUp never moves the clock back.
    c.catchUp(1, 11);
    expect(c.horizonNs(11)).toBe(7e9 + 1e6);
    c.pause(12);
    c.setSpeed('max', 12);
    expect(c.horizonNs(13)).toBe(7e9 + 2e6); // paused: max does not run
  });
});

describe('events reached by the horizon', () => {
  const t = flatColumn([10, 20, 20, 30, 40, 50]);
  it('counts the events up to the first beyond the horizon, within end and budget', () => {
    expect(eventsReached(t, 0, 6, 5, 100)).toBe(0);
    expect(eventsReached(t, 0, 6, 20, 100)).toBe(3);
    expect(eventsReached(t, 3, 6, 45, 100)).toBe(2);
    expect(eventsReached(t, 0, 6, 45, 2)).toBe(2);
    expect(eventsReached(t, 0, 4, 1000, 100)).toBe(4);
    expect(eventsReached(t, 1, 6, Infinity, 3)).toBe(3);
    expect(eventsReached(t, 6, 6, Infinity, 3)).toBe(0);
  });
});

describe('replay announcements', () => {
  it('say when the replay runs, pauses and finishes', () => {
    expect(replayAnnouncement({ on: false, playing: false, speed: 10, done: false })).toBe('');
    expect(replayAnnouncement({ on: true, playing: true, speed: 100, done: false })).toBe(
      'Replaying at 100×.',
    );
    expect(replayAnnouncement({ on: true, playing: true, speed: 'max', done: false })).toBe(
      'Replaying at max.',
    );
    expect(replayAnnouncement({ on: true, playing: false, speed: 1, done: false })).toBe(
      'Replay paused.',
    );
    expect(replayAnnouncement({ on: true, playing: false, speed: 1, done: true })).toBe(
      'Replay finished.',
    );
  });
});
