/**
 * Peers for the DHT-over-gateways specs: certificates made once per spec file (a certificate takes a
 * key pair and a signature), their proof-of-work nonces, and a real gateway on loopback answering as
 * a peer with the DHT handlers a spec gives it.
 */
import { systemClock, systemTime } from '@swarm/determinism';
import type { GatewayLimits, GatewayServer, PeerHandlers } from '@swarm/gateway';
import { startGatewayServer } from '@swarm/gateway';
import type { NodeCertificate } from '@swarm/identity';
import { loadOrCreateNodeCertificate } from '@swarm/identity';
import { findPowNonce } from '@swarm/records';
import { silentLogger } from '@swarm/telemetry';
import type { TempDir } from '@swarm/testing';
import { tempDir } from '@swarm/testing';
import type { GatewayDhtSender } from '../gateway-dht-sender';
import { createGatewayDhtSender } from '../gateway-dht-sender';
import type { NamedDialRate } from '../named-dial-rate';

/** The swarm's proof-of-work difficulty in these specs: low, so each node's nonce is found at once. */
export const POW_DIFFICULTY = 4;

/** A node's proof-of-work nonce, as its gateway keeps it (the first one from 0). */
export const nonceOf = (cert: NodeCertificate): bigint => findPowNonce(cert.nodeId, POW_DIFFICULTY);

/** Certificates by index, each made on first use in a temporary directory; `removeAll` in the spec's afterAll. */
export function testCertificates(prefix: string): { certificate: (index: number) => Promise<NodeCertificate>; removeAll: () => Promise<void> } {
  const dirs: TempDir[] = [];
  const certificates: NodeCertificate[] = [];
  const certificate = async (index: number): Promise<NodeCertificate> => {
    while (certificates.length <= index) {
      const dir = await tempDir(prefix);
      dirs.push(dir);
      certificates.push(await loadOrCreateNodeCertificate(dir.path, systemClock));
    }
    return certificates[index];
  };
  const removeAll = async (): Promise<void> => {
    await Promise.all(dirs.map((d) => d.remove()));
  };
  return { certificate, removeAll };
}

/** A gateway on loopback answering as `cert`'s node, with `dht`'s handlers (and nodeInfo and ping). */
export function serveAsPeer(cert: NodeCertificate, dht: Partial<PeerHandlers>, limits: GatewayLimits): Promise<GatewayServer> {
  return startGatewayServer({
    certificate: cert,
    listen: { host: '127.0.0.1', port: 0 },
    limits,
    log: silentLogger(),
    time: systemTime,
    handlers: {
      nodeInfo: ({ peerId }) => ({ nodeId: cert.nodeId, version: 'test', advertisedAddress: '', peerNodeId: peerId, powNonce: nonceOf(cert) }),
      ping: ({ request }) => ({ payload: request.payload }),
      ...dht,
    },
  });
}

/** A sender on loopback whose resolver reads every name under `zone` as 127.0.0.1, its new connections by name booked with `namedDials`. */
export function senderByNames(cert: NodeCertificate, zone: string, namedDials: NamedDialRate, callTimeoutMs = 2_000): GatewayDhtSender {
  const resolve = (host: string) => Promise.resolve(host.endsWith(zone) ? ['127.0.0.1'] : []);
  return createGatewayDhtSender({
    certificate: cert,
    powNonce: nonceOf(cert),
    powDifficulty: POW_DIFFICULTY,
    advertise: { host: '127.0.0.1', port: 4001 },
    clock: systemClock,
    callTimeoutMs,
    resolve,
    namedDials,
  });
}
