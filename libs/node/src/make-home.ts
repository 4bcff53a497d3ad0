/**
 * Creates a node's home and the folders above it, one level at a time: Node 20's recursive
 * `mkdir` loops for ever (and holds a libuv thread) where a filesystem answers ENOENT for a
 * folder whose parent exists, as /proc does (`swarm up --data-dir /proc/x`). Here that is the
 * ENOENT it is, once.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export async function makeHome(dir: string, mode: number): Promise<void> {
  const missing: string[] = [];
  for (let at = resolve(dir); ; at = dirname(at)) {
    try {
      await stat(at);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(at) === at) throw err;
      missing.push(at);
    }
  }
  for (const at of missing.reverse()) {
    await mkdir(at, { mode }).catch((err: NodeJS.ErrnoException) => {
      // Another process made it meanwhile (nodes of one swarm start side by side).
      if (err.code !== 'EEXIST') throw err;
    });
  }
}
