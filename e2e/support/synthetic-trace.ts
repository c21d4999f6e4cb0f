/**
 * A synthetic version 2 trace for the trace e2e specs (open, drop, replay): `events` events that
 * alternate an allocation of 32 bytes and its free, `stepNs` apart, one block live at a time.
 */
import { EventWriter } from '../../src-shared/events/batch';
import { ApiCall, EventKind } from '../../src-shared/events/layout';
import { TraceWriter, type ChunkSink } from '../../src-main/trace/trace-file';

export function writeSyntheticTrace(
  sink: ChunkSink,
  o: { processName: string; events: number; stepNs: number; addressStride: number },
): void {
  const w = new TraceWriter(sink, {
    pid: 4242,
    processName: o.processName,
    flags: 0,
    allocator: { strategy: 'heap' },
    classes: ['THREADS'],
    createdAt: '2026-01-01T00:00:00.000Z',
  });
  let t = 0;
  const ew = new EventWriter(
    4096,
    (b, first) => w.appendEvents(first, b),
    () => (t += o.stepNs),
  );
  for (let i = 0; i < o.events; i++) {
    const block = 0x1000 + (i - (i % 2)) * o.addressStride;
    if (i % 2 === 0)
      ew.write(EventKind.Alloc, ApiCall.PssWalkSnapshot, 0, 0, 1, 1, block, 0, 32, 0, 32);
    else ew.write(EventKind.Free, ApiCall.PssWalkSnapshot, 0, 0, 1, 1, block, 0, 32, 0, 0);
  }
  ew.flush();
  w.finish(null);
}
