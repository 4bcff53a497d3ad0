import { ErrorCode, SignedBlock } from '@swarm/contracts';
import { chainRules } from './chain-rules';
import { testSwarm } from './test-fixtures/test-swarm';
import { verifyChain } from './verify-chain';
import { countersignVoid, makeVoid } from './void';
import type { FetchChainPage } from './audit-pages';
import { CHAIN_START, chainHeadCursor, encodeVoidBreachProof, MAX_VOID_BREACH_PROOF_BYTES, scanForVoidBreaches, verifyVoidBreachProof, voidBreachWatch } from './void-breach';

const AT = 1_700_000_000_000;

/** Three nodes; b took a receipt of a's into its chain and also countersigned a's void of it. */
function brokenWord() {
  const swarm = testSwarm(3, chainRules(), AT);
  const [a, b] = swarm.nodes;
  const kept = swarm.pay(0, 1, 7n, 'task-kept', AT + 1_000);
  const broken = countersignVoid(makeVoid({ ...kept, payeeSignature: new Uint8Array(0) }, a.signer), b.signer);
  return { swarm, broken, kept };
}

describe('void breaches', () => {
  it("finds a payee's RECEIPT_IN of a receipt it countersigned a void of, with the proof, and nothing else", () => {
    const { swarm, broken, kept } = brokenWord();
    const [a, b, c] = swarm.nodes;
    // A void honoured (its receipt never in b's chain), one only asked (not countersigned), and one of c's.
    const honoured = countersignVoid(makeVoid(swarm.receipt(0, 1, 3n, 'task-voided', AT + 2_000), a.signer), b.signer);
    const asked = makeVoid(swarm.receipt(0, 1, 4n, 'task-asked', AT + 3_000), a.signer);
    const othersPaid = swarm.pay(2, 1, 5n, 'task-of-c', AT + 4_000);
    const cVoid = countersignVoid(makeVoid({ ...othersPaid, payeeSignature: new Uint8Array(0) }, c.signer), b.signer);
    swarm.pay(0, 1, 2n, 'task-paid', AT + 5_000);

    const watch = voidBreachWatch(a.signer.nodeId, b.signer.nodeId, [broken, honoured, asked, cVoid]);
    verifyChain(b.blocks, swarm.rules).entries.forEach((entry, i) => watch.onEntry(entry, b.blocks[i]));
    const receiptId = `task-kept:${a.signer.nodeId}:${b.signer.nodeId}`;
    expect(watch.breaches()).toEqual([{ receiptId, seq: 2n, amount: 7n, proof: { signedVoid: broken, block: SignedBlock.decode(b.blocks[1]) } }]);
    // The proof convicts b, whoever checks it, decoded or as bytes from the wire.
    const [{ proof }] = watch.breaches();
    const evidence = { nodeId: b.signer.nodeId, payer: a.signer.nodeId, receiptId, seq: 2n, receiptDigest: expect.stringMatching(/^[0-9a-f]{64}$/), countersigned: kept };
    expect(verifyVoidBreachProof(proof)).toEqual(evidence);
    expect(verifyVoidBreachProof(encodeVoidBreachProof(proof))).toEqual(evidence);
    // Watching another payee's chain for a's voids to b finds nothing.
    const other = voidBreachWatch(a.signer.nodeId, c.signer.nodeId, [broken]);
    verifyChain(c.blocks, swarm.rules).entries.forEach((entry, i) => other.onEntry(entry, c.blocks[i]));
    expect(other.breaches()).toEqual([]);
  });

  it('refuses a proof that proves nothing: each with its code, nothing decoded past a size limit', () => {
    const { swarm, broken } = brokenWord();
    const [a, b] = swarm.nodes;
    const block = SignedBlock.decode(b.blocks[1]);
    const refusal = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return { code: (err as { code: ErrorCode }).code, message: (err as Error).message };
      }
      throw new Error('expected a refusal');
    };
    const notABreach = { code: ErrorCode.ERROR_CODE_INVALID_CHAIN, message: expect.stringMatching(/not-a-breach/) };
    // A void only the payer signed: the payee agreed to nothing.
    expect(refusal(() => verifyVoidBreachProof({ signedVoid: { ...broken, payeeSignature: new Uint8Array(0) }, block }))).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_RECEIPT,
    });
    // The payee's countersignature forged, or the block's signature.
    expect(refusal(() => verifyVoidBreachProof({ signedVoid: { ...broken, payeeSignature: new Uint8Array(64).fill(1) }, block }))).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_RECEIPT,
    });
    expect(refusal(() => verifyVoidBreachProof({ signedVoid: broken, block: { ...block, signature: new Uint8Array(64).fill(1) } }))).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_CHAIN,
      message: expect.stringMatching(/bad-signature/),
    });
    // The payer's RECEIPT_OUT of the same receipt, the payee's genesis, and the payee's RECEIPT_IN of another receipt.
    expect(refusal(() => verifyVoidBreachProof({ signedVoid: broken, block: SignedBlock.decode(a.blocks[1]) }))).toEqual({
      ...notABreach,
      message: expect.stringMatching(/is a BLOCK_KIND_RECEIPT_OUT, not a RECEIPT_IN/),
    });
    expect(refusal(() => verifyVoidBreachProof({ signedVoid: broken, block: SignedBlock.decode(b.blocks[0]) }))).toMatchObject(notABreach);
    swarm.pay(0, 1, 7n, 'task-other', AT + 2_000);
    expect(refusal(() => verifyVoidBreachProof({ signedVoid: broken, block: SignedBlock.decode(b.blocks[2]) }))).toEqual({
      ...notABreach,
      message: expect.stringMatching(/holds another receipt than the one voided/),
    });
    expect(refusal(() => verifyVoidBreachProof({ signedVoid: broken }))).toMatchObject(notABreach);
    expect(refusal(() => verifyVoidBreachProof({ block }))).toMatchObject(notABreach);
    expect(refusal(() => verifyVoidBreachProof(new Uint8Array(MAX_VOID_BREACH_PROOF_BYTES + 1)))).toMatchObject({ code: ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE });
    // A decoded proof is judged as its encoding: a field padded past the bound is refused off the
    // wire as it would be from a file (no proof passes live and fails when read back).
    const padded = { signedVoid: { ...broken, receiptSignature: new Uint8Array(MAX_VOID_BREACH_PROOF_BYTES) }, block };
    expect(refusal(() => verifyVoidBreachProof(padded))).toMatchObject({ code: ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE });
    expect(refusal(() => verifyVoidBreachProof(Uint8Array.of(0xff, 0xff, 0xff)))).toMatchObject({ code: ErrorCode.ERROR_CODE_MALFORMED_MESSAGE });
  });
});

