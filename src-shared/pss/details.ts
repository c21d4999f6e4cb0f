/**
 * Inspection details: what VMMap and System Informer show that the PSS structures have no
 * field for (thread names, states, wait channels and system calls; handle types, open flags,
 * socket endpoints and peers; per-region memory usage and kinds; the module list).
 *
 * On Linux they come from libpss's PssLinuxCaptureSnapshotAndDetails, captured at the same
 * moment as the snapshot (src-main/pss/details.ts decodes them). The Windows sources of each
 * fact are named in docs/linux-mapping.md ("Inspection details"), so a Windows build can fill
 * the same fields. Plain JSON: the renderer, the host and a command-line printer all read
 * the same objects.
 *
 * A fact that is not known is a NotAvailable carrying the reason, never a zero.
 */
import type { FileTime } from './filetime';
import type { HexAddress } from './entries';

/** A value we do not have, and why ("needs ptrace access…", "running on a CPU…"). */
export interface NotAvailable {
  na: string;
}
export type Maybe<T> = T | NotAvailable;

export function na(reason: string): NotAvailable {
  return { na: reason };
}

export function isNa(v: unknown): v is NotAvailable {
  return typeof v === 'object' && v !== null && typeof (v as { na?: unknown }).na === 'string';
}

/** The value, or null when it is not available. */
export function known<T>(v: Maybe<T> | undefined): T | null {
  return v === undefined || isNa(v) ? null : v;
}

// ---- threads ------------------------------------------------------------------------------

export type ThreadState =
  | 'running'
  | 'sleeping'
  | 'disk wait'
  | 'stopped'
  | 'tracing stop'
  | 'zombie'
  | 'dead'
  | 'idle'
  | 'parked'
  | 'unknown';

const THREAD_STATES: Record<string, ThreadState> = {
  R: 'running',
  S: 'sleeping',
  D: 'disk wait',
  T: 'stopped',
  t: 'tracing stop',
  Z: 'zombie',
  X: 'dead',
  x: 'dead',
  I: 'idle',
  P: 'parked',
};

/** Linux task state letter (ps STAT's first letter) → state. */
export function threadStateOf(code: string): ThreadState {
  return THREAD_STATES[code] ?? 'unknown';
}

export interface SyscallInfo {
  /** Linux syscall number; -1 = blocked outside a system call (a page fault, …). */
  number: number;
  /** "futex", …; null for -1 or a number the table does not know. */
  name: string | null;
  /** The six argument registers (empty for -1). */
  args: HexAddress[];
}

export interface ThreadDetails {
  /** comm (pthread_setname_np) — Windows: GetThreadDescription. */
  name: string;
  /** The task state letter (R, S, D, T, t, Z, X, I, P). */
  stateCode: string;
  state: ThreadState;
  /** The kernel function a sleeping thread waits in — Windows: the wait reason. */
  waitChannel: Maybe<string>;
  /** The current system call — Windows: ThreadLastSystemCall. */
  syscall: Maybe<SyscallInfo>;
  /** User stack and instruction pointer where the thread left user space. */
  stackPointer: Maybe<HexAddress>;
  instructionPointer: Maybe<HexAddress>;
  /** Exact CPU time and time spent waiting for a CPU (100-ns units) — Windows: ThreadTimes. */
  cpuTime: Maybe<number>;
  runDelay: Maybe<number>;
  nice: number;
  /** The kernel's priority value (stat field 18: 0-39 for normal threads, negative for RT). */
  kernelPriority: number;
  /** SCHED_OTHER, SCHED_FIFO, … */
  policy: string;
  rtPriority: number;
  lastCpu: number;
  /** CPUs the thread may run on, as a list ("0-3,8"). */
  affinity: Maybe<string>;
  voluntarySwitches: number;
  involuntarySwitches: number;
}

// ---- handles ------------------------------------------------------------------------------

export type FdKind =
  | 'file'
  | 'directory'
  | 'char device'
  | 'block device'
  | 'pipe'
  | 'named pipe'
  | 'socket'
  | 'symlink'
  | 'anon inode'
  | 'memfd'
  | 'pidfd'
  | 'unknown';

export interface SocketInfo {
  /** IPv4, IPv6, UNIX, netlink, packet. */
  family: string;
  /** TCP, UDP, UDP-Lite, ICMP, raw(N), stream, dgram, seqpacket, NETLINK_ROUTE(N)… */
  protocol: string;
  /** LISTEN, ESTABLISHED, … (TCP); UNCONNECTED, CONNECTED, … (UNIX); "" when stateless. */
  state: string;
  listening: boolean;
  /** "127.0.0.1:5432", "[::1]:5432", a UNIX path, "@abstract", or "" for an unbound socket. */
  local: string;
  /** The other endpoint, or "" when not connected. */
  remote: string;
  receiveQueue: number;
  sendQueue: number;
  /** Inode of the other end's socket (UNIX via sock_diag, TCP over loopback), or null. */
  peerInode: number | null;
}

