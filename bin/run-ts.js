#!/usr/bin/env node
// Runs a TypeScript entry point through tsx: `node bin/run-ts.js path/to/main.ts [args]`.
'use strict';
const path = require('node:path');
require('tsx/cjs/api').register();
const [entry, ...rest] = process.argv.slice(2);
if (!entry) {
  process.stderr.write('usage: run-ts.js <entry.ts> [args]\n');
  process.exit(2);
}
process.argv = [process.argv[0], path.resolve(entry), ...rest];
require(path.resolve(entry));
