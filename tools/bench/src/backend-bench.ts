/**
 * gpu.js backends side by side (`npm run bench -- --backends`): every skill at a few sizes through
 * the executor's worker pool (the path tasks take) on each backend this machine offers, in one run.
 * Each result is checked by the skill's own verifier and against the plain-JS reference (`agree`),
 * so a backend that computes wrongly shows as a failed row, not a fast one.
 *
 * It also runs as its own entry (`node tools/bench/dist/backend-bench.js [--quick] [--only a,b]`),
 * loading only the kernel libraries, so it can travel to a GPU machine without the rest of the
 * bench's dependencies (tools/scripts/pack-gpu-check.js).
 */
import { availableParallelism } from 'node:os';
import type { DenseTensor } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import type { KernelBackend, KernelPool } from '@swarm/kernels';
import { createKernelPool } from '@swarm/kernels';
import type { SkillName, SkillSpec } from '@swarm/skills';
import { demoDenseInputs, listSkills, testShapeInputs } from '@swarm/skills';
import { silentLogger } from '@swarm/telemetry';

export const BACKENDS: readonly KernelBackend[] = ['webgpu', 'webasm', 'cpu'];
const RUN_TIMEOUT_MS = 120_000;
/** Data sets per conformance shape; shapes of 100k values or more get one. */
const DATA_PER_SHAPE = 3;

export interface BackendRow {
  /** The backend asked for, and the one the kernels landed on (gpu.js may fall back). */
  readonly asked: KernelBackend;
  readonly ran: string;
  readonly skill: string;
  readonly size: number;
  /** First run: worker start aside, compiles the kernels for this shape. */
  readonly firstMs: number;
  /** Fastest of the timed runs, worker time (executeMs). */
  readonly bestMs: number;
  /** Fastest of the timed runs as the caller sees it: the worker's time plus queueing and transfers. */
  readonly bestWallMs: number;
  /** The skill's work units (floating-point operations) per second at bestMs, in billions. */
  readonly gworkPerSec: number;
  /** Every timed run as well as the first: verified by the skill and agreeing with the reference. */
  readonly correct: boolean;
  readonly detail: string;
  /** `threads` runs at once on `threads` workers, per second, the best of the timed rounds; undefined with one thread. */
  readonly parallelPerSec?: number;
}

/** Every `demo.testShapes` case of a skill (edge shapes up to the node's limit) on one backend. */
export interface ConformanceRow {
  readonly asked: KernelBackend;
  readonly skill: string;
  readonly shapes: number;
  readonly results: number;
  /** Results the skill's verifier refused or that disagree with the plain-JS reference. */
  readonly wrong: number;
  readonly detail: string;
}

export interface BackendBench {
  readonly rows: BackendRow[];
  readonly conformance: ConformanceRow[];
}

export interface BackendBenchOptions {
  readonly backends: readonly KernelBackend[];
  readonly sizes: Readonly<Record<string, readonly number[]>>;
  readonly reps: number;
  readonly threads: number;
  /** Progress lines, one per row (stderr). */
  readonly progress?: (line: string) => void;
}

export const FULL_SIZES: Readonly<Record<string, readonly number[]>> = { matmul: [64, 256, 512, 1000], vecadd: [4_096, 1_000_000], mlp: [64, 256, 700] };
export const QUICK_SIZES: Readonly<Record<string, readonly number[]>> = { matmul: [64, 512], vecadd: [65_536], mlp: [256] };

/**
 * One row per backend × skill × size, and one conformance row per backend × skill; a backend that
 * cannot start gives one row saying why.
 */
export async function benchBackends(opts: BackendBenchOptions): Promise<BackendBench> {
  const rows: BackendRow[] = [];
  const conformance: ConformanceRow[] = [];
  for (const asked of opts.backends) {
    let pool: KernelPool;
    try {
      pool = await createKernelPool({ threads: opts.threads, maxQueue: 2 * opts.threads, backend: asked, log: silentLogger() });
    } catch (err) {
      rows.push(unavailable(asked, err));
      opts.progress?.(`${asked}: ${rows[rows.length - 1].detail}`);
      continue;
    }
    try {
      for (const skill of listSkills()) {
        for (const size of opts.sizes[skill.name] ?? []) {
          const row = await benchOne(pool, asked, skill, size, opts).catch((err: unknown) => failedRow(asked, skill.name, size, err));
          rows.push(row);
          opts.progress?.(`${asked}/${row.ran} ${skill.name} ${size}: ${row.bestMs.toFixed(2)} ms, ${row.correct ? 'correct' : 'WRONG'}`);
        }
        const c = await conform(pool, asked, skill);
        conformance.push(c);
        opts.progress?.(`${asked} ${skill.name}: ${c.results - c.wrong} of ${c.results} results on ${c.shapes} test shapes correct`);
      }
    } finally {
      await pool.stop();
    }
  }
  return { rows, conformance };
}

