import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { SERVICE_ROLES } from '@swarm/contracts';
import { LEDGER_DIR } from '@swarm/credit-svc';
import type { TempDir } from '@swarm/testing';
import { tempDir } from '@swarm/testing';
import { parse } from 'yaml';

const ROOT = resolve(__dirname, '../../..');
/** The role whose key the container healthcheck uses. */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain JavaScript script, loaded by path
const { PROBE_ROLE } = require(resolve(ROOT, 'tools/compose/healthcheck.js')) as { PROBE_ROLE: string };

/** A service's mounts, short (`src:target[:ro]`) and long syntax alike. */
interface Mount {
  readonly type: 'volume' | 'bind';
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
  readonly nocopy: boolean;
}

interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
  volumes?: Array<string | { type: string; source: string; target: string; read_only?: boolean; volume?: { nocopy?: boolean } }>;
}

function mountsOf(svc: ComposeService): Mount[] {
  return (svc.volumes ?? []).map((v) => {
    if (typeof v !== 'string') {
      return { type: v.type === 'bind' ? 'bind' : 'volume', source: v.source, target: v.target, readOnly: v.read_only === true, nocopy: v.volume?.nocopy === true };
    }
    const [source = '', target = '', mode] = v.split(':');
    return { type: /^[./]/.test(source) ? 'bind' : 'volume', source, target, readOnly: mode === 'ro', nocopy: false };
  });
}

