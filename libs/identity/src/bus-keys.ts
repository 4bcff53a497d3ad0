/**
 * The bus identities of a node: one NATS NKey per role (router, credit, executor, …, client,
 * observer), kept as seed files in `<dataDir>/bus/<role>.nk` (dir 0700, files 0600). nats-server
 * learns only the public keys (libs/runtime renders its authorization block), so whoever can read
 * a seed acts with that role's permissions and nobody else can.
 *
 * Creation is race-free like the node key (createPrivateFileOnce).
 */
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nkeys as untypedNkeys } from 'nats';
import { IdentityError } from './identity';
import type { UserNkey } from './nkey-native';
import { userNkeyOfSeed } from './nkey-native';
import { createPrivateFileOnce } from './private-file';

export const BUS_KEY_DIR = 'bus';
const SEED_PREFIX = 'SU';
const USER_SEED = /^SU[A-Z2-7]{56}$/;

/** nats re-exports nkeys.js typed as `any`; the call used here, typed. */
interface UserKeys {
  createUser(): { getSeed(): Uint8Array };
}
const nkeys = untypedNkeys as UserKeys;

export interface BusKey {
  readonly role: string;
  /** The public NKey (starts with `U`) that nats-server's config names. */
  readonly publicKey: string;
  /** Path of the seed file (what a process needs to connect as this role). */
  readonly seedFile: string;
}

export function busKeyFile(dataDir: string, role: string): string {
  return join(dataDir, BUS_KEY_DIR, `${role}.nk`);
}

/** Loads each role's key, creating missing ones; the key directory ends up 0700. */
export async function loadOrCreateBusKeys(dataDir: string, roles: readonly string[]): Promise<BusKey[]> {
  const dir = join(dataDir, BUS_KEY_DIR);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const keys: BusKey[] = [];
  for (const role of roles) {
    const seedFile = busKeyFile(dataDir, role);
    const seed = await readFile(seedFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return createSeedFile(seedFile);
      throw err;
    });
    keys.push({ role, publicKey: userNkeyOf(seed, seedFile).publicKey, seedFile });
  }
  return keys;
}

/** Reads a seed file for the bus authenticator (libs/bus nkey-signer.ts); a clear error when it is missing or not a user seed. */
export async function readBusSeed(seedFile: string): Promise<UserNkey> {
  let text: string;
  try {
    text = await readFile(seedFile, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new IdentityError(
      code === 'ENOENT' ? `bus key ${seedFile} does not exist (\`swarm up\` creates it in the node's data dir)` : `cannot read bus key ${seedFile} (${code ?? 'error'})`,
      { cause: err },
    );
  }
  return userNkeyOf(text, seedFile);
}

function userNkeyOf(text: string, path: string): UserNkey {
  if (!USER_SEED.test(text.trim())) throw new IdentityError(`${path} is not an NKey user seed`);
  try {
    return userNkeyOfSeed(text);
  } catch (err) {
    throw new IdentityError(`${path} is not a valid NKey user seed`, { cause: err });
  }
}

async function createSeedFile(path: string): Promise<string> {
  const seed = new TextDecoder().decode(nkeys.createUser().getSeed());
  if (!seed.startsWith(SEED_PREFIX)) throw new Error('nkeys produced a seed that is not a user seed');
  return createPrivateFileOnce(path, `${seed}\n`);
}
