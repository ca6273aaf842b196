// Prints one closing line over every vitest project `npm test` ran: "N passed, N failed".
// Each project writes a JSON report to test-results/ (see the test:* scripts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface JsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}

const dir = 'test-results';
/** The suites npm test runs one after another (with &&), so every report is from this run. */
const SUITES = ['unit', 'integration'];
let passed = 0;
let failed = 0;
let skipped = 0;
for (const suite of SUITES) {
  const r = JSON.parse(readFileSync(join(dir, `${suite}.json`), 'utf8')) as JsonReport;
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + r.numTodoTests;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
