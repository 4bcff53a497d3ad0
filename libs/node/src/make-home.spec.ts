import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { TempDir } from '@swarm/testing';
import { tempDir } from '@swarm/testing';
import { makeHome } from './make-home';

describe('makeHome', () => {
  let temp: TempDir;
  let dir: string;
  beforeEach(async () => {
    temp = await tempDir('swarm-make-home-');
    dir = temp.path;
  });
  afterEach(() => temp.remove());

  it('creates the home and the folders above it, owner-only, and takes one that exists', async () => {
    const home = join(dir, 'a', 'b', 'home');
    await makeHome(home, 0o700);
    for (const at of [join(dir, 'a'), join(dir, 'a', 'b'), home]) expect(((await stat(at)).mode & 0o777).toString(8)).toBe('700');
    await expect(makeHome(home, 0o700)).resolves.toBeUndefined();
    await expect(Promise.all([makeHome(join(dir, 'c', 'd'), 0o700), makeHome(join(dir, 'c', 'e'), 0o700)])).resolves.toHaveLength(2);
  });

  it("answers a filesystem that will not hold it (/proc) with its ENOENT at once, where Node 20's recursive mkdir loops", async () => {
    await expect(makeHome('/proc/swarm-no-such-home/node', 0o700)).rejects.toMatchObject({ code: 'ENOENT', syscall: 'mkdir' });
  });
});
