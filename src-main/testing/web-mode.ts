/**
 * Runs the real web mode (src-main/web/main.ts through tsx: the host, the walk worker, libpss)
 * as a child process, the way `npm run web` does, and talks to it over real HTTP and real
 * WebSockets. Tests that concern the transport use this: a crash of the server is a crash of
 * the child, which they can see (exit code, signal, what it printed).
 *
 * Resource limits (open files, file size) are applied to the child with the shell's `ulimit`,
 * so a test can exhaust them without touching the test runner.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { connect as connectTcp, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { WebSocket } from 'ws';
import { decodeFrame, encodeFrame, type WireFrame } from '../../src-shared/contract/wire';
import type { Reply, RequestName } from '../../src-shared/contract/contract';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src-main', 'web', 'main.ts');

export interface WebChildOptions {
  /** Extra web-mode arguments. */
  args?: string[];
  /** `ulimit -n` for the child. */
  maxOpenFiles?: number;
  /** `ulimit -f` for the child, in bytes (rounded down to 1 KiB blocks). */
  maxFileBytes?: number;
  /** Extra environment (TMPDIR for spill files…). */
  env?: Record<string, string>;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface WebChild {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  readonly origin: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything it printed, stdout and stderr, line by line. */
  readonly output: string[];
  /** The renderer folder it serves (a few small files). */
  readonly rendererDir: string;
  /** Null while it runs. */
  exit(): { code: number | null; signal: NodeJS.Signals | null } | null;
  /** Opens an authenticated WebSocket (token in the URL, the server's own Origin). */
  connect(): Promise<WsClient>;
  get(path: string, headers?: Record<string, string>): Promise<HttpResult>;
  /** Open file descriptors of the server process. */
  fds(): number;
  /** Resident set size of the server process, bytes. */
  rss(): number;
  stop(): Promise<void>;
}

