/**
 * gateway-svc, the node's network door: the peer gRPC server with mutual TLS bound to node ids
 * (libs/gateway) beside its bus endpoints. It carries the DHT both ways (registry-svc's calls out to
 * peers, peers' calls in to registry-svc, libs/dht-gateway's two halves), signs the node's
 * record with the node key (records and results are the gateway's to sign; the node's chain and
 * its receipts are credit-svc's, docs/chain.md), carries tasks between nodes with
 * signed results (remote-execute.ts) (issue 13), and carries receipts to be countersigned and pages
 * of nodes' chains between this node's credit-svc and peers (ledger-relay.ts) (issue 14).
 */
import { createBusClient, startBusService } from '@swarm/bus';
import { GatewayHealth, GatewayNodeInfo, GatewayPeers, GatewaySignRecord } from '@swarm/contracts';
import type { Time } from '@swarm/determinism';
import {
  createBoundedResolver,
  createDhtInbound,
  createGatewayDhtSender,
  DEFAULT_RESOLVER_LIMITS,
  listenAddressesOf,
  ownScopeReader,
  peerAddressToDial,
  resolveWithDns,
} from '@swarm/dht-gateway';
import type { GatewayServer } from '@swarm/gateway';
import { formatHostPort, shortId, startGatewayServer } from '@swarm/gateway';
import { loadOrCreateIdentity, loadOrCreateNodeCertificate, loadOrCreatePowNonce } from '@swarm/identity';
import { createServeTickets } from '@swarm/records';
import type { Logger } from '@swarm/telemetry';
import type { NatsConnection } from 'nats';
import type { GatewayConfig } from './config';
import { createDhtInboundRelay, registryTimeoutOf } from './dht-inbound-relay';
import { serveDhtOutboundRelay } from './dht-outbound-relay';
import { createLedgerRelay } from './ledger-relay';
import { createPeerBook } from './peer-book';
import { createPeerPool } from './peer-pool';
import { createRecordSigning, MAX_SIGN_REQUEST_BYTES } from './record-signing';
import { startRemoteExecution } from './remote-execute';
import { createUnpaidServes, DEFAULT_UNPAID_SERVE_LIMITS } from './unpaid-serves';

export const GATEWAY_VERSION = '0.5.0';

export interface GatewayServiceDeps {
  config: GatewayConfig;
  log: Logger;
  nc: NatsConnection;
  time: Time;
}

export interface GatewayServiceHandle {
  /** host:port peers are told to dial. */
  readonly advertisedAddress: string;
  readonly nodeId: string;
  stop(): Promise<void>;
}

