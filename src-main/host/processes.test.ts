import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listProcesses, parseStat } from './processes';
import type { ProcessRow } from '../../src-shared/contract/model';

describe('process table', () => {
  it('parses stat lines whose command holds spaces and parentheses', () => {
    const s = parseStat(
      '123 (a (b) c) S 1 123 123 0 -1 4194560 0 0 0 0 5 6 0 0 20 0 3 0 777 1000 25 18446744073709551615',
    );
    expect(s).toMatchObject({
      comm: 'a (b) c',
      state: 'S',
      ppid: 1,
      threads: 3,
      startTicks: 777,
      vsizeBytes: 1000,
      rssPages: 25,
    });
    expect(parseStat('garbage')).toBeNull();
  });

  it('lists every process with owner, threads and memory, marks itself and kernel threads', async () => {
    const rows = await listProcesses();
    const self = rows.find((r) => r.pid === process.pid) as ProcessRow;
    expect(self).toBeDefined();
    expect(self.self).toBe(true);
    expect(self.inspectable).toBe(true);
    expect(self.threads).toBeGreaterThanOrEqual(1);
    expect(self.rssBytes).toBeGreaterThan(0);
    expect(self.commandLine).toContain('node');
    expect(self.user).toBe(spawnSync('id', ['-un']).stdout.toString().trim());
    expect(Math.abs(self.startTimeMs - (Date.now() - process.uptime() * 1000))).toBeLessThan(5000);
    expect(rows.filter((r) => r.self)).toHaveLength(1);
    const kthreadd = rows.find((r) => r.pid === 2 && r.name === 'kthreadd');
    if (kthreadd) {
      expect(kthreadd.inspectable).toBe(false);
      expect(kthreadd.reason).toMatch(/kernel thread/);
    }
  });

  it.skipIf(process.getuid?.() !== 0)(
    'says why another user cannot inspect root processes (EACCES)',
    () => {
      // Run the reader as `nobody`: root-owned processes are then not readable.
      const script = `import { listProcesses } from ${JSON.stringify(join(import.meta.dirname, 'processes.ts'))};
      const rows = await listProcesses();
      process.stdout.write(JSON.stringify(rows.filter((r) => r.pid === ${process.pid} || r.self)));`;
      const r = spawnSync(
        'setpriv',
        [
          '--reuid=65534',
          '--regid=65534',
          '--clear-groups',
          process.execPath,
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          script,
        ],
        {
          cwd: join(import.meta.dirname, '..', '..'),
          encoding: 'utf8',
          timeout: 30_000,
        },
      );
      expect(r.status, r.stderr).toBe(0);
      const rows = JSON.parse(r.stdout) as ProcessRow[];
      const root = rows.find((x) => x.pid === process.pid) as ProcessRow;
      expect(root.inspectable).toBe(false);
      expect(root.reason).toMatch(/permission denied.*CAP_SYS_PTRACE/);
      const self = rows.find((x) => x.self) as ProcessRow;
      expect(self.inspectable).toBe(true);
      expect(self.user).toBe('nobody');
    },
  );
});
