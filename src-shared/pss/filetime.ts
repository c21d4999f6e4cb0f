/**
 * FILETIME values (100-ns intervals since 1601-01-01 UTC) as they cross process boundaries.
 *
 * A FILETIME is a 64-bit integer: as a JS number it loses precision (above 2^53, and a
 * conversion to float milliseconds drops everything below ~244 ns), and bigint does not survive
 * JSON. So it travels as its exact decimal text, and comparisons are exact string comparisons.
 * "0" means the field was 0 (Windows: not set / unknown).
 */

/** Exact FILETIME as decimal digits without leading zeros ("0" when unset). */
export type FileTime = string;

/** 100-ns intervals between 1601-01-01 and 1970-01-01. */
export const FILETIME_UNIX_EPOCH = 116444736000000000n;

export const FILETIME_UNSET: FileTime = '0';

/** The two little-endian DWORDs of a FILETIME → its exact text. */
export function fileTimeFromParts(high: number, low: number): FileTime {
  return ((BigInt(high >>> 0) << 32n) | BigInt(low >>> 0)).toString();
}

export function isFileTime(v: unknown): v is FileTime {
  return typeof v === 'string' && /^(0|[1-9][0-9]{0,19})$/.test(v) && BigInt(v) < 1n << 64n;
}

/** Whole milliseconds since the Unix epoch (display and arithmetic only), null when unset. */
export function fileTimeToEpochMs(ft: FileTime): number | null {
  const t = BigInt(ft);
  if (t === 0n) return null;
  const d = t - FILETIME_UNIX_EPOCH;
  // Floor division, so that the sub-millisecond part (fileTimeSubMs) is never negative.
  return Number(d >= 0n ? d / 10_000n : -((-d + 9_999n) / 10_000n));
}

/** Epoch milliseconds → FILETIME (for values that only ever had ms precision). */
export function fileTimeFromEpochMs(ms: number): FileTime {
  if (!Number.isFinite(ms) || ms <= 0) return FILETIME_UNSET;
  return (BigInt(Math.round(ms * 10_000)) + FILETIME_UNIX_EPOCH).toString();
}

/** Sub-millisecond part of a FILETIME, in 100-ns units (0..9999). */
export function fileTimeSubMs(ft: FileTime): number {
  const r = (BigInt(ft) - FILETIME_UNIX_EPOCH) % 10_000n;
  return Number(r < 0n ? r + 10_000n : r);
}

/** Exact ordering of two FILETIMEs. */
export function compareFileTime(a: FileTime, b: FileTime): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

/** A key that sorts like the FILETIME (fixed-width text). */
export function fileTimeSortKey(ft: FileTime): string {
  return ft.padStart(20, '0');
}

/** The FILETIME fields of walked entries (threads, handles, auxiliary pages). */
const ENTRY_TIME_FIELDS = ['createTime', 'exitTime', 'captureTime', 'creationTime'] as const;

/**
 * Version-1 trace files stored entry times as float epoch milliseconds; turns such numbers into
 * FileTime text in place (ms precision is all those files had). Other values are left for the
 * caller's validation.
 */
export function upgradeLegacyEntryTimes(entry: Record<string, unknown>): void {
  for (const k of ENTRY_TIME_FIELDS) {
    const v = entry[k];
    if (typeof v === 'number') entry[k] = fileTimeFromEpochMs(v);
  }
}
