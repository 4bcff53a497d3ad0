/**
 * `npm run bench`: prints four tables.
 *   0. Start times of `swarm --version`, `swarm up`, five nodes at once and `swarm up --nodes 5` (start-time-bench.ts);
 *      `--start` runs this table only.
 *   1. The node pipeline for a tiny vecadd (five processes, as `swarm up` runs them) next to a raw
 *      NATS request/reply (its responder in another process: nats-floor.ts), the floor, in the same run.
 *      Also one service call (credit.balance) and the pipeline with tracing exported to a local
 *      stand-in collector (otlp-sink.ts); `--pipeline` runs this table only.
 *   2. matmul 256/512 GFLOP/s of the gpu.js kernel vs a plain-JS loop, in the same run.
 *   3. Verification time as a % of execution time per skill and size (verify-bench.ts).
 *   4. Synced settlements (reserve + settle pairs, fsync on) vs raw classic-level synced batches
 *      (ledger-bench.ts); `--ledger` runs this table only.
 * `--remote`: a remote vecadd through both gateways vs raw grpc-js and NATS (remote-bench.ts), only.
 * `--shapley`: Shapley attribution, error vs permutations and time per settlement (shapley-bench.ts), only.
 * `--chain`: signed receipts and per-node chains, appends, settlements and audits per second (chain-bench.ts), only.
 * `--backends [--only webgpu,webasm,cpu]`: every skill on each gpu.js backend, verified (backend-bench.ts), only.
 * `--tracing`: tracing on ÷ off, nodes side by side taking blocks of tasks in turns (two each, started A, B, B, A: tracing-bench.ts), only.
 * `--fold`: the folded path (run, then one charge) vs the escrow path, and vs the folded path with every kernel on a worker thread
 *   (no inline lane), nodes side by side (two each), fsync on, beside the NATS floor, only.
 * `--sustained [--seconds N] [--remote]`: the whole task at 16 in flight for 60 s (10 s with `--quick`, N from 10 to 600), fsync on, after the NATS floor (sustained-bench.ts), only;
 *   with `--remote`, node A submits and node B runs every task, paid by receipts.
 * Bounded: fixed request counts; `--quick` runs a smaller set. `--verify` runs table 3 only, and
 * `--calibrate` adds the honest f32 error calibration of the matmul tolerance (minutes).
 */
import { availableParallelism, loadavg } from 'node:os';
import { DOT_ERROR_LAMBDA, VALUE_DISTRIBUTIONS } from '@swarm/skills';
import Table from 'cli-table3';
import { printBackendBench } from './backend-bench';
import { printChainBench } from './chain-bench';
import { benchKernels } from './kernel-bench';
import { benchLedger } from './ledger-bench';
import { startOtlpSink } from './otlp-sink';
import { startNatsFloor } from './nats-floor';
import { benchPipeline } from './pipeline-bench';
import { printRemoteBench } from './remote-bench';
import { printShapleyBench } from './shapley-bench';
import { benchStartTimes, median, START_GOALS_MS, SWARM_NODES } from './start-time-bench';
import { benchSideBySide } from './side-by-side-bench';
import { benchSustained } from './sustained-bench';
import { measure } from './stats';
import { benchTracing } from './tracing-bench';
import { benchVerification, calibrateMatmul } from './verify-bench';

const quick = process.argv.includes('--quick');
const verifyOnly = process.argv.includes('--verify');
const calibrate = process.argv.includes('--calibrate');
const startOnly = process.argv.includes('--start');
const ledgerOnly = process.argv.includes('--ledger');
const pipelineOnly = process.argv.includes('--pipeline');
const remoteOnly = process.argv.includes('--remote');
const shapleyOnly = process.argv.includes('--shapley');
const chainOnly = process.argv.includes('--chain');
const backendsOnly = process.argv.includes('--backends');
const tracingOnly = process.argv.includes('--tracing');
const foldOnly = process.argv.includes('--fold');
const sustainedOnly = process.argv.includes('--sustained');
const f = (x: number, d = 2) => x.toFixed(d);

/** Plain tables when piped (CI logs, files); colours only on a terminal. */
const table = (head: string[]) => new Table({ head, ...(process.stdout.isTTY ? {} : { style: { head: [], border: [] } }) });

