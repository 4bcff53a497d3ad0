import { SignedVoid } from '@swarm/contracts';
import { ReceiptRefusal } from './chain-refusal';
import { countersignReceipt, makeReceipt, verifyReceipt } from './receipt';
import { seededSigner } from './test-fixtures/seeded-signer';
import { sha256Of } from './test-fixtures/test-swarm';
import { countersignVoid, decodeSignedVoid, encodeSignedVoid, makeVoid, MAX_SIGNED_VOID_BYTES, verifyVoid } from './void';

const payer = seededSigner(1);
const payee = seededSigner(2);
const stranger = seededSigner(3);
const receipt = makeReceipt(
  {
    payeePublicKey: payee.publicKey,
    amount: 40n,
    taskId: 'task-1',
    taskHash: sha256Of('in'),
    resultHash: sha256Of('out'),
    atMs: 1_700_000_000_000,
    serveTicket: new Uint8Array(32).fill(7),
  },
  payer,
);

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ReceiptRefusal) return err.reason;
    throw err;
  }
  throw new Error('expected a ReceiptRefusal');
}

describe('voids', () => {
  it('are signed by the payer and countersigned by the payee over the receipt bytes', () => {
    const asked = makeVoid(receipt, payer);
    expect(reasonOf(() => verifyVoid(asked))).toBe('not-countersigned');
    const agreed = countersignVoid(asked, payee);
    expect(verifyVoid(agreed, { expectedPayer: payer.nodeId, expectedPayee: payee.nodeId }).receiptId).toBe(`task-1:${payer.nodeId}:${payee.nodeId}`);
    expect(decodeSignedVoid(encodeSignedVoid(agreed))).toEqual(agreed);
  });

  it("are made only by the receipt's payer and agreed only by its payee", () => {
    expect(reasonOf(() => makeVoid(receipt, stranger))).toBe('unexpected-party');
    expect(reasonOf(() => countersignVoid(makeVoid(receipt, payer), stranger))).toBe('unexpected-party');
    // A stranger's signature under the payer's name.
    const forged = { ...makeVoid(receipt, payer), payerSignature: stranger.sign(new Uint8Array(1)) };
    expect(reasonOf(() => countersignVoid(forged, payee))).toBe('bad-signature');
  });

  it("never pass as a receipt's signatures, nor a receipt's as theirs (domain tags)", () => {
    const agreed = countersignVoid(makeVoid(receipt, payer), payee);
    expect(reasonOf(() => verifyReceipt({ receipt: agreed.receipt, payerSignature: agreed.payerSignature, payeeSignature: agreed.payeeSignature }))).toBe('bad-signature');
    const paid = countersignReceipt(receipt, payee);
    expect(
      reasonOf(() => verifyVoid({ receipt: paid.receipt, payerSignature: paid.payerSignature, payeeSignature: paid.payeeSignature, receiptSignature: paid.payerSignature })),
    ).toBe('bad-signature');
  });

  it('decode refuses oversized and padded envelopes', () => {
    expect(reasonOf(() => decodeSignedVoid(new Uint8Array(MAX_SIGNED_VOID_BYTES + 1)))).toBe('oversized');
    const bytes = SignedVoid.encode(makeVoid(receipt, payer)).finish();
    // An unknown field appended: the unsigned envelope must hold nothing else.
    expect(reasonOf(() => decodeSignedVoid(Uint8Array.from([...bytes, 0x28, 0x01])))).toBe('malformed');
  });
});
