import { describe, expect, it } from 'vitest';
import { SHORTCUTS, viewShortcut } from './shortcuts';

const key = (k: string, code: string, mods: { alt?: boolean; ctrl?: boolean } = {}) => ({
  key: k,
  code,
  altKey: mods.alt ?? false,
  ctrlKey: mods.ctrl ?? false,
  metaKey: false,
});

describe('shortcuts', () => {
  it('Alt+1…6 pick the views (by physical key, whatever the layout types)', () => {
    expect(viewShortcut(key('1', 'Digit1', { alt: true }))).toBe(0);
    expect(viewShortcut(key('¡', 'Digit1', { alt: true }))).toBe(0);
    expect(viewShortcut(key('6', 'Digit6', { alt: true }))).toBe(5);
    expect(viewShortcut(key('7', 'Digit7', { alt: true }))).toBeNull();
    expect(viewShortcut(key('1', 'Digit1'))).toBeNull();
    expect(viewShortcut(key('1', 'Digit1', { alt: true, ctrl: true }))).toBeNull();
  });

  it('the help overlay lists every group with keys and a description', () => {
    const all = SHORTCUTS.flatMap((g) => g.items);
    expect(all.length).toBeGreaterThan(10);
    for (const s of all) {
      expect(s.keys.length).toBeGreaterThan(0);
      expect(s.what.length).toBeGreaterThan(3);
    }
    const keys = all.flatMap((s) => s.keys);
    for (const k of ['Alt+1', '?', 'Space', 'B', 'Enter', 'Esc']) expect(keys).toContain(k);
  });
});
