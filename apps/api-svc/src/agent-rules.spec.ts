import { agentAccount, ErrorCode } from '@swarm/contracts';
import { checkAddAgent, checkAgentName, defundTransferId, fundTransferId, MAX_TTL_MS, MIN_TTL_MS, newAgentRecord, toAgentInfo, tokenProblem } from './agent-rules';

const NOW = 1_700_000_000_000;
const TRANSFER_ID = /^[A-Za-z0-9._:-]{1,64}$/;

describe('agent rules - add', () => {
  it('accepts a name, a budget and no expiry or a lifetime', () => {
    expect(checkAddAgent({ name: 'bot-1', budget: 500n, ttlMs: 0n }, NOW)).toEqual({ expiresAtMs: 0 });
    expect(checkAddAgent({ name: 'bot-1', budget: 1n, ttlMs: 7n * 86_400_000n }, NOW)).toEqual({ expiresAtMs: NOW + 7 * 86_400_000 });
  });

  it.each([
    [{ name: '', budget: 1n, ttlMs: 0n }, /name must be 1-32/],
    [{ name: 'Bot', budget: 1n, ttlMs: 0n }, /"Bot"/],
    [{ name: 'a\u001b[2Jb', budget: 1n, ttlMs: 0n }, /"a\\u001b\[2Jb"/],
    [{ name: 'a'.repeat(33), budget: 1n, ttlMs: 0n }, /33 characters/],
    [{ name: 'bot', budget: 0n, ttlMs: 0n }, /budget/],
    [{ name: 'bot', budget: 1n, ttlMs: BigInt(MIN_TTL_MS - 1) }, /ttlMs/],
    [{ name: 'bot', budget: 1n, ttlMs: BigInt(MAX_TTL_MS + 1) }, /ttlMs/],
  ])('refuses %p', (req, message) => {
    expect(() => checkAddAgent(req, NOW)).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT, message: expect.stringMatching(message) }));
  });

  it('never quotes a long name whole', () => {
    expect(() => checkAgentName('x'.repeat(10_000))).toThrow(/10000 characters/);
  });
});

describe('agent rules - accounts and transfers', () => {
  const agent = newAgentRecord('a'.repeat(32), 10n, NOW, 0, 'f'.repeat(64));

  it('pays from agent/<name>', () => {
    expect(agentAccount('bot')).toBe('agent/bot');
    expect(agent.account).toBe(`agent/${'a'.repeat(32)}`);
  });

  it('derives transfer ids from the agent, valid for credit-svc even for the longest name', () => {
    expect(fundTransferId(agent)).toBe(fundTransferId({ ...agent }));
    expect(fundTransferId(agent)).toMatch(TRANSFER_ID);
    expect(defundTransferId({ ...agent, defunds: 9_999 })).toMatch(TRANSFER_ID);
    expect(defundTransferId(agent)).not.toBe(defundTransferId({ ...agent, defunds: 1 }));
    expect(fundTransferId({ ...agent, createdAtMs: NOW + 1 })).not.toBe(fundTransferId(agent));
  });
});

describe('agent rules - token', () => {
  const agent = { ...newAgentRecord('bot', 10n, NOW, NOW + MIN_TTL_MS, 'f'.repeat(64)), funded: true };

  it('works while funded, unrevoked and unexpired', () => {
    expect(tokenProblem(agent, NOW)).toBeUndefined();
    expect(tokenProblem({ ...agent, expiresAtMs: 0 }, NOW + MAX_TTL_MS)).toBeUndefined();
  });

  it('stops when revoked, expired or not funded yet', () => {
    expect(tokenProblem({ ...agent, revoked: true }, NOW)).toMatch(/revoked/);
    expect(tokenProblem(agent, NOW + MIN_TTL_MS)).toMatch(/expired/);
    expect(tokenProblem({ ...agent, funded: false }, NOW)).toMatch(/not funded/);
  });

  it("shows as AgentInfo with the ledger's available credit, spend, and reserves as its tasks", () => {
    expect(toAgentInfo(agent, { available: 7n, spent: 3n, reserves: 2n })).toEqual({
      name: 'bot',
      account: 'agent/bot',
      budget: 10n,
      available: 7n,
      spent: 3n,
      tasks: 2n,
      createdAtMs: BigInt(NOW),
      expiresAtMs: BigInt(NOW + MIN_TTL_MS),
      revoked: false,
    });
  });
});
