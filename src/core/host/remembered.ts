// What a host keeps in its profile besides the engine's database (host.json): the relay of the
// last login and the UI's preferences. Read leniently (a missing, damaged or foreign file, or a
// field of the wrong kind, is as if absent) and written whole by rename, so a crash leaves the
// old file or the new one.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UI_LANGUAGES, type PreferencesView, type UiLanguage } from '../../shared/contract.ts';

export const REMEMBERED_FILE = 'host.json';

export interface Remembered {
  relayUrl?: string;
  preferences: PreferencesView;
}

const isLanguage = (v: unknown): v is UiLanguage =>
  typeof v === 'string' && (UI_LANGUAGES as readonly string[]).includes(v);

export function readRemembered(profileDir: string): Remembered {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(join(profileDir, REMEMBERED_FILE), 'utf8'));
  } catch {
    v = null;
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const prefs = (
    typeof o['preferences'] === 'object' && o['preferences'] !== null ? o['preferences'] : {}
  ) as Record<string, unknown>;
  const language = prefs['language'];
  return {
    ...(typeof o['relayUrl'] === 'string' ? { relayUrl: o['relayUrl'] } : {}),
    preferences: { language: isLanguage(language) ? language : null },
  };
}

export function writeRemembered(profileDir: string, value: Remembered): void {
  const file = join(profileDir, REMEMBERED_FILE);
  writeFileSync(`${file}.tmp`, JSON.stringify(value) + '\n');
  renameSync(`${file}.tmp`, file);
}
