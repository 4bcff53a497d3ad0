import { createHash, randomUUID } from 'node:crypto';
import type { AgentClient } from '@swarm/client';
import type { Tensor } from '@swarm/contracts';
import { ErrorCode, fromTensor, isSwarmError, SubmitTaskResponse, SwarmError, TASK_MAX_ELEMENTS, TaskState } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { interruptible } from '@swarm/runtime';
import { demoInputs, getSkill, priceOf } from '@swarm/skills';
import type { SkillSpec } from '@swarm/skills';
import { agentClientFor } from '../agent-mode';
import { resultReply } from '../agent-replies';
import { CliError, unreachableApi } from '../cli-error';
import { paidLine, RESULT_VALUE_WIDTH, timeLine } from '../task-lines';
import { readInputFile } from '../input-file';
import type { NodeTarget } from '../node-file';
import { connectToNode } from '../node-file';
import { credits, ms, printGrid, printJson, printTable, protoJson, withProgress } from '../output';
import { taskSendingNow } from '../submit-interrupt';
import { demoSizeLimit } from '../demo-sizes';
import { checkKeyOption } from './task';

export interface SubmitOptions extends NodeTarget {
  skill: string;
  size?: number;
  input?: string;
  budget?: string;
  timeout?: number;
  seed?: number;
  json?: boolean;
  key?: string;
  /** Providers to run it on, 1..MAX_REDUNDANCY (checked by main.ts); unset: one, and nothing sent. */
  redundancy?: number;
  /** Row blocks of a matmul, 1..MAX_SHARDS (checked by main.ts; the node checks the skill and rows); unset: nothing sent. */
  shards?: number;
}

/** A checked task, ready to send either way. */
export interface PreparedTask {
  skill: string;
  inputs: Tensor[];
  /** The --budget, else the local price × redundancy; undefined for a skill this build cannot price. */
  budget: bigint | undefined;
  timeoutMs: number;
  idempotencyKey: string;
  redundancy: number | undefined;
  shards: number | undefined;
}

/**
 * Errors that may hide a reply lost on the bus (the client gave up waiting, or the router went
 * away mid-task): the task may have run. One retry with the same key gets its one true outcome.
 */
const LOST_REPLY_CODES: ReadonlySet<ErrorCode> = new Set([ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, ErrorCode.ERROR_CODE_UNAVAILABLE]);

/**
 * On the node's bus, or as an agent through its HTTP API (agent-mode.ts): the same checks first,
 * the same table or `--json` document after.
 */
export async function submitCommand(opts: SubmitOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const task = await prepareTask(opts);
  const agent = await agentClientFor(opts, env);
  let res: SubmitTaskResponse;
  try {
    res = agent ? await submitAsAgent(agent, task, opts.json === true) : await submitOnBus(opts, task, env);
  } catch (err) {
    throw withKeyHint(err, task.idempotencyKey, agent !== undefined);
  }
  // A router from before the field answers no key: the one sent is the one.
  res = { ...res, idempotencyKey: res.idempotencyKey || task.idempotencyKey };
  // Tensors as the proto3 JSON mapping has them: `data` is base64 of little-endian float32.
  if (opts.json) printJson(protoJson(SubmitTaskResponse, res));
  else printResult(res);
}

/**
 * The submit, unless Ctrl-C (or SIGTERM) comes first: then SWARM_INTERRUPTED (exit 130) naming the
 * task's key, since the task may run on and be paid, and the key (perhaps made up) is how to ask.
 */
function untilInterrupted<T>(submit: () => Promise<T>, key: string, asAgent: boolean): Promise<T> {
  // Before the first byte goes out, so a signal in between is this handler's, never main.ts's; if
  // one came already (main.ts is exiting), the task is never sent and this never settles.
  if (!taskSendingNow(`the task was sent (task key ${key}): ${askAbout(key, asAgent)}`)) return new Promise<T>(() => undefined);
  return interruptible(
    submit(),
    (signal) => new CliError('SWARM_INTERRUPTED', `(task key ${key}) ${signal} before the answer came: the task may run on and be paid; ${askAbout(key, asAgent)}`),
  );
}

/** How to learn what became of a task by its key. */
function askAbout(key: string, asAgent: boolean): string {
  // As an agent `swarm task` finds tasks by id only; the same submit with the key asks as well.
  return asAgent ? `the same command with --key ${key} learns what became of it, never run or charged twice` : `swarm task --key ${key} tells what became of it`;
}

