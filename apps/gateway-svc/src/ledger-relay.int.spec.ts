import { setTimeout as sleep } from 'node:timers/promises';
import { countersignReceipt, DEFAULT_CHAIN_RULES, patientPages, receiptSigningBytes, verifyChain, verifyReceipt } from '@swarm/chain';
import type { SignedReceipt, SwarmError } from '@swarm/contracts';
import { CHAIN_OFFER_MAX_BLOCKS, ErrorCode, GatewayDeliverReceipts, GatewayFetchChain, GatewayOfferChain, GatewayPeers, Receipt, RECEIPTS_PER_DELIVERY } from '@swarm/contracts';
import { systemClock } from '@swarm/determinism';
import { dialPeer, parseHostPort } from '@swarm/gateway';
import type { NodeIdentity } from '@swarm/identity';
import { loadOrCreateNodeCertificate } from '@swarm/identity';
import { createServeTickets } from '@swarm/records';
import type { TempDir } from '@swarm/testing';
import { swarmErrorOf } from '@swarm/testing';
import type { LedgerPair, Node } from './test-fixtures/ledger-nodes';
import { CHAIN_PAGE_BYTE_LIMITS } from './chain-relay';
import { BIG_PAGE_BLOCK_BYTES, countersignedOf, receiptOf, REQUEST_TIMEOUT_MS, startLedgerPair } from './test-fixtures/ledger-nodes';

