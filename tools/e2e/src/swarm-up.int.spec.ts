import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@swarm/testing';
import { runCli } from './run-cli';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('swarm up - the quick start path with real processes', () => {
  it('starts nats-server and five services, runs the demo, and stops everything cleanly', async () => {
    const home = await tempDir('swarm-up-');
    try {
      const r = await runCli(['up', '--demo', '--exit', '--json', '--executors', '2', '--data-dir', home.path]);
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as {
        nodeId: string;
        natsUrl: string;
        services: Array<{ name: string; pid: number }>;
        demo: { tasks: Array<{ skill: string; verification: string; cost: string }>; balanceBefore: { available: string }; balanceAfter: { available: string } };
      };
      expect(out.nodeId).toMatch(/^[0-9a-f]{64}$/);
      expect(out.natsUrl).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
      expect(out.natsUrl).not.toMatch(/:4222$/);
      expect(out.services.map((s) => s.name)).toEqual(['credit-svc', 'registry-svc', 'gateway-svc', 'executor-svc-1', 'executor-svc-2', 'router-svc']);
      expect(out.demo.tasks.map((t) => t.skill)).toEqual(['matmul', 'vecadd', 'mlp']);
      expect(out.demo.tasks[0]?.verification).toMatch(/freivalds/);
      expect(out.demo.balanceAfter.available).toBe(out.demo.balanceBefore.available);
      // Stopped cleanly: no service left behind, node file removed, every service logged its stop.
      expect(out.services.filter((s) => alive(s.pid))).toEqual([]);
      expect(existsSync(join(home.path, 'node.json'))).toBe(false);
      for (const s of out.services) {
        const log = readFileSync(join(home.path, 'logs', `${s.name}.log`), 'utf8');
        expect({ service: s.name, stopped: /"msg":"stopped"/.test(log) }).toEqual({ service: s.name, stopped: true });
      }
    } finally {
      await home.remove();
    }
  }, 120_000);
});
