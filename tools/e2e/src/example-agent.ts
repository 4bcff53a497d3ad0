/**
 * An example agent on the SDK (@swarm/client's HTTP client): it multiplies matrices too big for one
 * task. It plans tiles that each fit the node's input limit (row blocks of a, and column blocks of
 * b when b alone is too big), quotes them, checks the total against its budget and its balance,
 * hires the tiles in parallel through the agent HTTP API, checks every result came back verified
 * and paid, assembles the product and reports what it paid to whom.
 *
 * Run it with example-agent-main.ts; example-agent.int.spec.ts tests it on a whole node.
 */
import { randomUUID } from 'node:crypto';
import type { AgentClient } from '@swarm/client';
import { ErrorCode, isSwarmError, SwarmError } from '@swarm/contracts';

export interface MatmulJob {
  readonly a: Float32Array;
  readonly b: Float32Array;
  readonly n: number;
  readonly k: number;
  readonly m: number;
}

/** One subtask: rows [row, row + rows) of c, columns [col, col + cols). */
export interface Tile {
  readonly row: number;
  readonly rows: number;
  readonly col: number;
  readonly cols: number;
}

export interface HireOptions {
  /** Most credits the whole job may cost. */
  readonly budget: bigint;
  /** Subtasks running at once. */
  readonly parallel?: number;
  /** Largest input of one task; default the node's (GET /v1/skills). */
  readonly maxElements?: number;
  readonly log?: (line: string) => void;
}

export interface Payment {
  readonly providerId: string;
  readonly tasks: number;
  readonly cost: bigint;
}

export interface HireReport {
  readonly c: Float32Array;
  readonly tiles: readonly Tile[];
  readonly quoted: bigint;
  readonly paid: bigint;
  readonly payments: readonly Payment[];
}

export const DEFAULT_PARALLEL = 4;
/** Attempts per tile when the node answers with a retryable error (no provider, overloaded, a timeout). */
const TILE_ATTEMPTS = 3;

function invalid(message: string): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, message);
}

/**
 * Tiles of c whose inputs (rows·k of a plus k·cols of b) and output fit `maxElements`: the fewest
 * column blocks that leave room for at least one row, then rows split further so that at least
 * `parallel` tiles can run at once.
 */
export function planTiles(n: number, k: number, m: number, maxElements: number, parallel = DEFAULT_PARALLEL): Tile[] {
  for (let colBlocks = 1; colBlocks <= m; colBlocks++) {
    const cols = Math.ceil(m / colBlocks);
    const maxRows = Math.min(Math.floor((maxElements - k * cols) / k), Math.floor(maxElements / cols));
    if (maxRows < 1) continue;
    const rows = Math.max(1, Math.min(maxRows, Math.ceil(n / Math.ceil(parallel / colBlocks))));
    const tiles: Tile[] = [];
    for (let row = 0; row < n; row += rows) {
      for (let col = 0; col < m; col += cols) tiles.push({ row, rows: Math.min(rows, n - row), col, cols: Math.min(cols, m - col) });
    }
    return tiles;
  }
  throw invalid(`k = ${k} is too large to split by rows and columns within ${maxElements} input values a task (one row of a and one column of b need ${2 * k})`);
}

function tileInputs(job: MatmulJob, t: Tile): { a: Float32Array; b: Float32Array } {
  const a = job.a.subarray(t.row * job.k, (t.row + t.rows) * job.k);
  const b = new Float32Array(job.k * t.cols);
  for (let p = 0; p < job.k; p++) b.set(job.b.subarray(p * job.m + t.col, p * job.m + t.col + t.cols), p * t.cols);
  return { a, b };
}

const shapeKey = (t: Tile) => `${t.rows}x${t.cols}`;

