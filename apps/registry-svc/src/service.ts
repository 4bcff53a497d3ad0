/**
 * registry-svc: who offers a skill. This node is a provider when one of its executors (the queue
 * group) runs the skill; remote providers come from the Kademlia DHT, whose RPC travels through
 * this node's gateway (bus-dht-transport.ts), as signed NodeRecords verified on every read, with
 * the round trip to each measured. The node's own skills are published there too, and its record
 * under its own node key, skills or not (skill-publisher.ts); FindNodeRecord tells the gateway
 * whether a peer submitting a task has such a record (node-record-lookup.ts).
 */
import { EMPTY_REQUEST_MAX_BYTES, isSwarmError, startBusService } from '@swarm/bus';
import type { ServiceConfig } from '@swarm/config';
import type { ListSkillsResponse, Provider } from '@swarm/contracts';
import {
  ErrorCode,
  ExecutorSkills,
  GatewaySignRecord,
  isSkillName,
  RegistryFindChainSightings,
  RegistryFindProviders,
  RegistryHealth,
  RegistryNodeRecord,
  RegistryPeers,
  RegistryPublishChainSighting,
  SKILL_NAME_TEXT,
  SwarmError,
} from '@swarm/contracts';
import type { Random, Time } from '@swarm/determinism';
import { systemRandom, systemTime } from '@swarm/determinism';
import { peerOfDhtEndpoint } from '@swarm/dht-gateway';
import { formatHostPort } from '@swarm/gateway';
import type { Logger } from '@swarm/telemetry';
import type { NatsConnection } from 'nats';
import { serveBusDhtInbound } from './bus-dht-transport';
import { createChainSightings } from './chain-sightings';
import { createLocalSkills } from './local-skills';
import type { RegistrySwarmConfig } from './config';
import { swarmSettingsOf } from './config';
import type { NodeRecordLookup } from './node-record-lookup';
import { createNodeRecordLookup } from './node-record-lookup';
import { createPeerSightings } from './peer-sightings';
import { createRecordValidator, nodeRecordKey } from './provider-record';
import type { RemoteProviders } from './remote-providers';
import { createRemoteProviders } from './remote-providers';
import type { RttProbe } from './rtt-probe';
import { createRttProbe } from './rtt-probe';
import type { SkillPublisher } from './skill-publisher';
import { startSkillPublisher } from './skill-publisher';
import { startSwarmDht } from './swarm-dht';

export const REGISTRY_VERSION = '0.2.0';
export const EXECUTOR_PROBE_TIMEOUT_MS = 1_000;
/** The gateway signs with a key it holds in memory: a slow answer means it is in trouble. */
export const SIGN_RECORD_TIMEOUT_MS = 2_000;
/** Peers whose round trip `peers` measures when asked (two rounds of RTT_PROBES_IN_PARALLEL: at most ~1 s). */
export const MAX_PEERS_MEASURED = 16;

export interface RegistryServiceDeps {
  /** A RegistryConfig (loadRegistryConfig); without `swarm`, no seeds and default record settings. */
  config: ServiceConfig & { readonly swarm?: RegistrySwarmConfig };
  log: Logger;
  nc: NatsConnection;
  nodeId: string;
  /** Default systemTime. */
  time?: Time;
  /** Draws the DHT's refresh targets; default systemRandom. */
  random?: Random;
}

