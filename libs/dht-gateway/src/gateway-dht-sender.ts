/**
 * The sending half: the four DHT calls to peers whose endpoints are DHT endpoints
 * (`<node id>:<nonce>@host:port`, dht-peer-id.ts), carried by PeerService's DHT methods over the
 * gateway client (mutual TLS, the dialled node id pinned). It sends only as this node's own DHT id,
 * with its proof-of-work nonce, and believes a reply only as far as the pinned connection proves: a
 * ping must answer with the dialled node's DHT id, and every contact in a reply must name an
 * endpoint whose node id and nonce give the contact's id, the nonce a proof of work, so a peer
 * cannot plant another node's id at an address it chose, nor list an id that cost no work. It
 * needs no receiving half: a gateway that relays its registry's calls (gateway-svc) uses it alone,
 * and createGatewayDhtTransport pairs it with a DhtInbound for an in-process DHT.
 */
import { ErrorCode, isSwarmError, SwarmError } from '@swarm/contracts';
import type { Stopwatch, WallClock } from '@swarm/determinism';
import { systemScheduler, systemStopwatch } from '@swarm/determinism';
import type { DhtTransport, FindNodeResponse, FindValueResponse } from '@swarm/dht';
import { checkFindNodeResponse, checkFindValueResponse, checkPingResponse, checkStoreResponse, DEFAULT_DIAL_BACK_LIMITS, pagingOf } from '@swarm/dht';
import type { HostPort, PeerClient, PeerMethod, PeerRequest, PeerResponse } from '@swarm/gateway';
import { answeredByPeer, dialPeer, formatHostPort, PeerIdentityError, shortId } from '@swarm/gateway';
import type { NodeCertificate } from '@swarm/identity';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { RecencyMap } from '@swarm/recency-map';
import { createBoundedResolver } from './bounded-resolver';
import type { AddressScope, ResolveHost } from './claimed-address';
import { claimedHostProblem, dialAddress, networkOfDialled, ownScopeReader } from './claimed-address';
import { checkContactBindings, dhtEndpoint, dhtIdOfNode, invalidDhtReply, peerOfDhtEndpoint } from './dht-peer-id';
import type { NamedDialRate } from './named-dial-rate';
import { createNamedDialRate } from './named-dial-rate';

/** A DHT call waits this long for its answer; lookups move on to other contacts after it. */
export const DEFAULT_DHT_CALL_TIMEOUT_MS = 2_000;
/** Peer clients (one TLS connection each) kept open; the least recently used is closed beyond it. */
export const DEFAULT_MAX_PEER_CLIENTS = 256;
/** Longest claimed id quoted back in a refusal. */
const QUOTED_ID_CHARS = 64;

export interface GatewayDhtSenderOptions {
  /** This node's certificate: its client identity, and the node id its DHT id is taken from. */
  readonly certificate: NodeCertificate;
  /** This node's proof-of-work nonce on its node id (its DHT id derives from both). */
  readonly powNonce: bigint;
  /** The swarm's proof-of-work difficulty, which contacts in replies must meet. */
  readonly powDifficulty: number;
  /** host:port where this node's gateway accepts peers (what others are told to dial). */
  readonly advertise: HostPort;
  readonly clock: WallClock;
  readonly callTimeoutMs?: number;
  /** Largest reply accepted, bytes. */
  readonly maxMessageBytes?: number;
  readonly maxPeerClients?: number;
  /** Resolves the DNS names of peers' endpoints before they are dialled (claimed-address.ts dialAddress); default node's dns.lookup, bounded (bounded-resolver.ts). */
  readonly resolve?: ResolveHost;
  /** New connections by DNS name, counted by the address each resolves to (named-dial-rate.ts); default the dial-back's rate per host, 2 a second. */
  readonly namedDials?: NamedDialRate;
  /** What the default named-dial rate and this node's scope (after a failed lookup) go by; default the process's monotonic clock. */
  readonly stopwatch?: Stopwatch;
  /** Where this node can be reached from (ownScopeReader), shared with the node's other dials; default read from `advertise` alone. */
  readonly ownScope?: () => Promise<AddressScope>;
}

