/**
 * The inspection-details extension of libpss (PssLinuxCaptureSnapshotAndDetails, Query, Read,
 * Free): a snapshot and its details captured at the same moment, the details decoded into the
 * plain objects of src-shared/pss/details.ts (with the reason for every fact that is not
 * available) and the native object freed at once. On Windows there is no such extension yet:
 * the snapshot is captured alone and `details` is null (docs/linux-mapping.md names the Windows
 * sources that would fill the same fields).
 */
import koffi from 'koffi';
import { MemState, MemType, Win32Error, win32ErrorName } from '../../src-shared/pss/constants';
import {
  isNa,
  na,
  threadStateOf,
  type FdKind,
  type HandleDetails,
  type Maybe,
  type ModuleInfo,
  type NotAvailable,
  type PeerInfo,
  type RegionDetails,
  type RegionKind,
  type RegionUsage,
  type SnapshotDetails,
  type SocketInfo,
  type ThreadDetails,
} from '../../src-shared/pss/details';
import type { HexAddress, VaSpaceEntry, WalkEntry } from '../../src-shared/pss/entries';
import { syscallName } from '../../src-shared/pss/syscalls';
import { fileTimeAt, hexAt, ptrAt, u64At } from './decode';
import { PssError } from './errors';
import { loadPss, type DetailsFunctions } from './library';
import { nativeMemory } from './native-memory';
import { asAddress } from './routines';
import { Snapshot, type ProcessHandle } from './snapshot';
import { FILETIME, offsetsOf } from './types';

// ---- the C structures (include/processsnapshot.h; details.test.ts checks the sizes) --------

const u64 = 'uint64';
const u32 = 'uint32';

export const PSS_DETAILS_MEMORY = koffi.struct('PSS_DETAILS_MEMORY', {
  Rss: u64,
  Pss: u64,
  PssDirty: u64,
  PssAnon: u64,
  PssFile: u64,
  PssShmem: u64,
  SharedClean: u64,
  SharedDirty: u64,
  PrivateClean: u64,
  PrivateDirty: u64,
  Referenced: u64,
  Anonymous: u64,
  LazyFree: u64,
  AnonHugePages: u64,
  ShmemPmdMapped: u64,
  SharedHugetlb: u64,
  PrivateHugetlb: u64,
  Swap: u64,
  SwapPss: u64,
  Locked: u64,
  Present: u32,
  Reserved: u32,
});

export const PSS_DETAILS_INFORMATION = koffi.struct('PSS_DETAILS_INFORMATION', {
  Flags: u32,
  ProcessId: u32,
  ThreadCount: u32,
  HandleCount: u32,
  RegionCount: u32,
  ModuleCount: u32,
  ThreadsError: u32,
  HandlesError: u32,
  PeersError: u32,
  RegionsError: u32,
  UsageError: u32,
  RollupError: u32,
  ProcessesScanned: u32,
  ProcessesDenied: u32,
  CaptureTime: FILETIME,
  TotalNanoseconds: u64,
  ThreadsNanoseconds: u64,
  HandlesNanoseconds: u64,
  PeersNanoseconds: u64,
  RegionsNanoseconds: u64,
  ModulesNanoseconds: u64,
  RollupNanoseconds: u64,
  UsageBytesRead: u64,
  Rollup: PSS_DETAILS_MEMORY,
});

export const PSS_DETAILS_THREAD = koffi.struct('PSS_DETAILS_THREAD', {
  ThreadId: u32,
  State: 'uint8',
  Reserved1: koffi.array('uint8', 3),
  Name: koffi.array('uint8', 16),
  WaitChannel: koffi.array('uint8', 64),
  WaitChannelError: u32,
  SyscallError: u32,
  SyscallNumber: 'int32',
  CpuTimeError: u32,
  SyscallArguments: koffi.array(u64, 6),
  StackPointer: u64,
  InstructionPointer: u64,
  CpuTimeNanoseconds: u64,
  RunDelayNanoseconds: u64,
  UserTime100ns: u64,
  KernelTime100ns: u64,
  Nice: 'int32',
  KernelPriority: 'int32',
  Policy: u32,
  RtPriority: u32,
  LastCpu: 'int32',
  AffinityError: u32,
  Affinity: koffi.array(u64, 16),
  VoluntarySwitches: u64,
  InvoluntarySwitches: u64,
});

export const PSS_DETAILS_HANDLE = koffi.struct('PSS_DETAILS_HANDLE', {
  Fd: u32,
  Kind: u32,
  FdinfoError: u32,
  OpenFlags: u32,
  Position: u64,
  MountId: u32,
  StatError: u32,
  Inode: u64,
  DeviceMajor: u32,
  DeviceMinor: u32,
  RdevMajor: u32,
  RdevMinor: u32,
  Size: u64,
  Mode: u32,
  CreationSource: u32,
  CreationTime: FILETIME,
  SocketError: u32,
  Family: 'uint16',
  Type: 'uint16',
  Protocol: u32,
  State: u32,
  SocketFlags: u32,
  LocalPort: 'uint16',
  RemotePort: 'uint16',
  LocalAddress: koffi.array('uint8', 16),
  RemoteAddress: koffi.array('uint8', 16),
  ReceiveQueue: u32,
  SendQueue: u32,
  PeerInode: u64,
  UnixPath: koffi.array('uint8', 112),
  PeerError: u32,
  PeerProcessId: u32,
  PeerFd: u32,
  PeerCount: u32,
  PeerName: koffi.array('uint8', 16),
});

