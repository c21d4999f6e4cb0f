/**
 * Drag and drop of a trace file onto the window: while files are dragged over it, an overlay
 * says what a drop does; a drop opens the file as "Open trace…" does (uploaded to the host in
 * chunks, in Electron and in web mode alike). The listeners are on the window, so a drop lands
 * anywhere, and neither the browser nor Electron ever navigates to the dropped file. Keyboard
 * and screen-reader users have "Open trace…" (Ctrl+O in the app's menu) for the same thing.
 */
import { useEffect, useState } from 'react';
import { importTrace } from '../api/actions';
import { appStore } from '../store';

const hasFiles = (e: DragEvent): boolean => e.dataTransfer?.types.includes('Files') ?? false;

/** What a drop of `files` opens: the first file, or an error when there is none or several. */
export function droppedTrace(files: readonly { name: string }[]): { index: number } | string {
  if (files.length === 0) return 'Nothing was dropped: drop a .psstrace file to open it.';
  if (files.length > 1)
    return `${files.length} files were dropped: drop one .psstrace file at a time.`;
  return { index: 0 };
}

export function DropTarget() {
  const [over, setOver] = useState(false);
  useEffect(() => {
    // dragenter/dragleave fire for every element crossed: count them to know when it left.
    let depth = 0;
    const enter = (e: DragEvent): void => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth++;
      setOver(true);
    };
    const overWindow = (e: DragEvent): void => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    };
    const leave = (e: DragEvent): void => {
      if (!hasFiles(e)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) setOver(false);
    };
    const drop = (e: DragEvent): void => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      setOver(false);
      const files = [...(e.dataTransfer?.files ?? [])];
      const pick = droppedTrace(files);
      if (typeof pick === 'string') {
        appStore.get().setBanner({
          kind: 'validation',
          code: null,
          codeName: null,
          message: pick,
          hint: 'Drop a single trace file (.psstrace), or use Open trace….',
        });
        return;
      }
      void importTrace(files[pick.index] as File);
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragover', overWindow);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragover', overWindow);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, []);
  if (!over) return null;
  return (
    <div className="drop-overlay" data-testid="drop-overlay" aria-hidden="true">
      <div className="drop-overlay-text">Drop a .psstrace file to open it</div>
    </div>
  );
}
