/**
 * One full node on this machine: its own nats-server on a free loopback port (a closed bus: one key
 * per role) and the services of NODE_SERVICES as supervised child processes sharing a home. All are
 * spawned at once (each spends most of its ~0.3–1 s start loading modules, so one after another took
 * their sum); the node counts as up once each answers health, checked in start order, the intakes (router,
 * then api-svc's HTTP API for agents) last. stop() goes in reverse, so the ledger closes after the last settlement.
 *
 * The home's node.json announces the node while it runs (claimed at start, written when ready,
 * updated on every supervision event, removed at stop): `swarm` commands find it there.
 *
 * A swarm member: its gateway listens on a fixed port (a restart comes back where its peers and
 * its DHT records point), it joins through seed peer addresses, and its executors may run a subset
 * of the skills; the options below become the services' SWARM_* variables.
 */
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { SwarmClient } from '@swarm/client';
import type { HealthResponse } from '@swarm/contracts';
import { connectSwarm, NodeUnreachableError } from '@swarm/client';
import { loadOrCreateIdentity } from '@swarm/identity';
import {
  compiledNodeArgs,
  createRotatingLog,
  DEFAULT_LOG_MAX_BYTES,
  EXECUTOR_NICENESS,
  EXIT_BAD_CONFIG,
  NATS_STOP_GRACE_MS,
  prepareClosedBus,
  startSupervised,
  startSupervisedNats,
} from '@swarm/runtime';
import type { NatsSupervisionEvent, SupervisedNats, SupervisedProcess } from '@swarm/runtime';
import { pinnedListen, pinnedPort, unpinListen } from './free-ports';
import { makeHome } from './make-home';
import { NodeError } from './node-error';
import type { NodeFile } from './node-file';
import { readListenPorts, writeListenPorts } from './listen-ports';
import { claimNodeFile, removeNodeFile, writeNodeFile } from './node-file';
import type { NodeService } from './node-services';
import { lastReadableLines } from './log-lines';
import { NODE_SERVICES } from './node-services';
import type { SupervisionReport } from './supervision';
import { createSupervisionRecord } from './supervision';

export const SERVICE_START_TIMEOUT_MS = 60_000;
export const SERVICE_STOP_GRACE_MS = 8_000;
const HEALTH_POLL_MS = 100;
const HEALTH_TIMEOUT_MS = 500;
/** Everything the services write (ledger, logs) is the owner's alone, whatever the caller's umask. */
const PRIVATE_UMASK = 0o077;
const PRIVATE_DIR_MODE = 0o700;
const APPS_DIR = resolve(__dirname, '../../../apps');
const BUS_PROCESS = 'nats-server';
/** Starts of nats-server on a pinned port before it is left to pick its own (see where it starts). */
const NATS_PORT_TRIES = 3;

export interface NodeOptions {
  home: string;
  /** executor-svc replicas (one NATS queue group); default 1. */
  executors?: number;
  /** Extra environment for every service (e.g. SWARM_GENESIS_GRANT); the options below win over it. */
  env?: NodeJS.ProcessEnv;
  /**
   * SWARM_GATEWAY_LISTEN, host:port where the gateway accepts peers. Default: that variable if set,
   * else 127.0.0.1 on a port free now (fixed for the node's life, so restarts keep the address).
   */
  gatewayListen?: string;
  /** SWARM_SEEDS: peer addresses `<node id>@host:port` to join through; none starts a new swarm. */
  seeds?: readonly string[];
  /** SWARM_SKILLS: the skills its executors run (default all the catalog's). */
  skills?: readonly string[];
  /** SWARM_RECORD_TTL_MS: lifetime of the node's DHT records (republished at half of it). */
  recordTtlMs?: number;
  /**
   * SWARM_HTTP_LISTEN, host:port of the agents' HTTP API (api-svc). Default: that variable if set,
   * else 127.0.0.1; port 0 or none: a port free now, fixed for the node's life (a restarted api-svc
   * keeps the httpAddress node.json announces).
   */
  httpListen?: string;
  /** Progress and supervision, one readable line each (`swarm up` prints them). */
  onEvent?(event: NodeEvent): void;
  /** Every exit and restart of nats-server or a service: what `swarm health` reports. */
  onSupervision?(report: SupervisionReport): void;
}

