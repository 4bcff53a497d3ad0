import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSwarmNode, tempDir } from '@swarm/testing';
import { connect } from 'nats';
import { documentedAs } from './cli-json-schema';
import { runCli } from './run-cli';
import { isAlive } from '@swarm/testing';

describe('swarm up - the quick start path with real processes', () => {
  it('starts nats-server and five services, runs the demo, and stops everything cleanly', async () => {
    const home = await tempDir('swarm-up-');
    try {
      // One node (the demo's default is a swarm of three: swarm-up-nodes.int.spec.ts).
      const r = await runCli(['up', '--demo', '--nodes', '1', '--exit', '--json', '--executors', '2', '--data-dir', home.path]);
      expect(r.code).toBe(0);
      documentedAs('up', JSON.parse(r.stdout));
      const out = JSON.parse(r.stdout) as {
        nodeId: string;
        natsUrl: string;
        services: Array<{ name: string; pid: number }>;
        demo: { tasks: Array<{ skill: string; verification: string; cost: string }>; balanceBefore: { available: string }; balanceAfter: { available: string } };
      };
      expect(out.nodeId).toMatch(/^[0-9a-f]{64}$/);
      expect(out.natsUrl).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
      expect(out.natsUrl).not.toMatch(/:4222$/);
      expect(out.services.map((s) => s.name)).toEqual(['credit-svc', 'gateway-svc', 'registry-svc', 'executor-svc-1', 'executor-svc-2', 'router-svc', 'api-svc']);
      expect(out.demo.tasks.map((t) => t.skill)).toEqual(['matmul', 'vecadd', 'mlp']);
      expect(out.demo.tasks[0]?.verification).toMatch(/freivalds/);
      expect(out.demo.balanceAfter.available).toBe(out.demo.balanceBefore.available);
      // Stopped cleanly: no service left behind, node file removed, every service logged its stop.
      expect(out.services.filter((s) => isAlive(s.pid))).toEqual([]);
      expect(existsSync(join(home.path, 'node.json'))).toBe(false);
      for (const s of out.services) {
        const log = readFileSync(join(home.path, 'logs', `${s.name}.log`), 'utf8');
        expect({ service: s.name, stopped: /"msg":"stopped"/.test(log) }).toEqual({ service: s.name, stopped: true });
      }
    } finally {
      await home.remove();
    }
  }, 120_000);

  it('closes the bus: keys and data private, no key or a foreign key refused, the client key works', async () => {
    const home = await tempDir('swarm-up-');
    const stranger = await tempDir('swarm-other-');
    const node = await spawnSwarmNode(home.path);
    try {
      const mode = (p: string) => statSync(join(home.path, p)).mode & 0o777;
      expect({
        home: mode('.'),
        bus: mode('bus'),
        logs: mode('logs'),
        nodeFile: mode('node.json'),
        key: mode('node-key.pem'),
        client: mode('bus/client.nk'),
        ledger: mode('credit-ledger'),
        log: mode('logs/credit-svc.log'),
      }).toEqual({ home: 0o700, bus: 0o700, logs: 0o700, nodeFile: 0o600, key: 0o600, client: 0o600, ledger: 0o700, log: 0o600 });
      // Whoever cannot read the data dir has no key: the bus refuses it before any subject.
      await expect(connect({ servers: node.natsUrl })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
      const ok = await runCli(['balance', '--json', '--data-dir', home.path]);
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ account: node.nodeId, available: '1000' });
      // The right URL but no key of this node (another home): a clear refusal, not a hang.
      const denied = await runCli(['balance', '--nats', node.natsUrl, '--data-dir', stranger.path]);
      expect(denied.code).toBe(1);
      expect(denied.stderr).toMatch(/^error SWARM_BUS_DENIED: /m);
    } finally {
      await node.stop();
      await home.remove();
      await stranger.remove();
    }
  }, 120_000);
});
