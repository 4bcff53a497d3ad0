import type { SignedReceipt, SignedVoid } from '@swarm/contracts';
import { BlockKind, ErrorCode } from '@swarm/contracts';
import { appendPledge, appendReceipt, appendRelease } from './append';
import { auditChainPages } from './audit-pages';
import { ChainRefusal } from './chain-refusal';
import { chainRules } from './chain-rules';
import type { Pledge } from './chain-state';
import { checkCrossChain } from './cross-chain';
import { hex, sha256 } from './signing';
import { linkedBlock } from './test-fixtures/forge-block';
import { refusalOf } from './test-fixtures/refusal-of';
import type { TestNode, TestSwarm } from './test-fixtures/test-swarm';
import { testSwarm } from './test-fixtures/test-swarm';
import { trackPledges, verifyChain } from './verify-chain';
import { countersignVoid, makeVoid } from './void';

const AT = 1_700_000_000_000;
/** No idle drain unless a test asks for it (burn.spec.ts covers the rule). */
const RULES = chainRules({ genesisGrant: 1_000n, starterAllowance: 100n, drainPpm: 0 });

/** The receipt as its payer signed it, before its payee countersigned: what a PLEDGE holds. */
const payerSigned = (s: SignedReceipt): SignedReceipt => ({ receipt: s.receipt, payerSignature: s.payerSignature, payeeSignature: new Uint8Array(0) });

/** A node's chain with the index a store keeps: receipt ids named, and the open pledges. */
function ledgerOf(node: TestNode) {
  const pledges = new Map<string, Pledge>();
  const options = (atMs: number) => ({ atMs, hasReceipt: (id: string) => node.receiptIds.has(id), pledgeOf: (id: string) => pledges.get(id) });
  const take = (r: { blocks: readonly Uint8Array[]; head: TestNode['head'] }) => {
    node.blocks.push(...r.blocks);
    node.head = r.head;
    trackPledges(pledges, verifyChain(node.blocks, RULES).entries.slice(-r.blocks.length));
    for (const id of pledges.keys()) node.receiptIds.add(id);
  };
  return {
    pledges,
    pledge: (s: SignedReceipt, atMs: number) => take(appendPledge(node.head, payerSigned(s), node.signer, RULES, options(atMs))),
    pay: (s: SignedReceipt, atMs: number) => take(appendReceipt(node.head, s, node.signer, RULES, options(atMs))),
    release: (v: SignedVoid, atMs: number) => take(appendRelease(node.head, v, node.signer, RULES, options(atMs))),
  };
}

const chainRefusalOf = (fn: () => unknown): ChainRefusal => refusalOf(ChainRefusal, fn);

/** Node 0 (100 available) pledges receipts to node 1. */
function payerAndPayee(): { swarm: TestSwarm; payer: TestNode; payee: TestNode; book: ReturnType<typeof ledgerOf> } {
  const swarm = testSwarm(2, RULES, AT);
  const [payer, payee] = swarm.nodes;
  return { swarm, payer, payee, book: ledgerOf(payer) };
}

