/**
 * Exit codes of `pss-inspector`, stable for scripts (documented in docs/cli.md), and the one-line
 * error every command prints on failure.
 */
import type { ErrorReply } from '../../src-shared/contract/model';
import { Win32Error } from '../../src-shared/pss/constants';

export const Exit = {
  OK: 0,
  /** Something unexpected (a bug): the message says what. */
  FAILURE: 1,
  /** Bad command line: unknown command or option, missing or malformed argument. */
  USAGE: 2,
  /** No such process (a bad pid, or it exited before it could be opened). */
  NO_PROCESS: 3,
  /** The process may not be read (permissions, ptrace). */
  ACCESS_DENIED: 4,
  /** A file could not be read or written (missing, permissions, disk full). */
  FILE: 5,
  /** Not a trace file, or damaged before anything could be recovered. */
  CORRUPT: 6,
  /** A trace that is damaged or unfinished: what precedes the damage was used, and said so. */
  PARTIAL: 7,
  /** The walk session failed (an API error, an allocator failure with the stop policy). */
  SESSION_FAILED: 8,
  /** The process exited during the capture. */
  PROCESS_EXITED: 9,
  /** Interrupted (SIGINT / SIGTERM): the trace file holds everything recorded so far. */
  INTERRUPTED: 130,
} as const;
export type ExitCode = (typeof Exit)[keyof typeof Exit];

/** A failure with its exit code and the line to print. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly hint = '',
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usage = (message: string): CliError =>
  new CliError(Exit.USAGE, message, 'Run with --help for the usage.');

/** The exit code for an error the host returned. */
export function exitCodeOf(
  r: ErrorReply,
  context: 'capture' | 'session' | 'file' = 'capture',
): ExitCode {
  if (r.kind === 'pss' && r.code !== null) {
    switch (r.code) {
      case Win32Error.INVALID_PARAMETER:
        // What OpenProcess answers for a pid that does not exist (also when a session opens it).
        return context === 'file' ? Exit.FAILURE : Exit.NO_PROCESS;
      case Win32Error.ACCESS_DENIED:
        return Exit.ACCESS_DENIED;
      case Win32Error.PROCESS_ABORTED:
        return Exit.PROCESS_EXITED;
      default:
        return context === 'capture' ? Exit.FAILURE : Exit.SESSION_FAILED;
    }
  }
  if (r.kind === 'io') return Exit.FILE;
  if (r.kind === 'validation') return context === 'file' ? Exit.CORRUPT : Exit.USAGE;
  if (r.kind === 'internal') return Exit.FAILURE;
  return context === 'session' ? Exit.SESSION_FAILED : Exit.FAILURE;
}

export function fromReply(
  r: ErrorReply,
  context: 'capture' | 'session' | 'file' = 'capture',
): CliError {
  const code =
    r.code !== null && !(r.codeName && r.message.includes(r.codeName))
      ? ` (Win32 ${r.code}${r.codeName ? ` ${r.codeName}` : ''})`
      : '';
  return new CliError(exitCodeOf(r, context), `${r.message}${code}`, r.hint);
}

/** The one line printed on stderr: "pss-inspector: error: … — hint". */
export function errorLine(e: CliError): string {
  const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ').trim();
  return `pss-inspector: error: ${oneLine(e.message)}${e.hint ? ` — ${oneLine(e.hint)}` : ''}`;
}
