import { eventsFeed, newChannelId, withChannel, type FromSocket } from './relay';
import { createWebSocketBridge, type WebSocketBridge } from './websocket';

/**
 * The web-mode bridge whose `events` pushes arrive on a second socket in a worker of its own
 * (relay.ts: receiving event batches on the UI thread cost most of its frame budget); null
 * where no worker starts (the caller then receives everything on this thread).
 */
export function startSocketWorker(url: string): WebSocketBridge | null {
  if (typeof Worker === 'undefined') return null;
  let worker: Worker;
  try {
    worker = new Worker(new URL('./socket.worker.ts', import.meta.url), {
      type: 'module',
      name: 'connection',
    });
  } catch (e) {
    console.error('no connection worker; events arrive on the page', e);
    return null;
  }
  const channel = newChannelId((a) => crypto.getRandomValues(a));
  const bridge = createWebSocketBridge({ url: withChannel(url, channel, false) });
  worker.onerror = (e) => {
    // Events then keep coming over the page's own socket (the host falls back to it).
    console.error('the connection worker failed; events arrive on the page', e.message);
    e.preventDefault();
  };
  return eventsFeed(
    bridge,
    {
      post: (m, transfer) => worker.postMessage(m, transfer),
      listen: (fn) => {
        worker.onmessage = (e: MessageEvent<FromSocket>) => fn(e.data);
      },
    },
    withChannel(url, channel, true),
  );
}