export interface NodeEvent {
  /** bus: nats-server up, down or back; ready: a service answers; exited: an exit the supervisor handles; stopped: stop() ended this process. */
  kind: 'bus' | 'ready' | 'exited' | 'stopped';
  /** nats-server, or a service replica's name (executor-svc-2). */
  process: string;
  message: string;
}

export interface RunningNode {
  readonly natsUrl: string;
  /** The node's nats-server process now (it is restarted on the same port if it dies). */
  natsPid(): number;
  readonly nodeId: string;
  /** host:port the gateway tells peers to dial (from its health answer). */
  readonly gatewayAddress: string;
  /** `<node id>@host:port`: what another node puts in SWARM_SEEDS to join through this one. */
  readonly peerAddress: string;
  /** host:port of the agents' HTTP API (api-svc's health answer). */
  readonly httpAddress: string;
  readonly home: string;
  readonly logDir: string;
  /** Seed file of the node's client identity (what `swarm submit` and the SDK connect with). */
  readonly clientKeyFile: string;
  /** In start order; pids as started (a restart changes them: see supervision()). */
  readonly services: ReadonlyArray<{ name: string; pid: number | undefined }>;
  supervision(): SupervisionReport;
  /**
   * Stops every service in reverse start order, then nats-server, and removes node.json. Resolves
   * with 0 when each process stopped by itself within SERVICE_STOP_GRACE_MS, else 1. Once only:
   * later calls get the same promise.
   */
  stop(): Promise<number>;
}

/** Longest a stop() can take: each process its grace (then SIGKILL), one after another. */
export function nodeStopGraceMs(executors: number): number {
  return (NODE_SERVICES.length - 1 + executors) * SERVICE_STOP_GRACE_MS + NATS_STOP_GRACE_MS;
}

