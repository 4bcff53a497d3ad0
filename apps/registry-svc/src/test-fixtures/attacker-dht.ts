/**
 * For the registry's attack specs: an attacker's DHT node next to a key (a real libs/dht node on
 * the memory network, its handlers replaced where the attack says), and keys made from a seed, so
 * that a payer's sighting key, and so the DHT each run meets, is the same every run.
 */
import type { VirtualTime } from '@swarm/determinism';
import { seededRandom } from '@swarm/determinism';
import type { DhtHandlers, DhtNode, DhtTransport, MemoryNetwork } from '@swarm/dht';
import { startDhtNode } from '@swarm/dht';
import { createHash, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { createRecordValidator } from '../provider-record';
import { drive } from './memory-dht';
import { TEST_POW_DIFFICULTY } from './test-signer';

/** The DHT id one bit from where `key` lives (sha1 of the key): the closest any node can be. */
export function idNextTo(key: string): string {
  const hex = createHash('sha1').update(key).digest('hex');
  return hex.slice(0, -1) + (parseInt(hex.slice(-1), 16) ^ 1).toString(16);
}

/** XOR distance of two 40-hex ids, as a bigint. */
export const distance = (a: string, b: string): bigint => BigInt(`0x${a}`) ^ BigInt(`0x${b}`);

/** `inner` with the handlers it serves replaced by `wrap(handlers)`. */
export function wrapped(inner: DhtTransport, wrap: (h: DhtHandlers) => DhtHandlers): DhtTransport {
  return {
    endpoint: inner.endpoint,
    ping: (to, r) => inner.ping(to, r),
    store: (to, r) => inner.store(to, r),
    findNode: (to, r) => inner.findNode(to, r),
    findValue: (to, r) => inner.findValue(to, r),
    listen: (h) => inner.listen(wrap(h)),
    close: () => inner.close(),
  };
}

/** An Ed25519 key made from `seed` (the same every run): its public key and a signer. */
export function seededKey(seed: number): { readonly publicKey: Uint8Array; readonly sign: (data: Uint8Array) => Uint8Array } {
  const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, seed)]), format: 'der', type: 'pkcs8' });
  return {
    publicKey: new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).subarray(12)),
    sign: (data) => new Uint8Array(sign(null, data, privateKey)),
  };
}

/**
 * The attacker's node next to `key` on `net` (endpoint `endpoint`), serving what `wrap` makes of an
 * honest node's handlers, known to `nodes` as it would be in a swarm (it calls each of them).
 */
export async function startNodeNextTo(
  vt: VirtualTime,
  net: MemoryNetwork,
  key: string,
  nodes: readonly DhtNode[],
  wrap: (h: DhtHandlers) => DhtHandlers,
  endpoint = 'evil',
): Promise<DhtNode> {
  const node = await drive(
    vt,
    startDhtNode(
      {
        transport: wrapped(net.transport(endpoint), wrap),
        clock: vt.clock,
        scheduler: vt.scheduler,
        random: seededRandom(99),
        validate: createRecordValidator(TEST_POW_DIFFICULTY),
      },
      { id: idNextTo(key), seeds: [nodes[0].endpoint], bucketSize: 4 },
    ),
  );
  for (const n of nodes) await drive(vt, node.findClosest(n.id));
  await vt.advance(1_000);
  return node;
}