export interface PeerInfo {
  pid: number;
  fd: number;
  /** comm of that process. */
  name: string;
  /** How many fds (in all readable processes) hold the other end. */
  count: number;
}

export interface HandleDetails {
  kind: FdKind;
  /** fdinfo flags: O_ACCMODE | O_APPEND | O_NONBLOCK | O_CLOEXEC … (Linux open flags). */
  openFlags: Maybe<number>;
  /** File position (fdinfo pos). */
  position: Maybe<number>;
  inode: Maybe<number>;
  /** "major:minor" of the file system (st_dev). */
  device: Maybe<string>;
  size: Maybe<number>;
  /** When the object was created — only where that means something (a file's birth time). */
  created: Maybe<FileTime>;
  socket: Maybe<SocketInfo>;
  /** Who holds the other end of a pipe or socket. */
  peer: Maybe<PeerInfo>;
}

const O_ACCMODE = 0o3;
/** Checked in this order; a combined flag (sync = dsync|04000000, tmpfile = directory|…)
 * comes before its parts, and matched bits are removed. */
const OPEN_FLAG_BITS: [number, string][] = [
  [0o2000, 'append'],
  [0o4000, 'nonblock'],
  [0o2000000, 'cloexec'],
  [0o4010000, 'sync'],
  [0o10000, 'dsync'],
  [0o20000, 'async'],
  [0o40000, 'direct'],
  [0o100000, 'largefile'],
  [0o20200000, 'tmpfile'],
  [0o200000, 'directory'],
  [0o400000, 'nofollow'],
  [0o1000000, 'noatime'],
];

/** Linux open flags → ["read", "nonblock", "cloexec", …] (access mode first). */
export function decodeOpenFlags(flags: number): string[] {
  const out: string[] = [];
  if (flags & 0o10000000) out.push('path');
  else {
    const acc = flags & O_ACCMODE;
    out.push(acc === 0 ? 'read' : acc === 1 ? 'write' : acc === 2 ? 'read/write' : 'accmode 3');
  }
  let rest = flags & ~O_ACCMODE & ~0o10000000;
  for (const [bit, name] of OPEN_FLAG_BITS) {
    if ((rest & bit) === bit) {
      out.push(name);
      rest &= ~bit;
    }
  }
  if (rest) out.push(`0o${rest.toString(8)}`);
  return out;
}

const ANON_TYPES: [RegExp, string][] = [
  [/^anon_inode:\[eventfd\]/, 'Event (eventfd)'],
  [/^anon_inode:\[eventpoll\]/, 'Epoll'],
  [/^anon_inode:\[timerfd\]/, 'Timer (timerfd)'],
  [/^anon_inode:\[signalfd\]/, 'Signal (signalfd)'],
  [/^anon_inode:inotify/, 'Inotify'],
  [/^anon_inode:\[fanotify\]/, 'Fanotify'],
  [/^anon_inode:\[userfaultfd\]/, 'Userfaultfd'],
  [/^anon_inode:\[io_uring\]/, 'io_uring'],
  [/^anon_inode:bpf/, 'BPF'],
  [/^anon_inode:\[perf_event\]/, 'Perf event'],
];

/**
 * The object type a person would name: File, Directory, Device, Pipe, Socket (TCP/IPv4),
 * Event (eventfd), … from the details' kind (and the link text for anonymous inodes), else
 * from the PSS TypeName.
 */
export function humanObjectType(
  typeName: string,
  objectName: string,
  d: Maybe<HandleDetails> | undefined,
): string {
  if (d === undefined || isNa(d)) return typeName.split('/')[0] || 'Unknown';
  switch (d.kind) {
    case 'file':
      return 'File';
    case 'directory':
      return 'Directory';
    case 'char device':
      return 'Device (character)';
    case 'block device':
      return 'Device (block)';
    case 'pipe':
      return 'Pipe';
    case 'named pipe':
      return 'Named pipe (FIFO)';
    case 'socket': {
      const s = d.socket;
      return isNa(s) ? 'Socket' : `Socket (${s.family} ${s.protocol})`;
    }
    case 'symlink':
      return 'Path (symlink)';
    case 'memfd':
      return 'Shared memory (memfd)';
    case 'pidfd':
      return 'Process (pidfd)';
    case 'anon inode': {
      for (const [re, label] of ANON_TYPES) if (re.test(objectName)) return label;
      const m = /^anon_inode:\[?([^\]]+)\]?/.exec(objectName);
      return m ? `Anonymous (${m[1]})` : 'Anonymous inode';
    }
    default:
      return typeName || 'Unknown';
  }
}