export async function startNode(opts: NodeOptions): Promise<RunningNode> {
  const home = opts.home;
  const executors = opts.executors ?? 1;
  const say = (kind: NodeEvent['kind'], process: string, message: string) => opts.onEvent?.({ kind, process, message });
  // The home holds the node key, the bus keys and the ledger: the owner's alone.
  await makeHome(home, PRIVATE_DIR_MODE);
  await chmod(home, PRIVATE_DIR_MODE);
  const startedAt = new Date().toISOString();
  await claimNodeFile(home, startedAt);
  const logDir = join(home, 'logs');
  const record = createSupervisionRecord(Date.now);
  const running: SupervisedProcess[] = [];
  let nats: SupervisedNats | undefined;
  let natsLog: Writable | undefined;
  let ready: NodeFile | undefined;
  let stopping: Promise<number> | undefined;
  // One node.json write at a time, in order: each carries the whole current state.
  let writing: Promise<void> = Promise.resolve();
  const report = () => {
    opts.onSupervision?.(record.report());
    if (!ready || stopping) return;
    const file: NodeFile = { ...ready, natsPid: nats?.pid() ?? ready.natsPid, supervision: record.report() };
    writing = writing.then(() => writeNodeFile(home, file)).catch(() => undefined);
  };

  const stopProcesses = async (): Promise<number> => {
    let clean = true;
    for (const p of [...running].reverse()) {
      const wasRunning = p.running();
      const code = await p.stop(SERVICE_STOP_GRACE_MS);
      if (wasRunning && code !== 0) clean = false;
    }
    if (nats) {
      await nats.stop();
      say('stopped', BUS_PROCESS, `${BUS_PROCESS} stopped`);
    }
    natsLog?.end();
    return clean ? 0 : 1;
  };

  try {
    await mkdir(logDir, { recursive: true, mode: PRIVATE_DIR_MODE });
    await chmod(logDir, PRIVATE_DIR_MODE);
    const { nodeId } = await loadOrCreateIdentity(home);
    // A closed bus: every service and client connects with its own key and role's permissions.
    const bus = await prepareClosedBus(home);
    // nats-server's own lines (permission violations among them) beside the services' logs.
    natsLog = createRotatingLog(join(logDir, `${BUS_PROCESS}.log`), DEFAULT_LOG_MAX_BYTES);
    const natsOptions = {
      authorization: bus.authorization,
      log: natsLog,
      onEvent(e: NatsSupervisionEvent) {
        if (e.kind === 'exited') {
          say('bus', BUS_PROCESS, `${BUS_PROCESS} exited (${e.code === null ? 'killed' : `code ${e.code}`}); restarting it on the same port`);
          record.busExited(e.code);
        } else if (e.kind === 'restart-failed') {
          say('bus', BUS_PROCESS, `${BUS_PROCESS} did not restart (${e.error}); trying again in ${e.retryInMs} ms`);
          return;
        } else {
          say('bus', BUS_PROCESS, `${BUS_PROCESS} is back (pid ${e.pid}); services reconnect by themselves`);
          record.busRestarted(e.pid, e.restarts);
        }
        report();
      },
    };
    // On a pinned port, not one nats-server picks: that could be a port just pinned for a service of
    // another node starting beside this one (free-ports.ts). A pinned port another program took
    // meanwhile gets one more try; then nats-server picks.
    for (let attempt = 1; nats === undefined; attempt++) {
      const port = attempt < NATS_PORT_TRIES ? await pinnedPort() : undefined;
      try {
        nats = await startSupervisedNats(port === undefined ? natsOptions : { ...natsOptions, port });
      } catch (err) {
        if (port === undefined) throw new NodeError('SWARM_NATS_SERVER', (err as Error).message);
      }
    }
    const natsUrl = nats.url;
    say('bus', BUS_PROCESS, `${BUS_PROCESS} listening on ${natsUrl} (closed bus: one key per service, in ${join(home, 'bus')})`);
    record.started(BUS_PROCESS, nats.pid());
    const replicasOf = (spec: NodeService) => (spec.app === 'executor-svc' ? executors : 1);
    let started = false;
    /** A service that will not come up: its name, its last exit code, and where its log began this start. */
    let crashed: Crashed | undefined;
    const logStarts = new Map<string, number>();
    const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, ...(await swarmEnv(opts, home)), SWARM_NATS_URL: natsUrl, SWARM_DATA_DIR: home };
    const listen = env['SWARM_GATEWAY_LISTEN'] ?? '';
    let gatewayAddress = '';
    let httpAddress = '';
    // The observer: it may count replicas through `$SRV` discovery, which clients may not.
    const client = await connectObserver(natsUrl, bus.seedFile('observer'));
    try {
      for (const spec of NODE_SERVICES) {
        const replicas = replicasOf(spec);
        for (let i = 0; i < replicas; i++) {
          const name = replicas > 1 ? `${spec.app}-${i + 1}` : spec.app;
          // Logs are appended across starts: a failure quotes this start's lines only.
          logStarts.set(name, await sizeOf(join(logDir, `${name}.log`)));
          running.push(
            startSupervised({
              name,
              command: process.execPath,
              args: [...cpuProfileArgs(env), ...compiledNodeArgs(join(APPS_DIR, spec.app), 'src/main.ts')],
              env: { ...env, SWARM_NATS_NKEY_FILE: bus.seedFile(spec.role) },
              umask: PRIVATE_UMASK,
              // Kernels yield the CPU to the router and the bus, so a flood still gets answers.
              ...(spec.app === 'executor-svc' ? { niceness: EXECUTOR_NICENESS } : {}),
              logFile: join(logDir, `${name}.log`),
              onStart: (pid) => {
                record.started(name, pid);
                if (started) report();
              },
              onExit: (exit) => {
                const { code, signal, restarting, delayMs, crashLoop } = exit;
                const how = `${name} exited (${signal ?? `code ${code}`})`;
                if (stopping) say('stopped', name, how);
                else say('exited', name, `${how}${restarting ? `; restarting in ${delayMs} ms${crashLoop ? ' (crash loop: backing off)' : ''}` : ''}`);
                // While starting, a crash loop fails the start (the user sees why at once); once
                // the node runs, supervision never gives up and the outage shows in `swarm health`.
                if (!restarting || (crashLoop && !started)) crashed = { name, code, logFrom: logStarts.get(name) ?? 0 };
                record.exited(name, exit);
                report();
              },
            }),
          );
        }
      }
      for (const spec of NODE_SERVICES) {
        const replicas = replicasOf(spec);
        const health = await waitHealthy(client, spec, replicas, () => crashed, logDir);
        if (spec.app === 'gateway-svc') gatewayAddress = advertisedAddress(health, listen);
        if (spec.app === 'api-svc') httpAddress = health?.details['http'] ?? '';
        say(
          'ready',
          spec.app,
          `${spec.app} ready${replicas > 1 ? ` (${replicas} replicas)` : ''}${gatewayAddress && spec.app === 'gateway-svc' ? ` (peers dial ${gatewayAddress})` : ''}${httpAddress && spec.app === 'api-svc' ? ` (agents' HTTP API on http://${httpAddress})` : ''}`,
        );
      }
    } finally {
      await client.close();
    }
    started = true;
    const peerAddress = gatewayAddress ? `${nodeId}@${gatewayAddress}` : '';
    ready = { natsUrl, nodeId, pid: process.pid, natsPid: nats.pid(), startedAt, gatewayAddress, peerAddress, httpAddress };
    const supervised = nats;
    // In the one queue of writes: a supervision report queued meanwhile lands after it.
    const announced = { ...ready, supervision: record.report() };
    writing = writing.then(() => writeNodeFile(home, announced));
    await writing;
    opts.onSupervision?.(record.report());
    return {
      natsUrl,
      natsPid: () => supervised.pid(),
      nodeId,
      gatewayAddress,
      peerAddress,
      httpAddress,
      home,
      logDir,
      clientKeyFile: bus.seedFile('client'),
      services: running.map((p) => ({ name: p.name, pid: p.pid() })),
      supervision: () => record.report(),
      stop() {
        stopping ??= (async () => {
          const code = await stopProcesses();
          // A node.json update still queued must not recreate the file after its removal.
          await writing;
          await removeNodeFile(home);
          // Its listeners are closed: a node started again in this process may take the ports back.
          unpinListen(env['SWARM_GATEWAY_LISTEN'], env['SWARM_HTTP_LISTEN']);
          return code;
        })();
        return stopping;
      },
    };
  } catch (err) {
    stopping = Promise.resolve(1);
    await stopProcesses();
    await removeNodeFile(home);
    throw err;
  }
}

