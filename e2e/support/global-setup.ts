/**
 * Builds the page-side helper bundle (e2e/page/entry.ts → out/e2e/pss-page.js, an IIFE with
 * the global `PssPage`) with Vite, which the project already uses, and checks that the app
 * build that web mode serves exists.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';

export const ROOT = join(import.meta.dirname, '..', '..');
export const PAGE_BUNDLE = join(ROOT, 'out', 'e2e', 'pss-page.js');

export async function buildPageBundle(): Promise<string> {
  await build({
    configFile: false,
    logLevel: 'warn',
    root: ROOT,
    build: {
      outDir: join(ROOT, 'out', 'e2e'),
      emptyOutDir: true,
      minify: false,
      lib: {
        entry: join(ROOT, 'e2e', 'page', 'entry.ts'),
        name: 'PssPage',
        formats: ['iife'],
        fileName: () => 'pss-page.js',
      },
    },
  });
  return PAGE_BUNDLE;
}

export default async function globalSetup(): Promise<void> {
  for (const f of ['out/main/web.js', 'out/main/walk-worker.js', 'out/renderer/index.html']) {
    if (!existsSync(join(ROOT, f))) {
      throw new Error(
        `${f} is missing: run "npm run build" (electron-vite build) before "playwright test"`,
      );
    }
  }
  await buildPageBundle();
}