async function conform(pool: KernelPool, asked: KernelBackend, skill: SkillSpec<SkillName>): Promise<ConformanceRow> {
  const random = seededRandom(7);
  const failures: string[] = [];
  let results = 0;
  for (const shapes of skill.demo.testShapes) {
    const large = shapes[0].reduce((n, d) => n * d, 1) >= 100_000;
    for (let data = 0; data < (large ? 1 : DATA_PER_SHAPE); data++) {
      const inputs = testShapeInputs(skill.name, shapes, data, random);
      const where = `${JSON.stringify(shapes)} data ${data}`;
      results += 1;
      let outputs;
      try {
        ({ outputs } = await pool.run(skill.name, inputs, { timeoutMs: RUN_TIMEOUT_MS }));
      } catch (err) {
        failures.push(`${where}: failed: ${messageOf(err)}`);
        continue;
      }
      const verdict = skill.verify(inputs, outputs, random);
      const agreement = skill.agree(inputs, skill.reference(inputs), outputs);
      if (!verdict.ok) failures.push(`${where}: ${verdict.detail}`);
      else if (!agreement.ok) failures.push(`${where}: ${agreement.detail}`);
    }
  }
  const detail = failures.length === 0 ? 'ok' : `first: ${failures[0].slice(0, 160)}`;
  return { asked, skill: skill.name, shapes: skill.demo.testShapes.length, results, wrong: failures.length, detail };
}

async function benchOne(pool: KernelPool, asked: KernelBackend, skill: SkillSpec<SkillName>, size: number, opts: BackendBenchOptions): Promise<BackendRow> {
  const { name } = skill;
  const inputs: DenseTensor[] = demoDenseInputs(skill, size, seededRandom(size));
  const reference = skill.reference(inputs);
  const failures: string[] = [];
  const check = (outputs: readonly DenseTensor[]) => {
    const verdict = skill.verify(inputs, outputs, seededRandom(size + 1));
    if (!verdict.ok) failures.push(`verify: ${verdict.detail}`);
    const agreement = skill.agree(inputs, reference, outputs);
    if (!agreement.ok) failures.push(`reference: ${agreement.detail}`);
  };
  const run = () => pool.run(name, inputs, { timeoutMs: RUN_TIMEOUT_MS });
  const t0 = performance.now();
  const first = await run();
  const firstMs = performance.now() - t0;
  check(first.outputs);
  // Every worker compiles its own kernels: warm them all before timing the parallel case.
  if (opts.threads > 1) (await Promise.all(Array.from({ length: opts.threads - 1 }, run))).forEach((r) => check(r.outputs));
  let bestMs = Infinity;
  let bestWallMs = Infinity;
  for (let i = 0; i < opts.reps; i++) {
    const w0 = performance.now();
    const r = await run();
    bestWallMs = Math.min(bestWallMs, performance.now() - w0);
    bestMs = Math.min(bestMs, r.executeMs);
    check(r.outputs);
  }
  let parallelPerSec: number | undefined;
  for (let i = 0; opts.threads > 1 && i < opts.reps; i++) {
    const p0 = performance.now();
    const all = await Promise.all(Array.from({ length: opts.threads }, run));
    parallelPerSec = Math.max(parallelPerSec ?? 0, (opts.threads * 1000) / (performance.now() - p0));
    all.forEach((r) => check(r.outputs));
  }
  const gworkPerSec = skill.work(inputs) / bestMs / 1e6;
  const detail = failures.length === 0 ? 'verified, agrees with the reference' : `${failures.length} failed checks; first: ${failures[0]}`;
  return { asked, ran: first.backend, skill: name, size, firstMs, bestMs, bestWallMs, gworkPerSec, correct: failures.length === 0, detail, parallelPerSec };
}

