#!/usr/bin/env node
// The `swarm` command runs the compiled CLI (apps/cli/dist). It first compiles any project whose
// sources changed since its last build (a few ms of stat calls when none did), so a stale build
// never runs, whether `swarm` came from `npm start`, npx or an `npm link`ed global.
'use strict';
const { ensureCompiled } = require('./ensure-compiled');

ensureCompiled();
require('../apps/cli/dist/main.js');
