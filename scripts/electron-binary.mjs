// Where the Electron binary is, without triggering electron's own download-on-require.
// Electron >= 42 installs without its binary and fetches it at first launch; offline that fails.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** @returns {{ path: string | null, reason: string, packageDir: string | null }} */
export function locateElectron() {
  let packageDir;
  try {
    packageDir = dirname(require.resolve('electron/package.json'));
  } catch {
    return { path: null, reason: 'the electron package is not installed', packageDir: null };
  }
  const pathFile = join(packageDir, 'path.txt');
  const exe = existsSync(pathFile)
    ? readFileSync(pathFile, 'utf8').trim()
    : process.platform === 'win32'
      ? 'electron.exe'
      : 'electron';
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const full = override ? join(override, exe) : join(packageDir, 'dist', exe);
  if (existsSync(full)) return { path: full, reason: 'found', packageDir };
  return {
    path: null,
    reason: override
      ? `ELECTRON_OVERRIDE_DIST_PATH is set but ${full} does not exist`
      : `the Electron binary has not been downloaded yet (${full} is missing)`,
    packageDir,
  };
}
