// Before any test: compile stale projects, so tests that spawn services or `swarm` run code built
// from the sources under test (a fresh build costs only the freshness check).
'use strict';
const { ensureBuilt } = require('./build');

module.exports = function buildBeforeTests() {
  ensureBuilt({ log: (line) => process.stderr.write(`jest: ${line}\n`) });
};
