import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CpuSampler, listProcesses, parseStat } from './processes';
import { isNa } from '../../src-shared/pss/details';
import {
  UNPRIVILEGED_ID,
  canDropPrivileges,
  runScriptWithoutCapabilities,
  spawnAsUnprivileged,
  waitForUid,
} from '../testing/privilege';
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

  it.skipIf(!canDropPrivileges())(
    'says why a reader without CAP_SYS_PTRACE cannot inspect another user’s process (EACCES)',
    async () => {
      // The target runs as nobody; the reader is root without capabilities, so it may read its
      // own (root-owned) checkout wherever that lives, but not another uid's fd/ or maps.
      const { child: target, exited } = spawnAsUnprivileged(['sleep', '30']);
      try {
        const pid = target.pid as number;
        await waitForUid(pid, UNPRIVILEGED_ID);
        const r =
          runScriptWithoutCapabilities(`import { listProcesses } from ${JSON.stringify(join(import.meta.dirname, 'processes.ts'))};
        const rows = await listProcesses();
        process.stdout.write(JSON.stringify(rows.filter((r) => r.pid === ${pid} || r.self)));`);
        expect(r.status, r.stderr).toBe(0);
        const rows = JSON.parse(r.stdout) as ProcessRow[];
        const other = rows.find((x) => x.pid === pid) as ProcessRow;
        expect(other.inspectable).toBe(false);
        expect(other.reason).toMatch(/permission denied.*CAP_SYS_PTRACE/);
        expect(other.user).toBe('nobody');
        const self = rows.find((x) => x.self) as ProcessRow;
        expect(self.inspectable).toBe(true);
        expect(self.user).toBe('root');
      } finally {
        target.kill('SIGKILL');
        await exited;
      }
    },
  );

  it('CPU time and handle count come from /proc (a stopped process holds still)', async () => {
    const busy = spawn('sh', ['-c', 'exec 7</dev/null; while :; do :; done'], { stdio: 'ignore' });
    const exited = new Promise((r) => busy.once('exit', r));
    const pid = busy.pid as number;
    const ticks = (): number => {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
    };
    try {
      // Wait until it has used some CPU, then stop it so its numbers hold still.
      while (ticks() < 2) await new Promise((r) => setTimeout(r, 20));
      busy.kill('SIGSTOP');
      while (!/\) T/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')))
        await new Promise((r) => setTimeout(r, 10));
      const row = (await listProcesses()).find((r) => r.pid === pid) as ProcessRow;
      expect(row.cpuTime).toBe(ticks() * 100_000); // ticks of 10 ms in 100-ns units
      expect(row.handles).toBe(readdirSync(`/proc/${pid}/fd`).length);
      expect(isNa(row.cpuPercent)).toBe(true); // one listing: no interval yet
    } finally {
      busy.kill('SIGKILL');
      await exited;
    }
  });

  it('CPU % is the CPU time used between two listings over their interval, of all CPUs', () => {
    const row = (pid: number, cpuTime: number): ProcessRow =>
      ({ pid, startTimeMs: 1000, cpuTime, cpuPercent: { na: '' } }) as unknown as ProcessRow;
    const s = new CpuSampler(2);
    const first = s.apply([row(1, 0), row(2, 50_000_000)], 10_000);
    expect(first.every((r) => isNa(r.cpuPercent))).toBe(true);
    // 1 s later: pid 1 used 0.5 s (25 % of 2 CPUs), pid 2 nothing, pid 3 is new.
    const second = s.apply([row(1, 5_000_000), row(2, 50_000_000), row(3, 0)], 11_000);
    expect(second[0]?.cpuPercent).toBeCloseTo(25, 9);
    expect(second[1]?.cpuPercent).toBe(0);
    expect(second[2]?.cpuPercent).toEqual({ na: 'started since the previous refresh' });
  });
});