export const PSS_DETAILS_REGION = koffi.struct('PSS_DETAILS_REGION', {
  BaseAddress: u64,
  EndAddress: u64,
  Kind: u32,
  KindFlags: u32,
  KindThreadId: u32,
  VmFlags: u32,
  Usage: PSS_DETAILS_MEMORY,
});

export const PSS_DETAILS_MODULE = koffi.struct('PSS_DETAILS_MODULE', {
  BaseAddress: u64,
  EndAddress: u64,
  Inode: u64,
  DeviceMajor: u32,
  DeviceMinor: u32,
  Flags: u32,
  ElfError: u32,
  RegionCount: u32,
  BuildIdLength: u32,
  BuildId: koffi.array('uint8', 64),
  Path: 'void *',
  Soname: 'void *',
  PathLength: u32,
  SonameLength: u32,
});

export const DETAILS_STRUCTS = {
  PSS_DETAILS_MEMORY,
  PSS_DETAILS_INFORMATION,
  PSS_DETAILS_THREAD,
  PSS_DETAILS_HANDLE,
  PSS_DETAILS_REGION,
  PSS_DETAILS_MODULE,
} as const;

/** DetailFlags of PssLinuxCaptureDetails. */
export const DetailFlags = {
  THREADS: 0x1,
  HANDLES: 0x2,
  HANDLE_PEERS: 0x4,
  REGIONS: 0x8,
  REGION_USAGE: 0x10,
} as const;

const CLASS = { THREADS: 0, HANDLES: 1, REGIONS: 2, MODULES: 3 } as const;

const ERROR_BUSY = 170;
const ERROR_PARTIAL_COPY = 299;

// ---- decoding ----------------------------------------------------------------------------

const MEM_FIELDS = [
  'Rss',
  'Pss',
  'PssDirty',
  'PssAnon',
  'PssFile',
  'PssShmem',
  'SharedClean',
  'SharedDirty',
  'PrivateClean',
  'PrivateDirty',
  'Referenced',
  'Anonymous',
  'LazyFree',
  'AnonHugePages',
  'ShmemPmdMapped',
  'SharedHugetlb',
  'PrivateHugetlb',
  'Swap',
  'SwapPss',
  'Locked',
] as const;
const MEM = offsetsOf(PSS_DETAILS_MEMORY, ...MEM_FIELDS, 'Present');

/** One smaps counter in bytes, or null when the kernel did not print it (bit i of Present). */
function counter(dv: DataView, off: number, present: number, i: number): number | null {
  if (!(present & (1 << i))) return null;
  const at = off + (MEM[MEM_FIELDS[i] as (typeof MEM_FIELDS)[number]] as number);
  return dv.getUint32(at + 4, true) * 4294967296 + dv.getUint32(at, true);
}

function usageAt(dv: DataView, off: number): RegionUsage {
  const p = dv.getUint32(off + MEM.Present, true);
  // One object literal (one hidden class) per region: 200,000 regions decode in one pass.
  return {
    rss: counter(dv, off, p, 0),
    pss: counter(dv, off, p, 1),
    pssDirty: counter(dv, off, p, 2),
    pssAnon: counter(dv, off, p, 3),
    pssFile: counter(dv, off, p, 4),
    pssShmem: counter(dv, off, p, 5),
    sharedClean: counter(dv, off, p, 6),
    sharedDirty: counter(dv, off, p, 7),
    privateClean: counter(dv, off, p, 8),
    privateDirty: counter(dv, off, p, 9),
    referenced: counter(dv, off, p, 10),
    anonymous: counter(dv, off, p, 11),
    lazyFree: counter(dv, off, p, 12),
    anonHugePages: counter(dv, off, p, 13),
    shmemPmdMapped: counter(dv, off, p, 14),
    sharedHugetlb: counter(dv, off, p, 15),
    privateHugetlb: counter(dv, off, p, 16),
    swap: counter(dv, off, p, 17),
    swapPss: counter(dv, off, p, 18),
    locked: counter(dv, off, p, 19),
  };
}

function cString(dv: DataView, off: number, max: number): string {
  const bytes = new Uint8Array(dv.buffer, dv.byteOffset + off, max);
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(bytes.subarray(0, end < 0 ? max : end));
}

function reason(code: number, what: string): string {
  switch (code) {
    case Win32Error.ACCESS_DENIED:
      return `${what} needs ptrace access to the process (its owner, or CAP_SYS_PTRACE)`;
    case Win32Error.PROCESS_ABORTED:
      return `it ended while ${what} was read`;
    case Win32Error.NOT_SUPPORTED:
      return `this kernel does not provide ${what}`;
    default:
      return `${what} could not be read (${win32ErrorName(code)})`;
  }
}

