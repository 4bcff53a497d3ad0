import { ErrorCode, SwarmError } from '@swarm/contracts';
import { agentTaskAccounts, nodeTaskAccounts } from './task-accounts';

const codeOf = (fn: () => unknown): ErrorCode | undefined => {
  try {
    fn();
  } catch (err) {
    if (err instanceof SwarmError) return err.code;
    throw err;
  }
  return undefined;
};
const query = (account: string) => ({ taskId: 't', idempotencyKey: '', account });

describe('task accounts - the node subjects', () => {
  const node = nodeTaskAccounts('node-1');

  it("pays from the node's account only and sees every task, whatever the request names", () => {
    expect(node.payer('')).toBe('node-1');
    expect(node.payer('node-1')).toBe('node-1');
    expect(codeOf(() => node.payer('agent/bot'))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(node.viewer(query('agent/bot'))).toEqual({ keyAccount: 'node-1', owner: '' });
  });
});

describe('task accounts - the agent subjects', () => {
  const agents = agentTaskAccounts();

  it("pays from the named agent's account and sees only its tasks", () => {
    expect(agents.payer('agent/bot')).toBe('agent/bot');
    expect(agents.viewer(query('agent/bot'))).toEqual({ keyAccount: 'agent/bot', owner: 'agent/bot' });
  });

  it.each(['', 'node-1', 'agent/', 'agent/Bot', `agent/${'a'.repeat(33)}`])('refuses "%s" as INVALID_ARGUMENT', (account) => {
    expect(codeOf(() => agents.payer(account))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(codeOf(() => agents.viewer(query(account)))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
  });
});
