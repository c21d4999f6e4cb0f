/**
 * The boundary check of what a trace import worker (./import-worker.ts) posts back, as
 * protocol-check.ts is for walk workers: the contents were validated field by field inside the
 * worker, so this checks the shape the main thread relies on (not every entry again: that
 * would put the import's cost back on the host's event loop). A message that fails is a broken
 * reader: the import fails with an error saying so, and nothing is loaded.
 */
import { WALKABLE_CLASSES } from '../../src-shared/pss/constants';
import type { ImportReply } from './import-worker';

const isObj = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);
const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
const isClass = (x: unknown): boolean =>
  typeof x === 'string' && (WALKABLE_CLASSES as readonly string[]).includes(x);

function metaProblem(m: unknown): string | null {
  if (!isObj(m)) return 'meta is not an object';
  if (!isCount(m.pid)) return 'meta.pid is not a count';
  if (typeof m.processName !== 'string') return 'meta.processName is not text';
  if (!isCount(m.flags)) return 'meta.flags is not a count';
  if (!isObj(m.allocator)) return 'meta.allocator is not an object';
  if (!Array.isArray(m.classes) || !m.classes.every(isClass))
    return 'meta.classes is not a list of walkable classes';
  if (typeof m.createdAt !== 'string') return 'meta.createdAt is not text';
  if (m.snapshotId !== null && typeof m.snapshotId !== 'string')
    return 'meta.snapshotId is neither text nor null';
  if (!isObj(m.pace)) return 'meta.pace is not an object';
  return null;
}

function contentsProblem(c: unknown): string | null {
  if (!isObj(c)) return 'contents is not an object';
  if (c.version !== 1 && c.version !== 2) return `version ${String(c.version)} is not 1 or 2`;
  if (!isCount(c.eventCount)) return 'eventCount is not a count';
  const meta = metaProblem(c.meta);
  if (meta) return meta;
  if (c.summary !== null && !isObj(c.summary)) return 'summary is neither an object nor null';
  if (!isObj(c.entries)) return 'entries is not an object';
  for (const [cls, list] of Object.entries(c.entries))
    if (!isClass(cls) || !Array.isArray(list))
      return `entries.${cls} is not a list of a walkable class`;
  const r = c.records;
  if (!isObj(r) || !isCount(r.fileOffset)) return 'records.fileOffset is not a count';
  // Version 2 records are always decoded into a file of their own; version 1 ones never are.
  if ((r.decoded === true) !== (c.version === 2))
    return `records.decoded is ${String(r.decoded)} for a version ${c.version} file`;
  if (c.damage !== undefined && c.damage !== null && typeof c.damage !== 'string')
    return 'damage is neither text nor null';
  return null;
}

/** The reply as typed, or what is wrong with it. */
export function checkImportReply(
  m: unknown,
): { ok: true; reply: ImportReply } | { ok: false; problem: string } {
  if (!isObj(m) || typeof m.ok !== 'boolean') return { ok: false, problem: 'not a reply' };
  const problem = m.ok
    ? contentsProblem(m.contents)
    : typeof m.name === 'string' && typeof m.message === 'string'
      ? null
      : 'an error reply without a name and a message';
  return problem === null
    ? { ok: true, reply: m as unknown as ImportReply }
    : { ok: false, problem };
}
