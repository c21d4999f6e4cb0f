/**
 * Process Snapshotting API constants, exactly as ../shared/pss-api.md (section 4) gives them.
 * Shared by every process: the binding passes them to native code, the renderer names them.
 */

export const PssCaptureFlags = {
  NONE: 0x00000000,
  VA_CLONE: 0x00000001,
  RESERVED_00000002: 0x00000002,
  HANDLES: 0x00000004,
  HANDLE_NAME_INFORMATION: 0x00000008,
  HANDLE_BASIC_INFORMATION: 0x00000010,
  HANDLE_TYPE_SPECIFIC_INFORMATION: 0x00000020,
  HANDLE_TRACE: 0x00000040,
  THREADS: 0x00000080,
  THREAD_CONTEXT: 0x00000100,
  THREAD_CONTEXT_EXTENDED: 0x00000200,
  RESERVED_00000400: 0x00000400,
  VA_SPACE: 0x00000800,
  VA_SPACE_SECTION_INFORMATION: 0x00001000,
  IPT_TRACE: 0x00002000,
  RESERVED_00004000: 0x00004000,
  CREATE_BREAKAWAY_OPTIONAL: 0x04000000,
  CREATE_BREAKAWAY: 0x08000000,
  CREATE_FORCE_BREAKAWAY: 0x10000000,
  CREATE_USE_VM_ALLOCATIONS: 0x20000000,
  CREATE_MEASURE_PERFORMANCE: 0x40000000,
  CREATE_RELEASE_SECTION: 0x80000000,
} as const;
export type PssCaptureFlagName = keyof typeof PssCaptureFlags;

/**
 * x64 CONTEXT.ContextFlags, which PssCaptureSnapshot's ThreadContextFlags takes with
 * PSS_CAPTURE_THREAD_CONTEXT (winnt.h; libpss/include/processsnapshot.h mirrors them).
 */
export const CONTEXT_AMD64 = 0x00100000;
/** CONTROL | INTEGER | SEGMENTS | FLOATING_POINT | DEBUG_REGISTERS. */
export const CONTEXT_ALL = CONTEXT_AMD64 | 0x1f;

/** The flags a full inspection uses: everything Linux can provide without ptrace. */
export const DEFAULT_CAPTURE_FLAGS =
  PssCaptureFlags.HANDLES |
  PssCaptureFlags.HANDLE_NAME_INFORMATION |
  PssCaptureFlags.HANDLE_BASIC_INFORMATION |
  PssCaptureFlags.HANDLE_TYPE_SPECIFIC_INFORMATION |
  PssCaptureFlags.THREADS |
  PssCaptureFlags.VA_SPACE |
  PssCaptureFlags.VA_SPACE_SECTION_INFORMATION |
  PssCaptureFlags.CREATE_MEASURE_PERFORMANCE;

export const PssQueryClass = {
  PROCESS_INFORMATION: 0,
  VA_CLONE_INFORMATION: 1,
  AUXILIARY_PAGES_INFORMATION: 2,
  VA_SPACE_INFORMATION: 3,
  HANDLE_INFORMATION: 4,
  THREAD_INFORMATION: 5,
  HANDLE_TRACE_INFORMATION: 6,
  PERFORMANCE_COUNTERS: 7,
} as const;
export type PssQueryClassName = keyof typeof PssQueryClass;

export const PssWalkClass = {
  AUXILIARY_PAGES: 0,
  VA_SPACE: 1,
  HANDLES: 2,
  THREADS: 3,
  THREAD_NAME: 4,
} as const;
export type PssWalkClassName = keyof typeof PssWalkClass;
export type PssWalkClassValue = (typeof PssWalkClass)[PssWalkClassName];
/** The walk classes a session can walk (THREAD_NAME is reserved: real Windows rejects it). */
export const WALKABLE_CLASSES = ['THREADS', 'HANDLES', 'VA_SPACE', 'AUXILIARY_PAGES'] as const;
export type WalkableClass = (typeof WALKABLE_CLASSES)[number];

export const PssDuplicateFlags = { NONE: 0, CLOSE_SOURCE: 1 } as const;

export const PssProcessFlags = {
  NONE: 0,
  PROTECTED: 0x1,
  WOW64: 0x2,
  RESERVED_03: 0x4,
  RESERVED_04: 0x8,
  FROZEN: 0x10,
} as const;

export const PssThreadFlags = { NONE: 0, TERMINATED: 0x1 } as const;

export const PssHandleFlags = {
  NONE: 0,
  HAVE_TYPE: 0x1,
  HAVE_NAME: 0x2,
  HAVE_BASIC_INFORMATION: 0x4,
  HAVE_TYPE_SPECIFIC_INFORMATION: 0x8,
} as const;

