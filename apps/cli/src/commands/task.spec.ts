import { taskCommand } from './task';

describe('swarm task - what is checked before anything is sent', () => {
  it('refuses what is no task id as bad usage, never sending it', async () => {
    // No node is needed to refuse it: nothing is looked up or sent.
    const env = { SWARM_HOME: '/nonexistent-swarm-home' };
    await expect(taskCommand('x'.repeat(3_000), {}, env)).rejects.toMatchObject({ code: 'SWARM_BAD_ARGS', message: expect.stringMatching(/got 3000 characters$/) });
    await expect(taskCommand('task-\u001b[2Jx', {}, env)).rejects.toMatchObject({ code: 'SWARM_BAD_ARGS' });
    await expect(taskCommand(undefined, { key: 'bad/key' }, env)).rejects.toMatchObject({ code: 'SWARM_BAD_ARGS' });
  });
});
