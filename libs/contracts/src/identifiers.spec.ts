import { agentAccount, isAccountId, isAgentName, isIdempotencyKey, isSkillName, isTaskId } from './identifiers';

describe('identifiers - one rule per name or id', () => {
  it('takes 1-64 shell-safe characters as an idempotency key', () => {
    expect(isIdempotencyKey('cli-1a2b:3.x_y')).toBe(true);
    for (const bad of ['', 'a'.repeat(65), 'a b', 'a/b', 'é', 'a\n']) expect(isIdempotencyKey(bad)).toBe(false);
  });

  it('takes task ids of the same alphabet, up to 80 characters', () => {
    expect(isTaskId(`task-${'0'.repeat(32)}`)).toBe(true);
    expect(isTaskId('a'.repeat(80))).toBe(true);
    for (const bad of ['', 'a'.repeat(81), '../etc', 'a b', '.', '..']) expect(isTaskId(bad)).toBe(false);
    expect(isTaskId('...')).toBe(true);
  });

  it('takes skill names of 1-64 of [a-z0-9_-]', () => {
    expect(isSkillName('matmul')).toBe(true);
    for (const bad of ['', 'MatMul', 'a'.repeat(65), 'mat mul', 'a/b']) expect(isSkillName(bad)).toBe(false);
  });

  it('takes agent names of 1-32 of [a-z0-9-], whose account is agent/<name>', () => {
    expect(isAgentName('bot-1')).toBe(true);
    for (const bad of ['', 'a'.repeat(33), 'Bot', 'a_b', 'a/b', 'a ']) expect(isAgentName(bad)).toBe(false);
    expect(agentAccount('bot-1')).toBe('agent/bot-1');
  });

  it("takes a ledger account as the ledger does: 1-128 of [A-Za-z0-9._:-], or an agent's agent/<name>", () => {
    for (const good of ['node', 'a'.repeat(128), 'aZ09._:-', 'agent/bot-1']) expect(isAccountId(good)).toBe(true);
    for (const bad of ['', 'a'.repeat(129), 'a'.repeat(5000), 'a b', 'a/b', 'agent/', 'agent/Bad Name', `agent/${'a'.repeat(33)}`, 'é']) expect(isAccountId(bad)).toBe(false);
  });
});
