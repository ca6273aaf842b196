// The application menu, as a template (menu.test.ts checks it without Electron). Developer
// items exist only in development; the one link out goes through the same vetting as any other.
import type { MenuItemConstructorOptions } from 'electron';
import { isSafeExternalUrl } from './security.ts';

export interface MenuOptions {
  /** Unpackaged (development) build: adds Reload and Toggle Developer Tools. */
  isDev: boolean;
  /** The project's web page (package.json "homepage"); no Help link without one. */
  projectUrl: string | undefined;
  /** Opens a link in the user's browser (the caller vets it again). */
  openLink(url: string): void;
}

export function menuTemplate(options: MenuOptions): MenuItemConstructorOptions[] {
  const devItems: MenuItemConstructorOptions[] = options.isDev
    ? [{ role: 'reload' }, { role: 'toggleDevTools' }, { type: 'separator' }]
    : [];
  const { projectUrl } = options;
  const link: MenuItemConstructorOptions[] =
    projectUrl !== undefined && isSafeExternalUrl(projectUrl)
      ? [{ label: 'Strata on GitHub', click: () => options.openLink(projectUrl) }]
      : [];
  return [
    { label: 'File', submenu: [{ role: 'quit' }] },
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
    {
      label: 'View',
      submenu: [
        ...devItems,
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
    { role: 'help', submenu: [{ role: 'about' }, ...link] },
  ];
}
