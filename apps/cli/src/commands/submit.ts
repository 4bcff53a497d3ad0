import { connectSwarm } from '@swarm/client';
import { fromTensor, SubmitTaskResponse, Tensor } from '@swarm/contracts';
import { seededRandom, systemRandom } from '@swarm/determinism';
import { demoInputs, getSkill, priceOf } from '@swarm/skills';
import { CliError } from '../cli-error';
import { readInputFile } from '../input-file';
import { resolveNatsUrl } from '../node-file';
import { credits, ms, printJson, printTable, withProgress } from '../output';

export interface SubmitOptions {
  skill: string;
  size?: number;
  input?: string;
  budget?: string;
  timeout?: number;
  seed?: number;
  nats?: string;
  dataDir?: string;
  json?: boolean;
}

/** Budget when none is given: the task's price, so a submit never pays more than it costs. */
export async function submitCommand(opts: SubmitOptions): Promise<void> {
  if ((opts.size === undefined) === (opts.input === undefined)) {
    throw new CliError('SWARM_BAD_ARGS', 'give exactly one of --size N (generated demo input) or --input file.json');
  }
  const inputs = opts.input ? await readInputFile(opts.input) : generated(opts.skill, opts.size as number, opts.seed);
  const budget = opts.budget !== undefined ? parseBudget(opts.budget) : defaultBudget(opts.skill, inputs);
  const client = await connectSwarm(await resolveNatsUrl(opts));
  try {
    const res = await withProgress(`running ${opts.skill} on the node`, !opts.json, () =>
      client.submit({ skill: opts.skill, inputs, budget, timeoutMs: opts.timeout ?? 0 }),
    );
    if (opts.json) printJson({ ...res, outputs: res.outputs.map(jsonTensor) });
    else printResult(res);
  } finally {
    await client.close();
  }
}

function generated(skill: string, size: number, seed: number | undefined): Tensor[] {
  try {
    return demoInputs(getSkill(skill), size, seed === undefined ? systemRandom : seededRandom(seed));
  } catch (err) {
    throw asCliError(err);
  }
}

function defaultBudget(skill: string, inputs: Tensor[]): bigint {
  try {
    return priceOf(getSkill(skill), inputs.map(fromTensor));
  } catch {
    // Unknown skill or bad input: let the router give the authoritative typed error.
    return 1n;
  }
}

const MAX_UINT64 = (1n << 64n) - 1n;

function parseBudget(text: string): bigint {
  if (!/^\d{1,20}$/.test(text) || BigInt(text) > MAX_UINT64 || BigInt(text) === 0n) {
    throw new CliError('SWARM_BAD_ARGS', `--budget must be a whole number of credits from 1 to ${MAX_UINT64}, got '${text}'`);
  }
  return BigInt(text);
}

function asCliError(err: unknown): unknown {
  const e = err as { codeName?: string; message?: string };
  return e.codeName ? new CliError(e.codeName, e.message ?? '') : err;
}

function jsonTensor(t: Tensor) {
  const d = fromTensor(t);
  return { name: d.name, shape: d.shape, data: Array.from(d.data) };
}

function preview(t: Tensor): string {
  const d = fromTensor(t);
  const head = Array.from(d.data.subarray(0, 4), (v) => v.toPrecision(5)).join(', ');
  return `${d.name} [${d.shape.join('×')}]  ${head}${d.data.length > 4 ? ', …' : ''}`;
}

function printResult(res: SubmitTaskResponse): void {
  const t = res.timing;
  printTable([
    ['task', res.taskId],
    ['result', res.outputs.map(preview).join('\n')],
    ['verified by', res.verification],
    ['paid', `${credits(res.cost)} to ${res.providerId.slice(0, 16)}… (refunded ${res.refunded})`],
    ['executor', `${res.executorId} (gpu.js ${res.backend}), attempts ${res.attempts}`],
    ['time', t ? `total ${ms(t.totalMs)} = escrow ${ms(t.escrowMs)} + execute ${ms(t.executeMs)} + verify ${ms(t.verifyMs)} + settle ${ms(t.settleMs)}` : ''],
  ]);
}
