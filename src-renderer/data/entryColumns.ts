/**
 * Column definitions of the walk-entry tables (threads, handles, regions, auxiliary pages),
 * shared by the snapshot explorer, the walk view and the compare view. Text only: no DOM.
 */
import {
  MemState,
  PssHandleFlags,
  PssObjectType,
  PssThreadFlags,
  STILL_ACTIVE,
  flagNames,
  nameOf,
} from '../../src-shared/pss/constants';
import type { WalkableClass } from '../../src-shared/pss/constants';
import type {
  AuxPageEntry,
  HandleEntry,
  HandleTypeSpecific,
  ThreadEntry,
  VaSpaceEntry,
  WalkEntry,
} from '../../src-shared/pss/entries';
import { fileTimeSortKey } from '../../src-shared/pss/filetime';
import { formatBytes, formatFileTime, formatHundredNs, hex32, parseHex } from '../lib/format';
import { categoryOf, protectLabel, stateLabel } from './vaSummary';

export interface ColumnSpec<T> {
  id: string;
  label: string;
  /** Preferred width in px (the last column stretches; data/columnFit.ts shrinks to fit). */
  width: number;
  /** Narrowest useful width in px (default 60 % of width, at least 40). */
  minWidth?: number;
  /** Hidden when the table is too narrow even at minimum widths; lower goes first. */
  drop?: number;
  align?: 'right';
  /** Monospace (addresses, hex). */
  mono?: boolean;
  title?: string;
  text(row: T): string;
  sortKey(row: T): number | string;
}

function col<T>(spec: ColumnSpec<T>): ColumnSpec<T> {
  return spec;
}

const exitText = (s: number): string => (s === STILL_ACTIVE ? 'active' : String(s));

export function typeSpecificText(t: HandleTypeSpecific | null): string {
  if (!t) return '';
  switch (t.type) {
    case 'process':
      return `pid ${t.processId} ppid ${t.parentProcessId} exit ${exitText(t.exitStatus)}`;
    case 'thread':
      return `tid ${t.threadId} of pid ${t.processId} prio ${t.priority}`;
    case 'mutant':
      return `count ${t.currentCount}${t.abandoned ? ' abandoned' : ''} owner ${t.ownerProcessId}:${t.ownerThreadId}`;
    case 'event':
      return `${t.manualReset ? 'manual' : 'auto'}-reset, ${t.signaled ? 'signaled' : 'not signaled'}`;
    case 'section':
      return `${formatBytes(t.maximumSize)} at ${t.baseAddress} attrs ${hex32(t.allocationAttributes)}`;
    case 'semaphore':
      return `count ${t.currentCount} / ${t.maximumCount}`;
    default:
      return '';
  }
}

export const THREAD_COLUMNS: ColumnSpec<ThreadEntry>[] = [
  col({
    id: 'tid',
    label: 'TID',
    width: 80,
    align: 'right',
    text: (t) => String(t.threadId),
    sortKey: (t) => t.threadId,
  }),
  col({
    id: 'priority',
    label: 'Prio',
    width: 50,
    align: 'right',
    text: (t) => String(t.priority),
    sortKey: (t) => t.priority,
  }),
  col({
    id: 'base',
    label: 'Base',
    width: 50,
    drop: 2,
    align: 'right',
    text: (t) => String(t.basePriority),
    sortKey: (t) => t.basePriority,
  }),
  col({
    id: 'start',
    label: 'Start address',
    width: 130,
    drop: 4,
    mono: true,
    text: (t) => t.win32StartAddress,
    sortKey: (t) => parseHex(t.win32StartAddress),
  }),
  col({
    id: 'teb',
    label: 'TEB',
    width: 130,
    drop: 1,
    mono: true,
    text: (t) => t.tebBaseAddress,
    sortKey: (t) => parseHex(t.tebBaseAddress),
  }),
  col({
    id: 'created',
    label: 'Created',
    width: 175,
    minWidth: 160,
    text: (t) => formatFileTime(t.createTime),
    sortKey: (t) => fileTimeSortKey(t.createTime),
  }),
  col({
    id: 'kernel',
    label: 'Kernel',
    width: 80,
    align: 'right',
    text: (t) => formatHundredNs(t.kernelTime),
    sortKey: (t) => t.kernelTime,
  }),
  col({
    id: 'user',
    label: 'User',
    width: 80,
    align: 'right',
    text: (t) => formatHundredNs(t.userTime),
    sortKey: (t) => t.userTime,
  }),
  col({
    id: 'syscall',
    label: 'Syscall',
    width: 70,
    drop: 3,
    align: 'right',
    title: 'Last system call number',
    text: (t) => String(t.lastSyscallNumber),
    sortKey: (t) => t.lastSyscallNumber,
  }),
  col({
    id: 'suspend',
    label: 'Susp.',
    width: 50,
    align: 'right',
    text: (t) => String(t.suspendCount),
    sortKey: (t) => t.suspendCount,
  }),
  col({
    id: 'state',
    label: 'State',
    width: 110,
    text: (t) =>
      t.flags & PssThreadFlags.TERMINATED ? `terminated (${t.exitStatus})` : exitText(t.exitStatus),
    sortKey: (t) => t.flags,
  }),
  col({
    id: 'rip',
    label: 'RIP',
    width: 130,
    mono: true,
    text: (t) => t.context?.rip ?? '',
    sortKey: (t) => parseHex(t.context?.rip ?? ''),
  }),
];

