import { describe, expect, it } from 'vitest';
import type { ProcessRow } from '../../src-shared/contract/model';
import { buildProcessTree, treeKey } from './processTree';

const p = (pid: number, ppid: number, name: string, rss = 0): ProcessRow =>
  ({ pid, ppid, name, rssBytes: rss, commandLine: '', user: 'root' }) as ProcessRow;

// 1 init ─┬─ 10 sshd ── 11 bash ── 12 python3
//         └─ 20 postgres ─┬─ 21 checkpointer
//                         └─ 22 walwriter
// 2 kthreadd ── 3 kworker
const rows = [
  p(12, 11, 'python3', 300),
  p(1, 0, 'init', 10),
  p(20, 1, 'postgres', 500),
  p(10, 1, 'sshd', 20),
  p(11, 10, 'bash', 30),
  p(21, 20, 'checkpointer', 40),
  p(22, 20, 'walwriter', 50),
  p(2, 0, 'kthreadd'),
  p(3, 2, 'kworker'),
];
const base = {
  query: '',
  sortKey: null,
  dir: 'asc' as const,
  collapsed: new Set<number>(),
  text: (r: ProcessRow) => `${r.pid} ${r.name}`,
};
const names = (t: ReturnType<typeof buildProcessTree>): string[] =>
  t.map((r) => `${'  '.repeat(r.depth)}${r.row.name}`);

describe('process tree', () => {
  it('nests children under parents, depth-first, siblings by pid', () => {
    expect(names(buildProcessTree(rows, base))).toEqual([
      'init',
      '  sshd',
      '    bash',
      '      python3',
      '  postgres',
      '    checkpointer',
      '    walwriter',
      'kthreadd',
      '  kworker',
    ]);
  });

  it('sorts siblings by a column; collapsed branches hide their descendants', () => {
    const t = buildProcessTree(rows, {
      ...base,
      sortKey: (r) => r.rssBytes,
      dir: 'desc',
      collapsed: new Set([10]),
    });
    expect(names(t)).toEqual([
      'init',
      '  postgres',
      '    walwriter',
      '    checkpointer',
      '  sshd',
      'kthreadd',
      '  kworker',
    ]);
    const sshd = t.find((r) => r.row.pid === 10);
    expect(sshd).toMatchObject({ hasChildren: true, expanded: false, depth: 1 });
  });

  it('a search shows the matches only, each under its nearest matching ancestor', () => {
    const t = buildProcessTree(rows, { ...base, query: 'python', collapsed: new Set([1, 10]) });
    expect(names(t)).toEqual(['python3']);
    expect(buildProcessTree(rows, { ...base, query: 'nothing-matches' })).toEqual([]);
    // "postgres" matches the postmaster only by name; its children match by command line.
    const pg = rows.map((r) => (r.ppid === 20 ? { ...r, commandLine: 'postgres: ' + r.name } : r));
    expect(
      names(
        buildProcessTree(pg, {
          ...base,
          query: 'postgres',
          text: (r) => `${r.name} ${r.commandLine}`,
        }),
      ),
    ).toEqual(['postgres', '  checkpointer', '  walwriter']);
    // A filter skips a generation: python3 nests under sshd when bash is filtered out.
    const some = buildProcessTree(rows, { ...base, keep: (r) => r.name !== 'bash' });
    expect(names(some).slice(0, 3)).toEqual(['init', '  sshd', '    python3']);
  });

  it('a cycle or a missing parent makes a root, never a lost row', () => {
    const odd = [p(5, 5, 'self-parent'), p(6, 999, 'orphan')];
    expect(names(buildProcessTree(odd, base))).toEqual(['self-parent', 'orphan']);
  });

  it('keys move the selection, open and close branches, and go to the parent', () => {
    const t = buildProcessTree(rows, base);
    expect(treeKey(t, null, 'ArrowDown')).toEqual({ index: 0, toggle: null });
    expect(treeKey(t, 0, 'ArrowDown')).toEqual({ index: 1, toggle: null });
    expect(treeKey(t, 8, 'ArrowDown')).toEqual({ index: 8, toggle: null });
    expect(treeKey(t, 3, 'ArrowLeft')).toEqual({ index: 2, toggle: null }); // python3 → bash
    expect(treeKey(t, 1, 'ArrowLeft')).toEqual({ index: 1, toggle: 10 }); // collapse sshd
    expect(treeKey(t, 4, 'ArrowRight')).toEqual({ index: 5, toggle: null }); // to first child
    const collapsed = buildProcessTree(rows, { ...base, collapsed: new Set([20]) });
    expect(treeKey(collapsed, 4, 'ArrowRight')).toEqual({ index: 4, toggle: 20 }); // expand
    expect(treeKey(t, 2, 'End')).toEqual({ index: 8, toggle: null });
    expect(treeKey(t, 8, 'PageUp', 5)).toEqual({ index: 3, toggle: null });
  });
});
