import { chainRules, checkCrossChain, countersignVoid, encodeSignedReceipt, makeReceipt, openBlock, ReceiptRefusal, verifyChain } from '@swarm/chain';
import type { SettleRequest, SignedReceipt } from '@swarm/contracts';
import { BlockKind, EntryKind, ErrorCode, isSwarmError } from '@swarm/contracts';
import { manualClock } from '@swarm/determinism';
import crypto from 'node:crypto';
import type { PayerCheck } from './chain-book';
import { createChainBook } from './chain-book';
import { metaUint, metaUintWrite, RESERVED_KEY, sideOnly } from './chain-records';
import { createLedger } from './create-ledger';
import { createMemoryStore } from './memory-store';
import type { Node } from './test-fixtures/chain-nodes';
import { HASH, newSigner, settlePaying, START_MS, startNode } from './test-fixtures/chain-nodes';

async function blocksOf(node: Node): Promise<Uint8Array[]> {
  const all: Uint8Array[] = [];
  for (let from = 1n; ;) {
    const page = await node.book.blocks(from, 2);
    all.push(...page.blocks);
    from += BigInt(page.blocks.length);
    if (from > page.headSeq) return all;
  }
}

async function codeOf(p: Promise<unknown>): Promise<ErrorCode | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    if (isSwarmError(err)) return err.code;
    throw err;
  }
}

