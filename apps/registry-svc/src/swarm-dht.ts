/**
 * This node's place in the swarm: once its gateway says who the node is and where peers reach it
 * (GatewayNodeInfo; the gateway may start after the registry, so it is asked until it answers), a
 * DHT node on the bus transport joins through the seeds, or starts a new swarm without any. Nothing
 * here blocks the service: it serves local providers meanwhile, and while no seed has answered (or
 * every contact has gone) the DHT's refresh bootstraps again every few seconds.
 */
import type { BusClient } from '@swarm/bus';
import { ErrorCode, GatewayNodeInfo, isSwarmError, SwarmError } from '@swarm/contracts';
import type { CancelTimer, Random, Time } from '@swarm/determinism';
import type { DhtLog, DhtNode, RecordValidator } from '@swarm/dht';
import { startDhtNode } from '@swarm/dht';
import { dhtEndpoint, dhtIdOfNode, dialledHostOf, peerOfDhtEndpoint } from '@swarm/dht-gateway';
import type { HostPort } from '@swarm/gateway';
import { NODE_ID_PATTERN, parseHostPort } from '@swarm/gateway';
import { findPowNonce, hasProofOfWork } from '@swarm/records';
import type { Logger } from '@swarm/telemetry';
import type { BusDhtInbound, BusDhtTransport } from './bus-dht-transport';
import { createBusDhtTransport } from './bus-dht-transport';
import type { RegistrySwarmConfig, Seed } from './config';
import type { PeerSightings } from './peer-sightings';

export const NODE_INFO_TIMEOUT_MS = 1_000;
/** First wait before asking the gateway again; doubles up to the maximum. */
export const GATEWAY_RETRY_MIN_MS = 250;
export const GATEWAY_RETRY_MAX_MS = 5_000;
/** While the routing table is empty, the seeds are tried again this often. */
export const BOOTSTRAP_RETRY_MS = 3_000;

export interface RunningDht {
  readonly node: DhtNode;
  readonly transport: BusDhtTransport;
}

export interface SwarmDhtDeps {
  readonly client: BusClient;
  readonly inbound: BusDhtInbound;
  readonly sightings: PeerSightings;
  readonly swarm: RegistrySwarmConfig;
  readonly validate: RecordValidator;
  readonly time: Time;
  readonly random: Random;
  readonly log: Logger;
  /** Called once, when the DHT node runs. */
  onStarted(running: RunningDht): void;
}

export interface SwarmDht {
  running(): RunningDht | undefined;
  /** For health: the DHT's state, its contacts, the seeds and how many of them it knows now. */
  health(): Record<string, string>;
  stop(): Promise<void>;
}

/** This node as its gateway reports it; UNAVAILABLE while the gateway gives no usable answer. */
async function askGateway(client: BusClient, powDifficulty: number): Promise<{ nodeId: string; address: HostPort; powNonce: bigint }> {
  const info = await client.request(GatewayNodeInfo, {}, { timeoutMs: NODE_INFO_TIMEOUT_MS });
  const address = parseHostPort(info.advertisedAddress);
  if (!NODE_ID_PATTERN.test(info.nodeId) || !address || address.port === 0) {
    throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `the gateway reports no usable node id and advertised address (got '${info.advertisedAddress.slice(0, 300)}')`);
  }
  if (!hasProofOfWork(info.nodeId, info.powNonce, powDifficulty)) {
    throw new SwarmError(
      ErrorCode.ERROR_CODE_UNAVAILABLE,
      `the gateway reports no proof of work of ${powDifficulty} bits on this node's id (SWARM_POW_DIFFICULTY must be the same for gateway-svc and registry-svc)`,
    );
  }
  return { nodeId: info.nodeId, address, powNonce: info.powNonce };
}

/** Hashes of a seed's proof-of-work search between two turns of the event loop (a few ms). */
const POW_SEARCH_CHUNK = 4096;

/**
 * A seed's DHT endpoint: with the nonce its entry gave, or else the first nonce from 0 that meets
 * the difficulty, the one a node keeps (libs/identity pow-nonce.ts): one proof of work per such
 * seed (about 0.1 s at the default difficulty, 16 times that per 4 bits more), searched a chunk at
 * a time so the registry keeps serving meanwhile.
 */
