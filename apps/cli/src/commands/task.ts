import { errorCodeName, IDEMPOTENCY_KEY_TEXT, isIdempotencyKey, isTaskId, TASK_ID_TEXT, TaskState, TaskStatusResponse } from '@swarm/contracts';
import { agentClientFor } from '../agent-mode';
import { statusReply } from '../agent-replies';
import { CliError } from '../cli-error';
import type { NodeTarget } from '../node-file';
import { connectToNode } from '../node-file';
import { credits, printJson, printTable, protoJson } from '../output';
import { paidLine, RESULT_VALUE_WIDTH } from '../task-lines';

export interface TaskOptions extends NodeTarget {
  key?: string;
  json?: boolean;
}

const STATE_WORDS: Readonly<Record<number, string>> = {
  [TaskState.TASK_STATE_RUNNING]: 'running',
  [TaskState.TASK_STATE_PAID]: 'paid',
  [TaskState.TASK_STATE_REFUNDED]: 'refunded',
  [TaskState.TASK_STATE_REJECTED]: 'rejected',
  [TaskState.TASK_STATE_UNKNOWN]: 'unknown',
};

/** `--key`, checked as the router checks it, so a bad key is bad usage before anything is sent. */
export function checkKeyOption(key: string | undefined): void {
  if (key !== undefined && !isIdempotencyKey(key)) throw new CliError('SWARM_BAD_ARGS', `--key must be ${IDEMPOTENCY_KEY_TEXT}`);
}

/**
 * `swarm task <id>` / `swarm task --key K`: what happened to a task — the answer a client that lost
 * its reply relies on. Exit 0 when the node knows the task; SWARM_TASK_UNKNOWN (exit 1) when
 * neither the router nor the ledger does. As an agent (agent-mode.ts) by id only: the HTTP API
 * finds an agent's tasks by id, and answers SWARM_TASK_UNKNOWN for one that is not the agent's.
 */
export async function taskCommand(id: string | undefined, opts: TaskOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if ((id === undefined) === (opts.key === undefined)) throw new CliError('SWARM_BAD_ARGS', 'give exactly one of a task id or --key K');
  checkKeyOption(opts.key);
  // As the agent API takes them (a router's are task-<uuid>): anything else is no task id, and not sent.
  if (id !== undefined && !isTaskId(id)) throw new CliError('SWARM_BAD_ARGS', `a task id is ${TASK_ID_TEXT} (swarm submit prints it), got ${id.length} characters`);
  const s = await taskStatus(id, opts, env);
  if (s.state === TaskState.TASK_STATE_UNKNOWN || s.state === TaskState.TASK_STATE_UNSPECIFIED) {
    throw new CliError(
      'SWARM_TASK_UNKNOWN',
      `neither the router nor the ledger knows task ${id ?? `with key ${opts.key}`} ` +
        '(never submitted here, not on this node, or one that never reached the ledger, such as a task rejected before any credit moved, ' +
        'whose record the router has forgotten: it keeps a finished task SWARM_ROUTER_TASK_RETENTION_MS, 10 minutes by default, and not across its restart)',
    );
  }
  // The proto3 JSON mapping: `state` is the enum's name (TASK_STATE_PAID), `error.code` too.
  if (opts.json) return printJson(protoJson(TaskStatusResponse, s));
  const state = STATE_WORDS[s.state] ?? 'unknown';
  const rows: Array<[string, string]> = [
    ['task', s.taskId],
    ['state', state],
  ];
  if (s.state === TaskState.TASK_STATE_PAID)
    rows.push([
      'paid',
      // As `swarm submit` says it: each node a sharded or replicated task paid, or its one provider.
      s.providerId ? paidLine({ ...s, contributions: s.paidTo }) : `${credits(s.cost)} to the provider (refunded ${s.refunded})`,
    ]);
  if (s.placementNote) rows.push(['placement', s.placementNote]);
  if (s.state === TaskState.TASK_STATE_REFUNDED) rows.push(['refunded', credits(s.refunded)]);
  if (s.error) rows.push(['error', `${errorCodeName(s.error.code)}: ${s.error.message}`]);
  if (s.note) rows.push(['note', s.note]);
  if (s.attempts) rows.push(['attempts', String(s.attempts)]);
  rows.push(['result held', s.resultAvailable ? 'yes (swarm submit --key K, with the key its submit printed, gets it)' : 'no']);
  rows.push(['source', SOURCE_WORDS[s.source] ?? s.source]);
  printTable(rows, undefined, RESULT_VALUE_WIDTH);
}

const SOURCE_WORDS: Readonly<Record<string, string>> = {
  ledger: 'ledger (the router no longer holds this task)',
  api: "api (the agent API's own record: the router has none yet)",
};

async function taskStatus(id: string | undefined, opts: TaskOptions, env: NodeJS.ProcessEnv): Promise<TaskStatusResponse> {
  const agent = await agentClientFor(opts, env);
  if (agent) {
    if (id === undefined) throw new CliError('SWARM_BAD_ARGS', 'the agent API finds tasks by id only: give the task id `swarm submit` printed instead of --key');
    return statusReply(await agent.task(id));
  }
  const client = await connectToNode(opts, 'client', env);
  try {
    return await client.task(id !== undefined ? { taskId: id } : { idempotencyKey: opts.key });
  } finally {
    await client.close();
  }
}
