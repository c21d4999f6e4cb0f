/**
 * A structural check of the Trace Event Format (the subset our export writes): required
 * fields per phase, durations, B/E balance and timestamps that never go back on a track.
 * Returns the problems found (empty = valid). Used by tests and by `pss-inspector export
 * --check`.
 */
const PHASES = new Set(['X', 'B', 'E', 'i', 'I', 'C', 'M']);

export function checkChromeTrace(doc: unknown): string[] {
  const problems: string[] = [];
  const events = (doc as { traceEvents?: unknown })?.traceEvents;
  if (!Array.isArray(events)) return ['traceEvents is not an array'];
  const lastTs = new Map<string, number>();
  const open = new Map<string, number>();
  events.forEach((raw, i) => {
    const e = raw as Record<string, unknown>;
    const ph = e['ph'];
    const label = `event ${i} (${String(ph)}${typeof e['name'] === 'string' ? ` "${e['name']}"` : ''})`;
    if (typeof ph !== 'string' || !PHASES.has(ph))
      return void problems.push(`${label}: unknown phase`);
    if (!Number.isInteger(e['pid']) || !Number.isInteger(e['tid']))
      return void problems.push(`${label}: pid/tid missing`);
    if (ph === 'M') return;
    if (ph !== 'E' && typeof e['name'] !== 'string') problems.push(`${label}: name missing`);
    const ts = e['ts'];
    if (typeof ts !== 'number' || !Number.isFinite(ts) || ts < 0)
      return void problems.push(`${label}: ts missing`);
    if (ph === 'X' && (typeof e['dur'] !== 'number' || (e['dur'] as number) < 0))
      problems.push(`${label}: dur missing or negative`);
    if (
      (ph === 'i' || ph === 'I') &&
      e['s'] !== undefined &&
      !['g', 'p', 't'].includes(e['s'] as string)
    )
      problems.push(`${label}: bad instant scope`);
    if (ph === 'C' && (typeof e['args'] !== 'object' || e['args'] === null))
      problems.push(`${label}: counter without args`);
    const track =
      ph === 'C'
        ? `${String(e['pid'])}/counter ${String(e['name'])}`
        : `${String(e['pid'])}/${String(e['tid'])}`;
    const last = lastTs.get(track);
    if (last !== undefined && ts < last)
      problems.push(`${label}: ts ${ts} goes back on track ${track} (last ${last})`);
    lastTs.set(track, ts);
    if (ph === 'B') open.set(track, (open.get(track) ?? 0) + 1);
    if (ph === 'E') {
      const n = open.get(track) ?? 0;
      if (n === 0) problems.push(`${label}: no open B on track ${track}`);
      else open.set(track, n - 1);
    }
  });
  for (const [track, n] of open) if (n > 0) problems.push(`track ${track}: ${n} B without E`);
  return problems;
}
