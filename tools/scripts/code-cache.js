// V8's code cache for functions compiled again and again from the same sources (jest-code-cache-runtime.js).
'use strict';

/**
 * `compileFunction` (node:vm's) that keeps V8's code cache of each file's first compile, keyed by
 * `options.filename` and by the exact source, and starts later compiles of that same source from it.
 * Different source under a filename is compiled afresh (and kept instead); a cache V8 rejects is
 * compiled afresh too. Calls that bring their own cache options, or no filename, pass through.
 */
function withCodeCache(compileFunction) {
  /** filename -> the source compiled and V8's cache of it. */
  const caches = new Map();
  const counts = { hits: 0, misses: 0, rejected: 0 };
  function compileFunctionWithCodeCache(code, params, options) {
    const filename = options?.filename;
    if (typeof filename !== 'string' || options.cachedData !== undefined || options.produceCachedData !== undefined) return compileFunction(code, params, options);
    const kept = caches.get(filename);
    if (kept !== undefined && kept.code === code) {
      const fn = compileFunction(code, params, { ...options, cachedData: kept.data });
      if (!fn.cachedDataRejected) {
        counts.hits += 1;
        return fn;
      }
      counts.rejected += 1;
    }
    counts.misses += 1;
    const fn = compileFunction(code, params, { ...options, produceCachedData: true });
    if (fn.cachedDataProduced && fn.cachedData) caches.set(filename, { code, data: fn.cachedData });
    return fn;
  }
  compileFunctionWithCodeCache.counts = counts;
  return compileFunctionWithCodeCache;
}

module.exports = { withCodeCache };
