/**
 * The WebSocket wire format of web mode (the Electron adapter uses IPC + a MessagePort instead).
 *
 * Three frame kinds, all plain data:
 *   request  {t:'req',  id, name, params}   browser → host
 *   reply    {t:'rep',  id, reply}          host → browser (reply is a contract Reply)
 *   push     {t:'push', name, msg}          host → browser (msg is a PushMessages value)
 *
 * A frame without binary data travels as a text WebSocket message holding its JSON. A frame
 * with ArrayBuffers anywhere inside (event batches, trace files) travels as ONE binary message:
 *
 *   u32 LE headerBytes | header JSON (UTF-8) | part 0 bytes | part 1 bytes | …
 *   header = {"f": frame with every ArrayBuffer replaced by null,
 *             "b": [{"p": [path to the ArrayBuffer inside f], "n": byteLength}, …]}
 *
 * so event records are never turned into JSON numbers. Decoding is for untrusted input: it
 * never throws, it returns a failure (with the request id when one could be read) so the
 * caller can answer with an error and keep the connection.
 *
 * No Node or DOM imports: the browser bridge and the web server both use this file.
 */
import { CONTRACT_LIMITS, PUSH_NAMES, type PushMessages, type PushName } from './contract';

export type WireFrame =
  | { t: 'req'; id: number; name: string; params: unknown }
  | { t: 'rep'; id: number; reply: unknown }
  | { t: 'push'; name: string; msg: unknown };

export type DecodeResult =
  | { ok: true; frame: WireFrame }
  | {
      ok: false;
      error: string;
      /** The request id, when the frame was a request whose id could be read. */
      id: number | null;
    };

export interface FrameLimits {
  /** Largest binary frame. */
  maxFrameBytes: number;
  /** Largest JSON header of a binary frame. */
  maxHeaderBytes: number;
  /** Largest text frame, in characters (the host also checks its bytes before decoding). */
  maxTextChars: number;
}

/** What a page accepts from the host (replies and pushes: pages of events, trace chunks…). */
export const WIRE_LIMITS = {
  maxFrameBytes: 512 * 1024 * 1024,
  maxHeaderBytes: 64 * 1024 * 1024,
  maxTextChars: 64 * 1024 * 1024,
  maxParts: 64,
  maxPathDepth: 32,
  maxNameLength: 64,
} as const;

/**
 * What the host accepts from a page, fitted to real requests: the largest binary request is
 * one trace chunk (importTraceChunk); text requests are small JSON (the largest real one, a
 * faulty allocator with 10,000 failure indices, is about 110 KB). The host checks these on the
 * frame's byte length before decoding anything.
 */
export const REQUEST_LIMITS = {
  maxFrameBytes: CONTRACT_LIMITS.traceChunkBytes + 64 * 1024,
  maxHeaderBytes: 64 * 1024,
  maxTextChars: 1024 * 1024,
} as const;

type PathSeg = string | number;
interface Part {
  path: PathSeg[];
  buffer: ArrayBuffer;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const utf8Encoder = new TextEncoder();

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null) return false;
  const proto: unknown = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function collectBinaries(value: unknown, path: PathSeg[], out: Part[], depth: number): void {
  if (value instanceof ArrayBuffer) {
    out.push({ path: path.slice(), buffer: value });
    return;
  }
  if (ArrayBuffer.isView(value)) {
    throw new TypeError(
      `wire: ${path.join('.') || 'message'} is a typed array view; send its ArrayBuffer (slice it to the view) instead`,
    );
  }
  if (typeof value !== 'object' || value === null) return;
  if (depth > WIRE_LIMITS.maxPathDepth) {
    throw new TypeError(`wire: message nested deeper than ${WIRE_LIMITS.maxPathDepth} levels`);
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === 'object' && v !== null) {
        path.push(i);
        collectBinaries(v, path, out, depth + 1);
        path.pop();
      }
    }
    return;
  }
  if (!isPlainObject(value)) return;
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (typeof v === 'object' && v !== null) {
      if (FORBIDDEN_KEYS.has(key) && containsBinary(v, depth + 1)) {
        // The decoder never follows such a key (prototype safety): do not write what it refuses.
        throw new TypeError(`wire: binary data under the key "${key}" cannot be sent`);
      }
      path.push(key);
      collectBinaries(v, path, out, depth + 1);
      path.pop();
    }
  }
}

function containsBinary(value: unknown, depth: number): boolean {
  if (value instanceof ArrayBuffer) return true;
  if (typeof value !== 'object' || value === null || depth > WIRE_LIMITS.maxPathDepth) return false;
  return Object.values(value).some((v) => containsBinary(v, depth + 1));
}

/**
 * Encodes one frame: a string (text message) when it holds no ArrayBuffer, else an ArrayBuffer
 * (binary message). Throws only on programming errors (typed-array views, cycles, too deep).
 */
