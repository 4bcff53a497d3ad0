import { cachedSignatureCheck, ChainRefusal, countersignVoid, makeReceipt, makeVoid, ReceiptRefusal, rememberingSignatureCheck, verifyVoid } from '@swarm/chain';
import type { SignedVoid } from '@swarm/contracts';
import { EntryKind, ErrorCode, SignedBlock, SwarmError } from '@swarm/contracts';
import type { ManualClock } from '@swarm/determinism';
import { manualClock } from '@swarm/determinism';
import { swarmErrorOf } from '@swarm/testing';
import type { Node } from './test-fixtures/chain-nodes';
import { MAX_UINT64 } from './ledger-records';
import { createVoidBook } from './void-book';
import { sideOnly, voidedBackKey } from './chain-records';
import { HASH, newSigner, settlePaying, START_MS, startNode } from './test-fixtures/chain-nodes';

/** a pays b `paid` (60) of a `reserved` (100) reserve for task `taskId`: the receipt waits in a's outbox. */
async function owedReceipt(a: Node, b: Node, taskId: string, reserved = 100n, paid = 60n) {
  await a.ledger.reserve({ escrowId: taskId, account: a.id, amount: reserved, expiresAtMs: 0n, payees: [b.id] });
  await a.ledger.settle(settlePaying(taskId, b, paid));
  const owed = (await a.book.pending(10)).find((p) => p.receiptId.startsWith(`${taskId}:`));
  if (!owed) throw new Error(`no receipt for ${taskId} in the outbox`);
  return owed;
}

async function twoNodes(aClock?: ManualClock) {
  const clock = manualClock(START_MS);
  return { clock, a: await startNode(aClock ?? clock), b: await startNode(clock) };
}

/** The void a's outbox asks of `receiptId`'s payee. */
async function askedVoid(a: Node, receiptId: string): Promise<SignedVoid> {
  expect(await a.book.startVoid(receiptId)).toBe(true);
  const asked = (await a.book.pending(10)).find((p) => p.receiptId === receiptId)?.voiding;
  if (!asked) throw new Error(`no void asked of ${receiptId}`);
  return asked;
}

