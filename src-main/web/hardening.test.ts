/**
 * Nothing a client sends stops web mode (issue 13, items 1–3, 9, 10): each test drives the real
 * server (src-main/web/main.ts in a child process: host, walk worker, libpss) over real HTTP and
 * WebSockets with what once crashed or misled it, then checks the server is still running and
 * answers the next request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { Buffer } from 'node:buffer';
import {
  rawWebSocket,
  startWebChild,
  streamFrame,
  valueOf,
  type WebChild,
  type WsClient,
} from '../testing/web-mode';

let web: WebChild;

/** Each group gets its own server, so a crash in one group cannot hide the others' results. */
function ownServer(): void {
  beforeAll(async () => {
    web = await startWebChild();
  });
  afterAll(async () => {
    await web?.stop();
  });
}

/** The server still runs and a fresh connection gets an answer. */
async function expectAlive(w: WebChild = web): Promise<void> {
  expect(w.exit(), w.output.join('\n')).toBeNull();
  const c = await w.connect();
  const info = valueOf<{ transport: string; pid: number }>(await c.request('appInfo', {}));
  expect(info.transport).toBe('web');
  c.close();
}

function prototypeNames(): string[] {
  return Object.getOwnPropertyNames(Object.prototype);
}

describe('item 1: a request naming an Object.prototype member', () => {
  ownServer();
  it('gets a validation error for every tagged/literal field, and the server keeps serving', async () => {
    const c = await web.connect();
    for (const name of prototypeNames()) {
      const cases: [string, unknown][] = [
        ['sessionControl', { sessionId: 's-1', action: 'setPace', pace: { mode: name } }],
        ['sessionControl', { sessionId: 's-1', action: name }],
        [
          'startSession',
          {
            pid: 1,
            flags: 0,
            allocator: { strategy: name },
            classes: [name],
            pace: { mode: name },
            onAllocFailure: 'stop',
          },
        ],
        ['querySnapshot', { snapshotId: 'x', cls: name, offset: 0, limit: 1 }],
        ['capture', { pid: 1, flags: 0, [name]: 1 }],
        [name, {}],
      ];
      for (const [req, params] of cases) {
        const r = await c.request(req, params);
        expect(r.ok, `${req} ${name}`).toBe(false);
        if (!r.ok) expect(r.error.kind, `${req} ${name}: ${r.error.message}`).toBe('validation');
      }
    }
    c.close();
    await expectAlive();
  });
});

describe('item 2 and 9: frames larger than any real request', () => {
  ownServer();
  it('a text frame at the old 537,919,488-byte limit is refused without decoding it', async () => {
    const s = await rawWebSocket(web);
    const closed = new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      s.on('data', (d: Buffer) => chunks.push(d));
      s.once('close', () => resolve(Buffer.concat(chunks)));
    });
    await streamFrame(
      s,
      1,
      537_919_488,
      Buffer.from('{"t":"req","id":1,"name":"appInfo","params":{"x":"'),
    );
    const reply = await closed;
    // A close frame (opcode 8) with status 1009 "message too big".
    const at = reply.indexOf(0x88);
    expect(at).toBeGreaterThanOrEqual(0);
    expect(reply.readUInt16BE(at + 2)).toBe(1009);
    await expectAlive();
  });

  it('a text frame above 64 Mi characters ends the connection with 1009 and a reason', async () => {
    const s = await rawWebSocket(web);
    const closed = new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      s.on('data', (d: Buffer) => chunks.push(d));
      s.once('close', () => resolve(Buffer.concat(chunks)));
    });
    await streamFrame(
      s,
      1,
      65 * 1024 * 1024,
      Buffer.from('{"t":"req","id":7,"name":"appInfo","params":{"x":"'),
    );
    const reply = await closed;
    const at = reply.indexOf(0x88);
    expect(at).toBeGreaterThanOrEqual(0);
    expect(reply.readUInt16BE(at + 2)).toBe(1009);
    await expectAlive();
  });

  it('a text request over the text limit gets a reply to its id saying so', async () => {
    const c: WsClient = await web.connect();
    const id = c.takeId();
    const text = `{"t":"req","id":${id},"name":"appInfo","params":{"pad":"${'x'.repeat(2 * 1024 * 1024)}"}}`;
    const r = await c.sendRaw(id, text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.kind).toBe('validation');
      expect(r.error.message).toMatch(/text frame of \d+ bytes is larger than the \d+-byte limit/);
    }
    // The connection stays usable.
    expect(valueOf<{ transport: string }>(await c.request('appInfo', {})).transport).toBe('web');
    c.close();
  });
});

describe('item 9: exit codes', () => {
  it('refusing a non-loopback bind exits with the documented code 2', async () => {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `import(${JSON.stringify(new URL('./main.ts', import.meta.url).href)}).then((m) => m.runWebMode(process.argv.slice(1)))`,
        '--',
        '--port',
        '0',
        '--host',
        '0.0.0.0',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.stderr).toMatch(/refusing to listen on 0\.0\.0\.0/);
    expect(r.status).toBe(2);
  });
});
