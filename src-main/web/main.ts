/**
 * `node out/main/web.js [--port N] [--host ADDR] [--allow-remote] [--open TRACE]` (npm run web): the session
 * host under plain Node, serving the built renderer to a browser. Prints one machine-readable
 * line, `PSS_INSPECTOR_URL=http://127.0.0.1:PORT/?token=…`, for people, tests and scripts.
 * It ends on SIGINT/SIGTERM/SIGHUP, when its parent process dies, and (--exit-with-stdin) when
 * its stdin closes.
 */
import { resolve } from 'node:path';
import { createWalkService } from '../walk/client';
import {
  SessionHost,
  appVersion,
  installProcessGuards,
  libraryDescription,
  rendererDir,
} from '../host';
import { WebServerConfigError, startWebServer } from './server';
import { parseWebArgs } from './args';

/** Runs web mode until a signal, its parent going, or (--exit-with-stdin) its stdin closing; used by this entry and by the Electron entry's --web. */
export async function runWebMode(argv: readonly string[]): Promise<void> {
  const args = parseWebArgs(argv);
  if (typeof args === 'string') {
    console.error(args);
    process.exit(args.startsWith('usage') ? 0 : 2);
  }
  installProcessGuards((m, e) => console.error(`[pss-inspector] ${m}:`, e));
  const walk = createWalkService();
  const host = new SessionHost({
    walk,
    transport: 'web',
    library: libraryDescription(),
    version: appVersion(),
    userAllocatorLibraries: !args.allowRemote,
    ...(args.openTrace !== null ? { openTrace: resolve(args.openTrace) } : {}),
    ...(args.traceMemoryMb !== null
      ? { traceStore: { memoryBudgetBytes: args.traceMemoryMb * 1024 * 1024 } }
      : {}),
  });
  let server;
  try {
    server = await startWebServer({
      host,
      rendererDir: args.rendererDir ?? rendererDir(),
      port: args.port,
      bindHost: args.host,
      allowRemote: args.allowRemote,
    });
  } catch (e) {
    console.error(`[pss-inspector] ${(e as Error).message}`);
    // Set before anything is awaited: with nothing else left to run, Node may exit while the
    // walk service shuts down, and must exit with this code.
    process.exitCode = e instanceof WebServerConfigError ? 2 : 1;
    await walk.close();
    process.exit(process.exitCode);
  }
  console.log(`PSS_INSPECTOR_URL=${server.url}`);
  console.log(`[pss-inspector] web mode: open the URL above in a browser (Ctrl+C stops).`);
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await server.close();
    await host.close();
    await walk.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  process.on('SIGHUP', () => void stop());
  // The server ends with whatever started it: when the parent goes, this process is re-parented
  // (its ppid changes), so a killed `npm run web` or test runner leaves no server behind.
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid !== parent) void stop();
  }, 500);
  watch.unref();
  if (args.exitWithStdin) {
    process.stdin.on('end', () => void stop());
    process.stdin.on('close', () => void stop());
    process.stdin.resume();
  }
}

const isEntry = process.argv[1] !== undefined && /(^|[\\/])web\.(js|ts)$/.test(process.argv[1]);
if (isEntry) void runWebMode(process.argv.slice(2));
