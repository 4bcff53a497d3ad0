import type { ChainHead, ChainPage, ChainSigner } from '@swarm/chain';
import { appendReceipt, BLOCK_DOMAIN, chainRules, countersignReceipt, createGenesis, makeReceipt, ReceiptRefusal } from '@swarm/chain';
import type { SignedReceipt } from '@swarm/contracts';
import { ChainBlock, ErrorCode, SignedBlock, SwarmError } from '@swarm/contracts';
import { generateKeyPairSync, sign } from 'node:crypto';
import type { PayerViewsDeps } from './payer-views';
import { BAD_CHAIN_RETRY_MS, createPayerViews, FAILED_READ_RETRY_MS, READ_BUDGET_MS } from './payer-views';

/** 3 Dec 2026 10:00 UTC. */
const START_MS = 1_796_292_000_000;
const HASH = new Uint8Array(32).fill(3);
const rules = chainRules();

interface Node {
  readonly id: string;
  readonly signer: ChainSigner;
  head: ChainHead;
  readonly blocks: Uint8Array[];
  readonly ids: Set<string>;
}

function node(): Node {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const signer: ChainSigner = { publicKey: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }).subarray(12)), sign: (d) => new Uint8Array(sign(null, d, privateKey)) };
  const g = createGenesis(signer, rules, START_MS);
  return { id: g.head.nodeId, signer, head: g.head, blocks: [...g.blocks], ids: new Set() };
}

function append(n: Node, signed: SignedReceipt, id: string) {
  const r = appendReceipt(n.head, signed, n.signer, rules, { atMs: START_MS + 1_000, hasReceipt: (x) => n.ids.has(x) });
  n.blocks.push(...r.blocks);
  n.head = r.head;
  n.ids.add(id);
}

/** A receipt from `payer` to `payee`, countersigned; appended to the payee's chain, and the payer's unless `payerAppends` is false. */
function pay(payer: Node, payee: Node, amount: bigint, taskId: string, payerAppends = true): void {
  const signed = countersignReceipt(
    makeReceipt(
      { payeePublicKey: payee.signer.publicKey, amount, taskId, taskHash: HASH, resultHash: HASH, atMs: START_MS + 1_000, serveTicket: new Uint8Array(32).fill(7) },
      payer.signer,
    ),
    payee.signer,
  );
  const id = `${taskId}:${payer.id}:${payee.id}`;
  if (payerAppends) append(payer, signed, id);
  append(payee, signed, id);
}

/** Payer views for node `me`, reading chains from `chains` by id, `perPage` blocks a page; fetches are counted. */
function harness(me: Node, chains: Map<string, Node>, perPage = 256) {
  // Time moves only when a test moves it (also from inside a fetch).
  let elapsed = 0;
  const time = { clock: { now: () => START_MS + 2_000 + elapsed }, stopwatch: { now: () => elapsed }, advance: (ms: number) => (elapsed += ms) };
  const fetches: Array<{ payer: string; fromSeq: bigint }> = [];
  let fail: Error | undefined;
  /** Run at each fetch (e.g. to advance time). */
  let onFetch = () => {};
  const deps: PayerViewsDeps = {
    nodeId: me.id,
    rules,
    clock: time.clock,
    stopwatch: time.stopwatch,
    fetchChain:
      (payer) =>
      async (fromSeq, limit): Promise<ChainPage> => {
        fetches.push({ payer, fromSeq });
        onFetch();
        if (fail) throw fail;
        const n = chains.get(payer);
        if (!n) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no such peer (test)', true);
        const from = Number(fromSeq) - 1;
        return { blocks: n.blocks.slice(from, from + Math.min(limit, perPage)), headSeq: n.head.seq, nodeId: payer };
      },
  };
  const views = createPayerViews(deps);
  return {
    views,
    time,
    fetches,
    failWith: (err: Error | undefined) => (fail = err),
    onFetch: (fn: () => void) => (onFetch = fn),
  };
}

function refusal(fn: () => void): ReceiptRefusal | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ReceiptRefusal) return err;
    throw err;
  }
  return undefined;
}

