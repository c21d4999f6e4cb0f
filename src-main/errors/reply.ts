/**
 * The one mapping from every error the pss, walk, trace and host layers throw to the ErrorReply
 * the contract defines (src-shared/contract/model.ts: kind, Win32 code and name, message, hint).
 * The walk worker and the walk child map their errors here before the reply crosses to the main
 * thread; the host maps what its handlers throw here; both adapters and the CLI only pass the
 * replies on. No duck typing: an error is classified by its class into `Classified` (a closed,
 * discriminated union), and `replyFor` is an exhaustive switch over it.
 *
 * | class                          | kind                            | code / codeName       | hint                                  |
 * |--------------------------------|---------------------------------|-----------------------|---------------------------------------|
 * | ReplyError (HostError, NotFoundError, LimitError, WalkServiceError) | its own | its own | its own |
 * | PssError                       | pss                             | the Win32 code / name | by code; INVALID_PARAMETER by the call |
 * | PssMisuseError                 | misuse                          | null                  | by its MisuseKind                     |
 * | PssLoadError                   | unsupported                     | null                  | build libpss                          |
 * | NativeTracerError              | unsupported / validation / internal | null              | by its AT_E_* code                    |
 * | TraceFileError                 | validation                      | null                  | not a trace this app wrote            |
 * | CorruptBatchError              | validation                      | null                  | the event data is damaged             |
 * | TraceSpillError                | io                              | null / the errno name | by errno                              |
 * | a Node system error (errno)    | io                              | null / the errno name | by errno                              |
 * | anything else                  | internal                        | null                  | report it                             |
 */
import { CorruptBatchError } from '../../src-shared/events/batch';
import { Win32Error, win32ErrorName } from '../../src-shared/pss/constants';
import type { ErrorKind, ErrorReply } from '../../src-shared/contract/model';
import {
  AtError,
  NativeTracerError,
  PssError,
  PssMisuseError,
  type MisuseKind,
} from '../pss/errors';
import { PssLoadError } from '../pss/locate';
import { TraceFileError } from '../trace/trace-file';
import { TraceSpillError } from '../walk/trace-store';

/**
 * An error raised by our own code that already knows its reply (a cap reached, something not
 * found, a request that cannot be served now, or a reply that crossed from the walk worker).
 */
export class ReplyError extends Error {
  constructor(readonly reply: ErrorReply) {
    super(reply.message);
    this.name = 'ReplyError';
  }
}

/** An error the host raises itself, already classified. */
export class HostError extends ReplyError {
  constructor(kind: Exclude<ErrorKind, 'pss'>, message: string, hint: string) {
    super({ kind, code: null, codeName: null, message, hint });
    this.name = 'HostError';
  }
}

/** Something named by id does not exist (any more). */
export class NotFoundError extends ReplyError {
  constructor(message: string, hint = 'It may have been freed or closed; refresh.') {
    super({ kind: 'not-found', code: null, codeName: null, message, hint });
    this.name = 'NotFoundError';
  }
}

/** A cap was reached; nothing changed. */
export class LimitError extends ReplyError {
  constructor(message: string, hint: string) {
    super({ kind: 'limit', code: null, codeName: null, message, hint });
    this.name = 'LimitError';
  }
}

/** A walk worker (or walk child) call failed; carries the reply the worker mapped here. */
export class WalkServiceError extends ReplyError {
  constructor(reply: ErrorReply) {
    super(reply);
    this.name = 'WalkServiceError';
  }
}

/** Every error the layers throw, by class. */
export type Classified =
  | { type: 'replied'; error: ReplyError }
  | { type: 'pss'; error: PssError }
  | { type: 'misuse'; error: PssMisuseError }
  | { type: 'library-missing'; error: PssLoadError }
  | { type: 'tracer'; error: NativeTracerError }
  | { type: 'trace-file'; error: TraceFileError }
  | { type: 'corrupt-batch'; error: CorruptBatchError }
  | { type: 'spill'; error: TraceSpillError }
  | { type: 'system'; error: Error; errno: string }
  | { type: 'unexpected'; message: string };

/**
 * The errno name of a Node system error (fs, net…). Node has no class for them: its documented
 * form is an Error whose `code` is the errno name (E + capitals) and that names its `syscall`.
 */
function systemErrno(e: Error): string | null {
  const { code, syscall } = e as NodeJS.ErrnoException;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) && typeof syscall === 'string'
    ? code
    : null;
}

export function classify(e: unknown): Classified {
  if (e instanceof ReplyError) return { type: 'replied', error: e };
  if (e instanceof PssError) return { type: 'pss', error: e };
  if (e instanceof PssMisuseError) return { type: 'misuse', error: e };
  if (e instanceof PssLoadError) return { type: 'library-missing', error: e };
  if (e instanceof NativeTracerError) return { type: 'tracer', error: e };
  if (e instanceof TraceFileError) return { type: 'trace-file', error: e };
  if (e instanceof CorruptBatchError) return { type: 'corrupt-batch', error: e };
  if (e instanceof TraceSpillError) return { type: 'spill', error: e };
  if (e instanceof Error) {
    const errno = systemErrno(e);
    if (errno) return { type: 'system', error: e, errno };
    return { type: 'unexpected', message: e.message };
  }
  return { type: 'unexpected', message: String(e) };
}

