/**
 * Helpers for the swarm's end-to-end tests: `swarm up` as a background process (a node whose
 * launcher can be killed like any user's), a node's registry asked as its router asks it, and
 * kill -9 of every process of a node, launcher first so nothing restarts them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBusClient } from '@swarm/bus';
import type { FindProvidersResponse } from '@swarm/contracts';
import { RegistryFindProviders } from '@swarm/contracts';
import { busKeyFile } from '@swarm/identity';
import { busConnectOptions } from '@swarm/bus';
import type { NodeFile } from '@swarm/node';
import { isAlive, NODE_FILE } from '@swarm/node';
import type { SpawnedProcess } from '@swarm/runtime';
import { spawnProcess } from '@swarm/runtime';
import { silentLogger } from '@swarm/telemetry';
import { connect } from 'nats';
import { SWARM } from './run-cli';

export interface BackgroundUp {
  /** The one JSON document `swarm up --json` printed once its nodes ran. */
  readonly summary: Record<string, unknown>;
  readonly process: SpawnedProcess;
}

/**
 * Runs `swarm up <args> --json` until Ctrl-C; resolves once it printed its summary (its nodes
 * run), rejects if it exits first or takes longer than `timeoutMs`.
 */
export function spawnSwarmUp(args: string[], env: Record<string, string>, timeoutMs: number): Promise<BackgroundUp> {
  let stdout = '';
  return new Promise((resolve, reject) => {
    const proc = spawnProcess({
      command: process.execPath,
      args: [SWARM, 'up', ...args, '--json'],
      env: { ...process.env, SWARM_NATS_URL: '', ...env },
      onOutput(stream, chunk) {
        if (stream !== 'stdout') return;
        stdout += chunk;
        if (!stdout.includes('\n')) return;
        clearTimeout(timer);
        try {
          resolve({ summary: JSON.parse(stdout) as Record<string, unknown>, process: proc });
        } catch (err) {
          reject(err);
        }
      },
    });
    const timer = setTimeout(() => {
      void proc.stop(5_000, 'SIGINT');
      reject(new Error(`swarm up ${args.join(' ')} did not print its nodes within ${timeoutMs} ms:\n${proc.stderr().slice(-4_000)}`));
    }, timeoutMs);
    void proc.exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`swarm up ${args.join(' ')} exited (${exit.code ?? exit.signal}) before printing its nodes:\n${proc.stderr().slice(-4_000)}`));
    });
  });
}

export function readNodeFileSync(home: string): NodeFile {
  return JSON.parse(readFileSync(join(home, NODE_FILE), 'utf8')) as NodeFile;
}

/** Every process of the node in `home` as node.json names it: launcher, nats-server, services. */
export function nodePids(home: string): number[] {
  const file = readNodeFileSync(home);
  const services = Object.values(file.supervision ?? {}).flatMap((p) => (p.pid ? [p.pid] : []));
  return [file.pid, ...(file.natsPid ? [file.natsPid] : []), ...services];
}

/**
 * nodePids for a node run by spawnSwarmUp; when its node.json is gone, an error that says whether
 * its launcher still runs and what it last wrote (a launcher removes the file only as it stops).
 */
export function upNodePids(home: string, up: BackgroundUp): number[] {
  try {
    return nodePids(home);
  } catch (err) {
    const state = up.process.running() ? 'still running' : 'exited';
    throw new Error(`${(err as Error).message}; its swarm up (pid ${up.process.pid ?? '?'}) is ${state}; its last output:\n${up.process.stderr().slice(-2_000)}`);
  }
}

/** kill -9, launcher first (its supervisor would restart the rest); answers the pids killed. */
export function killNodeHard(pids: readonly number[]): number[] {
  const killed: number[] = [];
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // already gone
    }
  }
  return killed;
}

export function alive(pids: readonly number[]): number[] {
  return pids.filter((pid) => isAlive(pid));
}

export interface RegistryProbe {
  providers(skill: string): Promise<FindProvidersResponse>;
  close(): Promise<void>;
}

/** FindProviders on a node's bus, as its router asks (the router's key from the node's home). */
export async function registryProbe(natsUrl: string, home: string): Promise<RegistryProbe> {
  const nc = await connect({ servers: natsUrl, name: 'e2e-registry-probe', ...(await busConnectOptions('router', busKeyFile(home, 'router'))) });
  const bus = createBusClient(nc, silentLogger());
  return {
    providers: (skill) => bus.request(RegistryFindProviders, { skill }),
    close: () => nc.drain(),
  };
}
