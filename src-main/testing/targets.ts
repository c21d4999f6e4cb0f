/**
 * Real processes nobody here wrote, started by tests: a python3 with named threads, TCP/UDP/
 * UNIX sockets, a pipe to a child and malloc arenas; a throw-away PostgreSQL cluster run as an
 * unprivileged user. Plus the independent tools the tests compare with (ps, ss, /proc files
 * read directly, readelf). Everything is named with this process's pid so parallel runs do
 * not collide, and lives in a fresh temporary directory (never inside the checkout).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** Polls /proc (not a timed assertion) until every thread of pid sleeps ('S'). */
export async function waitAllSleeping(pid: number, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const states = readdirSync(`/proc/${pid}/task`).map((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    });
    if (states.every((s) => s === 'S')) return;
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`threads of ${pid} did not all go to sleep: ${states.join('')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ---- python3 ------------------------------------------------------------------------------

const PYTHON_TARGET = String.raw`
import ctypes, json, os, socket, subprocess, sys, threading
libc = ctypes.CDLL(None)
ready = threading.Barrier(4)
stop = threading.Event()
def worker(i):
    libc.prctl(15, ("py-worker-%d" % i).encode(), 0, 0, 0)  # PR_SET_NAME
    blocks = [bytearray(64 * 1024) for _ in range(16)]  # malloc in this thread: an arena
    ready.wait()
    stop.wait()
threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(3)]
for t in threads: t.start()
ready.wait()
tcp = socket.socket(); tcp.bind(("127.0.0.1", 0)); tcp.listen()
client = socket.create_connection(tcp.getsockname()); server, _ = tcp.accept()
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(("127.0.0.1", 0))
path = sys.argv[1]
ux = socket.socket(socket.AF_UNIX); ux.bind(path); ux.listen()
uc = socket.socket(socket.AF_UNIX); uc.connect(path); us, _ = ux.accept()
r, w = os.pipe()
child = subprocess.Popen(["sleep", "600"], stdin=r); os.close(r)
big = bytearray(8 * 1024 * 1024)
for i in range(0, len(big), 4096): big[i] = 1
print(json.dumps({"tcp": tcp.getsockname()[1], "udp": udp.getsockname()[1], "unix": path,
  "fds": {"tcp": tcp.fileno(), "client": client.fileno(), "server": server.fileno(),
          "udp": udp.fileno(), "ux": ux.fileno(), "uc": uc.fileno(), "us": us.fileno(),
          "pipe": w}, "child": child.pid}), flush=True)