/**
 * A task whose outcome this client did not learn (no answer in time, the node went away) may have
 * run: its key (perhaps made up, so never printed) is how to ask. Other errors are answers (a
 * refusal with a lost reply's code is not retryable), and an agent API nobody listens at was sent
 * nothing (SWARM_NO_NODE, as it is for the other commands).
 */
export function withKeyHint(err: unknown, key: string, asAgent: boolean): unknown {
  if (!isSwarmError(err) || !LOST_REPLY_CODES.has(err.code) || !err.retryable || unreachableApi(err)) return err;
  return new SwarmError(err.code, `(task key ${key}) ${err.message}; ${askAbout(key, asAgent)}`, err.retryable, { cause: err, retryAfterMs: err.retryAfterMs });
}

/**
 * Everything checked before anything is sent (bad usage exits 2). Budget when none is given: the
 * task's price times its redundancy, so a submit never pays more than it costs.
 */
export async function prepareTask(opts: SubmitOptions): Promise<PreparedTask> {
  if ((opts.size === undefined) === (opts.input === undefined)) {
    // Neither given: a skill name this build does not know is the first thing to fix.
    if (opts.size === undefined) demoSkill(opts.skill);
    throw new CliError('SWARM_BAD_ARGS', 'give exactly one of --size N (generated demo input) or --input file.json');
  }
  // The router refuses these too (INVALID_ARGUMENT); caught here they are bad usage, nothing sent.
  if ((opts.shards ?? 1) > 1 && (opts.redundancy ?? 1) > 1)
    throw new CliError('SWARM_BAD_ARGS', '--shards and --redundancy do not go together: a task is either split or replicated');
  if ((opts.shards ?? 1) > 1 && opts.skill !== 'matmul') throw new CliError('SWARM_BAD_ARGS', `--shards splits matmul only (a's rows), not ${opts.skill.slice(0, 64)}`);
  const budgetArg = opts.budget !== undefined ? parseBudget(opts.budget) : undefined;
  checkKeyOption(opts.key);
  // Every submit carries a key (a random one unless given), so a lost reply can be retried safely.
  const idempotencyKey = opts.key ?? `cli-${randomUUID()}`;
  // The same --key again must name the same task: generated inputs come from the key (a made-up one
  // too, so the key printed works with the same --size), unless --seed says otherwise.
  const seed = opts.seed ?? seedOfKey(idempotencyKey);
  const inputs = opts.input ? await readInputFile(opts.input) : generated(opts.skill, opts.size as number, seed);
  const price = priceLocally(opts.skill, inputs, opts.input ? `input file ${opts.input}` : `--size ${opts.size}`);
  const rows = inputs[0]?.shape[0] ?? 0;
  if ((opts.shards ?? 1) > rows) throw new CliError('SWARM_BAD_ARGS', `--shards ${opts.shards} is more row blocks than a has rows (${rows})`);
  return {
    skill: opts.skill,
    inputs,
    budget: budgetArg ?? (price === undefined ? undefined : price * BigInt(opts.redundancy ?? 1)),
    timeoutMs: opts.timeout ?? 0,
    idempotencyKey,
    redundancy: opts.redundancy,
    shards: opts.shards,
  };
}

async function submitOnBus(opts: SubmitOptions, task: PreparedTask, env: NodeJS.ProcessEnv): Promise<SubmitTaskResponse> {
  const client = await connectToNode(opts, 'client', env);
  let interrupted = false;
  try {
    // Unknown skill (no local price): budget 1, and the router gives the authoritative typed error.
    const req = { ...task, budget: task.budget ?? 1n, redundancy: task.redundancy ?? 0, shards: task.shards ?? 0 };
    return await withProgress(`running ${task.skill} on the node`, !opts.json, () =>
      untilInterrupted(() => submitOnce((timeoutMs) => client.submit({ ...req, timeoutMs }), req.idempotencyKey, req.timeoutMs), req.idempotencyKey, false),
    );
  } catch (err) {
    interrupted = err instanceof CliError && err.code === 'SWARM_INTERRUPTED';
    throw err;
  } finally {
    // Interrupted: the key is said at once; a drain waiting on a reconnecting bus would hold it back.
    if (interrupted) void client.close().catch(() => undefined);
    else await client.close();
  }
}

