#!/usr/bin/env node
// The `strata` command. npm puts the project's Node 24 first on PATH for `npx strata` and
// npm scripts, and Node 24 runs the TypeScript source directly.
import '../src/cli/strata.ts';