describe('gateway-svc - receipts and chain pages between two nodes', () => {
  let pair: LedgerPair;
  let a: Node;
  let b: Node;
  let strangerDir: TempDir;
  let stranger: NodeIdentity;
  let registryA: LedgerPair['registryA'];
  let creditB: LedgerPair['creditB'];

  beforeAll(async () => {
    pair = await startLedgerPair();
    ({ a, b, strangerDir, stranger, registryA, creditB } = pair);
  });
  afterEach(() => {
    creditB.state.mode = 'honest';
  });
  afterAll(() => pair?.stop());

  const deliverAll = async (peerNodeId: string, receipts: SignedReceipt[]) =>
    (await a.bus.request(GatewayDeliverReceipts, { peerNodeId, receipts }, { timeoutMs: REQUEST_TIMEOUT_MS })).outcomes;
  /** One receipt in its own call: its countersigned receipt, or its outcome's error thrown. */
  const deliver = async (peerNodeId: string, receipt: SignedReceipt) => {
    const outcomes = await deliverAll(peerNodeId, [receipt]);
    expect(outcomes).toHaveLength(1);
    return countersignedOf(outcomes[0]);
  };
  const fetchChain = (peerNodeId: string, fromSeq: bigint, limit: number) => a.bus.request(GatewayFetchChain, { peerNodeId, fromSeq, limit }, { timeoutMs: REQUEST_TIMEOUT_MS });

  it("delivers A's receipt to B and hands back B's countersignature; a retry gets the same answer and appends nothing", async () => {
    const sent = receiptOf(a.identity, b.identity, 'task-1');
    const receipt = await deliver(b.nodeId, sent);
    expect(verifyReceipt(receipt, { expectedPayer: a.nodeId, expectedPayee: b.nodeId })).toMatchObject({ amount: 40n, taskId: 'task-1' });
    expect(Buffer.from(receipt.receipt)).toEqual(Buffer.from(sent.receipt));
    // B's ledger was told who sent it: the node A's gateway proved to be with its TLS key.
    expect(creditB.accepted.map((r) => r.fromNodeId)).toEqual([a.nodeId]);
    expect(registryA.asked).toEqual([b.nodeId]);
    expect(creditB.blocks).toHaveLength(2);

    const again = await deliver(b.nodeId, sent);
    expect(again.payeeSignature).toEqual(receipt.payeeSignature);
    expect(creditB.blocks).toHaveLength(2);
    // B answered, so A's gateway now knows where it is: no second registry lookup.
    expect(registryA.asked).toEqual([b.nodeId]);
    const peers = await a.bus.request(GatewayPeers, {}, { timeoutMs: REQUEST_TIMEOUT_MS });
    expect(peers.peers.map((p) => [p.nodeId, p.address])).toEqual([[b.nodeId, b.gateway.advertisedAddress]]);
  });

  it('refuses before any network call a receipt A did not sign as payer, or for another payee, or malformed requests', async () => {
    const asked = registryA.asked.length;
    const seen = creditB.accepted.length;
    const cases: [string, SignedReceipt[], ErrorCode, RegExp][] = [
      // Each receipt's own refusal, as its outcome.
      [stranger.nodeId, [receiptOf(stranger, b.identity, 'task-not-ours')], ErrorCode.ERROR_CODE_INVALID_RECEIPT, /unexpected-party/],
      [stranger.nodeId, [receiptOf(a.identity, b.identity, 'task-other-payee')], ErrorCode.ERROR_CODE_INVALID_RECEIPT, /unexpected-party/],
      [
        stranger.nodeId,
        [{ ...receiptOf(a.identity, stranger, 'task-forged'), payerSignature: stranger.sign(new Uint8Array(1)) }],
        ErrorCode.ERROR_CODE_INVALID_RECEIPT,
        /bad-signature/,
      ],
      [stranger.nodeId, [countersignReceipt(receiptOf(a.identity, stranger, 'task-done'), stranger)], ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /already countersigned/],
      [
        stranger.nodeId,
        [{ receipt: new Uint8Array(8_300), payerSignature: new Uint8Array(64), payeeSignature: new Uint8Array(0) }],
        ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE,
        /at most/,
      ],
      // The call's: its payee, its size.
      ['B'.repeat(64), [receiptOf(a.identity, stranger, 'task-bad-id')], ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /64 lowercase hex/],
      [a.nodeId, [receiptOf(a.identity, stranger, 'task-self')], ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /is this node/],
      [stranger.nodeId, [], ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /1 to 64 receipts, got 0/],
      [
        stranger.nodeId,
        Array.from({ length: RECEIPTS_PER_DELIVERY + 1 }, (_, i) => receiptOf(a.identity, stranger, `task-many-${i}`)),
        ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
        /1 to 64 receipts, got 65/,
      ],
    ];
    for (const [peer, receipts, code, message] of cases) {
      const err = receipts.length === 1 ? await swarmErrorOf(deliver(peer, receipts[0])) : await swarmErrorOf(deliverAll(peer, receipts));
      expect({ code: err.code, message: err.message }).toEqual({ code, message: expect.stringMatching(message) });
      expect(err.message.length).toBeLessThan(300);
    }
    expect(registryA.asked.length).toBe(asked);
    expect(creditB.accepted.length).toBe(seen);
  });

  it('delivers a batch of 64 to one payee, each receipt with its own outcome: one refused before sending, the others countersigned', async () => {
    const seen = creditB.accepted.length;
    const receipts = Array.from({ length: RECEIPTS_PER_DELIVERY }, (_, i) => receiptOf(a.identity, b.identity, `task-batch-${i}`, BigInt(i + 1)));
    // A receipt A did not sign, in the middle: refused here, never sent; the others go.
    receipts[5] = receiptOf(stranger, b.identity, 'task-batch-stranger');
    const blocks = creditB.blocks.length;
    const outcomes = await deliverAll(b.nodeId, receipts);
    expect(outcomes).toHaveLength(RECEIPTS_PER_DELIVERY);
    // On a starved machine B's ledger can miss the call's budget for some of them ("this node's
    // ledger did not answer within … ms", UNAVAILABLE): those alone are delivered again, as the
    // payer's outbox does; each is appended once.
    for (let round = 0; round < 3; round++) {
      const again = outcomes.flatMap((o, i) => (o.error?.code === ErrorCode.ERROR_CODE_UNAVAILABLE && /ledger did not answer within \d+ ms/.test(o.error.message) ? [i] : []));
      if (again.length === 0) break;
      const retried = await deliverAll(
        b.nodeId,
        again.map((i) => receipts[i]),
      );
      again.forEach((i, at) => (outcomes[i] = retried[at]));
    }
    expect(outcomes[5]?.error).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_RECEIPT, message: expect.stringMatching(/unexpected-party/) });
    expect(outcomes[5]?.receipt).toBeUndefined();
    outcomes.forEach((o, i) => {
      if (i === 5) return;
      const back = countersignedOf(o);
      expect(Buffer.from(back.receipt)).toEqual(Buffer.from(receipts[i].receipt));
      expect(verifyReceipt(back, { expectedPayer: a.nodeId, expectedPayee: b.nodeId }).amount).toBe(BigInt(i + 1));
    });
    const acceptedIds = new Set(creditB.accepted.slice(seen).map((req) => Buffer.from((req.receipt as SignedReceipt).receipt).toString('hex')));
    expect(acceptedIds.size).toBe(RECEIPTS_PER_DELIVERY - 1);
    expect(creditB.blocks.length - blocks).toBe(RECEIPTS_PER_DELIVERY - 1);
  });

  it('B countersigns only receipts for tasks it served A: one without the serve ticket B gave A for that task is refused and changes nothing', async () => {
    const seen = creditB.accepted.length;
    const blocks = creditB.blocks.length;
    const ticketsOfB = createServeTickets(b.identity);
    const noTicket = (() => {
      const r = Receipt.decode(receiptOf(a.identity, b.identity, 'task-no-ticket').receipt);
      r.serveTicket = new Uint8Array(0);
      const bytes = Receipt.encode(r).finish();
      return { receipt: bytes, payerSignature: a.identity.sign(receiptSigningBytes(bytes)), payeeSignature: new Uint8Array(0) };
    })();
    const refused: Array<[string, SignedReceipt]> = [
      ["another task's ticket", receiptOf(a.identity, b.identity, 'task-never-served', 40n, ticketsOfB.mint(a.nodeId, 'task-served', 40n))],
      ["the stranger's ticket for this task", receiptOf(a.identity, b.identity, 'task-for-stranger', 40n, ticketsOfB.mint(stranger.nodeId, 'task-for-stranger', 40n))],
      ['a ticket A made with its own key', receiptOf(a.identity, b.identity, 'task-self-made', 40n, createServeTickets(a.identity).mint(a.nodeId, 'task-self-made', 40n))],
      ['no ticket', noTicket],
    ];
    const outcomes = await deliverAll(
      b.nodeId,
      refused.map(([, r]) => r),
    );
    outcomes.forEach((o, i) => {
      expect([refused[i][0], o.receipt]).toEqual([refused[i][0], undefined]);
      expect(o.error).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_RECEIPT, retryable: false, message: expect.stringMatching(/served you no such task/) });
    });
    expect(creditB.accepted.length).toBe(seen);
    expect(creditB.blocks.length).toBe(blocks);
    // The task B did serve A, with its ticket, goes through.
    expect(verifyReceipt(await deliver(b.nodeId, receiptOf(a.identity, b.identity, 'task-served')), { expectedPayee: b.nodeId }).taskId).toBe('task-served');
  });

  it('B countersigns no receipt that pays more than its serve ticket allows for the work done: credit A does not hold is not made there', async () => {
    const seen = creditB.accepted.length;
    const ticket = createServeTickets(b.identity).mint(a.nodeId, 'task-worth-40', 40n);
    const [over] = await deliverAll(b.nodeId, [receiptOf(a.identity, b.identity, 'task-worth-40', 10n ** 15n, ticket)]);
    expect(over.receipt).toBeUndefined();
    expect(over.error).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_RECEIPT,
      retryable: false,
      message: expect.stringMatching(/pays 1000000000000000 credits .* more than the 40 its serve ticket allows/),
    });
    expect(creditB.accepted.length).toBe(seen);
    // Up to the cap it is paid.
    expect(verifyReceipt(await deliver(b.nodeId, receiptOf(a.identity, b.identity, 'task-worth-40', 40n, ticket)), { expectedPayee: b.nodeId }).amount).toBe(40n);
  });

  it('answers UNAVAILABLE, retryable, for a payee whose address nobody knows', async () => {
    const err = await swarmErrorOf(deliver(stranger.nodeId, receiptOf(a.identity, stranger, 'task-lost')));
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, retryable: true, message: expect.stringMatching(/no address known for peer/) });
    expect(registryA.asked.at(-1)).toBe(stranger.nodeId);
  });

  it('refuses an answer that is not the receipt countersigned by the payee, and hands none of it on', async () => {
    for (const mode of ['forged-countersignature', 'not-countersigned'] as const) {
      creditB.state.mode = mode;
      const err = await swarmErrorOf(deliver(b.nodeId, receiptOf(a.identity, b.identity, `task-${mode}`)));
      expect({ mode, code: err.code, retryable: err.retryable }).toEqual({ mode, code: ErrorCode.ERROR_CODE_INVALID_RECEIPT, retryable: false });
      expect(err.message).toMatch(new RegExp(`payee ${b.nodeId.slice(0, 12)}… answered a receipt that does not hold: .*(bad-signature|not-countersigned)`));
    }
  });

  it("B's gateway passes its authenticated caller as from_node_id, and refuses a caller that is not the payer", async () => {
    const certificate = await loadOrCreateNodeCertificate(strangerDir.path, systemClock);
    expect(certificate.nodeId).toBe(stranger.nodeId);
    const address = parseHostPort(b.gateway.advertisedAddress);
    if (!address) throw new Error(`bad address ${b.gateway.advertisedAddress}`);
    const client = dialPeer({ certificate, peer: { nodeId: b.nodeId, address }, clock: systemClock });
    try {
      const seen = creditB.accepted.length;
      // A's receipt, sent by someone else: refused at B's door.
      const huge = { receipt: new Uint8Array(100_000), payerSignature: new Uint8Array(64), payeeSignature: new Uint8Array(0) };
      const refused = await client.call('deliverReceipts', { receipts: [receiptOf(a.identity, b.identity, 'task-relayed'), huge] });
      expect(refused.outcomes.map((o) => o.receipt)).toEqual([undefined, undefined]);
      expect(refused.outcomes[0]?.error).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_RECEIPT, message: expect.stringMatching(/unexpected-party/) });
      expect(refused.outcomes[1]?.error).toMatchObject({ code: ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE });
      await expect(client.call('deliverReceipts', { receipts: [] })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
      expect(creditB.accepted.length).toBe(seen);

      // A bad receipt does not fail the good one beside it.
      const mixed = await client.call('deliverReceipts', { receipts: [receiptOf(a.identity, b.identity, 'task-relayed-2'), receiptOf(stranger, b.identity, 'task-direct', 7n)] });
      expect(mixed.outcomes[0]?.error).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_RECEIPT });
      const receipt = countersignedOf(mixed.outcomes[1]);
      expect(verifyReceipt(receipt, { expectedPayer: stranger.nodeId, expectedPayee: b.nodeId }).amount).toBe(7n);
      expect(creditB.accepted.at(-1)?.fromNodeId).toBe(stranger.nodeId);
      expect(creditB.accepted.length).toBe(seen + 1);

      // Chain pages: the limit clamped to 1..1,000 before credit-svc sees it, the answer as it gave it.
      const page = await client.call('chainBlocks', { fromSeq: 2n, limit: 0 });
      expect(creditB.pages.at(-1)).toEqual({ fromSeq: 2n, limit: 1_000 });
      expect(page).toEqual({ blocks: creditB.blocks.slice(1), headSeq: BigInt(creditB.blocks.length), nodeId: b.nodeId });
      await client.call('chainBlocks', { fromSeq: 1n, limit: 1_000_000 });
      expect(creditB.pages.at(-1)?.limit).toBe(1_000);
    } finally {
      client.close();
    }
  });

  it("fetches a page of B's chain through both gateways, and refuses a page of another node's chain", async () => {
    const page = await fetchChain(b.nodeId, 1n, 0);
    expect(page.nodeId).toBe(b.nodeId);
    expect(page.headSeq).toBe(BigInt(creditB.blocks.length));
    // The page is B's real chain: it audits, with the receipts B countersigned in it.
    const audit = verifyChain(page.blocks, DEFAULT_CHAIN_RULES);
    expect(audit.head.seq).toBe(page.headSeq);
    expect(audit.entries.filter((e) => e.receipt !== undefined).length).toBeGreaterThanOrEqual(2);
    expect(creditB.pages.at(-1)).toEqual({ fromSeq: 1n, limit: 1_000 });

    const one = await fetchChain(b.nodeId, 2n, 1);
    expect(one.blocks).toEqual([creditB.blocks[1]]);

    creditB.state.mode = 'other-chain';
    const err = await swarmErrorOf(fetchChain(b.nodeId, 1n, 10));
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_CHAIN, message: expect.stringMatching(/wrong-node.*not its own/) });
    await expect(fetchChain('x', 1n, 10)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
  });

  it("carries A's offer of its own chain to B's ledger as A's, and B's answer back; a peer's offer of too many blocks is refused on the wire", async () => {
    const blocks = [Uint8Array.of(1), Uint8Array.of(2)];
    const answer = await a.bus.request(GatewayOfferChain, { peerNodeId: b.nodeId, offer: { fromSeq: 5n, blocks } }, { timeoutMs: REQUEST_TIMEOUT_MS });
    expect(answer).toEqual({ wantedFromSeq: 7n });
    expect(creditB.offers.at(-1)).toEqual({ offer: { fromSeq: 5n, blocks }, fromNodeId: a.nodeId });
    const seen = creditB.offers.length;
    const certificate = await loadOrCreateNodeCertificate(strangerDir.path, systemClock);
    const address = parseHostPort(b.gateway.advertisedAddress);
    if (!address) throw new Error(`bad address ${b.gateway.advertisedAddress}`);
    const client = dialPeer({ certificate, peer: { nodeId: b.nodeId, address }, clock: systemClock });
    try {
      await expect(client.call('offerChain', { fromSeq: 1n, blocks: Array.from({ length: CHAIN_OFFER_MAX_BLOCKS + 1 }, () => Uint8Array.of(1)) })).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      });
      // The stranger's own offer reaches B's ledger as the stranger's, whatever it claims.
      await client.call('offerChain', { fromSeq: 1n, blocks: [] });
      expect(creditB.offers.slice(seen).map((o) => o.fromNodeId)).toEqual([stranger.nodeId]);
    } finally {
      client.close();
    }
  });

  it("finds the payee at its record's address when the one in the peer book went stale", async () => {
    const before = b.gateway.advertisedAddress;
    await b.restartGateway();
    expect(b.gateway.advertisedAddress).not.toBe(before);
    registryA.addresses.set(b.nodeId, b.gateway.advertisedAddress);
    const receipt = await deliver(b.nodeId, receiptOf(a.identity, b.identity, 'task-moved'));
    expect(verifyReceipt(receipt, { expectedPayer: a.nodeId, expectedPayee: b.nodeId }).taskId).toBe('task-moved');
    const peers = await a.bus.request(GatewayPeers, {}, { timeoutMs: REQUEST_TIMEOUT_MS });
    expect(peers.peers.map((p) => p.address)).toEqual([b.gateway.advertisedAddress]);
    expect(registryA.asked.at(-1)).toBe(b.nodeId);
  });

  // It leaves A owing B's budget about a second, and comes before B's ledger is stopped.
  it("sends A's gateway B's pages within A's budget of bytes, then OVERLOADED with when to retry through both gateways, which an auditor waits out", async () => {
    creditB.state.mode = 'big-pages';
    const pageBytes = 1_000 * BIG_PAGE_BLOCK_BYTES;
    const { burst, perSecond } = CHAIN_PAGE_BYTE_LIMITS.perPeer;
    const asked = creditB.pages.length;
    const started = performance.now();
    let refused: SwarmError | undefined;
    let sent = 0;
    // The burst and what refills meanwhile, then a refusal: bounded at twice the burst's pages.
    while (refused === undefined && sent < (2 * burst) / pageBytes) {
      const page = await fetchChain(b.nodeId, 1n, 1_000).catch((err: SwarmError) => err);
      if (page instanceof Error) refused = page;
      else {
        expect(page.blocks).toHaveLength(1_000);
        sent += 1;
      }
    }
    const refilled = ((performance.now() - started) * perSecond) / 1000;
    expect(sent).toBeGreaterThanOrEqual(Math.floor(burst / pageBytes));
    expect(sent).toBeLessThanOrEqual(Math.ceil((burst + refilled) / pageBytes));
    expect(refused).toMatchObject({ code: ErrorCode.ERROR_CODE_OVERLOADED, retryable: true, message: expect.stringMatching(/^peer \w+… at \S+ answered SWARM_OVERLOADED/) });
    // A owes at most a page: at 1 MiB a second, about a second.
    expect(refused?.retryAfterMs).toBeGreaterThan(0);
    expect(refused?.retryAfterMs).toBeLessThanOrEqual(Math.ceil(((pageBytes + 1) * 1000) / perSecond));
    // Refused before B's ledger was asked.
    expect(creditB.pages.length - asked).toBe(sent);
    const waits: number[] = [];
    const patient = patientPages((from, limit) => fetchChain(b.nodeId, from, limit), { sleep: (ms) => sleep(ms), onWait: (ms) => waits.push(ms) });
    // Each page spends about a second of A's budget: on a loaded machine the one owed may have come
    // back before the first call, never before a few more.
    for (let pages = 0; pages < 3 && waits.length === 0; pages++) await expect(patient(1n, 1_000)).resolves.toMatchObject({ nodeId: b.nodeId });
    expect(waits.length).toBeGreaterThanOrEqual(1);
  });

  it("answers UNAVAILABLE, retryable, when the payee's ledger is not running", async () => {
    await creditB.stop();
    const err = await swarmErrorOf(deliver(b.nodeId, receiptOf(a.identity, b.identity, 'task-no-ledger')));
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, retryable: true, message: expect.stringMatching(/ledger did not answer/) });
  });
});
