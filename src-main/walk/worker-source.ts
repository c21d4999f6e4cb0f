/**
 * How to start one of our worker threads: the bundled `<bundle>.js` next to the built main
 * (electron-vite's out/main), or, in a source checkout, the `source` module through tsx
 * (a path relative to this folder, or a URL).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function workerSource(
  source: string | URL,
  bundle: string,
): { file: string; eval: boolean } {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    const tsx = import.meta.resolve('tsx/esm/api');
    const url = (typeof source === 'string' ? new URL(`./${source}`, import.meta.url) : source)
      .href;
    return {
      file: `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(url)}); })`,
      eval: true,
    };
  }
  for (const dir of [dirname(here), join(dirname(here), '..')]) {
    const file = join(dir, bundle);
    if (existsSync(file)) return { file, eval: false };
  }
  throw new Error(`${bundle} not found next to ${here}; run "electron-vite build"`);
}
