/**
 * Reading a crashed walk child's ring file (recoverRing): real rings written by liballoctrace
 * into a file mapped shared, read back from the file as the parent does after the child died.
 * What continues the delivered events is recovered by the records' own seqs; what the ring no
 * longer holds (overwritten, or waiting in the tracer's overflow buffer) is counted as lost.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBatchView } from '../../src-shared/events/batch';
import { EventKind } from '../../src-shared/events/layout';
import { NativeTracer, RING_EVENTS } from './native-tracer';
import { recoverRing } from './ring-format';

const dir = mkdtempSync(join(tmpdir(), 'pss-ring-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** A tracer whose ring is a file; `drained` counts the records its batches took out. */
function ringInFile(): { t: NativeTracer; file: string; drained: () => number } {
  const file = join(dir, `ring${++files}`);
  writeFileSync(file, '');
  let drained = 0;
  const t = NativeTracer.create(
    { strategy: 'heap' },
    0,
    (_f, b) => (drained += b.byteLength / 48),
    1,
    file,
  );
  return { t, file, drained: () => drained };
}

const read = (file: string): Uint8Array => new Uint8Array(readFileSync(file));

describe.runIf(process.platform === 'linux')('recoverRing', () => {
  it('recovers a batch drained but never delivered, by its seqs', () => {
    const { t, file, drained } = ringInFile();
    for (let i = 0; i < 100; i++) t.walkEnd(3, i);
    t.flush(); // the child took all 100 out of its ring…
    expect(drained()).toBe(100);
    // …but only 60 reached the parent: the header's tail says 100, the records say 60 on
    const r = recoverRing(read(file), 60);
    expect(r).toMatchObject({ firstSeq: 60, written: 100, lost: 0, lostAfterGap: 0 });
    const v = new EventBatchView(r.records.slice().buffer);
    v.validate(60);
    expect(v.count).toBe(40);
    expect(v.aux0(0)).toBe(60);
    expect(v.kind(39)).toBe(EventKind.WalkEnd);
    // nothing undelivered: nothing recovered, nothing lost
    expect(recoverRing(read(file), 100)).toMatchObject({ written: 100, lost: 0 });
    t.destroy();
  });

  it('counts what the ring no longer holds as lost, with everything after the gap', () => {
    const { t, file } = ringInFile();
    const n = RING_EVENTS * 2;
    for (let i = 0; i < n; i++) {
      t.walkEnd(3, i);
      if (i % 1000 === 999) t.flush();
    }
    t.flush();
    // the parent got 1,000: seqs 1,000 … 8,191 were overwritten since, 8,192 on are there
    const r = recoverRing(read(file), 1000);
    expect(r.records.byteLength).toBe(0);
    expect(r).toMatchObject({ written: n, lost: n - 1000, lostAfterGap: RING_EVENTS });
    t.destroy();
  });

  it('counts the records waiting in the overflow buffer (the dead process held them) as lost', () => {
    const { t, file } = ringInFile();
    for (let i = 0; i < RING_EVENTS + 500; i++) t.walkEnd(3, i); // no drain: 500 overflow
    const r = recoverRing(read(file), 0);
    expect(r.records.byteLength / 48).toBe(RING_EVENTS);
    expect(r).toMatchObject({ written: RING_EVENTS + 500, lost: 500, lostAfterGap: 0 });
    t.flush();
    t.destroy();
  });

  it('says nothing it cannot know from a file that is not a ring', () => {
    expect(recoverRing(new Uint8Array(10), 5)).toMatchObject({
      firstSeq: 5,
      written: null,
      lost: null,
    });
    const bad = new Uint8Array(64 + 48 * 16);
    new DataView(bad.buffer).setUint32(8, 12, true); // capacity not a power of two
    expect(recoverRing(bad, 0).lost).toBeNull();
  });
});
