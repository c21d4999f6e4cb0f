/**
 * What `npm start` / `npm run web` leave on the terminal and on the machine: a clean start
 * (no raw stack trace when Electron cannot be fetched), and no server left running when what
 * started it dies — killed outright (SIGKILL, no chance to clean up) or its stdin closed.
 * Needs the build (out/main/web.js), like the other e2e tests.
 */
import { expect, test } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT, WEB_ENTRY, startWebMode } from './support/web-mode';

const START = join(ROOT, 'scripts', 'start.mjs');

/** Pids whose parent is `ppid` (Linux /proc). */
function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === ppid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Alive and not a zombie. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Starts `node -e` as a stand-in parent (like npm) that spawns `args` and then just waits;
 * resolves once the grandchild printed its URL, with everything printed so far.
 */
async function underParent(
  args: string[],
): Promise<{ parent: ChildProcess; lines: string[]; done: Promise<void> }> {
  const code = `require('node:child_process').spawn(process.execPath, ${JSON.stringify(args)}, { stdio: ['ignore', 'inherit', 'inherit'], cwd: ${JSON.stringify(ROOT)} }); setInterval(() => {}, 1 << 30);`;
  const parent = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  const done = new Promise<void>((r) => parent.once('exit', () => r()));
  const lines: string[] = [];
  for (const s of [parent.stdout, parent.stderr])
    createInterface({ input: s as NodeJS.ReadableStream }).on('line', (l) => lines.push(l));
  await expect
    .poll(() => lines.some((l) => l.startsWith('PSS_INSPECTOR_URL=')), {
      timeout: 60_000,
      message: 'the started process prints its URL',
    })
    .toBe(true);
  return { parent, lines, done };
}

/** Every pid below `pid`. */
function descendants(pid: number): number[] {
  const kids = childrenOf(pid);
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

test('npm start without an Electron binary: a plain message, no stack trace, then web mode', async () => {
  test.skip(
    existsSync(join(ROOT, 'node_modules', 'electron', 'dist')),
    'the Electron binary is installed here, so npm start launches it instead',
  );
  test.setTimeout(180_000);
  const { parent, lines, done } = await underParent([START, '--no-build', '--port', '0']);
  const below = descendants(parent.pid as number);
  parent.kill('SIGKILL');
  await done;
  const text = lines.join('\n');
  expect(text).toContain('Electron could not be fetched');
  expect(text).toContain('Starting web mode instead');
  expect(text).not.toMatch(/TypeError|^\s+at /m);
  // And with its parent killed, start.mjs and the server it started end too.
  expect(below.length).toBeGreaterThanOrEqual(2);
  await expect.poll(() => below.filter(running), { timeout: 30_000 }).toEqual([]);
});

test('npm run web: killing the parent (SIGKILL) ends the script and the server', async () => {
  test.setTimeout(120_000);
  const { parent, done } = await underParent([START, '--web', '--no-build', '--port', '0']);
  const below = descendants(parent.pid as number);
  expect(below.length).toBeGreaterThanOrEqual(2); // start.mjs and web.js
  parent.kill('SIGKILL');
  await done;
  await expect.poll(() => below.filter(running), { timeout: 30_000 }).toEqual([]);
});

test('web mode alone: the server ends when its parent dies', async () => {
  test.setTimeout(120_000);
  const { parent, done } = await underParent([WEB_ENTRY, '--port', '0']);
  const server = childrenOf(parent.pid as number);
  expect(server).toHaveLength(1);
  parent.kill('SIGKILL');
  await done;
  await expect.poll(() => server.filter(running), { timeout: 30_000 }).toEqual([]);
});

test('web mode with --exit-with-stdin: the server ends when its stdin closes', async () => {
  const web = await startWebMode();
  const exited = new Promise<number | null>((r) => web.child.once('exit', (code) => r(code)));
  web.child.stdin?.end();
  expect(await exited).toBe(0);
  await web.stop();
});