/** A WebSocket client that matches replies to request ids and records pushes. */
export class WsClient {
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: Reply<RequestName>) => void>();
  readonly pushes: { name: string; msg: unknown }[] = [];
  readonly problems: string[] = [];
  private closeInfo: { code: number; reason: string } | null = null;
  private readonly closeWaiters: (() => void)[] = [];

  constructor(readonly ws: WebSocket) {
    ws.binaryType = 'arraybuffer';
    ws.on('message', (data: ArrayBuffer | Buffer, isBinary: boolean) => {
      const r = decodeFrame(isBinary ? (data as ArrayBuffer) : data.toString());
      if (!r.ok) {
        this.problems.push(r.error);
        return;
      }
      this.onFrame(r.frame);
    });
    ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString() };
      for (const w of this.closeWaiters.splice(0)) w();
      for (const [id, resolve] of this.waiting) {
        resolve({
          ok: false,
          error: {
            kind: 'io',
            code: null,
            codeName: null,
            message: `closed (${code})`,
            hint: '',
          },
        });
        this.waiting.delete(id);
      }
    });
    ws.on('error', (e) => this.problems.push(e.message));
  }

  private onFrame(f: WireFrame): void {
    if (f.t === 'rep') {
      const w = this.waiting.get(f.id);
      if (w) {
        this.waiting.delete(f.id);
        w(f.reply as Reply<RequestName>);
      } else this.problems.push(`reply to unknown id ${f.id}`);
    } else if (f.t === 'push') {
      this.pushes.push({ name: f.name, msg: f.msg });
    }
  }

  /** Sends one request and waits for its reply. */
  request(name: string, params: unknown): Promise<Reply<RequestName>> {
    const id = this.nextId++;
    return this.sendRaw(id, encodeFrame({ t: 'req', id, name, params }));
  }

  /** Sends prepared frame data under a request id and waits for the reply with that id. */
  sendRaw(id: number, data: string | ArrayBuffer | Buffer): Promise<Reply<RequestName>> {
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.ws.send(data instanceof ArrayBuffer ? new Uint8Array(data) : data, {
        binary: typeof data !== 'string',
      });
    });
  }

  /** An id no request of this client has used yet. */
  takeId(): number {
    return this.nextId++;
  }

  get pending(): number {
    return this.waiting.size;
  }

  /** The pushes of one kind received so far. */
  of(name: string): unknown[] {
    return this.pushes.filter((p) => p.name === name).map((p) => p.msg);
  }

  /** Waits until `check` holds (checked as frames arrive), or fails after `timeoutMs`. */
  async until(check: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
    const t0 = Date.now();
    while (!check()) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Waits for the summary push of a session. */
  async summaryOf(sessionId: string): Promise<{ events: number; sessionId: string }> {
    const find = () =>
      this.of('summary').find((m) => (m as { sessionId: string }).sessionId === sessionId) as
        { events: number; sessionId: string } | undefined;
    await this.until(() => find() !== undefined, `the summary of ${sessionId}`);
    return find() as { events: number; sessionId: string };
  }

  get closed(): { code: number; reason: string } | null {
    return this.closeInfo;
  }

  waitClosed(): Promise<{ code: number; reason: string }> {
    return new Promise((resolve) => {
      if (this.closeInfo) resolve(this.closeInfo);
      else
        this.closeWaiters.push(() => resolve(this.closeInfo as { code: number; reason: string }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

/** The value of a successful reply; throws with the error message otherwise. */
export function valueOf<T>(r: Reply<RequestName>): T {
  if (!r.ok) throw new Error(`request failed: ${r.error.kind}: ${r.error.message}`);
  return r.value as T;
}

function makeRendererDir(): string {
  const dir = mkdtempSync(join(tmpdir(), `pss-web-child-${process.pid}-`));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>pss test page</title>');
  writeFileSync(join(dir, 'assets', 'app.js'), 'console.log("app")');
  return dir;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export async function startWebChild(options: WebChildOptions = {}): Promise<WebChild> {
  const rendererDir = makeRendererDir();
  const entry = `import(${JSON.stringify(pathToFileURL(MAIN).href)}).then((m) => m.runWebMode(process.argv.slice(1)))`;
  const nodeArgs = [
    '--import',
    'tsx',
    '-e',
    entry,
    '--',
    '--port',
    '0',
    '--exit-with-stdin',
    `--renderer-dir=${rendererDir}`,
    ...(options.args ?? []),
  ];
  const limits: string[] = [];
  if (options.maxOpenFiles !== undefined) limits.push(`ulimit -n ${options.maxOpenFiles}`);
  if (options.maxFileBytes !== undefined)
    limits.push(`ulimit -f ${Math.max(1, Math.floor(options.maxFileBytes / 1024))}`);
  const child =
    limits.length === 0
      ? spawn(process.execPath, nodeArgs, {
          cwd: ROOT,
          stdio: ['pipe', 'pipe', 'pipe'],
          env: { ...process.env, ...options.env },
        })
      : spawn(
          '/bin/bash',
          [
            '-c',
            `${limits.join('; ')}; exec ${[process.execPath, ...nodeArgs].map(shellQuote).join(' ')}`,
          ],
          { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env } },
        );
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve();
    }),
  );
  const output: string[] = [];
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (l) =>
    output.push(l),
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`web mode printed no URL within 60 s:\n${output.join('\n')}`)),
      60_000,
    );
    void exited.then(() => {
      clearTimeout(timer);
      reject(
        new Error(
          `web mode exited (${JSON.stringify(exitInfo)}) before printing its URL:\n${output.join('\n')}`,
        ),
      );
    });
    lines.on('line', (line) => {
      output.push(line);
      const m = /^PSS_INSPECTOR_URL=(\S+)$/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
  }).catch(async (e: unknown) => {
    child.kill('SIGKILL');
    await exited;
    rmSync(rendererDir, { recursive: true, force: true });
    throw e;
  });
  const u = new URL(url);
  const port = Number(u.port);
  const token = u.searchParams.get('token') ?? '';
  const pid = child.pid as number;
  // With `exec` in bash the pid is the node process itself.
  const proc = `/proc/${pid}`;
  return {
    url,
    port,
    token,
    origin: u.origin,
    pid,
    child,
    output,
    rendererDir,
    exit: () => exitInfo,
    async connect() {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/pss-ws?token=${token}`, {
        origin: `http://127.0.0.1:${port}`,
        headers: { host: `127.0.0.1:${port}` },
      });
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
        ws.once('error', reject);
      });
      return new WsClient(ws);
    },
    get(path, headers = {}) {
      return httpGet(port, path, headers);
    },
    fds: () => readdirSync(`${proc}/fd`).length,
    rss: () => {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`${proc}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : 0;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      rmSync(rendererDir, { recursive: true, force: true });
    },
  };
}

export function httpGet(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method, headers: { host: `127.0.0.1:${port}`, ...headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * Opens a WebSocket by hand over a raw TCP socket and returns it after the 101 response, so a
 * test can write frames no WebSocket library would (a header announcing a huge payload, a
 * payload streamed chunk by chunk without holding it in memory).
 */
export async function rawWebSocket(child: Pick<WebChild, 'port' | 'token'>): Promise<Socket> {
  const socket = connectTcp({ host: '127.0.0.1', port: child.port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.write(
    [
      `GET /pss-ws?token=${child.token} HTTP/1.1`,
      `Host: 127.0.0.1:${child.port}`,
      `Origin: http://127.0.0.1:${child.port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      '',
      '',
    ].join('\r\n'),
  );
  await new Promise<void>((resolve, reject) => {
    let head = '';
    const onData = (d: Buffer): void => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (head.startsWith('HTTP/1.1 101')) resolve();
      else reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before the upgrade')));
  });
  return socket;
}