/** A chain served from memory, page by page, as a node's gateway answers them. */
function pagesOf(blocks: () => readonly Uint8Array[], nodeId: string): FetchChainPage & { asked: bigint[] } {
  const asked: bigint[] = [];
  const fetch = async (fromSeq: bigint, limit: number) => {
    asked.push(fromSeq);
    const all = blocks();
    return { blocks: all.slice(Number(fromSeq) - 1, Number(fromSeq) - 1 + limit), headSeq: BigInt(all.length), nodeId };
  };
  return Object.assign(fetch, { asked });
}

describe('scanning a payee for void breaches', () => {
  it("finds a long chain's head as a cursor to read on from: signed, the payee's, linked to by the next block", async () => {
    const { swarm, broken } = brokenWord();
    const [a, b, c] = swarm.nodes;
    for (let i = 0; i < 3; i++) swarm.pay(0, 1, 1n, `task-${i}`, AT + 2_000 + i);
    const fetch = pagesOf(() => b.blocks, b.signer.nodeId);
    expect(await chainHeadCursor(fetch, b.signer.nodeId, 5n)).toBeUndefined();
    const head = await chainHeadCursor(fetch, b.signer.nodeId, 2n);
    expect(head?.seq).toBe(BigInt(b.blocks.length));
    // Read on from it: the next breach is found, nothing before it read.
    const later = swarm.pay(0, 1, 9n, 'task-kept-later', AT + 7_000);
    const brokenLater = countersignVoid(makeVoid({ ...later, payeeSignature: new Uint8Array(0) }, a.signer), b.signer);
    const on = await scanForVoidBreaches(fetch, { payer: a.signer.nodeId, payee: b.signer.nodeId, voids: [broken, brokenLater], from: head ?? CHAIN_START, maxBlocks: 100 });
    expect([on.broken, on.blocksRead, on.breaches.map((x) => x.amount)]).toEqual([undefined, 1, [9n]]);
    // Another node's chain served as b's, or a head that is not there: no cursor.
    expect(
      await chainHeadCursor(
        pagesOf(() => c.blocks, c.signer.nodeId),
        b.signer.nodeId,
        0n,
      ),
    ).toBeUndefined();
    expect(await chainHeadCursor(async () => ({ blocks: [], headSeq: 50n, nodeId: b.signer.nodeId }), b.signer.nodeId, 2n)).toBeUndefined();
  });

  it('finds the breach, then reads on from where it stopped: each block once, later breaches too', async () => {
    const { swarm, broken } = brokenWord();
    const [a, b] = swarm.nodes;
    const fetch = pagesOf(() => b.blocks, b.signer.nodeId);
    const scan = { payer: a.signer.nodeId, payee: b.signer.nodeId, voids: [broken], maxBlocks: 100, pageLimit: 2 };
    const first = await scanForVoidBreaches(fetch, { ...scan, from: CHAIN_START });
    expect(first.breaches.map((x) => [x.receiptId, x.seq, x.amount])).toEqual([[`task-kept:${a.signer.nodeId}:${b.signer.nodeId}`, 2n, 7n]]);
    expect(first.broken).toBeUndefined();
    expect(first.cursor.seq).toBe(2n);
    expect(verifyVoidBreachProof(first.breaches[0].proof).nodeId).toBe(b.signer.nodeId);

    // Nothing new: one page asked, nothing read. Then b pays and is paid, and keeps a second voided receipt.
    expect(await scanForVoidBreaches(fetch, { ...scan, from: first.cursor })).toEqual({ cursor: first.cursor, blocksRead: 0, breaches: [] });
    swarm.pay(0, 1, 2n, 'task-paid', AT + 5_000);
    swarm.pay(1, 2, 1n, 'task-b-pays', AT + 6_000);
    const later = swarm.pay(0, 1, 9n, 'task-kept-later', AT + 7_000);
    const brokenLater = countersignVoid(makeVoid({ ...later, payeeSignature: new Uint8Array(0) }, a.signer), b.signer);
    fetch.asked.length = 0;
    const second = await scanForVoidBreaches(fetch, { ...scan, voids: [broken, brokenLater], from: first.cursor });
    expect(fetch.asked).toEqual([3n, 5n]);
    expect(second.blocksRead).toBe(3);
    expect(second.breaches.map((x) => [x.seq, x.amount])).toEqual([[5n, 9n]]);
  });

  it('stops at maxBlocks and goes on from there next time', async () => {
    const { swarm, broken } = brokenWord();
    const [a, b] = swarm.nodes;
    for (let i = 0; i < 4; i++) swarm.pay(0, 1, 1n, `task-${i}`, AT + 2_000 + i);
    const fetch = pagesOf(() => b.blocks, b.signer.nodeId);
    const scan = { payer: a.signer.nodeId, payee: b.signer.nodeId, voids: [broken], maxBlocks: 3 };
    const first = await scanForVoidBreaches(fetch, { ...scan, from: CHAIN_START });
    expect([first.blocksRead, first.cursor.seq, first.breaches.length]).toEqual([3, 3n, 1]);
    const rest = await scanForVoidBreaches(fetch, { ...scan, from: first.cursor });
    expect([rest.blocksRead, rest.cursor.seq, rest.breaches.length]).toEqual([3, 6n, 0]);
  });

  it("starts again from the chain's start when the chain does not go on from the cursor, or is another node's", async () => {
    const { swarm, broken } = brokenWord();
    const [a, b, c] = swarm.nodes;
    const scan = { payer: a.signer.nodeId, payee: b.signer.nodeId, voids: [broken], maxBlocks: 100 };
    const first = await scanForVoidBreaches(
      pagesOf(() => b.blocks, b.signer.nodeId),
      { ...scan, from: CHAIN_START },
    );
    // The cursor names a block b's chain does not hold at that seq (as after b forked its chain).
    swarm.pay(0, 1, 1n, 'task-next', AT + 3_000);
    const elsewhere = await scanForVoidBreaches(
      pagesOf(() => b.blocks, b.signer.nodeId),
      { ...scan, from: { seq: first.cursor.seq, hash: new Uint8Array(32).fill(7) } },
    );
    expect(elsewhere).toEqual({ cursor: CHAIN_START, blocksRead: 0, breaches: [], broken: expect.stringMatching(/does not link to block 2/) });
    // c's blocks served as b's; and a block that is not one.
    expect(
      (
        await scanForVoidBreaches(
          pagesOf(() => c.blocks, b.signer.nodeId),
          { ...scan, from: CHAIN_START },
        )
      ).broken,
    ).toMatch(/is of .*, not /);
    const spoiled = [b.blocks[0], Uint8Array.of(1, 2, 3)];
    expect(
      await scanForVoidBreaches(
        pagesOf(() => spoiled, b.signer.nodeId),
        { ...scan, from: CHAIN_START },
      ),
    ).toMatchObject({ cursor: CHAIN_START, blocksRead: 1, breaches: [], broken: expect.stringMatching(/^block 2: /) });
  });

  it('finds nothing for voids that are not the payer’s to this payee, or not countersigned', async () => {
    const { swarm, broken, kept } = brokenWord();
    const [a, b, c] = swarm.nodes;
    const asked = makeVoid({ ...kept, payeeSignature: new Uint8Array(0) }, a.signer);
    const fetch = pagesOf(() => b.blocks, b.signer.nodeId);
    for (const [payer, voids] of [
      [c.signer.nodeId, [broken]],
      [a.signer.nodeId, [asked]],
    ] as const) {
      const scan = await scanForVoidBreaches(fetch, { payer, payee: b.signer.nodeId, voids, from: CHAIN_START, maxBlocks: 100 });
      expect([scan.breaches, scan.cursor.seq]).toEqual([[], 2n]);
    }
  });

  it("takes no more of a page than it asked, and stops at a gap, an empty page, a budget, whatever the head's claim", async () => {
    const { swarm, broken } = brokenWord();
    const [a, b] = swarm.nodes;
    for (let i = 0; i < 3; i++) swarm.pay(0, 1, 1n, `task-${i}`, AT + 2_000 + i);
    const scan = { payer: a.signer.nodeId, payee: b.signer.nodeId, voids: [broken], from: CHAIN_START, maxBlocks: 100 };
    const serve =
      (page: (fromSeq: bigint, limit: number) => readonly Uint8Array[], headSeq = 1_000n): FetchChainPage =>
      async (fromSeq, limit) => ({ blocks: page(fromSeq, limit), headSeq, nodeId: b.signer.nodeId });
    // A page of the whole chain for one block asked: one block a page read, all of them in the end.
    const asked: number[] = [];
    const greedy = await scanForVoidBreaches(
      serve((from, limit) => {
        asked.push(limit);
        return b.blocks.slice(Number(from) - 1);
      }, 5n),
      { ...scan, pageLimit: 1 },
    );
    expect([greedy.blocksRead, greedy.cursor.seq, greedy.breaches.length, asked.every((l) => l === 1)]).toEqual([5, 5n, 1, true]);
    // Block 3 skipped: a gap.
    const gap = await scanForVoidBreaches(
      serve((from) => (from === 1n ? b.blocks.slice(0, 2) : b.blocks.slice(3))),
      { ...scan, pageLimit: 2 },
    );
    expect(gap).toMatchObject({ cursor: CHAIN_START, blocksRead: 2, broken: 'block 4 came where 3 was asked' });
    // Nothing sent past block 2 though the head is said to be 1,000: the scan ends there.
    const short = await scanForVoidBreaches(
      serve((from) => (from === 1n ? b.blocks.slice(0, 2) : [])),
      { ...scan, pageLimit: 2 },
    );
    expect([short.cursor.seq, short.blocksRead, short.broken]).toEqual([2n, 2, undefined]);
    // A page limit out of range is clamped (0 would ask for nothing, for ever); a budget spent ends the scan.
    const clamped = await scanForVoidBreaches(
      serve((from, limit) => b.blocks.slice(Number(from) - 1, Number(from) - 1 + limit), 5n),
      { ...scan, pageLimit: 0 },
    );
    expect(clamped.cursor.seq).toBe(5n);
    let pages = 0;
    const budget = await scanForVoidBreaches(
      serve((from, limit) => b.blocks.slice(Number(from) - 1, Number(from) - 1 + limit), 5n),
      { ...scan, pageLimit: 1, stop: () => pages++ >= 2 },
    );
    expect(budget.cursor.seq).toBe(2n);
  });
});
