/**
 * Inspection details of processes nobody here wrote (python3, PostgreSQL), captured through the
 * binding exactly as the explorer does, against the tools people compare with: ps -L, the
 * /proc/TID/syscall files, ss -tanp / -uanp / -xp, /proc/PID/smaps and smaps_rollup, the ELF
 * images in /proc/PID/maps and readelf. Targets are quiescent when captured (every thread
 * asleep), so their numbers hold still; the one tolerance (Pss of pages shared with other
 * processes, which come and go on this machine) is explained where it is used.
 */
import koffi from 'koffi';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CAPTURE_FLAGS } from '../../src-shared/pss/constants';
import {
  isNa,
  known,
  type HandleDetails,
  type RegionDetails,
  type ThreadDetails,
} from '../../src-shared/pss/details';
import type { HandleEntry, ThreadEntry, VaSpaceEntry } from '../../src-shared/pss/entries';
import {
  elfImagesInMaps,
  fdLink,
  parentOf,
  postgresBin,
  psThreads,
  readSmaps,
  readelfBuildId,
  ssRows,
  startPostgres,
  startPythonTarget,
  waitAllSleeping,
  type PostgresTarget,
  type PythonTarget,
} from '../testing/targets';
import {
  attachDetails,
  captureSnapshotAndDetails,
  detailFlagsFor,
  DETAILS_STRUCTS,
  type CapturedDetails,
} from './details';
import { ProcessHandle, type Snapshot } from './snapshot';

interface Captured {
  snapshot: Snapshot;
  details: CapturedDetails;
  threads: ThreadEntry[];
  handles: HandleEntry[];
  regions: VaSpaceEntry[];
}

function capture(pid: number, usage = true): Captured {
  const proc = ProcessHandle.open(pid);
  try {
    const { snapshot, details } = captureSnapshotAndDetails(
      proc,
      DEFAULT_CAPTURE_FLAGS,
      detailFlagsFor(DEFAULT_CAPTURE_FLAGS, usage),
    );
    if (!details) throw new Error('no details on this platform');
    const threads = [...snapshot.entries('THREADS')] as ThreadEntry[];
    const handles = [...snapshot.entries('HANDLES')] as HandleEntry[];
    const regions = [...snapshot.entries('VA_SPACE')] as VaSpaceEntry[];
    attachDetails(threads, details);
    attachDetails(handles, details);
    attachDetails(regions, details);
    return { snapshot, details, threads, handles, regions };
  } finally {
    proc.close();
  }
}

const td = (t: ThreadEntry): ThreadDetails => {
  if (!t.details || isNa(t.details)) throw new Error(`thread ${t.threadId}: no details`);
  return t.details;
};
const hd = (h: HandleEntry | undefined): HandleDetails => {
  if (!h?.details || isNa(h.details)) throw new Error(`handle ${h?.handle}: no details`);
  return h.details;
};
const rd = (r: VaSpaceEntry): RegionDetails => {
  if (!r.details || isNa(r.details)) throw new Error(`region ${r.baseAddress}: no details`);
  return r.details;
};

/** Threads as ps -L and /proc/TID/syscall show them. */
function checkThreads(pid: number, c: Captured): void {
  const ps = psThreads(pid);
  expect(c.threads.length).toBe(ps.size);
  for (const t of c.threads) {
    const d = td(t);
    const p = ps.get(t.threadId);
    expect(p, `tid ${t.threadId} in ps`).toBeDefined();
    expect(d.name).toBe(p?.comm);
    expect(d.stateCode).toBe(p?.stat[0]);
    const sc = readFileSync(`/proc/${pid}/task/${t.threadId}/syscall`, 'utf8').trim().split(' ');
    const syscall = d.syscall;
    if (isNa(syscall)) throw new Error(`tid ${t.threadId}: ${syscall.na}`);
    expect(syscall.number).toBe(Number(sc[0]));
    expect(d.stackPointer).toBe(syscall.number === -1 ? sc[1] : sc[7]);
    expect(d.instructionPointer).toBe(syscall.number === -1 ? sc[2] : sc[8]);
    if (syscall.number >= 0) expect(syscall.args).toEqual(sc.slice(1, 7));
    // Its stack: the region holding its stack pointer is a Stack of that thread.
    const sp = BigInt(d.stackPointer as string);
    const region = c.regions.find(
      (r) => BigInt(r.baseAddress) <= sp && sp < BigInt(r.baseAddress) + BigInt(r.regionSize),
    );
    expect(region && rd(region).kind).toBe('Stack');
    if (t.threadId !== pid) expect(region && rd(region).threadId).toBe(t.threadId);
  }
}

