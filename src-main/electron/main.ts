/**
 * Electron entry (out/main/index.js). Thin on purpose: window, security settings, menu and the
 * IPC adapter; everything testable is in the host (src-main/host) and ./ipc.ts.
 *
 * `electron . --web` (or the packaged app with --web) runs web mode instead of a window;
 * `--open FILE` opens that trace in the window (or in every page of web mode).
 */
import {
  BrowserWindow,
  MessageChannelMain,
  Menu,
  app,
  ipcMain,
  session,
  type IpcMainEvent,
  type IpcMainInvokeEvent,
  type MessagePortMain,
} from 'electron';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CSP_HEADER } from '../../src-shared/contract/csp';
import { Channels } from '../../src-shared/contract/contract';
import { createWalkService } from '../walk/client';
import { SessionHost, appVersion, installProcessGuards, libraryDescription } from '../host';
import { runWebMode } from '../web/main';
import { isAppPage, registerIpc, type IpcAdapter } from './ipc';
import { menuTemplate } from './menu';
import { openTraceArg } from './open-arg';

const here = dirname(fileURLToPath(import.meta.url));
const preloadPath = join(here, '..', 'preload', 'index.cjs');
const pagePath = join(here, '..', 'renderer', 'index.html');
const pageUrl = pathToFileURL(pagePath).href;
const dev = !app.isPackaged || process.env.PSS_DEV === '1';

if (process.argv.includes('--web')) {
  // Web mode inside the Electron binary: no window, the same server as `npm run web`.
  app.dock?.hide();
  // argv: [electron, app-dir, …] in development, [app, …] when packaged.
  void app.whenReady().then(() => runWebMode(process.argv.slice(app.isPackaged ? 1 : 2)));
} else if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  startApp();
}

function startApp(): void {
  installProcessGuards();
  const openTrace = openTraceArg(process.argv);
  let win: BrowserWindow | null = null;
  let adapter: IpcAdapter | null = null;
  const walk = createWalkService();
  const host = new SessionHost({
    walk,
    transport: 'electron',
    library: libraryDescription(),
    version: appVersion(),
    ...(openTrace ? { openTrace } : {}),
  });

  // Every web contents: no navigation, no new windows, no <webview>.
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });

  // A second start (`pss-inspector open FILE` while the app runs) ends at once (the lock) and
  // hands its argv here: its trace opens in this window.
  app.on('second-instance', (_event, argv, workingDirectory) => {
    const file = openTraceArg(argv, workingDirectory);
    if (file) host.openTrace(file);
    if (!win) return;
    if (win.isMinimized()) win.restore();
    win.focus();
  });

  const isTrusted = (event: IpcMainInvokeEvent | IpcMainEvent): boolean => {
    const w = win;
    if (!w || w.isDestroyed() || event.sender !== w.webContents) return false;
    const frame = event.senderFrame;
    const main = w.webContents.mainFrame;
    return (
      frame !== null &&
      frame.processId === main.processId &&
      frame.routingId === main.routingId &&
      isAppPage(frame.url, pageUrl)
    );
  };

  function createWindow(): void {
    win = new BrowserWindow({
      width: 1280,
      height: 800,
      show: false,
      title: 'PSS Inspector',
      backgroundColor: '#1e1e1e',
      webPreferences: {
        preload: preloadPath,
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        webviewTag: false,
        spellcheck: false,
        // Developer tools only in development builds (the menu offers them there too).
        devTools: dev,
      },
    });
    const w = win;
    w.once('ready-to-show', () => w.show());
    // A crashed or navigated-away renderer loses its sessions (the next page reconnects).
    w.webContents.on('render-process-gone', () => void adapter?.disconnect(w.webContents.id));
    w.on('closed', () => {
      win = null;
    });
    void w.loadFile(pagePath);
  }

  function installMenu(): void {
    const focused = (): BrowserWindow | null => BrowserWindow.getFocusedWindow() ?? win;
    Menu.setApplicationMenu(
      Menu.buildFromTemplate(
        menuTemplate({
          dev,
          platform: process.platform,
          command: (c) => {
            const w = focused();
            if (w) adapter?.command(w.webContents.id, c);
          },
          reload: () => focused()?.webContents.reload(),
          toggleDevTools: () => focused()?.webContents.toggleDevTools(),
          quit: () => app.quit(),
        }),
      ),
    );
  }

  void app.whenReady().then(() => {
    const ses = session.defaultSession;
    ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
    ses.setPermissionCheckHandler(() => false);
    ses.webRequest.onHeadersReceived((details, callback) => {
      callback({
        responseHeaders: {
          ...details.responseHeaders,
          'Content-Security-Policy': [CSP_HEADER],
          'X-Content-Type-Options': ['nosniff'],
        },
      });
    });
    adapter = registerIpc<IpcMainInvokeEvent | IpcMainEvent, MessagePortMain>(ipcMain, {
      host,
      isTrusted,
      createChannel: () => new MessageChannelMain(),
      sendPort: (event, port) => event.sender.postMessage(Channels.port, null, [port]),
    });
    installMenu();
    createWindow();
    app.on('activate', () => {
      if (!win) createWindow();
    });
  });

  app.on('window-all-closed', () => app.quit());

  let quitting = false;
  app.on('will-quit', (event) => {
    if (quitting) return;
    quitting = true;
    event.preventDefault();
    void (async () => {
      await adapter?.dispose();
      await host.close();
      await walk.close();
      app.quit();
    })();
  });
}
