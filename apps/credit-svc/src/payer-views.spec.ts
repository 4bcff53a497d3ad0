import type { ChainPage } from '@swarm/chain';
import { appendPledge, appendRelease, countersignVoid, hex, makeVoid, sha256, verifyForkProof } from '@swarm/chain';
import type { ForkProof, SignedReceipt } from '@swarm/contracts';
import { ChainBlock, ErrorCode, SignedBlock, SwarmError } from '@swarm/contracts';
import type { PayerViewsDeps } from './payer-views';
import { ReceiptIdSet } from './receipt-id-set';
import type { Node } from './test-fixtures/chains';
import { node, pay, receipt, resigned, rules, spender, START_MS } from './test-fixtures/chains';
import { decodePayerViews, encodePayerViews } from './payer-view-file';
import { BAD_CHAIN_RETRY_MS, FAILED_READ_RETRY_MS, MAX_REMEMBERED_IDS, MAX_VIEWS, MIN_RETRY_MS, QUEUED_RETRY_MS, READ_BUDGET_MS, startPayerViews } from './payer-views';

/** What a payee is asked about: a receipt's id and the digest of its bytes. */
interface Asked {
  readonly id: string;
  readonly digest: string;
}

const askedOf = (payer: Node, payee: Node, signed: SignedReceipt, taskId: string): Asked => ({ id: `${taskId}:${payer.id}:${payee.id}`, digest: hex(sha256(signed.receipt)) });

/** A receipt from `payer` to `payee` pledged in the payer's chain, as a payer sends it. */
function pledge(payer: Node, payee: Node, amount: bigint, taskId: string): Asked {
  const signed = receipt(payer, payee, amount, taskId);
  const asked = askedOf(payer, payee, signed, taskId);
  const r = appendPledge(payer.head, signed, payer.signer, rules, { atMs: START_MS + 1_000, hasReceipt: (x) => payer.ids.has(x) });
  payer.blocks.push(...r.blocks);
  payer.head = r.head;
  payer.ids.add(asked.id);
  return asked;
}

/** A pledge to `accomplice` (the payer's own second identity) released at once: it costs the payer no credit, and its view one more pledge kept. */
function pledgeAndRelease(payer: Node, accomplice: Node, taskId: string): void {
  const signed = receipt(payer, accomplice, 1n, taskId);
  const id = `${taskId}:${payer.id}:${accomplice.id}`;
  const digest = hex(sha256(signed.receipt));
  const pledgeOf = (x: string) => (x === id ? { digest, amount: 1n, released: false } : undefined);
  for (const r of [appendPledge(payer.head, signed, payer.signer, rules, { atMs: START_MS + 1_000, hasReceipt: (x) => payer.ids.has(x) })]) {
    payer.blocks.push(...r.blocks);
    payer.head = r.head;
  }
  payer.ids.add(id);
  const released = appendRelease(payer.head, countersignVoid(makeVoid(signed, payer.signer), accomplice.signer), payer.signer, rules, {
    atMs: START_MS + 1_000,
    hasReceipt: (x) => payer.ids.has(x),
    pledgeOf,
  });
  payer.blocks.push(...released.blocks);
  payer.head = released.head;
}

/** A receipt from `payer` to `payee` its chain does not pledge. */
const unpledged = (payer: Node, payee: Node, amount: bigint, taskId: string): Asked => askedOf(payer, payee, receipt(payer, payee, amount, taskId), taskId);

/** A prev_hash no block has. */
const namesNothing = (block: ChainBlock) => void (block.prevHash = new Uint8Array(32).fill(9));

/** `n`'s chain as it shows it with its second block (a RECEIPT_IN) re-signed for 500: the receipt inside still says otherwise, so it does not audit. */
function withForgedReceiptIn(n: Node): Node {
  const blocks = [...n.blocks];
  blocks[1] = resigned(blocks[1], n.signer, (block) => void (block.amount = 500n));
  return { ...n, blocks };
}

/** Payer views reading chains from `chains` by id, `perPage` blocks a page at most; fetches are counted. */
function harness(
  chains: Map<string, Node>,
  perPage = 64,
  budget?: PayerViewsDeps['budget'],
  limits?: PayerViewsDeps['limits'],
  restored?: PayerViewsDeps['restored'],
  convicted?: PayerViewsDeps['convicted'],
) {
  // Time moves only when a test moves it (also from inside a fetch); timers fire as it passes.
  let elapsed = 0;
  const timers: Array<{ dueMs: number; fn: () => void }> = [];
  const advance = (ms: number) => {
    elapsed += ms;
    for (const t of timers.filter((t) => t.dueMs <= elapsed)) {
      timers.splice(timers.indexOf(t), 1);
      t.fn();
    }
  };
  const time = { clock: { now: () => START_MS + 2_000 + elapsed }, stopwatch: { now: () => elapsed }, advance };
  const fetches: Array<{ payer: string; fromSeq: bigint }> = [];
  const forks: Array<{ payer: string; proof: ForkProof }> = [];
  let fail: Error | undefined;
  /** Run at each fetch (e.g. to advance time); the page waits for what it returns. */
  let onFetch = (_payer: string): Promise<void> | void => {};
  const deps: PayerViewsDeps = {
    rules,
    clock: time.clock,
    stopwatch: time.stopwatch,
    scheduler: {
      setTimer: (ms, fn) => {
        const t = { dueMs: elapsed + ms, fn };
        timers.push(t);
        return () => void timers.splice(timers.indexOf(t), 1);
      },
    },
    ...(budget ? { budget } : {}),
    ...(limits ? { limits } : {}),
    ...(restored ? { restored } : {}),
    ...(convicted ? { convicted } : {}),
    onFork: (payer, proof) => void forks.push({ payer, proof }),
    fetchChain:
      (payer) =>
      async (fromSeq, limit): Promise<ChainPage> => {
        fetches.push({ payer, fromSeq });
        await onFetch(payer);
        if (fail) throw fail;
        const n = chains.get(payer);
        if (!n) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no such peer (test)', true);
        const from = Number(fromSeq) - 1;
        return { blocks: n.blocks.slice(from, from + Math.min(limit, perPage)), headSeq: n.head.seq, nodeId: payer };
      },
  };
  const views = startPayerViews(deps);
  return {
    views,
    time,
    fetches,
    forks,
    failWith: (err: Error | undefined) => (fail = err),
    onFetch: (fn: (payer: string) => Promise<void> | void) => (onFetch = fn),
  };
}

/** The error check() throws, or undefined when it passes. */
function answer(fn: () => void): SwarmError | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof SwarmError) return err;
    throw err;
  }
  return undefined;
}

const notPledged = { code: ErrorCode.ERROR_CODE_INVALID_RECEIPT, reason: 'not-pledged', retryable: false };
const notYet = { code: ErrorCode.ERROR_CODE_OVERLOADED, retryable: true };
const unreadable = { code: ErrorCode.ERROR_CODE_UNAVAILABLE, retryable: true };