/** What the user can do about a Win32 code, by the call that failed where the code is ambiguous. */
export function pssHint(code: number, api: string): string {
  switch (code) {
    case Win32Error.ACCESS_DENIED:
      return "Run the inspector as the process's owner (or root), or grant it CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH.";
    case Win32Error.INVALID_PARAMETER:
      if (api === 'OpenProcess')
        return 'The process no longer exists: refresh the process list and pick another one.';
      if (api === 'PssCaptureSnapshot')
        return 'The capture flags were refused: turn off the options this platform does not accept.';
      return 'The API rejected a parameter: check the chosen options.';
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

const MISUSE_HINTS: Record<MisuseKind, string> = {
  'snapshot-freed': 'The snapshot was already freed: capture again.',
  'marker-freed': 'The walk marker was already freed: start a new session.',
  'process-closed': 'The process handle was closed: capture again.',
  'marker-busy': 'Wait for the current walk step to finish, then try again.',
  'bad-argument': 'An argument was outside what the API accepts: check the chosen options.',
};

const IO_HINTS: Readonly<Record<string, string>> = {
  EACCES: 'Permission denied: check the file permissions.',
  EPERM: 'Operation not permitted: check the file permissions.',
  ENOENT: 'The file does not exist (any more).',
  ENOSPC: 'The disk is full: free some space (long traces spill to the temp directory).',
  EFBIG: 'A file grew beyond the size limit of this process (ulimit -f): raise it or free space.',
  EDQUOT: 'The disk quota is exhausted: free some space (long traces spill to the temp directory).',
  EMFILE: 'Too many open files: close some sessions.',
};

const INTERNAL_HINT =
  'This is unexpected: what it was doing was stopped and cleaned up; nothing else changed. Please report it.';

function plain(kind: Exclude<ErrorKind, 'pss'>, message: string, hint: string): ErrorReply {
  return { kind, code: null, codeName: null, message, hint };
}

function tracerReply(e: NativeTracerError): ErrorReply {
  if (e.code === AtError.UNAVAILABLE)
    return plain('unsupported', e.message, 'Build liballoctrace with "npm run build:native".');
  const library = e.code >= AtError.NOT_READABLE && e.code <= AtError.CONTEXT;
  if (library)
    return plain(
      'validation',
      e.message,
      'Point the session at a shared object exporting AllocRoutine and FreeRoutine (docs/user-allocator.md).',
    );
  return plain(
    e.code === AtError.ARGUMENT ? 'validation' : 'internal',
    e.message,
    'Check the allocator options.',
  );
}

export function replyFor(c: Classified): ErrorReply {
  switch (c.type) {
    case 'replied':
      return { ...c.error.reply };
    case 'pss':
      return {
        kind: 'pss',
        code: c.error.code,
        codeName: win32ErrorName(c.error.code),
        message: c.error.message,
        hint: pssHint(c.error.code, c.error.api),
      };
    case 'misuse':
      return plain('misuse', c.error.message, MISUSE_HINTS[c.error.kind]);
    case 'library-missing':
      return plain('unsupported', c.error.message, 'Build libpss with "npm run build:native".');
    case 'tracer':
      return tracerReply(c.error);
    case 'trace-file':
      return plain(
        'validation',
        c.error.message,
        'The file is not a trace this app wrote, or it is damaged; nothing was loaded.',
      );
    case 'corrupt-batch':
      return plain(
        'validation',
        c.error.message,
        'The event data is damaged; nothing was stored from it.',
      );
    case 'spill':
      return {
        kind: 'io',
        code: null,
        codeName: c.error.code,
        message: c.error.message,
        hint:
          (c.error.code !== null ? IO_HINTS[c.error.code] : undefined) ??
          'The spill file could not be written: free some disk space or set TMPDIR elsewhere.',
      };
    case 'system':
      return {
        kind: 'io',
        code: null,
        codeName: c.errno,
        message: c.error.message,
        hint: IO_HINTS[c.errno] ?? 'An operating-system call failed; see the message.',
      };
    case 'unexpected':
      return plain('internal', c.message, INTERNAL_HINT);
  }
}

/** The reply for anything thrown. */
export function toErrorReply(e: unknown): ErrorReply {
  return replyFor(classify(e));
}

/** A host-side "that id is not on this connection" error. */
export const notFound = (what: string, id: string): NotFoundError =>
  new NotFoundError(
    `${what} ${JSON.stringify(id)} does not exist on this connection`,
    'It was freed or closed, or belongs to another window; refresh the list.',
  );

// ---- the walk layer's own "not found" and misuse errors (the walk service's test fake raises
// the very same, so it fails exactly as the real one) ----------------------------------------

export const snapshotNotFound = (snapshotId: string): NotFoundError =>
  new NotFoundError(
    `snapshot ${snapshotId} does not exist (freed, never captured, or held by a walk worker that died)`,
  );

export const sessionNotRunning = (sessionId: string): NotFoundError =>
  new NotFoundError(`session ${sessionId} is not running (it ended or never started)`);

export const sessionExists = (sessionId: string): HostError =>
  new HostError('misuse', `session ${sessionId} already exists`, 'Start it under a new id.');

export const noBookmark = (sessionId: string, bookmarkId: number | undefined): NotFoundError =>
  new NotFoundError(
    `session ${sessionId} has no bookmark ${String(bookmarkId)}`,
    'Bookmarks belong to the session that saved them: pick one from this session’s list.',
  );

/** The reply of every call and the error of every session a walk worker that died owed. */
export const workerDied = (why: string): ErrorReply => ({
  kind: 'internal',
  code: null,
  codeName: null,
  message: `walk worker died: ${why}`,
  hint: 'The walk worker is restarted on the next request: capture again and start a new session (the snapshots it held are gone).',
});

/** A walk with a user allocator library was asked to walk an existing snapshot. */
export const userLibraryNeedsPid = (): HostError =>
  new HostError(
    'validation',
    'A walk with a user allocator library runs in a process of its own and captures the target itself: start it from a process (pid), not from an existing snapshot.',
    'Start the session from the process list.',
  );