/** What checkUsage compares exactly, per VMA: the range and the counters of its own pages. */
const exactUsage = (vmas: ReturnType<typeof readSmaps>): string =>
  JSON.stringify(
    vmas.map((v) => [
      String(v.start),
      String(v.end),
      v.fields['Rss'],
      v.fields['Swap'],
      v.fields['Private_Dirty'],
      v.fields['Locked'],
    ]),
  );

/**
 * checkUsage on a capture during which the process stood still: smaps read just before and just
 * after the capture agree (a target that touched a page meanwhile, say a postmaster waking up,
 * makes the comparison meaningless, so that capture is retried). Never still in 5 tries fails.
 */
function checkUsageOfStillProcess(pid: number): void {
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = readSmaps(pid);
    const c = capture(pid);
    try {
      const after = readSmaps(pid);
      if (exactUsage(before) !== exactUsage(after)) continue;
      checkUsage(pid, c, after);
      return;
    } finally {
      c.snapshot.free();
    }
  }
  throw new Error(`process ${pid} changed its memory during each of 5 captures`);
}

/** Per-region usage as smaps shows it; the sum is smaps_rollup. */
function checkUsage(pid: number, c: Captured, smaps = readSmaps(pid)): void {
  // One entry per VMA carries its usage; PSS splits a library's .bss VMA merged with the
  // mapping after it at the image end, and the tail says where the usage is.
  const parts = c.regions.filter((r) => rd(r).kind !== 'Free' && isNa(rd(r).usage));
  for (const p of parts)
    expect(rd(p).usage).toMatchObject({
      na: expect.stringMatching(/^smaps counts the whole mapping/),
    });
  const mapped = c.regions.filter((r) => rd(r).kind !== 'Free' && !isNa(rd(r).usage));
  expect(mapped.length).toBe(smaps.length);
  let rss = 0;
  let pss = 0;
  let shared = 0;
  mapped.forEach((r, i) => {
    const s = smaps[i];
    const u = rd(r).usage;
    if (!s || isNa(u)) throw new Error(`region ${r.baseAddress}: no usage`);
    expect(BigInt(r.baseAddress)).toBe(s.start);
    const split = rd(r).note.startsWith('usage of the whole mapping');
    if (!split) expect(BigInt(r.baseAddress) + BigInt(r.regionSize)).toBe(s.end);
    expect(u.rss).toBe(s.fields['Rss']);
    expect(u.swap).toBe(s.fields['Swap']);
    expect(u.privateDirty).toBe(s.fields['Private_Dirty']);
    expect(u.locked).toBe(s.fields['Locked']);
    const sh = (s.fields['Shared_Clean'] ?? 0) + (s.fields['Shared_Dirty'] ?? 0);
    // Pss of pages shared with other processes changes as those processes come and go; it
    // is exact for the rest.
    if (sh === 0) expect(u.pss).toBe(s.fields['Pss']);
    else expect(u.pss as number).toBeLessThanOrEqual(u.rss as number);
    rss += u.rss as number;
    pss += u.pss as number;
    shared += sh;
  });
  const rollup = c.details.info.rollup;
  if (isNa(rollup)) throw new Error(rollup.na);
  expect(rss).toBe(rollup.rss);
  // Per-region Pss is printed rounded down to kB; the rollup is summed before rounding.
  expect(Math.abs(pss - (rollup.pss as number))).toBeLessThanOrEqual(1024 * mapped.length + shared);
  expect(c.details.info.cost.usageBytesRead).toBeGreaterThan(0);
}