async function seedEndpoint(seed: Seed, powDifficulty: number, signal: AbortSignal): Promise<string> {
  if (seed.powNonce !== undefined) return dhtEndpoint(seed.nodeId, seed.address, seed.powNonce);
  for (let start = 0n; ; start += BigInt(POW_SEARCH_CHUNK)) {
    // A stop does not wait out a search (hours at the highest difficulties).
    if (signal.aborted) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'the DHT is stopping');
    const nonce = firstNonceWithin(seed.nodeId, powDifficulty, start);
    if (nonce !== undefined) return dhtEndpoint(seed.nodeId, seed.address, nonce);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The first nonce from `start` meeting the difficulty within POW_SEARCH_CHUNK hashes, or undefined. */
function firstNonceWithin(nodeId: string, powDifficulty: number, start: bigint): bigint | undefined {
  try {
    return findPowNonce(nodeId, powDifficulty, { start, maxAttempts: POW_SEARCH_CHUNK });
  } catch (err) {
    // findPowNonce's own refusal when the chunk holds none; the arguments were checked by the config.
    if (isSwarmError(err) && err.code === ErrorCode.ERROR_CODE_INVALID_ARGUMENT) return undefined;
    throw err;
  }
}

export function startSwarmDht(deps: SwarmDhtDeps): SwarmDht {
  const { client, log, time, swarm } = deps;
  const abort = new AbortController();
  let running: RunningDht | undefined;
  // Found at the first launch (each seed without a nonce costs a proof of work there); health
  // counts the configured ones until then.
  let seedEndpoints: readonly string[] | undefined;
  let seedIds: readonly string[] | undefined;
  let timer: CancelTimer = () => undefined;
  // The DHT's own warnings (a seed that did not answer, one failed refresh) repeat every retry;
  // this module reports the state they add up to.
  const dhtLog: DhtLog = { warn: (obj, msg) => log.debug(obj, msg) };

  async function launch(self: { nodeId: string; address: HostPort; powNonce: bigint }): Promise<void> {
    const transport = createBusDhtTransport({
      client,
      inbound: deps.inbound,
      nodeId: self.nodeId,
      powNonce: self.powNonce,
      powDifficulty: swarm.powDifficulty,
      gatewayAddress: self.address,
      sightings: deps.sightings,
    });
    // The launcher may give every node the same seed list, this one included.
    if (!seedEndpoints) {
      const found: string[] = [];
      for (const s of swarm.seeds.filter((seed) => seed.nodeId !== self.nodeId)) found.push(await seedEndpoint(s, swarm.powDifficulty, abort.signal));
      seedEndpoints = found;
    }
    const seeds = seedEndpoints;
    seedIds = seeds.map((endpoint) => {
      const peer = peerOfDhtEndpoint(endpoint);
      return dhtIdOfNode(peer.nodeId, peer.powNonce);
    });
    const node = await startDhtNode(
      { transport, clock: time.clock, scheduler: time.scheduler, random: deps.random, validate: deps.validate, log: dhtLog },
      // Dial-backs share a rate per host the endpoint names (claims of a host's every port).
      { id: transport.dhtId, seeds, hostOf: dialledHostOf },
    );
    if (abort.signal.aborted) return void (await node.stop());
    running = { node, transport };
    const { seedsReached, contacts } = node.bootstrapReport;
    if (seeds.length === 0) log.info({ endpoint: transport.endpoint }, 'DHT started a new swarm (no seeds)');
    else if (seedsReached > 0) log.info({ endpoint: transport.endpoint, seedsReached, contacts }, 'DHT joined the swarm');
    else log.warn({ endpoint: transport.endpoint, seeds: seeds.length, retryMs: BOOTSTRAP_RETRY_MS }, 'DHT started, but no seed answered; retrying');
    deps.onStarted(running);
    if (seeds.length > 0) keepBootstrapped(node);
  }

  function keepBootstrapped(node: DhtNode): void {
    timer = time.scheduler.setTimer(BOOTSTRAP_RETRY_MS, () => {
      if (node.contacts().length > 0) return keepBootstrapped(node);
      // refresh() bootstraps from the seeds when the table is empty.
      void node
        .refresh()
        .then(
          () => {
            if (node.contacts().length > 0) log.info({ contacts: node.contacts().length }, 'DHT reached the swarm');
          },
          (err: unknown) => log.debug({ err }, 'DHT bootstrap retry failed'),
        )
        .finally(() => {
          if (!abort.signal.aborted) keepBootstrapped(node);
        });
    });
  }

  async function start(): Promise<void> {
    let delayMs = GATEWAY_RETRY_MIN_MS;
    let told = false;
    while (!abort.signal.aborted) {
      try {
        await launch(await askGateway(client, swarm.powDifficulty));
        return;
      } catch (err) {
        if (!told) log.info({ err, retryMs: GATEWAY_RETRY_MAX_MS }, 'DHT waits for the gateway (node id and advertised address); serving local providers meanwhile');
        else log.debug({ err }, 'DHT still waits for the gateway');
        told = true;
      }
      await time.scheduler.sleep(delayMs, abort.signal);
      delayMs = Math.min(delayMs * 2, GATEWAY_RETRY_MAX_MS);
    }
  }

  const starting = start().catch((err: unknown) => log.error({ err }, 'DHT start failed'));

  return {
    running: () => running,
    health() {
      const known = new Set(running?.node.contacts().map((c) => c.id) ?? []);
      return {
        dht: running ? 'running' : abort.signal.aborted ? 'stopped' : 'waiting for the gateway',
        contacts: String(known.size),
        seeds: String(seedIds?.length ?? swarm.seeds.length),
        seedsReached: String((seedIds ?? []).filter((id) => known.has(id)).length),
      };
    },
    async stop() {
      abort.abort();
      timer();
      // A start in progress ends within one call timeout, and stops what it started.
      await starting;
      await running?.node.stop();
    },
  };
}
