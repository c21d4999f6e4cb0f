/**
 * Trace files cross the contract in chunks of at most CONTRACT_LIMITS.traceChunkBytes, so no
 * single message (WebSocket frame, IPC message, reply) holds a whole file: these two helpers do
 * the chunking for any PssApi-like `request` (the renderer, tests, tools).
 */
import {
  CONTRACT_LIMITS,
  type Reply,
  type RequestName,
  type RequestParams,
  type RequestResults,
} from './contract';
import type { ErrorReply } from './model';

type Request = <N extends RequestName>(name: N, params: RequestParams<N>) => Promise<Reply<N>>;

/** The source of an upload: its size and a way to read a slice (File.slice().arrayBuffer()). */
export interface UploadSource {
  readonly size: number;
  slice(start: number, end: number): Promise<ArrayBuffer>;
}

/** Uploads a trace file and imports it: one importTrace when it fits in a chunk, else chunks. */
export async function uploadTrace(
  request: Request,
  fileName: string,
  source: UploadSource,
): Promise<Reply<'importTrace'>> {
  const chunk = CONTRACT_LIMITS.traceChunkBytes;
  if (source.size <= chunk) {
    return request('importTrace', { fileName, bytes: await source.slice(0, source.size) });
  }
  const begin = await request('importTraceBegin', { fileName, totalBytes: source.size });
  if (!begin.ok) return begin;
  const { uploadId } = begin.value;
  for (let offset = 0; offset < source.size; offset += chunk) {
    const bytes = await source.slice(offset, Math.min(source.size, offset + chunk));
    const r = await request('importTraceChunk', { uploadId, offset, bytes });
    if (!r.ok) {
      await request('importTraceAbort', { uploadId });
      return r;
    }
  }
  return request('importTraceEnd', { uploadId });
}

/** Downloads a session's trace file as its chunks, in order. */
export async function downloadTrace(
  request: Request,
  sessionId: string,
): Promise<
  { ok: true; fileName: string; parts: ArrayBuffer[] } | { ok: false; error: ErrorReply }
> {
  const parts: ArrayBuffer[] = [];
  let offset = 0;
  let fileName = '';
  for (;;) {
    const r = await request('exportTrace', { sessionId, offset });
    if (!r.ok) return r;
    const v: RequestResults['exportTrace'] = r.value;
    fileName = v.fileName;
    parts.push(v.bytes);
    offset += v.bytes.byteLength;
    if (offset >= v.totalBytes || v.bytes.byteLength === 0) break;
  }
  return { ok: true, fileName, parts };
}
