/**
 * Issue 13's remote round trip, every path measured in the same run on this machine, one request
 * at a time (c = 1), in blocks taken in turns (sequential-latency.ts), each responder in
 * another process:
 *   a. raw NATS request/reply (an open nats-server, the echo in a child process): the bus floor;
 *   b. raw grpc-js unary over mutual TLS on loopback: PeerService.Ping of node B's gateway,
 *      dialled from this process with a throwaway node identity;
 *   -  node B's executor asked directly on B's bus (as B's router asks it);
 *   c. the remote hop alone: GatewayExecute on node A's bus for a task B runs (router bypassed):
 *      NATS -> gateway A -> gRPC -> gateway B -> NATS -> executor B and back;
 *   d. the whole task submitted on A (whose only provider is B) next to the same submit on B.
 * Added latency = p50(c) - p50(executor on B): what going through both gateways adds to running
 * on the executor; goal: at most 3 x (p50(b) + 2 x p50(a)), one gRPC call and two bus hops.
 */
import { availableParallelism, loadavg } from 'node:os';
import { busConnectOptions, createBusClient } from '@swarm/bus';
import { connectSwarm } from '@swarm/client';
import type { ExecuteRequest } from '@swarm/contracts';
import { ExecutorExecute, fromTensor, GatewayExecute } from '@swarm/contracts';
import { seededRandom, systemClock } from '@swarm/determinism';
import { dialPeer, parsePeerAddress } from '@swarm/gateway';
import { busKeyFile, loadOrCreateNodeCertificate } from '@swarm/identity';
import type { RunningNode } from '@swarm/node';
import { demoInputs, priceOf } from '@swarm/skills';
import { silentLogger } from '@swarm/telemetry';
import { tempDir } from '@swarm/testing';
import Table from 'cli-table3';
import { connect } from 'nats';
import type { InterleaveOptions, SequentialLatency } from './sequential-latency';
import { measureInterleaved } from './sequential-latency';
import { startSwarmPair } from './swarm-pair';
import { startNatsFloor } from './nats-floor';

const SKILL = 'vecadd';
/** What the floors carry: about a tiny vecadd's size on the wire. */
const FLOOR_PAYLOAD_BYTES = 64;
const TASK_TIMEOUT_MS = 10_000;
/** Executors acknowledge from their event loop on arrival (router-svc's default ack wait). */
const ACK_TIMEOUT_MS = 2_000;
/** Requests per path before the next path's turn (sequential-latency.ts). */
const BLOCK_SIZE = 25;
/** Issue 13: added latency p50 <= 3 x (grpc echo + 2 NATS hops). */
const ADDED_LATENCY_FACTOR = 3;
/**
 * Light nodes (they share the machine with the bench), a large grant so the run never runs out of
 * credit, and per-peer rates far above what c = 1 sends (the default 100/s would throttle the echo).
 */
const NODE_ENV = {
  SWARM_LOG_LEVEL: 'warn',
  SWARM_EXECUTOR_THREADS: '1',
  SWARM_GENESIS_GRANT: '1000000',
  SWARM_GATEWAY_PEER_RATE: '100000',
  SWARM_GATEWAY_PEER_BURST: '100000',
};

export interface RemoteBenchOptions extends InterleaveOptions {
  vecaddSize: number;
}

export interface RemoteBenchRow {
  name: string;
  latency: SequentialLatency;
}

export interface RemoteBenchResult {
  rows: RemoteBenchRow[];
  addedMs: number;
  budgetMs: number;
}

type Op = () => Promise<unknown>;
type Closer = () => Promise<void> | void;

export async function benchRemote(opts: RemoteBenchOptions): Promise<RemoteBenchResult> {
  // Everything opened is closed in reverse, whatever failed.
  const closers: Closer[] = [];
  try {
    const rawNats = await rawNatsEcho(closers);
    const pair = await startSwarmPair(SKILL, NODE_ENV);
    closers.push(() => pair.stop());
    const grpcPing = await grpcPingOf(pair.b, closers);
    const hops = await executeHops(pair.a, pair.b, opts, closers);
    const submitOnB = await submitOn(pair.b, pair.b, opts, closers);
    const submitOnA = await submitOn(pair.a, pair.b, opts, closers);
    const m = await measureInterleaved(opts, { rawNats, grpcPing, executorOnB: hops.local, remoteHop: hops.remote, submitOnB, submitOnA });
    const rows: RemoteBenchRow[] = [
      { name: 'a. raw NATS request/reply (responder in another process)', latency: m.rawNats },
      { name: 'b. raw grpc-js unary over mTLS (gateway Ping, another process)', latency: m.grpcPing },
      { name: `executor on B: ${SKILL} via B's bus (local execute)`, latency: m.executorOnB },
      { name: 'c. remote hop: GatewayExecute on A -> B (router bypassed)', latency: m.remoteHop },
      { name: `d. submit ${SKILL} on B, run on B (local task)`, latency: m.submitOnB },
      { name: `d. submit ${SKILL} on A, run on B (remote task)`, latency: m.submitOnA },
    ];
    return {
      rows,
      addedMs: m.remoteHop.p50Ms - m.executorOnB.p50Ms,
      budgetMs: ADDED_LATENCY_FACTOR * (m.grpcPing.p50Ms + 2 * m.rawNats.p50Ms),
    };
  } finally {
    for (const close of closers.reverse()) await close();
  }
}