// ---- regions ------------------------------------------------------------------------------

export const REGION_KINDS = [
  'Image',
  'Mapped file',
  'Shared memory',
  'Heap',
  'Stack',
  'Private',
  'Reserved',
  'Kernel',
  'Free',
] as const;
export type RegionKind = (typeof REGION_KINDS)[number];

/**
 * smaps counters of one region (bytes) — Windows: QueryWorkingSetEx per page. null: the
 * kernel did not print that counter (an older kernel; Pss_Anon/File/Shmem are rollup-only).
 */
export interface RegionUsage {
  rss: number | null;
  pss: number | null;
  pssDirty: number | null;
  pssAnon: number | null;
  pssFile: number | null;
  pssShmem: number | null;
  sharedClean: number | null;
  sharedDirty: number | null;
  privateClean: number | null;
  privateDirty: number | null;
  referenced: number | null;
  anonymous: number | null;
  lazyFree: number | null;
  anonHugePages: number | null;
  shmemPmdMapped: number | null;
  sharedHugetlb: number | null;
  privateHugetlb: number | null;
  swap: number | null;
  swapPss: number | null;
  locked: number | null;
}

export const USAGE_FIELDS = [
  'rss',
  'pss',
  'pssDirty',
  'pssAnon',
  'pssFile',
  'pssShmem',
  'sharedClean',
  'sharedDirty',
  'privateClean',
  'privateDirty',
  'referenced',
  'anonymous',
  'lazyFree',
  'anonHugePages',
  'shmemPmdMapped',
  'sharedHugetlb',
  'privateHugetlb',
  'swap',
  'swapPss',
  'locked',
] as const satisfies readonly (keyof RegionUsage)[];

export interface RegionDetails {
  kind: RegionKind;
  /** "thread 1234", "main thread", "guard page", "malloc arena", "brk heap", … */
  note: string;
  /** The thread whose stack this is. */
  threadId: number | null;
  /** smaps counters, when the usage capture ran. */
  usage: Maybe<RegionUsage>;
  /** smaps VmFlags codes ("rd", "wr", "ac", "gd", …). */
  vmFlags: string[];
}

// ---- modules ------------------------------------------------------------------------------

export interface ModuleInfo {
  /** The mapped file (as maps shows it) or "[vdso]". */
  path: string;
  base: HexAddress;
  end: HexAddress;
  size: number;
  /** GNU build-id as hex — Windows: the PE CodeView GUID+age. */
  buildId: Maybe<string>;
  /** DT_SONAME, null when the image has none (executables, plugins). */
  soname: string | null;
  mainExecutable: boolean;
  vdso: boolean;
  deleted: boolean;
  positionIndependent: boolean;
  regions: number;
}

// ---- the whole capture --------------------------------------------------------------------

/** Time each part of the details capture took (100-ns units) and what it read. */
export interface DetailsCost {
  total: number;
  threads: number;
  handles: number;
  peers: number;
  regions: number;
  modules: number;
  rollup: number;
  /** Bytes of smaps text read (0 without the usage capture). */
  usageBytesRead: number;
}

export interface SnapshotDetails {
  /** When the details capture started. */
  captureTime: FileTime;
  /** Which parts were requested. */
  requested: {
    threads: boolean;
    handles: boolean;
    peers: boolean;
    regions: boolean;
    usage: boolean;
  };
  /** Per part: null = captured, else why not (or why only partly, for peers). */
  problems: {
    threads: string | null;
    handles: string | null;
    peers: string | null;
    regions: string | null;
    usage: string | null;
  };
  cost: DetailsCost;
  /** smaps_rollup: the whole process, read right after smaps. */
  rollup: Maybe<RegionUsage>;
  /** The peer search: processes whose fds were read / could not be. */
  peerSearch: { scanned: number; denied: number };
  modules: ModuleInfo[];
}

/** Sum of one counter over regions (null entries skipped); null when no region had it. */
export function sumUsage(
  usages: readonly (Maybe<RegionUsage> | undefined)[],
  field: keyof RegionUsage,
): number | null {
  let total: number | null = null;
  for (const u of usages) {
    if (u === undefined || isNa(u)) continue;
    const v = u[field];
    if (v !== null) total = (total ?? 0) + v;
  }
  return total;
}
