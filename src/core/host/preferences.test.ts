// The UI's preferences live in the profile (host.json), not in the page's origin: the browser
// host picks new ports on every start, and a page's storage would forget them each time.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, type SessionView } from '../../shared/contract.ts';
import { Host } from './host.ts';
import { REMEMBERED_FILE, readRemembered, writeRemembered } from './remembered.ts';
import { withLanguage } from './web-server.ts';

const dirs: string[] = [];
function profileDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-prefs-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function session(dir: string): Promise<SessionView> {
  const host = await Host.open({ profileDir: dir, kind: 'browser' });
  try {
    return (await host.call('session', {})) as SessionView;
  } finally {
    await host.close();
  }
}

describe('UI preferences', () => {
  it('are kept in the profile across restarts of the host, before any login', async () => {
    const dir = profileDir();
    expect((await session(dir)).preferences).toEqual({ language: null });

    const host = await Host.open({ profileDir: dir, kind: 'browser' });
    const events: unknown[] = [];
    host.on('event', (e) => events.push(e));
    expect(await host.call('setPreferences', { patch: { language: 'ru' } })).toEqual({
      language: 'ru',
    });
    // Every window of this host follows the change.
    expect(events).toMatchObject([
      { type: 'session', session: { preferences: { language: 'ru' } } },
    ]);
    await host.close();

    expect((await session(dir)).preferences).toEqual({ language: 'ru' });

    const again = await Host.open({ profileDir: dir, kind: 'browser' });
    await again.call('setPreferences', { patch: { language: null } });
    await again.close();
    expect((await session(dir)).preferences).toEqual({ language: null });
  });

  it('refuses a language the UI does not speak, and changes nothing', async () => {
    const dir = profileDir();
    const host = await Host.open({ profileDir: dir, kind: 'browser' });
    try {
      await host.call('setPreferences', { patch: { language: 'ru' } });
      const bad = await host
        .call('setPreferences', { patch: { language: 'de' } })
        .catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(Error);
      expect(String((bad as Error).message)).toMatch(
        /params\.patch\.language must be one of en, ru/,
      );
      expect(bad).not.toBeInstanceOf(ApiError); // a ContractError: the carriers answer 'invalid'
      expect(host.session.preferences).toEqual({ language: 'ru' });
    } finally {
      await host.close();
    }
  });

  it('keep the remembered relay, and read a damaged or foreign file as no preferences', () => {
    const dir = profileDir();
    writeRemembered(dir, { relayUrl: 'ws://127.0.0.1:7000/', preferences: { language: 'ru' } });
    expect(readRemembered(dir)).toEqual({
      relayUrl: 'ws://127.0.0.1:7000/',
      preferences: { language: 'ru' },
    });
    // What older versions wrote: the relay only.
    writeFileSync(join(dir, REMEMBERED_FILE), '{"relayUrl":"ws://r/"}\n');
    expect(readRemembered(dir)).toEqual({ relayUrl: 'ws://r/', preferences: { language: null } });
    writeFileSync(join(dir, REMEMBERED_FILE), '{"preferences":{"language":"<script>"}}');
    expect(readRemembered(dir)).toEqual({ preferences: { language: null } });
    writeFileSync(join(dir, REMEMBERED_FILE), '{not json');
    expect(readRemembered(dir)).toEqual({ preferences: { language: null } });
    expect(readFileSync(join(dir, REMEMBERED_FILE), 'utf8')).toBe('{not json');
  });

  it('reach the browser host page before its script runs', () => {
    const page = '<!doctype html>\n<html lang="en">\n  <head></head>\n</html>\n';
    const as = (language: 'ru' | null) => ({ session: { preferences: { language } } }) as never;
    expect(withLanguage(page, as('ru'))).toContain('<html lang="ru" data-language="ru">');
    expect(withLanguage(page, as(null))).toBe(page);
  });
});
