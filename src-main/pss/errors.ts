import { win32ErrorName, win32ErrorText } from '../../src-shared/pss/constants';

/** A Pss* (or process open) call returned a Win32 error code. */
export class PssError extends Error {
  readonly codeName: string;
  constructor(
    readonly api: string,
    readonly code: number,
    detail?: string,
  ) {
    super(`${api} failed: ${win32ErrorName(code)} (${code}). ${detail ?? win32ErrorText(code)}`);
    this.name = 'PssError';
    this.codeName = win32ErrorName(code);
  }
}

export type MisuseKind =
  'snapshot-freed' | 'marker-freed' | 'process-closed' | 'marker-busy' | 'bad-argument';

/**
 * The caller broke a lifetime rule (walking a freed snapshot, freeing twice…). Thrown by the
 * binding before native code is reached, so misuse is an exception, never a crash.
 */
export class PssMisuseError extends Error {
  constructor(
    readonly kind: MisuseKind,
    message: string,
  ) {
    super(message);
    this.name = 'PssMisuseError';
  }
}
