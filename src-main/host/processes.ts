/**
 * The process picker's table, read from /proc (Linux). One reader per file; a process that
 * vanishes while we read it (ENOENT/ESRCH) is skipped, never an error. Whether we may capture
 * a process is decided the way the capture itself will be: by opening /proc/PID/maps and
 * listing /proc/PID/fd (both need ptrace-read access, not just file modes).
 */
import { open, readFile, readdir } from 'node:fs/promises';
import type { ProcessRow } from '../../src-shared/contract/model';
import { na, type Maybe } from '../../src-shared/pss/details';

/** USER_HZ: the unit of /proc/PID/stat times (100 on every Linux ABI Node supports). */
const CLOCK_TICKS = 100;
const PF_KTHREAD = 0x00200000;
const PAGE_SIZE = 4096;

export interface ProcessTableOptions {
  procRoot?: string;
  passwdFile?: string;
  selfPid?: number;
}

function isGone(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code;
  return code === 'ENOENT' || code === 'ESRCH';
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if (isGone(e)) return null;
    throw e;
  }
}

/** uid → user name from /etc/passwd (missing file → empty map: names fall back to the uid). */
export async function readUserNames(passwdFile = '/etc/passwd'): Promise<Map<number, string>> {
  const names = new Map<number, string>();
  let text: string;
  try {
    text = await readFile(passwdFile, 'utf8');
  } catch {
    return names;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    const uid = Number(f[2]);
    if (f.length >= 3 && f[0] && Number.isInteger(uid) && !names.has(uid)) names.set(uid, f[0]);
  }
  return names;
}

export interface ParsedStat {
  comm: string;
  state: string;
  ppid: number;
  flags: number;
  threads: number;
  startTicks: number;
  vsizeBytes: number;
  rssPages: number;
  /** utime + stime, clock ticks. */
  cpuTicks: number;
}

/** Parses /proc/PID/stat; the command name may hold spaces and parentheses. */
export function parseStat(text: string): ParsedStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state); field n is rest[n - 3].
  const field = (n: number): number => Number(rest[n - 3]);
  const parsed: ParsedStat = {
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: field(4),
    flags: field(9),
    threads: field(20),
    startTicks: field(22),
    vsizeBytes: field(23),
    rssPages: field(24),
    cpuTicks: field(14) + field(15),
  };
  for (const v of [parsed.ppid, parsed.flags, parsed.threads, parsed.startTicks]) {
    if (!Number.isFinite(v)) return null;
  }
  return parsed;
}

async function bootTimeMs(procRoot: string): Promise<number> {
  const text = (await readText(`${procRoot}/stat`)) ?? '';
  const m = /^btime\s+(\d+)/m.exec(text);
  return m ? Number(m[1]) * 1000 : 0;
}

/** Why we may not capture this process (null when we may), and its open handles. */
async function accessProblem(
  dir: string,
): Promise<{ reason: string | null; handles: Maybe<number> }> {
  const denied = (what: string): string =>
    `permission denied reading ${what}: run as the process's owner or root, or grant CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH`;
  try {
    const fh = await open(`${dir}/maps`, 'r');
    await fh.close();
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'EACCES' || code === 'EPERM') {
      const reason = denied('its memory map (/proc/PID/maps)');
      return { reason, handles: na(reason) };
    }
    throw e;
  }
  try {
    // Listing fd/ is the access check the capture makes, and gives the handle count.
    const fds = await readdir(`${dir}/fd`);
    return { reason: null, handles: fds.length };
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'EACCES' || code === 'EPERM') {
      const reason = denied('its handles (/proc/PID/fd)');
      return { reason, handles: na(reason) };
    }
    throw e;
  }
}