async function main(): Promise<void> {
  if (pipelineOnly) return benchNode();
  if (remoteOnly && !sustainedOnly) return printRemoteBench(quick);
  if (shapleyOnly) return printShapleyBench(quick);
  if (chainOnly) return printChainBench(quick);
  if (backendsOnly) {
    if (!(await printBackendBench(process.argv.slice(2)))) process.exitCode = 1;
    return;
  }
  if (ledgerOnly) return benchSettlements();
  if (tracingOnly) return benchTracingCost();
  if (foldOnly) return benchFold();
  if (sustainedOnly) return printSustained();
  if (!verifyOnly) await benchStart();
  if (startOnly) return;
  if (!verifyOnly) {
    await benchNode();
    await benchMatmul();
  }
  await benchVerify();
  if (!verifyOnly) await benchSettlements();
}

const SIDE_BY_SIDE = quick ? { blocks: 4, blockTasks: 150, sequentialBlockTasks: 30, concurrency: 16 } : { blocks: 6, blockTasks: 300, sequentialBlockTasks: 150, concurrency: 16 };

/** Issue 12's sustained row: at least this many tasks/s for a minute, fsync on, … */
const SUSTAINED_GOAL_TASKS_PER_SEC = 800;
/** … with p99 at most this. */
const SUSTAINED_GOAL_P99_MS = 50;

/** `--seconds N` (10 to 600) for a longer or shorter sustained run. */
function sustainedSeconds(): number {
  const at = process.argv.indexOf('--seconds');
  if (at < 0) return quick ? 10 : 60;
  const n = Number(process.argv[at + 1]);
  if (!Number.isInteger(n) || n < 10 || n > 600) throw new RangeError(`--seconds takes a whole number from 10 to 600, got '${String(process.argv[at + 1]).slice(0, 20)}'`);
  return n;
}

async function printSustained(): Promise<void> {
  const remote = process.argv.includes('--remote');
  const opts = { seconds: sustainedSeconds(), concurrency: 16, windowSeconds: 10, vecaddSize: 16, executors: 1, remote };
  const where = remote ? ', node A submitting, node B running every task' : '';
  process.stderr.write(`bench: the whole task at ${opts.concurrency} in flight for ${opts.seconds} s (fsync on${where}), after the NATS floor…\n`);
  const { floorPar, run, perTask } = await benchSustained(opts);
  const t = table(['path', 'in flight', 'seconds', 'done', 'failed', 'ops/s', 'p50 ms', 'p99 ms', 'max ms']);
  t.push([
    'raw NATS request/reply (floor)',
    String(opts.concurrency),
    '',
    String(floorPar.count),
    '0',
    f(floorPar.opsPerSec, 0),
    f(floorPar.p50Ms, 3),
    f(floorPar.p99Ms, 3),
    f(floorPar.maxMs, 1),
  ]);
  const failed = [...run.errors.values()].reduce((a, b) => a + b, 0);
  t.push([
    remote ? 'submit vecadd n=16 on A, run on B, fsync on' : 'submit vecadd n=16, whole pipeline, fsync on',
    String(opts.concurrency),
    f(run.seconds, 1),
    String(run.count),
    String(failed),
    f(run.opsPerSec, 0),
    f(run.p50Ms, 3),
    f(run.p99Ms, 3),
    f(run.maxMs, 1),
  ]);
  const windows = run.windowOpsPerSec.map((r) => f(r, 0)).join(', ');
  const errors = failed === 0 ? 'none' : [...run.errors].map(([code, n]) => `${code}: ${n}`).join(', ');
  const cpu = perTask.map((u) => `${u.name} ${f(u.cpuMsPerOp, 3)}`).join(', ');
  const total = perTask.reduce((a, u) => a + u.cpuMsPerOp, 0);
  process.stdout.write(
    `\nThe whole task, sustained (loopback, ${availableParallelism()} cores, load average ${loadavg()[0].toFixed(1)} at the end)\n${t.toString()}\n` +
      `tasks/s per ${opts.windowSeconds} s window: ${windows}\nfailed by code: ${errors}\nCPU ms per task: ${cpu}; all processes ${f(total, 3)}\n` +
      (remote
        ? ''
        : `goal (issue 12): ≥ ${SUSTAINED_GOAL_TASKS_PER_SEC} tasks/s, p99 ≤ ${SUSTAINED_GOAL_P99_MS} ms: ${run.opsPerSec >= SUSTAINED_GOAL_TASKS_PER_SEC && run.p99Ms <= SUSTAINED_GOAL_P99_MS && failed === 0 ? 'met' : 'not met'}\n`),
  );
}

/**
 * What folding the escrow into one charge saves a small local task, and what running its kernel on the
 * executor's thread (the inline lane) saves beside that, next to the NATS floor of the same run.
 */
