/**
 * Measures a flood (issue 10, section 3): every service as its own process on a fresh node, then
 * N large matmuls sent at once from one connection. Prints the replies by code, how long the flood
 * took, and the router's RSS (from /proc) before, at its peak and after. Linux only.
 *
 *   node bin/run-ts.js tools/e2e/src/overload-flood.ts [--requests 1000] [--size 512] [--timeout-ms 30000]
 *     [--executor-niceness 10]
 *
 * Extra environment (e.g. SWARM_ROUTER_MAX_INFLIGHT) reaches every service. Executors run at the
 * niceness `swarm up` gives them (libs/runtime EXECUTOR_NICENESS); `--executor-niceness 0` to compare.
 */
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { createBusClient, DEADLINE_HEADER } from '@swarm/bus';
import { errorCodeName, fromTensor, HEALTH_BY_SERVICE, HealthResponse, RouterHealth, RouterSubmit, SubmitTaskRequest, SwarmErrorMessage } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { NODE_SERVICES } from '@swarm/node';
import { demoInputs, priceOf } from '@swarm/skills';
import { silentLogger } from '@swarm/telemetry';
import type { ServiceProcess } from '@swarm/testing';
import { spawnService, startNatsServer, tempDir, waitFor } from '@swarm/testing';
import { connect, headers } from 'nats';

const SAMPLE_MS = 50;
const SETTLE_AFTER_MS = 3_000;
/** libs/runtime's EXECUTOR_NICENESS, which `swarm up` applies to executor-svc. */
const EXECUTOR_NICENESS = 10;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

/** Resident and peak resident set of a process, in MiB (Linux /proc). */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: Math.round(kb('VmRSS') / 1024), hwm: Math.round(kb('VmHWM') / 1024) };
}

/** CPU seconds (user + system) a process has used so far (Linux /proc; clock ticks of 10 ms). */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function main(): Promise<void> {
  const requests = arg('requests', 1_000);
  const size = arg('size', 512);
  const timeoutMs = arg('timeout-ms', 30_000);
  const executorNiceness = arg('executor-niceness', EXECUTOR_NICENESS);
  const nats = await startNatsServer();
  const home = await tempDir('swarm-flood-');
  const env = { SWARM_NATS_URL: nats.url, SWARM_DATA_DIR: home.path, SWARM_GENESIS_GRANT: '1000000000', SWARM_CREDIT_SYNC_WRITES: 'false' };
  const procs = new Map<string, ServiceProcess>();
  const nc = await connect({ servers: nats.url });
  try {
    // In the launcher's order: credit-svc first (it creates the node key the others read).
    for (const { app: name, role } of NODE_SERVICES) {
      const proc = spawnService(name, env);
      procs.set(name, proc);
      if (name === 'executor-svc') setPriority(proc.pid, executorNiceness);
      const rpc = HEALTH_BY_SERVICE[role];
      await waitFor(() => nc.request(rpc.subject, new Uint8Array(), { timeout: 1_000 }), { what: `${name} health`, timeoutMs: 60_000, intervalMs: 200 });
    }
    const router = procs.get('router-svc') as ServiceProcess;
    const inputs = demoInputs('matmul', size, seededRandom(size));
    const req = SubmitTaskRequest.fromPartial({ skill: 'matmul', inputs, budget: priceOf('matmul', inputs.map(fromTensor)), timeoutMs: timeoutMs });
    const bytes = SubmitTaskRequest.encode(req).finish();
    // One warm-up task, so the before figure is a router that has run the pipeline once.
    await createBusClient(nc, silentLogger()).request(RouterSubmit, req, { timeoutMs: timeoutMs + 2_000 });
    const before = memoryOf(router.pid);
    const pids: Record<string, number> = { 'nats-server': nats.pid, flooder: process.pid };
    for (const [name, p] of procs) pids[name] = p.pid;
    const cpuBefore = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, cpuOf(pid)]));
    let peak = before.rss;
    const sampler = setInterval(() => (peak = Math.max(peak, memoryOf(router.pid).rss)), SAMPLE_MS);

    const t0 = Date.now();
    const latencies: number[] = [];
    const codes = new Map<string, number>();
    const count = (k: string) => void codes.set(k, (codes.get(k) ?? 0) + 1);
    let lastRetryAfter = 0;
    const examples: Record<string, string> = {};
    const waitMs = timeoutMs + 2_000;
    await Promise.all(
      Array.from({ length: requests }, () => {
        // As the bus client does: the router learns when this requester stops waiting.
        const h = headers();
        h.set(DEADLINE_HEADER, String(Date.now() + waitMs));
        // The same bytes for every request: the flood costs the sender one copy, not N.
        return nc.request(RouterSubmit.subject, bytes, { timeout: waitMs, headers: h }).then(
          (m) => {
            latencies.push(Date.now() - t0);
            if (!m.headers?.has('swarm-error')) {
              count('ok');
              return;
            }
            const e = SwarmErrorMessage.decode(m.data);
            lastRetryAfter = e.retryAfterMs ?? 0;
            count(errorCodeName(e.code));
            examples[errorCodeName(e.code)] ??= e.message.slice(0, 160);
          },
          () => count('no reply (client timeout)'),
        );
      }),
    );
    const floodMs = Date.now() - t0;
    const cpuSeconds = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, Math.round((cpuOf(pid) - (cpuBefore[n] ?? 0)) * 10) / 10]));
    await new Promise((r) => setTimeout(r, SETTLE_AFTER_MS));
    clearInterval(sampler);
    const after = memoryOf(router.pid);
    // Behind whatever of the flood the router has still to read (it reads requests in order).
    const health = HealthResponse.decode((await nc.request(RouterHealth.subject, new Uint8Array(), { timeout: 120_000 })).data);
    latencies.sort((a, b) => a - b);
    const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
    process.stdout.write(
      `${JSON.stringify(
        {
          requests,
          matmul: size,
          requestBytes: bytes.byteLength,
          executorNiceness,
          floodMs,
          replies: Object.fromEntries(codes),
          // Silent requests the router read only after their deadline had passed (the transport
          // took the whole wait); any silence beyond this count is the router's fault.
          routerReadAfterDeadline: Number(health.details['arrivedAfterDeadline'] ?? NaN),
          // Replies the router sent after their requester's deadline (its own lateness).
          routerAnsweredAfterDeadline: Number(health.details['answeredAfterDeadline'] ?? NaN),
          replyMs: { p50: p(0.5), p99: p(0.99), max: latencies.at(-1) },
          lastRetryAfterMs: lastRetryAfter,
          examples,
          routerRssMiB: { before: before.rss, peak, after: after.rss, hwm: after.hwm },
          cpuSecondsDuringFlood: cpuSeconds,
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await nc.drain();
    for (const { app } of [...NODE_SERVICES].reverse()) await procs.get(app)?.kill();
    await nats.stop();
    await home.remove();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
