import { describe, expect, it } from 'vitest';
import type { DiffRow } from '../../src-shared/contract/model';
import { diffCounts, filterDiff } from './diff';

const rows: DiffRow<{ name: string }>[] = [
  { change: 'added', key: '1', before: null, after: { name: 'socket' }, fields: [] },
  { change: 'removed', key: '2', before: { name: 'pipe' }, after: null, fields: [] },
  {
    change: 'changed',
    key: '3',
    before: { name: 'file a' },
    after: { name: 'file b' },
    fields: ['name'],
  },
  { change: 'added', key: '4', before: null, after: { name: 'file c' }, fields: [] },
];
const text = (r: DiffRow<{ name: string }>): string =>
  `${r.key} ${(r.after ?? r.before)?.name ?? ''}`;

describe('diff filtering', () => {
  it('counts by change kind', () => {
    expect(diffCounts(rows)).toEqual({ added: 2, removed: 1, changed: 1 });
  });
  it('filters by kind and text', () => {
    const all = new Set(['added', 'removed', 'changed'] as const);
    expect([...filterDiff(rows, all, '', text)]).toEqual([0, 1, 2, 3]);
    expect([...filterDiff(rows, new Set(['added'] as const), '', text)]).toEqual([0, 3]);
    expect([...filterDiff(rows, all, 'file', text)]).toEqual([2, 3]);
    expect([...filterDiff(rows, new Set(['added'] as const), 'file', text)]).toEqual([3]);
  });
});
