import { ErrorCode, fromTensor, SwarmError, Tensor, toTensor } from '@swarm/contracts';
import { manualClock, seededRandom } from '@swarm/determinism';
import { demoInputs, getSkill, priceOf } from '@swarm/skills';
import { DEFAULT_ROUTER_LIMITS, runTask, SETTLE_GRACE_MS } from './run-task';
import type { ExecutionResult, TaskPorts, TaskRequest } from './task-types';

/** An in-memory ledger and executor: records every call so tests can check what moved. */
function fakePorts(execute: (inputs: Tensor[], attempt: number) => ExecutionResult | Promise<ExecutionResult>) {
  const calls: string[] = [];
  let attempt = 0;
  const ports: TaskPorts = {
    reserve: async (id, account, amount, expiresAtMs) => void calls.push(`reserve ${id} ${account} ${amount} until ${expiresAtMs}`),
    settle: async (id, payee, amount) => {
      calls.push(`settle ${id} ${payee} ${amount}`);
      return { paid: amount, refunded: 0n };
    },
    refund: async (id) => {
      calls.push(`refund ${id}`);
      return { refunded: 1n };
    },
    findProviders: async () => [{ nodeId: 'node-a', local: true }],
    execute: async (_c, task) => execute(task.inputs, attempt++),
  };
  return { ports, calls };
}

function honest(skill: string) {
  return (inputs: Tensor[]): ExecutionResult => ({
    outputs: getSkill(skill)
      .reference(inputs.map(fromTensor))
      .map((t) => toTensor(t.name, t.shape, t.data)),
    providerId: 'node-a',
    executorId: 'exec-1',
    backend: 'cpu',
  });
}

function corrupt(result: ExecutionResult): ExecutionResult {
  const d = fromTensor(result.outputs[0] as Tensor);
  const data = Float32Array.from(d.data);
  data[0] = (data[0] as number) + 1000;
  return { ...result, outputs: [toTensor(d.name, d.shape, data)] };
}

function request(skill: string, size: number, budget?: bigint): TaskRequest {
  const inputs = demoInputs(skill, size, seededRandom(7));
  return { taskId: 't1', skill, inputs, budget: budget ?? priceOf(skill, inputs.map(fromTensor)), timeoutMs: 10_000, account: 'payer' };
}

const START_MS = 1_000;
const components = (ports: TaskPorts) => ({ ports, clock: manualClock(START_MS), random: seededRandom(1) });
/** request() gives every task a 10 s deadline; the escrow outlives it by the settle grace. */
const EXPIRES = START_MS + 10_000 + SETTLE_GRACE_MS;
const signal = () => new AbortController().signal;

