/**
 * `pss-inspector`: the app's capture, walk and trace tools without a window. Built on the same
 * walk service, /proc reader, error mapping and trace code as the app; no Electron needed.
 * Exit codes (./exit-codes.ts, docs/cli.md) are stable for scripts; errors are one line on
 * stderr with the Win32 code and the app's hint.
 */
import { COMMANDS, type CliIo } from './commands';
import { parseArgs } from './args';
import { CliError, Exit, errorLine, usage, type ExitCode } from './exit-codes';
import { table } from './text';

const VERSION_TEXT = (): string => {
  try {
    return process.env['npm_package_version'] ?? '';
  } catch {
    return '';
  }
};

function mainHelp(): string {
  return (
    'usage: pss-inspector <command> [options]\n\n' +
    table(
      ['COMMAND', 'WHAT IT DOES'],
      Object.entries(COMMANDS).map(([name, c]) => [name, c.summary]),
    ).replace(/^COMMAND.*\n/, '') +
    "\nRun `pss-inspector <command> --help` for a command's options.\n" +
    'Exit codes: 0 ok, 1 unexpected failure, 2 usage, 3 no such process, 4 access denied,\n' +
    '5 file error, 6 not a trace / corrupt, 7 trace damaged or unfinished (prefix used),\n' +
    '8 walk session failed, 9 process exited during capture, 130 interrupted.\n'
  );
}

function commandHelp(name: string): string {
  const c = COMMANDS[name];
  if (!c) return mainHelp();
  const opts = Object.entries(c.options).map(([o, s]) => [
    `--${o}${s.value ? ` ${s.arg ?? 'VALUE'}` : ''}`,
    s.help,
  ]);
  return `usage: ${c.usage}\n\n${c.summary}\n\n${table(['OPTION', 'MEANING'], [...opts, ['--help', 'this text']]).replace(/^OPTION.*\n/, '')}`;
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  try {
    const [name, ...rest] = argv;
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      const topic = name === 'help' ? rest[0] : undefined;
      io.out(topic ? commandHelp(topic) : mainHelp());
      return name === undefined ? Exit.USAGE : Exit.OK;
    }
    if (name === '--version') {
      io.out(`pss-inspector ${VERSION_TEXT() || 'unknown version'}\n`);
      return Exit.OK;
    }
    const cmd = COMMANDS[name];
    if (!cmd) throw usage(`unknown command ${JSON.stringify(name)}`);
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(commandHelp(name));
      return Exit.OK;
    }
    return await cmd.run(parseArgs(rest, cmd.options), io);
  } catch (e) {
    if (e instanceof CliError) {
      io.err(errorLine(e) + '\n');
      return e.exitCode;
    }
    io.err(
      errorLine(
        new CliError(
          Exit.FAILURE,
          (e as Error)?.message ?? String(e),
          'This is unexpected; please report it.',
        ),
      ) + '\n',
    );
    return Exit.FAILURE;
  }
}

/** The process-level entry: real stdio, signals, and the exit code. */
export async function cliMain(argv: readonly string[]): Promise<never> {
  const io: CliIo = {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    errIsTTY: process.stderr.isTTY === true,
    onInterrupt(fn) {
      const h = (): void => fn();
      process.on('SIGINT', h);
      process.on('SIGTERM', h);
      return () => {
        process.off('SIGINT', h);
        process.off('SIGTERM', h);
      };
    },
  };
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    // `pss-inspector export … | head` closes the pipe early: that is not a failure.
    if (e.code === 'EPIPE') process.exit(Exit.OK);
  });
  // The walk worker is unref'd (it must not keep the app alive on its own); here nothing else
  // would keep the event loop alive while a command awaits it.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const code = await runCli(argv, io);
  clearInterval(keepAlive);
  // Let stdout drain before exiting (large exports to a pipe).
  await new Promise<void>((r) =>
    process.stdout.writableNeedDrain ? process.stdout.once('drain', () => r()) : r(),
  );
  process.exit(code);
}