/** The cause too: the pool's SwarmError names the skill, its cause what the kernel threw. */
function messageOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${message}${cause}`.slice(0, 200);
}

/** A run that threw is a wrong answer, reported in its row; the other rows still run. */
function failedRow(asked: KernelBackend, skill: string, size: number, err: unknown): BackendRow {
  return { asked, ran: asked, skill, size, firstMs: NaN, bestMs: NaN, bestWallMs: NaN, gworkPerSec: NaN, correct: false, detail: `failed: ${messageOf(err)}` };
}

function unavailable(asked: KernelBackend, err: unknown): BackendRow {
  return {
    asked,
    ran: '-',
    skill: '-',
    size: 0,
    firstMs: NaN,
    bestMs: NaN,
    bestWallMs: NaN,
    gworkPerSec: NaN,
    correct: false,
    detail: `unavailable: ${(err instanceof Error ? err.message : String(err)).slice(0, 200)}`,
  };
}

/** Plain-text tables (this entry must not load cli-table3: it travels without the bench's dependencies). */
export function formatBackendRows(rows: readonly BackendRow[], threads: number): string {
  const head = ['asked', 'ran', 'skill', 'size', 'first ms', 'best ms', 'best wall ms', 'Gwork/s', `${threads} at once /s`, 'result'];
  const f = (x: number | undefined, d: number) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));
  return textTable(
    head,
    rows.map((r) => [
      r.asked,
      r.ran,
      r.skill,
      r.size > 0 ? String(r.size) : '-',
      f(r.firstMs, 1),
      f(r.bestMs, 2),
      f(r.bestWallMs, 2),
      f(r.gworkPerSec, 2),
      f(r.parallelPerSec, 1),
      r.correct ? 'ok' : r.detail,
    ]),
  );
}

export function formatConformanceRows(rows: readonly ConformanceRow[]): string {
  return textTable(
    ['backend', 'skill', 'test shapes', 'results', 'wrong', 'result'],
    rows.map((r) => [r.asked, r.skill, String(r.shapes), String(r.results), String(r.wrong), r.detail]),
  );
}

function textTable(head: readonly string[], body: readonly string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i])).join(' | ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)].join('\n');
}

export function parseOnly(argv: readonly string[]): readonly KernelBackend[] {
  const i = argv.indexOf('--only');
  if (i < 0) return BACKENDS;
  const asked = (argv[i + 1] ?? '').split(',');
  const bad = asked.filter((b) => !(BACKENDS as readonly string[]).includes(b));
  if (bad.length > 0 || asked.length === 0) throw new Error(`--only takes a comma-separated list of ${BACKENDS.join(', ')}; got '${(argv[i + 1] ?? '').slice(0, 40)}'`);
  return asked as KernelBackend[];
}

export async function printBackendBench(argv: readonly string[]): Promise<boolean> {
  const quick = argv.includes('--quick');
  const threads = Math.min(2, availableParallelism());
  const { rows, conformance } = await benchBackends({
    backends: parseOnly(argv),
    sizes: quick ? QUICK_SIZES : FULL_SIZES,
    reps: quick ? 2 : 3,
    threads,
    progress: (line) => process.stderr.write(`bench: ${line}\n`),
  });
  process.stdout.write(`\ngpu.js backends, every skill through the worker pool (${threads} threads; same inputs, same run)\n${formatBackendRows(rows, threads)}\n`);
  const shapes = conformance.length > 0 ? formatConformanceRows(conformance) : 'none: no backend asked for could start';
  process.stdout.write(`\nEach skill's test shapes (edge shapes up to the node's limit), verified and compared with the plain-JS reference\n${shapes}\n`);
  // A backend named with --only must run; without it, one this machine lacks is only reported.
  const named = argv.includes('--only');
  return rows.every((r) => r.correct || (r.ran === '-' && !named)) && conformance.every((c) => c.wrong === 0);
}

if (require.main === module) {
  printBackendBench(process.argv.slice(2)).then(
    (allCorrect) => {
      process.exitCode = allCorrect ? 0 : 1;
    },
    (err: unknown) => {
      process.stderr.write(`error SWARM_BENCH_FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
