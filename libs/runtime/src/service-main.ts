/**
 * The shared body of every service's main.ts: config -> identity -> logger -> telemetry -> NATS ->
 * start -> stop on SIGTERM/SIGINT (service first, then drain NATS, then flush traces).
 * Keeps each app's main.ts to its name, its config loader and its start function. The process
 * ends through runMain with the status its shutdown resolves.
 */
import { busConnectOptions } from '@swarm/bus';
import type { ServiceConfig } from '@swarm/config';
import type { ServiceName } from '@swarm/contracts';
import { SERVICE_ROLES } from '@swarm/contracts';
import type { NodeIdentity } from '@swarm/identity';
import { loadOrCreateIdentity } from '@swarm/identity';
import type { Logger } from '@swarm/telemetry';
import { createLogger, startTelemetry } from '@swarm/telemetry';
import type { NatsConnection } from 'nats';
import { connectWithRetry } from './first-connect';
import { runMain } from './run-main';
import { onShutdown } from './shutdown';
import { STOP_ON_STDIN_EOF } from './supervised-process';

export interface ServiceContext<C> {
  readonly config: C;
  readonly log: Logger;
  readonly nc: NatsConnection;
  /**
   * A second connection for the service's own requests, when `outboundConnection` is set. Replies
   * to them then never queue behind a flood of large requests arriving on `nc` (nats-server
   * delivers one connection's messages in order), so an admitted task's reserve reply or executor
   * ack is not late because thousands of refused 2 MiB submits are still being read.
   */
  readonly outboundNc?: NatsConnection;
  readonly identity: NodeIdentity;
}

export interface ServiceMainOptions<C extends ServiceConfig> {
  /** Process and log name, e.g. "credit-svc". */
  name: string;
  loadConfig(env: NodeJS.ProcessEnv): C;
  start(ctx: ServiceContext<C>): Promise<{ stop(): Promise<void> }>;
  /** Open `outboundNc` beside `nc` (a service that takes large requests and makes its own). */
  outboundConnection?: boolean;
}

export function runServiceMain<C extends ServiceConfig>(opts: ServiceMainOptions<C>): void {
  runMain(opts.name, async () => {
    const config = opts.loadConfig(process.env);
    const identity = await loadOrCreateIdentity(config.dataDir);
    const log = createLogger({ service: opts.name, nodeId: identity.nodeId, level: config.logLevel });
    const otel = startTelemetry({ serviceName: opts.name, nodeId: identity.nodeId, otlpEndpoint: config.otlpEndpoint, sampleRatio: config.traceSampleRatio }, log);
    const auth = await busConnectOptions(roleOf(opts.name), config.natsNkeyFile);
    // Wait for a bus that is not up yet, then reconnect forever: a restarting nats-server must not
    // take the service down with it.
    const connect = (suffix: string) =>
      connectWithRetry(
        { servers: config.natsUrl, name: `${opts.name}${suffix}:${identity.nodeId.slice(0, 12)}`, maxReconnectAttempts: -1, ...auth },
        config.natsConnectTimeoutMs,
        log,
      );
    const nc = await connect('');
    const outboundNc = opts.outboundConnection ? await connect('-out') : undefined;
    const svc = await opts.start({ config, log, nc, identity, ...(outboundNc ? { outboundNc } : {}) });
    log.info({ pid: process.pid, nats: config.natsUrl }, `${opts.name} started`);
    const shutdown = onShutdown({ graceMs: config.graceMs, log }, async () => {
      await svc.stop();
      await nc.drain();
      await outboundNc?.drain();
      await otel.shutdown();
    });
    // Under `swarm up` each service has its own process group (Ctrl-C reaches only the launcher,
    // which stops services in order); a closed stdin means the launcher is gone, so stop too.
    if (process.env[STOP_ON_STDIN_EOF] === '1') {
      process.stdin.on('end', () => shutdown.trigger('launcher gone (stdin closed)'));
      process.stdin.resume();
    }
    return shutdown.exitCode;
  });
}

/** "credit-svc" -> "credit": a service connects with the bus identity of its role. */
function roleOf(name: string): ServiceName {
  const role = SERVICE_ROLES.find((r) => `${r}-svc` === name);
  if (!role) throw new Error(`${name} is not a service with a bus role`);
  return role;
}