describe('payer views - a receipt is countersigned only when its payer pledged it', () => {
  it("passes a receipt the payer's chain pledges, reads on for one it does not hold yet, and refuses one a read since it came shows unpledged", async () => {
    const [me, payer, other] = [node(), node(), node()];
    // Paid once by another node: its genesis is unlocked (1,000 + 40 available).
    pay(other, payer, 40n, 'unlock');
    const h = harness(new Map([[payer.id, payer]]));
    const r1 = pledge(payer, me, 30n, 't1');
    // Not read yet: no verdict, only when to retry.
    expect(answer(() => h.views.check(payer.id, r1.id, r1.digest))).toMatchObject({ ...notYet, retryAfterMs: MIN_RETRY_MS, message: expect.stringMatching(/has not read/) });
    await h.views.prepare(payer.id, r1.id, r1.digest);
    expect(h.fetches).toEqual([{ payer: payer.id, fromSeq: 1n }]);
    expect(answer(() => h.views.check(payer.id, r1.id, r1.digest))).toBeUndefined();
    // The same receipt id with other bytes (another amount): the verdict.
    const other30 = unpledged(payer, me, 31n, 't1');
    expect(answer(() => h.views.check(payer.id, r1.id, other30.digest))).toMatchObject({ ...notPledged, message: expect.stringMatching(/with other bytes/) });
    // Asked again, later: a pledge once read needs no read.
    h.time.advance(60_000);
    await h.views.prepare(payer.id, r1.id, r1.digest);
    expect(h.fetches).toHaveLength(1);
    expect(answer(() => h.views.check(payer.id, r1.id, r1.digest))).toBeUndefined();

    // A new pledge: read on from the head read before (block 4), then it passes.
    const r2 = pledge(payer, me, 500n, 't2');
    await h.views.prepare(payer.id, r2.id, r2.digest);
    expect(h.fetches.map((f) => f.fromSeq)).toEqual([1n, 4n]);
    expect(answer(() => h.views.check(payer.id, r2.id, r2.digest))).toBeUndefined();
    // It spends the rest elsewhere (510 pledged to another node), then sends this node a receipt its chain cannot pledge.
    pledge(payer, other, 510n, 'elsewhere');
    const r3 = unpledged(payer, me, 100n, 't3');
    await h.views.prepare(payer.id, r3.id, r3.digest);
    expect(h.fetches.map((f) => f.fromSeq)).toEqual([1n, 4n, 5n]);
    expect(answer(() => h.views.check(payer.id, r3.id, r3.digest))).toMatchObject({
      ...notPledged,
      message: expect.stringMatching(/read up to block 5 .*holds no PLEDGE of receipt t3:/),
    });
    expect(payer.head.balances).toMatchObject({ available: 0n, pledged: 1_040n });
    expect(h.views.stats()).toMatchObject({ views: 1, reads: 3, badChains: 0, failedReads: 0 });
  });

  it('gives no verdict from a read asked for before the receipt came, nor while the chain cannot be read', async () => {
    const [me, payer, other] = [node(), node(), node()];
    pay(other, payer, 40n, 'unlock');
    const h = harness(new Map([[payer.id, payer]]));
    const r1 = pledge(payer, me, 1n, 't1');
    await h.views.prepare(payer.id, r1.id, r1.digest);
    // A receipt not pledged comes later, and its payer's gateway fails this node's reads from then on.
    h.time.advance(10);
    const r2 = unpledged(payer, me, 1n, 't2');
    h.failWith(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'pages refused (test)', true));
    await h.views.prepare(payer.id, r2.id, r2.digest);
    expect(answer(() => h.views.check(payer.id, r2.id, r2.digest))).toMatchObject({ ...unreadable, message: expect.stringMatching(/could not be read/) });
    // What it pledged before still passes.
    expect(answer(() => h.views.check(payer.id, r1.id, r1.digest))).toBeUndefined();
  });

  it('gives no verdict on a receipt that came while a page was on its way (that read may predate its pledge): it reads again for it', async () => {
    const [me, payer, other] = [node(), node(), node()];
    pay(other, payer, 40n, 'unlock');
    const h = harness(new Map([[payer.id, payer]]));
    const r1 = pledge(payer, me, 1n, 't1');
    const r2 = unpledged(payer, me, 1n, 't2');
    // The first page is held on its way until the next receipt has come (not pledged: were it, its pledge could be past that page).
    let arrived: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (arrived = resolve));
    let pages = 0;
    h.onFetch(() => {
      pages += 1;
      if (pages === 1) return held;
      // The read that follows for it fails: only the page that was on its way answers.
      throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'pages refused (test)', true);
    });
    const first = h.views.prepare(payer.id, r1.id, r1.digest);
    const second = h.views.prepare(payer.id, r2.id, r2.digest);
    arrived();
    await Promise.all([first, second]);
    await h.views.idle();
    expect(h.fetches.map((f) => f.fromSeq)).toEqual([1n, 4n]);
    expect(answer(() => h.views.check(payer.id, r1.id, r1.digest))).toBeUndefined();
    expect(answer(() => h.views.check(payer.id, r2.id, r2.digest))).toMatchObject(unreadable);
    // Once a read asked for after it came reaches the head: the verdict.
    h.onFetch(() => undefined);
    h.time.advance(FAILED_READ_RETRY_MS);
    await h.views.prepare(payer.id, r2.id, r2.digest);
    expect(answer(() => h.views.check(payer.id, r2.id, r2.digest))).toMatchObject(notPledged);
  });

  it('reads a payer once at a time, a long chain on in turns in the background; a pledge passes once read', async () => {
    const [me, payer, other] = [node(), node(), node()];
    pay(other, payer, 10n, 'unlock');
    for (let i = 0; i < 5; i += 1) pay(payer, other, 1n, `t${i}`);
    const r = pledge(payer, me, 5n, 'mine');
    // Two blocks a page, and each page takes the whole read's time: one page a turn.
    const h = harness(new Map([[payer.id, payer]]), 2);
    const partWay: Array<ErrorCode | undefined> = [];
    h.onFetch(() => {
      h.time.advance(READ_BUDGET_MS);
      partWay.push(answer(() => h.views.check(payer.id, r.id, r.digest))?.code);
    });
    await Promise.all([h.views.prepare(payer.id, r.id, r.digest), h.views.prepare(payer.id, r.id, r.digest)]);
    await h.views.idle();
    expect(h.fetches.map((f) => f.fromSeq)).toEqual([1n, 3n, 5n, 7n]);
    expect(h.views.stats()).toMatchObject({ reads: 4, blocksRead: 8, queued: 0 });
    // While it was read part way (the pledge is block 8), nothing passed and nothing was refused.
    expect(partWay).toEqual([ErrorCode.ERROR_CODE_OVERLOADED, ErrorCode.ERROR_CODE_OVERLOADED, ErrorCode.ERROR_CODE_OVERLOADED, ErrorCode.ERROR_CODE_OVERLOADED]);
    expect(answer(() => h.views.check(payer.id, r.id, r.digest))).toBeUndefined();
  });

  it('reads within one budget of audit time, the payers waiting served in turn in the background: a payer with a short chain is not starved by long ones', async () => {
    const [me, honest, other] = [node(), node(), node()];
    pay(node(), honest, 100n, 'unlock');
    const r = pledge(honest, me, 5n, 'mine');
    // Two payers with long chains (70 blocks each), one page (32 blocks) a turn at the budget below.
    const [long1, long2] = [spender(other, 68), spender(other, 68)];
    const [a1, a2] = [unpledged(long1, me, 1n, 'x'), unpledged(long2, me, 1n, 'x')];
    // 3.2 ms of audit a page (32 blocks at MIN_MS_PER_BLOCK), 3.2 ms a second, one page at once.
    const h = harness(new Map([long1, long2, honest].map((n) => [n.id, n])), 32, { msPerSecond: 3.2, burstMs: 3.2 });
    // The first long chain starts at once and spends the budget on one page; it goes on in turn, and the next ones wait theirs.
    await h.views.prepare(long1.id, a1.id, a1.digest);
    await h.views.prepare(long2.id, a2.id, a2.digest);
    await h.views.prepare(long1.id, a1.id, a1.digest);
    await h.views.prepare(honest.id, r.id, r.digest);
    expect(h.fetches.map((f) => f.payer)).toEqual([long1.id]);
    expect(answer(() => h.views.check(honest.id, r.id, r.digest))).toMatchObject({ ...notYet, retryAfterMs: QUEUED_RETRY_MS, message: expect.stringMatching(/waits its turn/) });
    expect(h.views.stats()).toMatchObject({ queued: 3 });
    // Each second the budget refills a page's worth: long1, long2 and the honest payer (its whole
    // chain, 3 blocks), then on in turn; however often the long ones' receipts come, each waits its turn.
    for (let second = 0; second < 3; second += 1) {
      h.time.advance(1_000);
      await h.views.prepare(long1.id, a1.id, a1.digest);
      await h.views.prepare(long2.id, a2.id, a2.digest);
      await h.views.idle();
    }
    expect(h.fetches.map((f) => [f.payer, f.fromSeq])).toEqual([
      [long1.id, 1n],
      [long1.id, 33n],
      [long2.id, 1n],
      [honest.id, 1n],
      [long1.id, 65n],
      [long2.id, 33n],
    ]);
    // Read in the background: the honest payer's receipt passes.
    expect(answer(() => h.views.check(honest.id, r.id, r.digest))).toBeUndefined();
    h.views.stop();
    expect(h.views.stats()).toMatchObject({ queued: 0 });
  });

  it("reads a payer read to its head before on ahead of the payers waiting: an honest payer's next receipt does not wait behind long chains", async () => {
    const [me, honest, other] = [node(), node(), node()];
    pay(node(), honest, 100n, 'unlock');
    const first = pledge(honest, me, 5n, 'first');
    const [long1, long2] = [spender(other, 68), spender(other, 68)];
    const [a1, a2] = [unpledged(long1, me, 1n, 'x'), unpledged(long2, me, 1n, 'x')];
    const h = harness(new Map([honest, long1, long2].map((n) => [n.id, n])), 32, { msPerSecond: 3.2, burstMs: 6.4 });
    await h.views.prepare(honest.id, first.id, first.digest);
    // The long chains spend the budget and wait their turns.
    await h.views.prepare(long1.id, a1.id, a1.digest);
    await h.views.prepare(long2.id, a2.id, a2.digest);
    expect(h.views.stats()).toMatchObject({ queued: 2 });
    // The honest payer pledges its next receipt two seconds later: read on at once, ahead of the queue.
    const next = pledge(honest, me, 3n, 'next');
    h.time.advance(2_000);
    const before = h.fetches.length;
    await h.views.prepare(honest.id, next.id, next.digest);
    expect(h.fetches.slice(before).map((f) => [f.payer, f.fromSeq])).toContainEqual([honest.id, 4n]);
    expect(answer(() => h.views.check(honest.id, next.id, next.digest))).toBeUndefined();
    h.views.stop();
  });

  it('refuses a payer whose node reports a head below what it sent, and waits as long as its node asks', async () => {
    const [me, payer, other] = [node(), node(), node()];
    pay(other, payer, 10n, 'unlock');
    const r1 = pledge(payer, me, 5n, 't1');
    const shown = { id: payer.id, signer: payer.signer, head: payer.head, blocks: [...payer.blocks], ids: new Set<string>() };
    const h = harness(new Map([[payer.id, shown]]));
    await h.views.prepare(payer.id, r1.id, r1.digest);
    expect(answer(() => h.views.check(payer.id, r1.id, r1.digest))).toBeUndefined();
    // Its node now asks this one to wait (its budget of pages sent): no failure, no read before then.
    const r2 = unpledged(payer, me, 5n, 't2');
    h.failWith(new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, 'pages: retry later (test)', true, { retryAfterMs: 7_000 }));
    h.time.advance(10);
    await h.views.prepare(payer.id, r2.id, r2.digest);
    expect(answer(() => h.views.check(payer.id, r2.id, r2.digest))).toMatchObject({
      ...notYet,
      retryAfterMs: 7_000,
      message: expect.stringMatching(/asked this node to wait 7000 ms/),
    });
    await h.views.prepare(payer.id, r2.id, r2.digest);
    expect(h.fetches).toHaveLength(2);
    expect(h.views.stats()).toMatchObject({ failedReads: 0 });
    // Then it shows a chain one block shorter than it sent.
    h.failWith(undefined);
    h.time.advance(7_000);
    shown.blocks.pop();
    shown.head = { ...shown.head, seq: 2n };
    await h.views.prepare(payer.id, r2.id, r2.digest);
    expect(answer(() => h.views.check(payer.id, r2.id, r2.digest))).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_CHAIN,
      message: expect.stringMatching(/ends at block 2, and it sent this node block 3/),
    });
    expect(h.views.stats()).toMatchObject({ badChains: 1 });
  });

  it('keeps what it audited and its holds through a flood of payers it cannot read, or with a block each', async () => {
    const [me, honest, bad, other] = [node(), node(), node(), node()];
    pay(other, honest, 10n, 'unlock');
    for (let i = 0; i < 40; i += 1) pay(honest, other, 1n, `t${i}`);
    const first = pledge(honest, me, 1n, 'first');
    // A chain whose second block was re-signed with another amount: it does not audit.
    pay(node(), bad, 10n, 'unlock');
    const badShown = withForgedReceiptIn(bad);
    const chains = new Map<string, Node>([
      [honest.id, honest],
      [bad.id, badShown],
    ]);
    const fromBad = unpledged(bad, me, 1n, 'b');
    const h = harness(chains);
    await h.views.prepare(honest.id, first.id, first.digest);
    await h.views.prepare(bad.id, fromBad.id, fromBad.digest);
    expect(h.views.stats()).toMatchObject({ badChains: 1 });
    // More new payers than views are kept: half cannot be read, half show a genesis block only.
    for (let i = 0; i < MAX_VIEWS + 100; i += 1) {
      const stranger = node();
      if (i % 2 === 1) chains.set(stranger.id, stranger);
      await h.views.prepare(stranger.id, `x:${stranger.id}:${me.id}`, '00');
    }
    expect(h.views.stats().views).toBeLessThanOrEqual(MAX_VIEWS);
    // The honest chain is read on from where it was (not from genesis), and the bad one stays held.
    const next = pledge(honest, me, 1n, 'next');
    const before = h.fetches.length;
    await h.views.prepare(honest.id, next.id, next.digest);
    await h.views.prepare(bad.id, fromBad.id, fromBad.digest);
    expect(h.fetches.slice(before).map((f) => [f.payer, f.fromSeq])).toEqual([[honest.id, 44n]]);
    expect(answer(() => h.views.check(honest.id, next.id, next.digest))).toBeUndefined();
    expect(answer(() => h.views.check(bad.id, fromBad.id, fromBad.digest))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_CHAIN });
  });

  it('forgets views as soon as payers it knows grow past what is kept (a pledge weighing ten ids), not only when a new payer comes', async () => {
    const [me, a, b, accomplice] = [node(), node(), node(), node()];
    for (const p of [a, b]) pay(node(), p, 100n, 'unlock');
    const h = harness(
      new Map([a, b].map((n) => [n.id, n])),
      64,
      { msPerSecond: 1_000_000, burstMs: 1_000_000 },
      { maxViews: MAX_VIEWS, maxRememberedIds: 600, maxChainWeight: 600 },
    );
    for (const [i, p] of [a, b].entries()) {
      const r = pledge(p, me, 1n, `first${i}`);
      await h.views.prepare(p.id, r.id, r.digest);
    }
    expect(h.views.stats().views).toBe(2);
    // Each grows by 40 released pledges (about 460 ids' weight each, 600 kept in all), and is read on for its next receipt.
    for (const [i, p] of [a, b].entries()) {
      for (let k = 0; k < 40; k += 1) pledgeAndRelease(p, accomplice, `free${i}-${k}`);
      const r = pledge(p, me, 1n, `next${i}`);
      await h.views.prepare(p.id, r.id, r.digest);
      await h.views.idle();
      expect(answer(() => h.views.check(p.id, r.id, r.digest))).toBeUndefined();
    }
    // a, read on first, was forgotten once b grew past the limit; b, being read, was kept.
    expect(h.views.stats().views).toBe(1);
    const again = pledge(b, me, 1n, 'again');
    const before = h.fetches.length;
    await h.views.prepare(b.id, again.id, again.digest);
    expect(h.fetches.slice(before).map((f) => f.fromSeq)).toEqual([b.head.seq]);
  });

  it('passes a receipt whose pledge its prepare found, though the view was forgotten before its check (another payer read on past the limits)', async () => {
    const [me, heavy, honest, accomplice] = [node(), node(), node(), node()];
    for (const p of [heavy, honest]) pay(node(), p, 100n, 'unlock');
    for (let k = 0; k < 60; k += 1) pledgeAndRelease(heavy, accomplice, `x${k}`);
    // The heavy payer's pages come back only when the test lets them: it is always being read.
    const gates: Array<() => void> = [];
    const h = harness(
      new Map([heavy, honest].map((n) => [n.id, n])),
      32,
      { msPerSecond: 1_000_000, burstMs: 1_000_000 },
      { maxViews: MAX_VIEWS, maxRememberedIds: 200, maxChainWeight: 1_000 },
    );
    h.onFetch((payer) => (payer === heavy.id ? new Promise<void>((resolve) => gates.push(resolve)) : undefined));
    const fromHeavy = pledge(heavy, me, 1n, 'heavy');
    const heavyRead = h.views.prepare(heavy.id, fromHeavy.id, fromHeavy.digest);
    const answers: Array<string | undefined> = [];
    for (let round = 0; round < 3; round += 1) {
      const r = pledge(honest, me, 1n, `h${round}`);
      await h.views.prepare(honest.id, r.id, r.digest);
      // One of the heavy payer's pages lands before the honest receipt's turn in the ledger: the views go past the limits.
      while (gates.length === 0) await new Promise((resolve) => setImmediate(resolve));
      (gates.shift() as () => void)();
      for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
      answers.push(answer(() => h.views.check(honest.id, r.id, r.digest))?.message);
    }
    expect(answers).toEqual([undefined, undefined, undefined]);
    h.views.stop();
    for (const release of gates) release();
    await heavyRead;
  });

  it('refuses a chain weighing more than one chain may (its receipt ids, and each pledge kept, released ones too, at ten), so one chain being read never forces out all the others', async () => {
    const [me, payer, accomplice] = [node(), node(), node()];
    pay(node(), payer, 100n, 'unlock');
    for (let k = 0; k < 3; k += 1) pledgeAndRelease(payer, accomplice, `voided${k}`);
    const r = pledge(payer, me, 1n, 'mine');
    // 5 ids and 4 pledges kept: 45, within 60.
    const h = harness(new Map([[payer.id, payer]]), 64, undefined, { maxViews: MAX_VIEWS, maxRememberedIds: MAX_REMEMBERED_IDS, maxChainWeight: 60 });
    await h.views.prepare(payer.id, r.id, r.digest);
    expect(answer(() => h.views.check(payer.id, r.id, r.digest))).toBeUndefined();
    // Two more released: 7 ids and 6 pledges kept, 67.
    for (let k = 3; k < 5; k += 1) pledgeAndRelease(payer, accomplice, `voided${k}`);
    const next = pledge(payer, me, 1n, 'next');
    await h.views.prepare(payer.id, next.id, next.digest);
    expect(answer(() => h.views.check(payer.id, next.id, next.digest))).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_CHAIN,
      message: expect.stringMatching(/weighing more than 60 receipt ids/),
    });
  });

  it('stops: nothing queued is read, and a read going on ends at its next page', async () => {
    const [me, payer, other] = [node(), node(), node()];
    pay(other, payer, 10n, 'unlock');
    for (let i = 0; i < 6; i += 1) pay(payer, other, 1n, `t${i}`);
    const r = unpledged(payer, me, 1n, 'r');
    const h = harness(new Map([[payer.id, payer]]), 2);
    h.onFetch(() => h.views.stop());
    await h.views.prepare(payer.id, r.id, r.digest);
    await h.views.idle();
    h.time.advance(60_000);
    await h.views.prepare(payer.id, r.id, r.digest);
    expect(h.fetches).toHaveLength(1);
    expect(h.views.stats()).toMatchObject({ queued: 0, reads: 1 });
  });

  it('refuses a payer whose chain does not audit, keeping what audited: after a while only what follows is read again', async () => {
    const [me, payer, other] = [node(), node(), node()];
    pay(other, payer, 10n, 'unlock');
    // A RECEIPT_IN of 500 the payer made up: its block re-signed by the payer, the receipt's signatures left as they were.
    const forged = withForgedReceiptIn(payer);
    const r = unpledged(payer, me, 5n, 'r');
    const h = harness(new Map([[payer.id, forged]]), 1);
    await h.views.prepare(payer.id, r.id, r.digest);
    // Not a verdict: a void is not let off for it (void-book.ts), and the payer may retry.
    expect(answer(() => h.views.check(payer.id, r.id, r.digest))).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_CHAIN,
      retryable: true,
      message: expect.stringMatching(/does not audit after block 1.*retry in 300000 ms/),
    });
    expect(h.views.stats()).toMatchObject({ badChains: 1, blocksRead: 2 });
    await h.views.prepare(payer.id, r.id, r.digest);
    expect(h.fetches).toHaveLength(2);
    h.time.advance(BAD_CHAIN_RETRY_MS);
    await h.views.prepare(payer.id, r.id, r.digest);
    expect(h.fetches.map((f) => f.fromSeq)).toEqual([1n, 2n, 2n]);
    expect(h.views.stats()).toMatchObject({ badChains: 2, blocksRead: 3 });
  });

  it('keeps the chain it read when a read fails, and waits before the next; a payer whose chain cannot be read pays nothing', async () => {
    const [me, payer, other] = [node(), node(), node()];
    pay(other, payer, 10n, 'unlock');
    const first = pledge(payer, me, 1n, 'first');
    const h = harness(new Map([[payer.id, payer]]));
    await h.views.prepare(payer.id, first.id, first.digest);
    const next = pledge(payer, me, 1n, 'next');
    h.failWith(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'payer unreachable (test)', true));
    await h.views.prepare(payer.id, next.id, next.digest);
    expect(h.fetches).toHaveLength(2);
    // No hint: the outbox backs off.
    expect(answer(() => h.views.check(payer.id, next.id, next.digest))).toMatchObject({ ...unreadable, retryAfterMs: 0, message: expect.stringMatching(/could not be read/) });
    // Not read again before FAILED_READ_RETRY_MS; the chain read stays (read on from block 4, not 1).
    await h.views.prepare(payer.id, next.id, next.digest);
    expect(h.fetches).toHaveLength(2);
    h.time.advance(FAILED_READ_RETRY_MS);
    h.failWith(undefined);
    await h.views.prepare(payer.id, next.id, next.digest);
    expect(h.fetches.map((f) => f.fromSeq)).toEqual([1n, 4n, 4n]);
    expect(answer(() => h.views.check(payer.id, next.id, next.digest))).toBeUndefined();
    expect(h.views.stats()).toMatchObject({ failedReads: 1, badChains: 0 });
    const stranger = node();
    await h.views.prepare(stranger.id, `x:${stranger.id}:${me.id}`, '00');
    expect(answer(() => h.views.check(stranger.id, `x:${stranger.id}:${me.id}`, '00'))).toMatchObject({
      ...unreadable,
      retryAfterMs: 0,
      message: expect.stringMatching(/could not be read/),
    });
  });
});

