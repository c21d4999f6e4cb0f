// Preloaded into the server by the soak (node --expose-gc --import …; worker threads inherit
// both): SIGUSR2 runs a full garbage collection in the main thread and, through a
// BroadcastChannel, in every worker thread (signals reach only the main thread), so the soak
// measures memory "after a GC" instead of guessing when V8 will collect. Production never
// loads this.
import { BroadcastChannel, isMainThread } from 'node:worker_threads';

const channel = new BroadcastChannel('pss-soak-gc');
channel.unref();
const collect = () => {
  if (typeof globalThis.gc === 'function') globalThis.gc();
  if (process.env.SOAK_GC_LOG === '1') {
    const m = process.memoryUsage();
    const mb = (x) => (x / 1048576).toFixed(1);
    process.stderr.write(
      `[gc ${isMainThread ? 'main' : 'worker'}] heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} MB, external ${mb(m.external)} MB, arrayBuffers ${mb(m.arrayBuffers)} MB\n`,
    );
  }
};
if (isMainThread) {
  process.on('SIGUSR2', () => {
    collect();
    channel.postMessage('gc');
  });
} else {
  channel.onmessage = collect;
}
