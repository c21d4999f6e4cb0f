/**
 * The Electron IPC adapter as a pure function of an ipcMain-like registrar, so it is tested
 * without the Electron binary (contract.test.ts drives it with a fake registrar).
 *
 * - Requests: `ipcRenderer.invoke(Channels.request, name, params)` → host connection of the
 *   sending window → Reply (plain data, structured-cloned back).
 * - Pushes: per window, main creates a MessageChannelMain when the preload asks for it
 *   (Channels.connectPort), keeps port1 and hands port2 to the renderer (Channels.port). Each
 *   push is posted as `{ name, msg }`; ArrayBuffers cross as binary (structured clone), never as
 *   JSON numbers.
 * - Every message's sender is checked (the app's own window, its main frame, the app's own
 *   file:// page) before anything is done; an untrusted sender gets an error reply and nothing
 *   else.
 * - A window's connection is closed (its sessions cancelled, snapshots freed) when it reloads
 *   (a new connectPort), navigates away or is destroyed.
 */
import {
  Channels,
  type PushMessages,
  type PushName,
  type Reply,
  type RequestName,
} from '../../src-shared/contract/contract';
import type { ErrorReply } from '../../src-shared/contract/model';
import { toErrorReply, type HostConnection, type SessionHost } from '../host';

/** The part of WebContents the adapter uses. */
export interface SenderLike {
  readonly id: number;
  once(event: 'destroyed', listener: () => void): unknown;
}

export interface FrameLike {
  readonly url: string;
}

export interface IpcEventLike {
  readonly sender: SenderLike;
  readonly senderFrame: FrameLike | null;
}

/** MessagePortMain's shape. */
export interface PortLike {
  postMessage(message: unknown): void;
  start(): void;
  close(): void;
}