async function benchFold(): Promise<void> {
  process.stderr.write('bench: the folded path vs the escrow path vs no inline lane, six nodes side by side (two each, fsync on), blocks of tasks in turns…\n');
  const opts = SIDE_BY_SIDE;
  const floor = await startNatsFloor(64);
  let floorSeq: Awaited<ReturnType<typeof measure>>;
  try {
    await measure(200, 4, () => floor.request());
    floorSeq = await measure(400, 1, () => floor.request());
  } finally {
    await floor.stop();
  }
  const [escrow, onWorker, folded] = await benchSideBySide(
    [
      { name: 'escrow path (SWARM_ROUTER_FOLD_MAX_WORK=0): reserve, run, settle', syncWrites: true, env: { SWARM_ROUTER_FOLD_MAX_WORK: '0' } },
      { name: 'folded path, kernel on a worker thread (SWARM_EXECUTOR_INLINE_MAX_WORK=0)', syncWrites: true, env: { SWARM_EXECUTOR_INLINE_MAX_WORK: '0' } },
      { name: 'folded path (the default): run, then one charge; tiny kernel inline', syncWrites: true, env: {} },
    ],
    opts,
  );
  const t = table(['node (ledger fsync on)', `tasks/s, ${opts.concurrency} in flight`, 'p50 ms', 'p99 ms', 'tasks/s, 1 at a time', 'p50 ms', 'CPU ms / task (all processes)']);
  for (const r of [escrow, onWorker, folded])
    t.push([r.name, f(r.tasksPerSec, 0), f(r.p50Ms, 3), f(r.p99Ms, 3), f(r.sequentialTasksPerSec, 0), f(r.sequentialP50Ms, 3), f(r.cpuMsPerTask, 3)]);
  const hops = 4 * floorSeq.p50Ms;
  const summary =
    `raw NATS request/reply (floor, responder in another process), 1 at a time: p50 ${f(floorSeq.p50Ms, 3)} ms; four raw hops ${f(hops, 3)} ms\n` +
    `folded ÷ escrow: tasks/s ${f(folded.tasksPerSec / escrow.tasksPerSec)} (c=${opts.concurrency}), ${f(folded.sequentialTasksPerSec / escrow.sequentialTasksPerSec)} (c=1); CPU per task ${f(folded.cpuMsPerTask / escrow.cpuMsPerTask)}\n` +
    `inline lane ÷ kernel on a worker: tasks/s ${f(folded.tasksPerSec / onWorker.tasksPerSec)} (c=${opts.concurrency}), c=1 p50 ${f(folded.sequentialP50Ms / onWorker.sequentialP50Ms)}; CPU per task ${f(folded.cpuMsPerTask / onWorker.cpuMsPerTask)}\n` +
    `c=1 p50 ÷ four raw hops: escrow ${f(escrow.sequentialP50Ms / hops)}, folded ${f(folded.sequentialP50Ms / hops)} (goal ≤ 4); folded c=1 p50 ${f(folded.sequentialP50Ms, 3)} ms (goal ≤ 2.5 ms)`;
  process.stdout.write(
    `\nFolded vs escrow path vs no inline lane, ${opts.blocks} blocks of ${opts.blockTasks} (+ ${opts.sequentialBlockTasks} one at a time) per path over its two nodes, in turns (load average ${loadavg()[0].toFixed(1)} at the end)\n${t.toString()}\n${summary}\n`,
  );
}

async function benchTracingCost(): Promise<void> {
  process.stderr.write('bench: tracing on vs off, four nodes side by side (two each), blocks of tasks in turns…\n');
  const opts = SIDE_BY_SIDE;
  const [off, on] = await benchTracing(opts);
  const t = table(['node (ledger fsync off)', `tasks/s, ${opts.concurrency} in flight`, 'p50 ms', 'tasks/s, 1 at a time', 'p50 ms', 'CPU ms / task (all processes)']);
  for (const r of [off, on]) t.push([r.name, f(r.tasksPerSec, 0), f(r.p50Ms, 3), f(r.sequentialTasksPerSec, 0), f(r.sequentialP50Ms, 3), f(r.cpuMsPerTask, 3)]);
  const ratio = `tracing on ÷ off: tasks/s ${f(on.tasksPerSec / off.tasksPerSec)} (c=${opts.concurrency}), ${f(on.sequentialTasksPerSec / off.sequentialTasksPerSec)} (c=1); CPU per task ${f(on.cpuMsPerTask / off.cpuMsPerTask)}`;
  process.stdout.write(
    `\nTracing cost, ${opts.blocks} blocks of ${opts.blockTasks} (+ ${opts.sequentialBlockTasks} one at a time) per setting over its two nodes, in turns (load average ${loadavg()[0].toFixed(1)} at the end)\n${t.toString()}\n${ratio}\n`,
  );
}

