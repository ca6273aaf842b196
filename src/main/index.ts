// The Electron main process: a thin, hardened shell around the core Host (src/core/host), which
// runs in a utilityProcess of its own (host-process.ts) so that the engine's SQLite calls and
// file reads never hold up the window. This process picks the profile from the command line,
// opens one window on the renderer, checks the renderer's calls on the IPC bridge (ipc.ts) and
// forwards them to the host process (host-client.ts), and wires the policy of security.ts into
// Electron's hooks. All messaging logic lives in the core.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  Notification,
  screen,
  session,
  shell,
  utilityProcess,
} from 'electron';
import type { Params } from '../shared/contract.ts';
import { Attention } from './attention.ts';
import { HostClient } from './host-client.ts';
import type { Link } from './host-link.ts';
import {
  forwardEvents,
  registerFileGrants,
  registerIpc,
  trustedSenderCheck,
  type CallTarget,
} from './ipc.ts';
import { menuTemplate } from './menu.ts';
import { createFolderPicker } from './folder-picker.ts';
import { createOpener } from './opener.ts';
import { OptionsError, parseMainArgs, profileUserDataDir, windowBounds } from './options.ts';
import {
  contentSecurityPolicy,
  isAllowedNavigation,
  isSafeExternalUrl,
  secureWebPreferences,
} from './security.ts';

/** Exit status for a bad command line, as the CLI and the relay use. */
const EXIT_USAGE = 2;

let options;
try {
  options = parseMainArgs(process.argv.slice(1));
} catch (e) {
  if (!(e instanceof OptionsError)) throw e;
  // Exits only once stderr has taken the message: a pipe's slow reader would lose it otherwise.
  await new Promise((resolve) => process.stderr.write(`strata: ${e.message}\n`, resolve));
  process.exit(EXIT_USAGE);
}
const { profile, relayUrl, user, position, downloadsDir, insecure } = options;

// Before anything reads it: each profile is its own instance, with its own Chromium data, its
// own messenger files and its own single-instance lock, so Alice and Bob run side by side.
const userData = profileUserDataDir(app.getPath('appData'), profile);
app.setPath('userData', userData);

// Every renderer runs in the OS sandbox, whatever its webPreferences say.
app.enableSandbox();

const isDev = !app.isPackaged;
// electron-vite sets ELECTRON_RENDERER_URL when it serves the renderer in development; a packaged
// app never honours it.
const devServerUrl = isDev ? process.env['ELECTRON_RENDERER_URL'] : undefined;
const rendererFile = join(import.meta.dirname, '../renderer/index.html');
const appOrigin = devServerUrl ?? pathToFileURL(rendererFile).href;
const csp = contentSecurityPolicy(devServerUrl === undefined ? {} : { devServerUrl });

let mainWindow: BrowserWindow | null = null;
let host: HostClient | null = null;
const attention = new Attention();
/** Shown notifications, referenced until closed so that their click handlers survive GC. */
const notifications = new Set<Notification>();

function focusWindow(): void {
  if (mainWindow === null) return;
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.show();
  mainWindow.focus();
}

function updateBadge(): void {
  // Only some Linux desktops (Unity launchers) and macOS show a badge; elsewhere a no-op.
  app.setBadgeCount(attention.badgeCount);
}

function createWindow(openHost: HostClient): void {
  const bounds =
    position === undefined
      ? undefined
      : windowBounds(position, screen.getPrimaryDisplay().workArea);
  const window = new BrowserWindow({
    width: 1100,
    height: 720,
    ...bounds,
    minWidth: 640,
    minHeight: 480,
    title: 'Strata',
    show: false,
    webPreferences: secureWebPreferences(join(import.meta.dirname, '../preload/index.cjs'), {
      devTools: isDev,
    }),
  });
  const stopForwarding = forwardEvents(openHost, window.webContents);
  window.once('ready-to-show', () => window.show());
  // The renderer puts its unread count in its title, "(3) Strata"; the window keeps the title.
  window.on('page-title-updated', (_event, title) => {
    attention.onTitle(title);
    updateBadge();
  });
  window.on('closed', () => {
    stopForwarding();
    mainWindow = null;
  });
  if (devServerUrl !== undefined) void window.loadURL(devServerUrl);
  else void window.loadFile(rendererFile);
  mainWindow = window;
}

/** The host as the bridge sees it: every call goes through, and a markRead clears the badge. */
function bridgeTarget(openHost: HostClient): CallTarget {
  return {
    async call(method, params) {
      const result = await openHost.call(method, params);
      if (method === 'markRead') {
        attention.onMarkRead((params as Params<'markRead'>).peer);
        updateBadge();
      }
      return result;
    },
  };
}

function watchForAttention(openHost: HostClient): void {
  openHost.on('event', (event) => {
    const text = attention.onEvent(event, mainWindow?.isFocused() ?? false);
    if (event.type === 'message') updateBadge();
    if (text === null || !Notification.isSupported()) return;
    const notification = new Notification(text);
    notifications.add(notification);
    notification.on('click', focusWindow);
    notification.on('close', () => notifications.delete(notification));
    notification.show();
  });
}

