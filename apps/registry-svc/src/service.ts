/**
 * registry-svc, local-only for now: a provider of a skill is this node when at least one of its
 * executors (the queue group) answers with that skill installed. The DHT and peers' signed
 * NodeRecords come with the swarm issue.
 */
import { isSwarmError, startBusService } from '@swarm/bus';
import { ErrorCode, ExecutorSkills, RegistryFindProviders, RegistryHealth, SwarmError } from '@swarm/contracts';
import type { ServiceConfig } from '@swarm/config';
import type { Logger } from '@swarm/telemetry';
import type { NatsConnection } from 'nats';

export const REGISTRY_VERSION = '0.1.0';
export const EXECUTOR_PROBE_TIMEOUT_MS = 1_000;
const SKILL = /^[a-z0-9_-]{1,64}$/;

export interface RegistryServiceDeps {
  config: ServiceConfig;
  log: Logger;
  nc: NatsConnection;
  nodeId: string;
}

export async function startRegistryService(deps: RegistryServiceDeps): Promise<{ stop(): Promise<void> }> {
  const { config, log, nc, nodeId } = deps;
  const svc = await startBusService({ nc, log, name: 'registry-svc', version: REGISTRY_VERSION, description: 'Provider lookup by skill', nodeId });

  async function localSkills(): Promise<string[]> {
    try {
      const r = await svc.client.request(ExecutorSkills, {}, { timeoutMs: EXECUTOR_PROBE_TIMEOUT_MS });
      return r.skills.map((s) => s.name);
    } catch (err) {
      // No executor running (no responders) is a normal answer here: "no providers". Executors
      // too busy to answer in time are not absent: saying "no provider" then sent clients away
      // from a node whose executors were merely loaded.
      if (isSwarmError(err, ErrorCode.ERROR_CODE_UNAVAILABLE)) return [];
      if (isSwarmError(err, ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED)) {
        throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `executors did not answer the skills probe within ${EXECUTOR_PROBE_TIMEOUT_MS} ms`, undefined, { cause: err });
      }
      throw err;
    }
  }

  svc.serve(RegistryFindProviders, async (req) => {
    if (!SKILL.test(req.skill)) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'skill must be 1-64 characters of [a-z0-9_-]');
    const skills = await localSkills();
    return { providers: skills.includes(req.skill) ? [{ nodeId, local: true, skills }] : [] };
  });
  svc.serveHealth(RegistryHealth, () => ({ mode: 'local-only' }));
  return { stop: () => svc.stop(config.graceMs) };
}
