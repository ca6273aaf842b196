// `npm run bench`: runs every suite, prints one table and writes bench/results/latest.json.
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Report } from './harness.ts';
import { runCodecBench } from './codecs.ts';
import { runConnectBench } from './connect.ts';
import { runEngineBench } from './engine.ts';
import { runFilesBench } from './files.ts';
import { runLossyPathBench } from './lossy-path.ts';
import { runRelayBench } from './relay.ts';
import { runSegmentsBench } from './segments.ts';
import { runSmallSegmentsUiBench } from './small-segments-ui.ts';
import { runUiBench } from './ui.ts';
import { scopeTmpdir } from '../scripts/scoped-tmpdir.ts';

const suites: Record<string, (report: Report) => Promise<void> | void> = {
  codecs: runCodecBench,
  relay: runRelayBench,
  connect: runConnectBench,
  engine: runEngineBench,
  segments: runSegmentsBench,
  files: runFilesBench,
  'lossy-path': runLossyPathBench,
  ui: runUiBench,
  'ui-segments': runSmallSegmentsUiBench,
};

const only = process.argv.slice(2);
for (const name of only) {
  if (!(name in suites)) {
    console.error(`unknown suite "${name}"; suites: ${Object.keys(suites).join(', ')}`);
    process.exit(2);
  }
}

const report = new Report();
// Whatever a suite (or a process it starts) leaves in the temporary directory goes with it.
const restoreTmpdir = scopeTmpdir('strata-bench-run-');
try {
  for (const [name, run] of Object.entries(suites)) {
    if (only.length > 0 && !only.includes(name)) continue;
    process.stderr.write(`running ${name}...\n`);
    await run(report);
  }
} finally {
  restoreTmpdir();
}

console.log(report.table());
const out = fileURLToPath(new URL('./results/latest.json', import.meta.url));
report.write(out, {
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
});
console.log(`\nwrote ${out}`);