const TH = offsetsOf(
  PSS_DETAILS_THREAD,
  'ThreadId',
  'State',
  'Name',
  'WaitChannel',
  'WaitChannelError',
  'SyscallError',
  'SyscallNumber',
  'CpuTimeError',
  'SyscallArguments',
  'StackPointer',
  'InstructionPointer',
  'CpuTimeNanoseconds',
  'RunDelayNanoseconds',
  'Nice',
  'KernelPriority',
  'Policy',
  'RtPriority',
  'LastCpu',
  'AffinityError',
  'Affinity',
  'VoluntarySwitches',
  'InvoluntarySwitches',
);

const POLICIES: Record<number, string> = {
  0: 'SCHED_OTHER',
  1: 'SCHED_FIFO',
  2: 'SCHED_RR',
  3: 'SCHED_BATCH',
  5: 'SCHED_IDLE',
  6: 'SCHED_DEADLINE',
};

/** Bits of a 1024-CPU mask → "0-3,8". */
function cpuList(dv: DataView, off: number): string {
  const ranges: string[] = [];
  let start = -1;
  for (let cpu = 0; cpu <= 1024; cpu++) {
    const on =
      cpu < 1024 && (dv.getUint32(off + (cpu >> 5) * 4, true) >>> (cpu & 31)) & 1 ? true : false;
    if (on && start < 0) start = cpu;
    if (!on && start >= 0) {
      ranges.push(start === cpu - 1 ? String(start) : `${start}-${cpu - 1}`);
      start = -1;
    }
  }
  return ranges.join(',') || 'none';
}

/** ns → integer 100-ns units. */
const hundredNs = (ns: number): number => Math.round(ns / 100);

export function decodeThreadDetails(dv: DataView, base = 0): ThreadDetails {
  const o = (k: keyof typeof TH): number => base + TH[k];
  const stateCode = String.fromCharCode(dv.getUint8(o('State')));
  const state = threadStateOf(stateCode);
  const scErr = dv.getUint32(o('SyscallError'), true);
  let syscall: ThreadDetails['syscall'];
  let sp: Maybe<HexAddress>;
  let ip: Maybe<HexAddress>;
  if (scErr === Win32Error.SUCCESS) {
    const number = dv.getInt32(o('SyscallNumber'), true);
    const args: HexAddress[] = [];
    if (number >= 0)
      for (let i = 0; i < 6; i++) args.push(hexAt(dv, o('SyscallArguments') + 8 * i));
    syscall = { number, name: number >= 0 ? syscallName(number) : null, args };
    sp = hexAt(dv, o('StackPointer'));
    ip = hexAt(dv, o('InstructionPointer'));
  } else {
    const why =
      scErr === ERROR_BUSY
        ? 'running on a CPU at each of 3 looks (the kernel shows the system call of a thread that is off the CPU)'
        : reason(scErr, '/proc/PID/task/TID/syscall');
    syscall = sp = ip = na(why);
  }
  const wErr = dv.getUint32(o('WaitChannelError'), true);
  const waitChannel =
    wErr === Win32Error.SUCCESS
      ? cString(dv, o('WaitChannel'), 64)
      : na(
          wErr === Win32Error.NOT_FOUND
            ? state === 'running'
              ? 'running: it waits for nothing'
              : 'the kernel names no wait channel'
            : reason(wErr, 'the wait channel'),
        );
  const cErr = dv.getUint32(o('CpuTimeError'), true);
  const aErr = dv.getUint32(o('AffinityError'), true);
  const policy = dv.getUint32(o('Policy'), true);
  return {
    name: cString(dv, o('Name'), 16),
    stateCode,
    state,
    waitChannel,
    syscall,
    stackPointer: sp,
    instructionPointer: ip,
    cpuTime:
      cErr === 0
        ? hundredNs(u64At(dv, o('CpuTimeNanoseconds')))
        : na(reason(cErr, '/proc/TID/schedstat')),
    runDelay:
      cErr === 0
        ? hundredNs(u64At(dv, o('RunDelayNanoseconds')))
        : na(reason(cErr, '/proc/TID/schedstat')),
    nice: dv.getInt32(o('Nice'), true),
    kernelPriority: dv.getInt32(o('KernelPriority'), true),
    policy: POLICIES[policy] ?? `policy ${policy}`,
    rtPriority: dv.getUint32(o('RtPriority'), true),
    lastCpu: dv.getInt32(o('LastCpu'), true),
    affinity: aErr === 0 ? cpuList(dv, o('Affinity')) : na(reason(aErr, 'Cpus_allowed')),
    voluntarySwitches: u64At(dv, o('VoluntarySwitches')),
    involuntarySwitches: u64At(dv, o('InvoluntarySwitches')),
  };
}

const HA = offsetsOf(
  PSS_DETAILS_HANDLE,
  'Fd',
  'Kind',
  'FdinfoError',
  'OpenFlags',
  'Position',
  'StatError',
  'Inode',
  'DeviceMajor',
  'DeviceMinor',
  'Size',
  'CreationSource',
  'CreationTime',
  'SocketError',
  'Family',
  'Type',
  'Protocol',
  'State',
  'SocketFlags',
  'LocalPort',
  'RemotePort',
  'LocalAddress',
  'RemoteAddress',
  'ReceiveQueue',
  'SendQueue',
  'PeerInode',
  'UnixPath',
  'PeerError',
  'PeerProcessId',
  'PeerFd',
  'PeerCount',
  'PeerName',
);