async function benchSettlements(): Promise<void> {
  process.stderr.write('bench: synced settlements (ledger, credit-svc) vs raw classic-level…\n');
  const rows = await benchLedger({ pairs: quick ? 1000 : 4000, concurrency: 16 });
  const raw = rows[0].pairsPerSec;
  const t4 = table(['path (reserve + settle pairs, fsync on)', 'in flight', 'pairs', 'pairs/s', '÷ raw', 'p50 ms', 'p99 ms']);
  for (const r of rows) t4.push([r.name, String(r.concurrency), String(r.pairs), f(r.pairsPerSec, 0), f(r.pairsPerSec / raw), f(r.p50Ms, 3), f(r.p99Ms, 3)]);
  process.stdout.write(`\nSynced settlements vs raw classic-level synced batches (same disk, same run)\n${t4.toString()}\n`);
}

async function benchStart(): Promise<void> {
  process.stderr.write('bench: start times (swarm --version, swarm up, five nodes at once, swarm up --nodes 5)…\n');
  const s = await benchStartTimes(quick ? 1 : 3);
  const t0 = table(['start', 'runs', 'median s', 'min s', 'max s', 'goal s']);
  const row = (name: string, xs: number[], goalMs: number) =>
    t0.push([name, String(xs.length), f(median(xs) / 1000), f(Math.min(...xs) / 1000), f(Math.max(...xs) / 1000), f(goalMs / 1000, 1)]);
  row('swarm --version', s.versionMs, START_GOALS_MS.version);
  row('swarm up: node running (all services ready)', s.upMs, START_GOALS_MS.up);
  row('five swarm up at once: last node running', s.fiveNodesMs, START_GOALS_MS.fiveNodes);
  row(`swarm up --nodes ${SWARM_NODES}: every node running`, s.swarmOfFiveMs, START_GOALS_MS.swarmOfFive);
  process.stdout.write(`\nStart times (compiled JavaScript, ${availableParallelism()} cores, load average ${loadavg()[0].toFixed(1)} at the end)\n${t0.toString()}\n`);
}

async function benchNode(): Promise<void> {
  const base = { sequential: quick ? 100 : 500, concurrent: quick ? 300 : 2000, concurrency: 16, vecaddSize: 16, executors: 1 };
  process.stderr.write('bench: starting a node (swarm up) for the pipeline run…\n');
  const p = await benchPipeline({ ...base, syncWrites: true });
  process.stderr.write('bench: again with ledger fsync off…\n');
  const q = await benchPipeline({ ...base, syncWrites: false });
  // Against fsync off, where the services' CPU (not the disk) sets the pace: what tracing costs.
  process.stderr.write('bench: again with fsync off and tracing exported (OTLP/HTTP to a local stand-in collector)…\n');
  const sink = await startOtlpSink();
  const traced = await benchPipeline({ ...base, syncWrites: false, env: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url } }).finally(() => sink.close());
  const t1 = table(['path', 'in flight', 'requests', 'ops/s', 'p50 ms', 'p99 ms']);
  const row = (name: string, inflight: number, s: { count: number; opsPerSec: number; p50Ms: number; p99Ms: number }) =>
    t1.push([name, String(inflight), String(s.count), f(s.opsPerSec, 0), f(s.p50Ms, 3), f(s.p99Ms, 3)]);
  row('raw NATS request/reply (floor)', 1, p.rawSeq);
  row('raw NATS request/reply (floor)', 16, p.rawPar);
  row('one service call (credit.balance)', 1, p.callSeq);
  row('one service call (credit.balance)', 16, p.callPar);
  row('submit vecadd n=16, whole pipeline', 1, p.seq);
  row('submit vecadd n=16, whole pipeline', 16, p.par);
  row('same, ledger fsync off', 1, q.seq);
  row('same, ledger fsync off', 16, q.par);
  row('same, fsync off, tracing exported (SWARM_TRACE_SAMPLE_RATIO)', 1, traced.seq);
  row('same, fsync off, tracing exported (SWARM_TRACE_SAMPLE_RATIO)', 16, traced.par);
  const ratio = `tracing on ÷ off (fsync off), tasks/s: ${f(traced.seq.opsPerSec / q.seq.opsPerSec)} (c=1), ${f(traced.par.opsPerSec / q.par.opsPerSec)} (c=16)`;
  process.stdout.write(`\nNode pipeline vs raw NATS (loopback, ${availableParallelism()} cores, load average ${loadavg()[0].toFixed(1)} at the end)\n${t1.toString()}\n${ratio}\n`);
  const runs = [p, q, traced];
  const t1b = table(['process', 'CPU ms / task: fsync on', 'fsync off', 'fsync off, traced', 'writes / task: fsync on', 'fsync off', 'fsync off, traced']);
  for (const { name } of p.perTask) {
    const per = runs.map((r) => r.perTask.find((u) => u.name === name));
    t1b.push([name, ...per.map((u) => (u ? f(u.cpuMsPerOp, 3) : '-')), ...per.map((u) => (u ? f(u.writesPerOp, 1) : '-'))]);
  }
  const cpuOf = (r: typeof p) => r.perTask.reduce((sum, u) => sum + u.cpuMsPerOp, 0);
  t1b.push(['all processes', ...runs.map((r) => f(cpuOf(r), 3)), '', '', '']);
  const floorCpu = p.floorPerOp.map((u) => `${u.name} ${f(u.cpuMsPerOp, 3)} ms`).join(', ');
  process.stdout.write(
    `\nPer task at ${base.concurrency} in flight, each process (Linux /proc: utime + stime, write syscalls)\n${t1b.toString()}\nCPU per raw NATS round trip (floor, c=${base.concurrency}): ${floorCpu}\n`,
  );
}

