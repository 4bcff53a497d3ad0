/**
 * libuv's thread pool (DNS lookups, file reads) has 4 threads unless UV_THREADPOOL_SIZE says more,
 * read once when the pool first starts (lazily, at the first lookup or file read): main.ts imports
 * this first. gateway-svc's lookups of names peers chose may hold up to 4 threads until the system
 * resolver gives up (bounded-resolver.ts: 2 for peers, 1 for its own name, 1 for DHT contacts), which
 * with 4 left none for file reads (helper-175).
 */
export const GATEWAY_THREADPOOL_SIZE = 8;

if (process.env['UV_THREADPOOL_SIZE'] === undefined) process.env['UV_THREADPOOL_SIZE'] = String(GATEWAY_THREADPOOL_SIZE);
