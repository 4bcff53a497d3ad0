import { makeVoid, verifyVoid } from '@swarm/chain';
import type { SignedVoid } from '@swarm/contracts';
import { EntryKind, ErrorCode } from '@swarm/contracts';
import { manualClock } from '@swarm/determinism';
import { swarmErrorOf } from '@swarm/testing';
import type { Node } from './test-fixtures/chain-nodes';
import { newSigner, settlePaying, START_MS, startNode } from './test-fixtures/chain-nodes';

/** a pays b 60 of a 100 reserve for task `taskId`: the receipt waits in a's outbox. */
async function owedReceipt(a: Node, b: Node, taskId: string) {
  await a.ledger.reserve({ escrowId: taskId, account: a.id, amount: 100n, expiresAtMs: 0n, payees: [b.id] });
  await a.ledger.settle(settlePaying(taskId, b, 60n));
  const owed = (await a.book.pending(10)).find((p) => p.receiptId.startsWith(`${taskId}:`));
  if (!owed) throw new Error(`no receipt for ${taskId} in the outbox`);
  return owed;
}

async function twoNodes() {
  const clock = manualClock(START_MS);
  return { clock, a: await startNode(clock), b: await startNode(clock) };
}

describe('voids', () => {
  it('a receipt its payee voids leaves the outbox, releases its pledge and returns to the node; the payee never countersigns it after', async () => {
    const { a, b } = await twoNodes();
    const owed = await owedReceipt(a, b, 't1');
    // The starter allowance is 100: the receipt's 60 pledged leaves 40 to pay other nodes.
    expect(a.book.pledged()).toBe(60n);
    await expect(a.ledger.reserve({ escrowId: 't2', account: a.id, amount: 50n, expiresAtMs: 0n, payees: [b.id] })).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT,
    });

    expect(await a.book.startVoid(owed.receiptId)).toBe(true);
    const [asked] = await a.book.pending(10);
    expect(asked.voiding).toBeDefined();
    const voiding = asked.voiding as SignedVoid;
    const answer = await b.book.acceptVoid({ signedVoid: voiding, fromNodeId: a.id, served: true });
    expect(answer.receipt).toBeUndefined();
    const voided = answer.signedVoid as SignedVoid;
    expect(verifyVoid(voided, { expectedPayer: a.id, expectedPayee: b.id }).receiptId).toBe(owed.receiptId);
    // Asked again (a lost reply): the same answer.
    expect((await b.book.acceptVoid({ signedVoid: voiding, fromNodeId: a.id, served: true })).signedVoid).toEqual(voided);

    // The payee keeps its word: the receipt is refused from now on, and its chain does not change.
    const bHead = b.book.head().seq;
    const refused = await swarmErrorOf(b.book.acceptReceipt({ receipt: owed.signed, fromNodeId: a.id }));
    expect(refused).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_RECEIPT, reason: 'voided' });
    expect(b.book.head().seq).toBe(bHead);

    const done = await a.book.completeVoid(voided);
    expect(done.result).toBe(60n);
    expect(done.entries).toEqual([expect.objectContaining({ kind: EntryKind.ENTRY_KIND_VOID, escrowId: owed.receiptId, fromAccount: b.id, toAccount: a.id, amount: 60n })]);
    expect(await a.book.pending(10)).toEqual([]);
    expect(a.book.pledged()).toBe(0n);
    expect((await a.ledger.balance(b.id)).available).toBe(0n);
    expect((await a.ledger.balance(a.id)).available).toBe(1_000n);
    // Nothing went into the payer's chain: it never paid.
    expect(a.book.head().balances).toMatchObject({ paid: 0n, available: 100n });
    // Completed again: nothing more.
    expect((await a.book.completeVoid(voided)).entries).toEqual([]);
    expect((await a.ledger.audit()).problems).toEqual([]);
    // The pledge is free again.
    await a.ledger.reserve({ escrowId: 't2', account: a.id, amount: 50n, expiresAtMs: 0n, payees: [b.id] });
  });

  it('a payee that countersigned first answers the receipt: it stays paid, and the void cannot complete', async () => {
    const { a, b } = await twoNodes();
    const owed = await owedReceipt(a, b, 't1');
    const accepted = await b.book.acceptReceipt({ receipt: owed.signed, fromNodeId: a.id });
    await a.book.startVoid(owed.receiptId);
    const [asked] = await a.book.pending(10);
    const answer = await b.book.acceptVoid({ signedVoid: asked.voiding, fromNodeId: a.id, served: true });
    expect(answer.signedVoid).toBeUndefined();
    expect(answer.receipt).toEqual(accepted.result);
    await a.book.completeReceipt(answer.receipt as NonNullable<typeof answer.receipt>);
    expect(a.book.head().balances.paid).toBe(60n);
    expect(a.ledger.side('void', owed.receiptId)).toBeUndefined();
    expect(a.book.pledged()).toBe(0n);
    expect((await a.ledger.audit()).problems).toEqual([]);
  });

  it('refuses voids that do not hold, changing nothing', async () => {
    const { a, b } = await twoNodes();
    const owed = await owedReceipt(a, b, 't1');
    const mallory = newSigner();
    // Signed by someone other than the payer.
    const forged = makeVoid(owed.signed.receipt, { publicKey: a.signer.publicKey, sign: (data) => mallory.sign(data) });
    expect(await swarmErrorOf(b.book.acceptVoid({ signedVoid: forged, fromNodeId: a.id, served: true }))).toMatchObject({ reason: 'bad-signature' });
    // A genuine void sent by another node than its payer.
    const genuine = makeVoid(owed.signed.receipt, a.signer);
    expect(await swarmErrorOf(b.book.acceptVoid({ signedVoid: genuine, fromNodeId: mallory.nodeId, served: true }))).toMatchObject({
      code: ErrorCode.ERROR_CODE_PERMISSION_DENIED,
    });
    // The receipt's own payer signature is not a void (domain tags differ).
    expect(await swarmErrorOf(b.book.acceptVoid({ signedVoid: { ...owed.signed }, fromNodeId: a.id, served: true }))).toMatchObject({ reason: 'bad-signature' });
    // None of these was kept: the receipt is still countersigned.
    await b.book.acceptReceipt({ receipt: owed.signed, fromNodeId: a.id });

    // At the payer: a void "countersigned" by a key that is not the payee's releases nothing.
    await a.book.startVoid(owed.receiptId);
    const [asked] = await a.book.pending(10);
    const badCounter = { ...(asked.voiding as SignedVoid), payeeSignature: mallory.sign(new Uint8Array(8)) };
    expect(await swarmErrorOf(a.book.completeVoid(badCounter))).toMatchObject({ reason: 'bad-signature' });
    // Nor the void of another payer's receipt, nor of one no longer waiting.
    const c = await startNode(manualClock(START_MS));
    const theirs = await owedReceipt(c, b, 't3');
    const theirVoid = (await b.book.acceptVoid({ signedVoid: makeVoid(theirs.signed.receipt, c.signer), fromNodeId: c.id, served: true })).signedVoid as SignedVoid;
    expect(await swarmErrorOf(a.book.completeVoid(theirVoid))).toMatchObject({ reason: 'unexpected-party' });
    expect(a.book.pledged()).toBe(60n);
    expect((await a.book.pending(10)).map((p) => p.receiptId)).toEqual([owed.receiptId]);
    expect((await a.ledger.audit()).problems).toEqual([]);
  });

  it('a void of a receipt whose ticket does not hold is countersigned without being kept', async () => {
    const { a, b } = await twoNodes();
    const owed = await owedReceipt(a, b, 't1');
    const answer = await b.book.acceptVoid({ signedVoid: makeVoid(owed.signed.receipt, a.signer), fromNodeId: a.id, served: false });
    expect(answer.signedVoid?.payeeSignature).toHaveLength(64);
    // Not kept: only the gateway's ticket check stands between this receipt and a countersignature.
    expect(b.ledger.side('void', owed.receiptId)).toBeUndefined();
  });
});
