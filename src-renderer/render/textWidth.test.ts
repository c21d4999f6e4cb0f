import { describe, expect, it } from 'vitest';
import { createTextMeasurer, type MeasureContext } from './textWidth';

/** A context that measures 7 px per character in "mono" fonts and 6 px otherwise, counting its calls. */
function fakeContext(): MeasureContext & { measured: string[]; fontsSet: string[] } {
  let font = '10px sans-serif';
  const measured: string[] = [];
  const fontsSet: string[] = [];
  return {
    measured,
    fontsSet,
    get font() {
      return font;
    },
    set font(f: string) {
      fontsSet.push(f);
      font = f;
    },
    measureText(text: string) {
      measured.push(text);
      return { width: text.length * (font.includes('mono') ? 7 : 6) };
    },
  };
}

describe('createTextMeasurer', () => {
  it('measures each text once per font and sets the font only when it changes', () => {
    const ctx = fakeContext();
    const m = createTextMeasurer(() => ctx);
    expect(m.width('abc', '12px mono')).toBe(21);
    expect(m.width('abcd', '12px mono')).toBe(28);
    expect(m.width('abc', '12px mono')).toBe(21);
    expect(m.width('abc', '12px sans')).toBe(18);
    expect(m.width('abc', '12px sans')).toBe(18);
    expect(ctx.measured).toEqual(['abc', 'abcd', 'abc']);
    expect(ctx.fontsSet).toEqual(['12px mono', '12px sans']);
    expect(m.size).toBe(3);
  });

  it('remembers at most max texts, then starts afresh', () => {
    const ctx = fakeContext();
    const m = createTextMeasurer(() => ctx, 3);
    for (const t of ['a', 'b', 'c']) m.width(t, 'f');
    expect(m.size).toBe(3);
    m.width('d', 'f');
    expect(m.size).toBe(1);
    m.width('a', 'f'); // forgotten: measured again
    expect(ctx.measured).toEqual(['a', 'b', 'c', 'd', 'a']);
  });

  it('measures again after forget (a font finished loading)', () => {
    const ctx = fakeContext();
    const m = createTextMeasurer(() => ctx);
    m.width('x', 'f');
    m.forget();
    expect(m.size).toBe(0);
    m.width('x', 'f');
    expect(ctx.measured).toEqual(['x', 'x']);
  });

  it('is 0 where there is no canvas context, asking for one once', () => {
    let asked = 0;
    const m = createTextMeasurer(() => {
      asked++;
      return null;
    });
    expect(m.width('abc', 'f')).toBe(0);
    expect(m.width('abc', 'f')).toBe(0);
    expect(asked).toBe(1);
  });
});
