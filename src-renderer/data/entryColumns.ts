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
import { humanObjectType, isNa, known, type ModuleInfo } from '../../src-shared/pss/details';
import {
  NA_TEXT,
  accessText,
  maybeText,
  peerText,
  reasonOf,
  socketText,
  stateText,
  syscallText,
  usageColumns,
  type UsageColumn,
} from '../../src-shared/pss/details-text';
import { fileTimeSortKey } from '../../src-shared/pss/filetime';
import {
  formatBytes,
  formatCount,
  formatFileTime,
  formatHundredNs,
  hex32,
  parseHex,
} from '../lib/format';
import { categoryOf, protectLabel, stateLabel, usageOf } from './vaSummary';

export interface ColumnSpec<T> {
  id: string;
  label: string;
  /** Preferred width in px (data/columnFit.ts widens cut columns, then the last, or shrinks). */
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
  /** Tooltip of a cell (why a value is n/a); default: the text when it is long. */
  cellTitle?(row: T): string | undefined;
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

/** Details of an entry when captured, else null (a reason or nothing). */
const tdet = (t: ThreadEntry) => (t.details && !isNa(t.details) ? t.details : null);
const hdet = (h: HandleEntry) => (h.details && !isNa(h.details) ? h.details : null);

/** Why a whole entry has no details (captured by another platform, thread gone…). */
const entryReason = (e: { details?: unknown }): string =>
  e.details === undefined
    ? 'the inspection details were not captured with this snapshot'
    : (reasonOf(e.details) ?? '');

const NO_START =
  "Linux does not record a thread's start routine (glibc keeps it in private TCB fields)";
const NO_TEB = 'known only with a thread-context capture (fs_base read with ptrace)';

export const THREAD_COLUMNS: ColumnSpec<ThreadEntry>[] = [
  col({
    id: 'tid',
    label: 'TID',
    width: 76,
    minWidth: 70,
    align: 'right',
    text: (t) => String(t.threadId),
    sortKey: (t) => t.threadId,
  }),
  col({
    id: 'name',
    label: 'Name',
    width: 130,
    minWidth: 110,
    title: 'Thread name (comm; pthread_setname_np)',
    text: (t) => tdet(t)?.name ?? NA_TEXT,
    sortKey: (t) => tdet(t)?.name ?? '',
    cellTitle: (t) => (tdet(t) ? undefined : entryReason(t)),
  }),
  col({
    id: 'state',
    label: 'State',
    width: 100,
    minWidth: 80,
    text: (t) => {
      const d = tdet(t);
      if (d) return stateText(d);
      return t.flags & PssThreadFlags.TERMINATED ? `terminated (${t.exitStatus})` : NA_TEXT;
    },
    sortKey: (t) => tdet(t)?.stateCode ?? String(t.flags),
    cellTitle: (t) => (tdet(t) ? undefined : entryReason(t)),
  }),
  col({
    id: 'wait',
    drop: 5,
    label: 'Wait channel',
    width: 150,
    minWidth: 110,
    mono: true,
    title: 'The kernel function a sleeping thread waits in (wchan)',
    text: (t) => maybeText(tdet(t)?.waitChannel, (w) => w) || NA_TEXT,
    sortKey: (t) => known(tdet(t)?.waitChannel) ?? '',
    cellTitle: (t) => reasonOf(tdet(t)?.waitChannel) ?? (tdet(t) ? undefined : entryReason(t)),
  }),
  col({
    id: 'syscall',
    drop: 6,
    label: 'System call',
    width: 150,
    minWidth: 120,
    title: 'The system call the thread is in (/proc/TID/syscall), with its number',
    text: (t) => {
      const d = tdet(t);
      if (d) return syscallText(d);
      return t.context ? String(t.lastSyscallNumber) : NA_TEXT;
    },
    sortKey: (t) => {
      const s = known(tdet(t)?.syscall);
      return s ? s.number : -2;
    },
    cellTitle: (t) => reasonOf(tdet(t)?.syscall) ?? (tdet(t) ? undefined : entryReason(t)),
  }),
  col({
    id: 'cpu',
    drop: 7,
    label: 'CPU time',
    width: 80,
    minWidth: 70,
    align: 'right',
    title: 'Time on a CPU (schedstat, exact)',
    text: (t) => maybeText(tdet(t)?.cpuTime, formatHundredNs) || NA_TEXT,
    sortKey: (t) => known(tdet(t)?.cpuTime) ?? -1,
    cellTitle: (t) => reasonOf(tdet(t)?.cpuTime) ?? (tdet(t) ? undefined : entryReason(t)),
  }),
  col({
    id: 'kernel',
    drop: 3,
    label: 'Kernel',
    width: 72,
    minWidth: 66,
    align: 'right',
    text: (t) => formatHundredNs(t.kernelTime),
    sortKey: (t) => t.kernelTime,
  }),
  col({
    id: 'user',
    drop: 3,
    label: 'User',
    width: 72,
    minWidth: 66,
    align: 'right',
    text: (t) => formatHundredNs(t.userTime),
    sortKey: (t) => t.userTime,
  }),
  col({
    id: 'priority',
    drop: 2,
    label: 'Prio',
    width: 46,
    align: 'right',
    title: 'Windows priority (mapped from policy and nice)',
    text: (t) => String(t.priority),
    sortKey: (t) => t.priority,
  }),
  col({
    id: 'nice',
    drop: 2,
    label: 'Nice',
    width: 46,
    align: 'right',
    text: (t) => (tdet(t) ? String(tdet(t)?.nice) : NA_TEXT),
    sortKey: (t) => tdet(t)?.nice ?? 99,
  }),
  col({
    id: 'policy',
    drop: 1,
    label: 'Policy',
    width: 108,
    text: (t) => {
      const d = tdet(t);
      return d ? (d.rtPriority ? `${d.policy} ${d.rtPriority}` : d.policy) : NA_TEXT;
    },
    sortKey: (t) => tdet(t)?.policy ?? '',
  }),
  col({
    id: 'affinity',
    drop: 2,
    label: 'Affinity',
    width: 80,
    mono: true,
    title: 'CPUs the thread may run on',
    text: (t) => maybeText(tdet(t)?.affinity, (a) => a) || NA_TEXT,
    sortKey: (t) => known(tdet(t)?.affinity) ?? '',
    cellTitle: (t) => reasonOf(tdet(t)?.affinity),
  }),
  col({
    id: 'lastCpu',
    drop: 1,
    label: 'CPU',
    width: 44,
    align: 'right',
    title: 'The CPU it last ran on',
    text: (t) => (tdet(t) ? String(tdet(t)?.lastCpu) : NA_TEXT),
    sortKey: (t) => tdet(t)?.lastCpu ?? -1,
  }),
  col({
    id: 'sp',
    drop: 4,
    label: 'Stack pointer',
    width: 130,
    minWidth: 118,
    mono: true,
    text: (t) => t.context?.rsp ?? (maybeText(tdet(t)?.stackPointer, (x) => x) || NA_TEXT),
    sortKey: (t) => parseHex(t.context?.rsp ?? known(tdet(t)?.stackPointer) ?? ''),
    cellTitle: (t) =>
      t.context
        ? undefined
        : (reasonOf(tdet(t)?.stackPointer) ?? (tdet(t) ? undefined : entryReason(t))),
  }),
  col({
    id: 'rip',
    drop: 4,
    label: 'Instruction pointer',
    width: 130,
    minWidth: 118,
    mono: true,
    text: (t) => t.context?.rip ?? (maybeText(tdet(t)?.instructionPointer, (x) => x) || NA_TEXT),
    sortKey: (t) => parseHex(t.context?.rip ?? known(tdet(t)?.instructionPointer) ?? ''),
    cellTitle: (t) =>
      t.context
        ? undefined
        : (reasonOf(tdet(t)?.instructionPointer) ?? (tdet(t) ? undefined : entryReason(t))),
  }),
  col({
    id: 'switches',
    drop: 1,
    label: 'Switches',
    width: 90,
    align: 'right',
    title: 'Context switches: voluntary / involuntary',
    text: (t) => {
      const d = tdet(t);
      return d
        ? `${formatCount(d.voluntarySwitches)} / ${formatCount(d.involuntarySwitches)}`
        : NA_TEXT;
    },
    sortKey: (t) => tdet(t)?.voluntarySwitches ?? -1,
  }),
  col({
    id: 'created',
    drop: 1,
    label: 'Created',
    width: 175,
    minWidth: 160,
    text: (t) => formatFileTime(t.createTime),
    sortKey: (t) => fileTimeSortKey(t.createTime),
  }),
  col({
    id: 'start',
    drop: 1,
    label: 'Start address',
    width: 110,
    mono: true,
    text: (t) => (t.win32StartAddress === '0x0' ? NA_TEXT : t.win32StartAddress),
    sortKey: (t) => parseHex(t.win32StartAddress),
    cellTitle: (t) => (t.win32StartAddress === '0x0' ? NO_START : undefined),
  }),
  col({
    id: 'teb',
    drop: 1,
    label: 'TEB',
    width: 110,
    mono: true,
    text: (t) => (t.tebBaseAddress === '0x0' ? NA_TEXT : t.tebBaseAddress),
    sortKey: (t) => parseHex(t.tebBaseAddress),
    cellTitle: (t) => (t.tebBaseAddress === '0x0' ? NO_TEB : undefined),
  }),
  col({
    id: 'suspend',
    drop: 1,
    label: 'Susp.',
    width: 50,
    align: 'right',
    text: (t) => String(t.suspendCount),
    sortKey: (t) => t.suspendCount,
  }),
];

export const HANDLE_COLUMNS: ColumnSpec<HandleEntry>[] = [
  col({
    id: 'handle',
    label: 'Handle',
    width: 64,
    minWidth: 56,
    align: 'right',
    text: (h) => String(h.handle),
    sortKey: (h) => h.handle,
  }),
  col({
    id: 'type',
    label: 'Type',
    width: 150,
    minWidth: 130,
    text: (h) => humanObjectType(h.typeName, h.objectName, h.details),
    sortKey: (h) => humanObjectType(h.typeName, h.objectName, h.details),
    cellTitle: (h) => `TypeName ${h.typeName}`,
  }),
  col({
    id: 'objectType',
    drop: 2,
    label: 'PSS type',
    width: 84,
    title: 'PSS_OBJECT_TYPE',
    text: (h) => (h.flags & PssHandleFlags.HAVE_TYPE ? nameOf(h.objectType, PssObjectType) : ''),
    sortKey: (h) => h.objectType,
  }),
  col({
    id: 'name',
    label: 'Name',
    width: 260,
    minWidth: 160,
    text: (h) => h.objectName,
    sortKey: (h) => h.objectName,
  }),
  col({
    id: 'access',
    drop: 6,
    label: 'Access',
    width: 170,
    minWidth: 120,
    title: 'Open flags (fdinfo): access mode, append, nonblock, cloexec, …',
    text: (h) => {
      const d = hdet(h);
      if (d) return accessText(d.openFlags);
      return h.flags & PssHandleFlags.HAVE_BASIC_INFORMATION ? hex32(h.grantedAccess) : '';
    },
    sortKey: (h) => known(hdet(h)?.openFlags) ?? h.grantedAccess,
    cellTitle: (h) => {
      const d = hdet(h);
      return d
        ? (reasonOf(d.openFlags) ?? `GrantedAccess ${hex32(h.grantedAccess)}`)
        : entryReason(h);
    },
  }),
  col({
    id: 'socket',
    drop: 7,
    label: 'Endpoint',
    width: 290,
    minWidth: 200,
    mono: true,
    title: 'Sockets: protocol, local → remote endpoint, state (like ss)',
    text: (h) => {
      const d = hdet(h);
      return d && d.kind === 'socket' ? socketText(d.socket) : '';
    },
    sortKey: (h) => {
      const d = hdet(h);
      return d && d.kind === 'socket' ? socketText(d.socket) : '';
    },
    cellTitle: (h) => reasonOf(hdet(h)?.socket),
  }),
  col({
    id: 'peer',
    drop: 5,
    label: 'Peer',
    width: 190,
    minWidth: 150,
    title: 'The process holding the other end of the pipe or socket',
    text: (h) => {
      const d = hdet(h);
      return d && (d.kind === 'pipe' || d.kind === 'socket') ? peerText(d.peer) : '';
    },
    sortKey: (h) => known(hdet(h)?.peer)?.pid ?? -1,
    cellTitle: (h) => reasonOf(hdet(h)?.peer),
  }),
  col({
    id: 'position',
    drop: 3,
    label: 'Position',
    width: 80,
    minWidth: 64,
    align: 'right',
    title: 'File position (fdinfo pos)',
    text: (h) => maybeText(hdet(h)?.position, formatCount),
    sortKey: (h) => known(hdet(h)?.position) ?? -1,
    cellTitle: (h) => reasonOf(hdet(h)?.position),
  }),
  col({
    id: 'created',
    drop: 4,
    label: 'Created',
    width: 175,
    minWidth: 160,
    text: (h) => {
      const d = hdet(h);
      if (!d) return h.details === undefined ? formatFileTime(h.creationTime) : NA_TEXT;
      return maybeText(d.created, formatFileTime);
    },
    sortKey: (h) => {
      const d = hdet(h);
      const ft = d ? known(d.created) : h.creationTime;
      return fileTimeSortKey(ft ?? '0');
    },
    cellTitle: (h) => reasonOf(hdet(h)?.created),
  }),
  col({
    id: 'attrs',
    drop: 2,
    label: 'Attr',
    width: 50,
    align: 'right',
    title: 'Attributes (0x2 = inherit)',
    text: (h) => `0x${h.attributes.toString(16)}`,
    sortKey: (h) => h.attributes,
  }),
  col({
    id: 'count',
    drop: 3,
    label: 'Handles',
    width: 62,
    align: 'right',
    title: 'Handles (fds) sharing this open file description',
    text: (h) => String(h.handleCount),
    sortKey: (h) => h.handleCount,
  }),
  col({
    id: 'inode',
    drop: 1,
    label: 'Inode',
    width: 90,
    align: 'right',
    text: (h) => maybeText(hdet(h)?.inode, String),
    sortKey: (h) => known(hdet(h)?.inode) ?? -1,
    cellTitle: (h) => reasonOf(hdet(h)?.inode),
  }),
  col({
    id: 'specific',
    drop: 1,
    label: 'Type-specific',
    width: 240,
    text: (h) => typeSpecificText(h.typeSpecific),
    sortKey: (h) => typeSpecificText(h.typeSpecific),
  }),
];

/** The region's kind with what it belongs to: "Stack (thread 1234)", "Heap (malloc arena)". */
export function kindText(r: VaSpaceEntry): string {
  const c = categoryOf(r);
  const note = r.details && !isNa(r.details) ? r.details.note : '';
  return note ? `${c} (${note})` : c;
}

function usageColumn(
  id: UsageColumn,
  label: string,
  title: string,
  drop: number,
): ColumnSpec<VaSpaceEntry> {
  const value = (r: VaSpaceEntry): number | null => {
    const u = usageOf(r);
    return u ? usageColumns[id](u) : null;
  };
  return col({
    id,
    label,
    drop,
    width: 96,
    minWidth: 76,
    align: 'right',
    title,
    text: (r) => {
      if (r.state === MemState.FREE) return '';
      const v = value(r);
      return v === null ? NA_TEXT : formatBytes(v);
    },
    sortKey: (r) => value(r) ?? -1,
    cellTitle: (r) => {
      if (r.state === MemState.FREE || value(r) !== null) return undefined;
      if (!r.details) return entryReason(r);
      return isNa(r.details)
        ? r.details.na
        : (reasonOf(r.details.usage) ?? 'the kernel did not report this counter');
    },
  });
}

export const REGION_COLUMNS: ColumnSpec<VaSpaceEntry>[] = [
  col({
    id: 'base',
    label: 'Address',
    width: 124,
    minWidth: 118,
    mono: true,
    text: (r) => r.baseAddress,
    sortKey: (r) => parseHex(r.baseAddress),
  }),
  col({
    id: 'size',
    label: 'Size',
    width: 84,
    minWidth: 72,
    align: 'right',
    text: (r) => formatBytes(r.regionSize),
    sortKey: (r) => r.regionSize,
  }),
  col({
    id: 'category',
    label: 'Type',
    width: 170,
    minWidth: 130,
    text: kindText,
    sortKey: kindText,
    cellTitle: (r) => (r.details && isNa(r.details) ? r.details.na : undefined),
  }),
  usageColumn('workingSet', 'Working set', 'Resident (smaps Rss)', 7),
  usageColumn(
    'privateWs',
    'Private WS',
    'Resident and mapped only here (Private_Clean + Private_Dirty)',
    6,
  ),
  usageColumn(
    'sharedWs',
    'Shared WS',
    'Resident and also mapped elsewhere (Shared_Clean + Shared_Dirty)',
    5,
  ),
  usageColumn('pss', 'PSS', 'Proportional share: shared pages divided by their mappers', 6),
  usageColumn('dirty', 'Dirty', 'Modified resident pages (Private_Dirty + Shared_Dirty)', 4),
  usageColumn('swap', 'Swap', 'Swapped out (smaps Swap)', 4),
  usageColumn('locked', 'Locked', 'Locked in memory (mlock)', 3),
  col({
    id: 'state',
    drop: 3,
    label: 'State',
    width: 62,
    minWidth: 56,
    text: (r) => stateLabel(r.state),
    sortKey: (r) => r.state,
  }),
  col({
    id: 'protect',
    drop: 5,
    label: 'Protection',
    width: 130,
    minWidth: 100,
    text: (r) => (r.state === MemState.COMMIT ? protectLabel(r.protect) : ''),
    sortKey: (r) => r.protect,
  }),
  col({
    id: 'file',
    label: 'Details',
    width: 300,
    minWidth: 160,
    text: (r) => r.mappedFileName,
    sortKey: (r) => r.mappedFileName,
  }),
  col({
    id: 'allocBase',
    drop: 2,
    label: 'Allocation base',
    width: 124,
    mono: true,
    text: (r) => (r.state === MemState.FREE ? '' : r.allocationBase),
    sortKey: (r) => parseHex(r.allocationBase),
  }),
  col({
    id: 'allocProtect',
    drop: 1,
    label: 'Alloc. protection',
    width: 130,
    text: (r) => (r.state === MemState.FREE ? '' : protectLabel(r.allocationProtect)),
    sortKey: (r) => r.allocationProtect,
  }),
  col({
    id: 'image',
    drop: 1,
    label: 'Image size',
    width: 84,
    align: 'right',
    text: (r) => (r.sizeOfImage ? formatBytes(r.sizeOfImage) : ''),
    sortKey: (r) => r.sizeOfImage,
  }),
];

export const MODULE_COLUMNS: ColumnSpec<ModuleInfo>[] = [
  col({
    id: 'name',
    label: 'Module',
    width: 200,
    minWidth: 140,
    text: (m) => m.path.split('/').pop() ?? m.path,
    sortKey: (m) => m.path.split('/').pop() ?? m.path,
  }),
  col({
    id: 'base',
    drop: 4,
    label: 'Base',
    width: 124,
    minWidth: 118,
    mono: true,
    text: (m) => m.base,
    sortKey: (m) => parseHex(m.base),
  }),
  col({
    id: 'size',
    label: 'Size',
    width: 84,
    minWidth: 72,
    align: 'right',
    text: (m) => formatBytes(m.size),
    sortKey: (m) => m.size,
  }),
  col({
    id: 'soname',
    drop: 3,
    label: 'Soname',
    width: 170,
    text: (m) => m.soname ?? '',
    sortKey: (m) => m.soname ?? '',
  }),
  col({
    id: 'buildId',
    drop: 5,
    label: 'Build-id',
    width: 310,
    minWidth: 200,
    mono: true,
    text: (m) => maybeText(m.buildId, (b) => b),
    sortKey: (m) => known(m.buildId) ?? '',
    cellTitle: (m) => reasonOf(m.buildId),
  }),
  col({
    id: 'flags',
    drop: 2,
    label: 'Kind',
    width: 150,
    text: (m) =>
      [
        m.mainExecutable ? 'executable' : m.vdso ? 'vDSO' : 'library',
        m.positionIndependent && !m.vdso ? 'PIE/DSO' : '',
        m.deleted ? 'deleted' : '',
      ]
        .filter(Boolean)
        .join(', '),
    sortKey: (m) => (m.mainExecutable ? 0 : m.vdso ? 2 : 1),
  }),
  col({
    id: 'path',
    drop: 1,
    label: 'Path',
    width: 420,
    text: (m) => m.path,
    sortKey: (m) => m.path,
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
