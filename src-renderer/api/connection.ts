/**
 * The renderer's only door to the host: wraps the bridge's PssApi (errors arrive as data) and
 * mirrors the transport's state into the store for the connection indicator.
 */
import type {
  PssApi,
  PushMessages,
  PushName,
  Reply,
  RequestName,
  RequestParams,
} from '../../src-shared/contract/contract';
import type { ErrorReply } from '../../src-shared/contract/model';
import { getConnectionState, getPssApi, watchConnection, type ConnectionState } from '../bridge';
import { appStore, type ConnectionStatus } from '../store';

let api: PssApi | null = null;

function transportError(e: unknown): ErrorReply {
  return {
    kind: 'io',
    code: null,
    codeName: null,
    message: `The host did not answer: ${e instanceof Error ? e.message : String(e)}`,
    hint: 'The inspector host may have stopped. Restart it, then reload this window.',
  };
}

/** Gets the bridge once; null when it cannot be created (shown as disconnected). */
export function getApi(): PssApi | null {
  if (api) return api;
  try {
    api = getPssApi();
  } catch (e) {
    appStore.get().setConnection({ status: 'disconnected', error: transportError(e) });
    return null;
  }
  return api;
}

export async function request<N extends RequestName>(
  name: N,
  params: RequestParams<N>,
): Promise<Reply<N>> {
  const a = getApi();
  if (!a) return { ok: false, error: transportError(new Error('no bridge')) };
  try {
    return await a.request(name, params);
  } catch (e) {
    return { ok: false, error: transportError(e) };
  }
}

export function onPush<P extends PushName>(
  name: P,
  listener: (message: PushMessages[P]) => void,
): () => void {
  const a = getApi();
  if (!a) return () => undefined;
  return a.on(name, listener);
}

function statusOf(s: ConnectionState): ConnectionStatus {
  switch (s.status) {
    case 'open':
      return 'connected';
    case 'connecting':
      return 'connecting';
    case 'reconnecting':
      return 'reconnecting';
    case 'closed':
      return 'disconnected';
    default:
      return 'disconnected';
  }
}

async function loadAppInfo(): Promise<void> {
  const r = await request('appInfo', {});
  if (r.ok) appStore.get().setConnection({ appInfo: r.value, error: null });
  else appStore.get().setConnection({ error: r.error });
}

/**
 * First contact: watch the transport, ask for appInfo on every (re)connect. `onReconnect` runs
 * when a new generation opens after an earlier one (the host cancelled our sessions);
 * `onFirstOpen` when the first one opens.
 */
export function connect(onReconnect: () => void, onFirstOpen?: () => void): () => void {
  if (!getApi()) return () => undefined;
  let lastGeneration = 0;
  const handle = (s: ConnectionState): void => {
    const status = statusOf(s);
    const detail =
      s.status === 'reconnecting' && s.retryInMs !== null
        ? `retrying in ${Math.ceil(s.retryInMs / 1000)} s${s.lastError ? ` (${s.lastError})` : ''}`
        : s.lastError;
    appStore.get().setConnection({ status, detail, generation: s.generation });
    if (s.status === 'open' && s.generation !== lastGeneration) {
      const first = lastGeneration === 0;
      if (!first) onReconnect();
      lastGeneration = s.generation;
      void loadAppInfo();
      if (first) onFirstOpen?.();
    }
  };
  const off = watchConnection(handle);
  handle(getConnectionState());
  return off;
}
