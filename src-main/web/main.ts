/**
 * `node out/main/web.js [--port N] [--host ADDR] [--allow-remote]` (npm run web): the session
 * host under plain Node, serving the built renderer to a browser. Prints one machine-readable
 * line, `PSS_INSPECTOR_URL=http://127.0.0.1:PORT/?token=…`, for people, tests and scripts.
 * It ends on SIGINT/SIGTERM/SIGHUP, when its parent process dies, and (--exit-with-stdin) when
 * its stdin closes.
 */
import { createWalkService } from '../walk/client';
import { SessionHost, appVersion, libraryDescription, rendererDir } from '../host';
import { WebServerConfigError, startWebServer } from './server';
import { parseWebArgs } from './args';

/** Runs web mode until a signal, its parent going, or (--exit-with-stdin) its stdin closing; used by this entry and by the Electron entry's --web. */
export async function runWebMode(argv: readonly string[]): Promise<void> {
  const args = parseWebArgs(argv);
  if (typeof args === 'string') {
    console.error(args);
    process.exit(args.startsWith('usage') ? 0 : 2);
  }
  const walk = createWalkService();
  const host = new SessionHost({
    walk,
    transport: 'web',
    library: libraryDescription(),
    version: appVersion(),
  });
  let server;
  try {
    server = await startWebServer({
      host,
      rendererDir: rendererDir(),
      port: args.port,
      bindHost: args.host,
      allowRemote: args.allowRemote,
    });
  } catch (e) {
    console.error(`[pss-inspector] ${(e as Error).message}`);
    await walk.close();
    process.exit(e instanceof WebServerConfigError ? 2 : 1);
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
