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
 * - Nothing a client sends can stop it or make it hold unbounded memory or descriptors: frames
 *   are size-checked before they are decoded; a socket's requests are served a few at a time
 *   (it is not read while its replies wait to be written: TCP back-pressure), so unread replies
 *   stay below sendHighWaterBytes + requestsPerSocket replies; connections, half-open sockets,
 *   and requests host-wide are capped (WebLimits); a socket that stops reading and answering
 *   pings is closed; static files are opened before they are described, and every stream error
 *   is handled. Logs never hold the token.
 */
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP, type Socket } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { extname, resolve, sep } from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  Channels,
  WEB_SOCKET_CHANNEL_ID,
  type PushMessages,
  type PushName,
  type Reply,
  type RequestName,
} from '../../src-shared/contract/contract';
import { CSP_HEADER } from '../../src-shared/contract/csp';
import {
  REQUEST_LIMITS,
  decodeFrame,
  encodeFrame,
  peekRequestId,
  type WireFrame,
} from '../../src-shared/contract/wire';
import type { ErrorReply } from '../../src-shared/contract/model';
import { toErrorReply, type HostConnection, type SessionHost } from '../host';

/**
 * The token cookie's name: one per port, so a second instance on another port (cookies are not
 * port-scoped) sets its own cookie instead of overwriting the first instance's.
 */
export function tokenCookieName(port: number): string {
  return `pss_token_${port}`;
}

/**
 * The transport's caps (the host's own are in src-main/host/limits.ts); ARCHITECTURE.md
 * ("Bounded by design") says what each bounds.
 */
export interface WebLimits {
  /** WebSocket connections at once; more are refused with 503. */
  maxWebSockets: number;
  /** TCP connections that have not sent a complete request head yet; the oldest is closed. */
  maxPendingSockets: number;
  /** A connection must send its request head within this (ms). */
  headersTimeoutMs: number;
  /** Backstop: TCP connections of any kind at once (Node's server.maxConnections). */
  maxSockets: number;
  /** Requests of one WebSocket being served or whose reply is not yet written to the socket. */
  requestsPerSocket: number;
  /** …of all WebSockets together. */
  requests: number;
  /** Bytes queued on a WebSocket above which it reads no more requests and its event streams wait. */
  sendHighWaterBytes: number;
  /** A WebSocket that neither reads, answers pings nor sends for this long is closed (ms). */
  idleTimeoutMs: number;
  /** Ping period (ms). */
  heartbeatMs: number;
  /** Requests one WebSocket may have waiting for a turn (after its socket is paused). */
  queuedRequestsPerSocket: number;
}

export const DEFAULT_WEB_LIMITS: Readonly<WebLimits> = {
  maxWebSockets: 128,
  maxPendingSockets: 256,
  headersTimeoutMs: 10_000,
  maxSockets: 512,
  requestsPerSocket: 8,
  requests: 64,
  sendHighWaterBytes: 8 * 1024 * 1024,
  idleTimeoutMs: 60_000,
  heartbeatMs: 20_000,
  queuedRequestsPerSocket: 4096,
};

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
  limits?: Partial<WebLimits>;
}

export interface WebServer {
  /** The URL to open, token included. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** Live WebSocket connections. */
  readonly connections: number;
  /** What the transport holds right now (tests, soak). */
  stats(): { webSockets: number; pendingSockets: number; requests: number; bufferedBytes: number };
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

/**
 * The host part of the URL to print for a bind address: the unspecified addresses listen
 * everywhere, so the URL names this machine's loopback; IPv6 literals get brackets.
 */
export function displayHost(bindHost: string): string {
  if (bindHost === '0.0.0.0') return '127.0.0.1';
  if (bindHost === '::' || bindHost === '[::]') return '[::1]';
  return isIP(bindHost) === 6 ? `[${bindHost}]` : bindHost;
}

/** How many Host headers the request carried (Node keeps only the first of duplicates). */
function hostHeaderCount(req: IncomingMessage): number {
  let n = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if ((req.rawHeaders[i] as string).toLowerCase() === 'host') n++;
  }
  return n;
}