describe('chain - pledges', () => {
  it('a PLEDGE takes the amount off available before the payee is asked; its RECEIPT_OUT moves it on to paid; the sum over both chains holds', () => {
    const { swarm, payer, payee, book } = payerAndPayee();
    const signed = swarm.receipt(0, 1, 30n, 't1', AT + 1_000);
    book.pledge(signed, AT + 1_000);
    expect(payer.head.balances).toMatchObject({ available: 70n, pledged: 30n, paid: 0n });
    // Pledged credit is gone from available: a second pledge of the same 100 cannot be made.
    const other = swarm.receipt(0, 1, 71n, 't2', AT + 1_500);
    expect(() => book.pledge(other, AT + 1_500)).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT }));
    // While in flight, the pledge counts on the payer's side: the sum holds.
    expect(checkCrossChain([verifyChain(payer.blocks, RULES), verifyChain(payee.blocks, RULES)])).toMatchObject({ conserved: true, pledged: 30n });

    // The payee countersigns and appends; the payer completes its pledge.
    const inBlock = appendReceipt(payee.head, signed, payee.signer, RULES, { atMs: AT + 2_000, hasReceipt: () => false });
    payee.blocks.push(...inBlock.blocks);
    payee.head = inBlock.head;
    book.pay(signed, AT + 3_000);
    expect(payer.head.balances).toMatchObject({ available: 70n, pledged: 0n, paid: 30n });
    expect(book.pledges.size).toBe(0);

    const audits = [verifyChain(payer.blocks, RULES), verifyChain(payee.blocks, RULES)];
    expect(audits[0].head).toEqual(payer.head);
    expect(audits[0].entries.map((e) => e.kind)).toEqual([BlockKind.BLOCK_KIND_GENESIS, BlockKind.BLOCK_KIND_PLEDGE, BlockKind.BLOCK_KIND_RECEIPT_OUT]);
    expect(checkCrossChain(audits)).toMatchObject({ conserved: true, problemCount: 0, receipts: 1, pledged: 0n, total: 2_000n });
  });

  it('a RELEASE, holding the void its payee countersigned, returns the amount to available; the receipt is never pledged again, and paid after all at most once', () => {
    const { swarm, payer, payee, book } = payerAndPayee();
    const signed = swarm.receipt(0, 1, 40n, 't1', AT + 1_000);
    book.pledge(signed, AT + 1_000);
    const asked = makeVoid(payerSigned(signed), payer.signer);
    // Not countersigned by the payee: nothing to release with.
    expect(() => book.release(asked, AT + 2_000)).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_RECEIPT }));
    book.release(countersignVoid(asked, payee.signer), AT + 2_000);
    expect(payer.head.balances).toMatchObject({ available: 100n, pledged: 0n, paid: 0n });
    expect(verifyChain(payer.blocks, RULES).head).toEqual(payer.head);
    // Neither pledged nor released again.
    expect(() => book.pledge(signed, AT + 3_000)).toThrow(expect.objectContaining({ reason: 'replayed' }));
    expect(() => book.release(countersignVoid(asked, payee.signer), AT + 3_000)).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT }));
    // Its payee kept it anyway (a void breach): the payer pays it after all, from available, once.
    book.pay(signed, AT + 4_000);
    expect(payer.head.balances).toMatchObject({ available: 60n, pledged: 0n, paid: 40n });
    expect(verifyChain(payer.blocks, RULES).head).toEqual(payer.head);
    expect(() => book.pay(signed, AT + 5_000)).toThrow(expect.objectContaining({ reason: 'replayed' }));
  });

  it('a paged audit carries open pledges from page to page: a pledge in one page is closed in a later one', async () => {
    const { swarm, payer, book } = payerAndPayee();
    const receipts = [10n, 20n, 30n].map((amount, i) => swarm.receipt(0, 1, amount, `t${i}`, AT + 1_000 + i));
    for (const r of receipts) book.pledge(r, AT + 2_000);
    book.pay(receipts[1], AT + 3_000);
    book.release(countersignVoid(makeVoid(payerSigned(receipts[0]), payer.signer), swarm.nodes[1].signer), AT + 4_000);
    const audit = await auditChainPages(
      async (from, limit) => ({ nodeId: payer.signer.nodeId, headSeq: payer.head.seq, blocks: payer.blocks.slice(Number(from) - 1, Number(from) - 1 + limit) }),
      RULES,
      {
        pageLimit: 1,
      },
    );
    expect(audit.head).toEqual(payer.head);
    expect(payer.head.balances).toMatchObject({ available: 100n - 20n - 30n, pledged: 30n, paid: 20n });
  });

  it('an auditor refuses what a node signs outside the rules: a RELEASE or a completing RECEIPT_OUT of other bytes, a countersigned PLEDGE, another payer’s PLEDGE', () => {
    const { swarm, payer, payee, book } = payerAndPayee();
    const signed = swarm.receipt(0, 1, 30n, 't1', AT + 1_000);
    const voided = countersignVoid(makeVoid(payerSigned(signed), payer.signer), payee.signer);
    const refused = (fields: Parameters<typeof linkedBlock>[2], blocks = payer.blocks, head = payer.head) => {
      const r = chainRefusalOf(() => verifyChain([...blocks, linkedBlock(head, payer.signer, { atMs: BigInt(AT + 2_000), ...fields })], RULES));
      return { reason: r.reason, seq: r.seq, message: r.message.slice(0, 300) };
    };
    // A release of a receipt never pledged.
    expect(refused({ kind: BlockKind.BLOCK_KIND_RELEASE, amount: 30n, releasedVoid: voided })).toMatchObject({
      reason: 'invalid-field',
      seq: 2n,
      message: expect.stringMatching(/no open PLEDGE/),
    });
    // A countersigned receipt in a PLEDGE; a PLEDGE by the payee of a receipt it did not sign as payer.
    expect(refused({ kind: BlockKind.BLOCK_KIND_PLEDGE, amount: 30n, receipt: signed })).toMatchObject({ reason: 'bad-receipt' });
    const payeeRefusal = chainRefusalOf(() =>
      verifyChain(
        [...payee.blocks, linkedBlock(payee.head, payee.signer, { kind: BlockKind.BLOCK_KIND_PLEDGE, amount: 30n, receipt: payerSigned(signed), atMs: BigInt(AT + 2_000) })],
        RULES,
      ),
    );
    expect(payeeRefusal.reason).toBe('wrong-side');
    // A void riding on a block that is not a RELEASE; a RELEASE with a receipt instead of its void.
    expect(refused({ kind: BlockKind.BLOCK_KIND_PLEDGE, amount: 30n, receipt: payerSigned(signed), releasedVoid: voided })).toMatchObject({ reason: 'invalid-field' });
    expect(refused({ kind: BlockKind.BLOCK_KIND_RELEASE, amount: 30n, receipt: signed })).toMatchObject({ reason: 'invalid-field' });

    book.pledge(signed, AT + 1_000);
    // The same receipt id with other bytes (another amount) cannot close the pledge, paid or released.
    const other = swarm.receipt(0, 1, 29n, 't1', AT + 1_000);
    expect(refused({ kind: BlockKind.BLOCK_KIND_RECEIPT_OUT, amount: 29n, receipt: other })).toMatchObject({
      reason: 'invalid-field',
      message: expect.stringMatching(/other receipt bytes/),
    });
    const otherVoid = countersignVoid(makeVoid(payerSigned(other), payer.signer), payee.signer);
    expect(refused({ kind: BlockKind.BLOCK_KIND_RELEASE, amount: 29n, releasedVoid: otherVoid })).toMatchObject({ reason: 'invalid-field' });
    // A second PLEDGE of the receipt pledged.
    expect(refused({ kind: BlockKind.BLOCK_KIND_PLEDGE, amount: 30n, receipt: payerSigned(signed) })).toMatchObject({ reason: 'duplicate-receipt' });
    // Released twice; paid after its release with other bytes; paid twice.
    book.release(voided, AT + 2_000);
    expect(refused({ kind: BlockKind.BLOCK_KIND_RELEASE, amount: 30n, releasedVoid: voided, atMs: BigInt(AT + 3_000) })).toMatchObject({
      message: expect.stringMatching(/no open PLEDGE/),
    });
    expect(refused({ kind: BlockKind.BLOCK_KIND_RECEIPT_OUT, amount: 29n, receipt: other, atMs: BigInt(AT + 3_000) })).toMatchObject({
      message: expect.stringMatching(/other receipt bytes/),
    });
    book.pay(signed, AT + 3_000);
    expect(refused({ kind: BlockKind.BLOCK_KIND_RECEIPT_OUT, amount: 30n, receipt: signed, atMs: BigInt(AT + 4_000) })).toMatchObject({ reason: 'duplicate-receipt' });
  });

  it('pledged credit is not burned by idle drain (it is owed), and the digest of a PLEDGE is that of the receipt bytes its RECEIPT_OUT holds', () => {
    const rules = chainRules({ genesisGrant: 1_000n, starterAllowance: 100n, drainPpm: 100_000, epochMs: 1_000, idleWindowMs: 2_000 });
    const swarm = testSwarm(2, rules, AT);
    const payer = swarm.nodes[0];
    const signed = swarm.receipt(0, 1, 50n, 't1', AT + 100);
    const pledged = appendPledge(payer.head, payerSigned(signed), payer.signer, rules, { atMs: AT + 100, hasReceipt: () => false });
    payer.blocks.push(...pledged.blocks);
    payer.head = pledged.head;
    swarm.burn(0, AT + 3_000);
    // 10% of available + locked (50 + 900) at the boundary 2,000 ms after genesis, and 10% of the rest at 3,000; the 50 pledged stays.
    expect(payer.head.balances).toMatchObject({ pledged: 50n, burned: 95n + 85n, available: 50n, locked: 900n - 95n - 85n });
    const audit = verifyChain(payer.blocks, rules);
    expect(audit.head).toEqual(payer.head);
    expect(audit.entries[1].receipt?.digest).toBe(hex(sha256(signed.receipt)));
  });
});
