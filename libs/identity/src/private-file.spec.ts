import { mkdtemp, mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replaceFile } from './private-file';

describe('private file - replaceFile, a file rewritten whole', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarm-replace-file-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('replaces the file whole, private, and leaves no temporary file', async () => {
    const path = join(dir, 'state');
    await replaceFile(path, new TextEncoder().encode('first'));
    await replaceFile(path, new TextEncoder().encode('second'));
    expect(await readFile(path, 'utf8')).toBe('second');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(`${path}.${process.pid}.tmp`).catch((err: NodeJS.ErrnoException) => err.code)).toBe('ENOENT');
  });

  it('writes past what a crash of this pid left at the temporary name, never through a link planted there', async () => {
    const path = join(dir, 'state');
    const victim = join(dir, 'victim');
    await writeFile(victim, 'untouched');
    await symlink(victim, `${path}.${process.pid}.tmp`);
    await replaceFile(path, new TextEncoder().encode('new'));
    expect({ file: await readFile(path, 'utf8'), victim: await readFile(victim, 'utf8') }).toEqual({ file: 'new', victim: 'untouched' });
  });

  it('fails, the old file whole, when a directory is in the way of the temporary name', async () => {
    const path = join(dir, 'state');
    await replaceFile(path, new TextEncoder().encode('old'));
    await mkdir(`${path}.${process.pid}.tmp`);
    await expect(replaceFile(path, new TextEncoder().encode('new'))).rejects.toThrow();
    expect(await readFile(path, 'utf8')).toBe('old');
  });
});
