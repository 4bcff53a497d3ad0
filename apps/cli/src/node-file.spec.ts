import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TempDir } from '@swarm/testing';
import { tempDir } from '@swarm/testing';
import { resolveNodeHome } from './node-file';

describe('node-file - which home a command talks to', () => {
  let base: TempDir;
  beforeEach(async () => {
    base = await tempDir('swarm-cli-home-');
  });
  afterEach(async () => base.remove());

  const announce = (home: string) => {
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'node.json'), '{}');
  };

  it('takes --node i as <data dir>/node-<i>', () => {
    expect(resolveNodeHome({ dataDir: base.path, node: 3 })).toBe(join(base.path, 'node-3'));
  });

  it('without --node: a single node home itself, or node 1 of a swarm there', () => {
    expect(resolveNodeHome({ dataDir: base.path })).toBe(base.path);
    announce(join(base.path, 'node-1'));
    expect(resolveNodeHome({ dataDir: base.path })).toBe(join(base.path, 'node-1'));
    // A node of the home's own wins over a swarm beside it.
    announce(base.path);
    expect(resolveNodeHome({ dataDir: base.path })).toBe(base.path);
  });

  it('reads SWARM_HOME when there is no --data-dir', () => {
    expect(resolveNodeHome({ node: 2 }, { SWARM_HOME: base.path })).toBe(join(base.path, 'node-2'));
  });
});
