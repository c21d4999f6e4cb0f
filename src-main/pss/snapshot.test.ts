/**
 * The binding against the real libpss: a fixture process with known threads, fds and mappings,
 * real processes nobody here wrote (this test runner, `sleep`), error paths and misuse.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixture, type RunningFixture } from '../testing/fixture';
import { until } from '../testing/wait';
import { waitAllSleeping } from '../testing/targets';
import {
  UNPRIVILEGED_ID,
  canDropPrivileges,
  runScriptWithoutCapabilities,
  spawnAsUnprivileged,
  waitForUid,
} from '../testing/privilege';
import { ProcessHandle, Snapshot, WalkMarker } from './snapshot';
import { PssError, PssMisuseError } from './errors';
import { nativeMemory } from './native-memory';
import type { NativeAllocator } from './allocator';
import {
  DEFAULT_CAPTURE_FLAGS,
  MemState,
  PssCaptureFlags,
  Win32Error,
} from '../../src-shared/pss/constants';
import type { HandleEntry, ThreadEntry, VaSpaceEntry } from '../../src-shared/pss/entries';
import { fileTimeToEpochMs, isFileTime } from '../../src-shared/pss/filetime';

const FULL = DEFAULT_CAPTURE_FLAGS;

function capture(pid: number, flags = FULL): Snapshot {
  const p = ProcessHandle.open(pid);
  try {
    return Snapshot.capture(p, flags);
  } finally {
    p.close();
  }
}

describe('walking the fixture returns exactly what it made', () => {
  let fx: RunningFixture;
  let snap: Snapshot;
  beforeAll(async () => {
    fx = await startFixture({
      threads: 200,
      eventfds: 250,
      semaphores: 50,
      pipes: 400,
      sockets: 300,
      memfds: 200,
      files: 500,
      dirs: 100,
      timerfds: 100,
      epolls: 50,
      pidfds: 50,
      maps: 5000,
    });
    snap = capture(fx.pid);
  }, 60_000);
  afterAll(async () => {
    snap?.free();
    await fx?.stop();
  });

  it('threads: every tid, nothing else', () => {
    const threads = [...snap.entries('THREADS')] as ThreadEntry[];
    expect(threads.map((t) => t.threadId).sort((a, b) => a - b)).toEqual(
      [...fx.truth.tids].sort((a, b) => a - b),
    );
    expect(threads.length).toBe(201);
    for (const t of threads) {
      expect(t.processId).toBe(fx.pid);
      expect(t.exitStatus).toBe(259);
      expect(isFileTime(t.createTime), t.createTime).toBe(true);
      expect(fileTimeToEpochMs(t.createTime)).toBeGreaterThan(Date.now() - 3600_000);
    }
    expect(snap.counts().threads).toBe(201);
  });

  it('CreateTime is exact and the same in every capture (Compare sees no change)', () => {
    const times = (sn: Snapshot): string[] =>
      ([...sn.entries('THREADS')] as ThreadEntry[]).map((t) => `${t.threadId}:${t.createTime}`);
    const first = times(snap);
    for (let i = 0; i < 10; i++) {
      const again = capture(fx.pid, PssCaptureFlags.THREADS);
      try {
        expect(times(again)).toEqual(first);
      } finally {
        again.free();
      }
    }
  });

  it('handles: counts, object types, type names and names of every fd', () => {
    const handles = [...snap.entries('HANDLES')] as HandleEntry[];
    const made = fx.truth.fds.filter((f) => f.kind !== 'inherited');
    expect(made.length).toBeGreaterThanOrEqual(2000);
    const byFd = new Map(handles.map((h) => [h.handle, h]));
    expect(handles.length).toBe(fx.truth.fds.length);
    for (const f of fx.truth.fds) {
      const h = byFd.get(f.fd);
      expect(h, `fd ${f.fd} (${f.kind})`).toBeDefined();
      expect(h?.objectName).toBe(f.name);
      if (f.object_type !== null) expect(h?.objectType, `fd ${f.fd} ${f.kind}`).toBe(f.object_type);
      if (f.type_name !== null) expect(h?.typeName, `fd ${f.fd} ${f.kind}`).toBe(f.type_name);
      if (f.granted_access !== null)
        expect(h?.grantedAccess, `fd ${f.fd} ${f.kind} access`).toBe(f.granted_access);
      if (f.attributes !== null)
        expect(h?.attributes, `fd ${f.fd} ${f.kind} attributes`).toBe(f.attributes);
    }
    const kinds = new Map<string, number>();
    for (const f of made) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
    expect(kinds.size).toBeGreaterThanOrEqual(8);
  });

  it('VA space: every fixture mapping with its protection, type and file', () => {
    const regions = [...snap.entries('VA_SPACE')] as VaSpaceEntry[];
    const byBase = new Map(regions.map((r) => [r.baseAddress, r]));
    expect(fx.truth.maps.length).toBeGreaterThanOrEqual(5000);
    for (const m of fx.truth.maps) {
      const r = byBase.get(m.start);
      expect(r, `mapping at ${m.start}`).toBeDefined();
      expect(r?.regionSize).toBe(m.size);
      expect(r?.protect, `${m.start} ${m.prot}`).toBe(m.protect);
      expect(r?.type).toBe(m.type);
      expect(r?.state).toBe(m.state);
      expect(r?.mappedFileName).toBe(m.file ?? '');
    }
    // Regions tile the address space in order, gaps reported as MEM_FREE.
    for (let i = 1; i < regions.length; i++) {
      const prev = regions[i - 1] as VaSpaceEntry;
      const cur = regions[i] as VaSpaceEntry;
      if (BigInt(cur.baseAddress) >= 0x7ffffffff000n) break;
      expect(BigInt(prev.baseAddress) + BigInt(prev.regionSize)).toBe(BigInt(cur.baseAddress));
    }
    expect(regions.some((r) => r.state === MemState.FREE)).toBe(true);
  });
});

describe('real processes agree with independent tools', () => {
  it('sleep: threads with ps -T, fds with /proc/PID/fd, regions with /proc/PID/maps', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      const pid = child.pid as number;
      await until(
        () => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep',
        'exec of sleep',
      );
      // Past the dynamic loader too: asleep in nanosleep, its mappings settled.
      await waitAllSleeping(pid);
      const snap = capture(pid);
      try {
        const tids = execFileSync('ps', ['-T', '-o', 'spid=', '-p', String(pid)], {
          encoding: 'utf8',
        })
          .split('\n')
          .map((s) => s.trim())
          .filter(Boolean)
          .map(Number);
        expect(([...snap.entries('THREADS')] as ThreadEntry[]).map((t) => t.threadId)).toEqual(
          tids,
        );
        const fds = readdirSync(`/proc/${pid}/fd`)
          .map(Number)
          .sort((a, b) => a - b);
        const handles = [...snap.entries('HANDLES')] as HandleEntry[];
        expect(handles.map((h) => h.handle).sort((a, b) => a - b)).toEqual(fds);
        for (const h of handles)
          expect(h.objectName).toBe(readlinkSync(`/proc/${pid}/fd/${h.handle}`));
        const maps = readFileSync(`/proc/${pid}/maps`, 'utf8').trim().split('\n');
        const committed = ([...snap.entries('VA_SPACE')] as VaSpaceEntry[]).filter(
          (r) => r.state !== MemState.FREE,
        );
        expect(committed.length).toBe(maps.length);
        committed.forEach((r, i) => {
          const [range, , , , , ...path] = (maps[i] as string).split(/\s+/);
          const [start] = (range as string).split('-');
          expect(r.baseAddress).toBe('0x' + BigInt('0x' + start).toString(16));
          expect(r.mappedFileName).toBe(path.join(' '));
        });
        expect(snap.processInformation().processId).toBe(pid);
        expect(snap.processInformation().imageFileName).toMatch(/sleep$/);
      } finally {
        snap.free();
      }
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  });

  it('the test runner itself through the (HANDLE)-1 pseudo-handle', () => {
    const snap = Snapshot.capture(ProcessHandle.current(), FULL);
    try {
      const threads = [...snap.entries('THREADS')] as ThreadEntry[];
      const tids = readdirSync('/proc/self/task').map(Number);
      // Threads may come and go in a live Node process; the main thread is always there.
      expect(threads.map((t) => t.threadId)).toContain(process.pid);
      expect(Math.abs(threads.length - tids.length)).toBeLessThanOrEqual(4);
      expect(snap.processInformation().processId).toBe(process.pid);
    } finally {
      snap.free();
    }
  });
});

describe('errors are typed and nothing leaks', () => {
  it('a pid that does not exist', () => {
    const e = catchIt(() => ProcessHandle.open(0x3ffffff0));
    expect(e).toBeInstanceOf(PssError);
    expect((e as PssError).code).toBe(Win32Error.INVALID_PARAMETER);
  });

  it('a process that exits between open and capture', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    await new Promise((r) => setTimeout(r, 50));
    const proc = ProcessHandle.open(child.pid as number);
    child.kill('SIGKILL');
    await exited;
    const e = catchIt(() => Snapshot.capture(proc, FULL));
    proc.close();
    expect(e).toBeInstanceOf(PssError);
    expect((e as PssError).code).toBe(Win32Error.PROCESS_ABORTED);
  });

  it.skipIf(!canDropPrivileges())('a pid we may not read (no CAP_SYS_PTRACE)', async () => {
    // Another uid's process, read by a reader without capabilities (src-main/testing/privilege.ts
    // explains why the reader is capability-less root rather than another user).
    const { child: target, exited } = spawnAsUnprivileged(['sleep', '30']);
    try {
      await waitForUid(target.pid as number, UNPRIVILEGED_ID);
      capture(target.pid as number).free(); // the control: with capabilities it works
      const r = runScriptWithoutCapabilities(`
        import { ProcessHandle, Snapshot } from ${JSON.stringify(new URL('./index.ts', import.meta.url).pathname)};
        try { const p = ProcessHandle.open(${target.pid}); try { Snapshot.capture(p, ${FULL}).free(); console.log('captured'); } finally { p.close(); } }
        catch (e) { console.log(e.name + ' ' + e.code); }`);
      expect(r.stdout.trim(), r.stderr).toBe(`PssError ${Win32Error.ACCESS_DENIED}`);
    } finally {
      target.kill('SIGKILL');
      await exited;
    }
  });

  it('classes that were not captured answer ERROR_NOT_FOUND', () => {
    const snap = Snapshot.capture(ProcessHandle.current(), PssCaptureFlags.THREADS);
    try {
      expect(snap.counts().handles).toBeNull();
      const e = catchIt(() => [...snap.entries('HANDLES')]);
      expect((e as PssError).code).toBe(Win32Error.NOT_FOUND);
    } finally {
      snap.free();
    }
  });

  it('misuse is a thrown PssMisuseError, never a crash', () => {
    const snap = Snapshot.capture(ProcessHandle.current(), PssCaptureFlags.THREADS);
    const marker = WalkMarker.create();
    snap.free();
    expect(catchIt(() => snap.walkNext(marker, 'THREADS'))).toBeInstanceOf(PssMisuseError);
    expect(catchIt(() => snap.free())).toBeInstanceOf(PssMisuseError);
    marker.free();
    expect(catchIt(() => marker.free())).toBeInstanceOf(PssMisuseError);
    expect(catchIt(() => marker.getPosition())).toBeInstanceOf(PssMisuseError);
    const p = ProcessHandle.open(process.pid);
    p.close();
    expect(catchIt(() => p.close())).toBeInstanceOf(PssMisuseError);
    expect(catchIt(() => Snapshot.capture(p, 0))).toBeInstanceOf(PssMisuseError);
  });
});

describe('markers with a TypeScript allocator', () => {
  /** Counts blocks by address; fails on demand. */
  function countingAllocator(
    failAt = -1,
  ): NativeAllocator & { live: Map<bigint, number>; allocs: number; nullFrees: number } {
    const live = new Map<bigint, number>();
    const a = {
      live,
      allocs: 0,
      nullFrees: 0,
      alloc(size: number): bigint {
        a.allocs++;
        if (a.allocs === failAt) return 0n;
        const p = nativeMemory.malloc(size);
        live.set(p, size);
        return p;
      },
      free(address: bigint): void {
        if (address === 0n) {
          a.nullFrees++;
          return;
        }
        expect(live.delete(address), `free of ${address.toString(16)}`).toBe(true);
        nativeMemory.free(address);
      },
    };
    return a;
  }

  it('every block comes back; names stay valid for the marker lifetime', () => {
    const snap = Snapshot.capture(ProcessHandle.current(), FULL);
    const alloc = countingAllocator();
    const marker = WalkMarker.create(alloc);
    try {
      expect(alloc.allocs).toBeGreaterThan(0); // the marker itself
      const handles: HandleEntry[] = [];
      for (let e = snap.walkNext(marker, 'HANDLES'); e; e = snap.walkNext(marker, 'HANDLES'))
        handles.push(e as HandleEntry);
      expect(handles.length).toBe(snap.counts().handles);
      expect(alloc.live.size).toBeGreaterThan(1);
    } finally {
      marker.free();
      snap.free();
    }
    expect(alloc.live.size).toBe(0);
  });

  it('AllocRoutine returning NULL fails the call with ERROR_NOT_ENOUGH_MEMORY; the marker stays usable', () => {
    const snap = Snapshot.capture(ProcessHandle.current(), FULL);
    try {
      // Fail the very first allocation: PssWalkMarkerCreate.
      const a0 = countingAllocator(1);
      expect((catchIt(() => WalkMarker.create(a0)) as PssError).code).toBe(
        Win32Error.NOT_ENOUGH_MEMORY,
      );
      expect(a0.live.size).toBe(0);
      // Fail the second: inside PssWalkSnapshot; then the retry succeeds.
      const a1 = countingAllocator(2);
      const marker = WalkMarker.create(a1);
      expect(snap.walkNextRaw(marker, 'HANDLES')).toBe(Win32Error.NOT_ENOUGH_MEMORY);
      const first = snap.walkNext(marker, 'HANDLES') as HandleEntry;
      expect(first.kind).toBe('handle');
      marker.free();
      expect(a1.live.size).toBe(0);
    } finally {
      snap.free();
    }
  });

  it('positions save and restore; seek to beginning restarts', () => {
    const snap = Snapshot.capture(ProcessHandle.current(), FULL);
    const marker = WalkMarker.create();
    try {
      snap.walkNext(marker, 'VA_SPACE');
      snap.walkNext(marker, 'VA_SPACE');
      const pos = marker.getPosition();
      const third = snap.walkNext(marker, 'VA_SPACE');
      snap.walkNext(marker, 'VA_SPACE');
      marker.setPosition(pos);
      expect(snap.walkNext(marker, 'VA_SPACE')).toEqual(third);
      marker.seekToBeginning();
      const first = snap.walkNext(marker, 'VA_SPACE') as VaSpaceEntry;
      expect(first.baseAddress).toBe(
        ([...snap.entries('VA_SPACE')][0] as VaSpaceEntry).baseAddress,
      );
      expect(snap.hasNext(marker, 'VA_SPACE')).toBe(true);
    } finally {
      marker.free();
      snap.free();
    }
  });

  it('duplicate is an independent copy', () => {
    const snap = Snapshot.capture(ProcessHandle.current(), FULL);
    const dup = snap.duplicate();
    const n = snap.counts().regions;
    snap.free();
    expect(dup.counts().regions).toBe(n);
    expect([...dup.entries('VA_SPACE')].length).toBe(n);
    dup.free();
  });
});

function catchIt(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}