describe('payer views - blocks a payer behind NAT offers of its chain', () => {
  const refused = new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'the payer cannot be reached (test)', true);
  /** A payer whose chain this node cannot read (its gateway out of reach), unlocked, with a receipt to `me` pledged and sent. */
  async function behindNat() {
    const [me, payer, other] = [node(), node(), node()];
    pay(other, payer, 40n, 'unlock');
    const h = harness(new Map([[payer.id, payer]]));
    h.failWith(refused);
    const r1 = pledge(payer, me, 5n, 't1');
    await h.views.prepare(payer.id, r1.id, r1.digest);
    expect(answer(() => h.views.check(payer.id, r1.id, r1.digest))).toMatchObject(unreadable);
    return { me, payer, other, h, r1 };
  }

  it('takes them only from a payer whose receipt it could not check, audits those that go on from what it read, and then passes the receipt', async () => {
    const [stranger] = [node()];
    const { me, payer, h, r1 } = await behindNat();
    expect(answer(() => h.views.offer(stranger.id, 1n, stranger.blocks))).toMatchObject({
      code: ErrorCode.ERROR_CODE_PERMISSION_DENIED,
      message: expect.stringMatching(/send the receipt first/),
    });
    // Where to start; a page from elsewhere is not audited, only answered where to start.
    expect(h.views.offer(payer.id, 0n, [])).toBe(1n);
    expect(h.views.offer(payer.id, 3n, payer.blocks.slice(2))).toBe(1n);
    expect(h.views.stats()).toMatchObject({ offeredBlocks: 0 });
    expect(h.views.offer(payer.id, 1n, payer.blocks.slice(0, 2))).toBe(3n);
    expect(answer(() => h.views.check(payer.id, r1.id, r1.digest))).toMatchObject(unreadable);
    expect(h.views.offer(payer.id, 3n, payer.blocks.slice(2))).toBe(payer.head.seq + 1n);
    expect(answer(() => h.views.check(payer.id, r1.id, r1.digest))).toBeUndefined();
    // A page overlapping what was read: only what follows is audited (the next pledge).
    const r2 = pledge(payer, me, 5n, 't2');
    await h.views.prepare(payer.id, r2.id, r2.digest);
    expect(h.views.offer(payer.id, 1n, payer.blocks)).toBe(payer.head.seq + 1n);
    expect(answer(() => h.views.check(payer.id, r2.id, r2.digest))).toBeUndefined();
    expect(h.views.stats()).toMatchObject({ offeredBlocks: Number(payer.head.seq), badChains: 0 });
  });

  it('takes no offer from a payer whose chain it reads itself', async () => {
    const { me, payer, h } = await behindNat();
    // Its gateway back in reach: read to its head, and offers are refused from then on.
    h.failWith(undefined);
    h.time.advance(FAILED_READ_RETRY_MS);
    const r2 = pledge(payer, me, 1n, 't2');
    await h.views.prepare(payer.id, r2.id, r2.digest);
    expect(answer(() => h.views.check(payer.id, r2.id, r2.digest))).toBeUndefined();
    expect(answer(() => h.views.offer(payer.id, 1n, payer.blocks))).toMatchObject({ code: ErrorCode.ERROR_CODE_PERMISSION_DENIED });
    expect(h.views.stats()).toMatchObject({ offeredBlocks: 0 });
  });

  it('gives no not-pledged verdict from offered blocks: an offer made before a receipt was pledged may come after it', async () => {
    const { me, payer, h } = await behindNat();
    const r3 = unpledged(payer, me, 1n, 't3');
    await h.views.prepare(payer.id, r3.id, r3.digest);
    expect(h.views.offer(payer.id, 1n, payer.blocks)).toBe(payer.head.seq + 1n);
    expect(answer(() => h.views.check(payer.id, r3.id, r3.digest))).toMatchObject(unreadable);
    // The same chain read from the payer's gateway, after the receipt came: the verdict.
    h.failWith(undefined);
    h.time.advance(FAILED_READ_RETRY_MS);
    await h.views.prepare(payer.id, r3.id, r3.digest);
    expect(answer(() => h.views.check(payer.id, r3.id, r3.digest))).toMatchObject(notPledged);
  });

  it('refuses offered blocks that do not audit, keeps what audited, and takes no offer from that payer for a while', async () => {
    const { payer, h, r1 } = await behindNat();
    expect(h.views.offer(payer.id, 1n, payer.blocks.slice(0, 1))).toBe(2n);
    const forged = withForgedReceiptIn(payer);
    expect(answer(() => h.views.offer(payer.id, 2n, forged.blocks.slice(1)))).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_CHAIN,
      message: expect.stringMatching(/does not audit after block 1/),
    });
    expect(answer(() => h.views.offer(payer.id, 2n, payer.blocks.slice(1)))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_CHAIN, retryable: true });
    expect(answer(() => h.views.check(payer.id, r1.id, r1.digest))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_CHAIN });
    expect(h.views.stats()).toMatchObject({ badChains: 1 });
    h.time.advance(BAD_CHAIN_RETRY_MS);
    expect(h.views.offer(payer.id, 2n, payer.blocks.slice(1))).toBe(payer.head.seq + 1n);
    expect(answer(() => h.views.check(payer.id, r1.id, r1.digest))).toBeUndefined();
  });

  it('refuses an offer whose block at the head it audited is another one (a fork), and holds the payer off', async () => {
    const { payer, h, r1 } = await behindNat();
    expect(h.views.offer(payer.id, 1n, payer.blocks.slice(0, 2))).toBe(3n);
    // Block 2 re-signed with other content, offered again with what follows.
    const forked = withForgedReceiptIn(payer);
    expect(answer(() => h.views.offer(payer.id, 2n, forked.blocks.slice(1)))).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_CHAIN,
      retryable: false,
      message: expect.stringMatching(/chain forked \(it signed two different blocks 2/),
    });
    expect(h.views.stats()).toMatchObject({ badChains: 1, offeredBlocks: 2, forks: 1 });
    // Both blocks 2 are signed by the payer: a proof, told once.
    expect(h.forks.map((f) => [f.payer, verifyForkProof(f.proof)])).toEqual([[payer.id, { nodeId: payer.id, seq: 2n }]]);
    // Convicted: refused for good, the honest blocks too, past any hold.
    h.time.advance(BAD_CHAIN_RETRY_MS);
    expect(answer(() => h.views.offer(payer.id, 3n, payer.blocks.slice(2)))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_CHAIN, retryable: false });
    expect(answer(() => h.views.check(payer.id, r1.id, r1.digest))).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_CHAIN,
      retryable: false,
      message: expect.stringMatching(/forked/),
    });
    expect(h.views.convictions().map(([p]) => p)).toEqual([payer.id]);
  });

  it('proves a fork when the chain read on no longer goes on from the head it audited: the payer signed a block after it naming another', async () => {
    const [me, payer, other] = [node(), node(), node()];
    pay(other, payer, 40n, 'unlock');
    const before = { head: payer.head, blocks: [...payer.blocks], ids: new Set(payer.ids) };
    const chains = new Map([[payer.id, payer]]);
    const h = harness(chains);
    const r1 = pledge(payer, me, 10n, 't1');
    await h.views.prepare(payer.id, r1.id, r1.digest);
    expect(answer(() => h.views.check(payer.id, r1.id, r1.digest))).toBeUndefined();
    // The payer rewrites history from before its pledge: another block at that seq, and one after it.
    const branch: Node = { ...payer, head: before.head, blocks: before.blocks, ids: before.ids };
    pledge(branch, other, 10n, 'elsewhere');
    const r2 = pledge(branch, me, 5n, 't2');
    chains.set(payer.id, branch);
    await h.views.prepare(payer.id, r2.id, r2.digest);
    expect(answer(() => h.views.check(payer.id, r2.id, r2.digest))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_CHAIN, message: expect.stringMatching(/forked/) });
    expect(h.forks.map((f) => [f.payer, verifyForkProof(f.proof)])).toEqual([[payer.id, { nodeId: payer.id, seq: r1Seq(payer) }]]);
    expect(h.views.stats()).toMatchObject({ forks: 1, badChains: 1 });
    // The page itself is the proof: nothing read back.
    expect(h.fetches.map((f) => f.fromSeq).slice(-1)).toEqual([payer.head.seq + 1n]);
    // Refused for good: past the hold, with no more reads, reports or counts.
    h.time.advance(BAD_CHAIN_RETRY_MS);
    const fetched = h.fetches.length;
    await h.views.prepare(payer.id, r2.id, r2.digest);
    expect(answer(() => h.views.check(payer.id, r2.id, r2.digest))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_CHAIN, retryable: false });
    expect({ fetches: h.fetches.length - fetched, forks: h.forks.length }).toEqual({ fetches: 0, forks: 1 });
    // A restart (convictions kept) and no view of it at all: still refused, its other branch never countersigned.
    const after = harness(chains, 64, undefined, undefined, [], h.views.convictions());
    await after.views.prepare(payer.id, r2.id, r2.digest);
    expect(answer(() => after.views.check(payer.id, r2.id, r2.digest))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_CHAIN, retryable: false });
    expect(after.fetches).toEqual([]);
  });

  it('proves a fork when a page read on starts with another block at the head it audited', async () => {
    const [me, payer, other] = [node(), node(), node()];
    pay(other, payer, 40n, 'unlock');
    const before = { head: payer.head, blocks: [...payer.blocks], ids: new Set(payer.ids) };
    const chains = new Map([[payer.id, payer]]);
    const h = harness(chains);
    const r1 = pledge(payer, me, 10n, 't1');
    await h.views.prepare(payer.id, r1.id, r1.digest);
    const branch: Node = { ...payer, head: before.head, blocks: before.blocks, ids: before.ids };
    pledge(branch, other, 10n, 'elsewhere');
    const r2 = pledge(branch, me, 5n, 't2');
    // Its node answers a read from the head's next seq with a page that starts at the head: its other block there.
    chains.set(payer.id, { ...branch, blocks: [branch.blocks[0], ...branch.blocks] });
    await h.views.prepare(payer.id, r2.id, r2.digest);
    expect(answer(() => h.views.check(payer.id, r2.id, r2.digest))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_CHAIN, retryable: false });
    expect(h.forks.map((f) => verifyForkProof(f.proof).seq)).toEqual([r1Seq(payer)]);
  });

  it('proves a fork from a broken link inside a page read on, not only at its first block', async () => {
    const [me, payer, other] = [node(), node(), node()];
    pay(other, payer, 40n, 'unlock');
    const chains = new Map([[payer.id, payer]]);
    const h = harness(chains);
    const r1 = pledge(payer, me, 10n, 't1');
    await h.views.prepare(payer.id, r1.id, r1.digest);
    // Two blocks after the head: the second re-signed by the payer naming another block before it.
    pledge(payer, other, 1n, 'x');
    const r2 = pledge(payer, me, 1n, 't2');
    const last = payer.blocks.length - 1;
    payer.blocks[last] = resigned(payer.blocks[last], payer.signer, namesNothing);
    await h.views.prepare(payer.id, r2.id, r2.digest);
    expect(answer(() => h.views.check(payer.id, r2.id, r2.digest))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_CHAIN, retryable: false });
    expect(h.forks.map((f) => verifyForkProof(f.proof).seq)).toEqual([BigInt(last)]);
  });

  it('keeps the head of a view it forgot: read again from genesis, the chain must come back through that very block', async () => {
    const [me, payer, other, third] = [node(), node(), node(), node()];
    pay(other, payer, 40n, 'unlock');
    pay(other, third, 40n, 'unlock-third');
    const before = { head: payer.head, blocks: [...payer.blocks], ids: new Set(payer.ids) };
    const chains = new Map([
      [payer.id, payer],
      [third.id, third],
    ]);
    const h = harness(chains, 64, undefined, { maxViews: 1, maxRememberedIds: MAX_REMEMBERED_IDS, maxChainWeight: MAX_REMEMBERED_IDS });
    const r1 = pledge(payer, me, 1_000n, 't1');
    await h.views.prepare(payer.id, r1.id, r1.digest);
    expect(answer(() => h.views.check(payer.id, r1.id, r1.digest))).toBeUndefined();
    // Another payer's read pushes the view out (maxViews 1): its head is kept as an anchor.
    const t = pledge(third, me, 1n, 'third');
    await h.views.prepare(third.id, t.id, t.digest);
    expect(h.views.anchors().map(([p, a]) => [p, a.seq])).toEqual([[payer.id, payer.head.seq]]);
    // The payer shows another branch pledging the same credit again: read from genesis, proven at the anchor.
    const branch: Node = { ...payer, head: before.head, blocks: [...before.blocks], ids: new Set(before.ids) };
    const r2 = pledge(branch, me, 1_000n, 't2');
    chains.set(payer.id, branch);
    await h.views.prepare(payer.id, r2.id, r2.digest);
    expect(answer(() => h.views.check(payer.id, r2.id, r2.digest))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_CHAIN, retryable: false });
    expect(h.forks.map((f) => verifyForkProof(f.proof).seq)).toEqual([r1Seq(payer)]);
  });

  it('passes a chain read again from genesis through its anchor, and waits for one shorter than it', async () => {
    const [me, payer, other, third] = [node(), node(), node(), node()];
    pay(other, payer, 40n, 'unlock');
    pay(other, third, 40n, 'unlock-third');
    const chains = new Map([
      [payer.id, payer],
      [third.id, third],
    ]);
    const h = harness(chains, 64, undefined, { maxViews: 1, maxRememberedIds: MAX_REMEMBERED_IDS, maxChainWeight: MAX_REMEMBERED_IDS });
    const r1 = pledge(payer, me, 10n, 't1');
    await h.views.prepare(payer.id, r1.id, r1.digest);
    const t = pledge(third, me, 1n, 'third');
    await h.views.prepare(third.id, t.id, t.digest);
    // A node that now reports a chain shorter than the anchor: held off, nothing countersigned.
    const short: Node = { ...payer, blocks: payer.blocks.slice(0, 2), head: payer.head };
    chains.set(payer.id, { ...short, head: { ...payer.head, seq: 2n } });
    const early = unpledged(payer, me, 1n, 'early');
    await h.views.prepare(payer.id, early.id, early.digest);
    expect(answer(() => h.views.check(payer.id, early.id, early.digest))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_CHAIN, retryable: true });
    // The chain itself, read again from genesis: through its anchor, on to a new pledge, which passes.
    chains.set(payer.id, payer);
    h.time.advance(BAD_CHAIN_RETRY_MS);
    const r2 = pledge(payer, me, 5n, 't2');
    await h.views.prepare(payer.id, r2.id, r2.digest);
    expect(answer(() => h.views.check(payer.id, r2.id, r2.digest))).toBeUndefined();
    expect(h.views.anchors().map(([p]) => p)).not.toContain(payer.id);
    expect(h.forks).toEqual([]);
  });

  it('proves nothing when the block after the head is not signed by the payer', async () => {
    const [me, payer, other] = [node(), node(), node()];
    pay(other, payer, 40n, 'unlock');
    const h = harness(new Map([[payer.id, payer]]));
    const r1 = pledge(payer, me, 10n, 't1');
    await h.views.prepare(payer.id, r1.id, r1.digest);
    const r2 = pledge(payer, me, 5n, 't2');
    // Its next block with a prev_hash naming nothing, signed by another key (a relay's junk, or a framing).
    const last = payer.blocks.length - 1;
    payer.blocks[last] = resigned(payer.blocks[last], other.signer, namesNothing);
    await h.views.prepare(payer.id, r2.id, r2.digest);
    expect(answer(() => h.views.check(payer.id, r2.id, r2.digest))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_CHAIN, message: expect.stringMatching(/does not audit/) });
    expect(h.forks).toEqual([]);
    expect(h.views.stats()).toMatchObject({ forks: 0, badChains: 1 });
  });

  it('convicts a payer whose offer goes on from the head it audited with a block naming another before it', async () => {
    const { payer, h } = await behindNat();
    expect(h.views.offer(payer.id, 1n, payer.blocks.slice(0, 2))).toBe(3n);
    // Block 3 re-signed by the payer with a prev_hash that is not block 2's.
    const broken = resigned(payer.blocks[2], payer.signer, namesNothing);
    expect(answer(() => h.views.offer(payer.id, 3n, [broken]))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_CHAIN, retryable: false });
    expect(h.forks.map((f) => verifyForkProof(f.proof))).toEqual([{ nodeId: payer.id, seq: 2n }]);
  });

  it('audits offers from the budget reads take theirs from: past it, an offer is told when to retry', async () => {
    const [me, payer, other] = [node(), node(), node()];
    pay(other, payer, 40n, 'unlock');
    for (let i = 0; i < 40; i += 1) pay(payer, other, 1n, `t${i}`);
    // 3.2 ms of audit a second: one offer of 32 blocks (at MIN_MS_PER_BLOCK each) a second.
    const h = harness(new Map([[payer.id, payer]]), 32, { msPerSecond: 3.2, burstMs: 3.2 });
    h.failWith(refused);
    const r = pledge(payer, me, 1n, 'mine');
    await h.views.prepare(payer.id, r.id, r.digest);
    expect(h.views.offer(payer.id, 1n, payer.blocks.slice(0, 32))).toBe(33n);
    expect(answer(() => h.views.offer(payer.id, 33n, payer.blocks.slice(32)))).toMatchObject({ ...notYet, retryAfterMs: expect.any(Number) });
    h.time.advance(1_000);
    expect(h.views.offer(payer.id, 33n, payer.blocks.slice(32))).toBe(payer.head.seq + 1n);
    expect(answer(() => h.views.check(payer.id, r.id, r.digest))).toBeUndefined();
  });

  it('audits no offer ahead of payers waiting their turn: it is told to retry as they are', async () => {
    const [me, other] = [node(), node()];
    const [long1, long2] = [spender(other, 68), spender(other, 68)];
    const nat = spender(other, 2);
    const h = harness(new Map([long1, long2].map((n) => [n.id, n])), 32, { msPerSecond: 3.2, burstMs: 3.2 });
    const [a1, a2, r] = [unpledged(long1, me, 1n, 'x'), unpledged(long2, me, 1n, 'x'), pledge(nat, me, 1n, 'mine')];
    // nat's gateway is out of reach (no chain to fetch); the long chains spend the budget, one waits its turn.
    await h.views.prepare(nat.id, r.id, r.digest);
    await h.views.prepare(long1.id, a1.id, a1.digest);
    await h.views.prepare(long2.id, a2.id, a2.digest);
    expect(h.views.stats().queued).toBeGreaterThan(0);
    expect(answer(() => h.views.offer(nat.id, 1n, nat.blocks))).toMatchObject({
      ...notYet,
      retryAfterMs: QUEUED_RETRY_MS,
      message: expect.stringMatching(/in turn \(\d+ waiting\)/),
    });
    expect(h.views.stats()).toMatchObject({ offeredBlocks: 0 });
  });

  it('reads on from where an offer left the chain when the offer came while a page was on its way', async () => {
    const [me, payer, other] = [node(), node(), node()];
    pay(other, payer, 40n, 'unlock');
    for (let i = 0; i < 6; i += 1) pay(payer, other, 1n, `t${i}`);
    const r = pledge(payer, me, 1n, 'mine');
    const h = harness(new Map([[payer.id, payer]]), 4);
    // A first receipt's read fails: the payer's offers are taken from then on.
    h.failWith(refused);
    await h.views.prepare(payer.id, r.id, r.digest);
    h.failWith(undefined);
    h.time.advance(FAILED_READ_RETRY_MS);
    // The next read's first page (blocks 1-4) is held on its way while the payer offers blocks 1-6.
    let arrived: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (arrived = resolve));
    h.onFetch(() => (h.fetches.length === 2 ? held : undefined));
    const reading = h.views.prepare(payer.id, r.id, r.digest);
    expect(h.views.offer(payer.id, 1n, payer.blocks.slice(0, 6))).toBe(7n);
    arrived();
    await reading;
    await h.views.idle();
    expect(h.fetches.map((f) => f.fromSeq)).toEqual([1n, 1n, 7n]);
    expect(h.views.stats()).toMatchObject({ badChains: 0, offeredBlocks: 6 });
    expect(answer(() => h.views.check(payer.id, r.id, r.digest))).toBeUndefined();
  });
});

