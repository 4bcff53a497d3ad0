/**
 * The DHT's RPC over this node's bus: registry-svc -> NATS -> gateway-svc -> gRPC (mutual TLS) ->
 * peer gateway -> NATS -> peer registry-svc. Endpoints are DHT endpoints,
 * `<node id>:<proof-of-work nonce>@host:port`, and a node's DHT id is a hash of its node id and nonce
 * (@swarm/dht-gateway dht-peer-id.ts), so whoever dials a contact pins the key its id came from, and
 * every id cost a proof of work.
 *
 * Outbound (GatewayDht*, `peer` = the node to call) sends only as this node's own DHT id and
 * believes a reply only as far as the pinned connection proves: a ping answers with the dialled
 * node's DHT id, and every contact's endpoint names a node and nonce whose DHT id is the contact's
 * id, the nonce a proof of work. Inbound (RegistryDht*, `peer` = the caller as its gateway
 * authenticated it and checked its proof of work) takes the sender's id from `peer`, never from the
 * message, and checks every field as the memory path does (a store's
 * `network`, the block the caller's connection came from, is the gateway's to say). The
 * inbound endpoints answer from service start: UNAVAILABLE until a DHT listens (the gateway may be
 * up before this node's DHT is) and again after close.
 */
import type { BusClient, BusService } from '@swarm/bus';
import type { Rpc } from '@swarm/contracts';
import {
  ErrorCode,
  GatewayDhtFindNode,
  GatewayDhtFindValue,
  GatewayDhtPing,
  GatewayDhtStore,
  isSwarmError,
  RegistryDhtFindNode,
  RegistryDhtFindValue,
  RegistryDhtPing,
  RegistryDhtStore,
  SwarmError,
} from '@swarm/contracts';
import type { DhtHandlers, DhtTransport, FindNodeResponse, FindValueResponse } from '@swarm/dht';
import {
  checkFindNodeRequest,
  checkFindNodeResponse,
  checkFindValueRequest,
  checkFindValueResponse,
  checkNetwork,
  checkPingRequest,
  checkPingResponse,
  checkStoreRequest,
  checkStoreResponse,
  createDhtHandlerSlot,
  findValueReplyOf,
  MAX_VALUE_BYTES,
  pagingOf,
} from '@swarm/dht';
import { checkContactBindings, dhtEndpoint, dhtIdOfNode, invalidDhtReply, peerOfDhtEndpoint } from '@swarm/dht-gateway';
import type { DhtPeer } from '@swarm/dht-gateway';
import type { HostPort } from '@swarm/gateway';
import type { PeerSightings } from './peer-sightings';

/** A DHT call waits this long: a little past the gateway's own peer call timeout, so its typed answer (unreachable, timed out) arrives first. */
export const DEFAULT_DHT_CALL_TIMEOUT_MS = 2_500;
/** A relayed DHT request carries at most one value (16 KiB) and a few short strings. */
export const DHT_MAX_REQUEST_BYTES = MAX_VALUE_BYTES + 4 * 1024;
const SHORT_ID_CHARS = 12;

export interface BusDhtInbound {
  /** Starts passing relayed calls to the DHT; once. */
  listen(handlers: DhtHandlers): void;
  /** Stops passing calls; later ones answer UNAVAILABLE. */
  close(): void;
}

/** The caller of a relayed request: its endpoint as the DHT learns it, and its DHT id (the gateway checked the nonce's proof of work). */
function callerOf(peer: string): { readonly from: string; readonly id: string; readonly nodeId: string } {
  const caller = peerOfDhtEndpoint(peer);
  return { from: dhtEndpoint(caller.nodeId, caller.address, caller.powNonce), id: dhtIdOfNode(caller.nodeId, caller.powNonce), nodeId: caller.nodeId };
}

/** Serves RegistryDht* on `svc` from now on; calls reach the DHT once it listens. */
export function serveBusDhtInbound(svc: Pick<BusService, 'serve'>, sightings?: PeerSightings): BusDhtInbound {
  const slot = createDhtHandlerSlot();
  const serving = slot.serving;
  const caller = (peer: string) => {
    const c = callerOf(peer);
    sightings?.saw(c.nodeId);
    return c;
  };
  const opts = { maxRequestBytes: DHT_MAX_REQUEST_BYTES };

  svc.serve(
    RegistryDhtPing,
    async (req) => {
      const { from, id } = caller(req.peer);
      const reply = await serving().ping(from, checkPingRequest({ id }), checkNetwork(req.network));
      return { remoteId: reply.remoteId };
    },
    opts,
  );
  svc.serve(
    RegistryDhtStore,
    async (req) => {
      const { from, id } = caller(req.peer);
      const reply = await serving().store(from, checkStoreRequest({ id, key: req.key, value: req.value }), checkNetwork(req.network));
      return { stored: reply.stored, refusal: reply.refusal };
    },
    opts,
  );
  svc.serve(
    RegistryDhtFindNode,
    async (req) => {
      const { from, id } = caller(req.peer);
      const reply = await serving().findNode(from, checkFindNodeRequest({ id, targetId: req.targetId }), checkNetwork(req.network));
      return { contacts: reply.contacts.map((c) => ({ id: c.id, endpoint: c.endpoint })) };
    },
    opts,
  );
  svc.serve(
    RegistryDhtFindValue,
    async (req) => {
      const { from, id } = caller(req.peer);
      const reply = await serving().findValue(
        from,
        checkFindValueRequest({ id, targetId: req.targetId, key: req.key, paged: req.paged, after: req.after }),
        checkNetwork(req.network),
      );
      return findValueReplyOf(reply);
    },
    opts,
  );

  return {
    listen: slot.listen,
    close: slot.close,
  };
}

