/**
 * `--open FILE` on the app's command line (`pss-inspector open FILE` starts the app so): the
 * trace to open, resolved against the directory the command ran in. Used for the first
 * instance's argv and for a second instance's (Electron's second-instance event hands over its
 * argv and working directory). No Electron import: tested in plain Node.
 */
import { resolve } from 'node:path';

export function openTraceArg(argv: readonly string[], cwd: string = process.cwd()): string | null {
  const i = argv.findIndex((a) => a === '--open' || a.startsWith('--open='));
  if (i < 0) return null;
  const a = argv[i] as string;
  const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1];
  return v ? resolve(cwd, v) : null;
}
