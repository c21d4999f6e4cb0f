/**
 * The application menu as data (Electron's MenuItemConstructorOptions shape), built from the
 * actions it triggers so it can be tested without Electron.
 */
import type { MenuItemConstructorOptions } from 'electron';
import type { PushMessages } from '../../src-shared/contract/contract';

export interface MenuActions {
  /** Development build: adds Toggle Developer Tools. */
  dev: boolean;
  /** Asks the focused window's renderer to do something (the renderer owns the dialogs). */
  command(command: PushMessages['command']['command']): void;
  reload(): void;
  toggleDevTools(): void;
  quit(): void;
  platform: NodeJS.Platform;
}

export function menuTemplate(a: MenuActions): MenuItemConstructorOptions[] {
  const view: MenuItemConstructorOptions[] = [
    { label: 'Reload', accelerator: 'CmdOrCtrl+R', click: () => a.reload() },
  ];
  if (a.dev) {
    view.push({
      label: 'Toggle Developer Tools',
      accelerator: a.platform === 'darwin' ? 'Alt+Cmd+I' : 'Ctrl+Shift+I',
      click: () => a.toggleDevTools(),
    });
  }
  view.push(
    { type: 'separator' },
    { role: 'resetZoom' },
    { role: 'zoomIn' },
    { role: 'zoomOut' },
    { type: 'separator' },
    { role: 'togglefullscreen' },
  );
  return [
    {
      label: 'File',
      submenu: [
        { label: 'Open Trace…', accelerator: 'CmdOrCtrl+O', click: () => a.command('openTrace') },
        {
          label: 'Export Trace…',
          accelerator: 'CmdOrCtrl+Shift+E',
          click: () => a.command('exportTrace'),
        },
        { type: 'separator' },
        {
          label: a.platform === 'darwin' ? 'Quit PSS Inspector' : 'Quit',
          accelerator: 'CmdOrCtrl+Q',
          click: () => a.quit(),
        },
      ],
    },
    {
      label: 'Edit',
      submenu: [
        { role: 'undo' },
        { role: 'redo' },
        { type: 'separator' },
        { role: 'cut' },
        { role: 'copy' },
        { role: 'paste' },
        { role: 'selectAll' },
      ],
    },
    { label: 'View', submenu: view },
    {
      label: 'Help',
      submenu: [{ label: 'About PSS Inspector', click: () => a.command('about') }],
    },
  ];
}