describe('routing - runTask', () => {
  it('escrows the budget until the deadline plus the settle grace, verifies, then settles the price to the provider', async () => {
    const { ports, calls } = fakePorts(honest('matmul'));
    const req = request('matmul', 16, 10_000n);
    const price = priceOf('matmul', req.inputs.map(fromTensor));
    const out = await runTask(components(ports), DEFAULT_ROUTER_LIMITS, req, signal());
    expect(calls).toEqual([`reserve t1 payer 10000 until ${EXPIRES}`, `settle t1 node-a ${price}`]);
    expect(out.cost).toBe(price);
    expect(out.verification).toMatch(/freivalds/);
    expect(out.attempts).toHaveLength(1);
  });

  it('retries after a result fails verification and pays only the verified one', async () => {
    const { ports, calls } = fakePorts((inputs, attempt) => (attempt === 0 ? corrupt(honest('matmul')(inputs)) : honest('matmul')(inputs)));
    const out = await runTask(components(ports), DEFAULT_ROUTER_LIMITS, request('matmul', 16), signal());
    expect(out.attempts.map((a) => a.outcome)).toEqual(['rejected', 'verified']);
    expect(calls.filter((c) => c.startsWith('settle'))).toHaveLength(1);
    expect(calls.some((c) => c.startsWith('refund'))).toBe(false);
  });

  it('refunds and fails with VERIFICATION_FAILED when every result is wrong', async () => {
    const { ports, calls } = fakePorts((inputs) => corrupt(honest('vecadd')(inputs)));
    const err = await runTask(components(ports), DEFAULT_ROUTER_LIMITS, request('vecadd', 64), signal()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_VERIFICATION_FAILED });
    expect(calls).toEqual([`reserve t1 payer ${request('vecadd', 64).budget} until ${EXPIRES}`, 'refund t1']);
  });

  it('refunds when the executor refuses the task outright', async () => {
    const { ports, calls } = fakePorts(() => {
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'bad');
    });
    await expect(runTask(components(ports), DEFAULT_ROUTER_LIMITS, request('mlp', 4), signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
    });
    expect(calls.at(-1)).toBe('refund t1');
  });

  it('refuses before escrow: unknown skill, zero budget, budget below price, wrong shapes', async () => {
    const { ports, calls } = fakePorts(honest('matmul'));
    const c = components(ports);
    const base = request('matmul', 128);
    expect(base.budget).toBeGreaterThan(1n);
    await expect(runTask(c, DEFAULT_ROUTER_LIMITS, { ...base, skill: 'nope' }, signal())).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNKNOWN_SKILL });
    await expect(runTask(c, DEFAULT_ROUTER_LIMITS, { ...base, budget: 0n }, signal())).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
    await expect(runTask(c, DEFAULT_ROUTER_LIMITS, { ...base, budget: base.budget - 1n }, signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_BUDGET_TOO_LOW,
    });
    const wrong = [toTensor('a', [2, 3], new Float32Array(6)), toTensor('b', [2, 3], new Float32Array(6))];
    await expect(runTask(c, DEFAULT_ROUTER_LIMITS, { ...base, inputs: wrong }, signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
    });
    const torn = [{ name: 'a', shape: [2, 2], data: Buffer.alloc(3) }, base.inputs[1] as Tensor];
    await expect(runTask(c, DEFAULT_ROUTER_LIMITS, { ...base, inputs: torn }, signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
    });
    expect(calls).toEqual([]);
  });

  it('refunds with NO_PROVIDER when no executor offers the skill', async () => {
    const { ports, calls } = fakePorts(honest('vecadd'));
    ports.findProviders = async () => [];
    await expect(runTask(components(ports), DEFAULT_ROUTER_LIMITS, request('vecadd', 8), signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_NO_PROVIDER,
    });
    expect(calls.at(-1)).toBe('refund t1');
  });

  it('stops retrying at the deadline and refunds', async () => {
    const clock = manualClock(0);
    const { ports, calls } = fakePorts(() => {
      clock.advance(6_000);
      throw new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, 'busy', true);
    });
    const err = await runTask({ ports, clock, random: seededRandom(1) }, DEFAULT_ROUTER_LIMITS, request('vecadd', 8), signal()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED });
    expect(calls.filter((c) => c.startsWith('refund'))).toHaveLength(1);
  });

  it('retries a settle whose reply was lost (settle is idempotent)', async () => {
    const { ports, calls } = fakePorts(honest('vecadd'));
    const settle = ports.settle;
    let lost = 1;
    ports.settle = async (...args) => {
      const r = await settle(...args);
      if (lost-- > 0) throw new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'lost reply', true);
      return r;
    };
    await runTask(components(ports), DEFAULT_ROUTER_LIMITS, request('vecadd', 8), signal());
    expect(calls.filter((c) => c.startsWith('settle'))).toHaveLength(2);
  });

  it('refunds when the reserve reply is lost (the reserve may have committed)', async () => {
    const { ports, calls } = fakePorts(honest('vecadd'));
    const reserve = ports.reserve;
    ports.reserve = async (...args) => {
      await reserve(...args);
      throw new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'lost reply', true);
    };
    await expect(runTask(components(ports), DEFAULT_ROUTER_LIMITS, request('vecadd', 8), signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
    });
    expect(calls.at(-1)).toBe('refund t1');
  });

  it('keeps the task error when the refund fails too (the escrow then expires)', async () => {
    const { ports } = fakePorts(() => {
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'bad shapes');
    });
    ports.refund = async () => {
      throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'credit-svc down', true);
    };
    await expect(runTask(components(ports), DEFAULT_ROUTER_LIMITS, request('vecadd', 8), signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      message: 'bad shapes',
    });
  });

  it('does not pay a result that claims to come from a provider other than the chosen one', async () => {
    const { ports, calls } = fakePorts((inputs) => ({ ...honest('vecadd')(inputs), providerId: 'mallory' }));
    await expect(runTask(components(ports), DEFAULT_ROUTER_LIMITS, request('vecadd', 8), signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_VERIFICATION_FAILED,
    });
    expect(calls.some((c) => c.startsWith('settle'))).toBe(false);
    expect(calls.at(-1)).toBe('refund t1');
  });

  it('ends with the abort reason of a stopping caller, and refunds', async () => {
    const { ports, calls } = fakePorts(() => {
      throw new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'aborted', true);
    });
    const stop = new AbortController();
    stop.abort(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'stopping', true));
    await expect(runTask(components(ports), DEFAULT_ROUTER_LIMITS, request('vecadd', 8), stop.signal)).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAVAILABLE,
    });
    expect(calls.at(-1)).toBe('refund t1');
  });
});
