/**
 * Starts libpss's fixture program (libpss/build/pss-fixture), which makes exactly the threads,
 * file descriptors and mappings asked for, prints one JSON line of ground truth, then READY,
 * and waits until its stdin closes. Tests and benchmarks compare walks against that truth.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const FIXTURE_PATH = join(import.meta.dirname, '..', '..', 'libpss', 'build', 'pss-fixture');

export interface FixtureSpec {
  threads?: number;
  eventfds?: number;
  semaphores?: number;
  pipes?: number;
  sockets?: number;
  memfds?: number;
  files?: number;
  dirs?: number;
  timerfds?: number;
  epolls?: number;
  pidfds?: number;
  maps?: number;
  exitAfterMs?: number;
  dups?: number;
  signalfds?: number;
  inotifys?: number;
  devices?: number;
  elfmaps?: number;
  longpaths?: number;
  bssMerge?: number;
  churn?: number;
  churnClose?: number;
  execEveryMs?: number;
}

/** 200 threads, 2,000 fds of mixed kinds, 5,000 mappings (the "large fixture"). */
export const LARGE_FIXTURE: FixtureSpec = {
  threads: 200,
  // Every count is a number of fds (pipes and socket pairs count both ends): 2,000 in all.
  eventfds: 250,
  semaphores: 50,
  pipes: 400,
  sockets: 300,
  memfds: 200,
  files: 450,
  dirs: 100,
  timerfds: 100,
  epolls: 50,
  pidfds: 50,
  signalfds: 25,
  inotifys: 25,
  maps: 5000,
};

/** The fixture's ground truth (its JSON line), as libpss/README.md documents it. */
export interface FixtureFd {
  fd: number;
  /** eventfd, pipe, socket, memfd, file, dir, timerfd, epoll, pidfd, … or 'inherited'. */
  kind: string;
  /** Expected PSS_OBJECT_TYPE; null for fds the fixture inherited. */
  object_type: number | null;
  type_name: string | null;
  /** readlink text of /proc/PID/fd/N. */
  name: string;
  granted_access: number | null;
  attributes: number | null;
  handle_count: number | null;
}
export interface FixtureMap {
  start: string;
  size: number;
  prot: string;
  file: string | null;
  offset: number;
  type: number;
  state: number;
  protect: number;
}
export interface FixtureTruth {
  pid: number;
  tids: number[];
  tmpdir: string;
  fds: FixtureFd[];
  maps: FixtureMap[];
}

export interface RunningFixture {
  pid: number;
  truth: FixtureTruth;
  child: ChildProcess;
  /** Closes its stdin and waits for it to exit (reaps it). */
  stop(): Promise<void>;
  /** SIGKILLs it and reaps it. */
  kill(): Promise<void>;
}

function toArgs(spec: FixtureSpec): string[] {
  const args: string[] = [];
  for (const [k, v] of Object.entries(spec)) {
    if (v === undefined) continue;
    args.push(`--${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`, String(v));
  }
  return args;
}

export async function startFixture(
  spec: FixtureSpec = {},
  options: { readyTimeoutMs?: number; path?: string } = {},
): Promise<RunningFixture> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
  const path = options.path ?? FIXTURE_PATH;
  const child = spawn(path, toArgs(spec), { stdio: ['pipe', 'pipe', 'inherit'] });
  // A program that could not be started emits 'error' and never 'exit'.
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  let truth: FixtureTruth | null = null;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`fixture did not print READY within ${readyTimeoutMs / 1000} s`)),
        readyTimeoutMs,
      );
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`cannot start ${path}: ${e.message} (run "npm run build:native")`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`fixture exited (code ${code}) before READY`));
      });
      lines.on('line', (line) => {
        if (line.trim() === 'READY') {
          clearTimeout(timer);
          resolve();
        } else if (line.startsWith('{')) {
          truth = JSON.parse(line) as FixtureTruth;
        }
      });
    });
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    throw e;
  }
  if (!truth) {
    child.kill('SIGKILL');
    await exited;
    throw new Error('fixture printed READY without its JSON ground truth');
  }
  lines.close();
  const t = truth as FixtureTruth;
  return {
    pid: child.pid as number,
    truth: t,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