async function readOne(
  procRoot: string,
  pid: number,
  users: Map<number, string>,
  bootMs: number,
  selfPid: number,
): Promise<ProcessRow | null> {
  const dir = `${procRoot}/${pid}`;
  try {
    const [statText, statusText, cmdline] = await Promise.all([
      readText(`${dir}/stat`),
      readText(`${dir}/status`),
      readFile(`${dir}/cmdline`).catch((e: unknown) => {
        if (isGone(e)) return null;
        throw e;
      }),
    ]);
    if (statText === null || statusText === null || cmdline === null) return null;
    const stat = parseStat(statText);
    if (!stat) return null;
    const uidMatch = /^Uid:\s+(\d+)/m.exec(statusText);
    const uid = uidMatch ? Number(uidMatch[1]) : -1;
    const nameMatch = /^Name:\s*(.*)$/m.exec(statusText);
    const kernelThread = (stat.flags & PF_KTHREAD) !== 0;
    let reason: string | null = null;
    let handles: Maybe<number>;
    if (kernelThread) {
      reason = 'kernel thread: it has no user address space or handles to capture';
      handles = na('a kernel thread has no handles');
    } else if (stat.state === 'Z') {
      reason = 'zombie: the process has exited and waits for its parent';
      handles = na('a zombie has closed all its handles');
    } else ({ reason, handles } = await accessProblem(dir));
    const row: ProcessRow = {
      pid,
      ppid: stat.ppid,
      name: nameMatch?.[1] ?? stat.comm,
      commandLine: cmdline.toString('utf8').replace(/\0+$/, '').split('\0').join(' '),
      user: users.get(uid) ?? String(uid),
      uid,
      threads: stat.threads,
      rssBytes: Number.isFinite(stat.rssPages) ? stat.rssPages * PAGE_SIZE : 0,
      vsizeBytes: Number.isFinite(stat.vsizeBytes) ? stat.vsizeBytes : 0,
      handles,
      cpuTime: Number.isFinite(stat.cpuTicks) ? stat.cpuTicks * (10_000_000 / CLOCK_TICKS) : 0,
      cpuPercent: na('measured between two listings: shown from the next refresh on'),
      state: stat.state,
      startTimeMs: bootMs + (stat.startTicks * 1000) / CLOCK_TICKS,
      inspectable: reason === null,
      self: pid === selfPid,
    };
    if (reason !== null) row.reason = reason;
    return row;
  } catch (e) {
    if (isGone(e)) return null;
    throw e;
  }
}

/** Every process on the machine, sorted by pid. */
export async function listProcesses(options: ProcessTableOptions = {}): Promise<ProcessRow[]> {
  const procRoot = options.procRoot ?? '/proc';
  const selfPid = options.selfPid ?? process.pid;
  const [names, users, bootMs] = await Promise.all([
    readdir(procRoot),
    readUserNames(options.passwdFile),
    bootTimeMs(procRoot),
  ]);
  const pids = names
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
  const rows: ProcessRow[] = [];
  // Bounded concurrency: a few hundred tiny reads, without opening thousands of files at once.
  const width = 32;
  for (let i = 0; i < pids.length; i += width) {
    const chunk = await Promise.all(
      pids.slice(i, i + width).map((pid) => readOne(procRoot, pid, users, bootMs, selfPid)),
    );
    for (const r of chunk) if (r) rows.push(r);
  }
  return rows;
}

/**
 * CPU % between listings: keeps each process's CPU time from the previous listing (keyed by
 * pid and start time, so a reused pid starts over) and sets cpuPercent from the difference.
 * One per connection, so two windows refreshing at different rates do not shorten each
 * other's interval.
 */
export class CpuSampler {
  private previous = new Map<string, number>();
  private previousAtMs = 0;

  constructor(private readonly cpus: number) {}

  apply(rows: ProcessRow[], nowMs: number): ProcessRow[] {
    const next = new Map<string, number>();
    const elapsed100ns = (nowMs - this.previousAtMs) * 10_000;
    for (const r of rows) {
      const key = `${r.pid}:${r.startTimeMs}`;
      next.set(key, r.cpuTime);
      const before = this.previous.get(key);
      if (before !== undefined && this.previousAtMs > 0 && elapsed100ns > 0) {
        const share = ((r.cpuTime - before) / elapsed100ns / Math.max(1, this.cpus)) * 100;
        r.cpuPercent = Math.max(0, Math.min(100, share));
      } else if (this.previousAtMs > 0) {
        r.cpuPercent = na('started since the previous refresh');
      }
    }
    this.previous = next;
    this.previousAtMs = nowMs;
    return rows;
  }
}
