/**
 * A service's first connection to its bus, retried: under docker compose or a restarting
 * nats-server the bus may come up after the service. Refused and timed-out connections are retried
 * with capped backoff until `timeoutMs`; a refused key (AUTHORIZATION_VIOLATION) fails at once,
 * since retrying cannot fix it.
 */
import type { Logger } from '@swarm/telemetry';
import type { ConnectionOptions, NatsConnection } from 'nats';
import { connect } from 'nats';

export const FIRST_CONNECT_MIN_DELAY_MS = 250;
export const FIRST_CONNECT_MAX_DELAY_MS = 5_000;

export class BusUnreachableError extends Error {
  readonly code = 'SWARM_NO_NODE';
}

const FATAL = new Set(['AUTHORIZATION_VIOLATION', 'AUTHENTICATION_EXPIRED', 'BAD_AUTHENTICATION']);

export async function connectWithRetry(opts: ConnectionOptions, timeoutMs: number, log: Logger): Promise<NatsConnection> {
  const deadline = Date.now() + timeoutMs;
  let delay = FIRST_CONNECT_MIN_DELAY_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect(opts);
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (FATAL.has(code)) throw err;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new BusUnreachableError(`no NATS bus at ${String(opts.servers)} after ${attempt} attempts in ${timeoutMs} ms (${code || (err as Error).message})`, { cause: err });
      }
      if (attempt === 1) log.warn({ nats: opts.servers, code }, 'waiting for the NATS bus');
      await new Promise((r) => setTimeout(r, Math.min(delay, left)));
      delay = Math.min(delay * 2, FIRST_CONNECT_MAX_DELAY_MS);
    }
  }
}
