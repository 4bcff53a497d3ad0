/**
 * The identity binding of peer TLS, the same on both ends: a peer is the node whose id its
 * certificate claims (subject `CN=<node id>`) only when sha256(the certificate's Ed25519 key) is that
 * id. TLS itself proves the peer holds the key (it signs the handshake), so no CA is involved and
 * nothing else in the certificate is trusted (as libp2p binds peer ids to TLS keys).
 */
import { nodeIdOfCertificate } from '@swarm/identity';
import { X509Certificate } from 'node:crypto';

export class PeerIdentityError extends Error {
  readonly code = 'SWARM_PEER_IDENTITY';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PeerIdentityError';
  }
}

/** Short form of a node id for messages and logs. */
export function shortId(nodeId: string): string {
  return `${nodeId.slice(0, 12)}…`;
}

/** The node id a peer's certificate proves; throws PeerIdentityError saying why it proves none. */
export function verifyPeerCertificate(der: Uint8Array | undefined, nowMs: number): string {
  if (!der || der.length === 0) throw new PeerIdentityError('the peer presented no certificate');
  let cert: X509Certificate;
  let keyId: string;
  try {
    cert = new X509Certificate(der);
    keyId = nodeIdOfCertificate(der);
  } catch (err) {
    throw new PeerIdentityError(`the peer's certificate is unusable: ${(err as Error).message}`, { cause: err });
  }
  const claim = /^CN=([0-9a-f]{64})$/.exec(cert.subject)?.[1];
  if (claim === undefined) throw new PeerIdentityError("the peer's certificate claims no node id (subject must be CN=<node id>)");
  if (claim !== keyId) throw new PeerIdentityError(`the peer's certificate claims node ${shortId(claim)} but its key is node ${shortId(keyId)}`);
  if (nowMs < Date.parse(cert.validFrom) || nowMs > Date.parse(cert.validTo)) {
    throw new PeerIdentityError(`the certificate of node ${shortId(keyId)} is not valid now (valid ${cert.validFrom} to ${cert.validTo})`);
  }
  return keyId;
}
