/**
 * VMMap-style summaries of a VA-space walk: by kind (Image, Heap, Stack, …) and by protection,
 * with the usage columns when the capture read smaps, and the map's layout.
 */
import { MemState, MemType, PageProtect } from '../../src-shared/pss/constants';
import { isNa, type RegionUsage } from '../../src-shared/pss/details';
import { usageColumns, type UsageColumn } from '../../src-shared/pss/details-text';
import type { VaSpaceEntry } from '../../src-shared/pss/entries';

/** The map's colours and the summary's rows (the details' region kinds, and Other). */
export const REGION_CATEGORIES = [
  'Image',
  'Mapped file',
  'Shared memory',
  'Heap',
  'Stack',
  'Private',
  'Reserved',
  'Kernel',
  'Free',
  'Other',
] as const;
export type RegionCategory = (typeof REGION_CATEGORIES)[number];

/** CSS class suffix of a category ("Mapped file" → "Mapped-file"). */
export function categorySlug(c: string): string {
  return c.replace(/[^A-Za-z]+/g, '-');
}

/**
 * The region's kind: the inspection details' kind when captured (threads' stacks by their
 * stack pointers, malloc arenas, shared memory…), else what the PSS fields alone tell.
 */
export function categoryOf(r: VaSpaceEntry): RegionCategory {
  if (r.details && !isNa(r.details)) return r.details.kind;
  if (r.state === MemState.FREE) return 'Free';
  switch (r.type) {
    case MemType.IMAGE:
      return 'Image';
    case MemType.MAPPED:
      return 'Mapped file';
    case MemType.PRIVATE:
      if (r.mappedFileName.startsWith('[heap]')) return 'Heap';
      if (r.mappedFileName.startsWith('[stack')) return 'Stack';
      return r.state === MemState.RESERVE ? 'Reserved' : 'Private';
    default:
      return 'Other';
  }
}

/** The region's smaps counters, or null when usage was not captured for it. */
export function usageOf(r: VaSpaceEntry): RegionUsage | null {
  return r.details && !isNa(r.details) && !isNa(r.details.usage) ? r.details.usage : null;
}

const BASE_PROTECT: [number, string][] = [
  [PageProtect.NOACCESS, 'No access'],
  [PageProtect.READONLY, 'Read'],
  [PageProtect.READWRITE, 'Read/Write'],
  [PageProtect.WRITECOPY, 'Copy on write'],
  [PageProtect.EXECUTE, 'Execute'],
  [PageProtect.EXECUTE_READ, 'Execute/Read'],
  [PageProtect.EXECUTE_READWRITE, 'Execute/Read/Write'],
  [PageProtect.EXECUTE_WRITECOPY, 'Execute/Copy on write'],
];

/** "Execute/Read", "Read/Write +Guard", "—" for 0 (no access to the information). */
export function protectLabel(p: number): string {
  if (p === 0) return '—';
  const base =
    BASE_PROTECT.find(([bit]) => (p & 0xff) === bit)?.[1] ?? `0x${(p & 0xff).toString(16)}`;
  const mods: string[] = [];
  if (p & PageProtect.GUARD) mods.push('Guard');
  if (p & PageProtect.NOCACHE) mods.push('No cache');
  if (p & PageProtect.WRITECOMBINE) mods.push('Write combine');
  return mods.length ? `${base} +${mods.join(' +')}` : base;
}

export function stateLabel(s: number): string {
  return s === MemState.COMMIT
    ? 'Commit'
    : s === MemState.RESERVE
      ? 'Reserve'
      : s === MemState.FREE
        ? 'Free'
        : `0x${s.toString(16)}`;
}

export interface SummaryRow {
  label: string;
  regions: number;
  size: number;
  committed: number;
  reserved: number;
  /** Sums of the usage columns over the regions that have usage (null: none had). */
  usage: Record<UsageColumn, number | null>;
}

const USAGE_KEYS = Object.keys(usageColumns) as UsageColumn[];

function row(label: string): SummaryRow {
  const usage = {} as Record<UsageColumn, number | null>;
  for (const k of USAGE_KEYS) usage[k] = null;
  return { label, regions: 0, size: 0, committed: 0, reserved: 0, usage };
}

function addTo(r: SummaryRow, e: VaSpaceEntry): void {
  r.regions++;
  r.size += e.regionSize;
  if (e.state === MemState.COMMIT) r.committed += e.regionSize;
  else if (e.state === MemState.RESERVE) r.reserved += e.regionSize;
  const u = usageOf(e);
  if (!u) return;
  for (const k of USAGE_KEYS) {
    const v = usageColumns[k](u);
    if (v !== null) r.usage[k] = (r.usage[k] ?? 0) + v;
  }
}

export interface VaSummary {
  byType: SummaryRow[];
  byProtect: SummaryRow[];
  total: SummaryRow;
  /** Whether any region carries usage (the capture read smaps). */
  hasUsage: boolean;
}

export function summarizeVa(regions: readonly VaSpaceEntry[]): VaSummary {
  const byType = new Map<string, SummaryRow>(REGION_CATEGORIES.map((c) => [c, row(c)]));
  const byProtect = new Map<string, SummaryRow>();
  const total = row('Total');
  let hasUsage = false;
  for (const e of regions) {
    const c = categoryOf(e);
    addTo(byType.get(c) as SummaryRow, e);
    hasUsage ||= usageOf(e) !== null;
    if (c !== 'Free') {
      addTo(total, e);
      const label = e.state === MemState.RESERVE ? 'Reserved' : protectLabel(e.protect);
      let pr = byProtect.get(label);
      if (!pr) byProtect.set(label, (pr = row(label)));
      addTo(pr, e);
    }
  }
  return {
    byType: [...byType.values()].filter((r) => r.regions > 0 || r.label === 'Free'),
    byProtect: [...byProtect.values()].sort((a, b) => b.size - a.size),
    total,
    hasUsage,
  };
}

export type VaScale = 'linear' | 'log';

/**
 * Positions of regions along the map: region i covers [starts[i], starts[i+1]) of a line of
 * length starts[n]. Linear: proportional to size. Log: proportional to log2(size / 4 KiB) + 1,
 * so a single page and a 100 GiB reservation are both visible.
 */
export function vaLine(
  regions: readonly VaSpaceEntry[],
  order: Uint32Array,
  scale: VaScale,
): Float64Array {
  const starts = new Float64Array(order.length + 1);
  let pos = 0;
  for (let i = 0; i < order.length; i++) {
    starts[i] = pos;
    const size = (regions[order[i] as number] as VaSpaceEntry).regionSize;
    pos += scale === 'linear' ? size : Math.max(1, Math.log2(Math.max(1, size / 4096)) + 1);
  }
  starts[order.length] = pos;
  return starts;
}

/** Index k such that starts[k] ≤ x < starts[k+1], or -1. */
export function lineIndexAt(starts: Float64Array, x: number): number {
  const n = starts.length - 1;
  if (n <= 0 || x < 0 || x >= (starts[n] as number)) return -1;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] as number) <= x) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
