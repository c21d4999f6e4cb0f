/**
 * Every keyboard shortcut of the app, in one place: the help overlay lists this table and the
 * handlers (App, SessionBar, VirtualTable, the tab lists) implement exactly these keys.
 */
export interface Shortcut {
  keys: string[];
  what: string;
}
export interface ShortcutGroup {
  title: string;
  items: Shortcut[];
}

export const SHORTCUTS: ShortcutGroup[] = [
  {
    title: 'Anywhere',
    items: [
      {
        keys: ['Alt+1', '…', 'Alt+6'],
        what: 'Go to Processes, Capture, Walk, Allocations, Snapshot, Compare',
      },
      { keys: ['?', 'F1'], what: 'Show these shortcuts' },
      { keys: ['Esc'], what: 'Close a dialog' },
      { keys: ['Tab', 'Shift+Tab'], what: 'Move between controls' },
    ],
  },
  {
    title: 'Tabs (views, sub-tabs, panels)',
    items: [
      { keys: ['←', '→'], what: 'Previous / next tab' },
      { keys: ['Home', 'End'], what: 'First / last tab' },
    ],
  },
  {
    title: 'Walk (Walk and Allocations views, outside text fields)',
    items: [
      { keys: ['Space'], what: 'Play / pause' },
      { keys: ['→', '↓'], what: 'Step one entry (while paused)' },
      { keys: ['Home'], what: 'Seek to the beginning (PssWalkMarkerSeekToBeginning)' },
      { keys: ['B'], what: 'Save the position (PssWalkMarkerGetPosition)' },
    ],
  },
  {
    title: 'Tables',
    items: [
      { keys: ['↑', '↓'], what: 'Previous / next row (selects it)' },
      { keys: ['PgUp', 'PgDn'], what: 'A page up / down' },
      { keys: ['Home', 'End'], what: 'First / last row' },
      { keys: ['Enter'], what: 'Open the row (Processes: inspect the process)' },
    ],
  },
  {
    title: 'Charts',
    items: [
      { keys: ['+', '−'], what: 'Timeline: zoom in / out' },
      { keys: ['←', '→'], what: 'Timeline: pan' },
      { keys: ['0'], what: 'Timeline: fit the whole session' },
    ],
  },
];

/** Alt+digit → view index (0-based), or null. */
export function viewShortcut(e: {
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  key: string;
  code?: string;
}): number | null {
  if (!e.altKey || e.ctrlKey || e.metaKey) return null;
  const m = /^Digit([1-6])$/.exec(e.code ?? '') ?? /^([1-6])$/.exec(e.key);
  return m ? Number(m[1]) - 1 : null;
}

/** Whether a keydown's target is a text field or a widget that uses the key itself. */
export function keyBelongsToTarget(target: EventTarget | null, key: string): boolean {
  const t = target as HTMLElement | null;
  if (!t || typeof t.closest !== 'function') return false;
  if (t.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(t.tagName)) return true;
  // Buttons and links use Space and Enter; tab lists, grids and radio groups use the arrows.
  if ((key === ' ' || key === 'Enter') && t.closest('button, a, [role=tab], [role=radio]'))
    return true;
  if (
    key.startsWith('Arrow') ||
    key === 'Home' ||
    key === 'End' ||
    key === 'PageUp' ||
    key === 'PageDown'
  )
    return (
      t.closest('[role=tablist], [role=grid], [role=radiogroup], [role=slider], .chart-focus') !==
      null
    );
  return false;
}
