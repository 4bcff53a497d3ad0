/**
 * Two real nodes on this machine for the remote bench, as `swarm up` runs them (libs/node
 * startNode): B provides `skill`; A runs every other skill but that one and joins the swarm through
 * B, so A's only provider of `skill` is B. Resolves once A's registry lists B for it.
 */
import { createBusClient, busConnectOptions } from '@swarm/bus';
import { RegistryFindProviders } from '@swarm/contracts';
import { busKeyFile } from '@swarm/identity';
import type { RunningNode } from '@swarm/node';
import { startNode } from '@swarm/node';
import { SKILL_NAMES } from '@swarm/skills';
import type { TempDir } from '@swarm/testing';
import { tempDir, waitFor } from '@swarm/testing';
import { silentLogger } from '@swarm/telemetry';
import { connect } from 'nats';

/** Bounds a hang on a busy machine; not a speed. */
export const DISCOVERY_TIMEOUT_MS = 60_000;
const DISCOVERY_POLL_MS = 250;

export interface SwarmPair {
  /** The submitter: no executor of its own for the skill. */
  readonly a: RunningNode;
  /** The only provider of the skill. */
  readonly b: RunningNode;
  stop(): Promise<void>;
}

export async function startSwarmPair(skill: string, env: Readonly<Record<string, string>>): Promise<SwarmPair> {
  const homes: TempDir[] = [await tempDir('swarm-bench-b-'), await tempDir('swarm-bench-a-')];
  const nodes: RunningNode[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await Promise.all(homes.map((h) => h.remove()));
  };
  try {
    const [homeB, homeA] = homes as [TempDir, TempDir];
    const b = await startNode({ home: homeB.path, skills: [skill], env });
    nodes.push(b);
    const a = await startNode({ home: homeA.path, seeds: [b.peerAddress], skills: SKILL_NAMES.filter((s) => s !== skill), env });
    nodes.push(a);
    // As A's router asks: with A's router key, on A's bus.
    const nc = await connect({ servers: a.natsUrl, name: 'bench-registry-probe', ...(await busConnectOptions('router', busKeyFile(a.home, 'router'))) });
    try {
      const bus = createBusClient(nc, silentLogger());
      await waitFor(async () => (await bus.request(RegistryFindProviders, { skill })).providers.some((p) => p.nodeId === b.nodeId && !p.local), {
        timeoutMs: DISCOVERY_TIMEOUT_MS,
        intervalMs: DISCOVERY_POLL_MS,
        what: `node A finds node B as a provider of ${skill}`,
      });
    } finally {
      await nc.drain();
    }
    return { a, b, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