const FD_KINDS: FdKind[] = [
  'unknown',
  'file',
  'directory',
  'char device',
  'block device',
  'pipe',
  'named pipe',
  'socket',
  'symlink',
  'anon inode',
  'memfd',
  'pidfd',
];

const AF = { UNIX: 1, INET: 2, INET6: 10, NETLINK: 16, PACKET: 17 } as const;
const TCP_STATES = [
  '',
  'ESTAB',
  'SYN-SENT',
  'SYN-RECV',
  'FIN-WAIT-1',
  'FIN-WAIT-2',
  'TIME-WAIT',
  'UNCONN',
  'CLOSE-WAIT',
  'LAST-ACK',
  'LISTEN',
  'CLOSING',
  'NEW-SYN-RECV',
];
const UNIX_STATES = ['', 'UNCONN', 'CONNECTING', 'ESTAB', 'DISCONNECTING'];
const UNIX_TYPES: Record<number, string> = { 1: 'stream', 2: 'dgram', 5: 'seqpacket' };
const NETLINK: Record<number, string> = {
  0: 'NETLINK_ROUTE',
  4: 'NETLINK_SOCK_DIAG',
  9: 'NETLINK_AUDIT',
  15: 'NETLINK_KOBJECT_UEVENT',
  16: 'NETLINK_GENERIC',
};
const INET_PROTOCOLS: Record<number, string> = {
  1: 'ICMP',
  6: 'TCP',
  17: 'UDP',
  58: 'ICMPv6',
  136: 'UDP-Lite',
};

function ipv4(dv: DataView, off: number): string {
  return [0, 1, 2, 3].map((i) => dv.getUint8(off + i)).join('.');
}

/** RFC 5952 text of 16 bytes (longest run of zero groups as "::"). */
export function ipv6Text(bytes: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff)
    return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function endpoint(dv: DataView, addrOff: number, port: number, family: number): string {
  const bytes = new Uint8Array(dv.buffer, dv.byteOffset + addrOff, 16);
  const zero = bytes.every((b) => b === 0);
  if (family === AF.INET) {
    const a = ipv4(dv, addrOff);
    return zero && port === 0 ? '' : `${a}:${port === 0 ? '*' : port}`;
  }
  if (zero && port === 0) return '';
  return `[${ipv6Text(bytes)}]:${port === 0 ? '*' : port}`;
}

function socketInfo(dv: DataView, o: (k: keyof typeof HA) => number): SocketInfo {
  const family = dv.getUint16(o('Family'), true);
  const type = dv.getUint16(o('Type'), true);
  const proto = dv.getUint32(o('Protocol'), true);
  const st = dv.getUint32(o('State'), true);
  const flags = dv.getUint32(o('SocketFlags'), true);
  const listening = (flags & 0x1) !== 0;
  const peerInode = flags & 0x2 ? u64At(dv, o('PeerInode')) : null;
  const base = {
    listening,
    receiveQueue: dv.getUint32(o('ReceiveQueue'), true),
    sendQueue: dv.getUint32(o('SendQueue'), true),
    peerInode,
  };
  if (family === AF.INET || family === AF.INET6) {
    const protocol =
      type === 3 /* SOCK_RAW */
        ? `raw (${INET_PROTOCOLS[proto] ?? proto})`
        : (INET_PROTOCOLS[proto] ?? `protocol ${proto}`);
    return {
      ...base,
      family: family === AF.INET ? 'IPv4' : 'IPv6',
      protocol,
      state: type === 3 ? '' : (TCP_STATES[st] ?? `state ${st}`),
      local: endpoint(dv, o('LocalAddress'), dv.getUint16(o('LocalPort'), true), family),
      remote: endpoint(dv, o('RemoteAddress'), dv.getUint16(o('RemotePort'), true), family),
    };
  }
  if (family === AF.UNIX) {
    return {
      ...base,
      family: 'UNIX',
      protocol: UNIX_TYPES[type] ?? `type ${type}`,
      state: listening ? 'LISTEN' : (UNIX_STATES[st] ?? `state ${st}`),
      local: cString(dv, o('UnixPath'), 112),
      remote: '',
    };
  }
  if (family === AF.NETLINK) {
    return {
      ...base,
      family: 'netlink',
      protocol: NETLINK[proto] ?? `netlink ${proto}`,
      state: '',
      local: '',
      remote: '',
    };
  }
  return {
    ...base,
    family: family === AF.PACKET ? 'packet' : `family ${family}`,
    protocol: `0x${proto.toString(16).padStart(4, '0')}`,
    state: '',
    local: '',
    remote: '',
  };
}

const NO_CREATION: Partial<Record<FdKind, string>> = {
  'char device':
    "a device node's dates are the node's (made when /dev was populated), not this handle's",
  'block device':
    "a device node's dates are the node's (made when /dev was populated), not this handle's",
  pipe: "a pipe's times change with every read and write; Linux keeps no creation time",
  socket: 'Linux sockets carry no times',
  'anon inode':
    'eventfd, epoll, timerfd, signalfd and inotify share one anonymous inode whose times are the boot',
  pidfd: "a pidfd's inode times are not the handle's creation",
  symlink: "an O_PATH handle's link dates are the link's",
};

