import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  contentSecurityPolicy,
  isAllowedNavigation,
  isSafeExternalUrl,
  secureWebPreferences,
} from './security.ts';

/** A policy string as a map from directive name to its list of sources. */
function directives(policy: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const part of policy.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name === undefined || name === '') continue;
    expect(map.has(name), `directive ${name} appears twice`).toBe(false);
    map.set(name, sources);
  }
  return map;
}

const PRODUCTION_POLICY = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
  'object-src': ["'none'"],
};

describe('secureWebPreferences', () => {
  it('is exactly the hardened set, with nothing loosened and nothing added', () => {
    expect(secureWebPreferences('/app/out/preload/index.cjs')).toStrictEqual({
      preload: '/app/out/preload/index.cjs',
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      contextIsolation: true,
      sandbox: true,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      plugins: false,
      enableWebSQL: false,
      enableDeprecatedPaste: false,
      navigateOnDragDrop: false,
      disableBlinkFeatures: 'Auxclick',
      safeDialogs: true,
      autoplayPolicy: 'document-user-activation-required',
      spellcheck: false,
      devTools: false,
    });
  });

  it('states every critical flag explicitly rather than relying on defaults', () => {
    const prefs = secureWebPreferences('/p.cjs');
    for (const key of [
      'contextIsolation',
      'sandbox',
      'nodeIntegration',
      'nodeIntegrationInWorker',
      'nodeIntegrationInSubFrames',
      'webSecurity',
      'allowRunningInsecureContent',
      'experimentalFeatures',
      'webviewTag',
    ] as const) {
      expect(prefs, key).toHaveProperty(key);
      expect(typeof prefs[key], key).toBe('boolean');
    }
    expect(prefs).not.toHaveProperty('enableBlinkFeatures');
    expect(prefs).not.toHaveProperty('additionalArguments');
  });

  it('enables devtools only when asked, and that option changes nothing else', () => {
    const withDevTools = secureWebPreferences('/p.cjs', { devTools: true });
    expect(withDevTools.devTools).toBe(true);
    expect({ ...withDevTools, devTools: false }).toStrictEqual(secureWebPreferences('/p.cjs'));
  });
});

describe('contentSecurityPolicy', () => {
  it('is the strict production policy, directive by directive', () => {
    expect(Object.fromEntries(directives(contentSecurityPolicy()))).toStrictEqual(
      PRODUCTION_POLICY,
    );
  });

  it('allows nothing inline, no eval, no wildcard and no remote scheme in production', () => {
    const policy = contentSecurityPolicy();
    for (const banned of [
      "'unsafe-inline'",
      "'unsafe-eval'",
      "'unsafe-hashes'",
      "'wasm-unsafe-eval'",
      '*',
      'http:',
      'https:',
      'ws:',
      'wss:',
      'file:',
    ]) {
      for (const [name, sources] of directives(policy)) {
        expect(sources, `${name} allows ${banned}`).not.toContain(banned);
      }
    }
  });

  it('is the very policy of the meta tag in the renderer index.html', () => {
    const html = readFileSync(new URL('../renderer/index.html', import.meta.url), 'utf8');
    const meta = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/i.exec(html);
    expect(meta?.[1]).toBe(contentSecurityPolicy());
  });

  it('in development adds only the dev server origin, its WebSocket and inline code', () => {
    const dev = directives(contentSecurityPolicy({ devServerUrl: 'http://localhost:5173/' }));
    expect(dev.get('script-src')).toStrictEqual([
      "'self'",
      'http://localhost:5173',
      "'unsafe-inline'",
    ]);
    expect(dev.get('style-src')).toStrictEqual([
      "'self'",
      'http://localhost:5173',
      "'unsafe-inline'",
    ]);
    expect(dev.get('connect-src')).toStrictEqual([
      "'self'",
      'http://localhost:5173',
      'ws://localhost:5173',
    ]);
    for (const name of ['default-src', 'img-src', 'font-src', 'base-uri', 'form-action']) {
      expect(dev.get(name), name).toStrictEqual(
        PRODUCTION_POLICY[name as keyof typeof PRODUCTION_POLICY],
      );
    }
    expect(dev.get('object-src')).toStrictEqual(["'none'"]);
    expect(dev.get('frame-ancestors')).toStrictEqual(["'none'"]);
    const secure = directives(contentSecurityPolicy({ devServerUrl: 'https://127.0.0.1:8443' }));
    expect(secure.get('connect-src')).toContain('wss://127.0.0.1:8443');
  });

  it('puts only the origin of the dev server URL into the policy', () => {
    const policy = contentSecurityPolicy({
      devServerUrl: "http://localhost:5173/x'; script-src * 'unsafe-eval",
    });
    expect(policy).not.toContain('*');
    expect(policy).not.toContain('unsafe-eval');
    expect(directives(policy).size).toBe(Object.keys(PRODUCTION_POLICY).length);
  });

  it('refuses a dev server URL that is not http(s)', () => {
    for (const devServerUrl of ['', 'localhost:5173', 'file:///tmp', 'javascript:alert(1)']) {
      expect(() => contentSecurityPolicy({ devServerUrl }), devServerUrl).toThrow();
    }
  });
});

