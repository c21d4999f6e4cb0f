/**
 * The preload (sandboxed, CommonJS): exposes exactly the contract as `window.pss` (PssApi) and
 * nothing else — no ipcRenderer, no generic send. Requests go through
 * `ipcRenderer.invoke(Channels.request, name, params)`; pushes arrive on the MessagePort main
 * sends for this page (Channels.port), event batches as ArrayBuffers. The renderer acknowledges
 * what it has processed with the ackEvents request (flow control), as over the WebSocket.
 */
import { contextBridge, ipcRenderer } from 'electron';
import {
  Channels,
  PUSH_NAMES,
  type PssApi,
  type PushMessages,
  type PushName,
  type Reply,
  type RequestName,
  type RequestParams,
} from '../src-shared/contract/contract';
import { PushListeners } from '../src-shared/contract/wire';

const listeners = new PushListeners();

function onPortMessage(data: unknown): void {
  if (typeof data !== 'object' || data === null) return;
  const { name, msg } = data as { name?: unknown; msg?: unknown };
  if (typeof name !== 'string' || !(PUSH_NAMES as readonly string[]).includes(name)) return;
  listeners.dispatch(name as PushName, msg as PushMessages[PushName]);
}

ipcRenderer.on(Channels.port, (event) => {
  const port = event.ports[0];
  if (!port) return;
  port.onmessage = (e: MessageEvent) => onPortMessage(e.data);
  port.start();
});
ipcRenderer.send(Channels.connectPort);

const api: PssApi = {
  transport: 'electron',
  request<N extends RequestName>(name: N, params: RequestParams<N>): Promise<Reply<N>> {
    return ipcRenderer.invoke(Channels.request, name, params) as Promise<Reply<N>>;
  },
  on<P extends PushName>(name: P, listener: (message: PushMessages[P]) => void): () => void {
    return listeners.add(name, listener);
  },
};

contextBridge.exposeInMainWorld('pss', api);