export function decodeHandleDetails(
  dv: DataView,
  base: number,
  peersRequested: boolean,
  peersDenied: number,
): HandleDetails {
  const o = (k: keyof typeof HA): number => base + HA[k];
  const kind = FD_KINDS[dv.getUint32(o('Kind'), true)] ?? 'unknown';
  const fErr = dv.getUint32(o('FdinfoError'), true);
  const sErr = dv.getUint32(o('StatError'), true);
  const statNa = na(reason(sErr, "the handle's file (statx)"));
  const created: Maybe<string> =
    dv.getUint32(o('CreationSource'), true) === 1
      ? fileTimeAt(dv, o('CreationTime'))
      : na(
          NO_CREATION[kind] ??
            (sErr !== 0
              ? reason(sErr, "the handle's file (statx)")
              : 'this file system records no birth time'),
        );
  const sockErr = dv.getUint32(o('SocketError'), true);
  const socket: Maybe<SocketInfo> =
    kind !== 'socket'
      ? na('not a socket')
      : sockErr === 0
        ? socketInfo(dv, o)
        : na(
            "not in the target's /proc/PID/net tables (a protocol Linux does not list there, or another network namespace)",
          );
  const pErr = dv.getUint32(o('PeerError'), true);
  let peer: Maybe<PeerInfo>;
  if (pErr === 0) {
    peer = {
      pid: dv.getUint32(o('PeerProcessId'), true),
      fd: dv.getUint32(o('PeerFd'), true),
      name: cString(dv, o('PeerName'), 16),
      count: dv.getUint32(o('PeerCount'), true),
    };
  } else if (kind !== 'pipe' && kind !== 'socket') {
    peer = na(kind === 'named pipe' ? 'named pipes are not searched' : 'not a pipe or socket');
  } else if (kind === 'socket' && (isNa(socket) || socket.peerInode === null)) {
    peer = na(
      isNa(socket) || socket.family === 'UNIX' || socket.protocol === 'TCP'
        ? 'the other end is not known (not connected, or in another network namespace or host)'
        : 'connectionless: no other end',
    );
  } else if (!peersRequested) {
    peer = na('the peer search was not part of this capture');
  } else {
    peer = na(
      peersDenied > 0
        ? `no readable process holds the other end (${peersDenied} processes could not be searched)`
        : 'no process holds the other end (it was closed)',
    );
  }
  return {
    kind,
    openFlags:
      fErr === 0 ? dv.getUint32(o('OpenFlags'), true) : na(reason(fErr, '/proc/PID/fdinfo')),
    position: fErr === 0 ? u64At(dv, o('Position')) : na(reason(fErr, '/proc/PID/fdinfo')),
    inode: sErr === 0 ? u64At(dv, o('Inode')) : statNa,
    device:
      sErr === 0
        ? `${dv.getUint32(o('DeviceMajor'), true)}:${dv.getUint32(o('DeviceMinor'), true)}`
        : statNa,
    size: sErr === 0 ? u64At(dv, o('Size')) : statNa,
    created,
    socket,
    peer,
  };
}

const RG = offsetsOf(
  PSS_DETAILS_REGION,
  'BaseAddress',
  'EndAddress',
  'Kind',
  'KindFlags',
  'KindThreadId',
  'VmFlags',
  'Usage',
);

const REGION_KIND_BY_CODE: RegionKind[] = [
  'Private',
  'Image',
  'Mapped file',
  'Shared memory',
  'Heap',
  'Stack',
  'Reserved',
  'Kernel',
];

const VM_FLAG_CODES = [
  'rd',
  'wr',
  'ex',
  'sh',
  'gd',
  'lo',
  'io',
  'dc',
  'dd',
  'ht',
  'nr',
  'ac',
  'hg',
  'nh',
  'mg',
  'uw',
  'sd',
  'wf',
  'ss',
  'sl',
];

export function decodeRegionDetails(dv: DataView, base: number): RegionDetails {
  const kind = REGION_KIND_BY_CODE[dv.getUint32(base + RG.Kind, true)] ?? 'Private';
  const flags = dv.getUint32(base + RG.KindFlags, true);
  const tid = dv.getUint32(base + RG.KindThreadId, true);
  let note = '';
  if (kind === 'Stack')
    note =
      flags & 0x8 ? 'main thread' : flags & 0x4 ? `guard page of thread ${tid}` : `thread ${tid}`;
  else if (kind === 'Heap')
    note =
      flags & 0x1
        ? `malloc arena${flags & 0x4 ? ' (reserved part)' : ''}${flags & 0x2 || flags & 0x4 ? '' : ' (by its layout)'}`
        : 'brk heap';
  const vm = dv.getUint32(base + RG.VmFlags, true);
  const haveUsage = (flags & 0x100) !== 0;
  const vmFlags: string[] = [];
  if (haveUsage)
    for (let i = 0; i < VM_FLAG_CODES.length; i++)
      if (vm & (1 << i)) vmFlags.push(VM_FLAG_CODES[i] as string);
  return {
    kind,
    note,
    threadId: kind === 'Stack' ? tid : null,
    usage: haveUsage
      ? usageAt(dv, base + RG.Usage)
      : na('the memory-usage capture (smaps) was not part of this snapshot'),
    vmFlags,
  };
}

