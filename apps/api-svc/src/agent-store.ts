/**
 * api-svc's own storage: the node's agents in `<dataDir>/api/agents.json`, read once at start and
 * held in memory (a token check is a map read). Every change is in memory at once (a revocation
 * stops the token before anything is written) and then written whole, atomically (temp file,
 * fsync, rename), so a crash leaves the previous file or the new one, never half of one. Writes
 * coalesce: while one is under way, later changes wait for one more write with all of them.
 *
 * Version 2 dropped the agents' `spent` and `tasks` counters (the ledger keeps them now, see
 * agent-rules.ts AgentLedger); a version-1 file still reads, its counters ignored.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { agentAccount, isAgentName } from '@swarm/contracts';
import type { AgentRecord } from './agent-rules';

export const AGENTS_DIR = 'api';
export const AGENTS_FILE = 'agents.json';
const FILE_VERSION = 2;
/** Versions this build reads: 1 differs only by the counters it still carries. */
const READABLE_VERSIONS: ReadonlySet<unknown> = new Set([1, FILE_VERSION]);
const PRIVATE_DIR_MODE = 0o700;
const PRIVATE_FILE_MODE = 0o600;

export interface AgentStore {
  get(name: string): AgentRecord | undefined;
  byTokenHash(hash: string): AgentRecord | undefined;
  /** In creation order. */
  list(): AgentRecord[];
  size(): number;
  /** Adds or replaces the agent now; resolves once a write holding the change is on disk. */
  put(agent: AgentRecord): Promise<void>;
  /** Applies `change` to the agent now (undefined if there is none) and writes it. */
  update(name: string, change: (agent: AgentRecord) => AgentRecord): Promise<AgentRecord | undefined>;
  remove(name: string): Promise<void>;
  /** Resolves once every change so far is on disk. */
  flush(): Promise<void>;
}

export class AgentStoreError extends Error {}

type StoredAgent = Omit<AgentRecord, 'budget' | 'returned'> & { budget: string; returned: string };

export async function openAgentStore(dataDir: string): Promise<AgentStore> {
  const dir = join(dataDir, AGENTS_DIR);
  const file = join(dir, AGENTS_FILE);
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const agents = new Map<string, AgentRecord>();
  for (const a of await readAgents(file)) agents.set(a.name, a);
  const byHash = new Map<string, string>([...agents.values()].map((a) => [a.tokenHash, a.name]));

  let changes = 0;
  let written = 0;
  let writing: Promise<void> | undefined;

  async function writeAll(): Promise<void> {
    while (written < changes) {
      const upTo = changes;
      const stored: StoredAgent[] = [...agents.values()].map((a) => ({ ...a, budget: String(a.budget), returned: String(a.returned) }));
      const tmp = `${file}.${process.pid}.tmp`;
      const handle = await open(tmp, 'w', PRIVATE_FILE_MODE);
      try {
        await handle.writeFile(`${JSON.stringify({ version: FILE_VERSION, agents: stored }, null, 1)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, file);
      written = upTo;
    }
  }

  function persist(): Promise<void> {
    const target = ++changes;
    const wait = (): Promise<void> => {
      writing ??= writeAll().finally(() => {
        writing = undefined;
      });
      return writing.then(() => (written >= target ? undefined : wait()));
    };
    return wait();
  }

  const set = (agent: AgentRecord) => {
    const old = agents.get(agent.name);
    if (old) byHash.delete(old.tokenHash);
    agents.set(agent.name, agent);
    byHash.set(agent.tokenHash, agent.name);
  };

  return {
    get: (name) => agents.get(name),
    byTokenHash(hash) {
      const name = byHash.get(hash);
      return name === undefined ? undefined : agents.get(name);
    },
    list: () => [...agents.values()],
    size: () => agents.size,
    put(agent) {
      set(agent);
      return persist();
    },
    async update(name, change) {
      const old = agents.get(name);
      if (!old) return undefined;
      const next = change(old);
      set(next);
      await persist();
      return next;
    },
    remove(name) {
      const old = agents.get(name);
      if (!old) return Promise.resolve();
      agents.delete(name);
      byHash.delete(old.tokenHash);
      return persist();
    },
    async flush() {
      while (writing) await writing;
    },
  };
}

async function readAgents(file: string): Promise<AgentRecord[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new AgentStoreError(`${file} is not JSON; restore it from a backup or move it away (its agents' tokens then stop working)`);
  }
  const agents = (doc as { version?: unknown; agents?: unknown }).agents;
  if (!READABLE_VERSIONS.has((doc as { version?: unknown }).version) || !Array.isArray(agents)) {
    throw new AgentStoreError(`${file} is not a version 1 or ${FILE_VERSION} agents file`);
  }
  return agents.map((a: unknown, i) => {
    const agent = parseAgent(a);
    if (!agent) throw new AgentStoreError(`${file}: agent ${i} is damaged`);
    return agent;
  });
}

const UINT = /^\d{1,20}$/;
const HASH = /^[0-9a-f]{64}$/;

function parseAgent(value: unknown): AgentRecord | undefined {
  const a = value as Partial<StoredAgent> | null;
  if (typeof a !== 'object' || a === null) return undefined;
  const ok =
    typeof a.name === 'string' &&
    isAgentName(a.name) &&
    a.account === agentAccount(a.name) &&
    [a.budget, a.returned].every((n) => typeof n === 'string' && UINT.test(n)) &&
    [a.createdAtMs, a.expiresAtMs, a.defunds].every((n) => Number.isSafeInteger(n) && (n as number) >= 0) &&
    typeof a.revoked === 'boolean' &&
    typeof a.funded === 'boolean' &&
    typeof a.tokenHash === 'string' &&
    HASH.test(a.tokenHash);
  if (!ok) return undefined;
  // A version-1 file's `spent` and `tasks` are not read: they are the ledger's now.
  const s = a as StoredAgent;
  return {
    name: s.name,
    account: s.account,
    budget: BigInt(s.budget),
    createdAtMs: s.createdAtMs,
    expiresAtMs: s.expiresAtMs,
    revoked: s.revoked,
    tokenHash: s.tokenHash,
    funded: s.funded,
    returned: BigInt(s.returned),
    defunds: s.defunds,
  };
}
