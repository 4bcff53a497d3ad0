/**
 * Files created exactly once, whole and race-free: the content goes to a temporary file, synced,
 * that is hard-linked into place (which fails if the name is taken), then the directory is synced.
 * Whoever links first wins and everyone gets the winner's content; a file is never replaced, and a
 * crash leaves it whole or absent. Several processes of one node (services starting together) may
 * each try to create the same key; the router and the CLI keep fork proofs the same way.
 */
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** What is at the path once writeFileOnce returns. */
export interface FileOnce {
  /** True when this call placed its data; false when the file was there already. */
  readonly written: boolean;
  /** The file's content: the data given, or what was there. */
  readonly content: Uint8Array;
}

/** Creates `path` holding `data` (mode 0600 unless said), or answers the file already there. */
export async function writeFileOnce(path: string, data: Uint8Array, mode = 0o600): Promise<FileOnce> {
  const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(tmp, path); // EEXIST if another process won the race
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { written: false, content: new Uint8Array(await readFile(path)) };
  } finally {
    await rm(tmp, { force: true });
  }
  await syncDir(dirname(path));
  return { written: true, content: data };
}

/** A secret text file (0600) created exactly once: its content, this call's or the winner's. */
export async function createPrivateFileOnce(path: string, content: string): Promise<string> {
  const once = await writeFileOnce(path, new TextEncoder().encode(content));
  return once.written ? content : new TextDecoder().decode(once.content);
}

/**
 * Replaces `path` whole with `data` (mode 0600 unless said), for a file a service rewrites (its
 * state kept across restarts): a new temporary file beside it (`<path>.<pid>.tmp`, created with
 * 'wx', so never written through a link planted at that name; one a crash of this pid left is
 * removed first), synced, renamed over the old file, the directory synced. A crash leaves the old
 * file or the new one whole, and at most that temporary file. One write at a time per path in a
 * process (callers chain them).
 */
export async function replaceFile(path: string, data: Uint8Array, mode = 0o600): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const handle = await open(tmp, 'wx', mode).catch(async (err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Not recursive: a directory in the way is an error, not something to delete.
    await rm(tmp);
    return open(tmp, 'wx', mode);
  });
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await syncDir(dirname(path));
}

/** A new name survives a power loss only once the directory entry is on disk too. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
