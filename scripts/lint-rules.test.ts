/**
 * The layer rules of eslint.config.js hold: each is proven by planting a violation in a file
 * of the folder it guards (linted in memory with the project's own config, nothing written),
 * and by the allowed form passing.
 */
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const eslint = new ESLint({ cwd: ROOT });

async function problems(path: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: join(ROOT, path) });
  return (r?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

const restricted = (list: string[]): string[] => list.filter((m) => /restricted-imports/.test(m));

describe('layer rules', () => {
  it('no deep imports into src-main/pss from other folders (the index, errors and locate only)', async () => {
    const deep = await problems(
      'src-main/walk/planted.ts',
      "import { nativeMemory } from '../pss/native-memory';\nexport const m = nativeMemory;\n",
    );
    expect(restricted(deep).join('\n')).toMatch(/src-main\/pss \(its index\)/);
    const deeper = await problems(
      'src-main/trace/export/planted.ts',
      "import { loadPss } from '../../pss/library';\nexport const l = loadPss;\n",
    );
    expect(restricted(deeper)).toHaveLength(1);
    for (const ok of [
      "import { nativeMemory } from '../pss';\nexport const m = nativeMemory;\n",
      "import { PssError } from '../pss/errors';\nexport const e = PssError;\n",
      "import { findLibpss } from '../pss/locate';\nexport const f = findLibpss;\n",
      "import type { NativeAllocator } from '../pss/allocator';\nexport type A = NativeAllocator;\n",
      "import { Win32Error } from '../../src-shared/pss/constants';\nexport const w = Win32Error;\n",
    ])
      expect(restricted(await problems('src-main/walk/planted.ts', ok))).toEqual([]);
    // inside the binding, its files import each other
    expect(
      restricted(
        await problems(
          'src-main/pss/planted.ts',
          "import { nativeMemory } from './native-memory';\nexport const m = nativeMemory;\n",
        ),
      ),
    ).toEqual([]);
  });

  it('electron only in src-main/electron (and the preload)', async () => {
    const code = "import { app } from 'electron';\nexport const a = app;\n";
    for (const path of [
      'src-main/host/planted.ts',
      'src-main/web/planted.ts',
      'src-main/cli/planted.ts',
    ])
      expect(restricted(await problems(path, code)).join('\n')).toMatch(/Electron is used only/);
    expect(
      restricted(
        await problems(
          'src-main/host/planted.ts',
          "import x from 'electron/main';\nexport const a = x;\n",
        ),
      ),
    ).toHaveLength(1);
    expect(restricted(await problems('src-main/electron/planted.ts', code))).toEqual([]);
    expect(restricted(await problems('src-renderer/planted.ts', code))).toHaveLength(1);
  });

  it('zustand only in src-renderer/store', async () => {
    const code = "import { create } from 'zustand';\nexport const c = create;\n";
    expect(restricted(await problems('src-renderer/views/planted.ts', code)).join('\n')).toMatch(
      /Use src-renderer\/store/,
    );
    expect(
      restricted(
        await problems(
          'src-renderer/charts/planted.ts',
          "import { useShallow } from 'zustand/react/shallow';\nexport const u = useShallow;\n",
        ),
      ),
    ).toHaveLength(1);
    expect(restricted(await problems('src-renderer/store/planted.ts', code))).toEqual([]);
  });
});
