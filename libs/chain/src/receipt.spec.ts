import type { SignedReceipt } from '@swarm/contracts';
import { ErrorCode, Receipt } from '@swarm/contracts';
import type { ReceiptRefusalReason } from './chain-refusal';
import { ReceiptRefusal } from './chain-refusal';
import { chainRules, MAX_UINT64 } from './chain-rules';
import type { ReceiptFields } from './receipt';
import { countersignReceipt, decodeSignedReceipt, encodeSignedReceipt, makeReceipt, MAX_RECEIPT_BYTES, MAX_SHARES, receiptIdOf, verifyReceipt } from './receipt';
import { receiptSigningBytes } from './signing';
import { refusalOf } from './test-fixtures/refusal-of';
import { seededSigner } from './test-fixtures/seeded-signer';
import { sha256Of, testSwarm } from './test-fixtures/test-swarm';
import { appendReceipt } from './append';

const payer = seededSigner(1);
const payee = seededSigner(2);
const stranger = seededSigner(3);
const AT = 1_700_000_000_000;
/** The payee's serve ticket: only its issuer checks what is in it. */
const TICKET = new Uint8Array(32).fill(7);

function fields(over: Partial<ReceiptFields> = {}): ReceiptFields {
  return { payeePublicKey: payee.publicKey, amount: 40n, taskId: 'task-1', taskHash: sha256Of('in'), resultHash: sha256Of('out'), atMs: AT, serveTicket: TICKET, ...over };
}

const refusal = (fn: () => unknown): ReceiptRefusal => refusalOf(ReceiptRefusal, fn);

function expectRefused(fn: () => unknown, reason: ReceiptRefusalReason, code = ErrorCode.ERROR_CODE_INVALID_RECEIPT): ReceiptRefusal {
  const r = refusal(fn);
  expect(r.reason).toBe(reason);
  expect(r.code).toBe(code);
  expect(r.message.length).toBeLessThan(400);
  return r;
}

/** A receipt re-signed by the payer after `edit` changed its decoded fields. */
function resigned(edit: (r: Receipt) => void, signer = payer): SignedReceipt {
  const r = Receipt.decode(makeReceipt(fields(), payer).receipt);
  edit(r);
  const bytes = Receipt.encode(r).finish();
  return { receipt: bytes, payerSignature: signer.sign(receiptSigningBytes(bytes)), payeeSignature: new Uint8Array(0) };
}

