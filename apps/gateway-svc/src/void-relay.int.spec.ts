/**
 * Voids of receipts between two real gateway-svcs (void-relay.ts): A's bus asks GatewayVoidReceipts,
 * A's gateway calls B's PeerService.VoidReceipts over mutual TLS, B's gateway asks B's ledger (a
 * stand-in credit-svc on B's bus) CreditAcceptVoid. A stand-in payee gateway (the stranger's key)
 * answers what B's own gateway never would, for the checks A's gateway makes of every answer.
 */
import { countersignVoid, makeVoid, verifyReceipt, verifyVoid } from '@swarm/chain';
import { fromWire } from '@swarm/bus';
import type { SignedReceipt, SignedVoid, SwarmErrorMessage, VoidOutcome } from '@swarm/contracts';
import { ErrorCode, GatewayDeliverReceipts, GatewayVoidReceipts, RECEIPTS_PER_DELIVERY } from '@swarm/contracts';
import { systemClock, systemTime } from '@swarm/determinism';
import type { GatewayServer, PeerClient } from '@swarm/gateway';
import { dialPeer, formatHostPort, parseHostPort, shortId, startGatewayServer } from '@swarm/gateway';
import type { NodeCertificate, NodeIdentity } from '@swarm/identity';
import { loadOrCreateNodeCertificate } from '@swarm/identity';
import { createServeTickets } from '@swarm/records';
import { silentLogger } from '@swarm/telemetry';
import { swarmErrorOf } from '@swarm/testing';
import { loadGatewayConfig } from './config';
import type { LedgerPair, Node } from './test-fixtures/ledger-nodes';
import { countersignedOf, receiptOf, REQUEST_TIMEOUT_MS, startLedgerPair } from './test-fixtures/ledger-nodes';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const EMPTY = new Uint8Array(0);

/** The outcome's countersigned void, or its error thrown as the SwarmError it stands for. */
function voidedOf(outcome: VoidOutcome | undefined): SignedVoid {
  if (outcome === undefined) throw new Error('no outcome');
  if (outcome.error !== undefined) throw fromWire(outcome.error);
  if (outcome.receipt !== undefined || outcome.signedVoid === undefined) throw new Error('an outcome that is not a void alone');
  return outcome.signedVoid;
}

/**
 * A payee gateway under the stranger's key that answers every VoidReceipts call with `answer`'s
 * outcomes: what no honest gateway would answer, for A's checks of the payee's answers.
 */
async function startRoguePayee(certificate: NodeCertificate) {
  const state = { calls: 0, asked: [] as SignedVoid[], answer: (voids: SignedVoid[]): VoidOutcome[] => voids.map(() => ({})) };
  const server: GatewayServer = await startGatewayServer({
    certificate,
    listen: { host: '127.0.0.1', port: 0 },
    limits: loadGatewayConfig({ SWARM_NATS_URL: 'nats://127.0.0.1:1', SWARM_DATA_DIR: '/nonexistent' }).limits,
    log: silentLogger(),
    time: systemTime,
    handlers: {
      nodeInfo: ({ peerId }) => ({ nodeId: certificate.nodeId, version: 'rogue', advertisedAddress: '', peerNodeId: peerId, powNonce: 0n }),
      ping: ({ request }) => ({ payload: request.payload }),
      voidReceipts: ({ request }) => {
        state.calls += 1;
        state.asked = request.voids;
        return { outcomes: state.answer(request.voids) };
      },
    },
  });
  return { state, address: formatHostPort(server.address), stop: () => server.stop(1_000) };
}