/** Prints the table and the verdict (bench main.ts `--remote`). */
export async function printRemoteBench(quick: boolean): Promise<void> {
  const opts: RemoteBenchOptions = { requests: quick ? 100 : 300, warmup: quick ? 20 : 50, blockSize: BLOCK_SIZE, vecaddSize: 16 };
  process.stderr.write('bench: remote round trip (two nodes, as swarm up runs them)…\n');
  const t0 = performance.now();
  const r = await benchRemote(opts);
  const floor = r.rows[0]?.latency.p50Ms ?? NaN;
  const f = (x: number, d = 3) => x.toFixed(d);
  const t = new Table({
    head: [`path (c=1, blocks of ${BLOCK_SIZE} in turns)`, 'requests', 'p50 ms', 'p90 ms', 'p99 ms', 'req/s', 'p50 ÷ raw NATS'],
    ...(process.stdout.isTTY ? {} : { style: { head: [], border: [] } }),
  });
  for (const { name, latency: l } of r.rows) t.push([name, String(l.count), f(l.p50Ms), f(l.p90Ms), f(l.p99Ms), f(l.opsPerSec, 0), f(l.p50Ms / floor, 1)]);
  const verdict = r.addedMs <= r.budgetMs ? 'MET' : 'MISSED';
  process.stdout.write(
    `\nRemote ${SKILL} n=${opts.vecaddSize} through both gateways vs raw floors (loopback, ${availableParallelism()} cores, load average ${loadavg()[0].toFixed(1)} at the end, ${f((performance.now() - t0) / 1000, 1)} s)\n${t.toString()}\n` +
      `added latency p50(c) - p50(executor on B) = ${f(r.addedMs)} ms; goal <= ${ADDED_LATENCY_FACTOR} x (p50(b) + 2 x p50(a)) = ${f(r.budgetMs)} ms: ${verdict}\n`,
  );
}

async function rawNatsEcho(closers: Closer[]): Promise<Op> {
  const floor = await startNatsFloor(FLOOR_PAYLOAD_BYTES);
  closers.push(() => floor.stop());
  return () => floor.request();
}

async function grpcPingOf(b: RunningNode, closers: Closer[]): Promise<Op> {
  const peer = parsePeerAddress(b.peerAddress);
  if (!peer) throw new Error(`node B's peer address is not <node id>@host:port: '${b.peerAddress.slice(0, 100)}'`);
  // A throwaway node identity: B's gateway admits any key that proves itself.
  const home = await tempDir('swarm-bench-dialer-');
  closers.push(() => home.remove());
  const certificate = await loadOrCreateNodeCertificate(home.path, systemClock);
  const client = dialPeer({ certificate, peer, clock: systemClock });
  closers.push(() => client.close());
  const payload = new Uint8Array(FLOOR_PAYLOAD_BYTES);
  return () => client.call('ping', { payload });
}

let taskCounter = 0;
function task(inputs: ExecuteRequest['inputs']): ExecuteRequest {
  taskCounter += 1;
  return { taskId: `task-bench-${process.pid}-${taskCounter}`, skill: SKILL, inputs, timeoutMs: TASK_TIMEOUT_MS };
}

/** As each node's router asks (its key): B's executor directly, and A's gateway for B. */
async function executeHops(a: RunningNode, b: RunningNode, opts: RemoteBenchOptions, closers: Closer[]): Promise<{ local: Op; remote: Op }> {
  const inputs = demoInputs(SKILL, opts.vecaddSize, seededRandom(7));
  const routerBus = async (node: RunningNode, name: string) => {
    const nc = await connect({ servers: node.natsUrl, name, ...(await busConnectOptions('router', busKeyFile(node.home, 'router'))) });
    closers.push(() => nc.drain());
    return createBusClient(nc, silentLogger());
  };
  const busB = await routerBus(b, 'bench-router-b');
  const busA = await routerBus(a, 'bench-router-a');
  return {
    local: () => busB.requestAcked(ExecutorExecute, task(inputs), { timeoutMs: TASK_TIMEOUT_MS, ackTimeoutMs: ACK_TIMEOUT_MS }),
    remote: () => busA.request(GatewayExecute, { peer: b.peerAddress, task: task(inputs) }, { timeoutMs: TASK_TIMEOUT_MS }),
  };
}

/** The whole task (escrow, execute, verify, settle) as a user submits it on `node`; `b` must run it. */
async function submitOn(node: RunningNode, b: RunningNode, opts: RemoteBenchOptions, closers: Closer[]): Promise<Op> {
  const inputs = demoInputs(SKILL, opts.vecaddSize, seededRandom(3));
  const budget = priceOf(SKILL, inputs.map(fromTensor));
  const client = await connectSwarm(node.natsUrl, { nkeyFile: node.clientKeyFile });
  closers.push(() => client.close());
  const submit = () => client.submit({ skill: SKILL, inputs, budget, timeoutMs: TASK_TIMEOUT_MS });
  // Both submit rows must be B's work, or the comparison says nothing.
  const first = await submit();
  if (first.providerId !== b.nodeId) throw new Error(`a task submitted on ${node === b ? 'B' : 'A'} ran on ${first.providerId.slice(0, 16)}, not on node B`);
  return submit;
}
