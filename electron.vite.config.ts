import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

const root = import.meta.dirname;

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      externalizeDeps: true,
      rollupOptions: {
        input: {
          // Electron entry (window, menu, IPC adapter).
          index: resolve(root, 'src-main/electron/main.ts'),
          // Plain-Node entry: the same host served to a browser over loopback.
          web: resolve(root, 'src-main/web/main.ts'),
          // The headless CLI (bin/pss-inspector.mjs loads it): same walk and trace code.
          cli: resolve(root, 'src-main/cli/main.ts'),
          // The walk worker (capture + walk run off the UI thread).
          'walk-worker': resolve(root, 'src-main/walk/worker.ts'),
          // Walks with a user allocator library run in a child process of their own.
          'walk-child': resolve(root, 'src-main/walk/walk-child.ts'),
          // Imported trace files are read and validated off the main thread, one worker each.
          'trace-import-worker': resolve(root, 'src-main/trace/import-worker.ts'),
          // A recording's trace file is encoded, compressed and written off the walk's and
          // the caller's threads (the CLI's walk --out).
          'trace-writer-worker': resolve(root, 'src-main/trace/live-writer-worker.ts'),
        },
        output: { format: 'es', entryFileNames: '[name].js' },
      },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      rollupOptions: {
        input: { index: resolve(root, 'src-preload/index.ts') },
        // Sandboxed preloads must be CommonJS.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'src-renderer'),
    plugins: [react()],
    // The analysis worker (src-renderer/analysis) is an ES module worker, bundled as its own file.
    worker: { format: 'es' },
    build: {
      outDir: resolve(root, 'out/renderer'),
      rollupOptions: { input: { index: resolve(root, 'src-renderer/index.html') } },
    },
  },
});
