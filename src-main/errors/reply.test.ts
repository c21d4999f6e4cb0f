/**
 * The one error mapping: every class the layers throw becomes the reply documented in
 * ./reply.ts (kind, Win32 code and name, hint). The table of cases is keyed by
 * `Classified['type']`, so a new kind of error does not compile without its case here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EventBatchView, CorruptBatchError } from '../../src-shared/events/batch';
import { EVENT_SIZE } from '../../src-shared/events/layout';
import { Win32Error } from '../../src-shared/pss/constants';
import type { ErrorReply } from '../../src-shared/contract/model';
import {
  AtError,
  NativeTracerError,
  PssError,
  PssMisuseError,
  type MisuseKind,
} from '../pss/errors';
import { PssLoadError } from '../pss/locate';
import { traceVersion } from '../trace/trace-file';
import { TraceSpillError } from '../walk/trace-store';
import {
  HostError,
  LimitError,
  NotFoundError,
  WalkServiceError,
  classify,
  notFound,
  toErrorReply,
  type Classified,
} from './reply';

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

type Case = { error: unknown; reply: Omit<Partial<ErrorReply>, 'hint'> & { hint: RegExp } };

const CASES: { [T in Classified['type']]: Case[] } = {
  replied: [
    {
      error: new HostError('misuse', 'the connection closed', 'Reload.'),
      reply: {
        kind: 'misuse',
        code: null,
        codeName: null,
        message: 'the connection closed',
        hint: /^Reload\.$/,
      },
    },
    {
      error: new NotFoundError('snapshot snap9 does not exist'),
      reply: {
        kind: 'not-found',
        code: null,
        message: 'snapshot snap9 does not exist',
        hint: /freed or closed/,
      },
    },
    {
      error: notFound('session', 's-1'),
      reply: {
        kind: 'not-found',
        message: 'session "s-1" does not exist on this connection',
        hint: /another window/,
      },
    },
    {
      error: new LimitError('16 snapshots', 'Free some.'),
      reply: { kind: 'limit', code: null, message: '16 snapshots', hint: /^Free some\.$/ },
    },
    {
      // A reply that crossed from the walk worker passes through unchanged.
      error: new WalkServiceError({
        kind: 'pss',
        code: 5,
        codeName: 'ERROR_ACCESS_DENIED',
        message: 'OpenProcess failed',
        hint: 'as the worker said',
      }),
      reply: {
        kind: 'pss',
        code: 5,
        codeName: 'ERROR_ACCESS_DENIED',
        hint: /^as the worker said$/,
      },
    },
  ],
  pss: [
    {
      error: new PssError('OpenProcess', Win32Error.ACCESS_DENIED),
      reply: { kind: 'pss', code: 5, codeName: 'ERROR_ACCESS_DENIED', hint: /CAP_SYS_PTRACE/ },
    },
    {
      error: new PssError('OpenProcess', Win32Error.INVALID_PARAMETER, 'No process with id 9.'),
      reply: {
        kind: 'pss',
        code: 87,
        codeName: 'ERROR_INVALID_PARAMETER',
        hint: /no longer exists/,
      },
    },
    {
      error: new PssError('PssCaptureSnapshot', Win32Error.INVALID_PARAMETER),
      reply: { code: 87, hint: /capture flags were refused/ },
    },
    {
      error: new PssError('PssWalkSnapshot', Win32Error.INVALID_PARAMETER),
      reply: { code: 87, hint: /rejected a parameter/ },
    },
    {
      error: new PssError('PssCaptureSnapshot', Win32Error.PROCESS_ABORTED),
      reply: { code: Win32Error.PROCESS_ABORTED, hint: /exited during the capture/ },
    },
    {
      error: new PssError('PssWalkSnapshot', Win32Error.NOT_ENOUGH_MEMORY, 'NULL'),
      reply: {
        code: 8,
        codeName: 'ERROR_NOT_ENOUGH_MEMORY',
        hint: /allocator returned NULL.*"retry"/,
      },
    },
    {
      error: new PssError('PssWalkMarkerCreate', Win32Error.OUTOFMEMORY),
      reply: { code: 14, hint: /allocator returned NULL/ },
    },
    {
      error: new PssError('PssQuerySnapshot', Win32Error.NOT_FOUND),
      reply: { code: 1168, codeName: 'ERROR_NOT_FOUND', hint: /not captured/ },
    },
    {
      error: new PssError('PssWalkSnapshot', Win32Error.INVALID_HANDLE),
      reply: { code: 6, hint: /snapshot or marker is gone/ },
    },
    {
      error: new PssError('PssCaptureSnapshot', Win32Error.NOT_SUPPORTED),
      reply: { code: 50, hint: /not available on this platform/ },
    },
    {
      error: new PssError('PssCaptureSnapshot', Win32Error.CALL_NOT_IMPLEMENTED),
      reply: { code: 120, hint: /not available on this platform/ },
    },
    {
      error: new PssError('PssQuerySnapshot', Win32Error.BAD_LENGTH),
      reply: { code: 24, hint: /wrong buffer size/ },
    },
    {
      error: new PssError('PssQuerySnapshot', Win32Error.INSUFFICIENT_BUFFER),
      reply: { code: 122, hint: /wrong buffer size/ },
    },
    {
      error: new PssError('PssWalkSnapshot', 31337),
      reply: { code: 31337, codeName: 'Win32 error 31337', hint: /See the Win32 error code/ },
    },
  ],
  misuse: (
    [
      ['snapshot-freed', /snapshot was already freed/],
      ['marker-freed', /marker was already freed/],
      ['process-closed', /handle was closed/],
      ['marker-busy', /Wait for the current walk step/],
      ['bad-argument', /outside what the API accepts/],
    ] satisfies [MisuseKind, RegExp][]
  ).map(([kind, hint]) => ({
    error: new PssMisuseError(kind, `misuse ${kind}`),
    reply: { kind: 'misuse', code: null, codeName: null, message: `misuse ${kind}`, hint },
  })),
  'library-missing': [
    {
      error: new PssLoadError('libpss.so not found'),
      reply: { kind: 'unsupported', code: null, hint: /Build libpss/ },
    },
  ],
  tracer: [
    {
      error: new NativeTracerError('no liballoctrace', AtError.UNAVAILABLE),
      reply: { kind: 'unsupported', hint: /Build liballoctrace/ },
    },
    {
      error: new NativeTracerError('bad options', AtError.ARGUMENT),
      reply: { kind: 'validation', hint: /Check the allocator options/ },
    },
    {
      error: new NativeTracerError('out of memory', AtError.MEMORY),
      reply: { kind: 'internal', hint: /Check the allocator options/ },
    },
    ...[
      AtError.NOT_READABLE,
      AtError.NOT_SHARED,
      AtError.LOAD,
      AtError.SYMBOLS,
      AtError.CONTEXT,
    ].map((code): Case => ({
      error: new NativeTracerError(`library problem ${code}`, code),
      reply: { kind: 'validation', hint: /AllocRoutine and FreeRoutine/ },
    })),
  ],
  'trace-file': [
    {
      error: thrown(() => traceVersion(new Uint8Array(16))),
      reply: {
        kind: 'validation',
        code: null,
        message: 'not a trace file: bad magic (expected "PSSTRACE")',
        hint: /not a trace this app wrote/,
      },
    },
  ],
  'corrupt-batch': [
    {
      error: thrown(() =>
        new EventBatchView(new Uint8Array(EVENT_SIZE).fill(0xff).buffer).validate(0),
      ),
      reply: { kind: 'validation', code: null, hint: /event data is damaged/ },
    },
  ],
  spill: [
    {
      error: new TraceSpillError('spill write failed: no space', 'ENOSPC'),
      reply: { kind: 'io', code: null, codeName: 'ENOSPC', hint: /disk is full/ },
    },
    {
      error: new TraceSpillError('spill write failed', null),
      reply: { kind: 'io', codeName: null, hint: /spill file could not be written/ },
    },
  ],
  system: [
    {
      error: thrown(() => readFileSync('/nonexistent/pss-inspector/file')),
      reply: { kind: 'io', code: null, codeName: 'ENOENT', hint: /does not exist/ },
    },
    {
      error: thrown(() => readFileSync('/')),
      reply: { kind: 'io', codeName: 'EISDIR', hint: /operating-system call failed/ },
    },
  ],
  unexpected: [
    {
      error: new TypeError('x is undefined'),
      reply: {
        kind: 'internal',
        code: null,
        codeName: null,
        message: 'x is undefined',
        hint: /Please report it/,
      },
    },
    { error: 'a string', reply: { kind: 'internal', message: 'a string', hint: /unexpected/ } },
    // An Error with a `code` that is no errno (and no syscall) is not an I/O error.
    {
      error: Object.assign(new Error('worker gone'), { code: 'ERR_WORKER_INIT_FAILED' }),
      reply: { kind: 'internal', message: 'worker gone', hint: /unexpected/ },
    },
  ],
};

describe('toErrorReply: one mapping for every error the layers throw', () => {
  for (const [type, cases] of Object.entries(CASES)) {
    it(`${type}: each case has its documented reply`, () => {
      expect(cases.length).toBeGreaterThan(0);
      for (const { error, reply } of cases) {
        expect(classify(error).type, String(error)).toBe(type);
        const r = toErrorReply(error);
        const { hint, ...fields } = reply;
        expect(r).toMatchObject(fields);
        expect(r.hint).toMatch(hint);
        // Every reply is complete, plain data.
        expect(Object.keys(r).sort()).toEqual(['code', 'codeName', 'hint', 'kind', 'message']);
        expect(structuredClone(r)).toEqual(r);
      }
    });
  }

  it('a PssError reply keeps the message that names the call and the code', () => {
    const r = toErrorReply(
      new PssError('OpenProcess', Win32Error.INVALID_PARAMETER, 'No process with id 9.'),
    );
    expect(r.message).toBe(
      'OpenProcess failed: ERROR_INVALID_PARAMETER (87). No process with id 9.',
    );
  });

  it('the corrupt-batch case really is CorruptBatchError (built by the real validator)', () => {
    expect(CASES['corrupt-batch'][0]?.error).toBeInstanceOf(CorruptBatchError);
  });
});