/** The mount a container path falls in: the one with the longest target that contains it. */
function mountOf(mounts: readonly Mount[], path: string): Mount | undefined {
  return mounts.filter((m) => path === m.target || path.startsWith(`${m.target}/`)).sort((a, b) => b.target.length - a.target.length)[0];
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

/** `router.nk` -> `router`: the role whose seed a file is. */
function seedRole(file: string): string | undefined {
  return /^([a-z]+)\.nk$/.exec(file.split('/').pop() ?? '')?.[1];
}

describe('docker-compose.yml - each container reaches only its own keys', () => {
  const compose = parse(readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, ComposeService>;
    volumes: Record<string, unknown>;
  };
  const services = compose.services;
  const apps = SERVICE_ROLES.map((role) => ({ role, app: `${role}-svc` }));
  let work: TempDir;
  /** Each named volume's content once bus-init ran, keyed by volume name. */
  const volumeDir = (name: string) => join(work.path, 'volumes', name);

  beforeAll(async () => {
    // Run bus-init's command as compose does, its paths inside a stand-in for its container where
    // each mount target is a link to that volume's directory.
    work = await tempDir('swarm-compose-isolation-');
    const init = services['bus-init'];
    const container = join(work.path, 'bus-init');
    for (const m of mountsOf(init)) {
      mkdirSync(volumeDir(m.source), { recursive: true });
      mkdirSync(dirname(join(container, m.target)), { recursive: true });
      symlinkSync(volumeDir(m.source), join(container, m.target));
    }
    const [node, ...args] = init.command ?? [];
    expect(node).toBe('node');
    const inContainer = args.map((a) => (a.startsWith('/') ? join(container, a) : a));
    execFileSync(process.execPath, inContainer, { cwd: ROOT, stdio: 'pipe' });
  });

  afterAll(async () => {
    await work?.remove();
  });

  /** Every seed a service's containers can read, as `role -> content`, through all their mounts. */
  function reachableSeeds(name: string): Map<string, string[]> {
    const seeds = new Map<string, string[]>();
    for (const m of mountsOf(services[name])) {
      const dir = m.type === 'bind' ? resolve(ROOT, m.source) : volumeDir(m.source);
      for (const file of statSync(dir, { throwIfNoEntry: false })?.isDirectory() ? filesUnder(dir) : []) {
        const role = seedRole(file);
        if (role) seeds.set(role, [...(seeds.get(role) ?? []), readFileSync(file, 'utf8')]);
      }
    }
    return seeds;
  }

  it('gives each service exactly its own role key and the health-only probe key, as bus-init wrote them', () => {
    const nodeSeed = (role: string) => readFileSync(join(volumeDir('node-data'), 'bus', `${role}.nk`), 'utf8');
    for (const { role, app } of apps) {
      const seeds = reachableSeeds(app);
      expect({ app, roles: [...seeds.keys()].sort() }).toEqual({ app, roles: [role, PROBE_ROLE].sort() });
      expect(seeds.get(role)).toEqual([nodeSeed(role)]);
      expect(seeds.get(PROBE_ROLE)).toEqual([nodeSeed(PROBE_ROLE)]);
    }
  });

  it('gives nats-server the authorization block but no seed, and Jaeger nothing', () => {
    expect(reachableSeeds('nats').size).toBe(0);
    expect(mountsOf(services['nats']).every((m) => m.readOnly)).toBe(true);
    const auth = readFileSync(join(volumeDir('bus-conf'), 'auth.conf'), 'utf8');
    expect(auth).toMatch(/^authorization \{/);
    expect(auth).not.toMatch(/"S[A-Z2-7]{20,}/); // user seeds start with S; public keys with U
    expect(services['jaeger']?.volumes).toBeUndefined();
  });

  it('mounts the node volume (every key) in bus-init alone, and each key volume only in bus-init and its service, read-only there', () => {
    const mountersOf = (volume: string) => Object.keys(services).filter((name) => mountsOf(services[name]).some((m) => m.type === 'volume' && m.source === volume));
    expect(mountersOf('node-data')).toEqual(['bus-init']);
    for (const { role, app } of apps) {
      const keyVolume = mountsOf(services[app]).find((m) => m.target === '/data');
      expect({ app, keyVolume }).toEqual({ app, keyVolume: { type: 'volume', source: `key-${role}`, target: '/data', readOnly: true, nocopy: true } });
      expect(mountersOf(`key-${role}`).sort()).toEqual(['bus-init', app].sort());
    }
  });

  it("keeps credit-svc's ledger in a volume no other container mounts", () => {
    const credit = services['credit-svc'];
    const ledgerPath = join(credit.environment?.['SWARM_DATA_DIR'] ?? '', LEDGER_DIR);
    const ledger = mountOf(mountsOf(credit), ledgerPath);
    expect(ledger).toMatchObject({ type: 'volume', target: ledgerPath, readOnly: false });
    const others = Object.keys(services).filter((name) => name !== 'credit-svc' && mountsOf(services[name]).some((m) => m.source === ledger?.source));
    expect(others).toEqual([]);
  });

  it("marks that the node's chain started in a writable volume of credit-svc's own, apart from the ledger's", () => {
    const credit = services['credit-svc'];
    const markerDir = credit.environment?.['SWARM_CREDIT_MARKER_DIR'] ?? '';
    const ledgerPath = join(credit.environment?.['SWARM_DATA_DIR'] ?? '', LEDGER_DIR);
    const marker = mountOf(mountsOf(credit), markerDir);
    expect(marker).toMatchObject({ type: 'volume', target: markerDir, readOnly: false });
    // Losing the ledger's volume must not lose the mark: another volume.
    expect(marker?.source).not.toBe(mountOf(mountsOf(credit), ledgerPath)?.source);
    const others = Object.keys(services).filter((name) => name !== 'credit-svc' && mountsOf(services[name]).some((m) => m.source === marker?.source));
    expect(others).toEqual([]);
  });

  it('resolves each service key, probe key and writable mount point inside the mounts the service has', () => {
    for (const { role, app } of apps) {
      const svc = services[app];
      const mounts = mountsOf(svc);
      const dataDir = svc.environment?.['SWARM_DATA_DIR'] ?? '';
      for (const path of [svc.environment?.['SWARM_NATS_NKEY_FILE'] ?? '', join(dataDir, 'bus', `${PROBE_ROLE}.nk`), join(dataDir, 'node-key.pem')]) {
        const m = mountOf(mounts, path);
        const file = m ? join(volumeDir(m.source), relative(m.target, path)) : '';
        expect({ app, path, found: existsSync(file) }).toEqual({ app, path, found: true });
      }
      expect(svc.environment?.['SWARM_NATS_NKEY_FILE']).toBe(join(dataDir, 'bus', `${role}.nk`));
      // A mount nested in a read-only one needs its mount point to exist already (Docker cannot
      // create a directory in a read-only mount).
      for (const nested of mounts) {
        const parent = mountOf(
          mounts.filter((m) => m !== nested),
          nested.target,
        );
        if (parent?.readOnly) {
          const point = join(volumeDir(parent.source), relative(parent.target, nested.target));
          expect({ app, point: nested.target, isDir: statSync(point, { throwIfNoEntry: false })?.isDirectory() }).toEqual({ app, point: nested.target, isDir: true });
        }
      }
    }
  });

  it('declares every volume it mounts, and binds no host path but the nats config', () => {
    const mounts = Object.entries(services).flatMap(([name, svc]) => mountsOf(svc).map((m) => ({ name, ...m })));
    for (const m of mounts.filter((m) => m.type === 'volume')) expect(Object.keys(compose.volumes)).toContain(m.source);
    expect(mounts.filter((m) => m.type === 'bind').map((m) => `${m.name} ${m.source}`)).toEqual(['nats ./tools/compose/nats.conf']);
  });

  it("gives every volume a directory in the image owned by the service user, so a new volume is that user's", () => {
    // A new named volume takes the owner of the image directory it is first mounted on.
    const dockerfile = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
    const mkdir = /^RUN mkdir -p ([^&]+)&& chown -R node:node ([^&]+)&& chmod 700 (.+)$/m.exec(dockerfile);
    const made = (mkdir?.[1] ?? '').trim().split(/\s+/);
    const owned = (mkdir?.[2] ?? '').trim().split(/\s+/);
    const firstMounts = [...mountsOf(services['bus-init']), ...mountsOf(services['credit-svc']).filter((m) => m.source === 'credit-ledger' || m.source === 'credit-state')];
    for (const m of firstMounts) {
      expect({ target: m.target, made: made.some((d) => d === m.target || d.startsWith(`${m.target}/`)) }).toEqual({ target: m.target, made: true });
      expect({ target: m.target, owned: owned.some((d) => m.target === d || m.target.startsWith(`${d}/`)) }).toEqual({ target: m.target, owned: true });
    }
    expect(dockerfile).toMatch(/^USER node$/m);
  });
});
