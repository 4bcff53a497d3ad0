import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeHome } from './make-home';

describe('makeHome', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarm-make-home-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

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
