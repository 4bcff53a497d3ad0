import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TempDir } from '@swarm/testing';
import { tempDir } from '@swarm/testing';
import { NodeUnreachableError } from './swarm-client';
import { apiBaseUrl, resolveApiUrl, resolveNatsUrl, resolveNodeHome } from './node-discovery';

describe('node discovery - which node a program talks to', () => {
  let base: TempDir;
  beforeEach(async () => {
    base = await tempDir('swarm-discovery-');
  });
  afterEach(async () => base.remove());

  const announce = (home: string, node: Record<string, unknown>) => {
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'node.json'), JSON.stringify(node));
  };
  const env = () => ({ SWARM_HOME: base.path });

  it('takes node i as <home>/node-<i>, and node 1 of a swarm when the home has no node of its own', () => {
    expect(resolveNodeHome({ dataDir: base.path, node: 3 })).toBe(join(base.path, 'node-3'));
    expect(resolveNodeHome({ dataDir: base.path })).toBe(base.path);
    announce(join(base.path, 'node-1'), {});
    expect(resolveNodeHome({ dataDir: base.path })).toBe(join(base.path, 'node-1'));
    expect(resolveNodeHome({ node: 2 }, env())).toBe(join(base.path, 'node-2'));
  });

  it('finds the agent API: the option, then SWARM_API_URL, then the live node’s httpAddress', async () => {
    await expect(resolveApiUrl({}, env())).rejects.toThrow(NodeUnreachableError);
    announce(base.path, { natsUrl: 'nats://127.0.0.1:4999', pid: process.pid, httpAddress: '127.0.0.1:8123' });
    expect(await resolveApiUrl({}, env())).toBe('http://127.0.0.1:8123');
    expect(await resolveApiUrl({}, { ...env(), SWARM_API_URL: 'https://agents.example:8443/' })).toBe('https://agents.example:8443');
    expect(await resolveApiUrl({ apiUrl: '[::1]:9000' }, env())).toBe('http://[::1]:9000');
    expect(await resolveNatsUrl({}, env())).toBe('nats://127.0.0.1:4999');
  });

  it('ignores a node.json left by a process that is gone, and says when the node has no API address yet', async () => {
    announce(base.path, { natsUrl: 'nats://127.0.0.1:4999', pid: 2 ** 22 + 12_345, httpAddress: '127.0.0.1:8123' });
    await expect(resolveApiUrl({}, env())).rejects.toThrow(/no running node found/);
    announce(base.path, { natsUrl: 'nats://127.0.0.1:4999', pid: process.pid });
    await expect(resolveApiUrl({}, env())).rejects.toThrow(/no agent HTTP API address yet/);
  });

  it('names the nodes of the swarm that do run when the one asked for does not', async () => {
    for (const i of [1, 3]) announce(join(base.path, `node-${i}`), { natsUrl: `nats://127.0.0.1:${4990 + i}`, pid: process.pid });
    announce(join(base.path, 'node-2'), { natsUrl: 'nats://127.0.0.1:4992', pid: 2 ** 22 + 12_345 });
    await expect(resolveNatsUrl({ node: 9 }, env())).rejects.toThrow(/no live node in .*node-9\); this swarm runs nodes 1, 3; start one with `swarm up`/);
    await expect(resolveNatsUrl({ node: 2 }, env())).rejects.toThrow(/this swarm runs nodes 1, 3;/);
    expect(await resolveNatsUrl({ node: 3 }, env())).toBe('nats://127.0.0.1:4993');
  });

  it('takes node i asked for by name over SWARM_NATS_URL and SWARM_API_URL exported for another node', async () => {
    announce(join(base.path, 'node-3'), { natsUrl: 'nats://127.0.0.1:4993', pid: process.pid, httpAddress: '127.0.0.1:8333' });
    const exported = { ...env(), SWARM_NATS_URL: 'nats://127.0.0.1:4991', SWARM_API_URL: 'http://127.0.0.1:8111' };
    expect(await resolveNatsUrl({ node: 3 }, exported)).toBe('nats://127.0.0.1:4993');
    expect(await resolveApiUrl({ node: 3 }, exported)).toBe('http://127.0.0.1:8333');
    expect(await resolveNatsUrl({}, exported)).toBe('nats://127.0.0.1:4991');
    expect(await resolveNatsUrl({ node: 3, nats: 'nats://127.0.0.1:4000' }, exported)).toBe('nats://127.0.0.1:4000');
  });

  it('writes an address as a base URL', () => {
    expect(apiBaseUrl('127.0.0.1:80')).toBe('http://127.0.0.1:80');
    expect(apiBaseUrl('http://h:1//')).toBe('http://h:1');
  });
});
