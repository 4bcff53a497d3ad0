'use strict';
// Entry of every kernel-pool worker thread, in plain JavaScript because a worker thread does not
// inherit every TypeScript loader of its parent. The build copies this file into dist/ beside the
// compiled kernel-worker.js, which it then loads as is; from src/ (jest, whose swc transform covers
// only its own module registry) it registers tsx's CommonJS hook to load the TypeScript source.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const compiled = join(__dirname, 'kernel-worker.js');
if (!existsSync(compiled)) require('tsx/cjs/api').register();
module.exports = require(existsSync(compiled) ? compiled : './kernel-worker.ts').runKernelTask;