const MO = offsetsOf(
  PSS_DETAILS_MODULE,
  'BaseAddress',
  'EndAddress',
  'Flags',
  'ElfError',
  'RegionCount',
  'BuildIdLength',
  'BuildId',
  'Path',
  'Soname',
  'PathLength',
  'SonameLength',
);

function utf8At(ptr: bigint, length: number): string {
  if (ptr === 0n || length === 0) return '';
  return new TextDecoder().decode(new Uint8Array(koffi.view(ptr, length)).slice());
}

export function decodeModule(dv: DataView, base: number): ModuleInfo {
  const flags = dv.getUint32(base + MO.Flags, true);
  const err = dv.getUint32(base + MO.ElfError, true);
  const idLen = dv.getUint32(base + MO.BuildIdLength, true);
  let buildId: Maybe<string>;
  if (err !== 0) buildId = na(reason(err, 'the ELF file'));
  else if (idLen === 0) buildId = na('the image has no GNU build-id note');
  else {
    let hex = '';
    for (let i = 0; i < idLen; i++)
      hex += dv
        .getUint8(base + MO.BuildId + i)
        .toString(16)
        .padStart(2, '0');
    buildId = hex;
  }
  const start = BigInt(hexAt(dv, base + MO.BaseAddress));
  const end = BigInt(hexAt(dv, base + MO.EndAddress));
  const sonameLen = dv.getUint32(base + MO.SonameLength, true);
  return {
    path: utf8At(ptrAt(dv, base + MO.Path), dv.getUint32(base + MO.PathLength, true)),
    base: hexAt(dv, base + MO.BaseAddress),
    end: hexAt(dv, base + MO.EndAddress),
    size: Number(end - start),
    buildId,
    soname: sonameLen ? utf8At(ptrAt(dv, base + MO.Soname), sonameLen) : null,
    mainExecutable: (flags & 0x1) !== 0,
    vdso: (flags & 0x2) !== 0,
    deleted: (flags & 0x4) !== 0,
    positionIndependent: (flags & 0x10) !== 0,
    regions: dv.getUint32(base + MO.RegionCount, true),
  };
}

// ---- the capture -------------------------------------------------------------------------

/** The details of one capture, keyed for joining with the snapshot's entries. */
export interface CapturedDetails {
  info: SnapshotDetails;
  threads: Map<number, ThreadDetails>;
  handles: Map<number, HandleDetails>;
  /** By base address (a number: user-space addresses are below 2^47), with the end. */
  regions: Map<number, { end: number; details: RegionDetails }>;
  /** The VMAs' base addresses in order (to find the VMA holding part of it). */
  regionStarts: number[];
}

const IN = offsetsOf(
  PSS_DETAILS_INFORMATION,
  'Flags',
  'ThreadCount',
  'HandleCount',
  'RegionCount',
  'ModuleCount',
  'ThreadsError',
  'HandlesError',
  'PeersError',
  'RegionsError',
  'UsageError',
  'RollupError',
  'ProcessesScanned',
  'ProcessesDenied',
  'CaptureTime',
  'TotalNanoseconds',
  'ThreadsNanoseconds',
  'HandlesNanoseconds',
  'PeersNanoseconds',
  'RegionsNanoseconds',
  'ModulesNanoseconds',
  'RollupNanoseconds',
  'UsageBytesRead',
  'Rollup',
);

function problem(requested: boolean, code: number, what: string): string | null {
  if (!requested) return 'not part of this capture';
  if (code === Win32Error.SUCCESS) return null;
  return reason(code, what);
}

/** Reads every record of one class in chunks through one native buffer. */
function readClass<T>(
  fns: DetailsFunctions,
  handle: bigint,
  cls: number,
  count: number,
  recordSize: number,
  decode: (dv: DataView, base: number) => T,
): T[] {
  const out: T[] = [];
  if (count === 0) return out;
  const chunk = Math.max(1, Math.min(count, Math.floor((1 << 20) / recordSize)));
  const buf = nativeMemory.malloc(chunk * recordSize);
  if (buf === 0n) throw new PssError('malloc', Win32Error.NOT_ENOUGH_MEMORY);
  try {
    const dv = new DataView(koffi.view(buf, chunk * recordSize));
    const got: [number | null] = [null];
    for (let first = 0; first < count;) {
      const code = fns.PssLinuxReadDetails(handle, cls, first, chunk, recordSize, buf, got);
      if (code !== 0) throw new PssError('PssLinuxReadDetails', code);
      const n = got[0] ?? 0;
      if (n === 0) break;
      for (let i = 0; i < n; i++) out.push(decode(dv, i * recordSize));
      first += n;
    }
  } finally {
    nativeMemory.free(buf);
  }
  return out;
}

