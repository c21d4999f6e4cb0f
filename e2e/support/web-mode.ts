/**
 * Starts web mode as a user would (`node out/main/web.js --port 0`), reads its
 * PSS_INSPECTOR_URL line, and stops (and reaps) it afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = join(import.meta.dirname, '..', '..');
export const WEB_ENTRY = join(ROOT, 'out', 'main', 'web.js');

export interface WebMode {
  url: string;
  origin: string;
  token: string;
  child: ChildProcess;
  /** Everything it printed (for failure messages). */
  output: string[];
  stop(): Promise<void>;
}

export async function startWebMode(args: string[] = []): Promise<WebMode> {
  if (!existsSync(WEB_ENTRY)) {
    throw new Error(
      `${WEB_ENTRY} is missing: run "npm run build" (electron-vite build) before the e2e tests`,
    );
  }
  // --exit-with-stdin: if this process dies without stopping it, web mode goes too.
  const child = spawn(process.execPath, [WEB_ENTRY, '--port', '0', '--exit-with-stdin', ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const output: string[] = [];
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (l) =>
    output.push(l),
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`web mode printed no URL within 20 s:\n${output.join('\n')}`)),
      20_000,
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new Error(`web mode exited (code ${code}) before printing its URL:\n${output.join('\n')}`),
      );
    });
    lines.on('line', (line) => {
      output.push(line);
      const m = /^PSS_INSPECTOR_URL=(\S+)$/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
  }).catch(async (e: unknown) => {
    child.kill('SIGKILL');
    await exited;
    throw e;
  });
  const u = new URL(url);
  return {
    url,
    origin: u.origin,
    token: u.searchParams.get('token') ?? '',
    child,
    output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