/** ipcMain's shape. */
export interface IpcRegistrar<E extends IpcEventLike = IpcEventLike> {
  handle(channel: string, listener: (event: E, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
  on(channel: string, listener: (event: E, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: E, ...args: unknown[]) => void): unknown;
}

export interface IpcDeps<E extends IpcEventLike, P> {
  host: SessionHost;
  /** The sender is this app's window, its main frame, showing the app's own page. */
  isTrusted(event: E): boolean;
  /** A new MessageChannelMain. */
  createChannel(): { port1: PortLike; port2: P };
  /** Hands port2 to the renderer: `event.sender.postMessage(Channels.port, null, [port2])`. */
  sendPort(event: E, port: P): void;
  log?: (message: string) => void;
}

/** The push envelope on the MessagePort. */
export interface PortMessage<P extends PushName = PushName> {
  name: P;
  msg: PushMessages[P];
}

interface WindowLink {
  conn: HostConnection;
  port: PortLike | null;
  /** Pushes made before the port was attached (only the first moments of a page). */
  queue: PortMessage[];
  /** Binary bytes in `queue`. */
  queuedBytes: number;
}

/** Pushes kept for a page whose port is not attached yet: their number and binary bytes. */
const MAX_QUEUED = 10_000;
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

export const untrustedReply: ErrorReply = {
  kind: 'misuse',
  code: null,
  codeName: null,
  message: 'request refused: it did not come from the application window',
  hint: 'Only the app’s own page may use this interface.',
};

export interface IpcAdapter {
  /** The registered listeners, by channel (for tests). */
  readonly channels: readonly string[];
  /** The connection serving a window (tests; menu commands). */
  connectionOf(senderId: number): HostConnection | null;
  /** Sends an application-menu command to a window's renderer. */
  command(senderId: number, command: PushMessages['command']['command']): boolean;
  /** Closes a window's connection (navigation away, crash). */
  disconnect(senderId: number): Promise<void>;
  /** Unregisters everything and closes every connection. */
  dispose(): Promise<void>;
}

export function registerIpc<E extends IpcEventLike, P>(
  ipc: IpcRegistrar<E>,
  deps: IpcDeps<E, P>,
): IpcAdapter {
  const links = new Map<number, WindowLink>();
  const log = deps.log ?? ((m: string) => console.warn(`[ipc] ${m}`));

  const link = (sender: SenderLike): WindowLink => {
    const existing = links.get(sender.id);
    if (existing && !existing.conn.closed) return existing;
    const l: WindowLink = {
      port: null,
      queue: [],
      queuedBytes: 0,
      conn: deps.host.connect({
        push<N extends PushName>(name: N, msg: PushMessages[N]) {
          const m: PortMessage = { name, msg } as PortMessage;
          if (l.port) {
            l.port.postMessage(m);
            return;
          }
          if (l.queue.length >= MAX_QUEUED) {
            log(`dropped a "${name}" push for window ${sender.id}: its page never connected`);
            return;
          }
          const bytes = (msg as { bytes?: unknown }).bytes;
          if (bytes instanceof ArrayBuffer) l.queuedBytes += bytes.byteLength;
          l.queue.push(m);
        },
        // Until the page's port exists, the event streams wait once a few MB are queued (they
        // resume when it connects, from where they stopped): the queue stays bounded.
        congested: () => l.port === null && l.queuedBytes >= MAX_QUEUED_BYTES,
      }),
    };
    links.set(sender.id, l);
    sender.once('destroyed', () => void disconnect(sender.id));
    return l;
  };

  const disconnect = async (senderId: number): Promise<void> => {
    const l = links.get(senderId);
    if (!l) return;
    links.delete(senderId);
    l.port?.close();
    await l.conn.close();
  };

  const onRequest = async (event: E, ...args: unknown[]): Promise<Reply<RequestName>> => {
    if (!deps.isTrusted(event)) {
      log(
        `refused a request from untrusted sender ${event.sender.id} (${event.senderFrame?.url ?? 'no frame'})`,
      );
      return { ok: false, error: untrustedReply };
    }
    try {
      return await link(event.sender).conn.handle(args[0], args[1]);
    } catch (e) {
      // handle() never rejects; this keeps a bug there from reaching Electron as a rejection.
      log(`a request failed outside the host: ${(e as Error).message}`);
      return { ok: false, error: toErrorReply(e) };
    }
  };

  const onConnectPort = (event: E): void => {
    if (!deps.isTrusted(event)) {
      log(`refused a port request from untrusted sender ${event.sender.id}`);
      return;
    }
    // A second connectPort from the same window is a reload: the old page's work goes away.
    const old = links.get(event.sender.id);
    if (old && (old.port !== null || old.conn.closed)) {
      links.delete(event.sender.id);
      old.port?.close();
      void old.conn.close();
    }
    const l = link(event.sender);
    const { port1, port2 } = deps.createChannel();
    l.port = port1;
    port1.start();
    for (const m of l.queue.splice(0)) port1.postMessage(m);
    l.queuedBytes = 0;
    deps.sendPort(event, port2);
  };

  ipc.handle(Channels.request, onRequest);
  ipc.on(Channels.connectPort, onConnectPort);

  return {
    channels: [Channels.request, Channels.connectPort],
    connectionOf: (id) => links.get(id)?.conn ?? null,
    command(senderId, command) {
      const l = links.get(senderId);
      if (!l) return false;
      l.conn.notify('command', { command });
      return true;
    },
    disconnect,
    async dispose() {
      ipc.removeHandler(Channels.request);
      ipc.removeListener(Channels.connectPort, onConnectPort);
      await Promise.all([...links.keys()].map((id) => disconnect(id)));
    },
  };
}

/** The app's page is exactly this file:// URL (query and hash aside). */
export function isAppPage(frameUrl: string, pageFileUrl: string): boolean {
  try {
    const u = new URL(frameUrl);
    const want = new URL(pageFileUrl);
    return u.protocol === 'file:' && u.host === want.host && u.pathname === want.pathname;
  } catch {
    return false;
  }
}
