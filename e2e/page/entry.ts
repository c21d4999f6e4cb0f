/**
 * Page-side helpers the e2e tests and the web-delivery bench inject into the app's page (as a
 * same-origin script, so the page's CSP applies unchanged): the real browser bridge
 * (src-renderer/bridge) and the shared event decoder, plus a probe that counts what arrives.
 * Built by e2e/support/global-setup.ts into out/e2e/pss-page.js (global `PssPage`).
 */
import {
  getPssApi,
  createWebSocketBridge,
  socketUrl,
  getConnectionState,
} from '../../src-renderer/bridge';
import { EventBatchView } from '../../src-shared/events/batch';
import { EVENT_SIZE, EventKind } from '../../src-shared/events/layout';
import type { PssApi } from '../../src-shared/contract/contract';

declare const requestAnimationFrame: (cb: (t: number) => void) => number;
declare const cancelAnimationFrame: (id: number) => void;

export interface ProbeReport {
  events: number;
  batches: number;
  allocations: number;
  frees: number;
  firstArrivalMs: number;
  lastArrivalMs: number;
  /** Allocation → page latency per batch (ms), from its last record. */
  latenciesMs: number[];
  frameDeltasMs: number[];
  /** When each frame delta ended (epoch ms), to pick the frames of a time window. */
  frameAtMs: number[];
  nextSeq: number;
  gaps: number;
}

/** Counts records of raw binary WebSocket messages (the benchmark's baseline, without the host). */
export function rawReceiver(url: string, expectEvents: number) {
  return new Promise<{ events: number; allocations: number; firstMs: number; lastMs: number }>(
    (resolve, reject) => {
      const ws = new WebSocket(url);
      ws.binaryType = 'arraybuffer';
      let events = 0;
      let allocations = 0;
      let firstMs = 0;
      let lastMs = 0;
      ws.onmessage = (e) => {
        const now = performance.timeOrigin + performance.now();
        if (firstMs === 0) firstMs = now;
        lastMs = now;
        const v = new EventBatchView(e.data as ArrayBuffer);
        for (let i = 0; i < v.count; i++) if (v.kind(i) === EventKind.Alloc) allocations++;
        events += v.count;
        if (events >= expectEvents) {
          ws.close();
          resolve({ events, allocations, firstMs, lastMs });
        }
      };
      ws.onerror = () => reject(new Error('baseline socket failed'));
      ws.onopen = () => ws.send('go');
    },
  );
}

/** A report with nothing counted yet. */
function emptyReport(): ProbeReport {
  return {
    events: 0,
    batches: 0,
    allocations: 0,
    frees: 0,
    firstArrivalMs: 0,
    lastArrivalMs: 0,
    latenciesMs: [],
    frameDeltasMs: [],
    frameAtMs: [],
    nextSeq: 0,
    gaps: 0,
  };
}

/**
 * Listens to one session's pushes like a renderer would: decodes every record, acks each
 * batch after processing it, and samples requestAnimationFrame to see the frame times.
 */
export function createProbe(api: PssApi, clockOriginEpochMs: () => number) {
  const r: ProbeReport = emptyReport();
  let sessionId: string | null = null;
  let ackTimer: ReturnType<typeof setTimeout> | null = null;
  let ackSeq = -1;
  const ack = (seq: number) => {
    if (seq > ackSeq) ackSeq = seq;
    if (ackTimer !== null || sessionId === null) return;
    ackTimer = setTimeout(() => {
      ackTimer = null;
      if (sessionId !== null) void api.request('ackEvents', { sessionId, seq: ackSeq });
    }, 0);
  };
  const offEvents = api.on('events', (m) => {
    if (sessionId !== null && m.sessionId !== sessionId) return;
    const now = performance.timeOrigin + performance.now();
    const v = new EventBatchView(m.bytes);
    if (m.firstSeq !== r.nextSeq) r.gaps++;
    r.nextSeq = m.firstSeq + v.count;
    for (let i = 0; i < v.count; i++) {
      const k = v.kind(i);
      if (k === EventKind.Alloc) r.allocations++;
      else if (k === EventKind.Free) r.frees++;
    }
    r.events += v.count;
    r.batches++;
    if (r.firstArrivalMs === 0) r.firstArrivalMs = now;
    r.lastArrivalMs = now;
    if (v.count > 0) {
      const origin = clockOriginEpochMs();
      if (origin > 0) r.latenciesMs.push(now - (origin + v.timeNs(v.count - 1) / 1e6));
    }
    ack(r.nextSeq - 1);
  });
  let raf = 0;
  let last = 0;
  const frame = (t: number) => {
    if (last !== 0) {
      r.frameDeltasMs.push(t - last);
      r.frameAtMs.push(performance.timeOrigin + t);
    }
    last = t;
    raf = requestAnimationFrame(frame);
  };
  raf = requestAnimationFrame(frame);
  return {
    follow(id: string) {
      sessionId = id;
    },
    report: (): ProbeReport => ({
      ...r,
      latenciesMs: [...r.latenciesMs],
      frameDeltasMs: [...r.frameDeltasMs],
      frameAtMs: [...r.frameAtMs],
    }),
    /** Forgets what was counted (between benchmark rounds). */
    reset() {
      Object.assign(r, emptyReport());
      ackSeq = -1;
    },
    stop() {
      offEvents();
      cancelAnimationFrame(raf);
    },
  };
}

export {
  getPssApi,
  createWebSocketBridge,
  socketUrl,
  getConnectionState,
  EventBatchView,
  EventKind,
  EVENT_SIZE,
};
