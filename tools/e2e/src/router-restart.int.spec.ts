import { connectSwarm } from '@swarm/client';
import { ErrorCode, fromTensor } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { demoInputs, priceOf } from '@swarm/skills';
import { spawnSwarmNode, tempDir, waitFor } from '@swarm/testing';

describe('router-svc - stopped in the middle of a task', () => {
  it('ends the task early, refunds its escrow before exiting, and is restarted by swarm up', async () => {
    const home = await tempDir('swarm-restart-');
    const node = await spawnSwarmNode(home.path, { env: { SWARM_GENESIS_GRANT: '100000' } });
    const client = await connectSwarm(node.natsUrl, { nkeyFile: node.clientKeyFile });
    try {
      // A first task: the node serves, and its registry has heard from the executors before they freeze.
      const warm = await client.submit({ skill: 'vecadd', inputs: demoInputs('vecadd', 8, seededRandom(1)), budget: 1n, timeoutMs: 10_000 });
      expect(warm.cost).toBe(1n);
      const before = await client.balance();
      const router = node.services.find((s) => s.name === 'router-svc');
      // The gate: frozen executors take the task but never answer, so it stays in the middle for
      // as long as the router keeps retrying (seconds), however fast this host is.
      const executors = node.services.filter((s) => s.name === 'executor-svc');
      expect(executors.length).toBeGreaterThan(0);
      for (const e of executors) process.kill(e.pid, 'SIGSTOP');
      let err: unknown;
      try {
        const inputs = demoInputs('matmul', 64, seededRandom(2));
        const pending = client.submit({ skill: 'matmul', inputs, budget: priceOf('matmul', inputs.map(fromTensor)), timeoutMs: 60_000 }).catch((e: unknown) => e);
        await waitFor(async () => (await client.balance()).escrowed > 0n, { what: 'the escrow', timeoutMs: 20_000 });
        process.kill(router?.pid as number, 'SIGTERM');
        err = await pending;
      } finally {
        for (const e of executors) process.kill(e.pid, 'SIGCONT');
      }

      expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, message: expect.stringMatching(/stopping.*refunded/) });
      // Refunded by the stopping router itself, not 30 s later by the escrow's expiry.
      expect(await client.balance()).toMatchObject({ available: before.available, escrowed: before.escrowed, spent: before.spent });
      // The launcher restarts it and the node serves again.
      const done = await waitFor(() => client.submit({ skill: 'vecadd', inputs: demoInputs('vecadd', 8, seededRandom(1)), budget: 1n, timeoutMs: 5_000 }).catch(() => undefined), {
        what: 'a restarted router',
        timeoutMs: 30_000,
        intervalMs: 200,
      });
      expect(done.cost).toBe(1n);
    } finally {
      await client.close();
      expect(await node.stop()).toBe(0);
      await home.remove();
    }
  }, 120_000);
});
