/**
 * The raw NATS request/reply floor: an open nats-server of the node's binary (a node's bus is
 * closed: no identity there may serve an echo), the echo responder in a child process (every hop
 * of a node crosses a process boundary; a responder in the requester's own event loop would make
 * the floor look 2-3× slower than it is) and a plain nats.js requester here.
 */
import { resolve } from 'node:path';
import type { SpawnedProcess } from '@swarm/runtime';
import { compiledNodeArgs, spawnProcess } from '@swarm/runtime';
import { startNatsServer } from '@swarm/testing';
import { connect } from 'nats';

const ECHO_SUBJECT = 'bench.echo';
const REQUEST_TIMEOUT_MS = 10_000;
const RESPONDER_READY_MS = 15_000;
const PROCESS_STOP_GRACE_MS = 3_000;

export interface NatsFloor {
  /** One echo round trip of `payloadBytes`. */
  request(): Promise<unknown>;
  /** The nats-server and the responder, for CPU per request (proc-usage.ts). */
  readonly processes: ReadonlyArray<{ name: string; pid: number }>;
  stop(): Promise<void>;
}

export async function startNatsFloor(payloadBytes: number): Promise<NatsFloor> {
  const server = await startNatsServer();
  const stops: Array<() => Promise<unknown>> = [() => server.stop()];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const responder = await spawnEchoResponder(server.url);
    stops.push(() => responder.stop(PROCESS_STOP_GRACE_MS));
    const nc = await connect({ servers: server.url, name: 'bench-echo-requester' });
    stops.push(() => nc.drain());
    const payload = new Uint8Array(payloadBytes);
    const processes = [
      { name: 'nats-server (floor)', pid: server.pid },
      { name: 'echo responder (floor)', pid: responder.pid },
    ].flatMap((p) => (p.pid === undefined ? [] : [{ name: p.name, pid: p.pid }]));
    return { request: () => nc.request(ECHO_SUBJECT, payload, { timeout: REQUEST_TIMEOUT_MS }), processes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function spawnEchoResponder(natsUrl: string): Promise<SpawnedProcess> {
  return new Promise((done, fail) => {
    let settled = false;
    const settle = (then: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      then();
    };
    const proc = spawnProcess({
      command: process.execPath,
      args: [...compiledNodeArgs(resolve(__dirname, '..'), 'src/nats-echo-responder.ts'), natsUrl, ECHO_SUBJECT],
      onOutput: (stream) => {
        if (stream === 'stdout' && proc.stdout().includes('ready')) settle(() => done(proc));
      },
    });
    const timer = setTimeout(() => {
      void proc.stop(PROCESS_STOP_GRACE_MS);
      settle(() => fail(new Error(`the echo responder was not ready within ${RESPONDER_READY_MS} ms: ${proc.stderr().slice(-500)}`)));
    }, RESPONDER_READY_MS);
    void proc.exited.then((exit) => settle(() => fail(new Error(`the echo responder exited (${exit.code ?? exit.signal}): ${proc.stderr().slice(-500)}`))));
  });
}
