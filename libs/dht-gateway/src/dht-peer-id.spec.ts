import { createHash } from 'node:crypto';
import { ErrorCode } from '@swarm/contracts';
import { findPowNonce, leadingZeroBits, powHash } from '@swarm/records';
import { checkContactBindings, dhtEndpoint, dhtIdOfNode, peerOfDhtEndpoint } from './dht-peer-id';

const NODE_ID = '0123456789abcdef'.repeat(4);
const DIFFICULTY = 6;
const NONCE = findPowNonce(NODE_ID, DIFFICULTY);
const invalid = expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });

/** Leading bits two hex ids share. */
function sharedBits(a: string, b: string): number {
  return leadingZeroBits(Buffer.from(a, 'hex').map((byte, i) => byte ^ Buffer.from(b, 'hex')[i]));
}

describe('dht peer id - node ids to DHT ids and endpoints', () => {
  it('hashes the node id with its proof-of-work nonce into a 20-byte DHT id', () => {
    const id = dhtIdOfNode(NODE_ID, NONCE);
    const nonceBytes = Buffer.alloc(8);
    nonceBytes.writeBigUInt64BE(NONCE);
    const expected = createHash('sha256').update('swarm-dht-id-v1').update(Buffer.from(NODE_ID, 'hex')).update(nonceBytes).digest().subarray(0, 20).toString('hex');
    expect(id).toBe(expected);
    // Another nonce, another id: the id is not the node id's prefix any more.
    expect(dhtIdOfNode(NODE_ID, NONCE + 1n)).not.toBe(id);
    expect(id).not.toBe(NODE_ID.slice(0, 40));
  });

  it('refuses what is not a node id or a uint64 nonce', () => {
    for (const bad of ['', NODE_ID.slice(0, 40), NODE_ID.toUpperCase(), `${NODE_ID}0`]) expect(() => dhtIdOfNode(bad, NONCE)).toThrow(invalid);
    for (const bad of [-1n, 2n ** 64n]) expect(() => dhtIdOfNode(NODE_ID, bad)).toThrow(invalid);
  });

  it('writes and reads endpoints as <node id>:<nonce>@host:port, IPv6 included', () => {
    expect(dhtEndpoint(NODE_ID, { host: '127.0.0.1', port: 4001 }, 42n)).toBe(`${NODE_ID}:42@127.0.0.1:4001`);
    expect(peerOfDhtEndpoint(dhtEndpoint(NODE_ID, { host: '::1', port: 4001 }, 2n ** 64n - 1n))).toEqual({
      nodeId: NODE_ID,
      address: { host: '::1', port: 4001 },
      powNonce: 2n ** 64n - 1n,
    });
    const bad = [
      '127.0.0.1:4001',
      `${NODE_ID}@127.0.0.1:4001`, // a peer address without its nonce
      `${NODE_ID}:42@127.0.0.1:0`,
      `${NODE_ID}:@127.0.0.1:4001`,
      `${NODE_ID}:042@127.0.0.1:4001`,
      `${NODE_ID}:-1@127.0.0.1:4001`,
      `${NODE_ID}:18446744073709551616@127.0.0.1:4001`,
      `${NODE_ID}:42@`,
      'somewhere:1',
    ];
    for (const endpoint of bad) expect(() => peerOfDhtEndpoint(endpoint)).toThrow(invalid);
  });

  it('takes a contact only at an endpoint whose node id and proven nonce give its id', () => {
    const at = { host: '10.0.0.1', port: 4001 };
    const good = { id: dhtIdOfNode(NODE_ID, NONCE), endpoint: dhtEndpoint(NODE_ID, at, NONCE) };
    expect(() => checkContactBindings([good], DIFFICULTY)).not.toThrow();
    // Another id at that endpoint: planted.
    expect(() => checkContactBindings([{ ...good, id: '00'.repeat(20) }], DIFFICULTY)).toThrow(/whose DHT id differs/);
    // A nonce that is no proof of work, with the id it gives: an id that cost nothing.
    let cheap = 0n;
    while (leadingZeroBits(powHash(NODE_ID, cheap)) >= DIFFICULTY) cheap += 1n;
    expect(() => checkContactBindings([{ id: dhtIdOfNode(NODE_ID, cheap), endpoint: dhtEndpoint(NODE_ID, at, cheap) }], DIFFICULTY)).toThrow(/no proof of work of 6 bits/);
  });

  it('makes an id near a target cost a proof of work per try: grinding 6 shared bits at difficulty 6 takes about 2^12 hashes', () => {
    // An attacker tries identities (here: made-up node ids) until one's DHT id shares 6 leading bits
    // with the target. Each try needs a nonce that is a proof of work first; with ids taken from the
    // node id alone (before), a try cost one hash, and the proof was found once, for the winner.
    const target = createHash('sha1').update('matmul').digest('hex');
    const trials = 24;
    let hashes = 0;
    for (let t = 0; t < trials; t++) {
      for (let i = 0; ; i++) {
        const nodeId = createHash('sha256').update(`attacker-${t}-${i}`).digest('hex');
        let nonce = 0n;
        while (leadingZeroBits(powHash(nodeId, nonce)) < DIFFICULTY) nonce += 1n;
        hashes += Number(nonce) + 2;
        if (sharedBits(dhtIdOfNode(nodeId, nonce), target) >= 6) break;
      }
    }
    // Expected 2^6 tries × 2^6 hashes each = 4,096 per identity; a cheap id scheme would average ~2^6 + 2^6.
    expect(hashes / trials).toBeGreaterThan(2 ** 11);
  });
});
