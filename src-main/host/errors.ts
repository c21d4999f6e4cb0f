/**
 * Everything that can go wrong while the host serves a request becomes an ErrorReply (data, never
 * a thrown class across IPC) with what the user can do about it.
 */
import { PssError, PssMisuseError } from '../pss/errors';
import { hintFor as walkPssHint } from '../walk/errors';
import { Win32Error, win32ErrorName } from '../../src-shared/pss/constants';
import type { ErrorKind, ErrorReply } from '../../src-shared/contract/model';

/** An error the host raises itself, already classified. */
export class HostError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = 'HostError';
  }
}

export const notFound = (what: string, id: string): HostError =>
  new HostError(
    'not-found',
    `${what} ${JSON.stringify(id)} does not exist on this connection`,
    `It was freed or closed, or belongs to another window; refresh the list.`,
  );

/** What the request was doing, for hints that depend on it. */
export type ErrorContext = 'capture' | 'session' | 'trace' | 'other';

function pssHint(code: number, _context: ErrorContext): string {
  switch (code) {
    case Win32Error.ACCESS_DENIED:
      return "Run the inspector as the process's owner (or root), or grant it CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH.";
    case Win32Error.INVALID_PARAMETER:
      return 'The API rejected a parameter: check the chosen capture options.';
    case Win32Error.PROCESS_ABORTED:
      return 'The process exited during the capture: capture it again or pick another process.';
    case Win32Error.NOT_ENOUGH_MEMORY:
    case Win32Error.OUTOFMEMORY:
      return 'The allocator returned NULL: give the arena more capacity or the budget more bytes, or choose the "retry" policy for injected failures.';
    case Win32Error.NOT_FOUND:
      return 'This information was not captured: capture again with the flag that collects it.';
    case Win32Error.INVALID_HANDLE:
      return 'The snapshot or marker is gone: capture again.';
    case Win32Error.NOT_SUPPORTED:
    case Win32Error.CALL_NOT_IMPLEMENTED:
      return 'Turn this capture option off: it is not available on this platform.';
    case Win32Error.BAD_LENGTH:
    case Win32Error.INSUFFICIENT_BUFFER:
      return 'The inspector passed a wrong buffer size: this is a bug, please report it.';
    default:
      return 'See the Win32 error code and message for details.';
  }
}

const misuseHints: Record<string, string> = {
  'snapshot-freed': 'The snapshot was already freed: capture again.',
  'marker-freed': 'The walk marker was already freed: start a new session.',
  'process-closed': 'The process handle was closed: capture again.',
  'marker-busy': 'Wait for the current walk step to finish, then try again.',
  'bad-argument': 'An argument was outside what the API accepts: check the chosen options.',
};

function isErrorReply(x: unknown): x is ErrorReply {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Record<string, unknown>;
  return (
    typeof r.kind === 'string' &&
    typeof r.message === 'string' &&
    typeof r.hint === 'string' &&
    (r.code === null || typeof r.code === 'number') &&
    (r.codeName === null || typeof r.codeName === 'string')
  );
}

const ioHints: Record<string, string> = {
  EACCES: 'Permission denied: check the file permissions.',
  EPERM: 'Operation not permitted: check the file permissions.',
  ENOENT: 'The file does not exist (any more).',
  ENOSPC: 'The disk is full: free some space (long traces spill to the temp directory).',
  EFBIG: 'A file grew beyond the size limit of this process (ulimit -f): raise it or free space.',
  EDQUOT: 'The disk quota is exhausted: free some space (long traces spill to the temp directory).',
  EMFILE: 'Too many open files: close some sessions.',
};

export function toErrorReply(e: unknown, context: ErrorContext = 'other'): ErrorReply {
  if (e instanceof HostError) {
    return { kind: e.kind, code: null, codeName: null, message: e.message, hint: e.hint };
  }
  if (e instanceof PssError) {
    return {
      kind: 'pss',
      code: e.code,
      codeName: win32ErrorName(e.code),
      message: e.message,
      hint: e.code === Win32Error.INVALID_PARAMETER ? walkPssHint(e) : pssHint(e.code, context),
    };
  }
  if (e instanceof PssMisuseError) {
    return {
      kind: 'misuse',
      code: null,
      codeName: null,
      message: e.message,
      hint: misuseHints[e.kind] ?? 'The native state is intact; try again.',
    };
  }
  // The walk service hands over ErrorReply data (WalkServiceError.reply); keep its hint unless we
  // know a more specific one for this context. INVALID_PARAMETER keeps the walk layer's hint:
  // only it knows which call failed (opening a process that is gone, or capture flags).
  if (e instanceof Error && isErrorReply((e as { reply?: unknown }).reply)) {
    const r = (e as unknown as { reply: ErrorReply }).reply;
    return r.kind === 'pss' && r.code !== null && r.code !== Win32Error.INVALID_PARAMETER
      ? { ...r, hint: pssHint(r.code, context) }
      : r;
  }
  if (isErrorReply(e)) return e;
  if (e instanceof Error && e.name === 'TraceFileError') {
    return {
      kind: 'validation',
      code: null,
      codeName: null,
      message: e.message,
      hint: 'The file is not a trace this app wrote, or it is damaged; nothing was loaded.',
    };
  }
  if (e instanceof Error && e.name === 'CorruptBatchError') {
    return {
      kind: 'validation',
      code: null,
      codeName: null,
      message: e.message,
      hint: 'The event data is damaged; nothing was stored from it.',
    };
  }
  if (e instanceof Error && e.name === 'TraceSpillError') {
    const code = (e as { code?: unknown }).code;
    return {
      kind: 'io',
      code: null,
      codeName: typeof code === 'string' ? code : null,
      message: e.message,
      hint:
        (typeof code === 'string' ? ioHints[code] : undefined) ??
        'The spill file could not be written: free some disk space or set TMPDIR elsewhere.',
    };
  }
  const errno = (e as { code?: unknown } | null)?.code;
  if (e instanceof Error && typeof errno === 'string' && /^E[A-Z]+$/.test(errno)) {
    return {
      kind: 'io',
      code: null,
      codeName: errno,
      message: e.message,
      hint: ioHints[errno] ?? 'An operating-system call failed; see the message.',
    };
  }
  return {
    kind: 'internal',
    code: null,
    codeName: null,
    message: e instanceof Error ? e.message : String(e),
    hint: 'This is unexpected: the request was abandoned and nothing else changed. Please report it.',
  };
}