export const HANDLE_COLUMNS: ColumnSpec<HandleEntry>[] = [
  col({
    id: 'handle',
    label: 'Handle',
    width: 70,
    align: 'right',
    text: (h) => String(h.handle),
    sortKey: (h) => h.handle,
  }),
  col({
    id: 'type',
    label: 'Type',
    width: 110,
    text: (h) => h.typeName,
    sortKey: (h) => h.typeName,
  }),
  col({
    id: 'objectType',
    label: 'Object type',
    width: 95,
    text: (h) => (h.flags & PssHandleFlags.HAVE_TYPE ? nameOf(h.objectType, PssObjectType) : ''),
    sortKey: (h) => h.objectType,
  }),
  col({
    id: 'name',
    label: 'Name',
    width: 300,
    text: (h) => h.objectName,
    sortKey: (h) => h.objectName,
  }),
  col({
    id: 'access',
    label: 'Access',
    width: 95,
    mono: true,
    text: (h) => (h.flags & PssHandleFlags.HAVE_BASIC_INFORMATION ? hex32(h.grantedAccess) : ''),
    sortKey: (h) => h.grantedAccess,
  }),
  col({
    id: 'attrs',
    label: 'Attr',
    width: 55,
    drop: 2,
    align: 'right',
    title: 'Attributes (0x2 = inherit)',
    text: (h) => `0x${h.attributes.toString(16)}`,
    sortKey: (h) => h.attributes,
  }),
  col({
    id: 'count',
    label: 'Handles',
    width: 65,
    drop: 3,
    align: 'right',
    text: (h) => String(h.handleCount),
    sortKey: (h) => h.handleCount,
  }),
  col({
    id: 'created',
    label: 'Created',
    width: 175,
    minWidth: 160,
    drop: 1,
    text: (h) => formatFileTime(h.creationTime),
    sortKey: (h) => fileTimeSortKey(h.creationTime),
  }),
  col({
    id: 'specific',
    label: 'Type-specific',
    width: 260,
    text: (h) => typeSpecificText(h.typeSpecific),
    sortKey: (h) => typeSpecificText(h.typeSpecific),
  }),
];

