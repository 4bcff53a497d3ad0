/**
 * `swarm up`: one full node on this machine — its own nats-server on a free loopback port and the
 * five services as supervised child processes sharing a data dir. Start order puts the router
 * (task intake) last; stop order is the reverse, so the ledger closes after the last settlement.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { connectSwarm, SwarmClient } from '@swarm/client';
import { ServiceName } from '@swarm/contracts';
import { loadOrCreateIdentity } from '@swarm/identity';
import { NatsServerHandle, startNatsServer, startSupervised, SupervisedProcess, tsNodeArgs } from '@swarm/runtime';
import { CliError } from './cli-error';

export const SERVICE_START_TIMEOUT_MS = 60_000;
export const SERVICE_STOP_GRACE_MS = 8_000;
const APPS_DIR = resolve(__dirname, '../..');

interface ServiceSpec {
  app: string;
  health: ServiceName;
}

const START_ORDER: ServiceSpec[] = [
  { app: 'credit-svc', health: 'credit' },
  { app: 'registry-svc', health: 'registry' },
  { app: 'gateway-svc', health: 'gateway' },
  { app: 'executor-svc', health: 'executor' },
  { app: 'router-svc', health: 'router' },
];

export interface NodeOptions {
  home: string;
  executors: number;
  /** Extra environment for every service (e.g. SWARM_GENESIS_GRANT). */
  env?: NodeJS.ProcessEnv;
  onEvent?(line: string): void;
}

export interface RunningNode {
  readonly natsUrl: string;
  readonly natsPid: number;
  readonly nodeId: string;
  readonly logDir: string;
  readonly services: ReadonlyArray<{ name: string; pid: number | undefined }>;
  stop(): Promise<void>;
}

export async function startNode(opts: NodeOptions): Promise<RunningNode> {
  const say = opts.onEvent ?? (() => undefined);
  await mkdir(opts.home, { recursive: true });
  const logDir = join(opts.home, 'logs');
  await mkdir(logDir, { recursive: true });
  const { nodeId } = await loadOrCreateIdentity(opts.home);
  const nats: NatsServerHandle = await startNatsServer().catch((err: Error) => {
    throw new CliError('SWARM_NATS_SERVER', err.message);
  });
  say(`nats-server listening on ${nats.url}`);
  const running: SupervisedProcess[] = [];
  let crashed: string | undefined;

  const stop = async () => {
    for (const p of [...running].reverse()) await p.stop(SERVICE_STOP_GRACE_MS);
    await nats.stop();
  };

  try {
    const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, SWARM_NATS_URL: nats.url, SWARM_DATA_DIR: opts.home };
    const client = await connectSwarm(nats.url, { name: 'swarm-up' });
    try {
      for (const spec of START_ORDER) {
        const replicas = spec.app === 'executor-svc' ? opts.executors : 1;
        for (let i = 0; i < replicas; i++) {
          const name = replicas > 1 ? `${spec.app}-${i + 1}` : spec.app;
          running.push(
            startSupervised({
              name,
              command: process.execPath,
              args: tsNodeArgs(join(APPS_DIR, spec.app, 'src/main.ts')),
              env,
              logFile: join(logDir, `${name}.log`),
              onExit: ({ code, signal, restarting }) => {
                say(`${name} exited (${signal ?? `code ${code}`})${restarting ? '; restarting' : ''}`);
                if (!restarting) crashed = name;
              },
            }),
          );
        }
        await waitHealthy(client, spec, replicas, () => crashed, logDir);
        say(`${spec.app} ready${replicas > 1 ? ` (${replicas} replicas)` : ''}`);
      }
    } finally {
      await client.close();
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    natsUrl: nats.url,
    natsPid: nats.pid,
    nodeId,
    logDir,
    services: running.map((p) => ({ name: p.name, pid: p.pid() })),
    stop,
  };
}

/** Ready = health answers and every replica answers $SRV.PING (health reaches one queue member). */
async function waitHealthy(client: SwarmClient, spec: ServiceSpec, replicas: number, crashed: () => string | undefined, logDir: string) {
  const deadline = Date.now() + SERVICE_START_TIMEOUT_MS;
  for (;;) {
    const dead = crashed();
    if (dead) throw new CliError('SWARM_START_FAILED', `${dead} keeps exiting; last lines of ${join(logDir, `${dead}.log`)}:\n${await tail(join(logDir, `${dead}.log`))}`);
    try {
      await client.health(spec.health, 500);
      if (replicas === 1 || (await client.instances(spec.health)).length >= replicas) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      throw new CliError('SWARM_START_FAILED', `${spec.app} did not answer health within ${SERVICE_START_TIMEOUT_MS / 1000} s; see ${join(logDir, `${spec.app}.log`)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function tail(file: string, lines = 15): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