export function encodeFrame(frame: WireFrame): string | ArrayBuffer {
  const parts: Part[] = [];
  collectBinaries(frame, [], parts, 0);
  if (parts.length === 0) return JSON.stringify(frame);
  if (parts.length > WIRE_LIMITS.maxParts) {
    throw new TypeError(`wire: more than ${WIRE_LIMITS.maxParts} binary parts in one message`);
  }
  const f = JSON.stringify(frame, (_key, v: unknown) => (v instanceof ArrayBuffer ? null : v));
  const header = utf8Encoder.encode(
    `{"f":${f},"b":${JSON.stringify(parts.map((p) => ({ p: p.path, n: p.buffer.byteLength })))}}`,
  );
  let total = 4 + header.byteLength;
  for (const p of parts) total += p.buffer.byteLength;
  const out = new Uint8Array(total);
  new DataView(out.buffer).setUint32(0, header.byteLength, true);
  out.set(header, 4);
  let at = 4 + header.byteLength;
  for (const p of parts) {
    out.set(new Uint8Array(p.buffer), at);
    at += p.buffer.byteLength;
  }
  return out.buffer;
}

const fail = (error: string, id: number | null = null): DecodeResult => ({ ok: false, error, id });

function readId(x: unknown): number | null {
  if (!isPlainObject(x) || x.t !== 'req') return null;
  const id = x.id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : null;
}

function checkFrame(x: unknown): DecodeResult {
  if (!isPlainObject(x)) return fail('frame: expected a JSON object');
  const keys = Object.keys(x);
  const allow = (names: string[]): string | null => {
    for (const k of keys) if (!names.includes(k)) return k;
    return null;
  };
  const validName = (n: unknown): n is string =>
    typeof n === 'string' && n.length > 0 && n.length <= WIRE_LIMITS.maxNameLength;
  switch (x.t) {
    case 'req': {
      const id = readId(x);
      if (id === null) return fail('frame.id: expected a non-negative integer request id');
      const extra = allow(['t', 'id', 'name', 'params']);
      if (extra !== null) return fail(`frame.${extra.slice(0, 40)}: unknown field`, id);
      if (!validName(x.name)) return fail('frame.name: expected a request name', id);
      return { ok: true, frame: { t: 'req', id, name: x.name, params: x.params } };
    }
    case 'rep': {
      const id = x.id;
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
        return fail('frame.id: expected a non-negative integer request id');
      }
      const extra = allow(['t', 'id', 'reply']);
      if (extra !== null) return fail(`frame.${extra.slice(0, 40)}: unknown field`);
      return { ok: true, frame: { t: 'rep', id, reply: x.reply } };
    }
    case 'push': {
      const extra = allow(['t', 'name', 'msg']);
      if (extra !== null) return fail(`frame.${extra.slice(0, 40)}: unknown field`);
      if (!validName(x.name)) return fail('frame.name: expected a push name');
      return { ok: true, frame: { t: 'push', name: x.name, msg: x.msg } };
    }
    default:
      return fail('frame.t: expected "req", "rep" or "push"');
  }
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { ok: false, error: `frame is not valid JSON (${(e as Error).message.slice(0, 120)})` };
  }
}

function toBytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  return data instanceof ArrayBuffer
    ? new Uint8Array(data)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * The request id of a frame too large to decode, read from its first bytes when the frame
 * starts the way encodeFrame writes requests (`{"t":"req","id":N`), so the refusal can go to the
 * request that is waiting for it. Null when it does not.
 */
export function peekRequestId(head: Uint8Array): number | null {
  let text = '';
  for (let i = 0; i < Math.min(head.byteLength, 64); i++)
    text += String.fromCharCode(head[i] as number);
  const m = /^\{\s*"t"\s*:\s*"req"\s*,\s*"id"\s*:\s*(\d{1,16})\s*[,}]/.exec(text);
  if (!m) return null;
  const id = Number(m[1]);
  return Number.isSafeInteger(id) ? id : null;
}

/** Decodes one WebSocket message (text or binary). Never throws. */
export function decodeFrame(
  data: string | ArrayBuffer | ArrayBufferView,
  limits: FrameLimits = WIRE_LIMITS,
): DecodeResult {
  try {
    if (typeof data === 'string') {
      if (data.length > limits.maxTextChars) {
        return fail(
          `text frame of ${data.length} characters is larger than the ${limits.maxTextChars}-character limit`,
        );
      }
      const r = parseJson(data);
      return r.ok ? checkFrame(r.value) : fail(r.error);
    }
    return decodeBinary(toBytes(data), limits);
  } catch (e) {
    // Defensive: nothing above should throw, but untrusted input must never escape as one.
    return fail(`malformed frame (${e instanceof Error ? e.message : String(e)})`);
  }
}

