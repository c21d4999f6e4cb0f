/**
 * Reading native memory leaves nothing behind (koffi 3.3's koffi.decode and koffi.view each
 * leak native memory on every call; a walk decodes a string per entry, so sessions leaked
 * ~0.5 MB each). glibc's mallinfo2 counts the bytes malloc has handed out and not got back.
 */
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { nativeMemory } from './native-memory';
import { utf16At } from './decode';

const libc = koffi.load('libc.so.6');
const MallInfo2 = koffi.struct('pss_test_mallinfo2', {
  arena: 'size_t',
  ordblks: 'size_t',
  smblks: 'size_t',
  hblks: 'size_t',
  hblkhd: 'size_t',
  usmblks: 'size_t',
  fsmblks: 'size_t',
  uordblks: 'size_t',
  fordblks: 'size_t',
  keepcost: 'size_t',
});
const mallinfo2 = libc.func('mallinfo2', MallInfo2, []) as () => { uordblks: number | bigint };
const inUse = (): number => Number(mallinfo2().uordblks);

/** Bytes in use once garbage is collected and its native stores are freed (≤ 2 s of tries). */
async function settled(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  let last = Infinity;
  for (let i = 0; i < 40; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = inUse();
    if (now >= last - 4096) return Math.min(now, last);
    last = now;
  }
  return last;
}

describe.runIf(process.platform === 'linux')('native memory reads', () => {
  it('decoding 200,000 strings leaves no native memory behind', async () => {
    const text = 'C:\\\\Windows\\\\System32\\\\ntdll.dll';
    const block = nativeMemory.malloc((text.length + 1) * 2);
    const u16 = new Uint16Array(text.length + 1);
    for (let i = 0; i < text.length; i++) u16[i] = text.charCodeAt(i);
    nativeMemory.view(block, u16.byteLength).set(new Uint8Array(u16.buffer));
    expect(utf16At(block, u16.byteLength)).toBe(text);
    // koffi.decode kept ~18 bytes a call: 3.6 MB per round, in every round. The copies this
    // makes are ArrayBuffers whose malloc'd stores V8 frees on a background sweeper *after* gc()
    // returns, so a count taken right after gc() still holds some of them (a loop run saw 0.6–1.1
    // MB in every round under load). settled() collects until the count stops falling; the best
    // of five rounds is what must stay small: a leak shows in all.
    const grew: number[] = [];
    for (let round = 0; round < 5; round++) {
      const before = await settled();
      for (let i = 0; i < 200_000; i++) utf16At(block, u16.byteLength);
      grew.push((await settled()) - before);
    }
    expect(Math.min(...grew), `growth per round: ${grew.join(', ')}`).toBeLessThan(512 * 1024);
    const bytes = nativeMemory.copyOut(block, 4);
    expect([...bytes]).toEqual([text.charCodeAt(0), 0, text.charCodeAt(1), 0]);
    nativeMemory.free(block);
  });
});