export async function startGatewayService(deps: GatewayServiceDeps): Promise<GatewayServiceHandle> {
  const { config, log, nc, time } = deps;
  const certificate = await loadOrCreateNodeCertificate(config.dataDir, time.clock);
  const identity = await loadOrCreateIdentity(config.dataDir);
  const nodeId = certificate.nodeId;
  if (identity.nodeId !== nodeId) throw new Error(`the node key and the TLS certificate in ${config.dataDir} are of different nodes`);
  // Found once per node and kept beside the key: a restart costs one hash.
  const powNonce = await loadOrCreatePowNonce(config.dataDir, nodeId, config.powDifficulty);
  const peerBook = createPeerBook();
  const inbound = createDhtInbound({ powDifficulty: config.powDifficulty });
  let advertisedAddress = '';
  /** Where this node can be reached from, by the address it advertises (known once the server listens: a dial before waits for it). */
  let advertisedHostIs: (host: string) => void = () => undefined;
  const advertisedHost = new Promise<string>((resolve) => (advertisedHostIs = resolve));
  // Names that records and tasks' endpoints give: a lookup holds one of libuv's threads until the
  // resolver answers (threadpool-size.ts), so two at a time (bounded-resolver.ts)...
  const lookUpPeer = createBoundedResolver(resolveWithDns, time);
  // ...and one for names in strangers' DHT claims and referrals, apart, so those cannot take the peers' turns.
  const lookUpDhtContact = createBoundedResolver(resolveWithDns, time, { ...DEFAULT_RESOLVER_LIMITS, maxInFlight: 1 });
  // This node's own name, which its operator chose, has a turn of its own: read again every 30 s
  // after a failure, it found the peers' turns held by strangers' names (helper-173).
  const lookUpOwnName = createBoundedResolver(resolveWithDns, time, { ...DEFAULT_RESOLVER_LIMITS, maxInFlight: 1 });
  const { scope } = config;
  const ownScope = scope === 'auto' ? ownScopeReader(advertisedHost, lookUpOwnName, listenAddressesOf(config.listen.host), time.stopwatch) : () => Promise.resolve(scope);
  const bus = createBusClient(nc, log);
  // One client per peer for tasks, receipts and chain pages alike; the largest answer taken is the gateway's message limit.
  const pool = createPeerPool({
    certificate,
    clock: time.clock,
    maxMessageBytes: config.limits.maxMessageBytes,
    // What a peer said, for this node's operator only: requesters get the code (peer-status.ts).
    onPeerError: (peer, err) => log.debug({ peer: peer.nodeId, code: err.code, peerWords: err.peerWords }, `peer ${shortId(peer.nodeId)} answered an error`),
    // Records and tasks' endpoints name addresses their nodes chose: only what a node where this one is could be told of.
    addressToDial: async (peer, unreachedAt) => ({
      ...peer,
      address: { host: await peerAddressToDial(peer.address.host, await ownScope(), lookUpPeer, unreachedAt), port: peer.address.port },
    }),
    stopwatch: time.stopwatch,
    // An answer that reached its peer outlasts strangers' names in the resolver's memory (helper-174), one name a node id (helper-175).
    onReached: (peer) => lookUpPeer.keep(peer.address.host, peer.nodeId),
  });
  // Given with every result served to a peer, asked back in the receipt that pays for it.
  const tickets = createServeTickets(identity);
  // What peers owe for tasks run for them: a peer that does not pay gets no more (unpaid-serves.ts).
  const unpaid = createUnpaidServes(DEFAULT_UNPAID_SERVE_LIMITS, time.stopwatch);
  const remote = startRemoteExecution({ signer: identity, tickets, nodeId, bus, pool, log, time, peerTasks: config.peerTasks, unpaid });
  const ledger = createLedgerRelay({ nodeId, bus, pool, peerBook, log, clock: time.clock, stopwatch: time.stopwatch, tickets, unpaid });
  const server: GatewayServer = await startGatewayServer({
    certificate,
    listen: config.listen,
    limits: config.limits,
    log,
    time,
    handlers: {
      nodeInfo: ({ peerId }) => ({ nodeId, version: GATEWAY_VERSION, advertisedAddress, peerNodeId: peerId, powNonce }),
      ping: ({ request }) => ({ payload: request.payload }),
      ...inbound.peerHandlers,
      execute: remote.execute,
      ...ledger.peerHandlers,
    },
  });
  const advertise = config.advertise ?? server.address;
  advertisedAddress = formatHostPort(advertise);
  advertisedHostIs(advertise.host);
  // Read now rather than at the first dial, which waited for this lookup and then the peer's (3 s each when slow).
  void ownScope();
  log.info({ listen: formatHostPort(server.address), advertise: advertisedAddress, certExpires: new Date(certificate.notAfterMs).toISOString() }, 'gateway listening for peers');
  const sender = createGatewayDhtSender({
    certificate,
    advertise,
    powNonce,
    powDifficulty: config.powDifficulty,
    clock: time.clock,
    stopwatch: time.stopwatch,
    ownScope,
    resolve: lookUpDhtContact,
    callTimeoutMs: config.dhtCallTimeoutMs,
    maxMessageBytes: config.limits.maxMessageBytes,
  });
  const signing = createRecordSigning({ signer: identity, powNonce, gatewayAddress: advertisedAddress, clock: time.clock });

  const svc = await startBusService({ nc, log, name: 'gateway-svc', version: GATEWAY_VERSION, description: 'Peer-to-peer door (gRPC, mutual TLS)', nodeId });
  svc.serve(GatewayPeers, () => ({ peers: peerBook.list(nodeId) }));
  svc.serve(GatewayNodeInfo, () => ({ nodeId, version: GATEWAY_VERSION, advertisedAddress, peerNodeId: '', powNonce }));
  svc.serve(GatewaySignRecord, (req) => signing.sign(req), { maxRequestBytes: MAX_SIGN_REQUEST_BYTES });
  serveDhtOutboundRelay(svc, { sender, nodeId, peerBook, time });
  remote.serve(svc);
  ledger.serve(svc);
  svc.serveHealth(GatewayHealth, () => ({
    peers: String(server.peerCount()),
    knownPeers: String(peerBook.size()),
    listening: 'true',
    listen: formatHostPort(server.address),
    advertise: advertisedAddress,
  }));
  inbound.listen(createDhtInboundRelay({ bus: svc.client, peerBook, clock: time.clock, timeoutMs: registryTimeoutOf(config.dhtCallTimeoutMs) }));
  return {
    advertisedAddress,
    nodeId,
    async stop() {
      inbound.close();
      await svc.stop(config.graceMs);
      await server.stop(config.graceMs);
      await sender.close();
      pool.close();
    },
  };
}
