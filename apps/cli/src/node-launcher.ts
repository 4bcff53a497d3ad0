/**
 * `swarm up`: one full node on this machine — its own nats-server on a free loopback port and the
 * five services as supervised child processes sharing a data dir. All five are spawned at once (each
 * spends most of its ~0.3–1 s start loading modules, so one after another took their sum); the node
 * counts as up once each answers health, checked in start order, router (task intake) last. Stop
 * order is the reverse, so the ledger closes after the last settlement.
 */
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { connectSwarm, SwarmClient } from '@swarm/client';
import { ServiceName } from '@swarm/contracts';
import { loadOrCreateIdentity } from '@swarm/identity';
import { EXECUTOR_NICENESS, prepareClosedBus, startSupervised, startSupervisedNats, SupervisedNats, SupervisedProcess, compiledNodeArgs } from '@swarm/runtime';
import { CliError } from './cli-error';

export const SERVICE_START_TIMEOUT_MS = 60_000;
export const SERVICE_STOP_GRACE_MS = 8_000;
const APPS_DIR = resolve(__dirname, '../..');

interface ServiceSpec {
  app: string;
  /** Its health subject and its bus identity. */
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
  /** The bus came back as a new process (after a crash); its pid is what node.json should name. */
  onBusRestart?(natsPid: number): void;
  /** Every exit and restart of nats-server or a service: what `swarm health` reports. */
  onSupervision?(report: SupervisionReport): void;
}

/** What the supervisor knows of one process: `swarm health` shows it beside the bus's answers. */
export interface ProcessSupervision {
  /** running; restarting (after an exit, `nextRestartAt`); crash-looping (restarting with a backoff); stopped (a configuration error: not restarted). */
  state: 'running' | 'restarting' | 'crash-looping' | 'stopped';
  /** The current process, while one runs. */
  pid?: number;
  restarts: number;
  lastExit?: { code: number | null; signal: string | null; at: string };
  nextRestartAt?: string;
}

export type SupervisionReport = Record<string, ProcessSupervision>;

export interface RunningNode {
  readonly natsUrl: string;
  /** The node's nats-server process now (it is restarted on the same port if it dies). */
  natsPid(): number;
  readonly nodeId: string;
  readonly logDir: string;
  /** Seed file of the node's client identity (what `swarm submit` and the SDK connect with). */
  readonly clientKeyFile: string;
  readonly services: ReadonlyArray<{ name: string; pid: number | undefined }>;
  stop(): Promise<void>;
}

