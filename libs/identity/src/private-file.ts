/**
 * Creates a secret file (0600) exactly once, race-free: the content goes to a temp file that is
 * linked into place; whoever links first wins, and everyone gets the winner's content. Several
 * processes of one node (services starting together) may each try to create the same key.
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, rm, writeFile } from 'node:fs/promises';

export async function createPrivateFileOnce(path: string, content: string): Promise<string> {
  const tmp = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  await writeFile(tmp, content, { mode: 0o600 });
  try {
    await link(tmp, path); // EEXIST if another process won the race
    return content;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return readFile(path, 'utf8');
  } finally {
    await rm(tmp, { force: true });
  }
}