export async function startRegistryService(deps: RegistryServiceDeps): Promise<{ stop(): Promise<void> }> {
  const { config, log, nc, nodeId } = deps;
  const time = deps.time ?? systemTime;
  const swarm = swarmSettingsOf(config);
  const svc = await startBusService({ nc, log, name: 'registry-svc', version: REGISTRY_VERSION, description: 'Provider lookup by skill, on the swarm DHT', nodeId });

  async function probeExecutors(): Promise<ListSkillsResponse> {
    try {
      return await svc.client.request(ExecutorSkills, {}, { timeoutMs: EXECUTOR_PROBE_TIMEOUT_MS });
    } catch (err) {
      // No executor running (no responders) is a normal answer here: "no skills". Executors too
      // busy to answer in time are not absent: saying "no provider" then sent clients away from a
      // node whose executors were merely loaded.
      if (isSwarmError(err, ErrorCode.ERROR_CODE_UNAVAILABLE)) return { skills: [], backend: '' };
      if (isSwarmError(err, ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED)) {
        throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `executors did not answer the skills probe within ${EXECUTOR_PROBE_TIMEOUT_MS} ms`, undefined, { cause: err });
      }
      throw err;
    }
  }

  const localSkills = createLocalSkills(probeExecutors, time.stopwatch);

  async function localProvider(skill: string): Promise<Provider | undefined> {
    const installed = await localSkills.get();
    const info = installed.skills.find((s) => s.name === skill);
    if (!info) return undefined;
    const skills = installed.skills.map((s) => s.name);
    return { nodeId, local: true, skills, endpoint: '', load: 0, capacity: swarm.capacity, pricePerMwork: info.pricePerMwork, rttMs: 0, expiresAtMs: 0n };
  }

  const sightings = createPeerSightings(time.clock);
  const inbound = serveBusDhtInbound(svc, sightings);
  let remote: RemoteProviders | undefined;
  let rtt: RttProbe | undefined;
  /** `peers`' own measurements: a ping it saw fail must not drop a live provider from task lookups. */
  let peersRtt: RttProbe | undefined;
  let publisher: SkillPublisher | undefined;
  let nodeRecords: NodeRecordLookup | undefined;
  const dht = startSwarmDht({
    client: svc.client,
    inbound,
    sightings,
    swarm,
    validate: createRecordValidator(swarm.powDifficulty),
    time,
    random: deps.random ?? systemRandom,
    log,
    onStarted({ node, transport }) {
      // Both read the node key from one data dir; two ids mean two homes, and records signed by a key this registry does not speak for.
      if (transport.nodeId !== nodeId) log.warn({ gatewayNodeId: transport.nodeId }, "the gateway's node id is not this registry's: do they share the data directory?");
      const ping = (endpoint: string, timeoutMs: number) => transport.ping(endpoint, { id: transport.dhtId }, { timeoutMs });
      const probe = createRttProbe({ ping, stopwatch: time.stopwatch });
      rtt = probe;
      peersRtt = createRttProbe({ ping, stopwatch: time.stopwatch });
      remote = createRemoteProviders({
        findProviders: async (skill) => (await node.findProviders(skill)).values,
        rtt: probe,
        selfNodeId: transport.nodeId,
        powDifficulty: swarm.powDifficulty,
        ...time,
        log,
      });
      nodeRecords = createNodeRecordLookup({ findProviders: (key) => node.findProviders(key), powDifficulty: swarm.powDifficulty, ...time, log });
      publisher = startSkillPublisher({
        probe: () =>
          probeExecutors().then(
            (answer) => (localSkills.record(answer), answer),
            () => undefined,
          ),
        sign: (request) => svc.client.request(GatewaySignRecord, request, { timeoutMs: SIGN_RECORD_TIMEOUT_MS }),
        dht: node,
        // The gateway's id: the record it signs is of that node, whatever this registry was told.
        nodeKey: nodeRecordKey(transport.nodeId),
        capacity: swarm.capacity,
        ttlMs: swarm.recordTtlMs,
        ...time,
        log,
      });
    },
  });

  svc.serve(RegistryFindProviders, async (req) => {
    if (!isSkillName(req.skill)) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `skill must be ${SKILL_NAME_TEXT}`);
    const [local, remotes] = await Promise.all([
      localProvider(req.skill).then(
        (p) => ({ ok: true, provider: p }) as const,
        (err: unknown) => ({ ok: false, err }) as const,
      ),
      remote?.find(req.skill) ?? [],
    ]);
    if (local.ok) return { providers: local.provider ? [local.provider, ...remotes] : remotes };
    // Busy executors leave the remote providers; with none, the caller learns this node is busy.
    if (remotes.length > 0) return { providers: remotes };
    throw local.err;
  });

  const chainSightings = createChainSightings({
    dht: () => {
      const running = dht.running();
      return running && { node: running.node, nodeId: running.transport.nodeId, powNonce: running.transport.powNonce };
    },
    powDifficulty: swarm.powDifficulty,
    clock: time.clock,
  });
  svc.serve(RegistryPublishChainSighting, (req) => chainSightings.publish(req));
  svc.serve(RegistryFindChainSightings, (req) => chainSightings.find(req));

  svc.serve(RegistryNodeRecord, (req) => {
    if (!nodeRecords) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'the DHT has not started yet (waiting for the gateway)');
    return nodeRecords.find(req.nodeId);
  });

  svc.serve(
    RegistryPeers,
    async () => {
      const node = dht.running()?.node;
      if (!node) return { peers: [] };
      const contacts = node.contacts().map((c) => ({ peer: peerOfDhtEndpoint(c.endpoint), endpoint: c.endpoint }));
      // Round trips measured now where none is fresh (a ping each, 8 at a time, 500 ms at most), for
      // the first MAX_PEERS_MEASURED, on a probe of their own; else what a provider lookup measured.
      const targets = contacts.slice(0, MAX_PEERS_MEASURED).map((c) => ({ nodeId: c.peer.nodeId, endpoint: c.endpoint }));
      if (peersRtt) await peersRtt.measure(targets);
      const peers = contacts.map((c) => ({ nodeId: c.peer.nodeId, address: formatHostPort(c.peer.address) }));
      return {
        peers: peers.map((p) => ({ ...p, rttMs: peersRtt?.latest(p.nodeId) ?? rtt?.latest(p.nodeId) ?? 0, lastSeenMs: BigInt(sightings.lastHeard(p.nodeId) ?? 0) })),
      };
    },
    { maxRequestBytes: EMPTY_REQUEST_MAX_BYTES },
  );

  svc.serveHealth(RegistryHealth, () => ({
    mode: 'swarm',
    ...dht.health(),
    skillsPublished: String(publisher?.provided().length ?? 0),
    nodeRecordPublished: String(publisher?.nodeRecordProvided() ?? false),
  }));

  return {
    async stop() {
      await svc.stop(config.graceMs);
      publisher?.stop();
      await dht.stop();
    },
  };
}
