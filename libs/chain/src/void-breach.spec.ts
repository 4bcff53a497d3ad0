import { chainRules } from './chain-rules';
import { testSwarm } from './test-fixtures/test-swarm';
import { verifyChain } from './verify-chain';
import { countersignVoid, makeVoid } from './void';
import { voidBreachWatch } from './void-breach';

const AT = 1_700_000_000_000;

describe('void breaches', () => {
  it("finds a payee's RECEIPT_IN of a receipt it countersigned a void of, and nothing else", () => {
    const swarm = testSwarm(3, chainRules(), AT);
    const [a, b, c] = swarm.nodes;
    // b takes a receipt into its chain and also countersigns a's void of it: it broke its word.
    const kept = swarm.pay(0, 1, 7n, 'task-kept', AT + 1_000);
    const unsigned = { ...kept, payeeSignature: new Uint8Array(0) };
    const broken = countersignVoid(makeVoid(unsigned, a.signer), b.signer);
    // A void honoured (its receipt never in b's chain), one only asked (not countersigned), and one of c's.
    const honoured = countersignVoid(makeVoid(swarm.receipt(0, 1, 3n, 'task-voided', AT + 2_000), a.signer), b.signer);
    const asked = makeVoid(swarm.receipt(0, 1, 4n, 'task-asked', AT + 3_000), a.signer);
    const othersPaid = swarm.pay(2, 1, 5n, 'task-of-c', AT + 4_000);
    const cVoid = countersignVoid(makeVoid({ ...othersPaid, payeeSignature: new Uint8Array(0) }, c.signer), b.signer);
    swarm.pay(0, 1, 2n, 'task-paid', AT + 5_000);

    const watch = voidBreachWatch(a.signer.nodeId, b.signer.nodeId, [broken, honoured, asked, cVoid]);
    for (const entry of verifyChain(b.blocks, swarm.rules).entries) watch.onEntry(entry);
    expect(watch.breaches()).toEqual([{ receiptId: `task-kept:${a.signer.nodeId}:${b.signer.nodeId}`, seq: 2n, amount: 7n, signedVoid: broken }]);
    // Watching another payee's chain for a's voids to b finds nothing.
    const other = voidBreachWatch(a.signer.nodeId, c.signer.nodeId, [broken]);
    for (const entry of verifyChain(c.blocks, swarm.rules).entries) other.onEntry(entry);
    expect(other.breaches()).toEqual([]);
  });
});