/** The header of one client frame (FIN set, masked with a zero key so the payload is as is). */
export function clientFrameHeader(opcode: number, length: number): Buffer {
  if (length < 126) return Buffer.from([0x80 | opcode, 0x80 | length, 0, 0, 0, 0]);
  if (length < 65536) {
    const b = Buffer.alloc(8);
    b[0] = 0x80 | opcode;
    b[1] = 0x80 | 126;
    b.writeUInt16BE(length, 2);
    return b;
  }
  const b = Buffer.alloc(14);
  b[0] = 0x80 | opcode;
  b[1] = 0x80 | 127;
  b.writeBigUInt64BE(BigInt(length), 2);
  return b;
}

/**
 * Streams `length` bytes of one text (opcode 1) or binary (2) frame: `prefix` first, then
 * filler, in 1 MiB writes that wait for the socket to drain. Stops as soon as the server says
 * anything (a close frame) or closes, so its answer is not lost to a reset; resolves with the
 * bytes written.
 */
export async function streamFrame(
  socket: Socket,
  opcode: number,
  length: number,
  prefix: Buffer,
  filler = 0x20,
): Promise<number> {
  let written = 0;
  let closed = false;
  socket.once('close', () => (closed = true));
  socket.once('data', () => (closed = true));
  socket.on('error', () => (closed = true));
  const write = (b: Buffer): Promise<void> =>
    new Promise((resolve) => {
      if (closed) return resolve();
      if (socket.write(b)) resolve();
      else {
        const done = (): void => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.once('drain', done);
        socket.once('close', done);
      }
    });
  await write(clientFrameHeader(opcode, length));
  await write(prefix);
  written = prefix.length;
  const chunk = Buffer.alloc(1024 * 1024, filler);
  while (written < length && !closed) {
    const n = Math.min(chunk.length, length - written);
    await write(n === chunk.length ? chunk : chunk.subarray(0, n));
    written += n;
  }
  return written;
}
