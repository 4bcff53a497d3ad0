// Shared by bin/swarm.js and bin/run-ts.js: rebuild stale projects (tools/scripts/build.js). Stack
// traces name the compiled lines; NODE_OPTIONS=--enable-source-maps maps them to the TypeScript (it
// costs every command ~15 ms: Node parses the map of each module it loads).
'use strict';

function ensureCompiled() {
  const { ensureBuilt, BuildError } = require('../tools/scripts/build');
  const started = Date.now();
  try {
    // One line, not one per project: a first run compiles all of them.
    const { built } = ensureBuilt();
    if (built.length > 0) {
      const which = built.length <= 3 ? built.join(', ') : `${built.length} projects`;
      process.stderr.write(`swarm: compiled ${which} in ${Date.now() - started} ms\n`);
    }
  } catch (err) {
    process.stderr.write(`error SWARM_BUILD_FAILED: ${err instanceof BuildError ? err.message : err.stack}\n`);
    process.exit(1);
  }
}

module.exports = { ensureCompiled };