describe('voids', () => {
  it('a receipt refused for good is voided: it leaves the outbox, its pledge is released and the credit returns to the node', async () => {
    const { a, b } = await twoNodes();
    const owed = await owedReceipt(a, b, 't1');
    // The starter allowance is 100: the receipt's 60 pledged leaves 40 to pay other nodes.
    expect(a.book.pledged()).toBe(60n);
    await expect(a.ledger.reserve({ escrowId: 't2', account: a.id, amount: 50n, expiresAtMs: 0n, payees: [b.id] })).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT,
    });
    // A payee from before voids: the void asked is withdrawn and the receipt goes again; then asked again.
    await askedVoid(a, owed.receiptId);
    expect(await a.book.cancelVoid(owed.receiptId)).toBe(true);
    expect((await a.book.pending(10))[0].voiding).toBeUndefined();
    expect(await a.book.cancelVoid(owed.receiptId)).toBe(false);
    // b's gateway found no ticket of its own in the receipt (served: false): b would never countersign it.
    const voiding = await askedVoid(a, owed.receiptId);
    const answer = (await b.book.acceptVoid({ signedVoid: voiding, fromNodeId: a.id, served: false })).result;
    expect(answer.receipt).toBeUndefined();
    const voided = answer.signedVoid as SignedVoid;
    expect(verifyVoid(voided, { expectedPayer: a.id, expectedPayee: b.id }).receiptId).toBe(owed.receiptId);
    // Asked again (a lost reply): the same answer.
    expect((await b.book.acceptVoid({ signedVoid: voiding, fromNodeId: a.id, served: false })).result.signedVoid).toEqual(voided);

    const done = await a.book.completeVoid(voided);
    expect(done.result).toBe(60n);
    expect(done.entries).toEqual([expect.objectContaining({ kind: EntryKind.ENTRY_KIND_VOID, escrowId: owed.receiptId, fromAccount: b.id, toAccount: a.id, amount: 60n })]);
    expect(await a.book.pending(10)).toEqual([]);
    expect(a.book.pledged()).toBe(0n);
    expect(a.book.voided()).toEqual({ count: 1n, amount: 60n });
    expect((await a.ledger.balance(b.id)).available).toBe(0n);
    expect((await a.ledger.balance(a.id)).available).toBe(1_000n);
    // Nothing went into the payer's chain: it never paid.
    expect(a.book.head().balances).toMatchObject({ paid: 0n, available: 100n });
    // Completed again: nothing more; a countersigned void is never withdrawn.
    expect((await a.book.completeVoid(voided)).entries).toEqual([]);
    expect(await a.book.cancelVoid(owed.receiptId)).toBe(false);
    expect(a.book.voided()).toEqual({ count: 1n, amount: 60n });
    // Kept for audits of b's chain: the payer's page lists it; the payee keeps none of its own here.
    expect(await a.book.paidVoids('', 0)).toEqual({ voids: [voided], nextAfterId: '' });
    expect(await a.book.paidVoids(owed.receiptId, 0)).toEqual({ voids: [], nextAfterId: '' });
    expect(await b.book.paidVoids('', 0)).toEqual({ voids: [], nextAfterId: '' });
    expect((await a.ledger.audit()).problems).toEqual([]);
    // The pledge is free again; the voided receipt's id is never signed again.
    await a.ledger.reserve({ escrowId: 't2', account: a.id, amount: 50n, expiresAtMs: 0n, payees: [b.id] });
    await a.ledger.reserve({ escrowId: 't1-again', account: a.id, amount: 10n, expiresAtMs: 0n, payees: [b.id] });
    const reused = { ...settlePaying('t1-again', b, 5n), task: { ...settlePaying('t1', b, 5n).task! } };
    expect(await swarmErrorOf(a.ledger.settle(reused))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
  });

  it('a payee that countersigned the receipt first, or would now, answers the receipt: a void never costs it its pay', async () => {
    const { a, b } = await twoNodes();
    const first = await owedReceipt(a, b, 't1');
    const accepted = await b.book.acceptReceipt({ receipt: first.signed, fromNodeId: a.id });
    const asked = await askedVoid(a, first.receiptId);
    const before = (await b.book.acceptVoid({ signedVoid: asked, fromNodeId: a.id, served: true })).result;
    expect(before).toEqual({ signedVoid: undefined, receipt: accepted.result, receiptAppended: false });
    await a.book.completeReceipt(accepted.result);
    expect(a.ledger.side('void', first.receiptId)).toBeUndefined();
    // Had b also countersigned the void, that is no debt of a's: the receipt was delivered as usual.
    const harmless = { signedVoid: countersignVoid(asked, b.signer), block: SignedBlock.decode((await b.book.blocks(2n, 1)).blocks[0]) };
    expect(await swarmErrorOf(a.book.reinstateVoided(harmless))).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      message: expect.stringMatching(/delivered as usual/),
    });

    // Never delivered, its ticket holds: b takes the receipt now, in the void's turn.
    const second = await owedReceipt(a, b, 't2', 40n, 30n);
    const now = await b.book.acceptVoid({ signedVoid: await askedVoid(a, second.receiptId), fromNodeId: a.id, served: true });
    expect(now.result.signedVoid).toBeUndefined();
    // Appended now: its payer's debt for it comes off at the payee's gateway.
    expect(now.result.receiptAppended).toBe(true);
    expect(now.entries).toEqual([expect.objectContaining({ kind: EntryKind.ENTRY_KIND_RECEIPT_IN, escrowId: second.receiptId, amount: 30n })]);
    await a.book.completeReceipt(now.result.receipt as NonNullable<typeof now.result.receipt>);
    expect(a.book.head().balances.paid).toBe(90n);
    expect(b.book.head().balances.received).toBe(90n);
    expect(a.book.pledged()).toBe(0n);
    expect((await a.ledger.audit()).problems).toEqual([]);
    expect((await b.ledger.audit()).problems).toEqual([]);
  });

  it('a void of a receipt dated ahead of the payee is refused for now (retryable), and answered with the receipt once the clocks agree', async () => {
    const aClock = manualClock(START_MS + 60_000);
    const { clock, a, b } = await twoNodes(aClock);
    const owed = await owedReceipt(a, b, 't1');
    const voiding = await askedVoid(a, owed.receiptId);
    const early = await swarmErrorOf(b.book.acceptVoid({ signedVoid: voiding, fromNodeId: a.id, served: true }));
    expect(early).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_RECEIPT, reason: 'dated-ahead', retryable: true });
    clock.advance(60_000);
    expect((await b.book.acceptVoid({ signedVoid: voiding, fromNodeId: a.id, served: true })).result.receipt?.payeeSignature).toHaveLength(64);
  });

  it('keeps a void whose receipt it refuses for good though served, and refuses that receipt after', async () => {
    const { a, b } = await twoNodes();
    // b would refuse this receipt for good: crediting it would overflow b's account.
    const huge = makeReceipt(
      { payeePublicKey: b.signer.publicKey, amount: MAX_UINT64 - 10n, taskId: 'big', taskHash: HASH, resultHash: HASH, atMs: START_MS, serveTicket: new Uint8Array(32).fill(7) },
      a.signer,
    );
    const answer = (await b.book.acceptVoid({ signedVoid: makeVoid(huge, a.signer), fromNodeId: a.id, served: true })).result;
    expect(answer.signedVoid?.payeeSignature).toHaveLength(64);
    expect(b.ledger.side('void', `big:${a.id}:${b.id}`)).toBeDefined();
    const head = b.book.head().seq;
    expect(await swarmErrorOf(b.book.acceptReceipt({ receipt: huge, fromNodeId: a.id }))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_RECEIPT, reason: 'voided' });
    expect(b.book.head().seq).toBe(head);
  });

  it('refuses a receipt whose credit would overflow its chain for good (INVALID_RECEIPT), so its payer voids it', async () => {
    const { a, b } = await twoNodes();
    const huge = makeReceipt(
      {
        payeePublicKey: b.signer.publicKey,
        amount: MAX_UINT64 - 10n,
        taskId: 'too-big',
        taskHash: HASH,
        resultHash: HASH,
        atMs: START_MS,
        serveTicket: new Uint8Array(32).fill(7),
      },
      a.signer,
    );
    const head = b.book.head().seq;
    expect(await swarmErrorOf(b.book.acceptReceipt({ receipt: huge, fromNodeId: a.id }))).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_RECEIPT,
      retryable: false,
      message: expect.stringMatching(/overflow/),
    });
    expect(b.book.head().seq).toBe(head);
  });

  it('refuses voids that do not hold, changing nothing', async () => {
    const { a, b } = await twoNodes();
    const owed = await owedReceipt(a, b, 't1');
    const mallory = newSigner();
    // Signed by someone other than the payer.
    const forged = makeVoid(owed.signed, { publicKey: a.signer.publicKey, sign: (data) => mallory.sign(data) });
    expect(await swarmErrorOf(b.book.acceptVoid({ signedVoid: forged, fromNodeId: a.id, served: true }))).toMatchObject({ reason: 'bad-signature' });
    // A genuine void sent by another node than its payer.
    const genuine = makeVoid(owed.signed, a.signer);
    expect(await swarmErrorOf(b.book.acceptVoid({ signedVoid: genuine, fromNodeId: mallory.nodeId, served: true }))).toMatchObject({
      code: ErrorCode.ERROR_CODE_PERMISSION_DENIED,
    });
    // The receipt's own payer signature is not a void (domain tags differ).
    expect(await swarmErrorOf(b.book.acceptVoid({ signedVoid: { ...owed.signed, receiptSignature: owed.signed.payerSignature }, fromNodeId: a.id, served: true }))).toMatchObject({
      reason: 'bad-signature',
    });
    // A void whose receipt signature does not verify is refused, not countersigned: a payer cannot
    // turn a receipt the payee would take into a void by spoiling it.
    const spoiled = { ...genuine, receiptSignature: mallory.sign(new Uint8Array(1)) };
    expect(await swarmErrorOf(b.book.acceptVoid({ signedVoid: spoiled, fromNodeId: a.id, served: true }))).toMatchObject({ reason: 'bad-signature' });
    expect(b.ledger.side('void', owed.receiptId)).toBeUndefined();

    // At the payer: a void "countersigned" by a key that is not the payee's releases nothing.
    const asked = await askedVoid(a, owed.receiptId);
    expect(await swarmErrorOf(a.book.completeVoid({ ...asked, payeeSignature: mallory.sign(new Uint8Array(8)) }))).toMatchObject({ reason: 'bad-signature' });
    // Nor the void of another payer's receipt.
    const c = await startNode(manualClock(START_MS));
    const theirs = await owedReceipt(c, b, 't3');
    const theirVoid = (await b.book.acceptVoid({ signedVoid: makeVoid(theirs.signed, c.signer), fromNodeId: c.id, served: false })).result.signedVoid as SignedVoid;
    expect(await swarmErrorOf(a.book.completeVoid(theirVoid))).toMatchObject({ reason: 'unexpected-party' });
    expect(a.book.pledged()).toBe(60n);
    expect((await a.book.pending(10)).map((p) => p.receiptId)).toEqual([owed.receiptId]);
    expect((await a.ledger.audit()).problems).toEqual([]);
  });

  it("countersigns a void whose ticket holds only for the payee's verdict on the receipt, never for its own trouble", async () => {
    const { a, b } = await twoNodes();
    const owed = await owedReceipt(a, b, 't1');
    // b's book, with the step that would take the receipt failing as told.
    const bookFailing = (err: Error) =>
      createVoidBook({
        nodeId: b.id,
        nodeAccount: b.id,
        signer: b.signer,
        checkSignature: rememberingSignatureCheck(cachedSignatureCheck()),
        storedReceipt: () => undefined,
        receiptIn: () => {
          throw err;
        },
        receiptOut: () => {
          throw new Error('a payee never pays out here');
        },
        releaseOut: () => {
          throw new Error('a payee never releases here');
        },
        preparePayer: (receipt) => {
          prepared.push(receipt.receiptId);
          return Promise.resolve();
        },
      });
    const prepared: string[] = [];
    const ask = { signedVoid: makeVoid(owed.signed, a.signer), fromNodeId: a.id, served: true };
    // Its own trouble (an unreadable record): the void is refused as that error, nothing kept.
    const internal = new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, 'corrupt chain record (test)');
    await expect(bookFailing(internal).accept(b.ledger, ask)).rejects.toBe(internal);
    const fork = new ChainRefusal('broken-link', 'its own head does not link (test)');
    await expect(bookFailing(fork).accept(b.ledger, ask)).rejects.toBe(fork);
    expect(b.ledger.side('void', owed.receiptId)).toBeUndefined();
    // A verdict on the receipt (crediting it would overflow): countersigned and kept.
    const voided = await bookFailing(new ChainRefusal('overflow', 'receiving it overflows the balance (test)')).accept(b.ledger, ask);
    expect(voided.result.signedVoid?.payeeSignature).toHaveLength(64);
    expect(b.ledger.side('void', owed.receiptId)).toBeDefined();
    // A payer whose chain does not pledge the receipt is let off: it asked for the void.
    const short = await owedReceipt(a, b, 't2', 40n, 30n);
    const shortAsk = { signedVoid: makeVoid(short.signed, a.signer), fromNodeId: a.id, served: true };
    // Not while its chain is unread, or does not audit: a payer that hides its chain is not let off.
    const unread = new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, "this node has not read the payer's chain yet (test)", true, { retryAfterMs: 1_000 });
    await expect(bookFailing(unread).accept(b.ledger, shortAsk)).rejects.toBe(unread);
    const unaudited = new SwarmError(ErrorCode.ERROR_CODE_INVALID_CHAIN, "the payer's chain does not audit (test)", true);
    await expect(bookFailing(unaudited).accept(b.ledger, shortAsk)).rejects.toBe(unaudited);
    expect(b.ledger.side('void', short.receiptId)).toBeUndefined();
    prepared.length = 0;
    const letOff = await bookFailing(new ReceiptRefusal('not-pledged', "the payer's chain holds no pledge of it (test)")).accept(b.ledger, shortAsk);
    expect(letOff.result.signedVoid?.payeeSignature).toHaveLength(64);
    // The payer's chain was read before the ledger's turn asked whether it pledges the receipt.
    expect(prepared).toEqual([short.receiptId]);
    expect(b.ledger.side('void', short.receiptId)).toBeDefined();
  });

  it('pays a voided receipt after all when its payee broke its word (a void breach proof): once, into both chains, refusing what does not hold', async () => {
    const { a, b } = await twoNodes();
    const c = await startNode(manualClock(START_MS));
    const owed = await owedReceipt(a, b, 't1');
    // b countersigns the receipt (its answer lost on the way back), then the void too: it broke its word.
    await b.book.acceptReceipt({ receipt: owed.signed, fromNodeId: a.id });
    const broken = countersignVoid(await askedVoid(a, owed.receiptId), b.signer);
    const inB = (await b.book.blocks(1n, 10)).blocks.map((bytes) => SignedBlock.decode(bytes));
    const proof = { signedVoid: broken, block: inB[1] };
    // Refused while a holds no void b agreed to (the receipt still waits in a's outbox).
    expect(await swarmErrorOf(a.book.reinstateVoided(proof))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT, message: expect.stringMatching(/holds no void/) });
    await a.book.completeVoid(broken);
    expect((await a.ledger.balance(a.id)).available).toBe(1_000n);

    // The chain cannot pay it while its room is pledged to another task: refused, nothing changed.
    await a.ledger.reserve({ escrowId: 't2', account: a.id, amount: 50n, expiresAtMs: 0n, payees: [b.id] });
    expect(await swarmErrorOf(a.book.reinstateVoided(proof))).toMatchObject({ code: ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT });
    await a.ledger.refund({ escrowId: 't2' });
    // A proof of another payer's receipt is not this node's to pay.
    const others = await owedReceipt(c, b, 't3');
    await b.book.acceptReceipt({ receipt: others.signed, fromNodeId: c.id });
    const cBroken = countersignVoid(await askedVoid(c, others.receiptId), b.signer);
    const cProof = { signedVoid: cBroken, block: SignedBlock.decode((await b.book.blocks(3n, 1)).blocks[0]) };
    expect(await swarmErrorOf(a.book.reinstateVoided(cProof))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT, message: expect.stringMatching(/not by this node/) });
    expect(a.book.head().balances.paid).toBe(0n);

    const done = await a.book.reinstateVoided(proof);
    expect(done.result).toEqual({ receiptId: owed.receiptId, amount: 60n, alreadyReinstated: false });
    expect(done.entries).toEqual([expect.objectContaining({ kind: EntryKind.ENTRY_KIND_REINSTATE, escrowId: owed.receiptId, fromAccount: a.id, toAccount: b.id, amount: 60n })]);
    // Both chains hold the receipt again; the ledger is back as if the receipt had been delivered.
    expect(a.book.head().balances).toMatchObject({ paid: 60n, available: 40n });
    expect(b.book.head().balances.received).toBe(120n); // a's 60 and c's
    expect((await a.ledger.balance(a.id)).available).toBe(940n);
    expect((await a.ledger.balance(b.id)).available).toBe(60n);
    expect((await a.ledger.audit()).problems).toEqual([]);
    expect(a.book.voided()).toEqual({ count: 0n, amount: 0n });
    // A void an older credit-svc completed kept no record of what it took back: not guessed, refused.
    const older = await owedReceipt(a, b, 't4', 10n, 10n);
    await b.book.acceptReceipt({ receipt: older.signed, fromNodeId: a.id });
    const olderBroken = countersignVoid(await askedVoid(a, older.receiptId), b.signer);
    await a.book.completeVoid(olderBroken);
    await a.ledger.run(() => sideOnly(undefined, [{ space: 'meta', key: voidedBackKey(older.receiptId), value: undefined }]));
    const olderBlock = SignedBlock.decode((await b.book.blocks(b.book.head().seq, 1)).blocks[0]);
    expect(await swarmErrorOf(a.book.reinstateVoided({ signedVoid: olderBroken, block: olderBlock }))).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      message: expect.stringMatching(/voided by an older credit-svc/),
    });
    // Again: already done, nothing more.
    const again = await a.book.reinstateVoided(proof);
    expect(again).toEqual({ result: { receiptId: owed.receiptId, amount: 60n, alreadyReinstated: true }, entries: [] });
    expect(a.book.head().balances.paid).toBe(60n);
  });
});
