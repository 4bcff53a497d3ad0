// Shared by bin/swarm.js and bin/run-ts.js: rebuild stale projects (tools/scripts/build.js), then
// let the compiled JavaScript report errors at their TypeScript lines.
'use strict';

function ensureCompiled() {
  const { ensureBuilt, BuildError } = require('../tools/scripts/build');
  try {
    ensureBuilt({ log: (line) => process.stderr.write(`swarm: ${line}\n`) });
  } catch (err) {
    process.stderr.write(`error SWARM_BUILD_FAILED: ${err instanceof BuildError ? err.message : err.stack}\n`);
    process.exit(1);
  }
  process.setSourceMapsEnabled(true);
}

module.exports = { ensureCompiled };
