/** Tests' in-memory WebSocket (SocketLike): the test plays the host at its other end. */
import { decodeFrame, encodeFrame, type WireFrame } from '../../src-shared/contract/wire';
import type { SocketLike } from './websocket';

/** An in-memory socket whose other end is the test. */
export class FakeSocket implements SocketLike {
  static all: FakeSocket[] = [];
  binaryType = 'blob';
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  readonly sent: WireFrame[] = [];
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  send(data: string | ArrayBuffer): void {
    const r = decodeFrame(data);
    if (!r.ok) throw new Error(r.error);
    this.sent.push(r.frame);
  }
  deliver(frame: WireFrame | string): void {
    this.onmessage?.({ data: typeof frame === 'string' ? frame : encodeFrame(frame) });
  }
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
  close(code = 1000, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}
