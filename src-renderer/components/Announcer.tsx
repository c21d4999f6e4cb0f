/**
 * The screen-reader voice of the walk: one polite live region that says what changed, not every
 * tick — the session starting, pausing, resuming, ending (with its totals), a class finishing,
 * and, while paused, the position a step or a seek reached. Errors speak through ErrorBox
 * (role=alert); everything else is announced by focus moving into the view that shows it.
 */
import { useEffect, useState } from 'react';
import type { SessionState } from '../../src-shared/contract/model';
import { CLASS_LABELS } from '../data/entryColumns';
import { plural } from '../lib/format';
import { appStore } from '../store';

/** What to announce when the session goes from `prev` to `next` (pure; null: nothing). */
export function sessionAnnouncement(
  prev: SessionState | null,
  next: SessionState | null,
): string | null {
  if (!next) return prev ? 'Walk session closed.' : null;
  if (!prev || prev.sessionId !== next.sessionId) {
    return next.state === 'starting'
      ? 'Walk starting: capturing the process.'
      : `Walk ${next.state}.`;
  }
  if (prev.state !== next.state) {
    if (next.state === 'finished') return 'Walk finished.';
    if (next.state === 'failed') return 'Walk failed.';
    if (next.state === 'cancelled') return 'Walk stopped.';
    if (next.state === 'paused') return `Walk paused${position(next)}.`;
    if (next.state === 'running') return 'Walk running.';
    return null;
  }
  const done = next.classes.find((c) => c.done && !prev.classes.find((p) => p.cls === c.cls)?.done);
  if (done) return `${CLASS_LABELS[done.cls]} walked: ${plural(done.walked, 'entry', 'entries')}.`;
  if (
    next.state === 'paused' &&
    (prev.current?.cls !== next.current?.cls ||
      prev.current?.entryIndex !== next.current?.entryIndex)
  )
    return `At${position(next).replace(/^ at/, '')}.`;
  if (next.bookmarks.length > prev.bookmarks.length) {
    const b = next.bookmarks[next.bookmarks.length - 1];
    return b ? `Position saved: ${CLASS_LABELS[b.cls]} #${b.entryIndex}.` : null;
  }
  return null;
}

function position(s: SessionState): string {
  if (!s.current) return '';
  return s.current.entryIndex === 0
    ? ` at the start of ${CLASS_LABELS[s.current.cls]}`
    : ` at ${CLASS_LABELS[s.current.cls]} entry ${s.current.entryIndex - 1}`;
}

export function Announcer() {
  const [text, setText] = useState('');
  // The store is the external system here: announce from its change callback.
  useEffect(() => {
    let prev = appStore.get().session;
    let prevSummary = appStore.get().summary;
    return appStore.subscribe((s) => {
      if (s.session !== prev) {
        const t = sessionAnnouncement(prev, s.session);
        prev = s.session;
        if (t) setText(t);
      }
      if (s.summary !== prevSummary) {
        prevSummary = s.summary;
        const m = s.summary;
        if (m)
          setText(
            `Walk summary: ${plural(m.allocations, 'allocation')}, ${plural(m.frees, 'free')}, ` +
              `${plural(m.allocationFailures, 'failed allocation')}.`,
          );
      }
    });
  }, []);
  return (
    <div className="sr-only" role="status" aria-live="polite" data-testid="announcer">
      {text}
    </div>
  );
}
