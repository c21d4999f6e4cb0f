/**
 * Text widths for the tables' column fitting (components/VirtualTable.tsx), measured on a canvas
 * context and remembered per font: a streaming table re-renders its rows a few times a second and
 * most of their texts were measured before (measureText and switching the context's font were a
 * tenth of such a render). At most `max` texts are remembered (then it starts afresh), and a font
 * that finishes loading forgets everything (texts measured with a fallback font change width).
 */

/** What measuring needs of a CanvasRenderingContext2D. */
export interface MeasureContext {
  font: string;
  measureText(text: string): { width: number };
}

export interface TextMeasurer {
  width(text: string, font: string): number;
  /** Forgets every width (a font finished loading). */
  forget(): void;
  /** Texts remembered now. */
  readonly size: number;
}

export function createTextMeasurer(
  context: () => MeasureContext | null,
  max = 20_000,
): TextMeasurer {
  const widths = new Map<string, Map<string, number>>();
  let size = 0;
  let ctx: MeasureContext | null | undefined;
  // The context's font reads back normalized, so the last one set is remembered here.
  let ctxFont: string | null = null;
  return {
    width(text, font) {
      let perFont = widths.get(font);
      const hit = perFont?.get(text);
      if (hit !== undefined) return hit;
      if (ctx === undefined) ctx = context();
      if (!ctx) return 0;
      if (ctxFont !== font) ctx.font = ctxFont = font;
      const w = ctx.measureText(text).width;
      if (size >= max) {
        widths.clear();
        size = 0;
        perFont = undefined;
      }
      if (!perFont) widths.set(font, (perFont = new Map()));
      perFont.set(text, w);
      size++;
      return w;
    },
    forget() {
      widths.clear();
      size = 0;
    },
    get size() {
      return size;
    },
  };
}