describe('gateway-svc - voids of receipts between two nodes', () => {
  let pair: LedgerPair;
  let a: Node;
  let b: Node;
  let stranger: NodeIdentity;
  let strangerCert: NodeCertificate;
  let registryA: LedgerPair['registryA'];
  let creditB: LedgerPair['creditB'];
  let rogue: Awaited<ReturnType<typeof startRoguePayee>>;

  beforeAll(async () => {
    pair = await startLedgerPair();
    ({ a, b, stranger, registryA, creditB } = pair);
    strangerCert = await loadOrCreateNodeCertificate(pair.strangerDir.path, systemClock);
    expect(strangerCert.nodeId).toBe(stranger.nodeId);
    rogue = await startRoguePayee(strangerCert);
    registryA.addresses.set(stranger.nodeId, rogue.address);
  });
  afterEach(() => {
    creditB.voidLies.clear();
  });
  afterAll(async () => {
    await rogue?.stop();
    await pair?.stop();
  });

  const voidAll = async (peerNodeId: string, voids: SignedVoid[]) => (await a.bus.request(GatewayVoidReceipts, { peerNodeId, voids }, { timeoutMs: REQUEST_TIMEOUT_MS })).outcomes;
  /** A's void of its own receipt. */
  const voidOf = (receipt: SignedReceipt) => makeVoid(receipt, a.identity);
  /** Delivers one receipt of A's to B: its countersigned receipt, or its outcome's error thrown. */
  const deliver = async (receipt: SignedReceipt) => {
    const { outcomes } = await a.bus.request(GatewayDeliverReceipts, { peerNodeId: b.nodeId, receipts: [receipt] }, { timeoutMs: REQUEST_TIMEOUT_MS });
    return countersignedOf(outcomes[0]);
  };
  /** The task each of B's ledger's void requests since `seen` names, with who it was told sent it and whether B served it. */
  const voidsAskedSince = (seen: number) =>
    creditB.voided
      .slice(seen)
      .map((req) => [verifyVoid(req.signedVoid as SignedVoid, { countersigned: false }).taskId, req.fromNodeId, req.served])
      .sort(([x], [y]) => String(x).localeCompare(String(y)));

  it("voids A's receipts through both gateways: B's ledger is told the payer and whether B served the task, and each void comes back countersigned", async () => {
    const seen = creditB.voided.length;
    const served = receiptOf(a.identity, b.identity, 'void-served');
    // A ticket B gave A, but for another task: B never served this one. The void still goes to B's
    // ledger, told so: it countersigns the void of a receipt it would never countersign.
    const unserved = receiptOf(a.identity, b.identity, 'void-unserved', 40n, createServeTickets(b.identity).mint(a.nodeId, 'void-another-task', 40n));
    // B's own ticket for the task, but the receipt pays past its cap: told not served, so its void never appends it.
    const overCap = receiptOf(a.identity, b.identity, 'void-over-cap', 10n ** 15n, createServeTickets(b.identity).mint(a.nodeId, 'void-over-cap', 40n));
    const sent = [voidOf(served), voidOf(unserved), voidOf(overCap)];
    const outcomes = await voidAll(b.nodeId, sent);
    expect(outcomes).toHaveLength(3);
    outcomes.forEach((o, i) => {
      const back = voidedOf(o);
      expect([hex(back.receipt), hex(back.payerSignature)]).toEqual([hex(sent[i].receipt), hex(sent[i].payerSignature)]);
      expect(verifyVoid(back, { expectedPayer: a.nodeId, expectedPayee: b.nodeId }).taskId).toBe(['void-served', 'void-unserved', 'void-over-cap'][i]);
    });
    expect(voidsAskedSince(seen)).toEqual([
      ['void-over-cap', a.nodeId, false],
      ['void-served', a.nodeId, true],
      ['void-unserved', a.nodeId, false],
    ]);
    // B's ledger keeps its word: the receipt it voided is never countersigned.
    const err = await swarmErrorOf(deliver(served));
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_RECEIPT, message: expect.stringMatching(/voided/) });
  });

  it('answers the receipt countersigned, not a void, when B had accepted the receipt before its void came', async () => {
    const receipt = receiptOf(a.identity, b.identity, 'void-too-late');
    const countersigned = await deliver(receipt);
    const [outcome] = await voidAll(b.nodeId, [voidOf(receipt)]);
    expect(outcome.signedVoid).toBeUndefined();
    expect(outcome.error).toBeUndefined();
    const back = outcome.receipt as SignedReceipt;
    expect([hex(back.receipt), hex(back.payerSignature), hex(back.payeeSignature)]).toEqual([
      hex(countersigned.receipt),
      hex(countersigned.payerSignature),
      hex(countersigned.payeeSignature),
    ]);
    expect(verifyReceipt(back, { expectedPayer: a.nodeId, expectedPayee: b.nodeId }).taskId).toBe('void-too-late');
  });

  it("refuses each answer of B's ledger that does not hold, INVALID_RECEIPT for that void alone, and passes the honest one beside them", async () => {
    // A receipt B countersigned, for the ledger that answers another receipt than the one voided.
    await deliver(receiptOf(a.identity, b.identity, 'void-held'));
    creditB.voidLies.set('void-forged', 'forged-countersignature');
    creditB.voidLies.set('void-other-bytes', 'other-void');
    creditB.voidLies.set('void-other-receipt', 'other-receipt');
    creditB.voidLies.set('void-no-answer', 'neither');
    const tasks = ['void-honest', 'void-forged', 'void-other-bytes', 'void-other-receipt', 'void-no-answer'];
    const outcomes = await voidAll(
      b.nodeId,
      tasks.map((t) => voidOf(receiptOf(a.identity, b.identity, t))),
    );
    expect(verifyVoid(voidedOf(outcomes[0]), { expectedPayer: a.nodeId, expectedPayee: b.nodeId }).taskId).toBe('void-honest');
    const payee = `payee ${shortId(b.nodeId)}`;
    const refused: Array<[string, ErrorCode, RegExp]> = [
      ['void-forged', ErrorCode.ERROR_CODE_INVALID_RECEIPT, new RegExp(`${payee} answered a void that does not hold: .*bad-signature.*countersignature of the void`)],
      ['void-other-bytes', ErrorCode.ERROR_CODE_INVALID_RECEIPT, new RegExp(`${payee} answered a void that does not hold: not the void sent`)],
      ['void-other-receipt', ErrorCode.ERROR_CODE_INVALID_RECEIPT, new RegExp(`${payee} answered a receipt that does not hold: not the receipt voided`)],
      // B's gateway does not pass on its own ledger answering nothing.
      ['void-no-answer', ErrorCode.ERROR_CODE_INTERNAL, /this node's ledger answered neither a void nor a receipt/],
    ];
    refused.forEach(([task, code, message], i) => {
      const o = outcomes[i + 1];
      expect([task, o.signedVoid, o.receipt]).toEqual([task, undefined, undefined]);
      expect({ task, ...o.error }).toMatchObject({ task, code, retryable: false, message: expect.stringMatching(message) });
    });
  });

  it("refuses the payee's answers that do not hold when the payee's gateway passes them: both, neither, not countersigned, too few", async () => {
    const receipts = ['void-both', 'void-neither', 'void-bare-receipt', 'void-fine', 'void-loud'].map((t) => receiptOf(a.identity, stranger, t));
    const voids = receipts.map(voidOf);
    const loud: SwarmErrorMessage = { code: 9_999 as ErrorCode, message: 'x'.repeat(5_000), retryable: true, retryAfterMs: 1_000 };
    rogue.state.answer = (asked) => [
      { signedVoid: countersignVoid(asked[0], stranger), receipt: receipts[0] },
      {},
      // The receipt voided, but as the payer signed it: not countersigned.
      { receipt: receipts[2] },
      { signedVoid: countersignVoid(asked[3], stranger) },
      { error: loud },
    ];
    const calls = rogue.state.calls;
    const outcomes = await voidAll(stranger.nodeId, voids);
    expect(rogue.state.calls).toBe(calls + 1);
    expect(rogue.state.asked.map((v) => hex(v.payerSignature))).toEqual(voids.map((v) => hex(v.payerSignature)));
    const payee = `payee ${shortId(stranger.nodeId)}`;
    const refused: Array<[number, RegExp]> = [
      [0, new RegExp(`${payee} answered an outcome that does not hold: both a void and a receipt`)],
      [1, new RegExp(`${payee} answered an outcome that does not hold: neither a void, a receipt nor an error`)],
      [2, new RegExp(`${payee} answered a receipt that does not hold: .*not-countersigned`)],
    ];
    for (const [at, message] of refused) {
      expect({ at, ...outcomes[at] }).toEqual({
        at,
        signedVoid: undefined,
        receipt: undefined,
        error: expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_RECEIPT, retryable: false }),
      });
      expect(outcomes[at].error?.message).toMatch(message);
    }
    expect(verifyVoid(voidedOf(outcomes[3]), { expectedPayer: a.nodeId, expectedPayee: stranger.nodeId }).taskId).toBe('void-fine');
    // The payee's own refusal passes on bounded: an unknown code is INTERNAL, the message capped.
    expect(outcomes[4]).toMatchObject({ signedVoid: undefined, receipt: undefined, error: { code: ErrorCode.ERROR_CODE_INTERNAL, retryable: true } });
    expect(outcomes[4].error?.message.length).toBeLessThanOrEqual(512);

    // Another count of outcomes than voids sent: the whole call fails.
    rogue.state.answer = () => [];
    const err = await swarmErrorOf(voidAll(stranger.nodeId, voids.slice(0, 2)));
    expect(err).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_RECEIPT,
      retryable: false,
      message: expect.stringMatching(`${payee} answered voids that do not hold: 0 outcomes for 2 voids`),
    });
  });

  it('refuses before any network call a void A did not sign as payer, or of a receipt to another payee, or malformed requests', async () => {
    const asked = registryA.asked.length;
    const calls = rogue.state.calls;
    const seen = creditB.voided.length;
    const toStranger = receiptOf(a.identity, stranger, 'void-to-stranger');
    const cases: [string, SignedVoid[], ErrorCode, RegExp][] = [
      // Each void's own refusal, as its outcome.
      [stranger.nodeId, [makeVoid(receiptOf(stranger, b.identity, 'void-not-ours'), stranger)], ErrorCode.ERROR_CODE_INVALID_RECEIPT, /unexpected-party/],
      [stranger.nodeId, [voidOf(receiptOf(a.identity, b.identity, 'void-other-payee'))], ErrorCode.ERROR_CODE_INVALID_RECEIPT, /unexpected-party/],
      [stranger.nodeId, [{ ...voidOf(toStranger), payerSignature: stranger.sign(new Uint8Array(1)) }], ErrorCode.ERROR_CODE_INVALID_RECEIPT, /bad-signature/],
      // The receipt's own signature does not sign its void.
      [
        stranger.nodeId,
        [{ receipt: toStranger.receipt, payerSignature: toStranger.payerSignature, payeeSignature: EMPTY, receiptSignature: toStranger.payerSignature }],
        ErrorCode.ERROR_CODE_INVALID_RECEIPT,
        /bad-signature/,
      ],
      // A void whose receipt signature is spoiled, or missing: a void carries its receipt as the payer signed it.
      [stranger.nodeId, [{ ...voidOf(toStranger), receiptSignature: stranger.sign(new Uint8Array(1)) }], ErrorCode.ERROR_CODE_INVALID_RECEIPT, /bad-signature/],
      [stranger.nodeId, [{ ...voidOf(toStranger), receiptSignature: EMPTY }], ErrorCode.ERROR_CODE_INVALID_RECEIPT, /bad-signature/],
      [stranger.nodeId, [countersignVoid(voidOf(toStranger), stranger)], ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /already countersigned/],
      [
        stranger.nodeId,
        [{ receipt: new Uint8Array(8_500), payerSignature: new Uint8Array(64), payeeSignature: EMPTY, receiptSignature: EMPTY }],
        ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE,
        /at most/,
      ],
      // The call's: its payee, its size.
      ['B'.repeat(64), [voidOf(toStranger)], ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /64 lowercase hex/],
      [a.nodeId, [voidOf(toStranger)], ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /is this node/],
      [stranger.nodeId, [], ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /1 to 64 voids, got 0/],
      [
        stranger.nodeId,
        Array.from({ length: RECEIPTS_PER_DELIVERY + 1 }, (_, i) => voidOf(receiptOf(a.identity, stranger, `void-many-${i}`))),
        ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
        /1 to 64 voids, got 65/,
      ],
    ];
    for (const [peer, voids, code, message] of cases) {
      const err = await swarmErrorOf(voids.length === 1 ? voidAll(peer, voids).then(([o]) => voidedOf(o)) : voidAll(peer, voids));
      expect({ code: err.code, message: err.message }).toEqual({ code, message: expect.stringMatching(message) });
      expect(err.message.length).toBeLessThan(300);
    }
    expect(registryA.asked.length).toBe(asked);
    expect(rogue.state.calls).toBe(calls);
    expect(creditB.voided.length).toBe(seen);
  });

  it("B's gateway passes its authenticated caller as from_node_id, and refuses per void a caller that is not the payer or a void for another payee", async () => {
    const address = parseHostPort(b.gateway.advertisedAddress);
    if (!address) throw new Error(`bad address ${b.gateway.advertisedAddress}`);
    const client: PeerClient = dialPeer({ certificate: strangerCert, peer: { nodeId: b.nodeId, address }, clock: systemClock });
    try {
      const seen = creditB.voided.length;
      const huge = { receipt: new Uint8Array(100_000), payerSignature: new Uint8Array(64), payeeSignature: EMPTY, receiptSignature: EMPTY };
      const refused = await client.call('voidReceipts', {
        voids: [
          // A's void, sent by the stranger: refused at B's door.
          voidOf(receiptOf(a.identity, b.identity, 'void-relayed')),
          // The stranger's own void, of a receipt to A.
          makeVoid(receiptOf(stranger, a.identity, 'void-for-a'), stranger),
          huge,
        ],
      });
      expect(refused.outcomes.map((o) => [o.signedVoid, o.receipt])).toEqual([
        [undefined, undefined],
        [undefined, undefined],
        [undefined, undefined],
      ]);
      expect(refused.outcomes[0]?.error).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_RECEIPT, message: expect.stringMatching(/unexpected-party/) });
      expect(refused.outcomes[1]?.error).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_RECEIPT, message: expect.stringMatching(/unexpected-party/) });
      expect(refused.outcomes[2]?.error).toMatchObject({ code: ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE });
      await expect(client.call('voidReceipts', { voids: [] })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT, peerWords: expect.stringMatching(/got 0/) });
      const many = Array.from({ length: RECEIPTS_PER_DELIVERY + 1 }, (_, i) => makeVoid(receiptOf(stranger, b.identity, `void-direct-many-${i}`), stranger));
      // Counted on the wire before it is decoded (contracts wire-counts.ts).
      await expect(client.call('voidReceipts', { voids: many })).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
        peerWords: expect.stringMatching(/holds at most 64 voids/),
      });
      expect(creditB.voided.length).toBe(seen);

      // A bad void does not fail the good one beside it.
      const mixed = await client.call('voidReceipts', {
        voids: [voidOf(receiptOf(a.identity, b.identity, 'void-relayed-2')), makeVoid(receiptOf(stranger, b.identity, 'void-direct'), stranger)],
      });
      expect(mixed.outcomes[0]?.error).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_RECEIPT });
      expect(verifyVoid(voidedOf(mixed.outcomes[1]), { expectedPayer: stranger.nodeId, expectedPayee: b.nodeId }).taskId).toBe('void-direct');
      expect(voidsAskedSince(seen)).toEqual([['void-direct', stranger.nodeId, true]]);
    } finally {
      client.close();
    }
  });

  it("answers UNAVAILABLE, retryable, when the payee's ledger is not running", async () => {
    await creditB.stop();
    const [outcome] = await voidAll(b.nodeId, [voidOf(receiptOf(a.identity, b.identity, 'void-no-ledger'))]);
    expect(outcome.error).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, retryable: true, message: expect.stringMatching(/ledger did not answer/) });
  });
});
