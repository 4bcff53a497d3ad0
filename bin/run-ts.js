#!/usr/bin/env node
// Runs a TypeScript entry point. One under a workspace project's src/ runs from its compiled
// JavaScript, building first when stale (`node bin/run-ts.js tools/bench/src/main.ts` runs
// tools/bench/dist/main.js); a script outside every project (tools/compose/init-bus.ts, which
// docker-compose runs once per volume) still goes through tsx.
'use strict';
const path = require('node:path');
const { ensureCompiled } = require('./ensure-compiled');
const { compiledPathOf } = require('../tools/scripts/workspace-projects');

const [entry, ...rest] = process.argv.slice(2);
if (!entry) {
  process.stderr.write('usage: run-ts.js <entry.ts> [args]\n');
  process.exit(2);
}
const compiled = compiledPathOf(entry);
if (compiled) ensureCompiled();
else require('tsx/cjs/api').register();
const file = compiled ?? path.resolve(entry);
process.argv = [process.argv[0], file, ...rest];
require(file);
