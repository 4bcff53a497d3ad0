/**
 * A dispatch to a dead or stuck executor replica costs the ack timeout, not the task's deadline
 * (issue 10 §4): executors acknowledge a dispatch on arrival, and the router moves on to the next
 * attempt when no acknowledgement comes.
 */
import { connectSwarm } from '@swarm/client';
import { EXECUTOR_QUEUE, ExecutorExecute, fromTensor } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { demoInputs, priceOf } from '@swarm/skills';
import type { InProcessNode } from './in-process-node';
import { startInProcessNode } from './in-process-node';

jest.setTimeout(60_000);

describe('router - a stuck executor replica', () => {
  let node: InProcessNode;

  beforeAll(async () => {
    node = await startInProcessNode({ SWARM_ROUTER_ACK_TIMEOUT_MS: '300' });
  });
  afterAll(async () => {
    await node?.stop();
  });

  it('costs each dispatch it catches the ack timeout, never the deadline', async () => {
    // Holds a place in the executor queue group and never acknowledges or answers.
    const stuck = node.nc.subscribe(ExecutorExecute.subject, { queue: EXECUTOR_QUEUE, callback: () => undefined });
    await node.nc.flush();
    const client = await connectSwarm(node.natsUrl);
    try {
      const inputs = demoInputs('vecadd', 64, seededRandom(3));
      const budget = priceOf('vecadd', inputs.map(fromTensor));
      const runs: Array<{ attempts: number; ms: number; ok: boolean; detail: string }> = [];
      for (let i = 0; i < 12; i++) {
        const t0 = Date.now();
        try {
          const r = await client.submit({ skill: 'vecadd', inputs, budget, timeoutMs: 20_000 });
          runs.push({ attempts: r.attempts, ms: Date.now() - t0, ok: true, detail: '' });
        } catch (err) {
          // NATS picks a queue member at random, so all 3 attempts may land on the stuck one (1/8):
          // then the task fails fast with a retryable error, nothing paid.
          runs.push({ attempts: 3, ms: Date.now() - t0, ok: false, detail: (err as Error).message });
        }
      }
      // The queue group hands about half the dispatches to the stuck replica (12 all missing it: 2^-12).
      expect(runs.some((r) => r.attempts >= 2)).toBe(true);
      expect(runs.filter((r) => r.ok).length).toBeGreaterThan(0);
      for (const r of runs.filter((x) => !x.ok)) expect(r.detail).toMatch(/did not acknowledge/);
      // Each miss costs ~300 ms, never the 20 s deadline (nor the 5 s attempt minimum).
      for (const r of runs) expect(r.ms).toBeLessThan(300 * r.attempts + 2_000);
    } finally {
      stuck.unsubscribe();
      await client.close();
    }
  });
});
