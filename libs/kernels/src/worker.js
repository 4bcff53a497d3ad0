'use strict';
// Entry of every kernel-pool worker thread, in plain JavaScript because a worker thread does not
// inherit every TypeScript loader of its parent: jest's swc transform covers only jest's own module
// registry, while `node --import tsx` passes its hooks on. Registering tsx's CommonJS hook here makes
// the TypeScript worker load the same way in every setting (a second registration is harmless).
require('tsx/cjs/api').register();
module.exports = require('./kernel-worker.ts').runKernelTask;
