import type { AgentInfo, BalanceResponse } from '@swarm/contracts';
import { leftoverLines, revokeReport } from './agent';

const NOW = 1_700_000_000_000;

function agent(over: Partial<AgentInfo>): AgentInfo {
  return { name: 'bot', account: 'agent/bot', budget: 100n, available: 0n, spent: 30n, tasks: 3n, createdAtMs: 1n, expiresAtMs: 0n, revoked: true, ...over };
}

/** The revoked agent's account as the ledger answers it after the revoke: closed. */
function closed(available: bigint, escrowed: bigint): BalanceResponse {
  return { account: 'agent/bot', available, escrowed, spent: 30n, reserves: 3n, closed: true };
}

describe('swarm agent revoke - what it returned and what is still to come', () => {
  it('says how much its running tasks hold in escrow and that it returns to the node, never to revoke again', () => {
    const { rows, notes } = revokeReport('bot', { agent: agent({}), returned: 60n }, closed(0n, 10n));
    expect(rows).toEqual([
      ['agent', 'bot (revoked: its token no longer works)'],
      ['returned to the node', '60 credits'],
      ['in open escrows', '10 credits'],
      ['spent', '30 credits'],
    ]);
    expect(notes).toEqual(["its running tasks still hold 10 credits in escrow: what they do not spend returns to the node's account as they end (agent/bot is closed)"]);
    expect(notes.join('\n')).not.toMatch(/again/);
  });

  it('says nothing more when nothing is left, and shows credit the ledger still holds in the account', () => {
    expect(revokeReport('bot', { agent: agent({}), returned: 70n }, closed(0n, 0n))).toEqual({
      rows: [
        ['agent', 'bot (revoked: its token no longer works)'],
        ['returned to the node', '70 credits'],
        ['in open escrows', '0 credits'],
        ['spent', '30 credits'],
      ],
      notes: [],
    });
    const left = revokeReport('bot', { agent: agent({}), returned: 60n }, closed(4n, 0n));
    expect(left.rows).toContainEqual(['left in its account', '4 credits']);
    expect(left.notes).toEqual([]);
  });

  it('says the escrow is unknown when the balance cannot be read', () => {
    const { rows, notes } = revokeReport('bot', { agent: agent({}), returned: 60n }, undefined);
    expect(rows).toContainEqual(['in open escrows', expect.stringMatching(/^unknown .*swarm balance --account agent\/bot/)]);
    expect(notes).toEqual([expect.stringMatching(/may still hold credit in escrow/)]);
  });
});

describe('swarm agent list - leftover credit of agents whose token no longer works', () => {
  it('names revoked and expired agents that still hold credit, with the command that returns it', () => {
    const lines = leftoverLines(
      [
        agent({ name: 'gone', account: 'agent/gone', available: 5n }),
        agent({ name: 'old', account: 'agent/old', available: 7n, revoked: false, expiresAtMs: BigInt(NOW - 1) }),
        agent({ name: 'live', account: 'agent/live', available: 9n, revoked: false }),
        agent({ name: 'empty', account: 'agent/empty', available: 0n }),
      ],
      NOW,
    );
    expect(lines).toEqual([
      'gone is revoked with 5 credits still in agent/gone: `swarm agent revoke gone` returns them to the node',
      'old is expired with 7 credits still in agent/old: `swarm agent revoke old` returns them to the node',
    ]);
  });
});
