/**
 * Property tests (fast-check) of the wire decoder, which reads untrusted bytes in the host:
 * whatever it is given it returns a result and never throws; what encodeFrame writes comes back
 * equal; mutated frames are decoded or refused, never more.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  REQUEST_LIMITS,
  WIRE_LIMITS,
  decodeFrame,
  encodeFrame,
  peekRequestId,
  type WireFrame,
} from './wire';

const RUNS = { numRuns: 2000 };

/** Keys that are Object.prototype members, and other keys untrusted input likes to use. */
const nastyKey = fc.constantFrom(
  ...Object.getOwnPropertyNames(Object.prototype),
  'then',
  'length',
  'prototype',
  '0',
  '',
);
const key = fc.oneof(fc.string({ maxLength: 12 }), nastyKey);

/** JSON-like values with ArrayBuffers sprinkled in. */
const { value: valueWithBytes } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 2 }),
    fc.uint8Array({ maxLength: 64 }).map((u) => u.slice().buffer as ArrayBuffer),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
}));

function expectResult(r: ReturnType<typeof decodeFrame>): void {
  expect(typeof r.ok).toBe('boolean');
  if (!r.ok) {
    expect(typeof r.error).toBe('string');
    expect(r.id === null || Number.isSafeInteger(r.id)).toBe(true);
  }
}

/** Compares decoded values with the originals (ArrayBuffers by content). */
function normalize(x: unknown): unknown {
  if (x instanceof ArrayBuffer) return { __bytes: [...new Uint8Array(x)] };
  if (Array.isArray(x)) return x.map(normalize);
  if (typeof x === 'object' && x !== null) {
    // fromEntries defines own properties: a "__proto__" key stays a key.
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, normalize(v)]));
  }
  // JSON has no -0.
  return Object.is(x, -0) ? 0 : x;
}

describe('wire decoder (property)', () => {
  it('never throws on any string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        expectResult(decodeFrame(s));
        expectResult(decodeFrame(s, REQUEST_LIMITS));
      }),
      RUNS,
    );
  });

  it('never throws on any JSON value as a text frame', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expectResult(decodeFrame(JSON.stringify(v) ?? 'null', REQUEST_LIMITS));
      }),
      RUNS,
    );
  });

  it('never throws on any bytes, nor on a header length pointing anywhere', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (bytes, len) => {
        expectResult(decodeFrame(bytes.slice().buffer, REQUEST_LIMITS));
        const b = new Uint8Array(4 + bytes.byteLength);
        new DataView(b.buffer).setUint32(0, len % (bytes.byteLength + 16), true);
        b.set(bytes, 4);
        expectResult(decodeFrame(b.buffer, REQUEST_LIMITS));
      }),
      RUNS,
    );
  });

  it('decodes what it encodes, binary parts included, and keeps the request id', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.string({ minLength: 1, maxLength: 64 }),
        valueWithBytes,
        (id, name, params) => {
          const frame: WireFrame = { t: 'req', id, name, params };
          let data: string | ArrayBuffer;
          try {
            data = encodeFrame(frame);
          } catch {
            return; // too deep or too many parts: the sender's error, not the decoder's
          }
          const r = decodeFrame(data, WIRE_LIMITS);
          expect(r.ok).toBe(true);
          if (r.ok) expect(normalize(r.frame)).toEqual(normalize(frame));
          if (typeof data === 'string') {
            expect(peekRequestId(new TextEncoder().encode(data))).toBe(id);
          }
        },
      ),
      RUNS,
    );
  });

  it('refuses or decodes mutated binary frames, never throws', () => {
    fc.assert(
      fc.property(
        valueWithBytes,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.option(fc.nat()),
        (params, flips, cut) => {
          let data: string | ArrayBuffer;
          try {
            data = encodeFrame({
              t: 'req',
              id: 1,
              name: 'x',
              params: { p: params, b: new Uint8Array([1, 2, 3]).buffer },
            });
          } catch {
            return; // not encodable: the sender's error
          }
          const u8 = new Uint8Array(data as ArrayBuffer);
          for (const [at, v] of flips) u8[at % u8.byteLength] = v;
          const bytes = cut === null ? u8 : u8.subarray(0, cut % (u8.byteLength + 1));
          expectResult(decodeFrame(bytes, REQUEST_LIMITS));
        },
      ),
      RUNS,
    );
  });

  it('never lets a frame set a prototype or leave the frame through a part path', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(nastyKey, fc.nat({ max: 3 }), fc.constant('params')), {
          minLength: 1,
          maxLength: 5,
        }),
        (path) => {
          const header = JSON.stringify({
            f: { t: 'req', id: 3, name: 'x', params: { a: null, b: [null] } },
            b: [{ p: path, n: 1 }],
          });
          const h = new TextEncoder().encode(header);
          const u8 = new Uint8Array(4 + h.byteLength + 1);
          new DataView(u8.buffer).setUint32(0, h.byteLength, true);
          u8.set(h, 4);
          const r = decodeFrame(u8.buffer, REQUEST_LIMITS);
          expectResult(r);
          expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
          expect(Object.getPrototypeOf({})).toBe(Object.prototype);
          if (r.ok) {
            const params = (r.frame as { params: Record<string, unknown> }).params;
            expect(Object.getPrototypeOf(params)).toBe(Object.prototype);
          }
        },
      ),
      RUNS,
    );
  });
});