describe('receipt - make, countersign, verify', () => {
  it('is signed by the payer, countersigned by the payee, and verifies with both', () => {
    const signed = makeReceipt(
      fields({
        shares: [
          { nodeId: payee.nodeId, sharePpm: 600_000 },
          { nodeId: stranger.nodeId, sharePpm: 400_000 },
        ],
      }),
      payer,
    );
    expect(verifyReceipt(signed, { countersigned: false })).toMatchObject({
      payer: payer.nodeId,
      payee: payee.nodeId,
      amount: 40n,
      receiptId: receiptIdOf('task-1', payer.nodeId, payee.nodeId),
    });
    const both = countersignReceipt(signed, payee);
    expect(both.receipt).toBe(signed.receipt);
    const r = verifyReceipt(both, { expectedPayer: payer.nodeId, expectedPayee: payee.nodeId });
    expect(r.shares).toEqual([
      { nodeId: payee.nodeId, sharePpm: 600_000 },
      { nodeId: stranger.nodeId, sharePpm: 400_000 },
    ]);
    expect(decodeSignedReceipt(encodeSignedReceipt(both))).toEqual(both);
  });

  it('refuses an unsigned receipt and one not countersigned', () => {
    const signed = makeReceipt(fields(), payer);
    expectRefused(() => verifyReceipt({ ...signed, payerSignature: new Uint8Array(0) }, { countersigned: false }), 'bad-signature');
    expectRefused(() => verifyReceipt(signed), 'not-countersigned');
  });

  it('refuses a forged receipt: signed by another key, altered after signing, or a forged countersignature', () => {
    const signed = makeReceipt(fields(), payer);
    expectRefused(() => verifyReceipt({ ...signed, payerSignature: stranger.sign(receiptSigningBytes(signed.receipt)) }, { countersigned: false }), 'bad-signature');
    const altered = resigned((r) => (r.amount = 4000n), stranger);
    expectRefused(() => verifyReceipt(altered, { countersigned: false }), 'bad-signature');
    const bytes = Uint8Array.from(signed.receipt);
    bytes[bytes.length - 40] ^= 1;
    expect(() => verifyReceipt({ ...signed, receipt: bytes }, { countersigned: false })).toThrow(ReceiptRefusal);
    const forgedCounter = { ...signed, payeeSignature: stranger.sign(receiptSigningBytes(signed.receipt)) };
    expect(expectRefused(() => verifyReceipt(forgedCounter), 'bad-signature').message).toContain("payee's countersignature");
  });

  it('refuses zero, negative and overflowing amounts', () => {
    for (const amount of [0n, -5n, MAX_UINT64 + 1n]) expectRefused(() => makeReceipt(fields({ amount }), payer), 'bad-amount');
    expectRefused(
      () =>
        verifyReceipt(
          resigned((r) => (r.amount = 0n)),
          { countersigned: false },
        ),
      'bad-amount',
    );
    expect(verifyReceipt(makeReceipt(fields({ amount: MAX_UINT64 }), payer), { countersigned: false }).amount).toBe(MAX_UINT64);
  });

  it('refuses a wrong payer: an unexpected one, a key that is not the payer id, a self-payment', () => {
    const signed = countersignReceipt(makeReceipt(fields(), payer), payee);
    expectRefused(() => verifyReceipt(signed, { expectedPayer: stranger.nodeId }), 'unexpected-party');
    expectRefused(
      () =>
        verifyReceipt(
          resigned((r) => {
            r.payer = stranger.nodeId;
            r.receiptId = receiptIdOf(r.taskId, r.payer, r.payee);
          }),
          { countersigned: false },
        ),
      'wrong-key',
    );
    expectRefused(
      () =>
        verifyReceipt(
          resigned((r) => (r.payeePublicKey = stranger.publicKey)),
          { countersigned: false },
        ),
      'wrong-key',
    );
    expectRefused(() => makeReceipt(fields({ payeePublicKey: payer.publicKey }), payer), 'self-payment');
  });

  it('lets only the payee countersign', () => {
    expectRefused(() => countersignReceipt(makeReceipt(fields(), payer), stranger), 'unexpected-party');
  });

  it('refuses fields out of range', () => {
    expectRefused(() => makeReceipt(fields({ taskId: '' }), payer), 'invalid-field');
    expectRefused(() => makeReceipt(fields({ taskId: 'a b' }), payer), 'invalid-field');
    expectRefused(() => makeReceipt(fields({ taskId: 'x'.repeat(129) }), payer), 'invalid-field');
    expectRefused(() => makeReceipt(fields({ taskHash: new Uint8Array(31) }), payer), 'invalid-field');
    expectRefused(() => makeReceipt(fields({ resultHash: new Uint8Array(0) }), payer), 'invalid-field');
    expectRefused(() => makeReceipt(fields({ atMs: 0 }), payer), 'invalid-field');
    expectRefused(
      () =>
        verifyReceipt(
          resigned((r) => (r.receiptId = `task-2:${payer.nodeId}:${payee.nodeId}`)),
          { countersigned: false },
        ),
      'invalid-field',
    );
  });

  it("signs no receipt without the payee's 32-byte serve ticket; reads an old one without a ticket, refuses any other length", () => {
    for (const serveTicket of [new Uint8Array(0), new Uint8Array(31), new Uint8Array(33)]) {
      expectRefused(() => makeReceipt(fields({ serveTicket }), payer), 'invalid-field');
    }
    expect(Receipt.decode(makeReceipt(fields(), payer).receipt).serveTicket).toEqual(TICKET);
    // Made before tickets existed: still a receipt auditors accept.
    expect(
      verifyReceipt(
        resigned((r) => (r.serveTicket = new Uint8Array(0))),
        { countersigned: false },
      ).serveTicket,
    ).toHaveLength(0);
    expectRefused(
      () =>
        verifyReceipt(
          resigned((r) => (r.serveTicket = new Uint8Array(5))),
          { countersigned: false },
        ),
      'invalid-field',
    );
  });

  it('holds shares to ppm, no duplicates, the payee listed, at most MAX_SHARES', () => {
    const share = (s: typeof payee, sharePpm: number) => ({ nodeId: s.nodeId, sharePpm });
    expectRefused(() => makeReceipt(fields({ shares: [share(payee, 600_000), share(stranger, 400_001)] }), payer), 'invalid-field');
    expectRefused(() => makeReceipt(fields({ shares: [share(payee, 1), share(payee, 1)] }), payer), 'invalid-field');
    expectRefused(() => makeReceipt(fields({ shares: [share(stranger, 1)] }), payer), 'invalid-field');
    expectRefused(() => makeReceipt(fields({ shares: [share(payee, 1.5)] }), payer), 'invalid-field');
    const many = Array.from({ length: MAX_SHARES + 1 }, (_, i) => ({ nodeId: i === 0 ? payee.nodeId : i.toString(16).padStart(64, '0'), sharePpm: 1 }));
    expectRefused(() => makeReceipt(fields({ shares: many }), payer), 'invalid-field');
  });

  it('refuses oversized and malformed bytes before decoding further', () => {
    expectRefused(
      () => verifyReceipt({ receipt: new Uint8Array(MAX_RECEIPT_BYTES + 1), payerSignature: new Uint8Array(64), payeeSignature: new Uint8Array(0) }),
      'oversized',
      ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE,
    );
    expectRefused(
      () => verifyReceipt({ receipt: Uint8Array.from([0xff, 0xff, 0xff]), payerSignature: new Uint8Array(64), payeeSignature: new Uint8Array(0) }),
      'malformed',
      ErrorCode.ERROR_CODE_MALFORMED_MESSAGE,
    );
    const wire = encodeSignedReceipt(makeReceipt(fields(), payer));
    expectRefused(() => decodeSignedReceipt(Uint8Array.from([...wire, 0x20, 0x01])), 'malformed', ErrorCode.ERROR_CODE_MALFORMED_MESSAGE);
    expectRefused(() => decodeSignedReceipt(new Uint8Array(20_000)), 'oversized', ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE);
  });
});

describe('receipt - appended once', () => {
  it('refuses a replayed receipt, and one dated far ahead of the clock', () => {
    const swarm = testSwarm(2, chainRules(), AT);
    const signed = swarm.pay(0, 1, 10n, 'task-r', AT + 1_000);
    const node = swarm.nodes[1];
    expectRefused(() => appendReceipt(node.head, signed, node.signer, swarm.rules, { atMs: AT + 2_000, hasReceipt: (id) => node.receiptIds.has(id) }), 'replayed');
    const ahead = swarm.receipt(0, 1, 10n, 'task-f', AT + 3_600_000);
    // Retryable: it passes once the clocks agree, so a payer does not take it as the payee's verdict.
    expect(expectRefused(() => appendReceipt(node.head, ahead, node.signer, swarm.rules, { atMs: AT + 3_000, hasReceipt: () => false }), 'dated-ahead').retryable).toBe(true);
  });
});
