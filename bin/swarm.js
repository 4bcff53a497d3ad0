#!/usr/bin/env node
// The `swarm` command runs the compiled CLI (apps/cli/dist). It first compiles any project whose
// sources changed since its last build (a few ms of stat calls when none did), so a stale build
// never runs, whether `swarm` came from `npm start`, npx or an `npm link`ed global.
'use strict';

// `swarm submit` answers Ctrl-C or SIGTERM with SWARM_INTERRUPTED (apps/cli/src/submit-interrupt.ts),
// whose handler main.js installs as it loads. Until then a listener that does nothing keeps node's
// default action (dying silently by the signal) away: all of this runs without a turn of the event
// loop, so a signal that came meanwhile reaches main.js's handler.
const SUBMIT_SIGNALS = process.argv[2] === 'submit' ? ['SIGINT', 'SIGTERM'] : [];
const holdSignal = () => {};
for (const s of SUBMIT_SIGNALS) process.on(s, holdSignal);

const { ensureCompiled } = require('./ensure-compiled');

ensureCompiled();
require('../apps/cli/dist/main.js');
for (const s of SUBMIT_SIGNALS) process.off(s, holdSignal);
