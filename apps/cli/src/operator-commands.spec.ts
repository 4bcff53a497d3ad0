import { operatorOnlyHint } from './operator-commands';

describe('CLI - operator commands run with only an agent’s environment', () => {
  const agentEnv = { SWARM_AGENT_TOKEN: `swt_${'a'.repeat(43)}` };

  it('says an operator command runs over the bus, which the agent variables do not reach', () => {
    expect(operatorOnlyHint(['health', '--json'], agentEnv)).toBe(
      "swarm health is the node operator's: it runs over the node's bus (on the node's machine, or with --nats and a bus key), and SWARM_AGENT_TOKEN does not reach it",
    );
    expect(operatorOnlyHint(['ledger', '--audit'], { ...agentEnv, SWARM_API_URL: 'http://127.0.0.1:1' })).toContain('SWARM_AGENT_TOKEN and SWARM_API_URL do not reach it');
    expect(operatorOnlyHint(['agent', 'list'], { SWARM_API_URL: 'http://127.0.0.1:1' })).toContain('swarm agent is');
  });

  it('says nothing for task commands (they act as the agent) or without agent variables', () => {
    expect(operatorOnlyHint(['submit', '--skill', 'vecadd'], agentEnv)).toBeUndefined();
    expect(operatorOnlyHint(['balance'], agentEnv)).toBeUndefined();
    expect(operatorOnlyHint(['health'], {})).toBeUndefined();
    expect(operatorOnlyHint([], agentEnv)).toBeUndefined();
  });
});
