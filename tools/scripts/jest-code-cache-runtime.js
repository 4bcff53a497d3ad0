// jest's module runtime (the `runtime` of jest.config.js), with V8's code cache kept per worker.
// Jest gives every spec file a fresh module registry, so each file compiled again every module it
// loads (the generated contracts alone are 590 KB): in a profile of the unit specs, compiling took
// 8.9 s of 62 s of CPU. A worker now keeps each module's code cache from its first compile (by file,
// exact source and the compile's parameters and offsets; not for sources that may call import():
// code-cache.js), and later spec files in that worker start from it. jest-runtime calls node:vm's
// compileFunction through the module object at each compile, so replacing it there, in the worker,
// is enough.
'use strict';
const vm = require('node:vm');
const { withCodeCache } = require('./code-cache');

vm.compileFunction = withCodeCache(vm.compileFunction);

module.exports = require('jest-runtime');