describe('payer views: a receipt is countersigned only when its payer can pay it', () => {
  it("covers what the payer's chain holds available, less what it has yet to append here; reads on only when that does not cover", async () => {
    const [me, payer, other] = [node(), node(), node()];
    // Paid once by another node: its genesis is unlocked (1,000 + 40 available).
    pay(other, payer, 40n, 'unlock');
    const h = harness(me, new Map([[payer.id, payer]]));
    // Not read yet: refused, retryable, naming why.
    expect(refusal(() => h.views.check(payer.id, 1n, 0n))).toMatchObject({ reason: 'payer-short', retryable: true, code: ErrorCode.ERROR_CODE_INVALID_RECEIPT });
    await h.views.prepare(payer.id, 1_040n, 0n);
    expect(h.fetches).toEqual([{ payer: payer.id, fromSeq: 1n }]);
    expect(refusal(() => h.views.check(payer.id, 1_040n, 0n))).toBeUndefined();
    // One more credit than it holds, or the whole of it with 1 owed here already: refused.
    expect(refusal(() => h.views.check(payer.id, 1_041n, 0n))?.message).toMatch(/it pays 1041 credits.*has 1040 available, of which 0 is owed/);
    expect(refusal(() => h.views.check(payer.id, 1_040n, 1n))?.message).toMatch(/of which 1 is owed to this node/);
    // Covered: no read.
    await h.views.prepare(payer.id, 100n, 500n);
    expect(h.fetches).toHaveLength(1);

    // It pays this node 300 and appends its RECEIPT_OUT: once read on (from block 3 only), the 300 this node received are no longer owed.
    pay(payer, me, 300n, 't1');
    expect(refusal(() => h.views.check(payer.id, 800n, 300n))).toBeDefined();
    await h.views.prepare(payer.id, 800n, 300n);
    expect(h.fetches.map((f) => f.fromSeq)).toEqual([1n, 3n]);
    expect(refusal(() => h.views.check(payer.id, 740n, 300n))).toBeUndefined();
    expect(refusal(() => h.views.check(payer.id, 741n, 300n))).toBeDefined();
    // A receipt this node countersigned that the payer never appended stays owed, however often read.
    pay(payer, me, 100n, 't2', false);
    await h.views.prepare(payer.id, 700n, 400n);
    expect(refusal(() => h.views.check(payer.id, 640n, 400n))).toBeUndefined();
    expect(refusal(() => h.views.check(payer.id, 641n, 400n))?.message).toMatch(/of which 100 is owed/);
    expect(h.views.stats()).toMatchObject({ views: 1, reads: 3, badChains: 0, failedReads: 0 });
  });

  it('reads a payer once at a time, and a long chain on over several reads; a read stopped short covers nothing until one reaches the head', async () => {
    const [me, payer, other] = [node(), node(), node()];
    pay(other, payer, 10n, 'unlock');
    for (let i = 0; i < 6; i += 1) pay(payer, other, 1n, `t${i}`);
    // Two blocks a page, and each page takes the whole read budget.
    const h = harness(me, new Map([[payer.id, payer]]), 2);
    h.onFetch(() => void h.time.advance(READ_BUDGET_MS));
    await Promise.all([h.views.prepare(payer.id, 5n, 0n), h.views.prepare(payer.id, 5n, 0n)]);
    expect(h.fetches.map((f) => f.fromSeq)).toEqual([1n]);
    expect(refusal(() => h.views.check(payer.id, 5n, 0n))?.message).toMatch(/has read 2 of its 8 blocks so far/);
    for (let read = 0; read < 3; read += 1) await h.views.prepare(payer.id, 5n, 0n);
    expect(h.fetches.map((f) => f.fromSeq)).toEqual([1n, 3n, 5n, 7n]);
    expect(refusal(() => h.views.check(payer.id, 1_004n, 0n))).toBeUndefined();
    expect(refusal(() => h.views.check(payer.id, 1_005n, 0n))).toBeDefined();
  });

  it('refuses a payer whose chain does not audit, forgets it, and reads it again only after a while', async () => {
    const [me, payer, other] = [node(), node(), node()];
    pay(other, payer, 10n, 'unlock');
    // A RECEIPT_IN of 500 the payer made up: its block re-signed by the payer, the receipt's signatures left as they were.
    const forged = { id: payer.id, signer: payer.signer, head: payer.head, blocks: [...payer.blocks], ids: new Set<string>() };
    const last = SignedBlock.decode(forged.blocks[1]);
    const block = ChainBlock.decode(last.block);
    block.amount = 500n;
    const bytes = ChainBlock.encode(block).finish();
    forged.blocks[1] = SignedBlock.encode({ block: bytes, signature: payer.signer.sign(new Uint8Array([...new TextEncoder().encode(BLOCK_DOMAIN), ...bytes])) }).finish();
    const h = harness(me, new Map([[payer.id, forged]]));
    await h.views.prepare(payer.id, 5n, 0n);
    expect(refusal(() => h.views.check(payer.id, 5n, 0n))?.message).toMatch(/its chain does not audit.*retry in 60000 ms/);
    expect(h.views.stats()).toMatchObject({ badChains: 1 });
    // Not read again before BAD_CHAIN_RETRY_MS, then from its genesis.
    await h.views.prepare(payer.id, 5n, 0n);
    expect(h.fetches).toHaveLength(1);
    h.time.advance(BAD_CHAIN_RETRY_MS);
    await h.views.prepare(payer.id, 5n, 0n);
    expect(h.fetches.map((f) => f.fromSeq)).toEqual([1n, 1n]);
  });

  it('keeps the chain it read when a read fails, and waits before the next', async () => {
    const [me, payer, other] = [node(), node(), node()];
    pay(other, payer, 10n, 'unlock');
    const h = harness(me, new Map([[payer.id, payer]]));
    await h.views.prepare(payer.id, 100n, 0n);
    h.failWith(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'payer unreachable (test)', true));
    await h.views.prepare(payer.id, 2_000n, 0n);
    // What was read still covers what it covered; more is refused, with when to retry.
    expect(refusal(() => h.views.check(payer.id, 1_010n, 0n))).toBeUndefined();
    expect(refusal(() => h.views.check(payer.id, 2_000n, 0n))).toBeDefined();
    await h.views.prepare(payer.id, 2_000n, 0n);
    expect(h.fetches).toHaveLength(2);
    h.time.advance(FAILED_READ_RETRY_MS);
    h.failWith(undefined);
    await h.views.prepare(payer.id, 2_000n, 0n);
    expect(h.fetches).toHaveLength(3);
    expect(h.views.stats()).toMatchObject({ failedReads: 1, badChains: 0 });
    // A payer with no chain to read at all pays nothing.
    const stranger = node();
    await h.views.prepare(stranger.id, 1n, 0n);
    expect(refusal(() => h.views.check(stranger.id, 1n, 0n))?.message).toMatch(/could not be read/);
  });
});
