/**
 * Stand-ins for the services api-svc calls (credit, router, executor, registry) on a real bus, so
 * its tests control each answer: fund and defund by transfer id (counted), a router that runs
 * vecadd from the agent's account (optionally held until released), a skills list and peers.
 */
import { startBusService } from '@swarm/bus';
import type { BusService } from '@swarm/bus';
import type { SubmitTaskResponse, TaskStatusResponse } from '@swarm/contracts';
import {
  CreditBalance,
  CreditDefundAgent,
  CreditFundAgent,
  decodeTensors,
  ErrorCode,
  EXECUTOR_QUEUE,
  ExecutorSkills,
  RegistryPeers,
  RouterSubmitAgent,
  RouterTaskAgent,
  SwarmError,
  TaskState,
  toTensor,
} from '@swarm/contracts';
import { keyedTaskId } from '@swarm/pipeline';
import { listSkills, skillInfo } from '@swarm/skills';
import { silentLogger } from '@swarm/telemetry';
import type { NatsConnection } from 'nats';

export const NODE_ACCOUNT = 'node-test';
/** What a task costs when its budget allows (else its whole budget). */
export const TASK_COST = 3n;

export interface FakeBackends {
  readonly balances: Map<string, bigint>;
  /** Transfers applied, by transfer id. */
  readonly transfers: Map<string, bigint>;
  /** What the ledger counts per account (a reserve per task the router takes, what it paid), and accounts closed by a defund. */
  readonly counters: Map<string, { spent: bigint; reserves: bigint }>;
  readonly closed: Set<string>;
  /** Submits the router received. */
  readonly submits: Array<{ account: string; taskId: string; budget: bigint; redundancy: number; timeoutMs: number }>;
  /** While set, fund requests are never answered (the fund's fate is unknown to api-svc). */
  hangFunds: boolean;
  /** While set, tasks wait for release() before they answer. */
  holdTasks: boolean;
  /** How long the router takes to answer a task's status (a busy node). */
  statusDelayMs: number;
  release(): void;
  stop(): Promise<void>;
}

