/**
 * The fixture launcher fails with a clear error, never a hang, when the program cannot start
 * (a checkout whose native build has not run: `spawn` then emits 'error' and no 'exit').
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startFixture } from './fixture';

const dir = mkdtempSync(join(tmpdir(), 'pss-fixture-launch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('startFixture', () => {
  it('a missing program is an error naming it and the build command', async () => {
    const missing = join(dir, 'no-such-fixture');
    await expect(startFixture({}, { path: missing })).rejects.toThrow(
      new RegExp(`cannot start ${missing}: .*ENOENT.*npm run build:native`),
    );
  });

  it('a program that exits before READY is an error with its exit code', async () => {
    const script = join(dir, 'exits');
    writeFileSync(script, '#!/bin/sh\nexit 3\n', { mode: 0o755 });
    await expect(startFixture({}, { path: script })).rejects.toThrow(
      /exited \(code 3\) before READY/,
    );
  });

  it('READY without the ground truth line is refused', async () => {
    const script = join(dir, 'ready-only');
    writeFileSync(script, '#!/bin/sh\necho READY\nread x\n', { mode: 0o755 });
    await expect(startFixture({}, { path: script })).rejects.toThrow(
      /without its JSON ground truth/,
    );
  });
});
