// The security policy of the shell, as pure functions: no runtime import of Electron, so every
// rule here is unit-tested in plain Node (security.test.ts). src/main/index.ts only wires these
// into Electron's hooks. docs/security.md maps each Electron checklist item to its place here.
import type { WebPreferences } from 'electron';

export interface SecureWebPreferencesOptions {
  /** Developer tools; the entry point enables them only for unpackaged (development) builds. */
  readonly devTools?: boolean;
}

/**
 * The webPreferences of every window. Each security-relevant flag is written out, even where it
 * equals Electron's default, so that a change of default or a careless edit shows up in review
 * and fails the tests.
 */
export function secureWebPreferences(
  preloadPath: string,
  options: SecureWebPreferencesOptions = {},
): WebPreferences {
  return {
    preload: preloadPath,
    // The renderer gets no Node.js, in no frame and no worker.
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    // The preload runs in its own JavaScript world and an OS-level sandbox.
    contextIsolation: true,
    sandbox: true,
    // Same-origin policy and mixed-content blocking stay on.
    webSecurity: true,
    allowRunningInsecureContent: false,
    // No experimental Blink features (and enableBlinkFeatures is never set), no <webview>,
    // no plugins, no WebSQL.
    experimentalFeatures: false,
    webviewTag: false,
    plugins: false,
    enableWebSQL: false,
    enableDeprecatedPaste: false,
    // Dropping a file or link on the window must not navigate away from the app.
    navigateOnDragDrop: false,
    // A middle click on a link fires no auxclick, so it cannot open a window by that route
    // either (the window-open handler denies every window anyway).
    disableBlinkFeatures: 'Auxclick',
    // A page cannot lock the user in with an endless series of alert() dialogs.
    safeDialogs: true,
    autoplayPolicy: 'document-user-activation-required',
    // Chromium's spellchecker downloads dictionaries from a Google server; the app makes no
    // network request of its own beyond the relay.
    spellcheck: false,
    devTools: options.devTools ?? false,
  };
}

export interface ContentSecurityPolicyOptions {
  /**
   * Development only: the origin of the Vite dev server (electron-vite's ELECTRON_RENDERER_URL).
   * Adds that origin and its WebSocket (hot reload) to the policy, and allows the inline script
   * of React Fast Refresh and the <style> elements through which Vite injects CSS in development.
   * Never given in a production build.
   */
  readonly devServerUrl?: string;
}

/** The production policy. The renderer's index.html carries exactly this string in a meta tag. */
const PRODUCTION_DIRECTIVES: ReadonlyArray<readonly [string, ...string[]]> = [
  ['default-src', "'none'"],
  ['script-src', "'self'"],
  ['style-src', "'self'"],
  ['img-src', "'self'", 'data:', 'blob:'],
  ['font-src', "'self'"],
  ['connect-src', "'self'"],
  ['base-uri', "'none'"],
  ['form-action', "'none'"],
  ['frame-ancestors', "'none'"],
  ['object-src', "'none'"],
];

/** The Content-Security-Policy of the renderer: strict in production, see the option for dev. */
export function contentSecurityPolicy(options: ContentSecurityPolicyOptions = {}): string {
  const extra = new Map<string, string[]>();
  if (options.devServerUrl !== undefined) {
    const dev = URL.parse(options.devServerUrl);
    if (dev === null || (dev.protocol !== 'http:' && dev.protocol !== 'https:')) {
      throw new Error(`The dev server URL must be an http(s) URL: ${options.devServerUrl}`);
    }
    // Only the origin goes into the policy: a path, a quote or a ';' cannot smuggle in sources.
    const ws = `${dev.protocol === 'https:' ? 'wss:' : 'ws:'}//${dev.host}`;
    extra.set('script-src', [dev.origin, "'unsafe-inline'"]);
    extra.set('style-src', [dev.origin, "'unsafe-inline'"]);
    extra.set('connect-src', [dev.origin, ws]);
  }
  return PRODUCTION_DIRECTIVES.map(([name, ...sources]) =>
    [name, ...sources, ...(extra.get(name) ?? [])].join(' '),
  ).join('; ');
}

/**
 * May a window navigate (or be redirected) to `url`? Only to the app itself.
 *
 * `appOrigin` is where the renderer is loaded from: in production the file: URL of the built
 * index.html (then only that very file is allowed, with any query or fragment), in development
 * the dev server's http(s) origin (then any URL of exactly that origin).
 */
export function isAllowedNavigation(url: string, appOrigin: string): boolean {
  const target = URL.parse(url);
  const app = URL.parse(appOrigin);
  if (target === null || app === null) return false;
  if (app.protocol === 'file:') {
    return (
      target.protocol === 'file:' && target.host === app.host && target.pathname === app.pathname
    );
  }
  if (app.protocol !== 'http:' && app.protocol !== 'https:') return false;
  return target.origin === app.origin;
}

/** ASCII control characters and space: the URL parser silently drops or trims some of them. */
function hasControlOrSpace(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * May `url` be handed to the operating system (shell.openExternal)? Only https: links and
 * mailto: addresses that parse as they stand. Everything else, from file: and smb: to custom
 * protocol handlers of other applications, could run code on the user's machine.
 */
export function isSafeExternalUrl(url: unknown): boolean {
  if (typeof url !== 'string' || hasControlOrSpace(url)) return false;
  const parsed = URL.parse(url);
  if (parsed === null) return false;
  if (parsed.protocol === 'https:') {
    // No user:password@ part: "https://bank.example@evil.example" is a classic disguise.
    return parsed.hostname !== '' && parsed.username === '' && parsed.password === '';
  }
  if (parsed.protocol === 'mailto:') return parsed.pathname !== '';
  return false;
}
