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
});
