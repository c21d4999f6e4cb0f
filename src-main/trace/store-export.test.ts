/**
 * The app's "Export trace" writes trace format version 2, and what it writes is what the CLI
 * reads: a real walk session of the fixture (real walk service, libpss) exported through the
 * host in chunks, then `pss-inspector summary --json` (the real binary) on that file gives the
 * same numbers as the host.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBatchView, EventWriter } from '../../src-shared/events/batch';
import { EVENT_KIND_NAMES, EventKind } from '../../src-shared/events/layout';
import { Ledger } from '../../src-shared/ledger/ledger';
import type {
  PushMessages,
  PushName,
  Reply,
  RequestName,
} from '../../src-shared/contract/contract';
import { downloadTrace } from '../../src-shared/contract/transfer';
import type { SessionState, SessionSummary } from '../../src-shared/contract/model';
import { DEFAULT_CAPTURE_FLAGS } from '../../src-shared/pss/constants';
import { createWalkService } from '../walk/client';
import type { WalkService } from '../walk/service';
import { TraceStore } from '../walk/trace-store';
import { startFixture, type RunningFixture } from '../testing/fixture';
import { SessionHost, type HostConnection } from '../host/host';
import { BytesSource, TraceReader } from './trace-file';
import { StoreExport } from './store-export';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'pss-inspector.mjs');
const dir = mkdtempSync(join(tmpdir(), 'pss-store-export-'));

let fx: RunningFixture;
let walk: WalkService;
let host: SessionHost;
let conn: HostConnection;
const pushes: { name: PushName; msg: unknown }[] = [];

beforeAll(async () => {
  fx = await startFixture({ threads: 4, eventfds: 2, pipes: 3, files: 4, sockets: 2, maps: 10 });
  walk = createWalkService();
  host = new SessionHost({
    walk,
    transport: 'web',
    library: 'test',
    version: '0.0.0',
    log: () => undefined,
  });
  conn = host.connect({
    push<P extends PushName>(name: P, msg: PushMessages[P]) {
      pushes.push({ name, msg });
    },
  });
}, 60_000);

afterAll(async () => {
  await conn?.close();
  await host?.close();
  await walk?.close();
  await fx?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function call<N extends RequestName>(name: N, params: unknown): Promise<unknown> {
  const r = (await conn.handle(name, params)) as Reply<N>;
  if (!r.ok) throw new Error(`${name}: ${r.error.message}`);
  return r.value;
}

describe('the app exports trace format version 2', () => {
  it('an exported walk session reads back in pss-inspector summary --json with the same numbers', async () => {
    const st = (await call('startSession', {
      pid: fx.pid,
      flags: DEFAULT_CAPTURE_FLAGS,
      allocator: { strategy: 'heap' },
      classes: ['THREADS', 'HANDLES', 'VA_SPACE'],
      pace: { mode: 'run' },
      onAllocFailure: 'stop',
    })) as SessionState;
    const deadline = Date.now() + 60_000;
    while (!pushes.some((p) => p.name === 'summary') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const summary = (await call('sessionSummary', { sessionId: st.sessionId })) as SessionSummary;
    expect(
      summary.events,
      JSON.stringify(pushes.filter((p) => p.name !== 'events')),
    ).toBeGreaterThan(0);

    const got = await downloadTrace(
      (name, params) => conn.handle(name, params) as never,
      st.sessionId,
    );
    if (!got.ok) throw new Error(got.error.message);
    const bytes = Buffer.concat(got.parts.map((p) => new Uint8Array(p)));
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('PSSTRACE');
    expect(bytes.readUInt32LE(8)).toBe(2);
    const file = join(dir, got.fileName);
    writeFileSync(file, bytes);

    // What the host holds, counted from its events.
    const all = (await call('getEvents', {
      sessionId: st.sessionId,
      fromSeq: 0,
      count: 1_000_000,
    })) as { bytes: ArrayBuffer };
    const view = new EventBatchView(all.bytes);
    const byKind: Record<string, number> = {};
    for (let i = 0; i < view.count; i++) {
      const k = EVENT_KIND_NAMES[view.kind(i)] ?? String(view.kind(i));
      byKind[k] = (byKind[k] ?? 0) + 1;
    }

    const r = spawnSync(process.execPath, [CLI, 'summary', file, '--json'], {
      encoding: 'utf8',
      cwd: ROOT,
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      formatVersion: number;
      complete: boolean;
      events: number;
      eventsByKind: Record<string, number>;
      session: { pid: number; allocator: unknown };
      summary: unknown;
    };
    expect(doc.formatVersion).toBe(2);
    expect(doc.complete).toBe(true);
    expect(doc.events).toBe(summary.events);
    expect(doc.events).toBe(view.count);
    expect(doc.eventsByKind).toEqual(byKind);
    expect(doc.session.pid).toBe(fx.pid);
    expect(doc.session.allocator).toEqual({ strategy: 'heap' });
    // The final summary travels whole: every number the host reports, the CLI reads.
    expect(doc.summary).toEqual(JSON.parse(JSON.stringify(summary)));

    // The entries the session walked are in the file too.
    const reader = TraceReader.open(new BytesSource(new Uint8Array(bytes)));
    const threads = (await call('getEntries', {
      sessionId: st.sessionId,
      cls: 'THREADS',
      offset: 0,
      limit: 10_000,
    })) as { total: number; entries: unknown[] };
    expect(reader.entries().get('THREADS')).toEqual(threads.entries);
    expect(threads.total).toBeGreaterThan(0);
    reader.close();
  }, 120_000);

  it('a spilled store exports every event, read back in small chunks; no file is left behind', async () => {
    const spillDir = mkdtempSync(join(dir, 'spill-'));
    const store = new TraceStore(
      {
        pid: 7,
        flags: 0,
        allocator: { strategy: 'heap' },
        classes: ['THREADS'],
        createdAt: '2026-01-01T00:00:00.000Z',
      },
      { memoryLimitBytes: 64 * 1024, spillDir },
    );
    let t = 0;
    const w = new EventWriter(
      1000,
      (b, first) => store.append(first, b),
      () => (t += 3),
    );
    // Each block allocated, freed, then freed again (unmatched): the live set stays small.
    for (let i = 0; i < 150_000; i++)
      w.write(
        i % 3 ? EventKind.Free : EventKind.Alloc,
        1,
        0,
        0,
        1,
        2,
        0x1000 + i - (i % 3),
        0,
        16,
        0,
        0,
      );
    w.flush();
    expect(store.bytesSpilled).toBeGreaterThan(0);
    store.setSummary({ events: 150_000 } as SessionSummary);

    const x = await StoreExport.create(store, spillDir);
    expect(readdirSync(spillDir)).toEqual([]); // unlinked while open
    const parts: Uint8Array[] = [];
    for (let at = 0; at < x.totalBytes; at += 100_000)
      parts.push(new Uint8Array(x.read(at, 100_000)));
    x.close();
    expect(() => x.read(0, 1)).toThrow(/closed/);
    const bytes = Buffer.concat(parts);
    expect(bytes.byteLength).toBe(x.totalBytes);
    const r = TraceReader.open(new BytesSource(new Uint8Array(bytes)));
    expect(r.damage).toBeNull();
    expect(r.eventCount).toBe(150_000);
    expect(Buffer.from(r.readEvents(0, 150_000)).equals(Buffer.from(store.read(0, 150_000)))).toBe(
      true,
    );
    expect(r.summary()).toEqual({ events: 150_000 });
    expect(r.session['pid']).toBe(7);
    // The ledger's checkpoints are written on export too (after the batch that passes every
    // 65,536 events), and the state anywhere is rebuilt from them.
    expect(r.checkpoints().map((c) => c.seq)).toEqual([65_536, 131_072]);
    for (const n of [0, 70_000, 131_072, 150_000]) {
      const folded = new Ledger();
      folded.fold(new EventBatchView(store.read(0, n)), 0, n);
      expect(r.stateAt(n).summary()).toEqual(folded.summary());
    }
    r.close();
    store.dispose();
    expect(readdirSync(spillDir)).toEqual([]);
  });
});
