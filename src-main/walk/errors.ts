/** Turns anything thrown in the walk layer into the ErrorReply data that crosses IPC. */
import { PssError, PssLoadError, PssMisuseError } from '../pss';
import { Win32Error, win32ErrorName } from '../../src-shared/pss/constants';
import type { ErrorReply } from '../../src-shared/contract/model';

const hints: Record<number, string> = {
  [Win32Error.ACCESS_DENIED]:
    'Run the inspector as the owner of the process, or as root, or grant it CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH.',
  [Win32Error.INVALID_PARAMETER]:
    'The process no longer exists (or the request was malformed): refresh the process list.',
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
      hint: hints[e.code] ?? 'See the Win32 error code for details.',
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
  if (e instanceof NotFoundError) {
    return {
      kind: 'not-found',
      code: null,
      codeName: null,
      message: e.message,
      hint: 'It may have been freed or closed; refresh.',
    };
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

export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}