/**
 * The launcher's own connection to the bus it just started. On a machine busy starting several
 * nodes the first handshake can outlast the client's connect timeout: tried again until the
 * services' start deadline, a refusal of the key at once.
 */
async function connectObserver(natsUrl: string, seedFile: string): Promise<SwarmClient> {
  const deadline = Date.now() + SERVICE_START_TIMEOUT_MS;
  for (;;) {
    try {
      return await connectSwarm(natsUrl, { name: 'swarm-up', nkeyFile: seedFile, role: 'observer' });
    } catch (err) {
      if (!(err instanceof NodeUnreachableError) || Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, HEALTH_POLL_MS));
  }
}

/**
 * The services' SWARM_* variables for the swarm options given; the gateway's and the HTTP API's
 * listen addresses always, each on a fixed port (see pinnedListen).
 */
async function swarmEnv(opts: NodeOptions, home: string): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = {};
  // The ports of the node's last start, when free: its API URL and gateway address stay the same.
  const last = await readListenPorts(home);
  const gateway = opts.gatewayListen ?? opts.env?.['SWARM_GATEWAY_LISTEN'] ?? process.env['SWARM_GATEWAY_LISTEN'];
  env['SWARM_GATEWAY_LISTEN'] = await pinnedListen(gateway, last.gateway);
  const http = opts.httpListen ?? opts.env?.['SWARM_HTTP_LISTEN'] ?? process.env['SWARM_HTTP_LISTEN'];
  env['SWARM_HTTP_LISTEN'] = await pinnedListen(http, last.http);
  await writeListenPorts(home, { gateway: env['SWARM_GATEWAY_LISTEN'], http: env['SWARM_HTTP_LISTEN'] });
  if (opts.seeds) env['SWARM_SEEDS'] = opts.seeds.join(',');
  if (opts.skills) env['SWARM_SKILLS'] = opts.skills.join(',');
  if (opts.recordTtlMs !== undefined) env['SWARM_RECORD_TTL_MS'] = String(opts.recordTtlMs);
  return env;
}

