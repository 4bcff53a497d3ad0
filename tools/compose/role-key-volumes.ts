/**
 * What docker-compose's one-shot `bus-init` writes (issue 10, the bus closed inside compose too):
 * - the node's keys, as `swarm up` keeps them, in the node volume (`<node dir>/node-key.pem`,
 *   `<node dir>/bus/<role>.nk` for every role); only bus-init mounts it;
 * - nats-server's authorization block (`<conf dir>/auth.conf`: public keys only) for nats;
 * - one volume per service role (`<keys dir>/<role>/`) holding exactly that role's seed, the probe
 *   seed its healthcheck asks with, and the node key, which each service mounts read-only as its
 *   data dir. A compromised service container therefore acts with its own role's permissions and
 *   nothing more, and reads no other role's seed and no other service's state.
 * The node key goes to every service because all of a node's services must share its node id
 * (services use only the id; nothing in them signs with it).
 * Directories are 0700 and files 0600, owned by the user bus-init runs as: the Dockerfile's one
 * service user, so each service can read its own volume and nobody else in the container can.
 */
import { chmod, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { BusRole, ServiceName } from '@swarm/contracts';
import { SERVICE_ROLES } from '@swarm/contracts';
import { BUS_KEY_DIR, busKeyFile, KEY_FILE, loadOrCreateIdentity } from '@swarm/identity';
import { prepareClosedBus } from '@swarm/runtime';

/** healthcheck.js's identity (libs/contracts bus-roles: may ask health, nothing else). */
const PROBE_ROLE = 'probe' satisfies BusRole;
export const AUTH_CONF_FILE = 'auth.conf';
const PRIVATE_DIR_MODE = 0o700;
const PRIVATE_FILE_MODE = 0o600;
/** nats-server (another image, another user) reads it; it holds no secret. */
const PUBLIC_FILE_MODE = 0o644;

/**
 * Directories a service keeps state in: its own volume is mounted over this directory of its
 * read-only key volume, and a mount point must already exist inside a read-only mount.
 */
const STATE_DIRS: Readonly<Partial<Record<ServiceName, readonly string[]>>> = {
  // credit-svc's LEDGER_DIR (restated: importing the app would load LevelDB into bus-init;
  // compose-isolation.int.spec.ts holds the two equal).
  // And where it marks that the node's chain started (SWARM_CREDIT_MARKER_DIR): a volume apart from
  // the ledger's, so that losing the ledger is caught.
  credit: ['credit-ledger', 'credit-state'],
  // api-svc's AGENTS_DIR, restated likewise.
  api: ['api'],
};

interface RoleVolumeLayout {
  /** Paths relative to the volume's root. */
  readonly files: readonly string[];
  readonly dirs: readonly string[];
}

/** Exactly what the key volume of `role` holds once bus-init ran. */
function roleVolumeLayout(role: ServiceName): RoleVolumeLayout {
  return {
    files: [KEY_FILE, join(BUS_KEY_DIR, `${role}.nk`), join(BUS_KEY_DIR, `${PROBE_ROLE}.nk`)],
    dirs: [BUS_KEY_DIR, ...(STATE_DIRS[role] ?? [])],
  };
}

export interface ComposeBusPaths {
  /** The node volume: every key, created once and kept (what an operator copies keys out of). */
  readonly nodeDir: string;
  /** nats-server's auth config volume. */
  readonly confDir: string;
  /** Holds one directory (one volume) per service role. */
  readonly keysDir: string;
}

/**
 * Creates missing keys and keeps existing ones, rewrites auth.conf, and makes each role's volume
 * hold exactly its layout: bus-init owns those volumes (services mount them read-only), so
 * anything else found there is removed rather than left readable.
 */
export async function initComposeBus(paths: ComposeBusPaths): Promise<void> {
  await mkdir(paths.nodeDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  await chmod(paths.nodeDir, PRIVATE_DIR_MODE);
  await loadOrCreateIdentity(paths.nodeDir);
  const bus = await prepareClosedBus(paths.nodeDir);
  await replaceFile(join(paths.confDir, AUTH_CONF_FILE), bus.authorization, PUBLIC_FILE_MODE);
  for (const role of SERVICE_ROLES) await fillRoleVolume(paths.nodeDir, join(paths.keysDir, role), role);
}

async function fillRoleVolume(nodeDir: string, volume: string, role: ServiceName): Promise<void> {
  const layout = roleVolumeLayout(role);
  await mkdir(volume, { recursive: true, mode: PRIVATE_DIR_MODE });
  await chmod(volume, PRIVATE_DIR_MODE);
  for (const dir of layout.dirs) {
    await mkdir(join(volume, dir), { recursive: true, mode: PRIVATE_DIR_MODE });
    await chmod(join(volume, dir), PRIVATE_DIR_MODE);
  }
  await replaceFile(join(volume, KEY_FILE), await readFile(join(nodeDir, KEY_FILE), 'utf8'), PRIVATE_FILE_MODE);
  for (const keyRole of [role, PROBE_ROLE]) {
    await replaceFile(busKeyFile(volume, keyRole), await readFile(busKeyFile(nodeDir, keyRole), 'utf8'), PRIVATE_FILE_MODE);
  }
  await removeUnexpected(volume, '', layout);
  await removeUnexpected(volume, BUS_KEY_DIR, layout);
}

async function removeUnexpected(volume: string, dir: string, layout: RoleVolumeLayout): Promise<void> {
  const expected = new Set([...layout.files, ...layout.dirs]);
  for (const name of await readdir(join(volume, dir))) {
    if (!expected.has(join(dir, name))) await rm(join(volume, dir, name), { recursive: true, force: true });
  }
}

/** Write-then-rename: a reader sees the old file or the new one, never a partial key. */
async function replaceFile(path: string, content: string, mode: number): Promise<void> {
  const tmp = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, content, { mode });
    await chmod(tmp, mode); // writeFile's mode is masked by the umask
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}
