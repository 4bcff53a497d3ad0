/**
 * A node whose executors run a subset of the skills (SWARM_SKILLS): the registry offers only what
 * they advertise, so the router refuses the rest as NO_PROVIDER before any executor sees it, and
 * before anything is reserved.
 */
import type { SwarmClient } from '@swarm/client';
import { connectSwarm } from '@swarm/client';
import { ErrorCode, fromTensor } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { demoInputs, priceOf } from '@swarm/skills';
import type { InProcessNode } from './in-process-node';
import { startInProcessNode } from './in-process-node';

describe('node - executors with a subset of the skills installed', () => {
  let node: InProcessNode;
  let client: SwarmClient;

  beforeAll(async () => {
    node = await startInProcessNode({ SWARM_GENESIS_GRANT: '500', SWARM_SKILLS: 'vecadd' });
    client = await connectSwarm(node.natsUrl);
  }, 30_000);

  afterAll(async () => {
    await client?.close();
    await node?.stop();
  });

  const submit = (skill: string, size: number) => {
    const inputs = demoInputs(skill, size, seededRandom(size));
    return client.submit({ skill, inputs, budget: priceOf(skill, inputs.map(fromTensor)), timeoutMs: 20_000 });
  };

  it('lists only the installed skills', async () => {
    expect((await client.skills()).skills.map((s) => s.name)).toEqual(['vecadd']);
  });

  it('runs an installed skill', async () => {
    await expect(submit('vecadd', 64)).resolves.toMatchObject({ providerId: node.nodeId, verification: 'full-check' });
  });

  it.each([
    ['matmul', 8],
    ['mlp', 8],
  ])('answers NO_PROVIDER for %s, which the catalog knows but no executor runs, and charges nothing', async (skill, size) => {
    const before = await client.balance();
    const err = await submit(skill, size).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_NO_PROVIDER, message: expect.stringContaining(skill) });
    // Nothing charged, nothing reserved.
    expect(await client.balance()).toMatchObject({ available: before.available, escrowed: before.escrowed, spent: before.spent });
  });
});