/** The module list is the ELF images in maps, with readelf's build-ids. */
function checkModules(pid: number, c: Captured): void {
  const images = elfImagesInMaps(pid);
  const modules = c.details.info.modules.filter((m) => !m.vdso);
  expect(new Set(modules.map((m) => m.path))).toEqual(images);
  for (const m of modules) {
    expect(known(m.buildId)).toBe(readelfBuildId(m.path));
    const first = c.regions.find((r) => r.baseAddress === m.base);
    expect(first && rd(first).kind).toBe('Image');
  }
  expect(c.details.info.modules.filter((m) => m.mainExecutable)).toHaveLength(1);
  expect(c.details.info.modules.some((m) => m.soname === 'libc.so.6')).toBe(true);
  // One source of truth: what PSS calls MEM_IMAGE, the details call Image.
  for (const r of c.regions) if (r.type === 0x1000000) expect(rd(r).kind).toBe('Image');
}

describe('struct layouts', () => {
  it('match the C header', () => {
    const header = readFileSync(
      join(import.meta.dirname, '..', '..', 'libpss', 'include', 'processsnapshot.h'),
      'utf8',
    );
    for (const [name, type] of Object.entries(DETAILS_STRUCTS)) {
      const m = new RegExp(`sizeof\\(${name}\\) == (\\d+)`).exec(header);
      expect(m, name).not.toBeNull();
      expect(koffi.sizeof(type), name).toBe(Number(m?.[1]));
    }
    for (const m of header.matchAll(/offsetof\((PSS_DETAILS_\w+), (\w+)\) == (\d+)/g)) {
      const type = DETAILS_STRUCTS[m[1] as keyof typeof DETAILS_STRUCTS];
      expect(koffi.offsetof(type, m[2] as string), `${m[1]}.${m[2]}`).toBe(Number(m[3]));
    }
  });
});