/** One synchronous request; inputs past a JSON body's size go as protobuf (the SDK decides). */
async function submitAsAgent(agent: AgentClient, task: PreparedTask, quiet: boolean): Promise<SubmitTaskResponse> {
  const result = await withProgress(`running ${task.skill} on the node (agent API)`, !quiet, () =>
    untilInterrupted(
      () =>
        submitOnce(
          (timeoutMs) =>
            agent.submit({
              skill: task.skill,
              inputs: task.inputs.map(fromTensor),
              // Unknown skill: no budget, so the API quotes it and answers the authoritative error.
              ...(task.budget !== undefined ? { budget: task.budget } : {}),
              ...(timeoutMs > 0 ? { timeoutMs } : {}),
              ...(task.redundancy !== undefined ? { redundancy: task.redundancy } : {}),
              ...(task.shards !== undefined ? { shards: task.shards } : {}),
              idempotencyKey: task.idempotencyKey,
            }),
          task.idempotencyKey,
          task.timeoutMs,
        ),
      task.idempotencyKey,
      true,
    ),
  );
  return resultReply(result, task.idempotencyKey);
}

/** The least a retry by key is given: enough to join or learn a task, too little to run much again. */
export const RETRY_MIN_TIMEOUT_MS = 1_000;

/**
 * Submits, and on a possibly lost reply asks once more with the same key: the router answers what
 * the task did (joins it while it runs, returns its result, says it was refunded and why) and never runs
 * or charges it twice. A router that lost the task (it restarted before charging anything) runs it
 * again: so the retry gets what is left of the task's timeout (`timeoutMs`; 0, the router's default,
 * stays 0), at least RETRY_MIN_TIMEOUT_MS, and the whole submit keeps close to its deadline. If the
 * retry only learns the task was refunded, or gets no answer either, the first error stands.
 */
export async function submitOnce<T>(send: (timeoutMs: number) => Promise<T>, idempotencyKey: string | undefined, timeoutMs: number, now: () => number = Date.now): Promise<T> {
  const started = now();
  try {
    return await send(timeoutMs);
  } catch (first) {
    // A lost reply is retryable; an answer with such a code that is not (the router refusing a
    // timeout too short to start the task) is the task's answer.
    if (!idempotencyKey || !isSwarmError(first) || !LOST_REPLY_CODES.has(first.code) || !first.retryable) throw first;
    try {
      // 0 stays 0: the router's own default, from the retry's arrival.
      return await send(timeoutMs === 0 ? 0 : Math.max(RETRY_MIN_TIMEOUT_MS, Math.floor(timeoutMs - (now() - started))));
    } catch (retry) {
      if (isSwarmError(retry, ErrorCode.ERROR_CODE_TASK_REFUNDED)) {
        // The node's answer names why the task ended unpaid.
        throw new SwarmError(first.code, `${first.message}; the node confirms: ${retry.message}`, first.retryable);
      }
      // Still no answer: the first error says more (e.g. "router-svc is stopping; … refunded").
      if (isSwarmError(retry) && LOST_REPLY_CODES.has(retry.code)) throw first;
      throw retry;
    }
  }
}

/** A 32-bit seed from an idempotency key (the first four bytes of its SHA-256). */
export function seedOfKey(key: string): number {
  return createHash('sha256').update(key, 'utf8').digest().readUInt32BE(0);
}

/**
 * The skill --size makes inputs for: one this build knows. Another name is bad usage, nothing sent:
 * the node may still run a skill by that name, given its inputs in a file.
 */
function demoSkill(skill: string): SkillSpec {
  try {
    return getSkill(skill);
  } catch (err) {
    if (!isSwarmError(err, ErrorCode.ERROR_CODE_UNKNOWN_SKILL)) throw err;
    throw new CliError('SWARM_BAD_ARGS', `${err.message} (--size makes inputs for these only; for another skill give --input file.json: swarm skills lists what the node runs)`);
  }
}

function generated(skill: string, size: number, seed: number): Tensor[] {
  const spec = demoSkill(skill);
  // Checked before generating: a --size past the limit would allocate gigabytes first.
  const max = demoSizeLimit(spec);
  if (size > max) {
    throw new CliError('SWARM_BAD_ARGS', `--size for ${skill} must be at most ${max} (a task holds at most ${TASK_MAX_ELEMENTS} input values), got ${size}`);
  }
  try {
    return demoInputs(spec, size, seededRandom(seed));
  } catch (err) {
    // A size the skill refuses is bad usage; anything else keeps its own code.
    if (isSwarmError(err, ErrorCode.ERROR_CODE_INVALID_ARGUMENT)) throw new CliError('SWARM_BAD_ARGS', err.message);
    throw err;
  }
}