/**
 * What the gateway says peers should dial (its health's `advertise`: SWARM_GATEWAY_ADVERTISE or the
 * bound address), else the listen address when it names a port.
 */
function advertisedAddress(health: HealthResponse | undefined, listen: string): string {
  const advertised = health?.details['advertise'];
  if (advertised) return advertised;
  return /:[1-9]\d*$/.test(listen) ? listen : '';
}

/** Ready = health answers and every replica answers $SRV.PING (health reaches one queue member). */
async function waitHealthy(client: SwarmClient, spec: NodeService, replicas: number, crashed: () => Crashed | undefined, logDir: string): Promise<HealthResponse> {
  const deadline = Date.now() + SERVICE_START_TIMEOUT_MS;
  for (;;) {
    const dead = crashed();
    if (dead) throw await startFailure(dead, join(logDir, `${dead.name}.log`));
    try {
      const health = await client.health(spec.role, HEALTH_TIMEOUT_MS);
      if (replicas === 1 || (await client.instances(spec.role)).length >= replicas) return health;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      throw new NodeError('SWARM_START_FAILED', `${spec.app} did not answer health within ${SERVICE_START_TIMEOUT_MS / 1000} s; see ${join(logDir, `${spec.app}.log`)}`);
    }
    await new Promise((r) => setTimeout(r, HEALTH_POLL_MS));
  }
}

interface Crashed {
  readonly name: string;
  readonly code: number | null;
  /** Bytes of its log written before this start. */
  readonly logFrom: number;
}

/** Most characters of a service's own error line quoted in a start failure. */
const MAX_QUOTED_ERROR_CHARS = 1_000;
/** Distinct log lines a start failure quotes. */
const QUOTED_LOG_LINES = 6;

/**
 * Why a service did not come up. A configuration error (exit EXIT_BAD_CONFIG, never restarted)
 * is SWARM_BAD_CONFIG with the service's own one-line error from this start (runMain writes it);
 * anything else quotes the last lines this start wrote to its log.
 */
async function startFailure(dead: Crashed, logFile: string): Promise<NodeError> {
  const bytes = await readFile(logFile).catch(() => Buffer.alloc(0));
  // logFrom counts bytes (the log may hold other than ASCII); a log rotated since is read whole.
  const lines = bytes
    .subarray(dead.logFrom <= bytes.length ? dead.logFrom : 0)
    .toString('utf8')
    .trimEnd()
    .split('\n');
  if (dead.code === EXIT_BAD_CONFIG) {
    // The error line and the indented lines under it (one per bad variable), as one line.
    const marker = ': error SWARM_BAD_CONFIG: ';
    const at = lines.findLastIndex((l) => l.includes(marker));
    const said: string[] = [];
    if (at >= 0) {
      said.push(lines[at].slice(lines[at].indexOf(marker) + marker.length).trim());
      for (const line of lines.slice(at + 1)) {
        if (!/^\s/.test(line)) break;
        said.push(line.trim());
      }
    }
    const why = said.length > 0 ? said.join(' ').slice(0, MAX_QUOTED_ERROR_CHARS) : `see ${logFile}`;
    return new NodeError('SWARM_BAD_CONFIG', `${dead.name} refused its configuration: ${why}`);
  }
  return new NodeError('SWARM_START_FAILED', `${dead.name} keeps exiting; its log (${logFile}) ends:\n${lastReadableLines(lines, QUOTED_LOG_LINES).join('\n')}`);
}

async function sizeOf(file: string): Promise<number> {
  return stat(file).then(
    (s) => s.size,
    () => 0,
  );
}

/**
 * `SWARM_CPU_PROFILE_DIR`: every service process writes a V8 CPU profile there when it exits, for
 * performance work (Node refuses `--cpu-prof` in NODE_OPTIONS, so the launcher passes it).
 */
function cpuProfileArgs(env: NodeJS.ProcessEnv): string[] {
  const dir = env['SWARM_CPU_PROFILE_DIR'];
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(dir)}`] : [];
}
