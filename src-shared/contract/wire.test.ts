import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, type WireFrame } from './wire';

function bytesOf(...xs: number[]): ArrayBuffer {
  return new Uint8Array(xs).buffer;
}

function binaryFrame(header: unknown, ...parts: Uint8Array[]): ArrayBuffer {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const total = 4 + h.byteLength + parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  new DataView(out.buffer).setUint32(0, h.byteLength, true);
  out.set(h, 4);
  let at = 4 + h.byteLength;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out.buffer;
}

describe('wire frames', () => {
  it('sends frames without binary data as text JSON', () => {
    const f: WireFrame = { t: 'req', id: 7, name: 'appInfo', params: {} };
    const enc = encodeFrame(f);
    expect(typeof enc).toBe('string');
    expect(decodeFrame(enc)).toEqual({ ok: true, frame: f });
  });

  it('moves every ArrayBuffer into binary parts and restores them in place', () => {
    const a = bytesOf(1, 2, 3, 4);
    const b = bytesOf(9);
    const f: WireFrame = {
      t: 'push',
      name: 'events',
      msg: { sessionId: 's1', firstSeq: 10, bytes: a, nested: [{ x: 1 }, { deep: b }] },
    };
    const enc = encodeFrame(f);
    expect(enc).toBeInstanceOf(ArrayBuffer);
    // The payload is raw bytes after the header, not JSON numbers.
    const text = new TextDecoder().decode(enc as ArrayBuffer);
    expect(text).not.toContain('[1,2,3,4]');
    const r = decodeFrame(enc);
    expect(r.ok).toBe(true);
    if (!r.ok || r.frame.t !== 'push') throw new Error('unreachable');
    const msg = r.frame.msg as { bytes: ArrayBuffer; nested: [unknown, { deep: ArrayBuffer }] };
    expect(msg.bytes).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(msg.bytes)]).toEqual([1, 2, 3, 4]);
    expect([...new Uint8Array(msg.nested[1].deep)]).toEqual([9]);
  });

  it('keeps empty ArrayBuffers and decodes from a Node Buffer view with an offset', () => {
    const f: WireFrame = {
      t: 'rep',
      id: 3,
      reply: { ok: true, value: { bytes: new ArrayBuffer(0) } },
    };
    const enc = encodeFrame(f) as ArrayBuffer;
    const padded = new Uint8Array(enc.byteLength + 5);
    padded.set(new Uint8Array(enc), 5);
    const r = decodeFrame(padded.subarray(5));
    expect(r.ok).toBe(true);
    if (!r.ok || r.frame.t !== 'rep') throw new Error('unreachable');
    expect((r.frame.reply as { value: { bytes: ArrayBuffer } }).value.bytes.byteLength).toBe(0);
  });

  it('refuses typed-array views on the sending side', () => {
    expect(() => encodeFrame({ t: 'push', name: 'x', msg: { b: new Uint8Array(2) } })).toThrow(
      /typed array/,
    );
  });

  const bad: [string, string | ArrayBuffer, RegExp, number | null][] = [
    ['not JSON', '{nope', /not valid JSON/, null],
    ['not an object', '[1,2]', /expected a JSON object/, null],
    ['unknown kind', '{"t":"zap"}', /frame\.t/, null],
    ['request without id', '{"t":"req","name":"appInfo","params":{}}', /frame\.id/, null],
    ['negative id', '{"t":"req","id":-1,"name":"appInfo"}', /frame\.id/, null],
    ['request without name', '{"t":"req","id":4,"params":{}}', /frame\.name/, 4],
    ['extra field', '{"t":"req","id":5,"name":"a","evil":1}', /unknown field/, 5],
    ['short binary', bytesOf(1, 2), /no header/, null],
    ['header without frame and parts', binaryFrame({}), /\{"f"/, null],
    [
      'header length too large',
      (() => {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setUint32(0, 1000, true);
        return b.buffer;
      })(),
      /exceeds the frame/,
      null,
    ],
    [
      'bad UTF-8',
      (() => {
        const b = new Uint8Array([2, 0, 0, 0, 0xc3, 0x28]);
        return b.buffer;
      })(),
      /UTF-8/,
      null,
    ],
    [
      'part longer than the frame',
      binaryFrame({
        f: { t: 'req', id: 1, name: 'x', params: { b: null } },
        b: [{ p: ['params', 'b'], n: 10 }],
      }),
      /exceeds the frame/,
      1,
    ],
    [
      'trailing bytes',
      binaryFrame(
        {
          f: { t: 'req', id: 2, name: 'x', params: { b: null } },
          b: [{ p: ['params', 'b'], n: 1 }],
        },
        new Uint8Array([1, 2]),
      ),
      /after the last part/,
      2,
    ],
    [
      'path into the prototype',
      binaryFrame(
        {
          f: { t: 'req', id: 3, name: 'x', params: { b: null } },
          b: [{ p: ['params', '__proto__'], n: 1 }],
        },
        new Uint8Array([1]),
      ),
      /leaves the message/,
      3,
    ],
    [
      'path to a non-null slot',
      binaryFrame(
        { f: { t: 'req', id: 6, name: 'x', params: { b: 5 } }, b: [{ p: ['params', 'b'], n: 1 }] },
        new Uint8Array([1]),
      ),
      /does not end at a null/,
      6,
    ],
    [
      'path replacing the frame kind',
      binaryFrame({ f: { t: 'req', id: 8, name: 'x', params: {} }, b: [{ p: ['t'], n: 0 }] }),
      /bad path/,
      8,
    ],
  ];
  for (const [what, input, error, id] of bad) {
    it(`rejects ${what} without throwing`, () => {
      const r = decodeFrame(input);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error).toMatch(error);
      expect(r.id).toBe(id);
    });
  }

  it('survives random garbage', () => {
    let seed = 12345;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const good = encodeFrame({
      t: 'req',
      id: 1,
      name: 'importTrace',
      params: { fileName: 'a', bytes: bytesOf(1, 2, 3) },
    }) as ArrayBuffer;
    for (let i = 0; i < 2000; i++) {
      const b = new Uint8Array(good.slice(0));
      for (let k = 0; k < 3; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      expect(() => decodeFrame(b.buffer)).not.toThrow();
      expect(() => decodeFrame(new TextDecoder().decode(b))).not.toThrow();
    }
  });
});