describe('payer views - kept across a restart', () => {
  it('takes back the chains audited before (through the file): a pledge read before passes with no read, a new one is read on from the head', async () => {
    const [me, payer, other] = [node(), node(), node()];
    pay(other, payer, 40n, 'unlock');
    const before = harness(new Map([[payer.id, payer]]));
    const r1 = pledge(payer, me, 10n, 't1');
    await before.views.prepare(payer.id, r1.id, r1.digest);
    const readBefore = before.views.stats().blocksRead;
    expect(readBefore).toBe(Number(payer.head.seq));
    const file = encodePayerViews(me.id, rules, before.views.kept());

    const { views: kept, dropped } = decodePayerViews(me.id, rules, file);
    expect(dropped).toBe(0);
    const after = harness(new Map([[payer.id, payer]]), 64, undefined, undefined, kept);
    expect(after.views.stats()).toMatchObject({ views: 1, restored: 1, blocksRead: 0 });
    // Pledged in what was audited before the restart: no read at all.
    await after.views.prepare(payer.id, r1.id, r1.digest);
    expect(answer(() => after.views.check(payer.id, r1.id, r1.digest))).toBeUndefined();
    expect(after.fetches).toEqual([]);
    // A receipt pledged since: read on from the kept head, not from genesis.
    const r2 = pledge(payer, me, 5n, 't2');
    await after.views.prepare(payer.id, r2.id, r2.digest);
    expect(answer(() => after.views.check(payer.id, r2.id, r2.digest))).toBeUndefined();
    expect(after.fetches.map((f) => f.fromSeq)).toEqual([BigInt(readBefore) + 1n]);
    expect(after.views.stats().blocksRead).toBe(1);
    // Receipt ids audited before still count: the same id pledged again does not audit.
    const again = { ...payer, blocks: [...payer.blocks], ids: new Set<string>() };
    pledge(again, me, 1n, 't1');
    const replayed = harness(new Map([[payer.id, again]]), 64, undefined, undefined, decodePayerViews(me.id, rules, encodePayerViews(me.id, rules, after.views.kept())).views);
    const r3 = pledge(again, me, 1n, 't3');
    await replayed.views.prepare(payer.id, r3.id, r3.digest);
    expect(answer(() => replayed.views.check(payer.id, r3.id, r3.digest))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_CHAIN });
  });

  it('keeps within its limits what it takes back, and a view whose head is not its payer’s not at all', () => {
    const [a, b, other] = [node(), node(), node()];
    pay(other, a, 40n, 'unlock-a');
    pay(other, b, 40n, 'unlock-b');
    const before = harness(
      new Map([
        [a.id, a],
        [b.id, b],
      ]),
    );
    const kept = [a, b].map((n) => ({ payer: n.id, head: n.head, headBlock: n.blocks[n.blocks.length - 1], ids: new ReceiptIdSet(), pledges: new Map(), checkpoints: new Map() }));
    const one = harness(new Map(), 64, undefined, { maxViews: 1, maxRememberedIds: MAX_REMEMBERED_IDS, maxChainWeight: MAX_REMEMBERED_IDS }, kept);
    // The least recently used (first kept) is forgotten past maxViews, and not counted as taken back.
    expect(one.views.kept().map((v) => v.payer)).toEqual([b.id]);
    expect(one.views.stats()).toMatchObject({ views: 1, restored: 1 });
    const swapped = harness(new Map(), 64, undefined, undefined, [{ ...kept[0], payer: b.id }]);
    expect(swapped.views.stats()).toMatchObject({ views: 0, restored: 0 });
    expect(before.views.kept()).toEqual([]);
  });

  it('binds a payer to a block it published a sighting of above the view its file kept (killed between two writes): another branch above the kept view is proven a fork (helper-164)', async () => {
    const [me, payer, other] = [node(), node(), node()];
    pay(other, payer, 40n, 'unlock');
    const chains = new Map([[payer.id, payer]]);
    const before = harness(chains);
    const r1 = pledge(payer, me, 10n, 't1');
    await before.views.prepare(payer.id, r1.id, r1.digest);
    // The views file's last write: the view up to r1.
    const file = encodePayerViews(me.id, rules, before.views.kept());
    const atFile = { head: payer.head, blocks: [...payer.blocks], ids: new Set(payer.ids) };
    // Then r2 read and countersigned, its head's sighting published (in the journal); killed before the next write.
    const r2 = pledge(payer, me, 30n, 't2');
    await before.views.prepare(payer.id, r2.id, r2.digest);
    expect(answer(() => before.views.check(payer.id, r2.id, r2.digest))).toBeUndefined();
    const journaled = { seq: payer.head.seq, block: payer.blocks[payer.blocks.length - 1] };
    // The start: the file's view, then the journal's live record adopted.
    const branch: Node = { ...payer, head: atFile.head, blocks: [...atFile.blocks], ids: new Set(atFile.ids) };
    chains.set(payer.id, branch);
    const after = harness(chains, 64, undefined, undefined, decodePayerViews(me.id, rules, file).views);
    expect(after.views.adoptAnchor(payer.id, journaled)).toBe(true);
    // The payer shows another branch above the kept view, spending r2's credit again.
    const r3 = pledge(branch, me, 30n, 't3');
    expect(branch.head.seq).toBe(journaled.seq);
    await after.views.prepare(payer.id, r3.id, r3.digest);
    expect(answer(() => after.views.check(payer.id, r3.id, r3.digest))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_CHAIN });
    expect(after.forks.map((f) => f.payer)).toEqual([payer.id]);
  });

  it('adopts as an anchor a block it published a sighting of only above what it keeps of that payer (its view, its anchor), and only that payer’s block of that seq', async () => {
    const [fresh, viewed, other] = [node(), node(), node()];
    for (const n of [fresh, viewed]) pay(other, n, 40n, `unlock-${n.id}`);
    const h = harness(new Map([[viewed.id, viewed]]));
    await h.views.readOn(viewed.id);
    await h.views.idle();
    const anchorOf = (n: Node) => ({ seq: n.head.seq, block: n.blocks[n.blocks.length - 1] });
    expect(h.views.adoptAnchor(viewed.id, anchorOf(viewed))).toBe(false);
    expect(h.views.adoptAnchor(fresh.id, anchorOf(viewed))).toBe(false);
    expect(h.views.adoptAnchor(fresh.id, { ...anchorOf(fresh), seq: fresh.head.seq + 1n })).toBe(false);
    expect(h.views.adoptAnchor(fresh.id, anchorOf(fresh))).toBe(true);
    expect(h.views.anchorOf(fresh.id)).toEqual(anchorOf(fresh));
    // Once kept, not taken again over what is kept.
    expect(h.views.adoptAnchor(fresh.id, { seq: 1n, block: fresh.blocks[0] })).toBe(false);
    expect(h.views.anchorOf(fresh.id)?.seq).toBe(fresh.head.seq);
  });
});

/** The seq of `payer`'s first pledge (the block after its genesis and the receipt that unlocked it). */
function r1Seq(payer: Node): bigint {
  return ChainBlock.decode(SignedBlock.decode(payer.blocks[2]).block).seq;
}
