/**
 * The shared body of every service's main.ts: config -> identity -> logger -> telemetry -> NATS ->
 * start -> stop on SIGTERM/SIGINT (service first, then drain NATS, then flush traces).
 * Keeps each app's main.ts to its name, its config loader and its start function.
 */
import type { ServiceConfig } from '@swarm/config';
import { loadOrCreateIdentity, NodeIdentity } from '@swarm/identity';
import { createLogger, Logger, startTelemetry } from '@swarm/telemetry';
import { connect, NatsConnection } from 'nats';
import { onShutdown, runMain } from './shutdown';
import { STOP_ON_STDIN_EOF } from './supervised-process';

export interface ServiceContext<C> {
  readonly config: C;
  readonly log: Logger;
  readonly nc: NatsConnection;
  readonly identity: NodeIdentity;
}

export interface ServiceMainOptions<C extends ServiceConfig> {
  /** Process and log name, e.g. "credit-svc". */
  name: string;
  loadConfig(env: NodeJS.ProcessEnv): C;
  start(ctx: ServiceContext<C>): Promise<{ stop(): Promise<void> }>;
}

export function runServiceMain<C extends ServiceConfig>(opts: ServiceMainOptions<C>): void {
  runMain(opts.name, async () => {
    const config = opts.loadConfig(process.env);
    const identity = await loadOrCreateIdentity(config.dataDir);
    const log = createLogger({ service: opts.name, nodeId: identity.nodeId, level: config.logLevel });
    const otel = startTelemetry({ serviceName: opts.name, nodeId: identity.nodeId, otlpEndpoint: config.otlpEndpoint }, log);
    // Reconnect forever: a restarting nats-server must not take the service down with it.
    const nc = await connect({ servers: config.natsUrl, name: `${opts.name}:${identity.nodeId.slice(0, 12)}`, maxReconnectAttempts: -1 });
    const svc = await opts.start({ config, log, nc, identity });
    log.info({ pid: process.pid, nats: config.natsUrl }, `${opts.name} started`);
    const shutdown = onShutdown({ graceMs: config.graceMs, log }, async () => {
      await svc.stop();
      await nc.drain();
      await otel.shutdown();
    });
    // Under `swarm up` each service has its own process group (Ctrl-C reaches only the launcher,
    // which stops services in order); a closed stdin means the launcher is gone, so stop too.
    if (process.env[STOP_ON_STDIN_EOF] === '1') {
      process.stdin.on('end', () => shutdown.trigger('launcher gone (stdin closed)'));
      process.stdin.resume();
    }
  });
}