/** The one way out to the operating system: vetted links only (checklist item 15). */
function openExternalIfSafe(url: string): void {
  if (isSafeExternalUrl(url)) void shell.openExternal(url);
}

/** The "homepage" of package.json, for the Help menu's link; none if absent. */
function projectUrl(): string | undefined {
  const pkg = JSON.parse(readFileSync(join(app.getAppPath(), 'package.json'), 'utf8')) as {
    homepage?: unknown;
  };
  return typeof pkg.homepage === 'string' ? pkg.homepage : undefined;
}

// Guards for every web contents that will ever exist, not just the main window's.
app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.on('will-navigate', (event) => {
    if (!isAllowedNavigation(event.url, appOrigin)) event.preventDefault();
  });
  contents.on('will-redirect', (event) => {
    if (!isAllowedNavigation(event.url, appOrigin)) event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    openExternalIfSafe(url);
    return { action: 'deny' };
  });
});

async function start(): Promise<void> {
  const ses = session.defaultSession;
  // The renderer asks for no permission: camera, notifications, geolocation... all denied (the
  // desktop notifications come from this process, not from the page).
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);
  // The header covers http(s) responses (the dev server); file: responses have no headers,
  // so the built index.html carries the same policy in a meta tag.
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] },
    });
  });

  app.setAboutPanelOptions({
    applicationName: 'Strata',
    applicationVersion: app.getVersion(),
    copyright:
      'Copyright © Strata contributors. Free software under the GNU AGPL v3 (AGPL-3.0-only), with no warranty; see the LICENSE file.',
  });
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      menuTemplate({
        isDev,
        projectUrl: projectUrl(),
        openLink: openExternalIfSafe,
      }),
    ),
  );

  // The host process: Node with the core, no window. Its messages come only from this process.
  const child = utilityProcess.fork(join(import.meta.dirname, 'host-process.js'), [], {
    serviceName: 'Strata host',
    stdio: 'inherit',
  });
  const link: Link = {
    post: (message) => child.postMessage(message),
    onMessage: (listener) => child.on('message', listener),
  };
  const client = new HostClient(link);
  let started = false;
  child.once('exit', (code) => {
    client.gone(`the host process exited (code ${code})`);
    if (closing || !started) return;
    dialog.showErrorBox('Strata stopped', `The profile's host process ended (code ${code}).`);
    app.exit(1);
  });
  try {
    await client.open({
      profileDir: userData,
      kind: 'electron',
      ...(relayUrl === undefined ? {} : { relayUrl }),
      ...(user === undefined ? {} : { user }),
      ...(downloadsDir === undefined ? {} : { downloadsDir }),
      ...(insecure ? { insecure } : {}),
    });
  } catch (e) {
    dialog.showErrorBox(
      'Strata cannot start',
      `The profile "${profile}" (${userData}) could not be opened: ${(e as Error).message}`,
    );
    child.kill();
    app.exit(1);
    return;
  }
  started = true;
  host = client;
  hostProcess = child;
  // openFile({ key }): the Host finds the path by message key; the renderer never names one.
  client.opener = createOpener(shell);
  // chooseDownloadsDir: the folder comes from this dialog, never from the renderer.
  client.folderPicker = createFolderPicker(dialog, () => mainWindow);
  const grants = registerFileGrants(ipcMain, trustedSenderCheck(appOrigin), (path) =>
    client.grant(path),
  );
  const unregisterCalls = registerIpc(ipcMain, bridgeTarget(client), trustedSenderCheck(appOrigin));
  unregisterIpc = () => {
    unregisterCalls();
    grants.unregister();
  };
  watchForAttention(client);
  createWindow(client);
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow(client);
  });
}

let unregisterIpc = (): void => {};
let closing = false;
let hostProcess: Electron.UtilityProcess | null = null;

// Quitting waits for the host to close (the engine's database, its relay connection): the first
// before-quit is held back, and app.exit() ends the process once the host has closed and its
// process has been stopped.
app.on('before-quit', (event) => {
  event.preventDefault();
  if (closing) return;
  closing = true;
  unregisterIpc();
  const closed = host === null ? Promise.resolve() : host.close();
  closed.then(
    () => {
      hostProcess?.kill();
      app.exit(0);
    },
    (e: unknown) => {
      process.stderr.write(`strata: closing the profile failed: ${String(e)}\n`);
      app.exit(1);
    },
  );
});

if (!app.requestSingleInstanceLock()) {
  // The same profile is already open: it focuses its window (below), this launch ends.
  app.exit(0);
} else {
  app.on('second-instance', focusWindow);
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.whenReady().then(start, (e: unknown) => {
    process.stderr.write(`strata: ${String(e)}\n`);
    app.exit(1);
  });
}
