// `npm run check:electron`: Doyensec's electronegativity over the desktop shell, failing on any
// finding above INFORMATIONAL that is not justified below. Run after `npm run build`.
//
// What is scanned, and why not simply out/: the checks are about the Electron shell, which is
// src/main and src/preload (TypeScript, which electronegativity parses), and about the page it
// loads, the built out/renderer. The main bundle out/main/index.js also carries the core, whose
// class private fields (#field) electronegativity's parser does not know ("Unknown node type
// ClassPrivateProperty"): it would skip that file and then report the navigation and
// permission guards it holds as missing. So this script scans a copy of exactly those parts, and
// fails if any file of it cannot be parsed, so that nothing is ever skipped silently.
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { Module, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

interface Level {
  value: number;
  name: string;
}
interface Issue {
  id: string;
  file: string;
  location: { line: number; column: number };
  description: string;
  severity: Level;
  confidence: Level;
  sample?: string;
}
interface ScanResult {
  errors: { file: string; message: string; tolerable: boolean }[];
  issues: Issue[];
}
type Run = (options: Record<string, unknown>) => Promise<ScanResult>;
interface CspFinding {
  severity: number;
  directive: string;
  value: string;
  description: string;
}
interface CspEvaluatorModule {
  CspParser: new (policy: string) => { csp: unknown };
  CspEvaluator: new (csp: unknown, version: unknown) => { evaluate(): CspFinding[] };
  Version: { CSP3: unknown };
  severities: Record<string, number>;
}

/**
 * A finding reviewed and accepted, with its reason. Keyed by check and file, and, where a check
 * can say several things, by its description; `count` is how many such findings there are, so
 * that a new occurrence (another BrowserWindow, another openExternal) fails until reviewed.
 */
interface Justification {
  check: string;
  file: string;
  description?: string;
  count: number;
  reason: string;
  /** CSP_GLOBAL_CHECK only: the csp-evaluator findings (directive and value) accepted. */
  cspFindings?: string[];
}

const JUSTIFIED: Justification[] = [
  ...['CONTEXT_ISOLATION_JS_CHECK', 'SANDBOX_JS_CHECK', 'AUXCLICK_JS_CHECK'].map((check) => ({
    check,
    file: 'main/index.ts',
    count: 1,
    reason:
      "The BrowserWindow's webPreferences are secureWebPreferences() from src/main/security.ts " +
      "(contextIsolation: true, sandbox: true, disableBlinkFeatures: 'Auxclick'), a function " +
      'call the check cannot look into; security.test.ts asserts its exact value.',
  })),
  {
    check: 'OPEN_EXTERNAL_JS_CHECK',
    file: 'main/index.ts',
    count: 1,
    reason:
      'The only shell.openExternal call, in openExternalIfSafe(), runs only for a URL that ' +
      'isSafeExternalUrl() accepts (https: with a host and no credentials, or mailto:), which ' +
      'security.test.ts covers.',
  },
  {
    check: 'CSP_GLOBAL_CHECK',
    file: 'main/index.ts',
    description: 'Failed to parse CSP, it may not be valid.',
    count: 1,
    reason:
      'The check reads the variable `csp` in the Content-Security-Policy response header as if ' +
      'it were a policy. Its value is contentSecurityPolicy(), the very string of the meta tag ' +
      'in renderer/index.html (a test keeps them identical), which this check does evaluate.',
  },
  {
    check: 'CSP_GLOBAL_CHECK',
    file: 'renderer/index.html',
    count: 1,
    cspFindings: ["script-src 'self'"],
    reason:
      "csp-evaluator warns that 'self' in script-src can be problematic if the origin hosts " +
      'JSONP, Angular or user-uploaded files. The origin serves only the built renderer (no ' +
      'JSONP endpoint, no Angular); received files are shown through blob: or data: URLs, ' +
      'which script-src does not allow.',
  },
];

/**
 * Checks not run, each with its reason. AvailableSecurityFixesGlobalCheck downloads Electron's
 * release list from GitHub on every run (and caches it in the system temp directory): offline
 * machines cannot run it (its retry then crashes the process), and its verdict changes with
 * each Electron release rather than with this code. Electron is pinned exactly in package.json
 * and upgraded on purpose (docs/security.md, checklist item 16).
 */
const NOT_RUN = ['AvailableSecurityFixesGlobalCheck'];

/**
 * electronegativity downloads updated translations of its messages from GitHub on every run.
 * Offline (this machine, sandboxed CI) the request fails, and under Node 24 the HTTP client's
 * retry then throws an uncaught error a second later (p-cancelable: "The onCancel handler was
 * attached after the promise settled"), killing the process mid-scan. This puts in place of its
 * i18n module one that configures i18n exactly as that module does, from the English messages
 * bundled with the package, without the download: the scan then makes no network request.
 */
function useBundledTranslations(): void {
  const runner = require.resolve('@doyensec/electronegativity');
  const fromRunner = createRequire(runner);
  const modulePath = fromRunner.resolve('./locales/i18n');
  const i18n = fromRunner('i18n') as {
    configure(o: Record<string, unknown>): void;
    setLocale(l: string): void;
  };
  const configure = async (): Promise<void> => {
    i18n.configure({
      locales: ['en-US', 'es-ES', 'fr-FR'],
      defaultLocale: 'en-US',
      directory: dirname(modulePath),
      updateFiles: false,
      objectNotation: true,
      retryInDefaultLocale: true,
      register: globalThis,
    });
    i18n.setLocale('en-US');
  };
  const shim = new Module(modulePath);
  shim.filename = modulePath;
  shim.loaded = true;
  shim.exports = configure;
  require.cache[modulePath] = shim;
}

function copySources(from: string, to: string): void {
  for (const entry of readdirSync(from, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !/\.tsx?$/.test(entry.name) || /\.test\.tsx?$/.test(entry.name)) {
      continue;
    }
    const source = join(entry.parentPath, entry.name);
    cpSync(source, join(to, relative(from, source)));
  }
}

function cspFindingsOf(policy: string): string[] {
  const csp = require('@doyensec/csp-evaluator') as CspEvaluatorModule;
  const findings = new csp.CspEvaluator(new csp.CspParser(policy).csp, csp.Version.CSP3).evaluate();
  // What the check itself counts: HIGH, MEDIUM and their MAYBE variants (not INFO or STRICT_CSP).
  const counted = ['HIGH', 'MEDIUM', 'HIGH_MAYBE', 'MEDIUM_MAYBE'].map((s) => csp.severities[s]);
  return findings
    .filter((f) => counted.includes(f.severity))
    .map((f) => `${f.directive} ${f.value}`.trim());
}

function justificationFor(issue: Issue): Justification | undefined {
  return JUSTIFIED.find(
    (j) =>
      j.check === issue.id &&
      j.file === issue.file &&
      (j.description === undefined || j.description === issue.description),
  );
}

/** Why a justified finding's details no longer match its justification; null if they do. */
function cspMismatch(issue: Issue, justification: Justification): string | null {
  if (justification.cspFindings === undefined) return null;
  if (issue.sample === undefined) return 'the finding carries no policy to evaluate';
  const found = cspFindingsOf(issue.sample);
  const unexpected = found.filter((f) => !justification.cspFindings!.includes(f));
  return unexpected.length === 0 ? null : `unreviewed CSP weaknesses: ${unexpected.join('; ')}`;
}

async function main(): Promise<number> {
  const renderer = join(root, 'out/renderer');
  try {
    readFileSync(join(renderer, 'index.html'));
  } catch {
    process.stderr.write(
      'check:electron: out/renderer/index.html is missing; run `npm run build` first\n',
    );
    return 2;
  }
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  const electronVersion = pkg.devDependencies['electron'];
  if (electronVersion === undefined) throw new Error('package.json has no electron devDependency');

  const scanRoot = mkdtempSync(join(tmpdir(), 'strata-electronegativity-'));
  try {
    copySources(join(root, 'src/main'), join(scanRoot, 'main'));
    copySources(join(root, 'src/preload'), join(scanRoot, 'preload'));
    cpSync(renderer, join(scanRoot, 'renderer'), { recursive: true });

    useBundledTranslations();
    const run = require('@doyensec/electronegativity') as Run;
    const result = await run({
      input: scanRoot,
      isRelative: true,
      electronVersionOverride: electronVersion,
      severitySet: 'informational',
      confidenceSet: 'tentative',
      excludeFromScan: NOT_RUN.map((check) => check.toLowerCase()),
    });

    let failed = false;
    for (const error of result.errors) {
      const file = relative(scanRoot, error.file);
      process.stdout.write(
        `${error.tolerable ? 'warning' : 'ERROR'} parsing ${file}: ${error.message}\n`,
      );
      if (!error.tolerable) failed = true;
    }

    const seen = new Map<Justification, number>();
    for (const issue of result.issues) {
      const where = `${issue.file}:${issue.location.line}:${issue.location.column}`;
      const head = `${issue.severity.name}/${issue.confidence.name} ${issue.id} ${where}: ${issue.description}`;
      if (issue.severity.value === 0) {
        process.stdout.write(`  info      ${head}\n`);
        continue;
      }
      const justification = justificationFor(issue);
      const mismatch = justification && cspMismatch(issue, justification);
      if (justification === undefined || mismatch) {
        failed = true;
        process.stdout.write(`  FINDING   ${head}${mismatch ? ` (${mismatch})` : ''}\n`);
        if (issue.sample) process.stdout.write(`            ${issue.sample.trim()}\n`);
        continue;
      }
      seen.set(justification, (seen.get(justification) ?? 0) + 1);
      process.stdout.write(`  justified ${head}\n            because: ${justification.reason}\n`);
    }
    for (const j of JUSTIFIED) {
      const count = seen.get(j) ?? 0;
      if (count === j.count) continue;
      failed = true;
      process.stdout.write(
        `  STALE     justification for ${j.check} in ${j.file} expects ${j.count} finding(s), ` +
          `saw ${count}: review the code, then update scripts/check-electron.ts\n`,
      );
    }
    process.stdout.write(
      failed
        ? 'check:electron: FAILED (findings above must be fixed, or reviewed and justified here)\n'
        : `check:electron: ok (${result.issues.length} finding(s), all informational or justified)\n`,
    );
    return failed ? 1 : 0;
  } finally {
    rmSync(scanRoot, { recursive: true, force: true });
  }
}

process.exitCode = await main();
