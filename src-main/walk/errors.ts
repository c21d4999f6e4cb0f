/** Turns anything thrown in the walk layer into the ErrorReply data that crosses IPC. */
import { AtError, NativeTracerError, PssError, PssMisuseError } from '../pss/errors';
import { PssLoadError } from '../pss/locate';
import { Win32Error, win32ErrorName } from '../../src-shared/pss/constants';
import type { ErrorReply } from '../../src-shared/contract/model';

const hints: Record<number, string> = {
  [Win32Error.ACCESS_DENIED]:
    'Run the inspector as the owner of the process, or as root, or grant it CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH.',
  [Win32Error.INVALID_PARAMETER]: 'The API rejected a parameter: check the chosen options.',
  [Win32Error.PROCESS_ABORTED]:
    'The process exited during the capture. Capture another process, or try again.',
  [Win32Error.NOT_ENOUGH_MEMORY]:
    'The allocator returned NULL. With fault injection this is expected; choose the "retry" policy or lower the failure rate.',
  [Win32Error.NOT_SUPPORTED]: 'Turn this capture option off: it is not available on this platform.',
  [Win32Error.NOT_FOUND]: 'Capture again with the flag that collects this information.',
  [Win32Error.INVALID_HANDLE]: 'The snapshot or marker is gone; capture again.',
};

export function toErrorReply(e: unknown): ErrorReply {
  if (e instanceof PssError) {
    return {
      kind: 'pss',
      code: e.code,
      codeName: win32ErrorName(e.code),
      message: e.message,
      hint: hintFor(e),
    };
  }
  if (e instanceof PssMisuseError) {
    return {
      kind: 'misuse',
      code: null,
      codeName: null,
      message: e.message,
      hint: 'This is a bug in the caller; the native state is intact.',
    };
  }
  if (e instanceof PssLoadError) {
    return {
      kind: 'unsupported',
      code: null,
      codeName: null,
      message: e.message,
      hint: 'Build libpss with "npm run build:native".',
    };
  }
  if (e instanceof NativeTracerError) {
    if (e.code === AtError.UNAVAILABLE)
      return {
        kind: 'unsupported',
        code: null,
        codeName: null,
        message: e.message,
        hint: 'Build liballoctrace with "npm run build:native".',
      };
    const library = e.code >= AtError.NOT_READABLE && e.code <= AtError.CONTEXT;
    return {
      kind: library || e.code === AtError.ARGUMENT ? 'validation' : 'internal',
      code: null,
      codeName: null,
      message: e.message,
      hint: library
        ? 'Point the session at a shared object exporting AllocRoutine and FreeRoutine (docs/user-allocator.md).'
        : 'Check the allocator options.',
    };
  }
  if (e instanceof NotFoundError) {
    return {
      kind: 'not-found',
      code: null,
      codeName: null,
      message: e.message,
      hint: e.hint,
    };
  }
  if (e instanceof LimitError) {
    return { kind: 'limit', code: null, codeName: null, message: e.message, hint: e.hint };
  }
  const message = e instanceof Error ? e.message : String(e);
  return {
    kind: 'internal',
    code: null,
    codeName: null,
    message,
    hint: 'This is unexpected; the session was cleaned up. Please report it.',
  };
}

/** The hint of a Pss error, by the call that failed when the code alone is ambiguous. */
export function hintFor(e: PssError): string {
  if (e.code === Win32Error.INVALID_PARAMETER) {
    if (e.api === 'OpenProcess')
      return 'The process no longer exists: refresh the process list and pick another one.';
    if (e.api === 'PssCaptureSnapshot')
      return 'The capture flags were refused: turn off the options this platform does not accept.';
  }
  return hints[e.code] ?? 'See the Win32 error code for details.';
}

export class NotFoundError extends Error {
  constructor(
    message: string,
    readonly hint = 'It may have been freed or closed; refresh.',
  ) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** A per-session cap was reached; nothing changed. */
export class LimitError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = 'LimitError';
  }
}