function decodeBinary(u8: Uint8Array, limits: FrameLimits): DecodeResult {
  if (u8.byteLength > limits.maxFrameBytes) return fail('binary frame too large');
  if (u8.byteLength < 4) return fail(`binary frame of ${u8.byteLength} bytes has no header`);
  const headerBytes = new DataView(u8.buffer, u8.byteOffset, 4).getUint32(0, true);
  if (headerBytes > limits.maxHeaderBytes || 4 + headerBytes > u8.byteLength) {
    return fail(`binary frame header length ${headerBytes} exceeds the frame`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(u8.subarray(4, 4 + headerBytes));
  } catch {
    return fail('binary frame header is not valid UTF-8');
  }
  const r = parseJson(text);
  if (!r.ok) return fail(r.error);
  const h = r.value;
  if (
    !isPlainObject(h) ||
    !Array.isArray(h.b) ||
    Object.keys(h).some((k) => k !== 'f' && k !== 'b')
  ) {
    return fail('binary frame header: expected {"f": frame, "b": [parts]}');
  }
  const id = readId(h.f);
  const checked = checkFrame(h.f);
  if (!checked.ok) return checked;
  const parts: unknown[] = h.b;
  if (parts.length > WIRE_LIMITS.maxParts) return fail('binary frame: too many parts', id);
  let at = 4 + headerBytes;
  // Parts are placed into the frame the checks above returned (a fresh object graph from JSON).
  const root: Record<string, unknown> = checked.frame as unknown as Record<string, unknown>;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (!isPlainObject(part) || !Array.isArray(part.p) || typeof part.n !== 'number') {
      return fail(`binary frame: part ${i} is not {"p": path, "n": length}`, id);
    }
    const n = part.n;
    const path: unknown[] = part.p;
    if (!Number.isSafeInteger(n) || n < 0 || at + n > u8.byteLength) {
      return fail(`binary frame: part ${i} length ${n} exceeds the frame`, id);
    }
    const head = path[0];
    if (
      path.length < 1 ||
      path.length > WIRE_LIMITS.maxPathDepth ||
      (head !== 'params' && head !== 'reply' && head !== 'msg')
    ) {
      return fail(`binary frame: part ${i} has a bad path`, id);
    }
    let parent: unknown = root;
    for (let k = 0; k < path.length; k++) {
      const seg = path[k];
      const container = parent;
      let next: unknown;
      if (typeof seg === 'number' && Array.isArray(container)) {
        if (!Number.isInteger(seg) || seg < 0 || seg >= container.length) {
          return fail(`binary frame: part ${i} path leaves the message`, id);
        }
        next = container[seg];
        if (k === path.length - 1) {
          if (next !== null) return fail(`binary frame: part ${i} path does not end at a null`, id);
          container[seg] = u8.slice(at, at + n).buffer;
        }
      } else if (typeof seg === 'string' && isPlainObject(container) && !FORBIDDEN_KEYS.has(seg)) {
        if (!Object.prototype.hasOwnProperty.call(container, seg)) {
          return fail(`binary frame: part ${i} path leaves the message`, id);
        }
        next = container[seg];
        if (k === path.length - 1) {
          if (next !== null) return fail(`binary frame: part ${i} path does not end at a null`, id);
          container[seg] = u8.slice(at, at + n).buffer;
        }
      } else {
        return fail(`binary frame: part ${i} path leaves the message`, id);
      }
      parent = next;
    }
    at += n;
  }
  if (at !== u8.byteLength) {
    return fail(`binary frame: ${u8.byteLength - at} bytes after the last part`, id);
  }
  return { ok: true, frame: checked.frame };
}

// ---- push delivery, shared by the preload and the browser bridge ---------------------------

type AnyListener = (message: never) => void;

/** Listeners per push name; a listener that throws does not stop the others. */
export class PushListeners {
  private readonly byName = new Map<PushName, Set<AnyListener>>();

  add<P extends PushName>(name: P, listener: (message: PushMessages[P]) => void): () => void {
    if (!(PUSH_NAMES as readonly string[]).includes(name)) {
      throw new TypeError(`unknown push ${JSON.stringify(name)}`);
    }
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    let set = this.byName.get(name);
    if (!set) this.byName.set(name, (set = new Set()));
    const l = listener as AnyListener;
    set.add(l);
    return () => {
      set.delete(l);
    };
  }

  dispatch<P extends PushName>(name: P, message: PushMessages[P]): void {
    const set = this.byName.get(name);
    if (!set) return;
    for (const l of [...set]) {
      try {
        (l as (m: PushMessages[P]) => void)(message);
      } catch (e) {
        console.error(`pss: a "${name}" listener threw`, e);
      }
    }
  }

  count(name: PushName): number {
    return this.byName.get(name)?.size ?? 0;
  }
}