describe.runIf(process.platform === 'linux')('python3: threads, sockets, pipes, usage', () => {
  let py: PythonTarget;
  let c: Captured;
  beforeAll(async () => {
    py = await startPythonTarget();
    await waitAllSleeping(py.pid);
    await waitAllSleeping(py.childPid);
    c = capture(py.pid);
  });
  afterAll(async () => {
    c?.snapshot.free();
    await py?.stop();
  });

  it('names, states, syscalls and stacks agree with ps -L and /proc/TID/syscall', () => {
    checkThreads(py.pid, c);
    const names = c.threads.map((t) => td(t).name).sort();
    expect(names).toEqual(['py-worker-0', 'py-worker-1', 'py-worker-2', 'python3']);
    for (const t of c.threads) {
      const d = td(t);
      expect(d.state).toBe('sleeping');
      const sc = d.syscall;
      if (isNa(sc)) throw new Error(sc.na);
      // Workers wait on a lock (futex); the main thread reads its stdin.
      expect(sc.name).toBe(t.threadId === py.pid ? 'read' : 'futex');
      expect(known(d.waitChannel)).toBeTruthy();
      expect(known(d.cpuTime)).toBeGreaterThan(0);
      expect(known(d.affinity)).toMatch(/^\d/);
    }
  });

  it('sockets agree with ss -tanp, ss -uanp and ss -xp', () => {
    const byFd = new Map(c.handles.map((h) => [h.handle, h]));
    const tcp = ssRows(['-tanp'], py.pid);
    expect(tcp.length).toBe(3);
    for (const row of tcp) {
      const s = hd(byFd.get(row.fd)).socket;
      if (isNa(s)) throw new Error(s.na);
      expect(s.protocol).toBe('TCP');
      expect(s.state).toBe(row.state);
      expect(s.local).toBe(row.local);
      if (s.state === 'ESTAB') expect(s.remote).toBe(row.peer);
    }
    const listener = hd(byFd.get(py.fds.tcp)).socket;
    expect(!isNa(listener) && listener.local).toBe(`127.0.0.1:${py.tcpPort}`);
    // The two ends of the loopback connection find each other (process and fd).
    expect(known(hd(byFd.get(py.fds.client)).peer)).toMatchObject({
      pid: py.pid,
      fd: py.fds.server,
    });
    const udp = ssRows(['-uanp'], py.pid);
    expect(udp.map((r) => r.fd)).toEqual([py.fds.udp]);
    const us = hd(byFd.get(py.fds.udp)).socket;
    expect(!isNa(us) && [us.protocol, us.state, us.local]).toEqual([
      'UDP',
      udp[0]?.state,
      udp[0]?.local,
    ]);
    const unix = [...ssRows(['-xp'], py.pid), ...ssRows(['-xlp'], py.pid)];
    const fds = new Set([py.fds.ux, py.fds.uc, py.fds.us]);
    for (const row of unix.filter((r) => fds.has(r.fd))) {
      const d = hd(byFd.get(row.fd));
      const s = d.socket;
      if (isNa(s)) throw new Error(s.na);
      const [localPath, localIno] = row.local.split(' ');
      const [, peerIno] = row.peer.split(' ');
      expect(s.family).toBe('UNIX');
      expect(s.state).toBe(row.state);
      expect(s.local || '*').toBe(localPath);
      expect(String(known(d.inode))).toBe(localIno);
      expect(String(s.peerInode ?? 0)).toBe(peerIno);
      fds.delete(row.fd);
    }
    expect(fds.size).toBe(0);
    const listenerUx = hd(byFd.get(py.fds.ux)).socket;
    expect(!isNa(listenerUx) && listenerUx.local).toBe(py.unixPath);
    expect(known(hd(byFd.get(py.fds.uc)).peer)).toMatchObject({ pid: py.pid, fd: py.fds.us });
  });

  it('a pipe names the process at its other end; flags and access are decoded', () => {
    const pipe = hd(c.handles.find((h) => h.handle === py.fds.pipe));
    expect(pipe.kind).toBe('pipe');
    expect(known(pipe.peer)).toEqual({ pid: py.childPid, fd: 0, name: 'sleep', count: 1 });
    expect(fdLink(py.childPid, 0)).toBe(`pipe:[${known(pipe.inode)}]`);
    expect((known(pipe.openFlags) as number) & 3).toBe(1); // the write end
    // Pipes and sockets have no creation time on Linux: n/a with the reason, never a date.
    expect(isNa(pipe.created)).toBe(true);
  });

  it('per-region Rss/Pss/Swap agree with smaps; the sum is smaps_rollup', () => {
    checkUsageOfStillProcess(py.pid);
  });

  it('region kinds: every thread stack, the brk heap and malloc arenas', () => {
    const kinds = c.regions.map((r) => rd(r));
    const stacks = kinds.filter((k) => k.kind === 'Stack' && !k.note.startsWith('guard'));
    expect(new Set(stacks.map((k) => k.threadId))).toEqual(
      new Set(c.threads.map((t) => t.threadId)),
    );
    expect(kinds.some((k) => k.kind === 'Heap' && k.note === 'brk heap')).toBe(true);
    // Each worker malloc'd in its own thread: glibc gave them arenas (64 MiB-aligned heaps).
    const arenas = c.regions.filter((r) => rd(r).note === 'malloc arena');
    expect(arenas.length).toBeGreaterThanOrEqual(1);
    for (const a of arenas) expect(BigInt(a.baseAddress) % (64n << 20n)).toBe(0n);
  });

  it('the module list is the ELF images in maps, with readelf build-ids', () => {
    checkModules(py.pid, c);
  });

  it('without the usage capture, usage is n/a with its reason, kinds stay', () => {
    const plain = capture(py.pid, false);
    try {
      const r = plain.regions.find((x) => rd(x).kind === 'Heap');
      expect(r && rd(r).usage).toEqual({
        na: 'the memory-usage capture (smaps) was not part of this snapshot',
      });
      expect(plain.details.info.cost.usageBytesRead).toBe(0);
      expect(isNa(plain.details.info.rollup)).toBe(true);
    } finally {
      plain.snapshot.free();
    }
  });
});

