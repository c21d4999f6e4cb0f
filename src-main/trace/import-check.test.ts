/**
 * The import worker's answer is checked before the host uses it (import.test.ts drives the
 * real worker, whose answers must all pass; here each field the host relies on is broken once).
 */
import { describe, expect, it } from 'vitest';
import { checkImportReply } from './import-check';

const good = (): Record<string, unknown> => ({
  ok: true,
  contents: {
    version: 2,
    eventCount: 10,
    meta: {
      pid: 42,
      processName: 'pss-fixture',
      flags: 0x1f,
      allocator: { strategy: 'heap' },
      classes: ['THREADS', 'VA_SPACE'],
      createdAt: '2026-12-07T02:00:00.000Z',
      snapshotId: null,
      pace: { mode: 'run' },
    },
    summary: null,
    entries: { THREADS: [{ threadId: 1 }] },
    records: { fileOffset: 0, decoded: true },
    damage: null,
  },
});

/** The contents of a reply, as a test edits them. */
interface Contents {
  [field: string]: unknown;
  meta: Record<string, unknown>;
}

/** `good()` with one change made by `edit`. */
function broken(edit: (c: Contents) => void): unknown {
  const m = good();
  edit(m.contents as Contents);
  return m;
}

describe('checkImportReply', () => {
  it('passes a well-formed answer and a well-formed error', () => {
    expect(checkImportReply(good()).ok).toBe(true);
    const v1 = broken((c) => {
      c.version = 1;
      c.records = { fileOffset: 512 };
    });
    expect(checkImportReply(v1).ok).toBe(true);
    expect(checkImportReply({ ok: false, name: 'TraceFileError', message: 'bad' }).ok).toBe(true);
  });

  it.each<[string, unknown, RegExp]>([
    ['nothing', undefined, /not a reply/],
    ['an array', [], /not a reply/],
    ['an error without its message', { ok: false, name: 'Error' }, /without a name and a message/],
    ['no contents', { ok: true }, /contents is not an object/],
    ['version 3', broken((c) => (c.version = 3)), /version 3 is not 1 or 2/],
    ['a negative count', broken((c) => (c.eventCount = -1)), /eventCount/],
    ['a fractional count', broken((c) => (c.eventCount = 1.5)), /eventCount/],
    ['no meta', broken((c) => delete (c as Partial<Contents>).meta), /meta is not an object/],
    ['a pid as text', broken((c) => (c.meta.pid = '42')), /meta.pid/],
    ['an unknown class', broken((c) => (c.meta.classes = ['FILES'])), /meta.classes/],
    ['a summary as text', broken((c) => (c.summary = 'done')), /summary/],
    ['entries of an unknown class', broken((c) => (c.entries = { FILES: [] })), /entries.FILES/],
    ['entries not a list', broken((c) => (c.entries = { THREADS: {} })), /entries.THREADS/],
    ['no records', broken((c) => delete c.records), /records.fileOffset/],
    [
      'v2 records not decoded',
      broken((c) => (c.records = { fileOffset: 0 })),
      /decoded is undefined for a version 2 file/,
    ],
    ['damage as a number', broken((c) => (c.damage = 7)), /damage/],
  ])('refuses %s', (_what, m, problem) => {
    const r = checkImportReply(m);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toMatch(problem);
  });
});
