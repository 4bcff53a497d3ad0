import { paidLine } from './submit';

describe('swarm submit - the paid line', () => {
  const nodeId = 'a'.repeat(64);

  it("says a task the node's own executors ran left nothing the node had", () => {
    expect(paidLine({ cost: 269n, refunded: 0n, providerId: nodeId, account: nodeId })).toBe(
      `269 credits to this node's own executors (${'a'.repeat(16)}…): nothing left the node (refunded 0)`,
    );
  });

  it('names the provider another node or an agent paid', () => {
    expect(paidLine({ cost: 1n, refunded: 2n, providerId: 'b'.repeat(64), account: nodeId })).toBe(`1 credit to ${'b'.repeat(16)}… (refunded 2)`);
    expect(paidLine({ cost: 3n, refunded: 0n, providerId: nodeId, account: 'agent/x' })).toBe(`3 credits to ${'a'.repeat(16)}… (refunded 0)`);
  });

  it('names each provider a redundant or sharded task paid, and what left the node', () => {
    const contribution = (providerId: string, paid: bigint) => ({ providerId, executorId: '', counted: paid > 0n, paid, share: 0.5, note: '', executeMs: 1 });
    const replicas = [contribution(nodeId, 16n), contribution('b'.repeat(64), 16n), contribution('c'.repeat(64), 0n)];
    expect(paidLine({ cost: 32n, refunded: 0n, providerId: nodeId, account: nodeId, contributions: replicas })).toBe(
      `32 credits: 16 credits to this node's own executors, 16 credits to ${'b'.repeat(16)}…; 16 credits left the node (refunded 0)`,
    );
    expect(paidLine({ cost: 16n, refunded: 1n, providerId: nodeId, account: nodeId, contributions: [contribution(nodeId, 16n)] })).toBe(
      "16 credits: 16 credits to this node's own executors; nothing left the node (refunded 1)",
    );
    // An agent's task: every provider is named; what stays in the node is not the agent's to say.
    expect(paidLine({ cost: 32n, refunded: 0n, providerId: nodeId, account: 'agent/x', contributions: replicas })).toBe(
      `32 credits: 16 credits to ${'a'.repeat(16)}…, 16 credits to ${'b'.repeat(16)}… (refunded 0)`,
    );
  });
});
