import { PeerReceiptsRequest } from './gen/swarm/v1/gateway';
import { SwarmError } from './swarm-error';
import type { WireLimits } from './wire-counts';
import { refuseOverfullMessage } from './wire-counts';

const codeOf = (bytes: Uint8Array, limits: WireLimits): string | undefined => {
  try {
    refuseOverfullMessage(bytes, limits, 'swarm.v1.DeliverReceiptsRequest');
    return undefined;
  } catch (err) {
    return err instanceof SwarmError ? err.codeName : String(err);
  }
};
const RECEIPTS: WireLimits = { 1: { max: 64, message: {}, name: 'receipts' } };

describe('wire counts - a message counted before it is decoded', () => {
  it('passes 64 receipts and refuses a 65th, each walked as a message', () => {
    const receipts = (n: number) =>
      PeerReceiptsRequest.encode({
        receipts: Array.from({ length: n }, () => ({ receipt: new Uint8Array(3), payerSignature: new Uint8Array(64), payeeSignature: new Uint8Array(0) })),
      }).finish();
    expect(codeOf(receipts(64), RECEIPTS)).toBeUndefined();
    expect(codeOf(receipts(65), RECEIPTS)).toBe('SWARM_INVALID_ARGUMENT');
  });

  it('refuses an entry whose own field runs past its end, where the decoder reads on into what the walk skipped (and found a thousand receipts in one)', () => {
    // Receipt 1 holds a 5-byte field in its 2 bytes; the 3 bytes the decoder takes past it are,
    // to a walk that does not look inside, the tag and length of an unknown field 15 whose payload
    // the decoder then reads as 1,000 more receipts.
    const n = 1_000;
    const body = Buffer.concat([Buffer.from([0x0a, 0x02, 0x0a, 0x05, 0x7a, ((2 * n) & 0x7f) | 0x80, (2 * n) >> 7]), Buffer.alloc(2 * n, Buffer.from([0x0a, 0x00]))]);
    expect(PeerReceiptsRequest.decode(body).receipts).toHaveLength(n);
    expect(codeOf(body, { 1: { max: 64, name: 'receipts' } })).toBeUndefined();
    expect(codeOf(body, RECEIPTS)).toBe('SWARM_MALFORMED_MESSAGE');
  });

  it('skips fields it names no limit for, and refuses a field of another wire type no more than the decoder does', () => {
    const unknownAndVarint = Buffer.from([0x7a, 0x02, 0x01, 0x02, 0x08, 0x05]);
    expect(codeOf(unknownAndVarint, RECEIPTS)).toBeUndefined();
    expect(codeOf(Buffer.from([0x0a, 0x09, 0x01]), RECEIPTS)).toBe('SWARM_MALFORMED_MESSAGE');
  });
});
