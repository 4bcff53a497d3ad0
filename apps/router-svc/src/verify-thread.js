'use strict';
// Entry of every verification worker thread, in plain JavaScript for the reason libs/kernels'
// worker.js gives: from dist/ it loads the compiled verify-worker.js beside it; from src/ (jest) it
// registers tsx's CommonJS hook to load the TypeScript source. (Not named verify-worker.js: that is
// the compiled worker's own name in dist/.)
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const compiled = join(__dirname, 'verify-worker.js');
if (!existsSync(compiled)) require('tsx/cjs/api').register();
module.exports = require(existsSync(compiled) ? compiled : './verify-worker.ts').runVerifyTask;
