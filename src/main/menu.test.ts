import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import { menuTemplate } from './menu.ts';

/** Every role and label in the template, depth first. */
function entries(items: MenuItemConstructorOptions[]): string[] {
  return items.flatMap((item) => [
    item.role ?? item.label ?? item.type ?? '?',
    ...(Array.isArray(item.submenu) ? entries(item.submenu) : []),
  ]);
}

function find(items: MenuItemConstructorOptions[], label: string): MenuItemConstructorOptions {
  const all = items.flatMap((i) => [i, ...(Array.isArray(i.submenu) ? i.submenu : [])]);
  const item = all.find((i) => i.label === label);
  if (item === undefined) throw new Error(`no item ${label}`);
  return item;
}

const URL_OF_PROJECT = 'https://github.com/example-org/strata';

describe('menuTemplate', () => {
  it('has File, Edit, View, Window and Help, with the developer tools only in development', () => {
    const prod = entries(menuTemplate({ isDev: false, projectUrl: undefined, openLink: () => {} }));
    expect(prod).toContain('quit');
    expect(prod).toEqual(
      expect.arrayContaining(['undo', 'redo', 'cut', 'copy', 'paste', 'selectAll']),
    );
    expect(prod).toEqual(
      expect.arrayContaining(['resetZoom', 'zoomIn', 'zoomOut', 'windowMenu', 'about']),
    );
    expect(prod).not.toContain('reload');
    expect(prod).not.toContain('toggleDevTools');
    const dev = entries(menuTemplate({ isDev: true, projectUrl: undefined, openLink: () => {} }));
    expect(dev).toEqual(expect.arrayContaining(['reload', 'toggleDevTools']));
  });

  it('opens the project page through openLink', () => {
    const opened: string[] = [];
    const menu = menuTemplate({
      isDev: false,
      projectUrl: URL_OF_PROJECT,
      openLink: (url) => opened.push(url),
    });
    const item = find(menu, 'Strata on GitHub');
    (item.click as () => void)();
    expect(opened).toEqual([URL_OF_PROJECT]);
  });

  it.each([undefined, 'http://github.com/x', 'file:///etc/passwd', 'https://user@evil.example/'])(
    'has no project link for %j',
    (projectUrl) => {
      const menu = menuTemplate({ isDev: false, projectUrl, openLink: () => {} });
      expect(entries(menu)).not.toContain('Strata on GitHub');
    },
  );
});
