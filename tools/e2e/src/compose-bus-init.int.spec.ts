import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BUS_PERMISSIONS, SERVICE_ROLES } from '@swarm/contracts';
import { KEY_FILE } from '@swarm/identity';
import { findNatsServer } from '@swarm/runtime';
import type { TempDir } from '@swarm/testing';
import { tempDir } from '@swarm/testing';

const ROOT = resolve(__dirname, '../../..');
const INIT_BUS = 'tools/compose/init-bus.ts';
/** The role whose key the container healthcheck uses. */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain JavaScript script, loaded by path
const { PROBE_ROLE } = require(resolve(ROOT, 'tools/compose/healthcheck.js')) as { PROBE_ROLE: string };

function runInitBus(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/run-ts.js', INIT_BUS, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every entry under `dir`, relative, directories with a trailing `/`, with its mode. */
function tree(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = join(prefix, e.name);
    const mode = (statSync(join(dir, rel)).mode & 0o777).toString(8);
    if (e.isDirectory()) Object.assign(out, { [`${rel}/`]: mode }, tree(dir, rel));
    else out[rel] = mode;
  }
  return out;
}

describe('compose bus-init - tools/compose/init-bus.ts run as docker-compose.yml runs it', () => {
  let work: TempDir;
  const node = () => join(work.path, 'node');
  const conf = () => join(work.path, 'etc-nats', 'auth');
  const keys = () => join(work.path, 'keys');

  beforeAll(async () => {
    work = await tempDir('swarm-bus-init-');
    mkdirSync(conf(), { recursive: true });
    const r = runInitBus([node(), conf(), keys()]);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  });

  afterAll(async () => {
    await work?.remove();
  });

  it('keeps every key of the node in the node volume, private', () => {
    expect(tree(node())).toEqual({
      [KEY_FILE]: '600',
      'bus/': '700',
      ...Object.fromEntries(Object.keys(BUS_PERMISSIONS).map((role) => [`bus/${role}.nk`, '600'])),
    });
    expect((statSync(node()).mode & 0o777).toString(8)).toBe('700');
  });

  it("gives each service role a volume with exactly its own seed, the probe seed and the node key, private to bus-init's user", () => {
    expect(readdirSync(keys()).sort()).toEqual([...SERVICE_ROLES].sort());
    for (const role of SERVICE_ROLES) {
      const volume = join(keys(), role);
      const expected: Record<string, string> = { [KEY_FILE]: '600', 'bus/': '700', [`bus/${role}.nk`]: '600', [`bus/${PROBE_ROLE}.nk`]: '600' };
      if (role === 'credit') {
        // The mount points of its ledger volume and of the volume its chain-started marker goes in.
        expected['credit-ledger/'] = '700';
        expected['credit-state/'] = '700';
      }
      if (role === 'api') expected['api/'] = '700'; // the mount point of its agents volume
      expect({ role, layout: tree(volume) }).toEqual({ role, layout: expected });
      expect({ role, mode: (statSync(volume).mode & 0o777).toString(8) }).toEqual({ role, mode: '700' });
      for (const file of [KEY_FILE, `bus/${role}.nk`, `bus/${PROBE_ROLE}.nk`]) {
        expect(readFileSync(join(volume, file), 'utf8')).toBe(readFileSync(join(node(), file), 'utf8'));
        expect(statSync(join(volume, file)).uid).toBe(process.getuid?.());
      }
    }
  });

  it('writes an authorization block, world-readable and without a seed, that makes the compose nats.conf valid', () => {
    const auth = join(conf(), 'auth.conf');
    expect((statSync(auth).mode & 0o777).toString(8)).toBe('644');
    expect(readFileSync(auth, 'utf8')).not.toMatch(/"S[A-Z2-7]{20,}/);
    const etc = join(work.path, 'etc-nats');
    copyFileSync(join(ROOT, 'tools/compose/nats.conf'), join(etc, 'nats.conf'));
    // `-t` parses the whole configuration, include and users, without binding ports.
    const check = spawnSync(findNatsServer(), ['-c', join(etc, 'nats.conf'), '-t'], { encoding: 'utf8' });
    expect({ status: check.status, said: check.stderr.trim() }).toEqual({ status: 0, said: expect.stringMatching(/configuration file .* is valid$/) });
  });

  it('keeps the keys on the next `up`, restores a volume to exactly its layout, and leaves the ledger mount point alone', () => {
    const before = readFileSync(join(node(), 'bus', 'router.nk'), 'utf8');
    // A seed that does not belong there (a copy gone wrong), a leftover temp file, a tampered key.
    writeFileSync(join(keys(), 'executor', 'bus', 'router.nk'), before);
    writeFileSync(join(keys(), 'executor', 'stray.tmp'), 'x');
    writeFileSync(join(keys(), 'credit', 'bus', 'credit.nk'), 'tampered');
    execFileSync(process.execPath, ['bin/run-ts.js', INIT_BUS, node(), conf(), keys()], { cwd: ROOT, stdio: 'pipe' });
    expect(readFileSync(join(node(), 'bus', 'router.nk'), 'utf8')).toBe(before);
    expect(readdirSync(join(keys(), 'executor')).sort()).toEqual(['bus', KEY_FILE].sort());
    expect(readdirSync(join(keys(), 'executor', 'bus')).sort()).toEqual(['executor.nk', `${PROBE_ROLE}.nk`].sort());
    expect(readFileSync(join(keys(), 'credit', 'bus', 'credit.nk'), 'utf8')).toBe(readFileSync(join(node(), 'bus', 'credit.nk'), 'utf8'));
    expect(statSync(join(keys(), 'credit', 'credit-ledger')).isDirectory()).toBe(true);
  });

  it('refuses bad usage with SWARM_BAD_ARGS and exit 2, and reports a failed write with its OS code', () => {
    expect(runInitBus([node(), conf()])).toMatchObject({ status: 2, stderr: expect.stringMatching(/^error SWARM_BAD_ARGS: usage: init-bus\.ts/) });
    expect(runInitBus(['node', 'conf', 'keys'])).toMatchObject({ status: 2 });
    const missingConf = join(work.path, 'no-such-dir', 'auth');
    expect(runInitBus([node(), missingConf, keys()])).toMatchObject({ status: 1, stderr: expect.stringMatching(/^error SWARM_OS_ERROR: ENOENT/) });
  });
});