export async function startNode(opts: NodeOptions): Promise<RunningNode> {
  const say = opts.onEvent ?? (() => undefined);
  // The home holds the node key, the bus keys and the ledger: the owner's alone.
  await mkdir(opts.home, { recursive: true, mode: 0o700 });
  await chmod(opts.home, 0o700);
  const logDir = join(opts.home, 'logs');
  await mkdir(logDir, { recursive: true, mode: 0o700 });
  await chmod(logDir, 0o700);
  const { nodeId } = await loadOrCreateIdentity(opts.home);
  let started = false;
  const supervision: SupervisionReport = {};
  const report = () => opts.onSupervision?.(structuredClone(supervision));
  const recordExit = (name: string, code: number | null, signal: string | null, state: ProcessSupervision['state'], delayMs?: number) => {
    const now = Date.now();
    const prev = supervision[name] ?? { state: 'running', restarts: 0 };
    supervision[name] = {
      state,
      restarts: prev.restarts + (state === 'stopped' ? 0 : 1),
      lastExit: { code, signal, at: new Date(now).toISOString() },
      ...(delayMs !== undefined ? { nextRestartAt: new Date(now + delayMs).toISOString() } : {}),
    };
    report();
  };
  // A closed bus: every service and client connects with its own key and role's permissions.
  const bus = await prepareClosedBus(opts.home);
  const nats: SupervisedNats = await startSupervisedNats({
    authorization: bus.authorization,
    onEvent(e) {
      if (e.kind === 'exited') {
        say(`nats-server exited (${e.code === null ? 'killed' : `code ${e.code}`}); restarting it on the same port`);
        const prev = supervision['nats-server'];
        supervision['nats-server'] = { state: 'restarting', restarts: prev?.restarts ?? 0, lastExit: { code: e.code, signal: null, at: new Date().toISOString() } };
        report();
      } else if (e.kind === 'restart-failed') {
        say(`nats-server did not restart (${e.error}); trying again in ${e.retryInMs} ms`);
      } else {
        say(`nats-server is back (pid ${e.pid}); services reconnect by themselves`);
        const prev = supervision['nats-server'];
        supervision['nats-server'] = { ...prev, state: 'running', pid: e.pid, restarts: e.restarts };
        report();
        opts.onBusRestart?.(e.pid);
      }
    },
  }).catch((err: Error) => {
    throw new CliError('SWARM_NATS_SERVER', err.message);
  });
  say(`nats-server listening on ${nats.url} (closed bus: one key per service, in ${join(opts.home, 'bus')})`);
  supervision['nats-server'] = { state: 'running', pid: nats.pid(), restarts: 0 };
  const running: SupervisedProcess[] = [];
  const replicasOf = (spec: ServiceSpec) => (spec.app === 'executor-svc' ? opts.executors : 1);
  let crashed: string | undefined;

  const stop = async () => {
    for (const p of [...running].reverse()) await p.stop(SERVICE_STOP_GRACE_MS);
    await nats.stop();
  };

  try {
    const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, SWARM_NATS_URL: nats.url, SWARM_DATA_DIR: opts.home };
    // The observer: it may count replicas through `$SRV` discovery, which clients may not.
    const client = await connectSwarm(nats.url, { name: 'swarm-up', nkeyFile: bus.seedFile('observer'), role: 'observer' });
    try {
      for (const spec of START_ORDER) {
        const replicas = replicasOf(spec);
        for (let i = 0; i < replicas; i++) {
          const name = replicas > 1 ? `${spec.app}-${i + 1}` : spec.app;
          running.push(
            startSupervised({
              name,
              command: process.execPath,
              args: compiledNodeArgs(join(APPS_DIR, spec.app), 'src/main.ts'),
              env: { ...env, SWARM_NATS_NKEY_FILE: bus.seedFile(spec.health) },
              // Kernels yield the CPU to the router and the bus, so a flood still gets answers.
              ...(spec.app === 'executor-svc' ? { niceness: EXECUTOR_NICENESS } : {}),
              logFile: join(logDir, `${name}.log`),
              onStart: (pid) => {
                const prev = supervision[name] ?? { state: 'running', restarts: 0 };
                supervision[name] = { state: 'running', restarts: prev.restarts, ...(pid ? { pid } : {}), ...(prev.lastExit ? { lastExit: prev.lastExit } : {}) };
                if (started) report();
              },
              onExit: ({ code, signal, restarting, delayMs, crashLoop }) => {
                say(`${name} exited (${signal ?? `code ${code}`})${restarting ? `; restarting in ${delayMs} ms${crashLoop ? ' (crash loop: backing off)' : ''}` : ''}`);
                // While starting, a crash loop fails the start (the user sees why at once); once
                // the node runs, supervision never gives up and the outage shows in `swarm health`.
                if (!restarting || (crashLoop && !started)) crashed = name;
                recordExit(name, code, signal, !restarting ? 'stopped' : crashLoop ? 'crash-looping' : 'restarting', restarting ? delayMs : undefined);
              },
            }),
          );
        }
      }
      for (const spec of START_ORDER) {
        const replicas = replicasOf(spec);
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
  started = true;
  report();
  return {
    natsUrl: nats.url,
    natsPid: () => nats.pid(),
    nodeId,
    logDir,
    clientKeyFile: bus.seedFile('client'),
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
