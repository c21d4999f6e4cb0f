/** Test helper: builds binary event batches with the shared encoder. Used only by *.test.ts. */
import { EventWriter } from '../lib/traceEvents';
import { ApiCall, EventKind, NO_CLASS } from '../lib/traceEvents';

export interface TestEvent {
  kind: number;
  address?: bigint;
  size?: number;
  api?: number;
  walkClass?: number;
  strategy?: number;
  aux0?: number;
  aux1?: number;
  timeNs?: number;
}

/** Encodes events as one batch; times default to 1000 ns × seq. */
export function encode(events: TestEvent[], firstSeq = 0): ArrayBuffer {
  let out: ArrayBuffer | null = null;
  let i = 0;
  const w = new EventWriter(
    Math.max(1, events.length),
    (b) => {
      out = b;
    },
    () => events[i]?.timeNs ?? (firstSeq + i) * 1000,
    firstSeq,
  );
  for (; i < events.length; i++) {
    const e = events[i] as TestEvent;
    w.writeFields({
      kind: e.kind,
      api: e.api ?? ApiCall.PssWalkSnapshot,
      walkClass: e.walkClass ?? NO_CLASS,
      strategy: e.strategy ?? 0,
      markerId: 1,
      threadId: 42,
      address: e.address ?? 0n,
      size: e.size ?? 0,
      aux0: e.aux0 ?? 0,
      aux1: e.aux1 ?? 0,
    });
  }
  w.flush();
  if (out === null) throw new Error('no batch');
  return out;
}

export const alloc = (
  address: bigint,
  size: number,
  extra: Partial<TestEvent> = {},
): TestEvent => ({
  kind: EventKind.Alloc,
  address,
  size,
  ...extra,
});
export const free = (address: bigint, size: number, extra: Partial<TestEvent> = {}): TestEvent => ({
  kind: EventKind.Free,
  address,
  size,
  ...extra,
});