/** The request URL for logs: the token replaced, so logs never hold it. */
export function redactUrl(url: string | undefined): string {
  return (url ?? '').replace(/([?&]token=)[^&#]*/gi, '$1[redacted]').slice(0, 512);
}

interface QueuedRequest {
  id: number;
  name: string;
  params: unknown;
}

/** One WebSocket: its host connection and its share of the request and send budgets. */
interface Link {
  ws: WebSocket;
  conn: HostConnection;
  /** Requests handed to the host whose reply has not been written to the socket yet. */
  inFlight: number;
  /** …of which the host is still working on this many. */
  executing: number;
  /** Decoded requests waiting for a slot (the socket is paused meanwhile). */
  queue: QueuedRequest[];
  paused: boolean;
  /** Last time the peer showed life: a message, a pong, or bytes of ours it read. */
  lastActivity: number;
  lastPing: number;
  /** The page's pairing id (`channel` in the socket URL), when it gave one. */
  channel: string | null;
  /** The socket its `events` pushes go over, when the page opened one (see EVENTS_ROLE). */
  eventsWs: WebSocket | null;
}

/**
 * A page may open a second socket, `?channel=ID&role=events` (ID: the one its first socket gave),
 * that carries only its `events` pushes and their `ackEvents`: the page receives them in a
 * worker, off its UI thread (src-renderer/bridge/relay.ts). Every other push and request stays on
 * the first socket. Without it, events go over the first socket. The two are one connection:
 * either closing closes the other.
 */
export const EVENTS_ROLE = Channels.webSocketEventsRole;

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const bindHost = options.bindHost ?? '127.0.0.1';
  const allowRemote = options.allowRemote ?? false;
  if (!isLoopback(bindHost) && !allowRemote) {
    throw new WebServerConfigError(
      `refusing to listen on ${bindHost}: web mode binds to loopback only unless --allow-remote is given`,
    );
  }
  const limits: WebLimits = { ...DEFAULT_WEB_LIMITS, ...options.limits };
  const log = options.log ?? ((line: string) => console.log(line));
  const token = options.token ?? randomBytes(32).toString('base64url');
  const rendererDir = await realpath(resolve(options.rendererDir)).catch(() => {
    throw new WebServerConfigError(
      `the built renderer is missing (${options.rendererDir}); run "npm run build" first`,
    );
  });
  let port = 0;
  let cookieName = tokenCookieName(0);

  const hostAllowed = (req: IncomingMessage): boolean => {
    if (hostHeaderCount(req) !== 1) return false;
    const h = hostOf(req.headers.host);
    if (!h || h.port !== String(port)) return false;
    if (isLoopback(h.name)) return true;
    if (!allowRemote) return false;
    // Remote access: IP literals and this machine's name; other DNS names are rebinding risks.
    return isIP(h.name) !== 0 || h.name === osHostname().toLowerCase() || h.name === bindHost;
  };

  const authorized = (req: IncomingMessage, url: URL): 'cookie' | 'query' | null => {
    const cookie = parseCookies(req.headers.cookie).get(cookieName);
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

  // ---- TCP connections: the ones that have not sent a request head yet are bounded ----------
  /** Socket → when it was accepted, for sockets without a complete request head (oldest first). */
  const pending = new Map<Socket, number>();
  const engage = (socket: Socket): void => {
    pending.delete(socket);
  };

  const server = createServer((req, res) => {
    engage(req.socket);
    void serve(req, res).catch((e: unknown) => {
      if (!res.headersSent) deny(res, 500, 'Internal error.');
      else res.destroy();
      log(`[web] ${req.method} ${redactUrl(req.url)}: ${(e as Error).message}`);
    });
  });
  server.maxConnections = limits.maxSockets;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = 30_000;
  server.on('connection', (socket: Socket) => {
    pending.set(socket, Date.now());
    socket.once('close', () => pending.delete(socket));
    // Over the cap, the oldest connection that has not sent a request yet makes room.
    while (pending.size > limits.maxPendingSockets) {
      const oldest = pending.keys().next().value as Socket;
      pending.delete(oldest);
      oldest.destroy();
    }
  });
  server.on('clientError', (_err, socket: Socket) => {
    pending.delete(socket);
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req)) return deny(res, 403, 'Forbidden: unexpected Host header.');
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
    // Open first, then describe what was opened: a file replaced or deleted meanwhile (a
    // rebuild while serving) is either served whole as it was opened, or not found.
    let fh: FileHandle;
    try {
      fh = await open(real, 'r');
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ENOENT' || code === 'EISDIR') return deny(res, 404, 'Not found.');
      if (code === 'EMFILE' || code === 'ENFILE') {
        res.setHeader('Retry-After', '1');
        return deny(res, 503, 'Busy: too many open files; try again.');
      }
      throw e;
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) return deny(res, 404, 'Not found.');
      const type = MIME[extname(real).toLowerCase()] ?? 'application/octet-stream';
      const headers: Record<string, string | string[]> = {
        ...SECURITY_HEADERS,
        'Content-Type': type,
        'Content-Length': String(st.size),
        'Cache-Control': type.startsWith('text/html') ? 'no-store' : 'no-cache',
      };
      if (auth === 'query') {
        headers['Set-Cookie'] = `${cookieName}=${token}; HttpOnly; SameSite=Strict; Path=/`;
      }
      res.writeHead(200, headers);
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      const stream = fh.createReadStream({ start: 0, end: Math.max(0, st.size - 1) });
      if (st.size === 0) {
        stream.destroy();
        res.end();
        return;
      }
      try {
        await pipeline(stream, res);
      } catch (e) {
        // The client went away mid-file: nothing to answer, nothing to report.
        if ((e as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw e;
      }
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  // ---- WebSockets --------------------------------------------------------------------------

  const wss = new WebSocketServer({
    noServer: true,
    // Fitted to the largest real request (one trace chunk); a larger frame closes with 1009
    // before any of it is buffered.
    maxPayload: REQUEST_LIMITS.maxFrameBytes,
    perMessageDeflate: false,
  });

  const refuse = (socket: Socket, status: number, text: string): void => {
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length + 1}\r\n\r\n${text}\n`,
    );
  };

  server.on('upgrade', (req, socket: Socket, head) => {
    engage(socket);
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    } catch {
      return refuse(socket, 400, 'Bad Request');
    }
    if (url.pathname !== Channels.webSocket) return refuse(socket, 404, 'Not Found');
    if (!hostAllowed(req)) return refuse(socket, 403, 'Forbidden');
    // Browsers always send Origin on WebSocket handshakes: it must be this server's own.
    const origin = req.headers.origin;
    if (origin !== `http://${req.headers.host}`) return refuse(socket, 403, 'Forbidden');
    if (!authorized(req, url)) return refuse(socket, 403, 'Forbidden');
    const channel = url.searchParams.get(Channels.webSocketChannelParam);
    if (channel !== null && !WEB_SOCKET_CHANNEL_ID.test(channel))
      return refuse(socket, 400, 'Bad Request');
    if (url.searchParams.get(Channels.webSocketRoleParam) === EVENTS_ROLE) {
      // The events socket of a page whose first socket is open (and has none yet).
      const owner = [...links].find((l) => l.channel === channel);
      if (channel === null || !owner || owner.eventsWs)
        return refuse(socket, 409, 'Conflict: no such page connection');
      wss.handleUpgrade(req, socket, head, (ws) => attachEvents(owner, ws));
      return;
    }
    if (channel !== null && [...links].some((l) => l.channel === channel))
      return refuse(socket, 409, 'Conflict: channel in use');
    if (links.size >= limits.maxWebSockets) {
      log(`[web] refused a WebSocket: ${links.size} are open, the most web mode serves`);
      return refuse(socket, 503, 'Service Unavailable: too many connections');
    }
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws, channel));
  });

  const links = new Set<Link>();
  /** Links with requests waiting for a host-wide slot. */
  const waiting = new Set<Link>();
  let requestsInFlight = 0;

  const frameError = (message: string): ErrorReply => ({
    kind: 'validation',
    code: null,
    codeName: null,
    message,
    hint: 'The message was malformed and was ignored; the connection stays open.',
  });

  /** Sends one frame; `done` runs once its bytes were handed to the OS (or the socket died). */
  const sendFrame = (link: Link, frame: WireFrame, done?: () => void, via = link.ws): void => {
    const ws = via;
    if (ws.readyState !== ws.OPEN) {
      done?.();
      return;
    }
    const data = encodeFrame(frame);
    ws.send(
      typeof data === 'string' ? data : new Uint8Array(data),
      { binary: typeof data !== 'string' },
      () => {
        link.lastActivity = Date.now();
        done?.();
        if (link.paused) pump(link);
      },
    );
  };

  const sendReply = (link: Link, id: number, reply: unknown, done: () => void): void => {
    try {
      sendFrame(link, { t: 'rep', id, reply }, done);
    } catch (e) {
      sendFrame(
        link,
        {
          t: 'rep',
          id,
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
        },
        done,
      );
    }
  };

  const start = (link: Link, r: QueuedRequest): void => {
    link.inFlight++;
    link.executing++;
    requestsInFlight++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      link.inFlight--;
      requestsInFlight--;
      pump(link);
      for (const w of [...waiting]) {
        if (requestsInFlight >= limits.requests) break;
        pump(w);
      }
    };
    void link.conn
      .handle(r.name, r.params)
      .catch((e: unknown): Reply<RequestName> => ({ ok: false, error: toErrorReply(e) }))
      .then((reply) => {
        link.executing--;
        sendReply(link, r.id, reply, release);
      })
      .catch((e: unknown) => {
        log(`[web] a reply could not be sent: ${(e as Error).message}`);
        release();
      });
  };

  /** Starts what the budgets allow, then pauses or resumes reading the socket accordingly. */
  const pump = (link: Link): void => {
    const ws = link.ws;
    while (
      link.queue.length > 0 &&
      link.inFlight < limits.requestsPerSocket &&
      requestsInFlight < limits.requests &&
      ws.bufferedAmount < limits.sendHighWaterBytes
    ) {
      start(link, link.queue.shift() as QueuedRequest);
    }
    if (link.queue.length > 0 && requestsInFlight >= limits.requests) waiting.add(link);
    else waiting.delete(link);
    const blocked =
      link.queue.length > 0 ||
      link.inFlight >= limits.requestsPerSocket ||
      ws.bufferedAmount >= limits.sendHighWaterBytes;
    if (ws.readyState !== ws.OPEN) return;
    if (blocked && !link.paused) {
      link.paused = true;
      ws.pause();
    } else if (!blocked && link.paused) {
      link.paused = false;
      ws.resume();
    }
  };

  function attach(ws: WebSocket, channel: string | null): void {
    const now = Date.now();
    const link: Link = {
      ws,
      conn: options.host.connect({
        push<P extends PushName>(name: P, msg: PushMessages[P]) {
          const events = link.eventsWs;
          if (name === 'events' && events && events.readyState === events.OPEN)
            sendFrame(link, { t: 'push', name, msg }, undefined, events);
          else sendFrame(link, { t: 'push', name, msg });
        },
        congested: () =>
          ws.bufferedAmount >= limits.sendHighWaterBytes ||
          (link.eventsWs?.bufferedAmount ?? 0) >= limits.sendHighWaterBytes,
      }),
      inFlight: 0,
      executing: 0,
      queue: [],
      paused: false,
      lastActivity: now,
      lastPing: now,
      channel,
      eventsWs: null,
    };
    links.add(link);
    const pushError = (message: string): void =>
      sendFrame(link, {
        t: 'push',
        name: 'error',
        msg: { sessionId: null, error: frameError(message) },
      });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      link.lastActivity = Date.now();
      // ws hands over Buffers by default (no copy here; decodeFrame reads views).
      const bytes = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : new Uint8Array(data);
      let r;
      if (isBinary) {
        r = decodeFrame(bytes, REQUEST_LIMITS);
      } else if (bytes.byteLength > REQUEST_LIMITS.maxTextChars) {
        // Checked on bytes, before the text becomes a string.
        const message = `text frame of ${bytes.byteLength} bytes is larger than the ${REQUEST_LIMITS.maxTextChars}-byte limit`;
        const id = peekRequestId(bytes);
        if (id !== null)
          sendFrame(link, { t: 'rep', id, reply: { ok: false, error: frameError(message) } });
        else pushError(message);
        return;
      } else {
        r = decodeFrame(Buffer.from(bytes).toString('utf8'), REQUEST_LIMITS);
      }
      if (!r.ok) {
        if (r.id !== null)
          sendFrame(link, { t: 'rep', id: r.id, reply: { ok: false, error: frameError(r.error) } });
        else pushError(r.error);
        return;
      }
      const f = r.frame;
      if (f.t !== 'req') {
        pushError(`frame.t: the host accepts only requests, got "${f.t}"`);
        return;
      }
      if (link.queue.length >= limits.queuedRequestsPerSocket) {
        sendFrame(link, {
          t: 'rep',
          id: f.id,
          reply: {
            ok: false,
            error: {
              kind: 'limit',
              code: null,
              codeName: null,
              message: `${link.queue.length} requests of this connection are already waiting`,
              hint: 'Wait for replies before sending more requests.',
            },
          },
        });
        return;
      }
      link.queue.push({ id: f.id, name: f.name, params: f.params });
      pump(link);
    });
    ws.on('pong', () => {
      link.lastActivity = Date.now();
    });
    // A protocol error (a frame over maxPayload…): ws sends the close frame with its status;
    // give it a moment to reach the peer, then drop the socket whatever the peer does.
    ws.on('error', () => setTimeout(() => ws.terminate(), 1000).unref());
    ws.on('close', () => {
      links.delete(link);
      waiting.delete(link);
      link.queue.length = 0;
      link.eventsWs?.close(1000, 'the page connection closed');
      void link.conn.close();
    });
  }

  /**
   * A page's events socket: it receives the events, and the one request it takes is their
   * `ackEvents` (answered on it, so the page's UI thread sees neither); anything else closes it.
   */
  function attachEvents(owner: Link, ws: WebSocket): void {
    if (!links.has(owner)) {
      ws.close(1008, 'the page connection closed');
      return;
    }
    owner.eventsWs = ws;
    let acking = 0;
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      const r =
        isBinary || bytes.byteLength > 1024
          ? null
          : decodeFrame(bytes.toString('utf8'), REQUEST_LIMITS);
      if (!r?.ok || r.frame.t !== 'req' || r.frame.name !== 'ackEvents' || acking >= 8) {
        ws.close(1008, 'the events socket takes only ackEvents requests');
        return;
      }
      owner.lastActivity = Date.now();
      const { id, params } = r.frame;
      acking++;
      void owner.conn.handle('ackEvents', params).then((reply) => {
        acking--;
        sendFrame(owner, { t: 'rep', id, reply }, undefined, ws);
      });
    });
    ws.on('error', () => setTimeout(() => ws.terminate(), 1000).unref());
    ws.on('close', () => {
      if (owner.eventsWs !== ws) return;
      owner.eventsWs = null;
      // Batches it was sending are lost with it: the two sockets are one connection, so the
      // page's socket closes too and the page reconnects afresh (its sessions end, as on any
      // disconnect) rather than waiting for events that will never come.
      if (links.has(owner)) owner.ws.close(1011, 'the events socket closed');
    });
  }

  /** Pings live sockets; closes the ones that show no life (not reading, not answering). */
  const heartbeat = setInterval(
    () => {
      const now = Date.now();
      for (const link of links) {
        const busyElsewhere = link.executing > 0 || (link.queue.length > 0 && waiting.has(link));
        if (busyElsewhere) link.lastActivity = now;
        if (now - link.lastActivity > limits.idleTimeoutMs) {
          log(
            `[web] closing a WebSocket that showed no life for ${Math.round((now - link.lastActivity) / 1000)} s (${link.ws.bufferedAmount} bytes unread)`,
          );
          link.ws.terminate();
          continue;
        }
        if (now - link.lastPing >= limits.heartbeatMs && link.ws.readyState === link.ws.OPEN) {
          link.lastPing = now;
          link.ws.ping();
        }
      }
      // Connections that never sent their request head.
      for (const [socket, at] of pending) {
        if (now - at <= limits.headersTimeoutMs) break;
        pending.delete(socket);
        socket.destroy();
      }
    },
    Math.min(5_000, limits.heartbeatMs),
  );
  heartbeat.unref();

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, bindHost, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;
  cookieName = tokenCookieName(port);
  const url = `http://${displayHost(bindHost)}:${port}/?token=${token}`;
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
      return links.size;
    },
    stats() {
      let bufferedBytes = 0;
      for (const l of links) bufferedBytes += l.ws.bufferedAmount;
      return {
        webSockets: links.size,
        pendingSockets: pending.size,
        requests: requestsInFlight,
        bufferedBytes,
      };
    },
    async close() {
      clearInterval(heartbeat);
      for (const l of links) l.ws.close(1001, 'server shutting down');
      await new Promise<void>((r) => wss.close(() => r()));
      for (const l of links) l.ws.terminate();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
