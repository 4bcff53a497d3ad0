'use strict';
// Entry of every verification worker thread, in plain JavaScript for the reason libs/kernels'
// worker.js gives: a worker thread does not inherit every TypeScript loader of its parent, so it
// registers tsx's CommonJS hook itself (a second registration is harmless).
require('tsx/cjs/api').register();
module.exports = require('./verify-worker.ts').runVerifyTask;