export const REGION_COLUMNS: ColumnSpec<VaSpaceEntry>[] = [
  col({
    id: 'base',
    label: 'Address',
    width: 130,
    mono: true,
    text: (r) => r.baseAddress,
    sortKey: (r) => parseHex(r.baseAddress),
  }),
  col({
    id: 'size',
    label: 'Size',
    width: 90,
    align: 'right',
    text: (r) => formatBytes(r.regionSize),
    sortKey: (r) => r.regionSize,
  }),
  col({
    id: 'category',
    label: 'Type',
    width: 70,
    text: (r) => categoryOf(r),
    sortKey: (r) => categoryOf(r),
  }),
  col({
    id: 'state',
    label: 'State',
    width: 65,
    text: (r) => stateLabel(r.state),
    sortKey: (r) => r.state,
  }),
  col({
    id: 'protect',
    label: 'Protection',
    width: 140,
    text: (r) => (r.state === MemState.COMMIT ? protectLabel(r.protect) : ''),
    sortKey: (r) => r.protect,
  }),
  col({
    id: 'allocBase',
    label: 'Allocation base',
    width: 130,
    drop: 2,
    mono: true,
    text: (r) => (r.state === MemState.FREE ? '' : r.allocationBase),
    sortKey: (r) => parseHex(r.allocationBase),
  }),
  col({
    id: 'allocProtect',
    label: 'Alloc. protection',
    width: 140,
    drop: 1,
    text: (r) => (r.state === MemState.FREE ? '' : protectLabel(r.allocationProtect)),
    sortKey: (r) => r.allocationProtect,
  }),
  col({
    id: 'file',
    label: 'Details',
    width: 320,
    text: (r) => r.mappedFileName,
    sortKey: (r) => r.mappedFileName,
  }),
  col({
    id: 'image',
    label: 'Image size',
    width: 90,
    drop: 3,
    align: 'right',
    text: (r) => (r.sizeOfImage ? formatBytes(r.sizeOfImage) : ''),
    sortKey: (r) => r.sizeOfImage,
  }),
];

export const PAGE_COLUMNS: ColumnSpec<AuxPageEntry>[] = [
  col({
    id: 'address',
    label: 'Address',
    width: 130,
    mono: true,
    text: (p) => p.address,
    sortKey: (p) => parseHex(p.address),
  }),
  col({
    id: 'pageSize',
    label: 'Page size',
    width: 80,
    align: 'right',
    text: (p) => formatBytes(p.pageSize),
    sortKey: (p) => p.pageSize,
  }),
  col({
    id: 'state',
    label: 'State',
    width: 65,
    text: (p) => stateLabel(p.basicInformation.state),
    sortKey: (p) => p.basicInformation.state,
  }),
  col({
    id: 'protect',
    label: 'Protection',
    width: 140,
    text: (p) => protectLabel(p.basicInformation.protect),
    sortKey: (p) => p.basicInformation.protect,
  }),
  col({
    id: 'captured',
    label: 'Captured',
    width: 175,
    minWidth: 160,
    drop: 1,
    text: (p) => formatFileTime(p.captureTime),
    sortKey: (p) => fileTimeSortKey(p.captureTime),
  }),
  col({
    id: 'preview',
    label: 'Contents',
    width: 300,
    mono: true,
    text: (p) => p.contentsPreview,
    sortKey: (p) => p.contentsPreview,
  }),
];

/** Columns of a walk class, typed loosely for generic tables. */
export function columnsFor(cls: WalkableClass): ColumnSpec<WalkEntry>[] {
  switch (cls) {
    case 'THREADS':
      return THREAD_COLUMNS as unknown as ColumnSpec<WalkEntry>[];
    case 'HANDLES':
      return HANDLE_COLUMNS as unknown as ColumnSpec<WalkEntry>[];
    case 'VA_SPACE':
      return REGION_COLUMNS as unknown as ColumnSpec<WalkEntry>[];
    case 'AUXILIARY_PAGES':
      return PAGE_COLUMNS as unknown as ColumnSpec<WalkEntry>[];
    default:
      return [];
  }
}

/** Lower-case text of every column, for the filter box. */
export function searchText<T>(cols: readonly ColumnSpec<T>[], row: T): string {
  let s = '';
  for (const c of cols) s += c.text(row) + ' ';
  return s;
}

export const CLASS_LABELS: Record<WalkableClass, string> = {
  THREADS: 'Threads',
  HANDLES: 'Handles',
  VA_SPACE: 'VA space',
  AUXILIARY_PAGES: 'Aux pages',
};

/** Handle flag names for a detail line. */
export function handleFlagText(h: HandleEntry): string {
  return flagNames(h.flags, PssHandleFlags).join(' | ');
}
