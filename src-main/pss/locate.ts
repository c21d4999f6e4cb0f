/**
 * Where the Pss library is, and the error when it cannot be loaded: koffi-free, so the main
 * thread (appInfo, error replies) can use them without loading the binding (native calls
 * happen in the walk worker only). ./library.ts re-exports both.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export class PssLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PssLoadError';
  }
}

/**
 * Where libpss.so is: $PSS_LIBRARY, the packaged app's resources, or the source tree's
 * libpss/build (walking up from this module, which lives in src-main/pss or out/main).
 */
export function findLibpss(): string {
  const fromEnv = process.env['PSS_LIBRARY'];
  if (fromEnv) return fromEnv;
  const candidates: string[] = [];
  const resourcesPath = (process as { resourcesPath?: string }).resourcesPath;
  if (resourcesPath) candidates.push(join(resourcesPath, 'libpss', 'libpss.so'));
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    candidates.push(join(dir, 'libpss', 'build', 'libpss.so'));
    dir = resolve(dir, '..');
  }
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new PssLoadError(
      `libpss.so was not found (looked in ${candidates.join(', ')}). Build it with "npm run build:native" (needs gcc and make), or set PSS_LIBRARY.`,
    );
  }
  return found;
}
