import { balanceCommand } from './balance';

describe('swarm balance - the --account it sends', () => {
  it.each([
    ['5,000 characters', 'a'.repeat(5_000)],
    ['a space', 'my account'],
    ['a slash outside agent/<name>', 'a/b'],
    ['an agent name the API would refuse', 'agent/Bad Name'],
  ])('refuses an account id with %s as bad usage, before connecting to anything', async (_what, account) => {
    // Nothing listens on port 1: an id that got as far as connecting would be SWARM_NO_NODE.
    const err = await balanceCommand({ account, nats: 'nats://127.0.0.1:1' }, {}).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'SWARM_BAD_ARGS',
      message: `--account must be a ledger account: 1-128 of [A-Za-z0-9._:-], or agent/<name> with name 1-32 of a-z, 0-9 and -; got ${account.length} characters`,
    });
  });
});