async function benchMatmul(): Promise<void> {
  process.stderr.write('bench: matmul kernels…\n');
  const k = await benchKernels([256, 512], quick ? 2 : 3, Math.min(2, availableParallelism()));
  const t2 = table(['implementation', 'n', 'best ms', 'GFLOP/s']);
  for (const r of k.rows) t2.push([r.impl, String(r.n), f(r.bestMs, 1), f(r.gflops, 2)]);
  process.stdout.write(`\nmatmul f32 (gpu.js backend: ${k.backend})\n${t2.toString()}\n`);
}

async function benchVerify(): Promise<void> {
  process.stderr.write('bench: verification vs execution…\n');
  // Up to the node's limit (2M input values): matmul 1000, mlp 999 wide, vecadd 1M.
  const sizes = quick
    ? { matmul: [64, 256, 700], vecadd: [65_536, 1_000_000], mlp: [64, 256, 700] }
    : { matmul: [64, 256, 512, 700, 1000], vecadd: [4_096, 65_536, 1_000_000], mlp: [64, 256, 700, 999] };
  const v = await benchVerification({ sizes, reps: quick ? 2 : 3 });
  const pct = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)}%`;
  const t3 = table(['skill', 'size', 'gpu.js ms', 'plain JS ms', 'verify ms', 'verify/gpu.js', 'verify/plain JS', 'reject ms', 'decode ms']);
  for (const r of v.rows) {
    t3.push([
      r.skill,
      r.size,
      f(r.kernelMs, 1),
      f(r.referenceMs, 1),
      f(r.verifyMs, 2),
      pct(r.verifyMs, r.kernelMs),
      pct(r.verifyMs, r.referenceMs),
      f(r.rejectMs, 2),
      f(r.decodeMs, 2),
    ]);
  }
  process.stdout.write(
    `\nVerification vs execution (gpu.js backend: ${v.backend}; verify: the router's check of the kernel's result with the CSPRNG; reject: one element 0.1% off)\n${t3.toString()}\n`,
  );
  if (!calibrate) return;
  process.stderr.write('bench: calibrating the matmul f32 error model (minutes)…\n');
  const c = await calibrateMatmul(quick ? [64, 256] : [64, 256, 700, 1000], [...VALUE_DISTRIBUTIONS], DOT_ERROR_LAMBDA);
  const t4 = table(['n', 'values', 'summation', 'max block ‖e‖/σ', 'max cell |e|/σ', 'λσ / rms(c)']);
  for (const r of c) t4.push([String(r.n), r.dist, r.order, f(r.block, 3), f(r.cell, 3), r.thresholdRel.toExponential(1)]);
  process.stdout.write(`\nHonest f32 matmul error vs the model σ = u·√(k·Σ(a·b)² + max(k·Σc², partial-sum drift)) (λ = ${DOT_ERROR_LAMBDA})\n${t4.toString()}\n`);
}

main().then(
  // process.exitCode: a table may have failed (--backends) without throwing.
  () => process.exit(),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
