/**
 * The real `pss-inspector` binary (bin/pss-inspector.mjs, as a user runs it) against the
 * fixture: every command, --json parsed, exit codes, and one clear line on stderr for each
 * failure the docs list. Also: a walk killed with SIGKILL mid-session leaves a trace that opens
 * and holds every complete batch.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startFixture, type RunningFixture } from '../testing/fixture';
import {
  UNPRIVILEGED_ID,
  canDropPrivileges,
  spawnAsUnprivileged,
  waitForUid,
} from '../testing/privilege';
import { EventBatchView, EventWriter } from '../../src-shared/events/batch';
import { EventKind } from '../../src-shared/events/layout';
import {
  BytesSource,
  CHUNK_HEADER_BYTES,
  FileSink,
  Tag,
  TraceReader,
  TraceWriter,
} from '../trace/trace-file';
import { Exit } from './exit-codes';
import { appLaunch } from './commands';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'pss-inspector.mjs');
const dir = mkdtempSync(join(tmpdir(), 'pss-cli-test-'));
let fx: RunningFixture;

function cli(args: string[], opts: { prefix?: string[] } = {}): SpawnSyncReturns<string> {
  const argv = [...(opts.prefix ?? []), process.execPath, CLI, ...args];
  return spawnSync(argv[0] as string, argv.slice(1), {
    encoding: 'utf8',
    cwd: ROOT,
    timeout: 120_000,
  });
}

/** A failure: the documented code and exactly one line on stderr. */
function expectFailure(r: SpawnSyncReturns<string>, code: number, pattern: RegExp): void {
  expect(r.status, r.stderr).toBe(code);
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^pss-inspector: error: /);
  expect(lines[0]).toMatch(pattern);
}

beforeAll(async () => {
  fx = await startFixture({ threads: 5, eventfds: 4, pipes: 6, files: 10, sockets: 4, maps: 20 });
}, 60_000);

