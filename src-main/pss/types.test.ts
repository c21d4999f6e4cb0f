/**
 * Every koffi declaration against the fact sheet (../shared/pss-api.md §5, vendored as
 * docs/pss-api.md): sizeof, alignof and the offset of every field, including nested ones.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import koffi, { type TypeObject } from 'koffi';
import { describe, expect, it } from 'vitest';
import { ALL_STRUCTS } from './types';

const repo = join(import.meta.dirname, '..', '..');
const vendored = join(repo, 'docs', 'pss-api.md');
const shared = join(repo, '..', 'shared', 'pss-api.md');

interface StructSpec {
  name: string;
  size: number;
  align: number;
  fields: { path: string; offset: number; size: number }[];
}

function parseFactSheet(text: string): StructSpec[] {
  const specs: StructSpec[] = [];
  let cur: StructSpec | null = null;
  for (const line of text.split('\n')) {
    const head = /^#### (\w+)\s+\(sizeof = (\d+), alignof = (\d+)\)/.exec(line);
    if (head) {
      cur = { name: head[1] as string, size: Number(head[2]), align: Number(head[3]), fields: [] };
      specs.push(cur);
      continue;
    }
    if (line.startsWith('#')) cur = null;
    if (!cur) continue;
    const row = /^\| ([\w.]+) \| [^|]+ \| (\d+) \| 0x[0-9A-Fa-f]+ \| (\d+) \|$/.exec(line);
    if (row)
      cur.fields.push({ path: row[1] as string, offset: Number(row[2]), size: Number(row[3]) });
  }
  return specs;
}

/** Offset of a dotted path (e.g. TypeSpecificInformation.Thread.ThreadId) and its type. */
function resolvePath(type: TypeObject, path: string): { offset: number; type: TypeObject } {
  let offset = 0;
  let t = type;
  for (const part of path.split('.')) {
    const member = t.members?.[part];
    if (!member) throw new Error(`${t.name} has no member ${part}`);
    offset += member.offset;
    t = member.type;
  }
  return { offset, type: t };
}

describe('koffi structure declarations match the fact sheet', () => {
  it('uses the same fact sheet as ../shared when both exist', () => {
    if (existsSync(shared))
      expect(readFileSync(vendored, 'utf8')).toBe(readFileSync(shared, 'utf8'));
  });

  const specs = parseFactSheet(readFileSync(vendored, 'utf8'));

  it('finds every structure of §5.2 in the fact sheet', () => {
    expect(specs.map((s) => s.name).sort()).toEqual(
      [...Object.keys(ALL_STRUCTS), 'LARGE_INTEGER'].sort(),
    );
  });

  for (const spec of specs) {
    if (spec.name === 'LARGE_INTEGER') {
      it('LARGE_INTEGER is an int64 (8 bytes, 8-aligned)', () => {
        expect(koffi.sizeof('int64')).toBe(spec.size);
        expect(koffi.alignof('int64')).toBe(spec.align);
      });
      continue;
    }
    it(`${spec.name}: sizeof ${spec.size}, alignof ${spec.align}, ${spec.fields.length} fields`, () => {
      const type = ALL_STRUCTS[spec.name as keyof typeof ALL_STRUCTS];
      expect(type, `${spec.name} is declared`).toBeDefined();
      expect(koffi.sizeof(type)).toBe(spec.size);
      expect(koffi.alignof(type)).toBe(spec.align);
      expect(spec.fields.length).toBeGreaterThan(0);
      for (const f of spec.fields) {
        const r = resolvePath(type, f.path);
        expect(r.offset, `${spec.name}.${f.path} offset`).toBe(f.offset);
        expect(koffi.sizeof(r.type), `${spec.name}.${f.path} size`).toBe(f.size);
      }
    });
  }
});
