import { describe, expect, it } from 'vitest';
import {
  decodeOpenFlags,
  humanObjectType,
  isNa,
  known,
  na,
  sumUsage,
  threadStateOf,
  type HandleDetails,
  type RegionUsage,
} from './details';

describe('open flags', () => {
  it('names the access mode first, then every flag bit (fcntl.h values)', () => {
    expect(decodeOpenFlags(0o2000002)).toEqual(['read/write', 'cloexec']);
    expect(decodeOpenFlags(0o4001)).toEqual(['write', 'nonblock']);
    expect(decodeOpenFlags(0o102001)).toEqual(['write', 'append', 'largefile']);
    expect(decodeOpenFlags(0o4010000)).toEqual(['read', 'sync']); // not also "dsync"
    expect(decodeOpenFlags(0o10000)).toEqual(['read', 'dsync']);
    expect(decodeOpenFlags(0o12000000)).toEqual(['path', 'cloexec']);
    expect(decodeOpenFlags(0o20200002)).toEqual(['read/write', 'tmpfile']);
    expect(decodeOpenFlags(0o200000)).toEqual(['read', 'directory']);
    expect(decodeOpenFlags(0o100000000)).toEqual(['read', '0o100000000']); // unknown bits shown
  });
});

describe('object types a person would name', () => {
  const base: HandleDetails = {
    kind: 'file',
    openFlags: 0,
    position: 0,
    inode: 1,
    device: '8:1',
    size: 0,
    created: '0',
    socket: na('not a socket'),
    peer: na('not a pipe or socket'),
  };
  it('from the details kind, the socket family and the anonymous inode name', () => {
    expect(humanObjectType('File', '/etc/passwd', base)).toBe('File');
    expect(humanObjectType('Pipe', 'pipe:[1]', { ...base, kind: 'pipe' })).toBe('Pipe');
    expect(
      humanObjectType('Socket/TCP', 'socket:[2]', {
        ...base,
        kind: 'socket',
        socket: {
          family: 'IPv4',
          protocol: 'TCP',
          state: 'LISTEN',
          listening: true,
          local: '127.0.0.1:5432',
          remote: '',
          receiveQueue: 0,
          sendQueue: 0,
          peerInode: null,
        },
      }),
    ).toBe('Socket (IPv4 TCP)');
    expect(
      humanObjectType('EventFd', 'anon_inode:[eventfd]', { ...base, kind: 'anon inode' }),
    ).toBe('Event (eventfd)');
    expect(
      humanObjectType('Epoll', 'anon_inode:[eventpoll]', { ...base, kind: 'anon inode' }),
    ).toBe('Epoll');
    expect(humanObjectType('AnonInode/x', 'anon_inode:[x]', { ...base, kind: 'anon inode' })).toBe(
      'Anonymous (x)',
    );
  });
  it('falls back to the PSS TypeName without details', () => {
    expect(humanObjectType('Socket/UNIX-STREAM', 'socket:[3]', undefined)).toBe('Socket');
    expect(humanObjectType('Directory', '/tmp', na('not captured'))).toBe('Directory');
  });
});

describe('n/a values', () => {
  it('carry their reason and are never mistaken for values', () => {
    const v = na('needs ptrace access');
    expect(isNa(v)).toBe(true);
    expect(isNa(0)).toBe(false);
    expect(isNa('')).toBe(false);
    expect(isNa(null)).toBe(false);
    expect(known(v)).toBeNull();
    expect(known(0)).toBe(0);
  });
  it('thread states from the task state letter', () => {
    expect(threadStateOf('S')).toBe('sleeping');
    expect(threadStateOf('D')).toBe('disk wait');
    expect(threadStateOf('t')).toBe('tracing stop');
    expect(threadStateOf('?')).toBe('unknown');
  });
  it('sums skip regions without usage and counters the kernel did not print', () => {
    const u = (rss: number | null): RegionUsage => ({ rss }) as RegionUsage;
    expect(sumUsage([u(4096), na('free'), u(8192), undefined], 'rss')).toBe(12288);
    expect(sumUsage([u(null), na('x')], 'rss')).toBeNull();
  });
});