function decodeAll(fns: DetailsFunctions, handle: bigint): CapturedDetails {
  const infoSize = koffi.sizeof(PSS_DETAILS_INFORMATION);
  const ibuf = nativeMemory.malloc(infoSize);
  if (ibuf === 0n) throw new PssError('malloc', Win32Error.NOT_ENOUGH_MEMORY);
  let dv: DataView;
  try {
    const code = fns.PssLinuxQueryDetails(handle, infoSize, ibuf);
    if (code !== 0) throw new PssError('PssLinuxQueryDetails', code);
    dv = new DataView(new Uint8Array(koffi.view(ibuf, infoSize)).slice().buffer);
  } finally {
    nativeMemory.free(ibuf);
  }
  const g = (k: keyof typeof IN): number => dv.getUint32(IN[k], true);
  const flags = g('Flags');
  const requested = {
    threads: (flags & DetailFlags.THREADS) !== 0,
    handles: (flags & DetailFlags.HANDLES) !== 0,
    peers: (flags & DetailFlags.HANDLE_PEERS) !== 0,
    regions: (flags & DetailFlags.REGIONS) !== 0,
    usage: (flags & DetailFlags.REGION_USAGE) !== 0,
  };
  const peersErr = g('PeersError');
  const denied = g('ProcessesDenied');
  const ns = (k: keyof typeof IN): number => hundredNs(u64At(dv, IN[k]));
  const rollupErr = g('RollupError');
  const info: SnapshotDetails = {
    captureTime: fileTimeAt(dv, IN.CaptureTime),
    requested,
    problems: {
      threads: problem(requested.threads, g('ThreadsError'), "the process's threads"),
      handles: problem(
        requested.handles,
        g('HandlesError'),
        "the process's handles (/proc/PID/fd)",
      ),
      peers:
        peersErr === ERROR_PARTIAL_COPY
          ? `${denied} of ${g('ProcessesScanned') + denied} processes could not be searched for peers (not ours to read)`
          : problem(requested.peers, peersErr, 'the peer search'),
      regions: problem(requested.regions, g('RegionsError'), '/proc/PID/maps'),
      usage: problem(requested.usage, g('UsageError'), '/proc/PID/smaps'),
    },
    cost: {
      total: ns('TotalNanoseconds'),
      threads: ns('ThreadsNanoseconds'),
      handles: ns('HandlesNanoseconds'),
      peers: ns('PeersNanoseconds'),
      regions: ns('RegionsNanoseconds'),
      modules: ns('ModulesNanoseconds'),
      rollup: ns('RollupNanoseconds'),
      usageBytesRead: u64At(dv, IN.UsageBytesRead),
    },
    rollup:
      rollupErr === 0
        ? usageAt(dv, IN.Rollup)
        : na(
            requested.usage
              ? reason(rollupErr, '/proc/PID/smaps_rollup')
              : 'the memory-usage capture was not part of this snapshot',
          ),
    peerSearch: { scanned: g('ProcessesScanned'), denied },
    modules: readClass(
      fns,
      handle,
      CLASS.MODULES,
      g('ModuleCount'),
      koffi.sizeof(PSS_DETAILS_MODULE),
      decodeModule,
    ),
  };
  const threads = new Map<number, ThreadDetails>();
  readClass(
    fns,
    handle,
    CLASS.THREADS,
    g('ThreadCount'),
    koffi.sizeof(PSS_DETAILS_THREAD),
    (v, b) => {
      threads.set(v.getUint32(b + TH.ThreadId, true), decodeThreadDetails(v, b));
      return null;
    },
  );
  const handles = new Map<number, HandleDetails>();
  readClass(
    fns,
    handle,
    CLASS.HANDLES,
    g('HandleCount'),
    koffi.sizeof(PSS_DETAILS_HANDLE),
    (v, b) => {
      handles.set(v.getUint32(b + HA.Fd, true), decodeHandleDetails(v, b, requested.peers, denied));
      return null;
    },
  );
  const regions = new Map<number, { end: number; details: RegionDetails }>();
  const regionStarts: number[] = [];
  readClass(
    fns,
    handle,
    CLASS.REGIONS,
    g('RegionCount'),
    koffi.sizeof(PSS_DETAILS_REGION),
    (v, b) => {
      regionStarts.push(u64At(v, b + RG.BaseAddress));
      regions.set(u64At(v, b + RG.BaseAddress), {
        end: u64At(v, b + RG.EndAddress),
        details: decodeRegionDetails(v, b),
      });
      return null;
    },
  );
  return { info, threads, handles, regions, regionStarts };
}

/** Which details go with a set of PSS capture flags (and whether to read smaps). */
export function detailFlagsFor(captureFlags: number, usage: boolean): number {
  let f = 0;
  if (captureFlags & 0x80 /* THREADS */) f |= DetailFlags.THREADS;
  if (captureFlags & 0x4 /* HANDLES */) f |= DetailFlags.HANDLES | DetailFlags.HANDLE_PEERS;
  if (captureFlags & 0x800 /* VA_SPACE */)
    f |= DetailFlags.REGIONS | (usage ? DetailFlags.REGION_USAGE : 0);
  return f;
}

