/**
 * One-line texts of inspection details, as the explorer's columns and a text printer of
 * captures show them. A value that is not available prints as "n/a"; its reason is
 * `reasonOf` (shown as the cell's tooltip and in the detail pane).
 */
import {
  decodeOpenFlags,
  isNa,
  type Maybe,
  type PeerInfo,
  type RegionUsage,
  type SocketInfo,
  type ThreadDetails,
} from './details';

export const NA_TEXT = 'n/a';

/** The value's text, or "n/a". */
export function maybeText<T>(v: Maybe<T> | undefined, text: (x: T) => string): string {
  if (v === undefined) return '';
  return isNa(v) ? NA_TEXT : text(v);
}

/** Why a value is not available (undefined when it is). */
export function reasonOf(v: unknown): string | undefined {
  return isNa(v) ? v.na : undefined;
}

export function syscallText(d: ThreadDetails): string {
  return maybeText(d.syscall, (s) =>
    s.number < 0 ? 'none (in the kernel, outside a system call)' : `${s.name ?? '?'} (${s.number})`,
  );
}

export function stateText(d: ThreadDetails): string {
  return d.state === 'unknown' ? `unknown (${d.stateCode})` : d.state;
}

export function accessText(flags: Maybe<number>): string {
  return maybeText(flags, (f) => decodeOpenFlags(f).join(' '));
}

/** "TCP 127.0.0.1:5432 LISTEN", "UDP 127.0.0.1:53 → 10.0.0.1:53", "UNIX stream /run/x.sock LISTEN". */
export function socketText(s: Maybe<SocketInfo>): string {
  return maybeText(s, (x) => {
    const kind = x.family === 'UNIX' ? `UNIX ${x.protocol}` : x.protocol;
    const local = x.local || (x.family === 'UNIX' ? '(unbound)' : '');
    const ends = x.remote ? `${local} → ${x.remote}` : local;
    return [kind, ends, x.state].filter(Boolean).join(' ');
  });
}

export function peerText(p: Maybe<PeerInfo>): string {
  return maybeText(
    p,
    (x) => `${x.name} (pid ${x.pid}, fd ${x.fd})${x.count > 1 ? ` +${x.count - 1} more` : ''}`,
  );
}

/** VMMap's memory columns from smaps counters. */
export const usageColumns = {
  /** Working set: resident pages. */
  workingSet: (u: RegionUsage): number | null => u.rss,
  /** Pages resident and mapped only here. */
  privateWs: (u: RegionUsage): number | null =>
    u.privateClean === null || u.privateDirty === null ? null : u.privateClean + u.privateDirty,
  /** Pages resident and also mapped by other processes. */
  sharedWs: (u: RegionUsage): number | null =>
    u.sharedClean === null || u.sharedDirty === null ? null : u.sharedClean + u.sharedDirty,
  dirty: (u: RegionUsage): number | null =>
    u.privateDirty === null || u.sharedDirty === null ? null : u.privateDirty + u.sharedDirty,
  pss: (u: RegionUsage): number | null => u.pss,
  swap: (u: RegionUsage): number | null => u.swap,
  locked: (u: RegionUsage): number | null => u.locked,
} as const;
export type UsageColumn = keyof typeof usageColumns;