const pgBin = process.platform === 'linux' ? postgresBin() : null;

describe.runIf(pgBin !== null)('PostgreSQL: a throw-away cluster', () => {
  let pg: PostgresTarget;
  let c: Captured;
  beforeAll(async () => {
    pg = await startPostgres(pgBin as string);
    for (const p of [pg.pid, ...pg.children]) await waitAllSleeping(p);
    c = capture(pg.pid);
  }, 180_000);
  afterAll(async () => {
    c?.snapshot.free();
    await pg?.stop();
  }, 180_000);

  it('the postmaster thread agrees with ps -L and /proc/TID/syscall', () => {
    checkThreads(pg.pid, c);
    expect(td(c.threads[0] as ThreadEntry).name).toBe('postgres');
  });

  it('its TCP listener (ss -tlnp) and UNIX socket (ss -xlp) are decoded', () => {
    const byFd = new Map(c.handles.map((h) => [h.handle, h]));
    const tcp = ssRows(['-tlnp'], pg.pid);
    expect(tcp.map((r) => r.local)).toContain(`127.0.0.1:${pg.port}`);
    for (const row of tcp) {
      const s = hd(byFd.get(row.fd)).socket;
      expect(!isNa(s) && [s.state, s.local]).toEqual([row.state, row.local]);
    }
    const unix = ssRows(['-xlp'], pg.pid);
    const path = join(pg.socketDir, `.s.PGSQL.${pg.port}`);
    expect(unix.map((r) => r.local.split(' ')[0])).toContain(path);
    for (const row of unix) {
      const s = hd(byFd.get(row.fd)).socket;
      expect(!isNa(s) && [s.family, s.state, s.local]).toEqual([
        'UNIX',
        'LISTEN',
        row.local.split(' ')[0],
      ]);
    }
  });

  it("its pipes' peers hold the same pipe; the death-watch pipe leads to its children", () => {
    const peers = c.handles
      .filter((h) => hd(h).kind === 'pipe')
      .map((h) => ({ h, peer: known(hd(h).peer) }))
      .filter((x) => x.peer !== null);
    expect(peers.length).toBeGreaterThan(0);
    for (const { h, peer } of peers)
      expect(fdLink(peer?.pid ?? 0, peer?.fd ?? -1)).toBe(h.objectName);
    // (Pipes it inherited from whoever started it lead elsewhere; at least one is its own.)
    expect(
      peers.some(({ peer }) => peer && peer.pid !== pg.pid && parentOf(peer.pid) === pg.pid),
    ).toBe(true);
  });

  it('shared memory is Shared memory; per-region usage agrees with smaps and the rollup', () => {
    const shared = c.regions.filter((r) => rd(r).kind === 'Shared memory');
    expect(shared.reduce((n, r) => n + r.regionSize, 0)).toBeGreaterThanOrEqual(16 << 20);
    checkUsageOfStillProcess(pg.pid);
  });

  it('the module list is the ELF images in maps, with readelf build-ids', () => {
    checkModules(pg.pid, c);
    const main = c.details.info.modules.find((m) => m.mainExecutable);
    expect(main?.path).toBe(join(pgBin as string, 'postgres'));
  });
});
