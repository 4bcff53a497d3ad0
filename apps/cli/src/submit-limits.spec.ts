import * as contracts from '@swarm/contracts';
import { TASK_MAX_ELEMENTS, TASK_MAX_REDUNDANCY, TASK_MAX_SHARDS, TASK_MAX_TIMEOUT_MS } from '@swarm/contracts';
import { AGENT_NAME, AGENT_NAME_TEXT, MAX_REDUNDANCY, MAX_SHARDS, MAX_TASK_VALUES, MAX_TIMEOUT_MS } from './submit-limits';

describe('submit limits - what --help states is what the node enforces', () => {
  it('copies the node-wide limits', () => {
    expect(MAX_TASK_VALUES).toBe(TASK_MAX_ELEMENTS);
    expect(MAX_TIMEOUT_MS).toBe(TASK_MAX_TIMEOUT_MS);
    expect(MAX_REDUNDANCY).toBe(TASK_MAX_REDUNDANCY);
    expect(MAX_SHARDS).toBe(TASK_MAX_SHARDS);
  });

  it('copies the agent name rule', () => {
    expect(AGENT_NAME.source).toBe(contracts.AGENT_NAME_PATTERN);
    expect(AGENT_NAME_TEXT).toBe(contracts.AGENT_NAME_TEXT);
  });
});