export async function hireMatmul(client: AgentClient, job: MatmulJob, opts: HireOptions): Promise<HireReport> {
  const log = opts.log ?? (() => undefined);
  const parallel = opts.parallel ?? DEFAULT_PARALLEL;
  const maxElements = opts.maxElements ?? (await client.skills()).maxElements;
  const tiles = planTiles(job.n, job.k, job.m, maxElements, parallel);
  log(`${job.n}×${job.k} · ${job.k}×${job.m}: ${tiles.length} subtasks of at most ${maxElements} input values`);

  // Tiles of one shape cost the same: one quote per shape.
  const prices = new Map<string, bigint>();
  for (const t of tiles) {
    if (prices.has(shapeKey(t))) continue;
    const q = await client.quote('matmul', [
      { name: 'a', shape: [t.rows, job.k] },
      { name: 'b', shape: [job.k, t.cols] },
    ]);
    prices.set(shapeKey(t), q.price);
  }
  const priceOf = (t: Tile) => prices.get(shapeKey(t)) as bigint;
  const quoted = tiles.reduce((sum, t) => sum + priceOf(t), 0n);
  if (quoted > opts.budget)
    throw new SwarmError(ErrorCode.ERROR_CODE_BUDGET_TOO_LOW, `the job costs ${quoted} credits in ${tiles.length} subtasks, over the budget of ${opts.budget}`);
  const { available } = await client.balance();
  if (quoted > available) throw new SwarmError(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT, `the job costs ${quoted} credits; the account has ${available}`);
  log(`quoted ${quoted} credits (budget ${opts.budget}, available ${available})`);

  const c = new Float32Array(job.n * job.m);
  const paidTo = new Map<string, { tasks: number; cost: bigint }>();
  // One key per tile and attempt: running the agent again never pays a finished tile twice.
  const jobKey = `mm-${randomUUID().slice(0, 8)}`;
  const stop = new AbortController();

  async function hire(t: Tile, index: number): Promise<void> {
    const { a, b } = tileInputs(job, t);
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await client.submit(
          {
            skill: 'matmul',
            inputs: [
              { name: 'a', shape: [t.rows, job.k], data: a },
              { name: 'b', shape: [job.k, t.cols], data: b },
            ],
            budget: priceOf(t),
            idempotencyKey: `${jobKey}-${index}-${attempt}`,
          },
          { signal: stop.signal },
        );
        const out = r.outputs[0];
        if (!r.verification || r.settlement !== 'TASK_STATE_PAID' || !out || out.shape[0] !== t.rows || out.shape[1] !== t.cols) {
          throw invalid(`subtask ${index} came back unverified or misshapen (${r.settlement}, '${r.verification}')`);
        }
        for (let i = 0; i < t.rows; i++) c.set(out.data.subarray(i * t.cols, (i + 1) * t.cols), (t.row + i) * job.m + t.col);
        const p = paidTo.get(r.providerId) ?? { tasks: 0, cost: 0n };
        paidTo.set(r.providerId, { tasks: p.tasks + 1, cost: p.cost + r.cost });
        log(
          `subtask ${index + 1}/${tiles.length} rows ${t.row}..${t.row + t.rows - 1} cols ${t.col}..${t.col + t.cols - 1}: ${r.cost} credits to ${r.providerId.slice(0, 12)}… (${r.verification.split(':')[0]})`,
        );
        return;
      } catch (err) {
        if (stop.signal.aborted || !isSwarmError(err) || !err.retryable || attempt >= TILE_ATTEMPTS) throw err;
        log(`subtask ${index + 1}: ${err.codeName}, trying again`);
      }
    }
  }

  // A pool of `parallel` workers over the tiles; the first failure stops the rest.
  let next = 0;
  const worker = async () => {
    while (next < tiles.length && !stop.signal.aborted) {
      const index = next++;
      await hire(tiles[index], index);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(parallel, tiles.length) }, worker));
  } catch (err) {
    stop.abort();
    throw err;
  }
  const payments = [...paidTo].map(([providerId, p]) => ({ providerId, ...p }));
  return { c, tiles, quoted, paid: payments.reduce((sum, p) => sum + p.cost, 0n), payments };
}