/**
 * Captures the snapshot and, where libpss provides them (Linux), its details at the same
 * moment (PssLinuxCaptureSnapshotAndDetails). detailFlags 0, or no extension: the snapshot
 * alone, `details` null. The caller owns the snapshot.
 */
export function captureSnapshotAndDetails(
  process: ProcessHandle,
  flags: number,
  detailFlags: number,
  threadContextFlags = 0,
): { snapshot: Snapshot; details: CapturedDetails | null } {
  process.assertOpen();
  const pss = loadPss();
  const fns = pss.details;
  if (!fns || detailFlags === 0)
    return { snapshot: Snapshot.capture(process, flags, threadContextFlags), details: null };
  const snapOut: [bigint | null] = [null];
  const detOut: [bigint | null] = [null];
  const code = fns.PssLinuxCaptureSnapshotAndDetails(
    process.raw,
    flags >>> 0,
    threadContextFlags >>> 0,
    detailFlags >>> 0,
    snapOut,
    detOut,
  );
  if (code !== 0) throw new PssError('PssCaptureSnapshot', code);
  const snapshot = Snapshot.adopt(pss, asAddress(snapOut[0]), process.pid, flags);
  const handle = asAddress(detOut[0]);
  try {
    return { snapshot, details: decodeAll(fns, handle) };
  } catch (e) {
    snapshot.free();
    throw e;
  } finally {
    fns.PssLinuxFreeDetails(handle);
  }
}

// ---- joining with the snapshot's entries -------------------------------------------------

const FREE_REGION: RegionDetails = {
  kind: 'Free',
  note: '',
  threadId: null,
  usage: na('free address space: nothing is mapped there'),
  vmFlags: [],
};

/** The greatest start ≤ address in a sorted list, or null. */
function containing(starts: readonly number[], address: number): number | null {
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((starts[mid] as number) <= address) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? (starts[lo - 1] as number) : null;
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/**
 * The details of an entry that covers part of a VMA: its kind follows the PSS type of that
 * part (the image part stays Image, the tail after the image is Private), and the usage —
 * which smaps counts for the whole VMA — goes to the VMA's first part only, so sums count it
 * once.
 */
function partOf(e: VaSpaceEntry, d: RegionDetails, start: number, end: number): RegionDetails {
  const first = Number.parseInt(e.baseAddress.slice(2), 16) === start;
  const kind: RegionKind =
    e.type === MemType.IMAGE ? 'Image' : d.kind === 'Image' ? 'Private' : d.kind;
  return {
    ...d,
    kind,
    note: first
      ? `usage of the whole mapping ${hex(start)}-${hex(end)}`
      : `part of the mapping ${hex(start)}-${hex(end)}`,
    usage: first
      ? d.usage
      : na(
          `smaps counts the whole mapping ${hex(start)}-${hex(end)}: its usage is on the entry at ${hex(start)}`,
        ),
  };
}

/**
 * Sets `details` on every entry of one walked class from the details captured with the
 * snapshot: threads by thread id, handles by fd (an fd whose pipe/socket inode differs was
 * reused in between), regions by base address and size (free gaps get the kind Free). An
 * entry the details do not cover gets the reason instead.
 */
export function attachDetails(entries: WalkEntry[], captured: CapturedDetails): void {
  const gone = (what: string): NotAvailable =>
    na(`${what} changed between the snapshot and the details read (milliseconds apart)`);
  for (const e of entries) {
    switch (e.kind) {
      case 'thread':
        e.details =
          !captured.info.requested.threads || captured.threads.size === 0
            ? na(captured.info.problems.threads ?? 'not captured')
            : (captured.threads.get(e.threadId) ?? gone('the thread started or ended: it'));
        break;
      case 'handle': {
        if (!captured.info.requested.handles || captured.info.problems.handles) {
          e.details = na(captured.info.problems.handles ?? 'not captured');
          break;
        }
        const d = captured.handles.get(e.handle);
        const m = /^(?:pipe|socket):\[(\d+)\]$/.exec(e.objectName);
        const reused = d && m && !isNa(d.inode) && String(d.inode) !== m[1];
        e.details = d && !reused ? d : gone(`handle ${e.handle} was closed or reused: it`);
        break;
      }
      case 'region': {
        if (e.state === MemState.FREE) {
          e.details = FREE_REGION;
          break;
        }
        if (!captured.info.requested.regions || captured.info.problems.regions) {
          e.details = na(captured.info.problems.regions ?? 'not captured');
          break;
        }
        const base = Number.parseInt(e.baseAddress.slice(2), 16);
        const end = base + e.regionSize;
        const r = captured.regions.get(base);
        if (r && r.end === end) {
          e.details = r.details;
          break;
        }
        // Part of a VMA: PSS splits a library's .bss VMA that the kernel merged with the
        // anonymous mapping after it at the image's end (libpss/README.md).
        const vmaStart = containing(captured.regionStarts, base);
        const vma = vmaStart === null ? undefined : captured.regions.get(vmaStart);
        e.details =
          vma && vmaStart !== null && end <= vma.end
            ? partOf(e, vma.details, vmaStart, vma.end)
            : gone('the mapping');
        break;
      }
      default:
        break;
    }
  }
}
