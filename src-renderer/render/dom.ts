/**
 * DOM writes from draw code. A text written while events stream is rewritten every frame, and
 * every write replaces the element's text node, which makes the browser lay the page out again
 * even when the text is the same: only a changed text is written.
 */
export function setText(el: HTMLElement | null, text: string): void {
  if (el && el.textContent !== text) el.textContent = text;
}
