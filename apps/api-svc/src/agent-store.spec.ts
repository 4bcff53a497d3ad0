import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TempDir } from '@swarm/testing';
import { tempDir } from '@swarm/testing';
import { newAgentRecord } from './agent-rules';
import { AGENTS_DIR, AGENTS_FILE, AgentStoreError, openAgentStore } from './agent-store';

const hash = (c: string) => c.repeat(64);

describe('agent store - <dataDir>/api/agents.json', () => {
  let dir: TempDir;
  beforeEach(async () => {
    dir = await tempDir('swarm-api-store-');
  });
  afterEach(() => dir.remove());

  it('starts empty and survives a restart with every field', async () => {
    const store = await openAgentStore(dir.path);
    expect(store.list()).toEqual([]);
    const bot = { ...newAgentRecord('bot', 18_446_744_073_709_551_615n, 1_000, 2_000, hash('a')), funded: true, returned: 1n, defunds: 1 };
    await store.put(bot);
    await store.put(newAgentRecord('other', 3n, 1_001, 0, hash('b')));
    const again = await openAgentStore(dir.path);
    expect(again.list()).toEqual([bot, newAgentRecord('other', 3n, 1_001, 0, hash('b'))]);
    expect(again.byTokenHash(hash('a'))?.name).toBe('bot');
  });

  it('applies a change in memory at once, before it is written', async () => {
    const store = await openAgentStore(dir.path);
    await store.put({ ...newAgentRecord('bot', 5n, 1, 0, hash('a')), funded: true });
    const written = store.update('bot', (a) => ({ ...a, revoked: true }));
    expect(store.get('bot')?.revoked).toBe(true);
    await written;
    expect((await openAgentStore(dir.path)).get('bot')?.revoked).toBe(true);
  });

  it('finds agents by token hash only while the token is theirs', async () => {
    const store = await openAgentStore(dir.path);
    await store.put(newAgentRecord('bot', 5n, 1, 0, hash('a')));
    await store.put(newAgentRecord('bot', 5n, 1, 0, hash('c')));
    expect(store.byTokenHash(hash('a'))).toBeUndefined();
    expect(store.byTokenHash(hash('c'))?.name).toBe('bot');
    await store.remove('bot');
    expect(store.byTokenHash(hash('c'))).toBeUndefined();
    expect(await store.update('bot', (a) => a)).toBeUndefined();
  });

  it('coalesces a burst of changes and keeps the last of each', async () => {
    const store = await openAgentStore(dir.path);
    await store.put(newAgentRecord('bot', 5n, 1, 0, hash('a')));
    await Promise.all(Array.from({ length: 200 }, () => store.update('bot', (a) => ({ ...a, defunds: a.defunds + 1 }))));
    await store.flush();
    expect((await openAgentStore(dir.path)).get('bot')?.defunds).toBe(200);
  });

  it('reads a version-1 file, ignoring the counters it kept (the ledger keeps them), and writes version 2 without them', async () => {
    const file = join(dir.path, AGENTS_DIR, AGENTS_FILE);
    const old = {
      name: 'bot',
      account: 'agent/bot',
      budget: '50',
      createdAtMs: 1,
      expiresAtMs: 0,
      revoked: false,
      tokenHash: hash('a'),
      spent: '12',
      tasks: 3,
      funded: true,
      returned: '0',
      defunds: 0,
    };
    await mkdir(join(dir.path, AGENTS_DIR), { recursive: true });
    await writeFile(file, JSON.stringify({ version: 1, agents: [old] }));
    const store = await openAgentStore(dir.path);
    expect(store.get('bot')).toEqual({ ...newAgentRecord('bot', 50n, 1, 0, hash('a')), funded: true });
    await store.update('bot', (a) => ({ ...a, revoked: true }));
    const written = JSON.parse(await readFile(file, 'utf8')) as { version: number; agents: Array<Record<string, unknown>> };
    expect(written.version).toBe(2);
    expect(written.agents[0]).not.toHaveProperty('spent');
    expect(written.agents[0]).not.toHaveProperty('tasks');
    expect((await openAgentStore(dir.path)).get('bot')?.revoked).toBe(true);
    await writeFile(file, JSON.stringify({ version: 3, agents: [] }));
    await expect(openAgentStore(dir.path)).rejects.toThrow(/is not a version 1 or 2 agents file/);
  });

  it('refuses a damaged file instead of starting without its agents', async () => {
    const file = join(dir.path, AGENTS_DIR, AGENTS_FILE);
    const store = await openAgentStore(dir.path);
    await store.put(newAgentRecord('bot', 5n, 1, 0, hash('a')));
    const good = await readFile(file, 'utf8');
    await writeFile(file, good.slice(0, 40));
    await expect(openAgentStore(dir.path)).rejects.toThrow(AgentStoreError);
    await writeFile(file, good.replace('"budget": "5"', '"budget": -5'));
    await expect(openAgentStore(dir.path)).rejects.toThrow(/agent 0 is damaged/);
  });
});