describe('isAllowedNavigation', () => {
  const appFile = 'file:///opt/Strata/resources/app/out/renderer/index.html';
  const devOrigin = 'http://localhost:5173';

  it('allows the app itself', () => {
    expect(isAllowedNavigation(appFile, appFile)).toBe(true);
    expect(isAllowedNavigation(`${appFile}#/chats`, appFile)).toBe(true);
    expect(isAllowedNavigation(`${appFile}?first-run`, appFile)).toBe(true);
    expect(isAllowedNavigation('http://localhost:5173/', devOrigin)).toBe(true);
    expect(isAllowedNavigation('http://localhost:5173/src/main.tsx#x', devOrigin)).toBe(true);
  });

  it('blocks any other file, even next to the app', () => {
    for (const url of [
      'file:///etc/passwd',
      'file:///opt/Strata/resources/app/out/renderer/other.html',
      'file:///opt/Strata/resources/app/out/renderer/',
      'file://evil.example/opt/Strata/resources/app/out/renderer/index.html',
    ]) {
      expect(isAllowedNavigation(url, appFile), url).toBe(false);
    }
  });

  it('blocks every other origin and scheme', () => {
    for (const url of [
      'https://example.com/',
      'http://localhost:5174/',
      'https://localhost:5173/',
      'http://127.0.0.1:5173/',
      'http://localhost:5173.evil.example/',
      'javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'about:blank',
      'chrome://gpu',
      'not a url',
      '',
    ]) {
      expect(isAllowedNavigation(url, devOrigin), `${url} from dev`).toBe(false);
      expect(isAllowedNavigation(url, appFile), `${url} from file`).toBe(false);
    }
    expect(isAllowedNavigation(appFile, devOrigin)).toBe(false);
  });

  it('allows nothing when the app origin is not one it understands', () => {
    expect(isAllowedNavigation('about:blank', 'about:blank')).toBe(false);
    expect(isAllowedNavigation('data:,x', 'data:,x')).toBe(false);
    expect(isAllowedNavigation('https://example.com/', 'not a url')).toBe(false);
  });
});

describe('isSafeExternalUrl', () => {
  it('allows https links and mailto addresses', () => {
    for (const url of [
      'https://example.com',
      'https://example.com/path?q=1#frag',
      'https://[::1]:8443/',
      'mailto:someone@example.com',
      'mailto:someone@example.com?subject=Hi',
    ]) {
      expect(isSafeExternalUrl(url), url).toBe(true);
    }
  });

  it('refuses every other scheme', () => {
    for (const url of [
      'http://example.com',
      'file:///etc/passwd',
      'file://server/share/x.exe',
      'smb://server/share',
      'javascript:alert(1)',
      'data:text/html,x',
      'vbscript:msgbox(1)',
      'ms-msdt:/id PCWDiagnostic',
      'search-ms:query=x',
      'ftp://example.com/',
      'ssh://example.com',
      'chrome://settings',
      'about:blank',
      'strata://open',
    ]) {
      expect(isSafeExternalUrl(url), url).toBe(false);
    }
  });

  it('refuses what does not parse as it stands', () => {
    for (const url of [
      '',
      'example.com',
      '//example.com',
      '/relative/path',
      'https:',
      'https://',
      ' https://example.com',
      'https://example.com ',
      'https://exa\nmple.com',
      'https://exa\tmple.com',
      'java\tscript:alert(1)',
      'https://example.com/\u0000',
      'mailto:',
    ]) {
      expect(isSafeExternalUrl(url), JSON.stringify(url)).toBe(false);
    }
  });

  it('refuses credentials in the URL and anything that is not a string', () => {
    expect(isSafeExternalUrl('https://bank.example@evil.example/')).toBe(false);
    expect(isSafeExternalUrl('https://user:pass@example.com/')).toBe(false);
    for (const value of [undefined, null, 42, {}, new URL('https://example.com')]) {
      expect(isSafeExternalUrl(value)).toBe(false);
    }
  });
});

describe('the security module', () => {
  it('imports nothing of Electron at run time, so it stays testable in plain Node', () => {
    const source = readFileSync(new URL('./security.ts', import.meta.url), 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    const fromElectron = /^\s*(import|export)\b([^;]*?)\bfrom\s*['"]electron(\/[^'"]*)?['"]/gm;
    const found = [...source.matchAll(fromElectron)];
    expect(found.length).toBeGreaterThan(0);
    for (const [statement, , clause] of found) {
      expect(clause, statement).toMatch(/^\s+type\b/);
    }
    expect(source).not.toMatch(/\bimport\s*\(|\brequire\s*\(|\bimport\s*['"]electron/);
  });
});
