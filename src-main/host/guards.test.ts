/**
 * The last line of defence, in a real Node process: with the guards installed, an exception
 * thrown from a timer and a promise rejected with no handler are logged and the process keeps
 * running; without them, Node ends the process (the control shows the test can fail).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const GUARDS = join(import.meta.dirname, 'guards.ts');
const dir = mkdtempSync(join(tmpdir(), 'pss-guards-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runScript(install: boolean) {
  const file = join(dir, `child-${install ? 'guarded' : 'bare'}.ts`);
  writeFileSync(
    file,
    [
      `import { installProcessGuards } from ${JSON.stringify(GUARDS)};`,
      install
        ? 'installProcessGuards((m, e) => console.error(`LOGGED ${m}: ${(e as Error).message}`));'
        : '',
      "setTimeout(() => { throw new Error('thrown from a timer'); }, 10);",
      "setTimeout(() => { void Promise.reject(new Error('rejected, no handler')); }, 30);",
      "setTimeout(() => { console.log('still alive'); }, 150);",
    ].join('\n'),
  );
  return spawnSync(process.execPath, ['--import', 'tsx', file], {
    cwd: join(import.meta.dirname, '..', '..'),
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('installProcessGuards', () => {
  it('logs an uncaught exception and an unhandled rejection, and the process keeps running', () => {
    const r = runScript(true);
    expect(r.stderr).toContain('LOGGED uncaught exception (still serving): thrown from a timer');
    expect(r.stderr).toContain(
      'LOGGED unhandled promise rejection (still serving): rejected, no handler',
    );
    expect(r.stdout).toContain('still alive');
    expect(r.status).toBe(0);
  });

  it('without them Node ends the process at the first one (the control)', () => {
    const r = runScript(false);
    expect(r.stdout).not.toContain('still alive');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('thrown from a timer');
  });
});
