/**
 * Thread contexts through the binding against the real libpss: every thread of a fixture
 * gets its registers, and the capture leaves nothing behind in this (Node) process — no
 * extra child, no open fd — because libpss does its ptrace work in a helper task that it
 * reaps before returning (libpss/README.md, "Thread context without side effects").
 */
import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixture, type RunningFixture } from '../testing/fixture';
import { ProcessHandle, Snapshot } from './snapshot';
import { ContextFlags, PssCaptureFlags, PssProcessFlags } from '../../src-shared/pss/constants';
import type { ThreadEntry } from '../../src-shared/pss/entries';

const CONTEXT_CAPTURE = PssCaptureFlags.THREADS | PssCaptureFlags.THREAD_CONTEXT;

/** Child pids of this process, from every thread's /proc children list. */
function children(): number[] {
  const pids: number[] = [];
  for (const tid of readdirSync('/proc/self/task')) {
    const text = readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim();
    if (text !== '') pids.push(...text.split(/\s+/).map(Number));
  }
  return pids.sort((a, b) => a - b);
}

describe('thread contexts through the binding', () => {
  let fx: RunningFixture;
  beforeAll(async () => {
    fx = await startFixture({ threads: 8, pipes: 2 });
  }, 30_000);
  afterAll(async () => {
    await fx?.stop();
  });

  it('every thread has its registers; no child or fd is left in this process', () => {
    const childrenBefore = children();
    const fdsBefore = readdirSync('/proc/self/fd').length;
    const proc = ProcessHandle.open(fx.pid);
    try {
      for (let i = 0; i < 10; i++) {
        const snap = Snapshot.capture(proc, CONTEXT_CAPTURE, ContextFlags.ALL);
        try {
          expect(snap.processInformation().flags & PssProcessFlags.FROZEN).toBe(0);
          const threads = [...snap.entries('THREADS')] as ThreadEntry[];
          expect(threads.map((t) => t.threadId).sort((a, b) => a - b)).toEqual(
            [...fx.truth.tids].sort((a, b) => a - b),
          );
          for (const t of threads) {
            expect(t.suspendCount).toBe(0);
            expect(t.context, `thread ${t.threadId}`).not.toBeNull();
            expect(t.context?.contextFlags).toBe(ContextFlags.ALL);
            expect(BigInt(t.context?.rip ?? 0)).not.toBe(0n);
            expect(BigInt(t.context?.rsp ?? 0)).not.toBe(0n);
          }
        } finally {
          snap.free();
        }
      }
    } finally {
      proc.close();
    }
    expect(children()).toEqual(childrenBefore);
    expect(readdirSync('/proc/self/fd').length).toBe(fdsBefore);
  });
});
