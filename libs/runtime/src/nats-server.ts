/**
 * A nats-server child process on a free loopback port (its own, never the system's 4222).
 * Used by `swarm up` and by tests. Ready = it logged its client port; stop = SIGTERM, then
 * SIGKILL after a grace period.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUS_MAX_PAYLOAD_BYTES } from '@swarm/contracts';

/** Room for a 512×512 f32 matmul request (2 MiB) with headroom; NATS' default is 1 MiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = BUS_MAX_PAYLOAD_BYTES;
export const NATS_START_TIMEOUT_MS = 10_000;
/** One node's services, CLIs and agents need tens of connections; a key holder must not take thousands. */
export const MAX_CONNECTIONS = 1_000;
const STOP_GRACE_MS = 3_000;
const SEARCH_PATH = ['/usr/sbin/nats-server', '/usr/local/bin/nats-server', '/usr/bin/nats-server'];

export interface NatsServerOptions {
  /** Binary; default $SWARM_NATS_SERVER, then PATH and the usual install places. */
  binary?: string;
  host?: string;
  /** Client port; default a free one the OS picks (a restart passes the port it had). */
  port?: number;
  maxPayloadBytes?: number;
  /** An `authorization { … }` block (see nats-auth.ts); without it the bus is open to anyone who reaches it. */
  authorization?: string;
}

export interface NatsServerHandle {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Resolves when the process has exited. */
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

export class NatsServerError extends Error {
  readonly code = 'SWARM_NATS_SERVER';
}

export function findNatsServer(env: NodeJS.ProcessEnv = process.env): string {
  if (env['SWARM_NATS_SERVER']) return env['SWARM_NATS_SERVER'];
  for (const dir of (env['PATH'] ?? '').split(':').filter(Boolean)) {
    const p = join(dir, 'nats-server');
    if (existsSync(p)) return p;
  }
  const found = SEARCH_PATH.find((p) => existsSync(p));
  if (!found) {
    throw new NatsServerError('nats-server not found: install it (Debian: apt-get install nats-server) or set SWARM_NATS_SERVER');
  }
  return found;
}

export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const binary = opts.binary ?? findNatsServer();
  const host = opts.host ?? '127.0.0.1';
  const dir = await mkdtemp(join(tmpdir(), 'swarm-nats-'));
  const conf = join(dir, 'nats.conf');
  await writeFile(conf, `host: "${host}"\nport: ${opts.port ?? -1}\nmax_payload: ${opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES}\nmax_connections: ${MAX_CONNECTIONS}\n${opts.authorization ?? ''}`, { mode: 0o600 });
  // Own process group, so a terminal's Ctrl-C does not stop the bus under services still draining.
  const child = spawn(binary, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))).then(async (code) => {
    await rm(dir, { recursive: true, force: true });
    return code;
  });
  try {
    const port = await waitForPort(child, exited);
    return {
      url: `nats://${host}:${port}`,
      port,
      pid: child.pid as number,
      exited,
      stop: () => stopChild(child, exited),
    };
  } catch (err) {
    await stopChild(child, exited);
    throw err;
  }
}

function waitForPort(child: ChildProcess, exited: Promise<number | null>): Promise<number> {
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new NatsServerError(`nats-server did not start within ${NATS_START_TIMEOUT_MS} ms:\n${log}`)), NATS_START_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new NatsServerError(`cannot run nats-server: ${err.message}`));
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new NatsServerError(`nats-server exited with code ${code} before it was ready:\n${log}`));
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (log.length < 64_000) log += chunk;
      const m = /Listening for client connections on [^\s]+:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