describe('chain book', () => {
  it('writes the genesis block once: a reopened ledger keeps its chain', async () => {
    const clock = manualClock(START_MS);
    const signer = newSigner();
    const store = createMemoryStore();
    const open = async () => {
      const book = createChainBook({ signer, nodeAccount: signer.nodeId, rules: chainRules(), clock });
      const ledger = await createLedger({ store, clock }, { nodeAccount: signer.nodeId, genesisGrant: 1_000n, hooks: book.hooks });
      await book.open(ledger);
      return { book, ledger };
    };
    const first = await open();
    expect(first.book.head()).toMatchObject({ seq: 1n, balances: { available: 100n, locked: 900n } });
    const genesisHash = Buffer.from(first.book.head().hash);
    await first.ledger.close();
    clock.advance(5_000);
    const again = await open();
    expect(again.book.head().seq).toBe(1n);
    expect(Buffer.from(again.book.head().hash)).toEqual(genesisHash);
  });

  it('pays another node by a receipt: reserved at reserve, pledged in the chain and in the outbox at settle, in both chains once countersigned', async () => {
    const clock = manualClock(START_MS);
    const a = await startNode(clock);
    const b = await startNode(clock);
    await a.ledger.reserve({ escrowId: 't1', account: a.id, amount: 50n, expiresAtMs: 0n, payees: [a.id, b.id] });
    expect(a.book.pledged()).toBe(50n);
    await a.ledger.settle(settlePaying('t1', b, 34n));
    // The reserve is gone; the chain holds the receipt's amount in a PLEDGE block, in the settle's batch.
    expect(a.book.pledged()).toBe(34n);
    expect(a.book.head()).toMatchObject({ seq: 2n, balances: { available: 66n, pledged: 34n, paid: 0n } });
    const [owed] = await a.book.pending(10);
    expect(owed).toMatchObject({ receiptId: `t1:${a.id}:${b.id}`, payee: b.id, amount: 34n });

    const accepted = await b.book.acceptReceipt({ receipt: owed.signed, fromNodeId: a.id });
    expect(accepted.entries).toEqual([expect.objectContaining({ kind: EntryKind.ENTRY_KIND_RECEIPT_IN, fromAccount: a.id, toAccount: b.id, amount: 34n })]);
    expect((await b.ledger.balance(b.id)).available).toBe(1_034n);
    // A retry (the reply was lost): the same countersigned receipt, nothing credited twice.
    const retried = await b.book.acceptReceipt({ receipt: owed.signed, fromNodeId: a.id });
    expect(retried.entries).toEqual([]);
    expect(Buffer.from(retried.result.payeeSignature)).toEqual(Buffer.from(accepted.result.payeeSignature));
    expect((await b.ledger.balance(b.id)).available).toBe(1_034n);
    expect(b.book.head().balances).toMatchObject({ available: 1_034n, locked: 0n, received: 34n });

    await a.book.completeReceipt(accepted.result);
    await a.book.completeReceipt(accepted.result);
    expect(await a.book.pending(10)).toEqual([]);
    expect(a.book.pledged()).toBe(0n);
    expect(a.book.head().balances).toMatchObject({ available: 66n, locked: 900n, paid: 34n, pledged: 0n });
    expect((await blocksOf(a)).map((bytes) => openBlock(bytes).block.kind)).toEqual([BlockKind.BLOCK_KIND_GENESIS, BlockKind.BLOCK_KIND_PLEDGE, BlockKind.BLOCK_KIND_RECEIPT_OUT]);

    const rules = chainRules();
    const audits = [verifyChain(await blocksOf(a), rules), verifyChain(await blocksOf(b), rules)];
    const report = checkCrossChain(audits);
    expect(report).toMatchObject({ chains: 2, receipts: 1, conserved: true, genesisIssued: 2_000n, total: 2_000n });
    expect((await a.ledger.audit()).ok).toBe(true);
    const bAudit = await b.ledger.audit();
    expect(bAudit.problems).toEqual([]);
    expect(bAudit.totals).toMatchObject({ genesis: 1_000n, received: 34n });
  });

  it("asks whether the payer's chain pledges each receipt (its id and the digest of its bytes); refused, nothing changes; a receipt held already is answered without asking", async () => {
    const clock = manualClock(START_MS);
    const asked: Array<[string, string, string, string]> = [];
    let pledged = true;
    const payers: PayerCheck = {
      prepare: (payer, receiptId, digest) => {
        asked.push(['prepare', payer, receiptId, digest]);
        return Promise.resolve();
      },
      check: (payer, receiptId, digest) => {
        asked.push(['check', payer, receiptId, digest]);
        if (!pledged) throw new ReceiptRefusal('not-pledged', "the payer's chain holds no pledge of it (test)");
      },
    };
    const a = await startNode(clock);
    const b = await startNode(clock, chainRules(), newSigner(), createMemoryStore(), payers);
    const owe = async (taskId: string, amount: bigint) => {
      await a.ledger.reserve({ escrowId: taskId, account: a.id, amount, expiresAtMs: 0n, payees: [b.id] });
      await a.ledger.settle(settlePaying(taskId, b, amount));
      const owed = (await a.book.pending(10)).find((p) => p.receiptId.startsWith(`${taskId}:`));
      if (!owed) throw new Error(`no receipt for ${taskId}`);
      return owed;
    };
    const digestOf = (signed: SignedReceipt) => crypto.createHash('sha256').update(signed.receipt).digest('hex');
    const t1 = await owe('t1', 30n);
    await b.book.acceptReceipt({ receipt: t1.signed, fromNodeId: a.id });
    expect(asked).toEqual([
      ['prepare', a.id, t1.receiptId, digestOf(t1.signed)],
      ['check', a.id, t1.receiptId, digestOf(t1.signed)],
    ]);
    // Not pledged: refused for good (the payer voids it), nothing appended or credited.
    pledged = false;
    const t2 = await owe('t2', 10n);
    const refused = await b.book.acceptReceipt({ receipt: t2.signed, fromNodeId: a.id }).catch((err: unknown) => err);
    expect(refused).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_RECEIPT, retryable: false, reason: 'not-pledged' });
    expect(b.book.head()).toMatchObject({ seq: 2n, balances: { received: 30n } });
    expect((await b.ledger.balance(b.id)).available).toBe(1_030n);
    // A receipt held already is answered without asking.
    asked.length = 0;
    await b.book.acceptReceipt({ receipt: t1.signed, fromNodeId: a.id });
    expect(asked).toEqual([]);
  });

  it('pledges at open the receipts an older build left in the outbox unpledged, releasing their reserve; one the chain cannot pledge stays reserved and is voided as before', async () => {
    const clock = manualClock(START_MS);
    const store = createMemoryStore();
    const signer = newSigner();
    let a = await startNode(clock, chainRules(), signer, store);
    const b = await startNode(clock);
    // What an older build left: receipts in the outbox, their amounts in the reserve, no PLEDGE; and its received: records.
    const older = (taskId: string, amount: bigint) =>
      makeReceipt({ payeePublicKey: b.signer.publicKey, amount, taskId, taskHash: HASH, resultHash: HASH, atMs: START_MS, serveTicket: new Uint8Array(32).fill(7) }, signer);
    const fits = older('old-1', 60n);
    const tooMuch = older('old-2', 900n);
    // Dated a minute ahead of this start's clock (it went back since): refused on its own, it stays reserved, and the node still starts.
    const ahead = makeReceipt(
      { payeePublicKey: b.signer.publicKey, amount: 1n, taskId: 'old-3', taskHash: HASH, resultHash: HASH, atMs: START_MS + 60_000, serveTicket: new Uint8Array(32).fill(7) },
      signer,
    );
    await a.ledger.run(() =>
      sideOnly(undefined, [
        { space: 'outbox', key: `old-1:${a.id}:${b.id}`, value: encodeSignedReceipt(fits) },
        { space: 'outbox', key: `old-2:${a.id}:${b.id}`, value: encodeSignedReceipt(tooMuch) },
        { space: 'outbox', key: `old-3:${a.id}:${b.id}`, value: encodeSignedReceipt(ahead) },
        metaUintWrite(RESERVED_KEY, 961n),
        metaUintWrite(`received:${b.id}`, 5n),
        metaUintWrite('received-counted-through', 1n),
        metaUintWrite('receivedness', 7n),
      ]),
    );
    await a.ledger.close();
    a = await startNode(clock, chainRules(), signer, store);
    // The 60 fit what the chain may spend (100 starter allowance): pledged; the 900 (locked) do not: still reserved.
    expect(a.book.head()).toMatchObject({ seq: 2n, balances: { available: 40n, pledged: 60n } });
    expect(metaUint(a.ledger, RESERVED_KEY, 'test')).toBe(901n);
    expect(a.book.pledged()).toBe(961n);
    expect(a.ledger.side('meta', `received:${b.id}`)).toBeUndefined();
    expect(a.ledger.side('meta', 'received-counted-through')).toBeUndefined();
    // A key that merely starts alike is not one of them.
    expect(metaUint(a.ledger, 'receivedness', 'test')).toBe(7n);
    // Opened again: nothing more to do.
    await a.ledger.close();
    a = await startNode(clock, chainRules(), signer, store);
    expect(a.book.head().seq).toBe(2n);
    // A record in the outbox this node did not sign is a corrupt store: the start stops, nothing written.
    const foreign = makeReceipt(
      { payeePublicKey: b.signer.publicKey, amount: 1n, taskId: 'old-4', taskHash: HASH, resultHash: HASH, atMs: START_MS, serveTicket: new Uint8Array(32).fill(7) },
      newSigner(),
    );
    await a.ledger.run(() => sideOnly(undefined, [{ space: 'outbox', key: `old-4:${a.id}:${b.id}`, value: encodeSignedReceipt(foreign) }]));
    await a.ledger.close();
    await expect(startNode(clock, chainRules(), signer, store)).rejects.toMatchObject({ reason: 'unexpected-party' });
    a = await (async () => {
      const l = await createLedger({ store, clock }, { nodeAccount: signer.nodeId, genesisGrant: 1_000n });
      await l.run(() => sideOnly(undefined, [{ space: 'outbox', key: `old-4:${a.id}:${b.id}`, value: undefined }]));
      await l.close();
      return startNode(clock, chainRules(), signer, store);
    })();
    expect(a.book.head().seq).toBe(2n);

    // The pledged one is paid as usual: its RECEIPT_OUT closes the pledge.
    const paid = await b.book.acceptReceipt({ receipt: fits, fromNodeId: a.id });
    await a.book.completeReceipt(paid.result);
    expect(a.book.head().balances).toMatchObject({ available: 40n, pledged: 0n, paid: 60n });
    // The unpledged one, voided by its payee: its reserve goes, no block.
    expect(await a.book.startVoid(`old-2:${a.id}:${b.id}`)).toBe(true);
    const asked = (await a.book.pending(10)).find((p) => p.receiptId === `old-2:${a.id}:${b.id}`)?.voiding;
    if (!asked) throw new Error('no void asked');
    await a.book.completeVoid(countersignVoid(asked, b.signer));
    expect(a.book.head().seq).toBe(3n);
    expect(a.book.pledged()).toBe(1n);
    expect((await a.ledger.audit()).problems).toEqual([]);
  });

  it('refuses a reserve for other nodes beyond what the chain may pay (the genesis lock), and changes nothing', async () => {
    const clock = manualClock(START_MS);
    const a = await startNode(clock);
    const b = await startNode(clock);
    await a.ledger.reserve({ escrowId: 't1', account: a.id, amount: 80n, expiresAtMs: 0n, payees: [b.id] });
    expect(await codeOf(a.ledger.reserve({ escrowId: 't2', account: a.id, amount: 21n, expiresAtMs: 0n, payees: [b.id] }))).toBe(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT);
    expect(await a.ledger.escrow('t2')).toBeUndefined();
    expect(a.book.pledged()).toBe(80n);
    // Work for its own executors pledges nothing: the local ledger alone decides.
    await a.ledger.reserve({ escrowId: 't3', account: a.id, amount: 500n, expiresAtMs: 0n, payees: [a.id] });
    expect(a.book.pledged()).toBe(80n);
    // A refund releases the pledge.
    await a.ledger.refund({ escrowId: 't1' });
    expect(a.book.pledged()).toBe(0n);
    await a.ledger.reserve({ escrowId: 't4', account: a.id, amount: 100n, expiresAtMs: 0n, payees: [b.id] });
    expect((await a.ledger.audit()).ok).toBe(true);
  });

  it('charges (reserve and settle in one write) for its own executors only: never another node, which needs a pledge', async () => {
    const clock = manualClock(START_MS);
    const a = await startNode(clock);
    const b = await startNode(clock);
    const notAfterMs = BigInt(START_MS + 1_000);
    const seq = a.ledger.lastSeq();
    const charged = await a.ledger.charge({ escrowId: 't1', account: a.id, amount: 40n, payouts: [{ payee: a.id, amount: 30n }], notAfterMs });
    expect(charged.result).toEqual({ escrowId: 't1', paid: 30n, refunded: 10n });
    expect(charged.entries.map((e) => [e.seq - seq, e.kind, e.amount])).toEqual([
      [1n, EntryKind.ENTRY_KIND_RESERVE, 40n],
      [2n, EntryKind.ENTRY_KIND_SETTLE, 30n],
      [3n, EntryKind.ENTRY_KIND_REFUND, 10n],
    ]);
    expect(await a.ledger.escrow('t1')).toEqual({ id: 't1', payer: a.id, amount: 40n, state: 'settled', payees: [a.id], payee: a.id, paid: 30n, refunded: 10n });
    // A retry answers the same and writes nothing; an escrow opened by a reserve is not a charge's.
    expect(await a.ledger.charge({ escrowId: 't1', account: a.id, amount: 40n, payouts: [{ payee: a.id, amount: 30n }], notAfterMs })).toEqual({
      result: charged.result,
      entries: [],
    });
    await a.ledger.reserve({ escrowId: 't2', account: a.id, amount: 30n, expiresAtMs: 0n, payees: [a.id] });
    expect(await codeOf(a.ledger.charge({ escrowId: 't2', account: a.id, amount: 40n, payouts: [{ payee: a.id, amount: 30n }], notAfterMs }))).toBe(
      ErrorCode.ERROR_CODE_ESCROW_CONFLICT,
    );
    // Another node as payee: refused, nothing written, nothing in the outbox.
    const before = a.ledger.lastSeq();
    expect(await codeOf(a.ledger.charge({ escrowId: 't3', account: a.id, amount: 40n, payouts: [{ payee: b.id, amount: 30n }], notAfterMs }))).toBe(
      ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
    );
    expect(await a.ledger.escrow('t3')).toBeUndefined();
    expect(a.ledger.lastSeq()).toBe(before);
    expect(await a.book.pending(10)).toEqual([]);
    // Past its not-after time: refused, so a router that gave up by then knows it never commits.
    clock.advance(1_001);
    expect(await codeOf(a.ledger.charge({ escrowId: 't4', account: a.id, amount: 40n, payouts: [{ payee: a.id, amount: 30n }], notAfterMs }))).toBe(
      ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
    );
    expect(await a.ledger.escrow('t4')).toBeUndefined();
    // More than the account holds: refused whole.
    const available = (await a.ledger.balance(a.id)).available;
    expect(
      await codeOf(a.ledger.charge({ escrowId: 't5', account: a.id, amount: available + 1n, payouts: [{ payee: a.id, amount: 30n }], notAfterMs: notAfterMs + 10_000n })),
    ).toBe(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT);
    expect(a.ledger.openEscrows()).toBe(1);
    // A read after queued writes sees a charge still being written; a plain read answers the last written state.
    const charging = a.ledger.charge({ escrowId: 't6', account: a.id, amount: 40n, payouts: [{ payee: a.id, amount: 30n }], notAfterMs: notAfterMs + 10_000n });
    const [plain, queued] = await Promise.all([a.ledger.escrow('t6'), a.ledger.escrow('t6', true)]);
    expect([plain?.state, queued?.state]).toEqual([undefined, 'settled']);
    await charging;
    expect(await a.ledger.audit()).toMatchObject({ ok: true, problems: [] });
  });

  it('refuses a settle paying another node without the facts its receipt needs (key, serve ticket), leaving the escrow open', async () => {
    const clock = manualClock(START_MS);
    const a = await startNode(clock);
    const b = await startNode(clock);
    await a.ledger.reserve({ escrowId: 't1', account: a.id, amount: 50n, expiresAtMs: 0n, payees: [b.id] });
    const bare: SettleRequest = { escrowId: 't1', payee: b.id, amount: 10n, payouts: [] };
    expect(await codeOf(a.ledger.settle(bare))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    const noKey: SettleRequest = { ...settlePaying('t1', b, 10n), task: { taskId: 't1', taskHash: HASH, resultHash: HASH, shares: [], payeeKeys: [] } };
    expect(await codeOf(a.ledger.settle(noKey))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    // The payee's key but not its serve ticket: the payee would never countersign that receipt.
    const noTicket: SettleRequest = {
      ...settlePaying('t1', b, 10n),
      task: { taskId: 't1', taskHash: HASH, resultHash: HASH, shares: [], payeeKeys: [{ nodeId: b.id, publicKey: b.signer.publicKey, serveTicket: new Uint8Array(0) }] },
    };
    expect(await codeOf(a.ledger.settle(noTicket))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect((await a.ledger.escrow('t1'))?.state).toBe('open');
    expect(await a.book.pending(10)).toEqual([]);
  });

  it('refuses receipts it should not countersign, and countersigned ones that are not its own, changing nothing', async () => {
    const clock = manualClock(START_MS);
    const a = await startNode(clock);
    const b = await startNode(clock);
    const c = await startNode(clock);
    await a.ledger.reserve({ escrowId: 't1', account: a.id, amount: 50n, expiresAtMs: 0n, payees: [b.id] });
    await a.ledger.settle(settlePaying('t1', b, 20n));
    const [owed] = await a.book.pending(10);
    const before = b.book.head().seq;
    // Sent by someone other than the payer; sent to a node that is not the payee; signature broken.
    expect(await codeOf(b.book.acceptReceipt({ receipt: owed.signed, fromNodeId: c.id }))).toBe(ErrorCode.ERROR_CODE_PERMISSION_DENIED);
    expect(await codeOf(c.book.acceptReceipt({ receipt: owed.signed, fromNodeId: a.id }))).toBeDefined();
    const forged: SignedReceipt = { ...owed.signed, payerSignature: owed.signed.payerSignature.map((x, i) => (i === 0 ? x ^ 1 : x)) };
    expect(await codeOf(b.book.acceptReceipt({ receipt: forged, fromNodeId: a.id }))).toBeDefined();
    expect(b.book.head().seq).toBe(before);
    expect((await b.ledger.balance(b.id)).available).toBe(1_000n);

    // The payer appends only the receipt it signed, countersigned by its payee.
    const accepted = await b.book.acceptReceipt({ receipt: owed.signed, fromNodeId: a.id });
    const selfSigned: SignedReceipt = { ...accepted.result, payeeSignature: a.signer.sign(accepted.result.receipt) };
    expect(await codeOf(a.book.completeReceipt(selfSigned))).toBeDefined();
    // Its own signature is taken on trust only as the outbox holds it: altered, it is checked and refused.
    const alteredPayer: SignedReceipt = { ...accepted.result, payerSignature: accepted.result.payerSignature.map((x, i) => (i === 9 ? x ^ 1 : x)) };
    expect(await codeOf(a.book.completeReceipt(alteredPayer))).toBe(ErrorCode.ERROR_CODE_INVALID_RECEIPT);
    expect(await a.book.pending(10)).toHaveLength(1);
    await a.book.completeReceipt(accepted.result);
    expect(await a.book.pending(10)).toEqual([]);
  });

  it("after a restart, checks the payee's countersignature once, off the event loop, and takes its own signature from its outbox", async () => {
    const clock = manualClock(START_MS);
    const aSigner = newSigner();
    const aStore = createMemoryStore();
    let a = await startNode(clock, chainRules(), aSigner, aStore);
    const b = await startNode(clock);
    await a.ledger.reserve({ escrowId: 't1', account: a.id, amount: 50n, expiresAtMs: 0n, payees: [b.id] });
    await a.ledger.settle(settlePaying('t1', b, 20n));
    const [owed] = await a.book.pending(10);
    const accepted = (await b.book.acceptReceipt({ receipt: owed.signed, fromNodeId: a.id })).result;
    // A restarted credit-svc has forgotten every signature it made or checked: only its outbox vouches.
    await a.ledger.close();
    a = await startNode(clock, chainRules(), aSigner, aStore);
    const verify = jest.spyOn(crypto, 'verify');
    try {
      await Promise.all([a.book.completeReceipt(accepted), a.book.completeReceipt(accepted)]);
      const checked = verify.mock.calls.map((call) => ({ offThread: typeof call[4] === 'function', signature: Buffer.from(call[3] as Uint8Array).toString('hex') }));
      const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');
      // Its own signature never; the payee's only on the thread pool (once per answer in flight).
      expect(checked.filter((c) => c.signature === hexOf(accepted.payerSignature))).toEqual([]);
      const payee = checked.filter((c) => c.signature === hexOf(accepted.payeeSignature));
      expect(payee.length).toBeGreaterThanOrEqual(1);
      expect(payee.every((c) => c.offThread)).toBe(true);
    } finally {
      verify.mockRestore();
    }
    expect(await a.book.pending(10)).toEqual([]);
    expect(a.book.pledged()).toBe(0n);
    expect(verifyChain(await blocksOf(a), chainRules()).head.seq).toBe(a.book.head().seq);
    await a.ledger.close();
  });

  it("takes a payee's receipt from its payer even after another node sent one for the same task", async () => {
    const clock = manualClock(START_MS);
    const a = await startNode(clock);
    const y = await startNode(clock);
    const x = await startNode(clock);
    // X, a co-provider of A's task t1, knows its id and gets in first with a receipt of its own to Y.
    await x.ledger.reserve({ escrowId: 'x1', account: x.id, amount: 1n, expiresAtMs: 0n, payees: [y.id] });
    await x.ledger.settle({ ...settlePaying('x1', y, 1n), task: { ...settlePaying('x1', y, 1n).task!, taskId: 't1' } });
    const [early] = await x.book.pending(10);
    await y.book.acceptReceipt({ receipt: early.signed, fromNodeId: x.id });
    // A's own receipt for t1 still goes through: the ids differ by payer.
    await a.ledger.reserve({ escrowId: 't1', account: a.id, amount: 30n, expiresAtMs: 0n, payees: [y.id] });
    await a.ledger.settle(settlePaying('t1', y, 30n));
    const [owed] = await a.book.pending(10);
    expect(owed.receiptId).not.toBe(early.receiptId);
    const accepted = await y.book.acceptReceipt({ receipt: owed.signed, fromNodeId: a.id });
    await a.book.completeReceipt(accepted.result);
    expect(a.book.pledged()).toBe(0n);
    expect(y.book.head().balances.received).toBe(31n);
  });

  it('keeps room for an idle burn due within an epoch while reserved, so the PLEDGE of a settle after the boundary fits; once pledged, no burn touches it', async () => {
    const clock = manualClock(START_MS);
    // Everything spendable at once, 10% burned at each idle boundary (every second after two idle).
    const rules = chainRules({ starterAllowance: 1_000n, epochMs: 1_000, idleWindowMs: 2_000, drainPpm: 100_000 });
    const a = await startNode(clock, rules);
    const b = await startNode(clock, rules);
    clock.advance(1_500);
    // The next burn (100) falls due within an epoch: 1,000 available keeps 100 for it.
    expect(await codeOf(a.ledger.reserve({ escrowId: 't1', account: a.id, amount: 901n, expiresAtMs: 0n, payees: [b.id] }))).toBe(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT);
    await a.ledger.reserve({ escrowId: 't1', account: a.id, amount: 900n, expiresAtMs: 0n, payees: [b.id] });
    // The boundary passes before the settle: the burn (100), then the PLEDGE of 900, which still fits.
    clock.advance(600);
    await a.ledger.settle(settlePaying('t1', b, 900n));
    expect(a.book.head().balances).toMatchObject({ burned: 100n, available: 0n, pledged: 900n });
    const [owed] = await a.book.pending(10);
    const accepted = await b.book.acceptReceipt({ receipt: owed.signed, fromNodeId: a.id });
    // More boundaries pass before the countersigned receipt is back: the pledged 900 are not burned.
    clock.advance(2_000);
    await a.book.completeReceipt(accepted.result);
    expect(a.book.head().balances).toMatchObject({ paid: 900n, burned: 100n, available: 0n, pledged: 0n });
    expect(checkCrossChain([verifyChain(await blocksOf(a), rules), verifyChain(await blocksOf(b), rules)]).conserved).toBe(true);
  });

  it('appends the idle burns due, which an audit of the chain then expects', async () => {
    const clock = manualClock(START_MS);
    const rules = chainRules({ epochMs: 1_000, idleWindowMs: 2_000, drainPpm: 100_000 });
    const a = await startNode(clock, rules);
    expect(await a.book.appendDueBurns()).toBe(0);
    clock.advance(4_500);
    const burned = await a.book.appendDueBurns();
    expect(burned).toBeGreaterThanOrEqual(2);
    const audit = verifyChain(await blocksOf(a), rules, { nowMs: clock.now() });
    expect(audit.head.balances.burned).toBeGreaterThan(0n);
    expect(audit.head.balances.burned + audit.head.balances.available + audit.head.balances.locked).toBe(1_000n);
    expect(audit.owed?.count ?? 0).toBe(0);
  });
});
