// Prints one closing line over every suite `npm test` ran: "N passed, N failed".
// Each suite writes a JSON report to test-results/ (see the test:* scripts): the vitest
// projects in vitest's format, the end-to-end suite in Playwright's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}

interface PlaywrightReport {
  stats: { expected: number; unexpected: number; flaky: number; skipped: number };
}

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

function counts(report: unknown, file: string): Counts {
  if (typeof report === 'object' && report !== null && 'stats' in report) {
    const { stats } = report as PlaywrightReport;
    // A flaky test failed before it passed: that is a failure of the suite, not a pass.
    return {
      passed: stats.expected,
      failed: stats.unexpected + stats.flaky,
      skipped: stats.skipped,
    };
  }
  if (typeof report === 'object' && report !== null && 'numPassedTests' in report) {
    const r = report as VitestReport;
    return {
      passed: r.numPassedTests,
      failed: r.numFailedTests,
      skipped: r.numPendingTests + r.numTodoTests,
    };
  }
  throw new Error(`${file} is neither a vitest nor a Playwright JSON report`);
}

const dir = 'test-results';
/** The suites npm test runs one after another (with &&), so every report is from this run. */
const SUITES = ['unit', 'integration', 'e2e'];
const total: Counts = { passed: 0, failed: 0, skipped: 0 };
for (const suite of SUITES) {
  const file = join(dir, `${suite}.json`);
  const c = counts(JSON.parse(readFileSync(file, 'utf8')), file);
  total.passed += c.passed;
  total.failed += c.failed;
  total.skipped += c.skipped;
}
const { passed, failed, skipped } = total;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
