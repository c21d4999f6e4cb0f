/**
 * ARCHITECTURE.md: native calls happen in the walk worker, never on the main thread. Importing
 * everything the main thread runs (host, web server, walk client, trace code) in a fresh Node
 * must not load koffi's native module; the walk worker's own graph does (the control).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

/** Imports `modules` in a fresh Node and says whether koffi's .node file got loaded. */
function loadsKoffi(modules: string[]): boolean {
  const code = `
    for (const m of ${JSON.stringify(modules)}) await import(m);
    const libs = process.report.getReport().sharedObjects;
    console.log(JSON.stringify(libs.some((l) => /koffi/i.test(l))));
  `;
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', code],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  return JSON.parse(out.trim().split('\n').at(-1) ?? 'null') as boolean;
}

describe('the main thread', () => {
  it('never loads koffi: host, web server, walk client, trace store and exports are koffi-free', () => {
    expect(
      loadsKoffi([
        join(ROOT, 'src-main/host/index.ts'),
        join(ROOT, 'src-main/web/server.ts'),
        join(ROOT, 'src-main/walk/client.ts'),
        join(ROOT, 'src-main/walk/trace-store.ts'),
        join(ROOT, 'src-main/trace/open-trace.ts'),
      ]),
    ).toBe(false);
  });

  it('(control) the binding does load it', () => {
    expect(loadsKoffi([join(ROOT, 'src-main/pss/index.ts')])).toBe(true);
  });
});