export async function startFakeBackends(nc: NatsConnection, nodeCredit: bigint): Promise<FakeBackends> {
  const log = silentLogger();
  const make = (name: string): Promise<BusService> => startBusService({ nc, log, name, version: '0.0.0', description: 'fake', nodeId: 'node-test' });
  const [credit, router, executor, registry] = await Promise.all([make('credit-svc'), make('router-svc'), make('executor-svc'), make('registry-svc')]);
  const balances = new Map<string, bigint>([[NODE_ACCOUNT, nodeCredit]]);
  const transfers = new Map<string, bigint>();
  const counters = new Map<string, { spent: bigint; reserves: bigint }>();
  const closed = new Set<string>();
  const count = (account: string, spent: bigint, reserves: bigint) => {
    const c = counters.get(account) ?? { spent: 0n, reserves: 0n };
    counters.set(account, { spent: c.spent + spent, reserves: c.reserves + reserves });
  };
  const tasks = new Map<string, TaskStatusResponse>();
  let waiting: Array<() => void> = [];
  const fake: FakeBackends = {
    balances,
    transfers,
    counters,
    closed,
    submits: [],
    hangFunds: false,
    holdTasks: false,
    statusDelayMs: 0,
    release() {
      for (const w of waiting) w();
      waiting = [];
    },
    async stop() {
      fake.release();
      await Promise.all([credit, router, executor, registry].map((s) => s.stop(500)));
    },
  };

  credit.serve(CreditFundAgent, async (req) => {
    if (fake.hangFunds) return new Promise<never>(() => undefined);
    if (!transfers.has(req.transferId)) {
      const node = balances.get(NODE_ACCOUNT) ?? 0n;
      if (req.amount > node) throw new SwarmError(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT, `node has ${node}`);
      balances.set(NODE_ACCOUNT, node - req.amount);
      balances.set(req.agentAccount, (balances.get(req.agentAccount) ?? 0n) + req.amount);
      transfers.set(req.transferId, req.amount);
    }
    return { agentAvailable: balances.get(req.agentAccount) ?? 0n, nodeAvailable: balances.get(NODE_ACCOUNT) ?? 0n };
  });
  credit.serve(CreditDefundAgent, (req) => {
    if (!balances.has(req.agentAccount)) throw new SwarmError(ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT, 'no such account');
    const returned = transfers.get(req.transferId) ?? balances.get(req.agentAccount) ?? 0n;
    if (!transfers.has(req.transferId)) {
      balances.set(req.agentAccount, 0n);
      balances.set(NODE_ACCOUNT, (balances.get(NODE_ACCOUNT) ?? 0n) + returned);
      transfers.set(req.transferId, returned);
    }
    if (req.close) closed.add(req.agentAccount);
    return { returned, nodeAvailable: balances.get(NODE_ACCOUNT) ?? 0n };
  });
  credit.serve(CreditBalance, (req) => {
    const available = balances.get(req.account);
    if (available === undefined) throw new SwarmError(ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT, 'no such account');
    const c = counters.get(req.account) ?? { spent: 0n, reserves: 0n };
    return { account: req.account, available, escrowed: 0n, ...c, closed: closed.has(req.account) };
  });

  router.serve(
    RouterSubmitAgent,
    async (req): Promise<SubmitTaskResponse> => {
      const taskId = keyedTaskId(req.account, req.idempotencyKey);
      fake.submits.push({ account: req.account, taskId, budget: req.budget, redundancy: req.redundancy, timeoutMs: req.timeoutMs });
      const available = balances.get(req.account) ?? 0n;
      if (req.budget > available) throw new SwarmError(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT, `${req.account} has ${available} available, the budget is ${req.budget}`);
      // Charged up front here (a real router escrows the budget and refunds the rest).
      const cost = req.budget < TASK_COST ? req.budget : TASK_COST;
      balances.set(req.account, available - cost);
      count(req.account, 0n, 1n);
      tasks.set(taskId, status(taskId, req.account, TaskState.TASK_STATE_RUNNING, 0n));
      if (fake.holdTasks) await new Promise<void>((r) => waiting.push(r));
      const [a, b] = decodeTensors(req.inputs);
      const c = a.data.map((v, i) => v + (b.data[i] ?? 0));
      tasks.set(taskId, status(taskId, req.account, TaskState.TASK_STATE_PAID, cost));
      count(req.account, cost, 0n);
      return {
        taskId,
        outputs: [toTensor('c', a.shape, c)],
        cost,
        refunded: req.budget - cost,
        timing: { escrowMs: 1, executeMs: 1, verifyMs: 1, settleMs: 1, totalMs: 4 },
        providerId: 'node-test',
        executorId: 'exec-1',
        backend: 'cpu',
        verification: 'exact',
        attempts: 1,
        account: req.account,
        settlement: TaskState.TASK_STATE_PAID,
        settlementNote: '',
        contributions: fakeContributions(req.redundancy, cost),
        shards: [],
        replayed: false,
        placementNote: '',
        idempotencyKey: req.idempotencyKey,
      };
    },
    { maxRequestBytes: 16 * 1024 * 1024 },
  );
  router.serve(RouterTaskAgent, async (req) => {
    if (fake.statusDelayMs > 0) await new Promise((r) => setTimeout(r, fake.statusDelayMs));
    const known = tasks.get(req.taskId);
    return known && known.account === req.account ? known : status('', '', TaskState.TASK_STATE_UNKNOWN, 0n);
  });
  executor.serve(ExecutorSkills, () => ({ skills: listSkills().map(skillInfo), backend: 'cpu' }), { queue: EXECUTOR_QUEUE });
  registry.serve(RegistryPeers, () => ({ peers: [{ nodeId: 'ab'.repeat(32), address: '127.0.0.1:9', rttMs: 1.5, lastSeenMs: 42n }] }));
  return fake;
}

function status(taskId: string, account: string, state: TaskState, cost: bigint): TaskStatusResponse {
  return {
    taskId,
    state,
    cost,
    refunded: 0n,
    providerId: cost > 0n ? 'node-test' : '',
    source: 'router',
    resultAvailable: false,
    attempts: 1,
    note: '',
    account,
    paidTo: [],
    placementNote: '',
  };
}

/** A redundant task's replicas as a router reports them: all counted, the cost split evenly (rest to the first). */
function fakeContributions(redundancy: number, cost: bigint): SubmitTaskResponse['contributions'] {
  if (redundancy < 2) return [];
  const each = cost / BigInt(redundancy);
  return Array.from({ length: redundancy }, (_, i) => ({
    providerId: `node-${i + 1}`,
    executorId: `exec-${i + 1}`,
    counted: true,
    paid: i === 0 ? cost - each * BigInt(redundancy - 1) : each,
    share: 1 / redundancy,
    note: '',
    executeMs: 1,
  }));
}
