/**
 * For tests: stands in for the gateways of several nodes, each on its own bus. On a node's bus it
 * serves what registry-svc asks its gateway: NodeInfo, SignRecord (a test key, test-signer.ts) and
 * the outgoing DHT calls, which it delivers as the incoming RegistryDht* request on the callee's
 * bus with `peer` = the caller's endpoint, as two gateways joined by gRPC would. A cut node's
 * gateway answers UNAVAILABLE, as one that cannot connect does.
 */
import type { BusService } from '@swarm/bus';
import { createBusClient, startBusService } from '@swarm/bus';
import type { Rpc } from '@swarm/contracts';
import {
  ErrorCode,
  GatewayDhtFindNode,
  GatewayDhtFindValue,
  GatewayDhtPing,
  GatewayDhtStore,
  GatewayNodeInfo,
  GatewaySignRecord,
  RegistryDhtFindNode,
  RegistryDhtFindValue,
  RegistryDhtPing,
  RegistryDhtStore,
  SignedNodeRecord,
  SwarmError,
} from '@swarm/contracts';
import type { NodeRecord } from '@swarm/contracts';
import type { WallClock } from '@swarm/determinism';
import type { DhtPeer } from '@swarm/dht-gateway';
import { dhtEndpoint, peerOfDhtEndpoint } from '@swarm/dht-gateway';
import type { HostPort } from '@swarm/gateway';
import { formatHostPort, networkOf } from '@swarm/gateway';
import { createRecord } from '@swarm/records';
import { silentLogger } from '@swarm/telemetry';
import type { NatsConnection } from 'nats';
import type { TestSigner } from './test-signer';
import { createTestSigner } from './test-signer';

/** Shorter than the registry's DHT call timeout, as a real gateway's peer call timeout is. */
const RELAY_TIMEOUT_MS = 2_000;
const FIRST_PORT = 7401;

export interface RelayNode {
  readonly nodeId: string;
  readonly address: HostPort;
  /** `<node id>:<nonce>@host:port`, the node's DHT endpoint. */
  readonly endpoint: string;
  readonly signer: TestSigner;
}

export interface LoopbackRelay {
  /** Serves a new node's gateway subjects on `nc`; a new key and the next free port unless given. */
  add(nc: NatsConnection, node?: { readonly signer?: TestSigner; readonly port?: number }): Promise<RelayNode>;
  /** Calls to the node answer UNAVAILABLE until restored. */
  cut(nodeId: string): void;
  restore(nodeId: string): void;
  /** Records the node's gateway signed, newest last. */
  signed(nodeId: string): readonly NodeRecord[];
  stop(): Promise<void>;
}

interface Member extends RelayNode {
  readonly nc: NatsConnection;
  readonly svc: BusService;
  readonly records: NodeRecord[];
}

export function createLoopbackRelay(opts: { clock: WallClock; powDifficulty?: number }): LoopbackRelay {
  const members = new Map<string, Member>();
  const cut = new Set<string>();
  const log = silentLogger();

  function target(peer: string): Member {
    let address: DhtPeer | undefined;
    try {
      address = peerOfDhtEndpoint(peer);
    } catch {
      address = undefined;
    }
    const member = address ? members.get(address.nodeId) : undefined;
    if (!member || !address || formatHostPort(member.address) !== formatHostPort(address.address) || cut.has(member.nodeId)) {
      throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `peer ${peer.slice(0, 80)} is unreachable`);
    }
    return member;
  }

  function relay<Req extends { peer: string }, Res>(from: Member, out: Rpc<Req, Res>, into: Rpc<Req, Res>): void {
    from.svc.serve(out, async (req) => {
      if (cut.has(from.nodeId)) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'this gateway is cut off');
      const to = target(req.peer);
      // A store carries the network of the caller's connection, as a real gateway reads it off the socket.
      const relayed = 'network' in req ? { ...req, peer: from.endpoint, network: networkOf(from.address.host) } : { ...req, peer: from.endpoint };
      return createBusClient(to.nc, log).request(into, relayed, { timeoutMs: RELAY_TIMEOUT_MS });
    });
  }

  return {
    async add(nc, node = {}) {
      const signer = node.signer ?? createTestSigner(opts.powDifficulty);
      const address: HostPort = { host: '127.0.0.1', port: node.port ?? FIRST_PORT + members.size };
      const svc = await startBusService({ nc, log, name: 'gateway-svc', version: '0.0.1', description: 'test relay', nodeId: signer.nodeId });
      const member: Member = { nodeId: signer.nodeId, address, endpoint: dhtEndpoint(signer.nodeId, address, signer.powNonce), signer, nc, svc, records: [] };
      members.set(member.nodeId, member);
      svc.serve(GatewayNodeInfo, () => ({ nodeId: member.nodeId, version: 'loopback', advertisedAddress: formatHostPort(address), peerNodeId: '', powNonce: signer.powNonce }));
      svc.serve(GatewaySignRecord, (req) => {
        const made = createRecord(
          {
            gatewayAddress: formatHostPort(address),
            skills: req.skills,
            capacity: req.capacity,
            load: req.load,
            resources: req.resources ?? { backend: 'cpu', threads: 0 },
            powNonce: signer.powNonce,
            ttlMs: Number(req.ttlMs),
          },
          signer,
          opts.clock,
          { previous: member.records.at(-1) },
        );
        member.records.push(made.record);
        return SignedNodeRecord.decode(made.bytes);
      });
      relay(member, GatewayDhtPing, RegistryDhtPing);
      relay(member, GatewayDhtStore, RegistryDhtStore);
      relay(member, GatewayDhtFindNode, RegistryDhtFindNode);
      relay(member, GatewayDhtFindValue, RegistryDhtFindValue);
      return member;
    },
    cut: (nodeId) => void cut.add(nodeId),
    restore: (nodeId) => void cut.delete(nodeId),
    signed: (nodeId) => members.get(nodeId)?.records ?? [],
    async stop() {
      await Promise.all([...members.values()].map((m) => m.svc.stop(500)));
      members.clear();
    },
  };
}
