/**
 * A synthetic version 2 trace, for tests that need a trace file without walking a process (the
 * trace e2e specs: open, drop, replay; the host's opened-trace tests): `events` events `stepNs`
 * apart, each an allocation of 32 bytes — with `freeEach`, alternately an allocation and its
 * free (one block live at a time). Live bytes (aux1) are what they would be.
 */
import { EventWriter } from '../../src-shared/events/batch';
import { ApiCall, EventKind } from '../../src-shared/events/layout';
import { TraceWriter, type ChunkSink } from '../trace/trace-file';

export interface SyntheticTrace {
  processName: string;
  events: number;
  stepNs: number;
  pid?: number;
  /** Bytes between consecutive blocks' addresses (32). */
  addressStride?: number;
  /** Free each block right after its allocation (false: every event allocates). */
  freeEach?: boolean;
  /** Events per batch, i.e. per EVTS chunk (4096). */
  batchEvents?: number;
}

const SIZE = 32;

export function writeSyntheticTrace(sink: ChunkSink, o: SyntheticTrace): void {
  const w = new TraceWriter(sink, {
    pid: o.pid ?? 4242,
    processName: o.processName,
    flags: 0,
    allocator: { strategy: 'heap' },
    classes: ['THREADS'],
    createdAt: '2026-01-01T00:00:00.000Z',
  });
  const stride = o.addressStride ?? SIZE;
  let t = 0;
  const ew = new EventWriter(
    o.batchEvents ?? 4096,
    (b, first) => w.appendEvents(first, b),
    () => (t += o.stepNs),
  );
  const api = ApiCall.PssWalkSnapshot;
  for (let i = 0; i < o.events; i++) {
    if (o.freeEach) {
      const block = 0x1000 + (i - (i % 2)) * stride;
      if (i % 2 === 0) ew.write(EventKind.Alloc, api, 0, 0, 1, 1, block, 0, SIZE, 0, SIZE);
      else ew.write(EventKind.Free, api, 0, 0, 1, 1, block, 0, SIZE, 0, 0);
    } else {
      ew.write(EventKind.Alloc, api, 0, 0, 1, 1, 0x1000 + i * stride, 0, SIZE, 0, (i + 1) * SIZE);
    }
  }
  ew.flush();
  w.finish(null);
}
