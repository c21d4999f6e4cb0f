/**
 * A walked entry's fields in words and human units — "CPU time 1.250 s → 1.500 s (+250.0 ms)",
 * "Working set 4.0 KiB → 8.0 KiB (+4.0 KiB)", dates as local time — for the compare view and
 * any text printer of captures. Paths are the diff's field names, dotted inside the details.
 */
import { decodeOpenFlags, isNa, type PeerInfo, type SocketInfo } from '../pss/details';
import { peerText, socketText } from '../pss/details-text';
import { isFileTime } from '../pss/filetime';
import {
  formatBytes,
  formatBytesDelta,
  formatCount,
  formatCountDelta,
  formatFileTime,
  formatHundredNs,
  formatHundredNsDelta,
  hex32,
} from './format';

type Unit = 'duration' | 'date' | 'bytes' | 'count' | 'hex' | 'openFlags' | 'plain';

const UNITS: Record<string, Unit> = {
  kernelTime: 'duration',
  userTime: 'duration',
  'details.cpuTime': 'duration',
  'details.runDelay': 'duration',
  cpuTime: 'duration',
  createTime: 'date',
  exitTime: 'date',
  captureTime: 'date',
  creationTime: 'date',
  'details.created': 'date',
  regionSize: 'bytes',
  sizeOfImage: 'bytes',
  'details.size': 'bytes',
  handleCount: 'count',
  pointerCount: 'count',
  'details.position': 'count',
  'details.voluntarySwitches': 'count',
  'details.involuntarySwitches': 'count',
  flags: 'hex',
  grantedAccess: 'hex',
  attributes: 'hex',
  state: 'hex',
  protect: 'hex',
  type: 'hex',
  allocationProtect: 'hex',
  'details.openFlags': 'openFlags',
};

const LABELS: Record<string, string> = {
  kernelTime: 'Kernel time',
  userTime: 'User time',
  createTime: 'Created',
  exitTime: 'Exited',
  creationTime: 'Created',
  regionSize: 'Size',
  sizeOfImage: 'Image size',
  handleCount: 'Handles',
  grantedAccess: 'Granted access',
  suspendCount: 'Suspend count',
  lastSyscallNumber: 'Last syscall (PSS)',
  mappedFileName: 'Mapped file',
  objectName: 'Name',
  'details.cpuTime': 'CPU time',
  'details.runDelay': 'Waiting for a CPU',
  'details.state': 'State',
  'details.stateCode': 'State letter',
  'details.waitChannel': 'Wait channel',
  'details.syscall': 'System call',
  'details.syscall.number': 'System call number',
  'details.syscall.name': 'System call',
  'details.syscall.args': 'System call arguments',
  'details.stackPointer': 'Stack pointer',
  'details.instructionPointer': 'Instruction pointer',
  'details.lastCpu': 'Last CPU',
  'details.voluntarySwitches': 'Voluntary switches',
  'details.involuntarySwitches': 'Involuntary switches',
  'details.openFlags': 'Access',
  'details.position': 'Position',
  'details.created': 'Created',
  'details.socket': 'Endpoint',
  'details.peer': 'Peer',
  'details.kind': 'Kind',
  'details.note': 'Kind detail',
  'details.usage.rss': 'Working set (Rss)',
  'details.usage.pss': 'PSS',
  'details.usage.privateClean': 'Private clean',
  'details.usage.privateDirty': 'Private dirty',
  'details.usage.sharedClean': 'Shared clean',
  'details.usage.sharedDirty': 'Shared dirty',
  'details.usage.swap': 'Swap',
  'details.usage.swapPss': 'Swap PSS',
  'details.usage.locked': 'Locked',
  'details.usage.referenced': 'Referenced',
  'details.usage.anonymous': 'Anonymous',
};

function unitOf(path: string): Unit {
  if (path.startsWith('details.usage.')) return 'bytes';
  return UNITS[path] ?? 'plain';
}

/** "details.usage.privateDirty" → "Private dirty" (a known label, else the words of the name). */
export function fieldLabel(path: string): string {
  const known = LABELS[path];
  if (known) return known;
  const last = path.split('.').pop() ?? path;
  const words = last.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** One value in words: units, dates, decoded flags; "n/a (why)" for a missing one. */
export function fieldValueText(path: string, v: unknown): string {
  if (v === undefined) return '—';
  if (v === null) return 'n/a';
  if (isNa(v)) return `n/a (${v.na})`;
  const unit = unitOf(path);
  if (typeof v === 'number') {
    switch (unit) {
      case 'duration':
        return formatHundredNs(v);
      case 'bytes':
        return formatBytes(v);
      case 'count':
        return formatCount(v);
      case 'hex':
        return hex32(v);
      case 'openFlags':
        return decodeOpenFlags(v).join(' ');
      default:
        return String(v);
    }
  }
  if (typeof v === 'string') {
    if (unit === 'date' && isFileTime(v)) return formatFileTime(v);
    return v;
  }
  if (path === 'details.socket') return socketText(v as SocketInfo);
  if (path === 'details.peer') return peerText(v as PeerInfo);
  if (path === 'details.syscall') {
    const s = v as { number: number; name: string | null };
    return s.number < 0 ? 'none' : `${s.name ?? '?'} (${s.number})`;
  }
  return JSON.stringify(v);
}

/** The change in the field's unit ("+250.0 ms", "+4.00 KiB"), or null when not numeric. */
export function fieldDelta(path: string, before: unknown, after: unknown): string | null {
  if (typeof before !== 'number' || typeof after !== 'number') return null;
  switch (unitOf(path)) {
    case 'duration':
      return formatHundredNsDelta(after - before);
    case 'bytes':
      return formatBytesDelta(after - before);
    case 'count':
      return formatCountDelta(after - before);
    default:
      return null;
  }
}

export interface FieldChangeText {
  path: string;
  label: string;
  before: string;
  after: string;
  delta: string | null;
}

export function describeChange(path: string, before: unknown, after: unknown): FieldChangeText {
  return {
    path,
    label: fieldLabel(path),
    before: fieldValueText(path, before),
    after: fieldValueText(path, after),
    delta: fieldDelta(path, before, after),
  };
}

/** "CPU time 1.250 s → 1.500 s (+250.0 ms)". */
export function changeLine(c: FieldChangeText): string {
  return `${c.label} ${c.before} → ${c.after}${c.delta ? ` (${c.delta})` : ''}`;
}
