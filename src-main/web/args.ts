/** Command-line arguments of web mode. */
export interface WebArgs {
  port: number;
  host: string;
  allowRemote: boolean;
  /** Stop when standard input closes (so a test harness that dies takes web mode with it). */
  exitWithStdin: boolean;
  /** Serve this built renderer instead of the one next to the app (out/renderer). */
  rendererDir: string | null;
  /** Event bytes all sessions keep in memory before spilling to disk (MiB); null = default. */
  traceMemoryMb: number | null;
  /** A trace file every connecting page opens as its first session (`pss-inspector open`). */
  openTrace: string | null;
}

export function parseWebArgs(argv: readonly string[]): WebArgs | string {
  const args: WebArgs = {
    port: 0,
    host: '127.0.0.1',
    allowRemote: false,
    exitWithStdin: false,
    rendererDir: null,
    traceMemoryMb: null,
    openTrace: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const [flag, inline] = a.includes('=') ? (a.split('=', 2) as [string, string]) : [a, undefined];
    const valueOf = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--port': {
        const v = Number(valueOf());
        if (!Number.isInteger(v) || v < 0 || v > 65535)
          return `--port wants 0..65535 (0 = any free port)`;
        args.port = v;
        break;
      }
      case '--host': {
        const v = valueOf();
        if (!v) return '--host wants an address, e.g. 127.0.0.1';
        args.host = v;
        break;
      }
      case '--renderer-dir': {
        const v = valueOf();
        if (!v) return '--renderer-dir wants the folder of a built renderer';
        args.rendererDir = v;
        break;
      }
      case '--trace-memory-mb': {
        const v = Number(valueOf());
        if (!Number.isInteger(v) || v < 1 || v > 1024 * 1024)
          return '--trace-memory-mb wants a whole number of MiB (at least 1)';
        args.traceMemoryMb = v;
        break;
      }
      case '--open': {
        const v = valueOf();
        if (!v) return '--open wants a trace file';
        args.openTrace = v;
        break;
      }
      case '--allow-remote':
        args.allowRemote = true;
        break;
      case '--exit-with-stdin':
        args.exitWithStdin = true;
        break;
      case '--web':
      case '--no-build':
        break;
      case '--help':
      case '-h':
        return 'usage: node out/main/web.js [--port N] [--host 127.0.0.1] [--allow-remote] [--exit-with-stdin] [--renderer-dir DIR] [--trace-memory-mb N] [--open TRACE_FILE]';
      default:
        // Chromium/Electron switches may reach us when the packaged app runs with --web.
        if (flag.startsWith('--')) break;
        return `unknown argument ${JSON.stringify(a)}`;
    }
  }
  return args;
}