/** The DhtTransport calls without serving: `close` stops sending and closes every peer client. */
export interface GatewayDhtSender extends Omit<DhtTransport, 'listen'> {
  /** The DHT id this node must run its DHT node with (dhtIdOfNode of its node id and nonce). */
  readonly dhtId: string;
}

type DhtBody<M extends PeerMethod> = Omit<PeerRequest<M>, 'senderId' | 'senderAddress' | 'senderPowNonce'>;

/**
 * The contacts of `from`'s reply a lookup may dial: each at an address such a referrer could know a
 * node at, written its one way (claimed-address.ts, as for a sender's own claim). Others are left
 * out, not the whole reply, and so is a second contact at one address: a referrer listing this
 * node's own loopback, one address spelt forty ways, or made-up ids at one address, had the lookup
 * dial where the referrer chose, 18 times for each lookup it answered.
 */
function dialableReferrals<C extends { readonly endpoint: string }>(referrerHost: string, contacts: readonly C[]): C[] {
  const referrer = networkOfDialled(referrerHost);
  // One contact an address: twenty made-up ids at one address were twenty dials there.
  const seen = new Set<string>();
  return contacts.filter((c) => {
    const { address } = peerOfDhtEndpoint(c.endpoint);
    const where = formatHostPort(address);
    if (seen.has(where) || claimedHostProblem(address.host, referrer) !== undefined) return false;
    seen.add(where);
    return true;
  });
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Node's `dns.lookup`, every family, as the resolver reads them (the default of every ResolveHost here). */
export const resolveWithDns: ResolveHost = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

export function createGatewayDhtSender(opts: GatewayDhtSenderOptions): GatewayDhtSender {
  const { certificate, clock } = opts;
  const { powNonce, powDifficulty } = opts;
  const dhtId = dhtIdOfNode(certificate.nodeId, powNonce);
  const senderAddress = formatHostPort(opts.advertise);
  const endpoint = dhtEndpoint(certificate.nodeId, opts.advertise, powNonce);
  const timeoutMs = opts.callTimeoutMs ?? DEFAULT_DHT_CALL_TIMEOUT_MS;
  const maxClients = opts.maxPeerClients ?? DEFAULT_MAX_PEER_CLIENTS;
  if (!(timeoutMs > 0 && Number.isFinite(timeoutMs))) throw new RangeError(`callTimeoutMs must be a finite number > 0, got ${timeoutMs}`);
  if (!Number.isSafeInteger(maxClients) || maxClients < 1) throw new RangeError(`maxPeerClients must be a whole number >= 1, got ${maxClients}`);
  /** The least recently used closed past maxClients. */
  const clients = new RecencyMap<string, PeerClient>(maxClients, undefined, (_to, old) => old.close());
  /** The address each client dials: a name's, what it resolved to (whose network a referrer is on). */
  const dialled = new WeakMap<PeerClient, string>();
  let closed = false;
  // Real time both: a virtual stopwatch beside real timers would never see a lookup as slow (helper-173).
  const resolve = opts.resolve ?? createBoundedResolver(resolveWithDns, { stopwatch: systemStopwatch, scheduler: systemScheduler });
  const namedDials = opts.namedDials ?? createNamedDialRate(opts.stopwatch ?? systemStopwatch, DEFAULT_DIAL_BACK_LIMITS.maxPerHostPerSecond);
  /** Where this node can be reached from, by the address it tells peers. */
  const scopeOfSelf = opts.ownScope ?? ownScopeReader(opts.advertise.host, resolve, [], opts.stopwatch ?? systemStopwatch);

  async function clientFor(to: string, method: PeerMethod): Promise<PeerClient> {
    const cached = clients.use(to);
    if (cached) return cached;
    const peer = peerOfDhtEndpoint(to);
    let host: string;
    try {
      host = await dialAddress(peer.address.host, await scopeOfSelf(), resolve);
    } catch (err) {
      throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `DHT contact ${shortId(peer.nodeId)}: ${(err as Error).message.slice(0, 200)}`, undefined, { cause: err });
    }
    // Another call may have made one meanwhile.
    const made = clients.get(to);
    if (made) return made;
    if (isIP(peer.address.host) === 0) {
      const waitMs = namedDials.book(host, method === 'dhtPing' ? 'ping' : 'lookup');
      if (waitMs === undefined) {
        throw new SwarmError(
          ErrorCode.ERROR_CODE_UNAVAILABLE,
          `DHT contact ${shortId(peer.nodeId)}: its name resolves to ${host}, dialled by names ${namedDials.perSecond} times a second already`,
        );
      }
      if (waitMs > 0) await delay(waitMs);
      const madeMeanwhile = clients.get(to);
      if (madeMeanwhile) return madeMeanwhile;
    }
    // Closed while this call resolved a name or waited its turn: a client made now would be closed by no one (helper-169).
    if (closed) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `DHT transport ${endpoint} is closed`);
    const client = dialPeer({ certificate, peer: { ...peer, address: { host, port: peer.address.port } }, clock, callTimeoutMs: timeoutMs, maxMessageBytes: opts.maxMessageBytes });
    clients.set(to, client);
    dialled.set(client, host);
    return client;
  }

  /** The address `to` was dialled at (a name, as resolved), for the network its referrals are judged by. */
  function referrerHost(to: string): string {
    const client = clients.get(to);
    return (client && dialled.get(client)) ?? peerOfDhtEndpoint(to).address.host;
  }

  async function call<M extends PeerMethod>(method: M, to: string, claimedId: string, body: DhtBody<M>): Promise<PeerResponse<M>> {
    if (closed) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `DHT transport ${endpoint} is closed`);
    if (claimedId !== dhtId)
      throw new SwarmError(
        ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
        `this node sends as DHT id ${dhtId} (its node id's and proof of work's), not '${String(claimedId).slice(0, QUOTED_ID_CHARS)}'`,
      );
    const client = await clientFor(to, method);
    try {
      return await client.call(method, { ...body, senderId: dhtId, senderAddress, senderPowNonce: powNonce } as PeerRequest<M>);
    } catch (err) {
      // A name is resolved again, and its connection counted again (named-dial-rate.ts), at the next call: the peer may have
      // moved. Kept, a client whose peer answered as another node or not at all made a new connection at each call, uncounted
      // (helper-168: a victim's TLS server behind an attacker's names was dialled at every dial-back and lookup).
      if (!answeredByPeer(err) && clients.get(to) === client && !isIP(peerOfDhtEndpoint(to).address.host)) {
        clients.delete(to);
        client.close();
      }
      if (isSwarmError(err)) throw err;
      // The endpoint answers as another node: for the DHT, that contact is unreachable.
      if (err instanceof PeerIdentityError) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, err.message, undefined, { cause: err });
      throw new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, `DHT ${method} to ${shortId(client.peerId)} failed`, undefined, { cause: err });
    }
  }

  return {
    endpoint,
    dhtId,
    async ping(to, request) {
      const reply = checkPingResponse(await call('dhtPing', to, request.id, {}));
      const peer = peerOfDhtEndpoint(to);
      const expected = dhtIdOfNode(peer.nodeId, peer.powNonce);
      if (reply.remoteId !== expected) throw invalidDhtReply(`node ${shortId(peer.nodeId)} answered as DHT id ${reply.remoteId}, not its own ${expected}`);
      return reply;
    },
    async store(to, request) {
      return checkStoreResponse(await call('dhtStore', to, request.id, { key: request.key, value: request.value }));
    },
    async findNode(to, request): Promise<FindNodeResponse> {
      const reply = checkFindNodeResponse(await call('dhtFindNode', to, request.id, { targetId: request.targetId }));
      checkContactBindings(reply.contacts, powDifficulty);
      return { ...reply, contacts: dialableReferrals(referrerHost(to), reply.contacts) };
    },
    async findValue(to, request): Promise<FindValueResponse> {
      const reply = checkFindValueResponse(await call('dhtFindValue', to, request.id, { targetId: request.targetId, key: request.key, ...pagingOf(request) }));
      checkContactBindings(reply.contacts, powDifficulty);
      return { ...reply, contacts: dialableReferrals(referrerHost(to), reply.contacts) };
    },
    async close() {
      closed = true;
      for (const client of clients.values()) client.close();
      clients.clear();
    },
  };
}