export interface BusDhtTransportOptions {
  readonly client: BusClient;
  readonly inbound: BusDhtInbound;
  /** This node's id, as its gateway reports it (GatewayNodeInfo). */
  readonly nodeId: string;
  /** This node's proof-of-work nonce, as its gateway reports it (GatewayNodeInfo): its DHT id derives from both. */
  readonly powNonce: bigint;
  /** The swarm's proof-of-work difficulty, which contacts in replies must meet. */
  readonly powDifficulty: number;
  /** Where this node's gateway accepts peers (GatewayNodeInfo's advertised address). */
  readonly gatewayAddress: HostPort;
  readonly callTimeoutMs?: number;
  readonly sightings?: PeerSightings;
}

export interface CallOptions {
  /** Overrides the transport's call timeout (a round-trip probe waits less than a lookup). */
  readonly timeoutMs?: number;
}

export interface BusDhtTransport extends DhtTransport {
  /** The DHT id this node runs its DHT node with (dhtIdOfNode of its node id and nonce). */
  readonly dhtId: string;
  readonly nodeId: string;
  /** The node's proof-of-work nonce its DHT id derives from (it vouches for the node's sightings too). */
  readonly powNonce: bigint;
  ping(to: string, request: { readonly id: string }, opts?: CallOptions): Promise<{ readonly remoteId: string }>;
}

export function createBusDhtTransport(opts: BusDhtTransportOptions): BusDhtTransport {
  const { client, inbound, nodeId, sightings, powDifficulty } = opts;
  const dhtId = dhtIdOfNode(nodeId, opts.powNonce);
  const endpoint = dhtEndpoint(nodeId, opts.gatewayAddress, opts.powNonce);
  const timeoutMs = opts.callTimeoutMs ?? DEFAULT_DHT_CALL_TIMEOUT_MS;
  if (!(timeoutMs > 0 && Number.isFinite(timeoutMs))) throw new RangeError(`callTimeoutMs must be a finite number > 0, got ${timeoutMs}`);
  let closed = false;

  async function call<Req extends { peer: string }, Res>(
    rpc: Rpc<Req, Res>,
    to: string,
    claimedId: string,
    req: Req,
    callTimeoutMs = timeoutMs,
  ): Promise<{ reply: Res; peer: DhtPeer }> {
    if (closed) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `DHT transport ${endpoint} is closed`);
    if (claimedId !== dhtId) {
      throw new SwarmError(
        ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
        `this node sends as DHT id ${dhtId} (its node id's and proof of work's), not '${String(claimedId).slice(0, 64)}'`,
      );
    }
    const peer = peerOfDhtEndpoint(to);
    try {
      const reply = await client.request(rpc, req, { timeoutMs: callTimeoutMs });
      sightings?.saw(peer.nodeId);
      return { reply, peer };
    } catch (err) {
      if (isSwarmError(err)) throw err;
      throw new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, `DHT ${rpc.endpoint} to ${peer.nodeId.slice(0, SHORT_ID_CHARS)} failed`, undefined, { cause: err });
    }
  }

  return {
    endpoint,
    dhtId,
    nodeId,
    powNonce: opts.powNonce,
    async ping(to, request, callOpts = {}) {
      const { reply, peer } = await call(GatewayDhtPing, to, request.id, { peer: to, network: '' }, callOpts.timeoutMs);
      const checked = checkPingResponse(reply);
      const expected = dhtIdOfNode(peer.nodeId, peer.powNonce);
      if (checked.remoteId !== expected) throw invalidDhtReply(`node ${peer.nodeId.slice(0, SHORT_ID_CHARS)} answered as DHT id ${checked.remoteId}, not its own ${expected}`);
      return checked;
    },
    async store(to, request) {
      const { reply } = await call(GatewayDhtStore, to, request.id, { peer: to, key: request.key, value: request.value, network: '' });
      return checkStoreResponse(reply);
    },
    async findNode(to, request): Promise<FindNodeResponse> {
      const { reply } = await call(GatewayDhtFindNode, to, request.id, { peer: to, targetId: request.targetId, network: '' });
      const checked = checkFindNodeResponse(reply);
      checkContactBindings(checked.contacts, powDifficulty);
      return checked;
    },
    async findValue(to, request): Promise<FindValueResponse> {
      const { reply } = await call(GatewayDhtFindValue, to, request.id, { peer: to, targetId: request.targetId, key: request.key, network: '', ...pagingOf(request) });
      const checked = checkFindValueResponse(reply);
      checkContactBindings(checked.contacts, powDifficulty);
      return checked;
    },
    listen(handlers) {
      inbound.listen(handlers);
    },
    async close() {
      closed = true;
      inbound.close();
    },
  };
}
