import { chainRules } from './chain-rules';
import { checkCrossChain } from './cross-chain';
import { appendReceipt } from './append';
import { countersignReceipt, makeReceipt } from './receipt';
import { blockOf } from './test-fixtures/forge-block';
import { sha256Of, testSwarm } from './test-fixtures/test-swarm';
import { verifyChain } from './verify-chain';

const AT = 1_700_000_000_000;
const RULES = chainRules({ epochMs: 10_000, idleWindowMs: 30_000, drainPpm: 50_000 });

function swarmOfThree() {
  const swarm = testSwarm(3, RULES, AT);
  swarm.pay(0, 1, 40n, 't1', AT + 1_000);
  swarm.pay(1, 2, 300n, 't2', AT + 2_000);
  swarm.pay(2, 0, 7n, 't3', AT + 45_000);
  for (const i of [0, 1, 2]) swarm.burn(i, AT + 100_000);
  return swarm;
}

describe('cross-chain check', () => {
  it('finds every receipt in exactly its two chains and the genesis issued conserved, burns included', () => {
    const swarm = swarmOfThree();
    const report = checkCrossChain(swarm.nodes.map((n) => verifyChain(n.blocks, RULES)));
    expect(report).toMatchObject({ chains: 3, receipts: 3, genesisIssued: 3_000n, total: 3_000n, conserved: true, problemCount: 0, problems: [] });
    expect(report.burned).toBeGreaterThan(0n);
  });

  it("reports a receipt missing from the payee's chain, and the credit it leaves unexplained", () => {
    const swarm = swarmOfThree();
    const audits = swarm.nodes.map((n) => verifyChain(n.blocks, RULES));
    const c = swarm.nodes[2];
    // Node 2's chain as it stood before it recorded t2 (its RECEIPT_IN from node 1).
    const cut = c.blocks.findIndex((b) => blockOf(b).receipt !== undefined);
    audits[2] = verifyChain(c.blocks.slice(0, cut), RULES);
    const report = checkCrossChain(audits);
    expect(report.conserved).toBe(false);
    expect(report.problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/^receipt t2:.* is missing as RECEIPT_IN from the chain of /), expect.stringMatching(/genesis issued 3000$/)]),
    );
  });

  it('reports a chain given twice and a counterpart whose chain was not audited', () => {
    const swarm = swarmOfThree();
    const [a, b] = swarm.nodes.map((n) => verifyChain(n.blocks, RULES));
    const report = checkCrossChain([a, a, b]);
    expect(report.conserved).toBe(false);
    expect(report.problems).toEqual(expect.arrayContaining([expect.stringContaining('is given twice'), expect.stringContaining('from the unaudited chain of')]));
  });

  it('reports a receipt id recorded with different bytes by the payer and the payee', () => {
    const swarm = testSwarm(2, RULES, AT);
    const [a, b] = swarm.nodes;
    const twice = (amount: bigint) =>
      countersignReceipt(
        makeReceipt(
          {
            payeePublicKey: b.signer.publicKey,
            amount,
            taskId: 'dup',
            taskHash: sha256Of('x'),
            resultHash: sha256Of('y'),
            atMs: AT + 1_000,
            serveTicket: new Uint8Array(32).fill(7),
          },
          a.signer,
        ),
        b.signer,
      );
    const out = appendReceipt(a.head, twice(10n), a.signer, RULES, { atMs: AT + 1_000, hasReceipt: () => false });
    const inn = appendReceipt(b.head, twice(20n), b.signer, RULES, { atMs: AT + 1_000, hasReceipt: () => false });
    const report = checkCrossChain([verifyChain([...a.blocks, ...out.blocks], RULES), verifyChain([...b.blocks, ...inn.blocks], RULES)]);
    expect(report.problems).toEqual(expect.arrayContaining([expect.stringContaining('different bytes'), expect.stringMatching(/is 2010, the genesis issued 2000$/)]));
  });
});
