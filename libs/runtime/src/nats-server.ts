/**
 * A nats-server child process on a free loopback port (its own, never the system's 4222).
 * Used by `swarm up` and by tests. Ready = it logged its client port; stop = SIGTERM, then
 * SIGKILL after a grace period.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { BUS_MAX_PAYLOAD_BYTES } from '@swarm/contracts';
import type { ProcessExit, SpawnedProcess } from './spawn-process';
import { spawnProcess } from './spawn-process';

/** Room for a 512×512 f32 matmul request (2 MiB) with headroom; NATS' default is 1 MiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = BUS_MAX_PAYLOAD_BYTES;
export const NATS_START_TIMEOUT_MS = 10_000;
/** One node's services, CLIs and agents need tens of connections; a key holder must not take thousands. */
export const MAX_CONNECTIONS = 1_000;
export const NATS_STOP_GRACE_MS = 3_000;
/**
 * What nats-server buffers for one connection that reads slower than it is sent to (its default is
 * 64 MiB, eight of the largest messages): beyond it, messages to that connection are dropped and the
 * requester hears nothing. A flood of large submits at a CPU-starved router must get answers, so
 * the router may fall this far behind; the router's own intake limit refuses the excess.
 */
export const MAX_PENDING_BYTES = 256 * 1024 * 1024;
/** How long a connection may not read before nats-server closes it as a slow consumer (default 10 s). */
export const WRITE_DEADLINE = '60s';
/** nats-server's start-up lines; its port is among them. */
const START_LOG_CHARS = 64_000;
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
  /**
   * Where nats-server's own log lines (start-up, permission violations, slow consumers) go as well
   * as the capped capture (a node's `<data-dir>/logs/nats-server.log`, a rotating log).
   */
  log?: Writable;
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
  await writeFile(
    conf,
    `host: "${host}"\nport: ${opts.port ?? -1}\nmax_payload: ${opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES}\nmax_connections: ${MAX_CONNECTIONS}\nmax_pending: ${MAX_PENDING_BYTES}\nwrite_deadline: "${WRITE_DEADLINE}"\n${opts.authorization ?? ''}`,
    { mode: 0o600 },
  );
  // Own process group, so a terminal's Ctrl-C does not stop the bus under services still draining.
  let onStderr: () => void = () => undefined;
  const proc = spawnProcess({
    command: binary,
    args: ['-c', conf],
    stdout: 'ignore',
    stderr: 'capture',
    captureChars: START_LOG_CHARS,
    detached: true,
    onOutput: (_stream, chunk) => {
      opts.log?.write(chunk);
      onStderr();
    },
  });
  // The config is read once at start: it goes as soon as the server listens (or exits), so a
  // launcher killed with SIGKILL leaves no file behind.
  const removeConfig = () => rm(dir, { recursive: true, force: true });
  const exited = proc.exited.then(async (exit) => {
    await removeConfig();
    return exit;
  });
  const stop = async () => {
    await proc.stop(NATS_STOP_GRACE_MS);
    await exited;
  };
  try {
    const port = await waitForPort(proc, exited, (listener) => (onStderr = listener));
    await removeConfig();
    return {
      url: `nats://${host}:${port}`,
      port,
      pid: proc.pid as number,
      exited: exited.then((e) => e.code),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function waitForPort(proc: SpawnedProcess, exited: Promise<ProcessExit>, onStderr: (listener: () => void) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new NatsServerError(`nats-server did not start within ${NATS_START_TIMEOUT_MS} ms:\n${proc.stderr()}`)), NATS_START_TIMEOUT_MS);
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(
        new NatsServerError(
          exit.error !== undefined ? `cannot run nats-server: ${exit.error}` : `nats-server exited with code ${exit.code} before it was ready:\n${proc.stderr()}`,
        ),
      );
    });
    const poll = () => {
      const m = /Listening for client connections on [^\s]+:(\d+)/.exec(proc.stderr());
      if (!m) return;
      clearTimeout(timer);
      resolve(Number(m[1]));
    };
    onStderr(poll);
    poll();
  });
}