sys.stdin.read()
child.kill(); child.wait()
`;

export interface PythonTarget {
  pid: number;
  tcpPort: number;
  udpPort: number;
  unixPath: string;
  childPid: number;
  fds: Record<'tcp' | 'client' | 'server' | 'udp' | 'ux' | 'uc' | 'us' | 'pipe', number>;
  /** Writes to its stdin: the main thread wakes, reads and keeps the bytes (CPU and heap grow). */
  poke(bytes: number): void;
  stop(): Promise<void>;
}

export async function startPythonTarget(): Promise<PythonTarget> {
  const dir = mkdtempSync(join(tmpdir(), `pss-py-${process.pid}-`));
  const unixPath = join(dir, 'target.sock');
  const child: ChildProcess = spawn('python3', ['-c', PYTHON_TARGET, unixPath], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    rl.once('line', (l) => {
      rl.close();
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`python3 exited early (${code})`)));
  });
  const j = JSON.parse(line) as {
    tcp: number;
    udp: number;
    unix: string;
    fds: PythonTarget['fds'];
    child: number;
  };
  return {
    pid: child.pid as number,
    tcpPort: j.tcp,
    udpPort: j.udp,
    unixPath: j.unix,
    childPid: j.child,
    fds: j.fds,
    poke(bytes: number) {
      child.stdin?.write(Buffer.alloc(bytes, 0x61));
    },
    async stop() {
      child.stdin?.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- PostgreSQL ---------------------------------------------------------------------------

/** The newest /usr/lib/postgresql/N/bin, or null when PostgreSQL is not installed. */
export function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PostgresTarget {
  /** The postmaster. */
  pid: number;
  /** Its children (checkpointer, background writer, …) at start. */
  children: number[];
  port: number;
  socketDir: string;
  stop(): Promise<void>;
}

/**
 * initdb + pg_ctl start of a throw-away cluster in a new temporary directory, as a new
 * unprivileged user (PostgreSQL refuses root) when we are root, else as ourselves.
 */
export async function startPostgres(bin: string): Promise<PostgresTarget> {
  const dir = mkdtempSync(join(tmpdir(), `pss-pg-${process.pid}-`));
  let uid = process.getuid?.() ?? 0;
  let gid = process.getgid?.() ?? 0;
  let user: string | null = null;
  const cleanup = (): void => {
    rmSync(dir, { recursive: true, force: true });
    if (user) spawnSync('userdel', [user], { stdio: 'ignore' });
  };
  try {
    if (uid === 0) {
      user = `pss_pg_${process.pid}`;
      execFileSync('useradd', ['-M', '-s', '/usr/sbin/nologin', user], { stdio: 'ignore' });
      uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
      gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
      chownSync(dir, uid, gid);
    }
    const data = join(dir, 'data');
    const env = { PATH: `${bin}:/usr/bin:/bin`, HOME: dir, LANG: 'C', LC_ALL: 'C' };
    const run = (cmd: string, args: string[]): void => {
      const r = spawnSync(join(bin, cmd), args, { uid, gid, env, cwd: dir, encoding: 'utf8' });
      if (r.status !== 0)
        throw new Error(`${cmd} failed (${r.status}): ${r.stderr || r.stdout || r.error}`);
    };
    run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    const port = await freePort();
    run('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-w',
      '-t',
      '120',
      '-o',
      // No autovacuum and no logical-replication launcher: the postmaster forks nothing and
      // touches no memory once started, so the cluster holds still while it is captured and
      // compared (without them it starts a background worker after start-up, and periodic
      // autovacuum workers).
      `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c shared_buffers=16MB -c autovacuum=off -c max_logical_replication_workers=0`,
      'start',
    ]);
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const children = readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .filter((p) => {
        try {
          return parentOf(p) === pid;
        } catch {
          return false;
        }
      });
    return {
      pid,
      children,
      port,
      socketDir: dir,
      async stop() {
        try {
          run('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '120', 'stop']);
        } finally {
          cleanup();
        }
      },
    };
  } catch (e) {
    cleanup();
    throw e;
  }
}

// ---- independent tools --------------------------------------------------------------------

/** `ps -L -o tid=,comm=,stat= -p PID` → tid → { comm, stat }. */
export function psThreads(pid: number): Map<number, { comm: string; stat: string }> {
  const out = execFileSync('ps', ['-L', '-o', 'tid=,comm=,stat=', '-p', String(pid)], {
    encoding: 'utf8',
  });
  const m = new Map<number, { comm: string; stat: string }>();
  for (const line of out.split('\n')) {
    const f = /^\s*(\d+)\s+(.*\S)\s+(\S+)\s*$/.exec(line);
    if (f) m.set(Number(f[1]), { comm: f[2] as string, stat: f[3] as string });
  }
  return m;
}

export interface SsRow {
  netid: string;
  state: string;
  local: string;
  peer: string;
  fd: number;
}

/**
 * `ss ARGS` rows that belong to pid (users:(("name",pid=N,fd=M))), one per fd. With -x the
 * local/peer columns are "path inode" / "path-or-* inode".
 */
export function ssRows(args: string[], pid: number): SsRow[] {
  const out = execFileSync('ss', ['-H', ...args], { encoding: 'utf8' });
  const rows: SsRow[] = [];
  for (const line of out.split('\n')) {
    const users = /users:\((.*)\)\s*$/.exec(line);
    if (!users) continue;
    const cols = line.slice(0, users.index).trim().split(/\s+/);
    const hasNetid = args.join('').includes('x'); // -x prints a Netid column first
    const [netid, state, , , ...rest] = hasNetid ? cols : ['', ...cols];
    for (const m of (users[1] as string).matchAll(/pid=(\d+),fd=(\d+)/g)) {
      if (Number(m[1]) !== pid) continue;
      rows.push({
        netid: netid as string,
        state: state as string,
        local: rest.slice(0, rest.length / 2).join(' '),
        peer: rest.slice(rest.length / 2).join(' '),
        fd: Number(m[2]),
      });
    }
  }
  return rows;
}

export interface SmapsVma {
  start: bigint;
  end: bigint;
  fields: Record<string, number>;
}

/** /proc/PID/smaps (or smaps_rollup) read and parsed here, fields in bytes. */
export function readSmaps(pid: number, file = 'smaps'): SmapsVma[] {
  const out: SmapsVma[] = [];
  let cur: SmapsVma | null = null;
  let prevEnd = 0n;
  for (const line of readFileSync(`/proc/${pid}/${file}`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (head) {
      const start = BigInt(`0x${head[1]}`);
      const end = BigInt(`0x${head[2]}`);
      if (start < prevEnd) {
        cur = null; // a repeat across a generator page
        continue;
      }
      prevEnd = end;
      cur = { start, end, fields: {} };
      out.push(cur);
      continue;
    }
    const f = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (f && cur) cur.fields[f[1] as string] = Number(f[2]) * 1024;
  }
  return out;
}

/** Files mapped executable in /proc/PID/maps whose first bytes are an ELF header. */
export function elfImagesInMaps(pid: number): Set<string> {
  const images = new Set<string>();
  for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    const m = /^\S+ ..x. \S+ \S+ \d+\s+(\/.*)$/.exec(line);
    if (!m || (m[1] as string).endsWith(' (deleted)')) continue;
    try {
      const head = readFileSync(m[1] as string).subarray(0, 4);
      if (head.toString('latin1') === '\x7fELF') images.add(m[1] as string);
    } catch {
      // unreadable: not comparable here
    }
  }
  return images;
}

/** `readelf -n FILE` → the GNU build-id, or null. */
export function readelfBuildId(file: string): string | null {
  const r = spawnSync('readelf', ['-n', '--wide', file], { encoding: 'utf8' });
  return /Build ID: ([0-9a-f]+)/.exec(r.stdout ?? '')?.[1] ?? null;
}

/** readlink of /proc/PID/fd/FD, or null. */
export function fdLink(pid: number, fd: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return null;
  }
}

/** Field 4 (ppid) of /proc/PID/stat. */
export function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}
