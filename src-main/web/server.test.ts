import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SessionHost } from '../host';
import { FakeWalkService } from '../host/testing';
import { startWebServer, tokenCookieName, type WebServer } from './server';
import { parseWebArgs } from './args';
import { until } from '../testing/wait';
import { CSP_HEADER } from '../../src-shared/contract/csp';
import { decodeFrame, encodeFrame, type WireFrame } from '../../src-shared/contract/wire';

let dir: string;
let server: WebServer;
let host: SessionHost;
const walk = new FakeWalkService();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pss-web-test-'));
  mkdirSync(join(dir, 'renderer', 'assets'), { recursive: true });
  writeFileSync(join(dir, 'renderer', 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(dir, 'renderer', 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'outside');
  symlinkSync(join(dir, 'secret.txt'), join(dir, 'renderer', 'assets', 'link.txt'));
  host = new SessionHost({
    walk,
    transport: 'web',
    library: 'x',
    version: '0',
    log: () => undefined,
  });
  server = await startWebServer({
    host,
    rendererDir: join(dir, 'renderer'),
    port: 0,
    log: () => undefined,
  });
});

afterAll(async () => {
  await server.close();
  await host.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        method,
        headers: { host: `127.0.0.1:${server.port}`, ...headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const cookie = (): string => `${tokenCookieName(server.port)}=${server.token}`;

function openWs(
  opts: {
    token?: string | null;
    origin?: string | null;
    host?: string;
    cookie?: string;
    query?: string;
  } = {},
): Promise<WebSocket> {
  const t = opts.token === undefined ? server.token : opts.token;
  const url = `ws://127.0.0.1:${server.port}/pss-ws?${t ? `token=${t}` : ''}${opts.query ?? ''}`;
  const headers: Record<string, string> = {};
  if (opts.host) headers.host = opts.host;
  if (opts.cookie) headers.cookie = opts.cookie;
  const origin = opts.origin === undefined ? `http://127.0.0.1:${server.port}` : opts.origin;
  const ws = new WebSocket(url, { headers, ...(origin ? { origin } : {}) });
  ws.binaryType = 'arraybuffer';
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function nextFrame(ws: WebSocket): Promise<WireFrame> {
  return new Promise((resolve, reject) => {
    ws.once('message', (data: ArrayBuffer | Buffer, isBinary: boolean) => {
      const r = decodeFrame(isBinary ? (data as ArrayBuffer) : data.toString());
      if (r.ok) resolve(r.frame);
      else reject(new Error(r.error));
    });
  });
}

describe('web server: token, headers, paths', () => {
  it('prints a loopback URL with the token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('sets an HttpOnly SameSite=Strict cookie on the first load with the token', async () => {
    const r = await get(`/?token=${server.token}`);
    expect(r.status).toBe(200);
    expect(String(r.headers['set-cookie'])).toMatch(
      new RegExp(
        `^${tokenCookieName(server.port)}=${server.token}; HttpOnly; SameSite=Strict; Path=/`,
      ),
    );
    expect(r.body).toContain('<title>t</title>');
    const again = await get('/assets/app.js', { cookie: cookie() });
    expect(again.status).toBe(200);
    expect(again.headers['content-type']).toMatch(/javascript/);
    expect(again.headers['set-cookie']).toBeUndefined();
  });

  it('refuses requests without the token, with a wrong token or cookie', async () => {
    expect((await get('/')).status).toBe(403);
    expect((await get('/?token=wrong')).status).toBe(403);
    expect((await get(`/?token=${server.token}x`)).status).toBe(403);
    expect(
      (await get('/assets/app.js', { cookie: `${tokenCookieName(server.port)}=nope` })).status,
    ).toBe(403);
  });

  it('puts the CSP and security headers on every response, errors included', async () => {
    for (const r of [
      await get('/'),
      await get(`/?token=${server.token}`),
      await get('/missing', { cookie: cookie() }),
    ]) {
      expect(r.headers['content-security-policy']).toBe(CSP_HEADER);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
      expect(r.headers['cross-origin-opener-policy']).toBe('same-origin');
    }
  });

  it('checks the Host header (DNS rebinding)', async () => {
    const evil = await get(`/?token=${server.token}`, { host: `evil.example:${server.port}` });
    expect(evil.status).toBe(403);
    expect(
      (await get(`/?token=${server.token}`, { host: `localhost:${server.port}` })).status,
    ).toBe(200);
    expect((await get(`/?token=${server.token}`, { host: `127.0.0.1:1` })).status).toBe(403);
  });

  it('never serves files outside the renderer folder', async () => {
    for (const p of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/link.txt',
      '/%00',
      '/..%5csecret.txt',
      '/assets',
    ]) {
      const r = await get(p, { cookie: cookie() });
      expect([400, 404], p).toContain(r.status);
      expect(r.body).not.toContain('outside');
    }
    expect((await get('/', { cookie: cookie() }, 'POST')).status).toBe(405);
  });
});

describe('web server: WebSocket', () => {
  it('refuses the upgrade without the token, from another origin or Host', async () => {
    await expect(openWs({ token: null })).rejects.toThrow(/403/);
    await expect(openWs({ token: 'bad' })).rejects.toThrow(/403/);
    await expect(openWs({ origin: 'http://evil.example' })).rejects.toThrow(/403/);
    await expect(openWs({ origin: null })).rejects.toThrow(/403/);
    await expect(
      openWs({ host: `evil.example:${server.port}`, origin: `http://evil.example:${server.port}` }),
    ).rejects.toThrow(/403/);
    const ok = await openWs({ token: null, cookie: cookie() });
    ok.close();
  });

  it('answers requests, survives malformed frames, and closes the host connection on disconnect', async () => {
    const ws = await openWs();
    const reply = nextFrame(ws);
    ws.send(JSON.stringify({ t: 'req', id: 1, name: 'appInfo', params: {} }));
    expect(await reply).toMatchObject({
      t: 'rep',
      id: 1,
      reply: { ok: true, value: { transport: 'web' } },
    });

    const bad: [string | Buffer, object][] = [
      [
        '{not json',
        { t: 'push', name: 'error', msg: { sessionId: null, error: { kind: 'validation' } } },
      ],
      [
        JSON.stringify({ t: 'req', id: 2, name: 'capture', params: { pid: 'x', flags: 0 } }),
        { t: 'rep', id: 2, reply: { ok: false, error: { kind: 'validation' } } },
      ],
      [
        JSON.stringify({ t: 'req', id: 3 }),
        { t: 'rep', id: 3, reply: { ok: false, error: { kind: 'validation' } } },
      ],
      [JSON.stringify({ t: 'rep', id: 4, reply: {} }), { t: 'push', name: 'error' }],
      [Buffer.from([1, 2, 3]), { t: 'push', name: 'error' }],
    ];
    for (const [data, expected] of bad) {
      const f = nextFrame(ws);
      ws.send(data);
      expect(await f).toMatchObject(expected);
    }
    // Still alive, and binary requests work.
    const f = nextFrame(ws);
    ws.send(
      encodeFrame({
        t: 'req',
        id: 9,
        name: 'importTrace',
        params: { fileName: 'x', bytes: new Uint8Array([1, 2]).buffer },
      }) as ArrayBuffer,
    );
    expect(await f).toMatchObject({
      t: 'rep',
      id: 9,
      reply: { ok: false, error: { kind: 'validation', message: /trace file/ } },
    });
    expect(host.connectionCount).toBe(1);
    ws.close();
    await until(() => host.connectionCount === 0, 'the host to drop the closed connection');
    expect(host.connectionCount).toBe(0);
  });
});

describe('web server: a page’s events socket', () => {
  it('carries only the events of the connection paired by channel; the page’s socket the rest', async () => {
    await expect(openWs({ query: '&channel=nobody1234&role=events' })).rejects.toThrow(/409/);
    await expect(openWs({ query: '&channel=bad!' })).rejects.toThrow(/400/);
    const page = await openWs({ query: '&channel=pagechan01' });
    await expect(openWs({ query: '&channel=pagechan01' })).rejects.toThrow(/409/);
    const events = await openWs({ query: '&channel=pagechan01&role=events' });
    await expect(openWs({ query: '&channel=pagechan01&role=events' })).rejects.toThrow(/409/);
    const onPage: WireFrame[] = [];
    const onEvents: WireFrame[] = [];
    const collect = (to: WireFrame[]) => (data: ArrayBuffer | Buffer, isBinary: boolean) => {
      const r = decodeFrame(isBinary ? (data as ArrayBuffer) : data.toString());
      if (r.ok) to.push(r.frame);
    };
    page.on('message', collect(onPage));
    events.on('message', collect(onEvents));
    page.send(
      JSON.stringify({
        t: 'req',
        id: 1,
        name: 'startSession',
        params: {
          pid: 4242,
          flags: 0,
          allocator: { strategy: 'heap' },
          classes: ['THREADS'],
          pace: { mode: 'run' },
          onAllocFailure: 'stop',
        },
      }),
    );
    const pushes = (to: WireFrame[], name: string) =>
      to.filter((f) => f.t === 'push' && f.name === name);
    await until(() => pushes(onPage, 'summary').length > 0, 'the session to end');
    await until(
      () =>
        pushes(onEvents, 'events').reduce(
          (n, f) => n + (f as { msg: { bytes: ArrayBuffer } }).msg.bytes.byteLength / 48,
          0,
        ) ===
        walk.plan.batches * walk.plan.eventsPerBatch,
      'every event on the events socket',
    );
    expect(onPage.find((f) => f.t === 'rep' && f.id === 1)).toMatchObject({ reply: { ok: true } });
    expect(pushes(onPage, 'events')).toEqual([]);
    expect(onEvents.every((f) => f.t === 'push' && f.name === 'events')).toBe(true);
    // The events' acks are answered on it; closing the page's socket closes it.
    const sessionId = (
      onPage.find((f) => f.t === 'rep' && f.id === 1) as { reply: { value: { sessionId: string } } }
    ).reply.value.sessionId;
    const acked = nextFrame(events);
    events.send(
      JSON.stringify({ t: 'req', id: 7, name: 'ackEvents', params: { sessionId, seq: 0 } }),
    );
    expect(await acked).toMatchObject({ t: 'rep', id: 7, reply: { ok: true } });
    const closed = new Promise<void>((resolve) => events.once('close', () => resolve()));
    page.close();
    await closed;
    // Any other request closes an events socket, and with it the page's (batches in flight on
    // it are lost: the page starts afresh).
    const page2 = await openWs({ query: '&channel=pagechan02' });
    const events2 = await openWs({ query: '&channel=pagechan02&role=events' });
    const closeCode = (ws: WebSocket) =>
      new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const refused = closeCode(events2);
    const pageClosed = closeCode(page2);
    events2.send(JSON.stringify({ t: 'req', id: 1, name: 'appInfo', params: {} }));
    expect(await refused).toBe(1008);
    expect(await pageClosed).toBe(1011);
  });
});

describe('web mode arguments', () => {
  it('parses --port, --host, --allow-remote, --open', () => {
    expect(parseWebArgs(['--port', '0'])).toEqual({
      port: 0,
      host: '127.0.0.1',
      allowRemote: false,
      exitWithStdin: false,
      rendererDir: null,
      traceMemoryMb: null,
      openTrace: null,
    });
    expect(
      parseWebArgs(['--port=8080', '--host', '0.0.0.0', '--allow-remote', '--exit-with-stdin']),
    ).toEqual({
      port: 8080,
      host: '0.0.0.0',
      allowRemote: true,
      exitWithStdin: true,
      rendererDir: null,
      traceMemoryMb: null,
      openTrace: null,
    });
    expect(parseWebArgs(['--open', 'a.psstrace'])).toMatchObject({ openTrace: 'a.psstrace' });
    expect(parseWebArgs(['--open'])).toMatch(/--open wants a trace file/);
    expect(parseWebArgs(['--port', 'x'])).toMatch(/--port/);
    expect(parseWebArgs(['stray'])).toMatch(/unknown argument/);
  });

  it('refuses a non-loopback bind without --allow-remote', async () => {
    await expect(
      startWebServer({
        host,
        rendererDir: join(dir, 'renderer'),
        bindHost: '0.0.0.0',
        log: () => undefined,
      }),
    ).rejects.toThrow(/--allow-remote/);
    const lines: string[] = [];
    const s = await startWebServer({
      host,
      rendererDir: join(dir, 'renderer'),
      bindHost: '0.0.0.0',
      allowRemote: true,
      log: (l) => lines.push(l),
    });
    expect(lines.join('\n')).toMatch(/WARNING/);
    // Remote access: IP-literal Host headers are accepted (with the token), DNS names are not.
    const at = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port: s.port, path: `/?token=${s.token}`, headers: { host } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
    expect(await at(`192.0.2.7:${s.port}`)).toBe(200);
    expect(await at(`rebind.example:${s.port}`)).toBe(403);
    await s.close();
  });
});
