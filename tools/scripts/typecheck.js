#!/usr/bin/env node
// Strict type check of one project (the Nx `typecheck` target): its src/ files, tests included,
// with the root tsconfig.base.json options. Imported workspace packages are checked as far as this
// project uses them; errors in their own files are left to their own typecheck. `npm test` checks
// the whole repo in one tsc run instead.
//   node tools/scripts/typecheck.js libs/bus
'use strict';
const path = require('node:path');
const ts = require('typescript');
const { ROOT, SRC_DIR } = require('./workspace-projects');

const projectRoot = process.argv[2];
if (!projectRoot || process.argv.length > 3) {
  process.stderr.write('usage: typecheck.js <project root>\n');
  process.exit(2);
}
const dir = path.resolve(ROOT, projectRoot);
const configFile = path.join(ROOT, 'tsconfig.base.json');
const { config, error } = ts.readConfigFile(configFile, ts.sys.readFile);
if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
const parsed = ts.parseJsonConfigFileContent({ ...config, include: [`${path.join(dir, SRC_DIR)}/**/*.ts`] }, ts.sys, ROOT, undefined, configFile);
const program = ts.createProgram(parsed.fileNames, parsed.options);
const own = (d) => !d.file || d.file.fileName.startsWith(`${dir}${path.sep}`);
const diagnostics = ts.getPreEmitDiagnostics(program).filter(own);
const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' };
if (diagnostics.length > 0) {
  process.stderr.write(ts.formatDiagnosticsWithColorAndContext(diagnostics, host));
  process.stderr.write(`${projectRoot}: ${diagnostics.length} type error(s)\n`);
  process.exit(1);
}
process.stderr.write(`${projectRoot}: ${parsed.fileNames.length} files type-check\n`);
