/**
 * What both adapters need to build a host: the app's version and the native library's path (for
 * appInfo), and where the built renderer is.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findLibpss } from '../pss/locate';

/** The app root: the folder with package.json above this module (src-main/host or out/main). */
export function appRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = resolve(dir, '..');
  }
  return resolve(from, '..', '..');
}

export function appVersion(root = appRoot()): string {
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** The Pss implementation in use, or why there is none. */
export function libraryDescription(): string {
  if (process.platform === 'win32') return 'kernel32.dll';
  try {
    return findLibpss();
  } catch (e) {
    return `unavailable: ${(e as Error).message}`;
  }
}

/** The built renderer (out/renderer) next to the bundled main, or under the app root. */
export function rendererDir(root = appRoot()): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const bundled = join(here, '..', 'renderer');
  if (existsSync(join(bundled, 'index.html'))) return bundled;
  return join(root, 'out', 'renderer');
}