export const PssObjectType = {
  UNKNOWN: 0,
  PROCESS: 1,
  THREAD: 2,
  MUTANT: 3,
  EVENT: 4,
  SECTION: 5,
  SEMAPHORE: 6,
} as const;
export type PssObjectTypeName = keyof typeof PssObjectType;

export const MemState = { COMMIT: 0x1000, RESERVE: 0x2000, FREE: 0x10000 } as const;
export const MemType = { PRIVATE: 0x20000, MAPPED: 0x40000, IMAGE: 0x1000000 } as const;
export const PageProtect = {
  NOACCESS: 0x01,
  READONLY: 0x02,
  READWRITE: 0x04,
  WRITECOPY: 0x08,
  EXECUTE: 0x10,
  EXECUTE_READ: 0x20,
  EXECUTE_READWRITE: 0x40,
  EXECUTE_WRITECOPY: 0x80,
  GUARD: 0x100,
  NOCACHE: 0x200,
  WRITECOMBINE: 0x400,
} as const;

export const ContextFlags = {
  AMD64: 0x00100000,
  CONTROL: 0x00100001,
  INTEGER: 0x00100002,
  SEGMENTS: 0x00100004,
  FLOATING_POINT: 0x00100008,
  DEBUG_REGISTERS: 0x00100010,
  FULL: 0x0010000b,
  ALL: 0x0010001f,
  XSTATE: 0x00100040,
} as const;

export const STILL_ACTIVE = 259;
export const PSS_PERF_RESOLUTION = 1_000_000;

/** Win32 error codes the API (and libpss) return. */
export const Win32Error = {
  SUCCESS: 0,
  ACCESS_DENIED: 5,
  INVALID_HANDLE: 6,
  NOT_ENOUGH_MEMORY: 8,
  OUTOFMEMORY: 14,
  BAD_LENGTH: 24,
  NOT_SUPPORTED: 50,
  INVALID_PARAMETER: 87,
  BUFFER_OVERFLOW: 111,
  CALL_NOT_IMPLEMENTED: 120,
  INSUFFICIENT_BUFFER: 122,
  MORE_DATA: 234,
  NO_MORE_ITEMS: 259,
  PARTIAL_COPY: 299,
  INVALID_ADDRESS: 487,
  ARITHMETIC_OVERFLOW: 534,
  PROCESS_ABORTED: 1067,
  NOT_FOUND: 1168,
} as const;
export type Win32ErrorName = keyof typeof Win32Error;

const errorNames = new Map<number, string>(
  Object.entries(Win32Error).map(([name, code]) => [code, `ERROR_${name}`]),
);

/** `ERROR_ACCESS_DENIED` for 5; `Win32 error 1234` for a code we have no name for. */
export function win32ErrorName(code: number): string {
  return errorNames.get(code) ?? `Win32 error ${code}`;
}

const errorTexts: Record<number, string> = {
  [Win32Error.ACCESS_DENIED]: 'Access is denied: this process may not be read by the inspector.',
  [Win32Error.INVALID_HANDLE]: 'The handle is invalid (already freed, or never valid).',
  [Win32Error.NOT_ENOUGH_MEMORY]: 'Not enough memory: the allocator returned NULL.',
  [Win32Error.BAD_LENGTH]: 'The buffer length does not match the structure size for this class.',
  [Win32Error.NOT_SUPPORTED]: 'This capture feature is not supported on this platform.',
  [Win32Error.INVALID_PARAMETER]:
    'A parameter is invalid (for example a process id that does not exist).',
  [Win32Error.MORE_DATA]: 'More data is available.',
  [Win32Error.NO_MORE_ITEMS]: 'No more items: the walk reached the end of this class.',
  [Win32Error.PROCESS_ABORTED]: 'The target process exited while it was being captured.',
  [Win32Error.NOT_FOUND]: 'This information was not captured into the snapshot.',
};

export function win32ErrorText(code: number): string {
  return errorTexts[code] ?? win32ErrorName(code);
}

/** Names of the set bits of a flag word, for display. */
export function flagNames(value: number, table: Readonly<Record<string, number>>): string[] {
  const names: string[] = [];
  for (const [name, bit] of Object.entries(table)) {
    if (bit !== 0 && (value & bit) >>> 0 === bit) names.push(name);
  }
  return names;
}

export function nameOf(value: number, table: Readonly<Record<string, number>>): string {
  for (const [name, v] of Object.entries(table)) if (v === value) return name;
  return `0x${value.toString(16)}`;
}
