/**
 * Web mode: the built renderer and the session host served to a browser, by default on
 * loopback only, behind a random per-run token.
 *
 * - The first page load carries the token in its URL (`/?token=…`); that response sets an
 *   HttpOnly SameSite=Strict cookie. Every other request and the WebSocket upgrade need the
 *   cookie or the token; otherwise 403 (and the upgrade is refused).
 * - The Host header must name this server (DNS rebinding) and the WebSocket Origin must be this
 *   server's own origin.
 * - Every response carries the CSP and security headers; static paths cannot leave the
 *   renderer folder.
 * - One WebSocket per page is one host connection; frames use src-shared/contract/wire.ts.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP, type Socket } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { extname, resolve, sep } from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { Channels, type PushMessages, type PushName } from '../../src-shared/contract/contract';
import { CSP_HEADER } from '../../src-shared/contract/csp';
import {
  WIRE_LIMITS,
  decodeFrame,
  encodeFrame,
  type WireFrame,
} from '../../src-shared/contract/wire';
import type { ErrorReply } from '../../src-shared/contract/model';
import type { HostConnection, SessionHost } from '../host';

export const TOKEN_COOKIE = 'pss_token';

export interface WebServerOptions {
  host: SessionHost;
  /** The built renderer (out/renderer). */
  rendererDir: string;
  /** 0 = an ephemeral port. */
  port?: number;
  /** Address to bind; anything but loopback needs allowRemote. */
  bindHost?: string;
  allowRemote?: boolean;
  /** Fixed token (tests); default: 32 random bytes. */
  token?: string;
  log?: (line: string) => void;
}

export interface WebServer {
  /** The URL to open, token included. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** Live WebSocket connections. */
  readonly connections: number;
  close(): Promise<void>;
}

export class WebServerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebServerConfigError';
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CSP_HEADER,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=(), hid=()',
};