afterAll(async () => {
  await fx?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('pss-inspector', () => {
  it('--help lists every command; each command has --help; no command is a usage error', () => {
    const r = cli(['--help']);
    expect(r.status).toBe(0);
    for (const c of ['ps', 'capture', 'walk', 'summary', 'diff', 'export', 'open']) {
      expect(r.stdout).toMatch(new RegExp(`^${c} `, 'm'));
      const h = cli([c, '--help']);
      expect(h.status, h.stderr).toBe(0);
      expect(h.stdout).toMatch(new RegExp(`^usage: pss-inspector ${c}`));
    }
    expect(cli([]).status).toBe(Exit.USAGE);
    expectFailure(cli(['frobnicate']), Exit.USAGE, /unknown command "frobnicate"/);
    expectFailure(
      cli(['capture', String(fx.pid), '--bogus']),
      Exit.USAGE,
      /unknown option --bogus/,
    );
    expectFailure(cli(['capture', 'abc']), Exit.USAGE, /PID must be a whole number/);
  });

  it('ps --json lists the fixture with its owner and threads; --tree nests it under its parent', () => {
    const r = cli(['ps', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      schema: string;
      version: number;
      processes: { pid: number; ppid: number; threads: number; user: string }[];
    };
    expect(doc.schema).toBe('pss-inspector/ps');
    expect(doc.version).toBe(1);
    const me = doc.processes.find((p) => p.pid === fx.pid);
    expect(me?.threads).toBe(6);
    expect(me?.ppid).toBe(process.pid);
    const tree = cli(['ps', '--tree']).stdout.split('\n');
    const parentLine = tree.findIndex((l) => new RegExp(`^\\s*${process.pid}\\s`).test(l));
    const childLine = tree.findIndex((l) => new RegExp(`^\\s*${fx.pid}\\s`).test(l));
    expect(parentLine).toBeGreaterThanOrEqual(0);
    expect(childLine).toBeGreaterThan(parentLine);
  });

  it('capture --json matches the fixture; --table prints the same counts', () => {
    const r = cli(['capture', String(fx.pid), '--json']);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      schema: string;
      snapshot: { pid: number; counts: { threads: number; handles: number } };
      threads: { threadId: number }[];
      handles: { handle: number; objectName: string }[];
      regions: unknown[];
    };
    expect(doc.schema).toBe('pss-inspector/capture');
    expect(doc.threads.map((t) => t.threadId).sort()).toEqual([...fx.truth.tids].sort());
    const byFd = new Map(doc.handles.map((h) => [h.handle, h.objectName]));
    for (const f of fx.truth.fds) expect(byFd.get(f.fd), `fd ${f.fd}`).toBe(f.name);
    expect(doc.regions.length).toBeGreaterThan(fx.truth.maps.length);
    const t = cli(['capture', String(fx.pid), '--table', '--flags', 'threads']);
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toContain(`${doc.threads.length} threads, n/a handles, n/a regions`);
  });

  it('bad pid, unreadable pid: their documented codes and one line with the Win32 code and hint', () => {
    expectFailure(
      cli(['capture', '2147483646']),
      Exit.NO_PROCESS,
      /ERROR_INVALID_PARAMETER.*No process with id 2147483646.* — /,
    );
    expectFailure(
      cli(['walk', '2147483646', '--allocator', 'heap', '--out', join(dir, 'never.pstrace')]),
      Exit.NO_PROCESS,
      /No process with id/,
    );
  });

  it.skipIf(!canDropPrivileges())(
    'a process the caller may not read: access denied (4)',
    async () => {
      const { child, exited } = spawnAsUnprivileged(['sleep', '30']);
      try {
        await waitForUid(child.pid as number, UNPRIVILEGED_ID);
        const r = cli(['capture', String(child.pid)], {
          prefix: [
            'setpriv',
            '--bounding-set',
            '-all',
            '--inh-caps',
            '-all',
            '--ambient-caps',
            '-all',
            '--',
          ],
        });
        expectFailure(r, Exit.ACCESS_DENIED, /ERROR_ACCESS_DENIED.* — .*CAP_SYS_PTRACE/);
      } finally {
        child.kill('SIGKILL');
        await exited;
      }
    },
  );

  it('walk streams a trace whose events recount to its summary; summary, diff and export read it', () => {
    const a = join(dir, 'a.pstrace');
    const b = join(dir, 'b.pstrace');
    const w = cli([
      'walk',
      String(fx.pid),
      '--allocator',
      'guard',
      '--passes',
      '2',
      '--out',
      a,
      '--json',
    ]);
    expect(w.status, w.stderr).toBe(0);
    expect(w.stderr).toBe(''); // no progress bar when stderr is not a terminal
    const walked = JSON.parse(w.stdout) as {
      schema: string;
      summary: { events: number; allocations: number; frees: number };
    };
    expect(walked.schema).toBe('pss-inspector/walk');
    const r = TraceReader.open(new BytesSource(readFileSync(a)));
    expect(r.complete).toBe(true);
    let allocs = 0;
    let frees = 0;
    r.forEachBatch((_f, rec) => {
      const v = new EventBatchView(rec);
      for (let i = 0; i < v.count; i++) {
        if (v.kind(i) === EventKind.Alloc) allocs++;
        if (v.kind(i) === EventKind.Free) frees++;
      }
    });
    expect(r.eventCount).toBe(walked.summary.events);
    expect(allocs).toBe(walked.summary.allocations);
    expect(frees).toBe(walked.summary.frees);
    expect((r.entries().get('THREADS') ?? []).length).toBe(fx.truth.tids.length);

    const s = cli(['summary', a, '--json']);
    expect(s.status, s.stderr).toBe(0);
    const sum = JSON.parse(s.stdout) as {
      complete: boolean;
      events: number;
      eventsByKind: Record<string, number>;
    };
    expect(sum.complete).toBe(true);
    expect(sum.events).toBe(walked.summary.events);
    expect(sum.eventsByKind['Alloc']).toBe(allocs);
    expect(cli(['summary', a]).stdout).toMatch(/trace version 2, complete/);

    expect(cli(['walk', String(fx.pid), '--allocator', 'heap', '--out', b]).status).toBe(0);
    const d = cli(['diff', a, b, '--json']);
    expect(d.status, d.stderr).toBe(0);
    const diff = JSON.parse(d.stdout) as {
      totals: { field: string; a: number; b: number }[];
      entries: Record<string, { unchanged: number }>;
    };
    expect(diff.totals.find((t) => t.field === 'events')?.a).toBe(walked.summary.events);
    expect(diff.entries['THREADS']?.unchanged).toBe(fx.truth.tids.length);

    for (const format of ['chrome', 'speedscope', 'json']) {
      const e = cli(['export', a, '--format', format]);
      expect(e.status, e.stderr).toBe(0);
      expect(() => JSON.parse(e.stdout) as unknown).not.toThrow();
    }
    const csv = cli(['export', a, '--format', 'csv']);
    expect(csv.stdout.split('\r\n').filter(Boolean)).toHaveLength(1 + walked.summary.events);
    const threads = cli(['export', a, '--format', 'csv', '--table', 'threads']);
    expect(threads.stdout.split('\r\n').filter(Boolean)).toHaveLength(1 + fx.truth.tids.length);
  });

  it('missing, corrupt and unfinished files: codes 5, 6 and 7', () => {
    expectFailure(cli(['summary', join(dir, 'nope.pstrace')]), Exit.FILE, /no such file/);
    const junk = join(dir, 'junk.pstrace');
    writeFileSync(junk, 'hello, this is not a trace at all');
    expectFailure(cli(['summary', junk]), Exit.CORRUPT, /bad magic/);
    const good = join(dir, 'good.pstrace');
    expect(
      cli(['walk', String(fx.pid), '--allocator', 'heap', '--passes', '3', '--out', good]).status,
    ).toBe(0);
    const bytes = readFileSync(good);
    const cut = join(dir, 'cut.pstrace');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const r = cli(['summary', cut, '--json']);
    expect(r.status).toBe(Exit.PARTIAL);
    expect(r.stderr).toMatch(/^pss-inspector: warning: .*cut\.pstrace: /);
    const doc = JSON.parse(r.stdout) as {
      complete: boolean;
      events: number;
      damage: { offset: number };
    };
    expect(doc.complete).toBe(false);
    expect(doc.damage.offset).toBeLessThanOrEqual(Math.floor(bytes.length * 0.6));
    expectFailure(cli(['export', junk, '--format', 'csv']), Exit.CORRUPT, /not a trace file/);
    expectFailure(cli(['export', good, '--format', 'pdf']), Exit.USAGE, /--format must be one of/);
  });

  it('open: a missing or corrupt file, or a bad port, fails before anything starts', () => {
    expectFailure(cli(['open', join(dir, 'nope.pstrace'), '--web']), Exit.FILE, /no such file/);
    const junk = join(dir, 'junk-open.pstrace');
    writeFileSync(junk, 'PSSTRACE but nothing after it');
    expectFailure(cli(['open', junk, '--web']), Exit.CORRUPT, /not a trace file|version/);
    expectFailure(cli(['open']), Exit.USAGE, /trace FILE is missing/);
    const good = join(dir, 'open-good.pstrace');
    expect(cli(['walk', String(fx.pid), '--allocator', 'heap', '--out', good]).status).toBe(0);
    expectFailure(cli(['open', good, '--web', '--port', '70000']), Exit.USAGE, /--port/);
  });

  it('summary --at N: the state after N events, rebuilt from the nearest ledger checkpoint', () => {
    const path = join(dir, 'checkpoints.pstrace');
    const w = new TraceWriter(new FileSink(path), { pid: 1 }, { checkpointEvery: 1000 });
    let t = 0;
    const ew = new EventWriter(
      500,
      (b, first) => w.appendEvents(first, b),
      () => (t += 10),
    );
    // Each block allocated, then freed by the next event: one block live after an odd count.
    for (let i = 0; i < 5000; i++)
      ew.write(
        i % 2 ? EventKind.Free : EventKind.Alloc,
        1,
        0,
        0,
        1,
        1,
        0x1000 + (i >> 1) * 16,
        0,
        32,
        0,
        0,
      );
    ew.flush();
    w.finish(null);
    const r = cli(['summary', path, '--at', '2501', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      schema: string;
      at: number;
      events: number;
      fromCheckpoint: number | null;
      state: { events: number; allocations: number; frees: number; liveBlocks: number };
    };
    expect(doc.schema).toBe('pss-inspector/state');
    expect([doc.at, doc.events, doc.fromCheckpoint]).toEqual([2501, 5000, 2000]);
    expect(doc.state).toMatchObject({
      events: 2501,
      allocations: 1251,
      frees: 1250,
      liveBlocks: 1,
    });
    const text = cli(['summary', path, '--at', '0']);
    expect(text.stdout).toMatch(/state after 0 of 5000 events \(folded from the start\)/);
    expect(text.stdout).toMatch(/^allocations 0 /m);
    expectFailure(
      cli(['summary', path, '--at', '5001']),
      Exit.USAGE,
      /--at must be between 0 and 5000/,
    );
  });

  it('open starts the launcher of a checkout on the file, or the bundled web mode; says when nothing is built', () => {
    const root = mkdtempSync(join(dir, 'app-'));
    // The packaged app: its executable, with --open (web mode still runs the bundle).
    expect(appLaunch(root, '/t/a.psstrace', false, undefined, '/opt/PSS/pss-inspector')).toEqual({
      command: '/opt/PSS/pss-inspector',
      args: ['--open', '/t/a.psstrace'],
    });
    expect(appLaunch(root, '/t/a.psstrace', true, undefined, '/opt/PSS/pss-inspector')).toMatch(
      /web\.js is missing/,
    );
    expect(appLaunch(root, '/t/a.psstrace', true, undefined)).toMatch(
      /out\/main\/web\.js is missing/,
    );
    mkdirSync(join(root, 'out', 'main'), { recursive: true });
    writeFileSync(join(root, 'out', 'main', 'web.js'), '');
    expect(appLaunch(root, '/t/a.psstrace', false, undefined)).toMatch(/index\.js is missing/);
    expect(appLaunch(root, '/t/a.psstrace', true, '0')).toEqual({
      command: process.execPath,
      args: [join(root, 'out', 'main', 'web.js'), '--open', '/t/a.psstrace', '--port', '0'],
    });
    mkdirSync(join(root, 'scripts'));
    writeFileSync(join(root, 'scripts', 'start.mjs'), '');
    expect(appLaunch(root, '/t/a.psstrace', true, undefined)).toEqual({
      command: process.execPath,
      args: [join(root, 'scripts', 'start.mjs'), '--no-build', '--web', '--open', '/t/a.psstrace'],
    });
  });

  it('a walk killed with SIGKILL mid-session leaves a trace that opens with every complete batch', async () => {
    const out = join(dir, 'killed.pstrace');
    // Long enough to be killed mid-way: many passes over a fixture with many mappings (the
    // native tracer walks the small one's 1,000 passes before the poll below sees them).
    const big = await startFixture({ threads: 20, files: 200, maps: 3000 });
    onTestFinished(() => big.stop());
    const child = spawn(
      process.execPath,
      [CLI, 'walk', String(big.pid), '--allocator', 'heap', '--passes', '1000', '--out', out],
      {
        cwd: ROOT,
        stdio: 'ignore',
      },
    );
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    // Wait until the recording is well under way (some batches on disk), then kill it.
    let size = 0;
    while (size < 256 * 1024 && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 20));
      try {
        size = statSync(out).size;
      } catch {
        size = 0;
      }
    }
    expect(child.exitCode, 'the walk ended before it could be killed').toBeNull();
    child.kill('SIGKILL');
    await exited;
    const bytes = readFileSync(out);
    const r = TraceReader.open(new BytesSource(bytes));
    expect(r.complete).toBe(false);
    expect(r.eventCount).toBeGreaterThan(1000);
    // Every event read back is valid and contiguous from 0…
    let next = 0;
    r.forEachBatch((first, rec) => {
      expect(first).toBe(next);
      new EventBatchView(rec).validate(first);
      next += rec.byteLength / 48;
    });
    expect(next).toBe(r.eventCount);
    // …and nothing but a partial last chunk is lost: the damage is at the last whole chunk's end.
    const last = r.chunks[r.chunks.length - 1];
    expect(last).toBeDefined();
    const end = (last?.offset ?? 0) + CHUNK_HEADER_BYTES + (last?.payloadBytes ?? 0);
    expect(r.damage?.offset).toBe(end);
    expect(bytes.length - end).toBeLessThan(CHUNK_HEADER_BYTES + 64 * 1024);
    expect(r.chunks.some((c) => c.tag === Tag.ENTR)).toBe(true);
    const s = cli(['summary', out]);
    expect(s.status).toBe(Exit.PARTIAL);
    expect(s.stdout).toMatch(/walk facts: n\/a \(the recording did not finish/);
    // the counts are still there: folded from the events the file kept
    expect(s.stdout).toMatch(/^allocations [1-9]\d* /m);
  }, 120_000);
});
