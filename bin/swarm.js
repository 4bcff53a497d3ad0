#!/usr/bin/env node
// The `swarm` command. Sources are TypeScript run through tsx (no separate build step).
'use strict';
require('tsx/cjs/api').register();
require('../apps/cli/src/main.ts');
