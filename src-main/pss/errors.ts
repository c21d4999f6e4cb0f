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

// ---- liballoctrace (src-main/pss/native-tracer.ts); here so error mapping needs no koffi ----

export class NativeTracerError extends Error {
  constructor(
    message: string,
    /** liballoctrace's AT_E_* code. */
    readonly code: number,
  ) {
    super(message);
    this.name = 'NativeTracerError';
  }
}

/** liballoctrace's result codes (include/alloctrace.h). */
export const AtError = {
  /** liballoctrace itself is missing, not loadable, or of another version. */
  UNAVAILABLE: -1,
  ARGUMENT: 1,
  MEMORY: 2,
  NOT_READABLE: 3,
  NOT_SHARED: 4,
  LOAD: 5,
  SYMBOLS: 6,
  CONTEXT: 7,
} as const;
