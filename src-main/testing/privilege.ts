/**
 * "Permission denied" for tests that run as root, without depending on where the checkout lives.
 *
 * Earlier tests ran the *reader* as an unprivileged user; that user cannot even load the test's
 * own code when the checkout sits under a directory only root may enter (a clone in root's home,
 * or in a `mktemp -d` folder, mode 700). So it is turned around: the *target* runs as an
 * unprivileged uid (it needs nothing of the checkout), and the reader runs as uid 0 with every
 * capability dropped. That reader still owns (and can read) a root-owned checkout, but it lacks
 * CAP_SYS_PTRACE, so another uid's /proc/PID/fd and maps are closed to it — the same check that
 * stops any user reading another user's processes.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';

/** The uid/gid targets run as: `nobody` exists on every Debian system; no useradd needed. */
export const UNPRIVILEGED_ID = 65534;

const REPO_ROOT = join(import.meta.dirname, '..', '..');

export const canDropPrivileges = (): boolean =>
  process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;

/** Starts `argv` as uid/gid 65534 (stdio ignored). The caller kills and awaits it. */
export function spawnAsUnprivileged(argv: readonly string[]): {
  child: ChildProcess;
  exited: Promise<unknown>;
} {
  const child = spawn(
    'setpriv',
    [
      '--reuid',
      String(UNPRIVILEGED_ID),
      '--regid',
      String(UNPRIVILEGED_ID),
      '--clear-groups',
      '--',
      ...argv,
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise((r) => child.once('exit', r));
  return { child, exited };
}

/**
 * Runs an ES-module script (TypeScript allowed, through tsx) as uid 0 with no capabilities, from
 * the repository root. Returns what spawnSync returns (stdout/stderr as text).
 */
export function runScriptWithoutCapabilities(script: string): SpawnSyncReturns<string> {
  return spawnSync(
    'setpriv',
    [
      '--bounding-set',
      '-all',
      '--inh-caps',
      '-all',
      '--ambient-caps',
      '-all',
      '--',
      process.execPath,
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
    ],
    { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 },
  );
}

/** Waits until /proc/PID/status reports the given uid (setpriv has switched the target). */
export async function waitForUid(pid: number, uid: number): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  for (;;) {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    if (status === '') throw new Error(`process ${pid} exited before it ran as uid ${uid}`);
    const m = /^Uid:\s+(\d+)/m.exec(status);
    if (m && Number(m[1]) === uid && !/^Name:\s+setpriv$/m.test(status)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}
