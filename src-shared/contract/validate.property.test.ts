/**
 * Property tests (fast-check) of every request validator and the allocator options parser:
 * for any input (JSON-like values, Object.prototype member names as keys and values, binary
 * data) they return ok or an error naming a path, never throw; what they accept they accept
 * again unchanged; and valid requests built field by field are accepted.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REQUEST_NAMES, requestParams, validateRequest, type RequestName } from './contract';
import { parseAllocatorOptions } from '../alloc/options';
import { WALKABLE_CLASSES } from '../pss/constants';
import type { Validator } from './validate';

const RUNS = { numRuns: 1500 };

const protoNames = Object.getOwnPropertyNames(Object.prototype);
const nasty = fc.constantFrom(...protoNames, 'then', 'length', '', '0');
const key = fc.oneof(fc.string({ maxLength: 10 }), nasty);

/** Anything a transport can deliver: JSON values, prototype names, binary data, odd numbers. */
const { anything } = fc.letrec((tie) => ({
  anything: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 1 }),
    nasty,
    fc.constantFrom(NaN, Infinity, -Infinity, -0, 2 ** 53, -1, 0.5, undefined),
    fc.uint8Array({ maxLength: 8 }).map((u) => u.slice().buffer as ArrayBuffer),
    fc.array(tie('anything'), { maxLength: 4 }),
    fc.dictionary(key, tie('anything'), { maxKeys: 5 }),
  ),
}));

/** An object shaped like a request's params, with some fields replaced by anything. */
function shaped(fields: string[]): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(
      fc.dictionary(fc.constantFrom(...fields, ...protoNames), anything, { maxKeys: 8 }),
      fc.constantFrom(...protoNames),
    )
    .map(([o, proto]) => (Object.keys(o).length === 0 ? { mode: proto } : o));
}

function expectResult(r: { ok: boolean; error?: string }): void {
  expect(typeof r.ok).toBe('boolean');
  if (!r.ok) {
    expect(typeof r.error).toBe('string');
    expect((r.error as string).length).toBeGreaterThan(0);
  }
}

describe('request validators (property)', () => {
  for (const name of REQUEST_NAMES) {
    const v = requestParams[name] as Validator<unknown>;
    it(`${name}: any input gives ok or an error, never a throw; accepted input is accepted again`, () => {
      const fields = ['sessionId', 'snapshotId', 'pid', 'flags', 'pace', 'mode', 'action', 'cls'];
      fc.assert(
        fc.property(fc.oneof(anything, shaped(fields)), (input) => {
          const r = v.parse(input, 'params');
          expectResult(r as { ok: boolean; error?: string });
          if (r.ok) {
            const again = v.parse(r.value, 'params');
            expect(again.ok).toBe(true);
            if (again.ok) expect(again.value).toEqual(r.value);
          }
        }),
        RUNS,
      );
    });
  }

  it('validateRequest never throws for any name and params', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), nasty, anything), anything, (name, params) => {
        const r = validateRequest(name, params);
        expectResult(r as { ok: boolean; error?: string });
        if (r.ok) expect(REQUEST_NAMES).toContain(r.name);
      }),
      RUNS,
    );
  });

  it('a tagged union never dispatches on an Object.prototype member', () => {
    for (const mode of protoNames) {
      for (const name of ['sessionControl', 'startSession'] as RequestName[]) {
        const r = validateRequest(name, {
          sessionId: 's',
          action: 'setPace',
          pid: 1,
          flags: 0,
          allocator: { strategy: 'heap' },
          classes: ['THREADS'],
          onAllocFailure: 'stop',
          pace: { mode },
        });
        expect(r.ok, `${name} pace.mode=${mode}`).toBe(false);
      }
    }
  });

  it('accepts valid requests built field by field', () => {
    const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
    const pace = fc.oneof(
      fc.constant({ mode: 'run' as const }),
      fc
        .double({ min: 0.1, max: 1_000_000, noNaN: true })
        .map((entriesPerSecond) => ({ mode: 'paced' as const, entriesPerSecond })),
    );
    fc.assert(
      fc.property(
        id,
        fc.integer({ min: 1, max: 0x7fffffff }),
        fc.nat({ max: 0xffffffff }),
        pace,
        fc.subarray([...WALKABLE_CLASSES], { minLength: 1 }),
        (sessionId, pid, flags, p, classes) => {
          expect(validateRequest('capture', { pid, flags }).ok).toBe(true);
          expect(
            validateRequest('sessionControl', { sessionId, action: 'setPace', pace: p }).ok,
          ).toBe(true);
          expect(
            validateRequest('startSession', {
              pid,
              flags,
              allocator: { strategy: 'heap' },
              classes,
              pace: p,
              onAllocFailure: 'retry',
            }).ok,
          ).toBe(true);
          expect(validateRequest('getEvents', { sessionId, fromSeq: pid, count: 1 }).ok).toBe(true);
        },
      ),
      RUNS,
    );
  });
});

describe('allocator options parser (property)', () => {
  it('any input gives ok or an error, never a throw; accepted options are accepted again', () => {
    const strategyLike = fc.dictionary(
      fc.constantFrom(
        'strategy',
        'inner',
        'capacityBytes',
        'classes',
        'blocksPerSlab',
        'redZoneBytes',
        'failNth',
        'failProbability',
        'seed',
        'budgetBytes',
        ...protoNames,
      ),
      fc.oneof(
        anything,
        fc.constantFrom('heap', 'arena', 'pool', 'guard', 'faulty'),
        fc.integer(),
        fc.array(fc.integer(), { maxLength: 5 }),
      ),
      { maxKeys: 6 },
    );
    fc.assert(
      fc.property(fc.oneof(anything, strategyLike), (input) => {
        const r = parseAllocatorOptions(input);
        expectResult(r as { ok: boolean; error?: string });
        if (r.ok) {
          const again = parseAllocatorOptions(r.value);
          expect(again).toEqual(r);
        }
      }),
      RUNS,
    );
  });
});