/**
 * The skill's own input validation (the router runs the same) before anything is sent, so a bad
 * input file or --size is bad usage (exit 2) wherever it is caught. Answers the task's price, or
 * undefined for a skill this build does not know: the node decides about those.
 */
function priceLocally(skill: string, inputs: Tensor[], source: string): bigint | undefined {
  let spec: SkillSpec;
  try {
    spec = getSkill(skill);
  } catch {
    return undefined;
  }
  const dense = inputs.map(fromTensor);
  try {
    spec.validate(dense, { maxElements: TASK_MAX_ELEMENTS });
  } catch (err) {
    throw new CliError('SWARM_BAD_ARGS', `${source}: ${(err as Error).message}`);
  }
  return priceOf(spec, dense);
}

const MAX_UINT64 = (1n << 64n) - 1n;

function parseBudget(text: string): bigint {
  if (!/^\d{1,20}$/.test(text) || BigInt(text) > MAX_UINT64 || BigInt(text) === 0n) {
    throw new CliError('SWARM_BAD_ARGS', `--budget must be a whole number of credits from 1 to ${MAX_UINT64}, got '${text}'`);
  }
  return BigInt(text);
}

function preview(t: Tensor): string {
  const d = fromTensor(t);
  const head = Array.from(d.data.subarray(0, 4), (v) => v.toPrecision(5)).join(', ');
  return `${d.name} [${d.shape.join('×')}]  ${head}${d.data.length > 4 ? ', …' : ''}`;
}

/** `idempotency_key`: the key it went with (given, or made up when --key was not), for a later `--key`. */
export function printResult(res: SubmitTaskResponse): void {
  const t = res.timing;
  const key = res.idempotencyKey;
  printTable(
    [
      ['task', res.taskId],
      ...(key ? [['key', `${key} (the same command with --key ${key} gets this answer, never run or charged twice)`] as [string, string]] : []),
      ...(res.replayed ? [['replayed', 'the answer an earlier submit with this --key got: not run or charged again'] as [string, string]] : []),
      ...(res.placementNote ? [['placement', res.placementNote] as [string, string]] : []),
      ...(res.settlement === TaskState.TASK_STATE_REFUNDED ? [['settlement', `refunded, not paid: ${res.settlementNote}`] as [string, string]] : []),
      ['result', res.outputs.map(preview).join('\n')],
      ['verified by', res.verification],
      ['paid', paidLine(res)],
      ['executor', executorLine(res)],
      ['time', t ? timeLine(t, res.shards.length > 0 || res.contributions.length > 0) : ''],
    ],
    undefined,
    RESULT_VALUE_WIDTH,
  );
  if (res.shards.length > 0) printShards(res);
  if (res.contributions.length > 0) printContributions(res);
}

/** One executor, or (row blocks, replicas) how many nodes ran it: the tables below name them. */
function executorLine(res: SubmitTaskResponse): string {
  const split = res.shards.length > 0 || res.contributions.length > 0;
  if (!split) return `${res.executorId} (gpu.js ${res.backend}), attempts ${res.attempts}`;
  const nodes = new Set([...res.shards.map((b) => b.providerId), ...res.contributions.map((c) => c.providerId)]).size;
  return `${nodes} node${nodes === 1 ? '' : 's'} (below), ${res.attempts} dispatch${res.attempts === 1 ? '' : 'es'} in all`;
}

/** A sharded task's row blocks: who computed each, in how many dispatches, and its share of the pay. */
function printShards(res: SubmitTaskResponse): void {
  printGrid(
    ['block', 'rows', 'provider', 'attempts', 'share', 'execute'],
    res.shards.map((s) => [
      String(s.index),
      `${s.rowStart}-${s.rowEnd - 1}`,
      `${s.providerId.slice(0, 16)}…`,
      String(s.attempts),
      `${(s.share * 100).toFixed(1)}%`,
      ms(s.executeMs),
    ]),
    [7, 13, 20, 10, 8, 12],
  );
}

/** A redundant task's replicas, or a sharded task's providers: whether its result counted, what it was paid and why not. */
function printContributions(res: SubmitTaskResponse): void {
  printGrid(
    ['provider', 'counted', 'paid', 'share', 'note'],
    res.contributions.map((c) => [`${c.providerId.slice(0, 16)}…`, c.counted ? 'yes' : 'no', credits(c.paid), `${(c.share * 100).toFixed(1)}%`, c.note]),
    [20, 9, 14, 8, 40],
  );
}
