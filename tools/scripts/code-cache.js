// V8's code cache for functions compiled again and again from the same sources (jest-code-cache-runtime.js).
'use strict';

/**
 * `compileFunction` (node:vm's) that keeps V8's code cache of each file's first compile, keyed by
 * `options.filename`, the exact source and the options V8 bakes into the code (the parameters and
 * the line and column offsets: V8 takes a cache whatever they were, and ran a function with the
 * first compile's parameters, helper-169), and starts later compiles with that same key from it.
 * Another source or shape under a filename is compiled afresh (and kept instead); a cache V8 rejects
 * is compiled afresh too. Not cached: calls with cache options or context extensions of their own,
 * with no filename, and sources that may call `import()` (a function compiled from a cache calls
 * the first compile's dynamic import hook, which is gone: ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING).
 */
/** `import(`, with any spaces or comments before the parenthesis (helper-172: `import (` passed). */
const MAY_IMPORT = /\bimport\s*(?:\/\*[\s\S]*?\*\/\s*|\/\/[^\n]*\n\s*)*\(/;

function withCodeCache(compileFunction) {
  /** filename -> the key compiled (source, parameters, offsets) and V8's cache of it. */
  const caches = new Map();
  const counts = { hits: 0, misses: 0, rejected: 0 };
  function compileFunctionWithCodeCache(code, params, options) {
    const filename = options?.filename;
    if (
      typeof filename !== 'string' ||
      typeof code !== 'string' ||
      options.cachedData !== undefined ||
      options.produceCachedData !== undefined ||
      (options.contextExtensions !== undefined && options.contextExtensions.length > 0) ||
      MAY_IMPORT.test(code)
    ) {
      return compileFunction(code, params, options);
    }
    const shape = `${(params ?? []).join(',')}|${options.lineOffset ?? 0}|${options.columnOffset ?? 0}`;
    const kept = caches.get(filename);
    if (kept !== undefined && kept.code === code && kept.shape === shape) {
      const fn = compileFunction(code, params, { ...options, cachedData: kept.data });
      if (!fn.cachedDataRejected) {
        counts.hits += 1;
        return fn;
      }
      counts.rejected += 1;
    }
    counts.misses += 1;
    const fn = compileFunction(code, params, { ...options, produceCachedData: true });
    if (fn.cachedDataProduced && fn.cachedData) caches.set(filename, { code, shape, data: fn.cachedData });
    return fn;
  }
  compileFunctionWithCodeCache.counts = counts;
  return compileFunctionWithCodeCache;
}

module.exports = { withCodeCache };