function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** "host:port" → hostname without brackets, or null when malformed. */
function hostOf(hostHeader: string | undefined): { name: string; port: string } | null {
  if (!hostHeader || hostHeader.length > 255) return null;
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(hostHeader);
  if (!m) return null;
  return { name: (m[1] as string).replace(/^\[|\]$/g, '').toLowerCase(), port: m[2] ?? '80' };
}

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const bindHost = options.bindHost ?? '127.0.0.1';
  const allowRemote = options.allowRemote ?? false;
  if (!isLoopback(bindHost) && !allowRemote) {
    throw new WebServerConfigError(
      `refusing to listen on ${bindHost}: web mode binds to loopback only unless --allow-remote is given`,
    );
  }
  const log = options.log ?? ((line: string) => console.log(line));
  const token = options.token ?? randomBytes(32).toString('base64url');
  const rendererDir = await realpath(resolve(options.rendererDir)).catch(() => {
    throw new WebServerConfigError(
      `the built renderer is missing (${options.rendererDir}); run "npm run build" first`,
    );
  });
  let port = 0;

  const hostAllowed = (hostHeader: string | undefined): boolean => {
    const h = hostOf(hostHeader);
    if (!h || h.port !== String(port)) return false;
    if (isLoopback(h.name)) return true;
    if (!allowRemote) return false;
    // Remote access: IP literals and this machine's name; other DNS names are rebinding risks.
    return isIP(h.name) !== 0 || h.name === osHostname().toLowerCase() || h.name === bindHost;
  };

  const authorized = (req: IncomingMessage, url: URL): 'cookie' | 'query' | null => {
    const cookie = parseCookies(req.headers.cookie).get(TOKEN_COOKIE);
    if (cookie !== undefined && sameSecret(cookie, token)) return 'cookie';
    const q = url.searchParams.get('token');
    if (q !== null && sameSecret(q, token)) return 'query';
    return null;
  };

  const deny = (res: ServerResponse, status: number, message: string): void => {
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-store',
    });
    res.end(message + '\n');
  };

  const server = createServer((req, res) => {
    void serve(req, res).catch((e: unknown) => {
      if (!res.headersSent) deny(res, 500, 'internal error');
      else res.destroy();
      log(`[web] ${req.method} ${req.url}: ${(e as Error).message}`);
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req.headers.host)) return deny(res, 403, 'Forbidden: unexpected Host header.');
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    } catch {
      return deny(res, 400, 'Bad request.');
    }
    const auth = authorized(req, url);
    if (!auth)
      return deny(
        res,
        403,
        'Forbidden: open the URL with the token printed when PSS Inspector started.',
      );
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return deny(res, 405, 'Method not allowed.');
    }
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      return deny(res, 400, 'Bad request.');
    }
    if (rel.includes('\0') || rel.includes('\\') || rel.split('/').some((s) => s === '..')) {
      return deny(res, 404, 'Not found.');
    }
    if (rel === '/' || rel === '') rel = '/index.html';
    const file = resolve(rendererDir, '.' + rel);
    if (!file.startsWith(rendererDir + sep)) return deny(res, 404, 'Not found.');
    let real: string;
    try {
      real = await realpath(file);
    } catch {
      return deny(res, 404, 'Not found.');
    }
    if (!real.startsWith(rendererDir + sep)) return deny(res, 404, 'Not found.');
    const st = await stat(real);
    if (!st.isFile()) return deny(res, 404, 'Not found.');
    const type = MIME[extname(real).toLowerCase()] ?? 'application/octet-stream';
    const headers: Record<string, string | string[]> = {
      ...SECURITY_HEADERS,
      'Content-Type': type,
      'Content-Length': String(st.size),
      'Cache-Control': type.startsWith('text/html') ? 'no-store' : 'no-cache',
    };
    if (auth === 'query') {
      headers['Set-Cookie'] = `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    }
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(real).pipe(res);
  }

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: WIRE_LIMITS.maxFrameBytes,
    perMessageDeflate: false,
  });

  const refuse = (socket: Socket, status: number, text: string): void => {
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length + 1}\r\n\r\n${text}\n`,
    );
  };

  server.on('upgrade', (req, socket: Socket, head) => {
    const hostHeader = req.headers.host;
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    } catch {
      return refuse(socket, 400, 'Bad Request');
    }
    if (url.pathname !== Channels.webSocket) return refuse(socket, 404, 'Not Found');
    if (!hostAllowed(hostHeader)) return refuse(socket, 403, 'Forbidden');
    // Browsers always send Origin on WebSocket handshakes: it must be this server's own.
    const origin = req.headers.origin;
    if (origin !== `http://${hostHeader}`) return refuse(socket, 403, 'Forbidden');
    if (!authorized(req, url)) return refuse(socket, 403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  const sockets = new Set<WebSocket>();

  function attach(ws: WebSocket): void {
    sockets.add(ws);
    const send = (frame: WireFrame): void => {
      if (ws.readyState !== ws.OPEN) return;
      const data = encodeFrame(frame);
      ws.send(typeof data === 'string' ? data : new Uint8Array(data), {
        binary: typeof data !== 'string',
      });
    };
    const conn: HostConnection = options.host.connect({
      push<P extends PushName>(name: P, msg: PushMessages[P]) {
        send({ t: 'push', name, msg });
      },
    });
    const frameError = (message: string): ErrorReply => ({
      kind: 'validation',
      code: null,
      codeName: null,
      message,
      hint: 'The message was malformed and was ignored; the connection stays open.',
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      // ws hands over Buffers by default (no copy here; decodeFrame reads views).
      const bytes = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : new Uint8Array(data);
      const r = decodeFrame(isBinary ? bytes : Buffer.from(bytes).toString('utf8'));
      if (!r.ok) {
        if (r.id !== null)
          send({ t: 'rep', id: r.id, reply: { ok: false, error: frameError(r.error) } });
        else
          send({ t: 'push', name: 'error', msg: { sessionId: null, error: frameError(r.error) } });
        return;
      }
      const f = r.frame;
      if (f.t !== 'req') {
        send({
          t: 'push',
          name: 'error',
          msg: {
            sessionId: null,
            error: frameError(`frame.t: the host accepts only requests, got "${f.t}"`),
          },
        });
        return;
      }
      void conn.handle(f.name, f.params).then((reply) => {
        try {
          send({ t: 'rep', id: f.id, reply });
        } catch (e) {
          send({
            t: 'rep',
            id: f.id,
            reply: {
              ok: false,
              error: {
                kind: 'internal',
                code: null,
                codeName: null,
                message: `the reply could not be encoded: ${(e as Error).message}`,
                hint: 'Please report this.',
              },
            },
          });
        }
      });
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      sockets.delete(ws);
      void conn.close();
    });
  }

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, bindHost, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;
  const urlHost =
    isIP(bindHost) === 6
      ? `[${bindHost}]`
      : bindHost === '0.0.0.0' || bindHost === '::'
        ? '127.0.0.1'
        : bindHost;
  const url = `http://${urlHost}:${port}/?token=${token}`;
  if (!isLoopback(bindHost)) {
    log(
      `[web] WARNING: listening on ${bindHost}:${port}, reachable from other machines. Anyone with the token can inspect processes as ${process.env.USER ?? 'this user'}; traffic is not encrypted.`,
    );
  }

  return {
    url,
    port,
    token,
    get connections() {
      return sockets.size;
    },
    async close() {
      for (const ws of sockets) ws.close(1001, 'server shutting down');
      await new Promise<void>((r) => wss.close(() => r()));
      for (const ws of sockets) ws.terminate();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
