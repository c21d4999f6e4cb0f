import { describe, expect, it } from 'vitest';
import { setText } from './dom';

/** An element whose text writes are counted (each one replaces its text node in a browser). */
function element(text: string): HTMLElement & { writes: number } {
  let t = text;
  const el = {
    writes: 0,
    get textContent() {
      return t;
    },
    set textContent(v: string) {
      el.writes++;
      t = v;
    },
  };
  return el as unknown as HTMLElement & { writes: number };
}

describe('setText', () => {
  it('writes a changed text and leaves an unchanged one alone', () => {
    const el = element('1 ms – 2 ms');
    setText(el, '1 ms – 2 ms');
    expect(el.writes).toBe(0);
    setText(el, '1 ms – 3 ms');
    expect(el.writes).toBe(1);
    expect(el.textContent).toBe('1 ms – 3 ms');
    setText(null, 'x');
  });
});
