import type { Tensor } from '@swarm/contracts';
import { ErrorCode, fromTensor, SwarmError, toTensor } from '@swarm/contracts';
import type { ManualClock } from '@swarm/determinism';
import { manualClock, seededRandom } from '@swarm/determinism';
import { demoInputs, getSkill, orderedMatmul, priceOf } from '@swarm/skills';
import type { AttemptReport, Candidate, CandidateSelector, SelectionTask } from '@swarm/scoring';
import type { RouterComponents } from './run-task';
import { ESCROW_MAX_PAYEES } from './payees';
import { attemptTimeoutMs, DEFAULT_ROUTER_LIMITS, runTask, SETTLE_GRACE_MS, SETTLE_MARGIN_MS } from './run-task';
import { LOCAL_ONLY_NOTE } from './settlement';
import type { ExecutionResult, TaskPorts, TaskRequest } from './task-types';

/** An in-memory ledger and executor: records every call so tests can check what moved. */
function fakePorts(execute: (inputs: Tensor[], attempt: number) => ExecutionResult | Promise<ExecutionResult>) {
  const calls: string[] = [];
  let attempt = 0;
  const ports: TaskPorts = {
    reserve: async (id, account, amount, expiresAtMs) => void calls.push(`reserve ${id} ${account} ${amount} until ${expiresAtMs}`),
    settle: async (id, payouts) => {
      calls.push(`settle ${id} ${payouts.map((p) => `${p.payee} ${p.amount}`).join(' ')}`);
      return { paid: payouts.reduce((sum, p) => sum + p.amount, 0n), refunded: 0n };
    },
    refund: async (id) => {
      calls.push(`refund ${id}`);
      return { refunded: 1n };
    },
    charge: async (id) => {
      throw new Error(`the escrow path charged ${id}`);
    },
    escrow: async () => {
      calls.push('escrow');
      return { state: 'open', payer: 'node', paid: 0n, refunded: 0n, payee: '', expiresAtMs: 0 };
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
  const d = fromTensor(result.outputs[0]);
  const data = Float32Array.from(d.data);
  data[0] = data[0] + 1000;
  return { ...result, outputs: [toTensor(d.name, d.shape, data)] };
}

function request(skill: string, size: number, budget?: bigint): TaskRequest {
  const inputs = demoInputs(skill, size, seededRandom(7));
  return { taskId: 't1', skill, inputs, budget: budget ?? priceOf(skill, inputs.map(fromTensor)), deadlineMs: START_MS + 10_000, account: 'payer' };
}

const START_MS = 1_000;
/** Settle backoff waits pass on the manual clock, at once. */
const advancing = (clock: ManualClock) => async (ms: number) => clock.advance(ms);
const components = (ports: TaskPorts) => {
  const clock = manualClock(START_MS);
  return { ports, clock, random: seededRandom(1), sleep: advancing(clock) };
};
/** request() gives every task a 10 s deadline; the escrow outlives it by the settle grace. */
const EXPIRES = START_MS + 10_000 + SETTLE_GRACE_MS;
const signal = () => new AbortController().signal;
/** These tests follow the escrow path (reserve first); run-folded.spec.ts has the folded one. */
const ESCROW_PATH = { ...DEFAULT_ROUTER_LIMITS, foldMaxWork: 0 };

describe('pipeline - runTask', () => {
  it('escrows the budget until the deadline plus the settle grace, verifies, then settles the price to the provider', async () => {
    const { ports, calls } = fakePorts(honest('matmul'));
    const req = request('matmul', 16, 10_000n);
    const price = priceOf('matmul', req.inputs.map(fromTensor));
    const out = await runTask(components(ports), ESCROW_PATH, req, signal());
    expect(calls).toEqual([`reserve t1 payer 10000 until ${EXPIRES}`, `settle t1 node-a ${price}`]);
    expect(out.cost).toBe(price);
    expect(out.verification).toMatch(/freivalds/);
    expect(out.attempts).toHaveLength(1);
  });

  it('retries after a result fails verification and pays only the verified one', async () => {
    const { ports, calls } = fakePorts((inputs, attempt) => (attempt === 0 ? corrupt(honest('matmul')(inputs)) : honest('matmul')(inputs)));
    const out = await runTask(components(ports), ESCROW_PATH, request('matmul', 16), signal());
    expect(out.attempts.map((a) => a.outcome)).toEqual(['rejected', 'verified']);
    expect(calls.filter((c) => c.startsWith('settle'))).toHaveLength(1);
    expect(calls.some((c) => c.startsWith('refund'))).toBe(false);
  });

  it('refunds and fails with VERIFICATION_FAILED when every result is wrong', async () => {
    const { ports, calls } = fakePorts((inputs) => corrupt(honest('vecadd')(inputs)));
    const err = await runTask(components(ports), ESCROW_PATH, request('vecadd', 64), signal()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_VERIFICATION_FAILED });
    expect(calls).toEqual([`reserve t1 payer ${request('vecadd', 64).budget} until ${EXPIRES}`, 'refund t1']);
  });

  it('refunds when the executor refuses the task outright', async () => {
    const { ports, calls } = fakePorts(() => {
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'bad');
    });
    await expect(runTask(components(ports), ESCROW_PATH, request('mlp', 4), signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
    });
    expect(calls.at(-1)).toBe('refund t1');
  });

  it('refuses before escrow: unknown skill, zero budget, budget below price, wrong shapes', async () => {
    const { ports, calls } = fakePorts(honest('matmul'));
    const c = components(ports);
    const base = request('matmul', 128);
    expect(base.budget).toBeGreaterThan(1n);
    await expect(runTask(c, ESCROW_PATH, { ...base, skill: 'nope' }, signal())).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNKNOWN_SKILL });
    await expect(runTask(c, ESCROW_PATH, { ...base, budget: 0n }, signal())).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
    await expect(runTask(c, ESCROW_PATH, { ...base, budget: base.budget - 1n }, signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_BUDGET_TOO_LOW,
    });
    const wrong = [toTensor('a', [2, 3], new Float32Array(6)), toTensor('b', [2, 3], new Float32Array(6))];
    await expect(runTask(c, ESCROW_PATH, { ...base, inputs: wrong }, signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
    });
    const torn = [{ name: 'a', shape: [2, 2], data: Buffer.alloc(3) }, base.inputs[1]];
    await expect(runTask(c, ESCROW_PATH, { ...base, inputs: torn }, signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
    });
    expect(calls).toEqual([]);
  });

  it('refuses with NO_PROVIDER, reserving nothing, when no executor offers the skill or every one known is out of reach', async () => {
    const { ports, calls } = fakePorts(honest('vecadd'));
    ports.findProviders = async () => [];
    await expect(runTask(components(ports), ESCROW_PATH, request('vecadd', 8), signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_NO_PROVIDER,
      retryable: true,
      message: expect.stringMatching(/knows no provider of vecadd.*nothing was reserved/),
    });
    ports.findProviders = async () => {
      throw new SwarmError(ErrorCode.ERROR_CODE_NO_PROVIDER, 'could not reach them lately (test)', true, { retryAfterMs: 900 });
    };
    await expect(runTask(components(ports), ESCROW_PATH, request('vecadd', 8), signal())).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_NO_PROVIDER, retryAfterMs: 900 });
    expect(calls).toEqual([]);
  });

  it('stops retrying at the deadline and refunds', async () => {
    const clock = manualClock(0);
    const { ports, calls } = fakePorts(() => {
      clock.advance(6_000);
      throw new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, 'busy', true);
    });
    const err = await runTask({ ports, clock, random: seededRandom(1), sleep: advancing(clock) }, ESCROW_PATH, request('vecadd', 8), signal()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, retryable: false });
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
    await runTask(components(ports), ESCROW_PATH, request('vecadd', 8), signal());
    expect(calls.filter((c) => c.startsWith('settle'))).toHaveLength(2);
  });

  it('refunds when the reserve reply is lost (the reserve may have committed)', async () => {
    const { ports, calls } = fakePorts(honest('vecadd'));
    const reserve = ports.reserve;
    ports.reserve = async (...args) => {
      await reserve(...args);
      throw new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'lost reply', true);
    };
    await expect(runTask(components(ports), ESCROW_PATH, request('vecadd', 8), signal())).rejects.toMatchObject({
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
    await expect(runTask(components(ports), ESCROW_PATH, request('vecadd', 8), signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      message: 'bad shapes',
    });
  });

  it('does not pay a result that claims to come from a provider other than the chosen one', async () => {
    const { ports, calls } = fakePorts((inputs) => ({ ...honest('vecadd')(inputs), providerId: 'mallory' }));
    await expect(runTask(components(ports), ESCROW_PATH, request('vecadd', 8), signal())).rejects.toMatchObject({
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
    await expect(runTask(components(ports), ESCROW_PATH, request('vecadd', 8), stop.signal)).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAVAILABLE,
    });
    expect(calls.at(-1)).toBe('refund t1');
  });
});

describe('pipeline - runTask under overload and deadlines', () => {
  it('answers OVERLOADED (retryable, with the executor hint), not EXECUTION_FAILED, when every attempt finds executors busy', async () => {
    const { ports, calls } = fakePorts(() => {
      throw new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, 'executor busy: 2 running and 32 queued', true, { retryAfterMs: 700 });
    });
    const err = await runTask(components(ports), ESCROW_PATH, request('vecadd', 8), signal()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_OVERLOADED, retryable: true, retryAfterMs: 700, message: expect.stringMatching(/3 attempt.*executor busy/) });
    expect(calls.filter((c) => c.startsWith('settle'))).toEqual([]);
    expect(calls.at(-1)).toBe('refund t1');
  });

  it('answers NO_PROVIDER, not EXECUTION_FAILED, when no executor answers any attempt', async () => {
    const { ports, calls } = fakePorts(() => {
      throw new SwarmError(ErrorCode.ERROR_CODE_NO_PROVIDER, 'no executor is serving vecadd', true);
    });
    await expect(runTask(components(ports), ESCROW_PATH, request('vecadd', 8), signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_NO_PROVIDER,
      retryable: true,
    });
    expect(calls.at(-1)).toBe('refund t1');
  });

  it('never reserves a task whose deadline passed before it could start (it waited too long)', async () => {
    const { ports, calls } = fakePorts(honest('vecadd'));
    const late = { ...request('vecadd', 8), deadlineMs: START_MS - 1 };
    await expect(runTask(components(ports), ESCROW_PATH, late, signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
      message: expect.stringMatching(/nothing was reserved/),
    });
    expect(calls).toEqual([]);
  });

  it('refunds, and does not pay, a verified result that arrives after the deadline', async () => {
    const clock = manualClock(START_MS);
    const { ports, calls } = fakePorts((inputs) => {
      clock.advance(10_001);
      return honest('vecadd')(inputs);
    });
    await expect(runTask({ ports, clock, random: seededRandom(1), sleep: advancing(clock) }, ESCROW_PATH, request('vecadd', 8), signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
      message: expect.stringMatching(/after the task deadline; nothing was paid/),
    });
    expect(calls.filter((c) => c.startsWith('settle'))).toEqual([]);
    expect(calls.at(-1)).toBe('refund t1');
  });

  it('cancels a task whose deadline passes while it runs, and refunds', async () => {
    const clock = manualClock(START_MS);
    const deadline = new AbortController();
    const { ports, calls } = fakePorts(() => new Promise<ExecutionResult>(() => undefined));
    ports.execute = (_c, _t, s) =>
      new Promise((_, reject) => {
        s.addEventListener('abort', () => reject(new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'request aborted: deadline passed', true)));
        clock.advance(10_000);
        deadline.abort();
      });
    await expect(runTask({ ports, clock, random: seededRandom(1), sleep: advancing(clock) }, ESCROW_PATH, request('vecadd', 8), deadline.signal)).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
    });
    expect(calls).toEqual([`reserve t1 payer ${request('vecadd', 8).budget} until ${EXPIRES}`, 'refund t1']);
  });

  it('refuses a huge skill name as UNKNOWN_SKILL without quoting it', async () => {
    const { ports, calls } = fakePorts(honest('vecadd'));
    const err = (await runTask(components(ports), ESCROW_PATH, { ...request('vecadd', 8), skill: 'x'.repeat(4 << 20) }, signal()).catch((e: unknown) => e)) as SwarmError;
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_UNKNOWN_SKILL });
    expect(err.message.length).toBeLessThan(200);
    expect(calls).toEqual([]);
  });
});

describe('pipeline - runTask settle until the escrow expiry', () => {
  const unavailable = () => new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'credit-svc did not answer', true);

  it('keeps retrying a failing settle with backoff and pays once credit-svc is back', async () => {
    const { ports, calls } = fakePorts(honest('vecadd'));
    const c = components(ports);
    const settle = ports.settle;
    // credit-svc is down for 15 s after the result is verified (a restart).
    let downUntil = -1;
    ports.settle = async (...args) => {
      if (downUntil < 0) downUntil = c.clock.now() + 15_000;
      calls.push('settle attempt');
      if (c.clock.now() < downUntil) throw unavailable();
      return settle(...args);
    };
    const out = await runTask(c, ESCROW_PATH, request('vecadd', 8), signal());
    expect(out).toMatchObject({ settlement: 'paid', cost: 1n, settlementNote: expect.stringMatching(/^settled after \d+ failed attempt/) });
    expect(out.outputs).toHaveLength(1);
    expect(calls.filter((x) => x.startsWith('settle t1'))).toHaveLength(1);
    expect(calls).not.toContain('refund t1');
    // Capped exponential backoff: about 15 s / 2 s + the doubling steps, not a busy loop.
    expect(calls.filter((x) => x === 'settle attempt').length).toBeLessThan(15);
  });

  it('refunds shortly before the expiry when settle never succeeds, and still returns the verified outputs', async () => {
    const { ports, calls } = fakePorts(honest('vecadd'));
    const c = components(ports);
    ports.settle = async () => {
      calls.push('settle attempt');
      throw unavailable();
    };
    const out = await runTask(c, ESCROW_PATH, request('vecadd', 8), signal());
    expect(out).toMatchObject({
      settlement: 'refunded',
      cost: 0n,
      refunded: 1n,
      settlementUncertain: false,
      settlementNote: expect.stringMatching(/settle failed \d+ time\(s\).*refunded, nothing was paid/),
    });
    expect(out.outputs).toHaveLength(1);
    expect(calls.at(-1)).toBe('refund t1');
    expect(c.clock.now()).toBeLessThan(EXPIRES - SETTLE_MARGIN_MS + DEFAULT_ROUTER_LIMITS.settleBackoffMaxMs);
    expect(c.clock.now()).toBeGreaterThan(START_MS + 10_000);
  });

  it('reports paid when the refund is refused because a settle with a lost reply had committed', async () => {
    const { ports, calls } = fakePorts(honest('vecadd'));
    const settle = ports.settle;
    ports.settle = async (...args) => {
      await settle(...args);
      throw unavailable();
    };
    ports.refund = async () => {
      throw new SwarmError(ErrorCode.ERROR_CODE_ESCROW_CLOSED, 'escrow t1 is settled');
    };
    ports.escrow = async () => ({ state: 'settled', payer: 'node', paid: 1n, refunded: 0n, payee: 'node-a', expiresAtMs: EXPIRES });
    const out = await runTask(components(ports), ESCROW_PATH, request('vecadd', 8), signal());
    expect(out).toMatchObject({ settlement: 'paid', cost: 1n, settlementNote: expect.stringMatching(/ledger shows the escrow settled/) });
    expect(calls.filter((x) => x.startsWith('settle t1')).length).toBeGreaterThan(1);
  });

  it('says the outcome is uncertain when credit-svc stays unreachable to the end', async () => {
    const { ports } = fakePorts(honest('vecadd'));
    ports.settle = async () => Promise.reject(unavailable());
    ports.refund = async () => Promise.reject(unavailable());
    ports.escrow = async () => Promise.reject(unavailable());
    const out = await runTask(components(ports), ESCROW_PATH, request('vecadd', 8), signal());
    expect(out).toMatchObject({ settlement: 'refunded', cost: 0n, settlementUncertain: true, settlementNote: expect.stringMatching(/refunds the escrow at its expiry/) });
  });

  it('stops retrying at once when the router stops (settle signal), and refunds', async () => {
    const { ports, calls } = fakePorts(honest('vecadd'));
    const stopping = new AbortController();
    ports.settle = async () => {
      stopping.abort();
      throw unavailable();
    };
    const out = await runTask(components(ports), ESCROW_PATH, request('vecadd', 8), signal(), stopping.signal);
    expect(out.settlement).toBe('refunded');
    expect(calls.at(-1)).toBe('refund t1');
  });
});

describe('pipeline - runTask attempt timeouts', () => {
  it('gives each attempt but the last a timeout from the skill work, so a dead executor costs one attempt, not the deadline', async () => {
    const clock = manualClock(START_MS);
    const { ports, calls } = fakePorts(honest('vecadd'));
    const asked: number[] = [];
    const live = ports.execute;
    ports.execute = async (cand, task, s) => {
      asked.push(task.timeoutMs);
      if (asked.length === 1) {
        // The executor that took the request died: nothing answers until the attempt times out.
        clock.advance(task.timeoutMs);
        throw new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'no reply', true);
      }
      return live(cand, task, s);
    };
    const limits = { ...ESCROW_PATH, attemptMinMs: 500 };
    const req = { ...request('vecadd', 8), deadlineMs: START_MS + 30_000 };
    const out = await runTask({ ports, clock, random: seededRandom(1), sleep: advancing(clock) }, limits, req, signal());
    const work = 8; // vecadd: one addition per element
    expect(asked[0]).toBe(attemptTimeoutMs(work, limits));
    expect(asked[0]).toBeLessThan(1_000);
    expect(out).toMatchObject({ settlement: 'paid', cost: 1n });
    expect(out.attempts.map((a) => a.outcome)).toEqual(['failed', 'verified']);
    expect(clock.now() - START_MS).toBeLessThan(1_000);
    expect(calls.filter((x) => x.startsWith('settle'))).toHaveLength(1);
  });

  it('gives the last attempt all the time left (a slow but alive executor can still finish)', async () => {
    const clock = manualClock(START_MS);
    const { ports } = fakePorts(() => {
      throw new SwarmError(ErrorCode.ERROR_CODE_EXECUTION_FAILED, 'kernel crashed', true);
    });
    const asked: number[] = [];
    const failing = ports.execute;
    ports.execute = async (cand, task, s) => {
      asked.push(task.timeoutMs);
      return failing(cand, task, s);
    };
    await runTask({ ports, clock, random: seededRandom(1), sleep: advancing(clock) }, { ...ESCROW_PATH, attemptMinMs: 500 }, request('vecadd', 8), signal()).catch(() => undefined);
    expect(asked).toEqual([501, 501, 10_000]);
  });

  it('sizes attempts by work: a 700x700 matmul gets more than the minimum', () => {
    expect(attemptTimeoutMs(2 * 700 ** 3, DEFAULT_ROUTER_LIMITS)).toBeGreaterThan(30_000);
    expect(attemptTimeoutMs(8, DEFAULT_ROUTER_LIMITS)).toBe(DEFAULT_ROUTER_LIMITS.attemptMinMs + 1);
  });
});

describe('pipeline - runTask attempt observer and candidate selector', () => {
  /** Components whose observer records every report, with a stopwatch the executor advances. */
  function observed(ports: TaskPorts, extra: Partial<RouterComponents> = {}) {
    const reports: AttemptReport[] = [];
    const stopwatch = manualClock(0);
    const c: RouterComponents = { ...components(ports), stopwatch, observer: { onAttempt: (r) => void reports.push(r) }, ...extra };
    return { c, reports, stopwatch };
  }
  /** Makes every execution take `ms` on the router's clock and stopwatch before it answers. */
  function takesMs(ports: TaskPorts, c: RouterComponents, stopwatch: ManualClock, ms: number): void {
    const live = ports.execute;
    ports.execute = async (...args) => {
      (c.clock as ManualClock).advance(ms);
      stopwatch.advance(ms);
      return live(...args);
    };
  }
  const nodeA: Candidate = { nodeId: 'node-a', local: true };
  const nodeB: Candidate = { nodeId: 'node-b', local: false, load: 0.1 };
  /** An honest executor that answers as whichever candidate it was sent to. */
  const answersAs = (skill: string) => async (cand: Candidate, task: { inputs: Tensor[] }) => ({ ...honest(skill)(task.inputs), providerId: cand.nodeId });

  it('reports a verified attempt as ok, with its duration on the stopwatch', async () => {
    const { ports } = fakePorts(honest('matmul'));
    const { c, reports, stopwatch } = observed(ports);
    const live = ports.execute;
    ports.execute = async (...args) => {
      stopwatch.advance(250);
      return live(...args);
    };
    await runTask(c, ESCROW_PATH, request('matmul', 16), signal());
    expect(reports).toEqual([{ taskId: 't1', skill: 'matmul', candidate: nodeA, outcome: 'ok', ms: 250, errorCode: undefined }]);
  });

  it('reports an executor failure, then the successful retry', async () => {
    const { ports } = fakePorts((inputs, attempt) => {
      if (attempt === 0) throw new SwarmError(ErrorCode.ERROR_CODE_EXECUTION_FAILED, 'kernel crashed', true);
      return honest('vecadd')(inputs);
    });
    const { c, reports } = observed(ports);
    const out = await runTask(c, ESCROW_PATH, request('vecadd', 8), signal());
    expect(out.settlement).toBe('paid');
    expect(reports.map((r) => [r.outcome, r.errorCode])).toEqual([
      ['failed', ErrorCode.ERROR_CODE_EXECUTION_FAILED],
      ['ok', undefined],
    ]);
  });

  it('reports a result that fails verification as rejected-by-verification', async () => {
    const { ports } = fakePorts((inputs, attempt) => (attempt === 0 ? corrupt(honest('matmul')(inputs)) : honest('matmul')(inputs)));
    const { c, reports } = observed(ports);
    await runTask(c, ESCROW_PATH, request('matmul', 16), signal());
    expect(reports.map((r) => [r.outcome, r.errorCode])).toEqual([
      ['rejected-by-verification', ErrorCode.ERROR_CODE_VERIFICATION_FAILED],
      ['ok', undefined],
    ]);
  });

  it('reports a result that fails verification without proof it is wrong as failed: unpaid, a failure, not a rejection', async () => {
    // Rows of a and columns of b are [1, s, s, …] with s² under half an ulp of 1: a forward f32 sum
    // loses every small product, honestly, and lands outside τ but within the worst case.
    const [n, k, m] = [2, 1000, 3];
    const s = Math.fround(2 ** -12 * 0.999);
    const a = new Float32Array(n * k).fill(s).map((v, i) => (i % k === 0 ? 1 : v));
    const b = new Float32Array(k * m).fill(s).map((v, i) => (i < m ? 1 : v));
    const inputs = [toTensor('a', [n, k], a), toTensor('b', [k, m], b)];
    // The first provider sums forwards (every small product lost), the second pairwise (none lost).
    const order = (attempt: number) => orderedMatmul(a, b, { n, k, m }, attempt === 0 ? 'ijk' : 'pairwise');
    const { ports, calls } = fakePorts((given, attempt) => ({ ...honest('matmul')(given), outputs: [toTensor('c', [n, m], order(attempt))] }));
    const { c, reports } = observed(ports);
    const req: TaskRequest = { ...request('matmul', 2), inputs, budget: priceOf('matmul', inputs.map(fromTensor)) };
    const outcome = await runTask(c, ESCROW_PATH, req, signal());
    expect(reports.map((r) => [r.outcome, r.errorCode])).toEqual([
      ['failed', ErrorCode.ERROR_CODE_VERIFICATION_FAILED],
      ['ok', undefined],
    ]);
    expect(outcome.attempts[0]).toMatchObject({ outcome: 'failed', detail: expect.stringContaining('not proven wrong') });
    expect(calls.filter((call) => call.startsWith('settle'))).toHaveLength(1);

    // Every provider summing forwards: the task fails, and says a retry of the same inputs will not help.
    const allForward = fakePorts((given) => ({ ...honest('matmul')(given), outputs: [toTensor('c', [n, m], order(0))] }));
    await expect(runTask(components(allForward.ports), ESCROW_PATH, req, signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_VERIFICATION_FAILED,
      retryable: false,
      message: expect.stringContaining('rescale or reorder them'),
    });
    // One result proven wrong among them (a cheat another provider may not repeat): still retryable.
    const cheatFirst = fakePorts((given, attempt) => {
      const c = order(0);
      if (attempt === 0) c[0] += 1000;
      return { ...honest('matmul')(given), outputs: [toTensor('c', [n, m], c)] };
    });
    await expect(runTask(components(cheatFirst.ports), ESCROW_PATH, req, signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_VERIFICATION_FAILED,
      retryable: true,
    });
  });

  it('reports an attempt that got no reply in its time as a timeout, and one refused as overloaded', async () => {
    const { ports } = fakePorts((inputs, attempt) => {
      if (attempt === 0) throw new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'no reply', true);
      if (attempt === 1) throw new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, 'busy', true);
      return honest('vecadd')(inputs);
    });
    const { c, reports } = observed(ports);
    await runTask(c, ESCROW_PATH, request('vecadd', 8), signal());
    expect(reports.map((r) => [r.outcome, r.errorCode])).toEqual([
      ['timeout', ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED],
      ['overloaded', ErrorCode.ERROR_CODE_OVERLOADED],
      ['ok', undefined],
    ]);
  });

  it('reports a verified result that came after the deadline (refunded) as a timeout when it took past its fair time', async () => {
    const { ports } = fakePorts(honest('vecadd'));
    const { c, reports, stopwatch } = observed(ports);
    takesMs(ports, c, stopwatch, 10_001);
    await expect(runTask(c, ESCROW_PATH, request('vecadd', 8), signal())).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED });
    expect(reports.map((r) => r.outcome)).toEqual(['timeout']);
  });

  it('reports a late verified result as unjudged when it came within its fair time (the deadline was shorter)', async () => {
    const { ports } = fakePorts(honest('vecadd'));
    const { c, reports, stopwatch } = observed(ports);
    takesMs(ports, c, stopwatch, 1_001);
    // 1 s to run: less than the 5 s (ATTEMPT_MIN_MS) any attempt is given.
    await expect(runTask(c, ESCROW_PATH, { ...request('vecadd', 8), deadlineMs: START_MS + 1_000 }, signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
    });
    expect(reports.map((r) => r.outcome)).toEqual(['unjudged']);
  });

  it('judges a DEADLINE_EXCEEDED answer by the time the router saw: cut-short once a shortened time really ran out, a timeout when sent early or after the fair time', async () => {
    /** A candidate that answers DEADLINE_EXCEEDED after `ms` on the router's stopwatch. */
    const deadlineAfter = (ms: number, deadlineMs: number) => {
      const run = observed(
        fakePorts(() => {
          throw new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'no reply', true);
        }).ports,
      );
      const live = run.c.ports.execute;
      run.c.ports.execute = async (...args) => {
        run.stopwatch.advance(ms);
        return live(...args);
      };
      return runTask(run.c, ESCROW_PATH, { ...request('vecadd', 8), deadlineMs }, signal())
        .catch(() => undefined)
        .then(() => run.reports[0]?.outcome);
    };
    // Given 1 s (the deadline's), it ran the 1 s out: the deadline's doing.
    expect(await deadlineAfter(1_000, START_MS + 1_000)).toBe('cut-short');
    // Given 1 s, it answered "deadline" at once: its own claim, a timeout.
    expect(await deadlineAfter(0, START_MS + 1_000)).toBe('timeout');
    // Given its fair time: a timeout.
    expect(await deadlineAfter(6_000, START_MS + 10_000)).toBe('timeout');
  });

  it("reports an attempt a stopping router ended as unjudged (the router's doing), and one the deadline ended before its fair time as cut-short", async () => {
    const task = new AbortController();
    const { ports } = fakePorts(() => {
      // The router stops while the candidate works; the attempt fails with the task's own reason.
      task.abort(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'router stopping'));
      throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'router stopping');
    });
    const { c, reports } = observed(ports);
    await expect(runTask(c, ESCROW_PATH, request('vecadd', 8), task.signal)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
    expect(reports.map((r) => [r.outcome, r.errorCode])).toEqual([['unjudged', ErrorCode.ERROR_CODE_UNAVAILABLE]]);
    // The deadline (a TimeoutError reason, as the router's deadline signal gives) ends the attempt at once.
    const timedOut = new AbortController();
    const byDeadline = observed(
      fakePorts(() => {
        timedOut.abort(new DOMException('deadline', 'TimeoutError'));
        throw new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'request aborted: deadline passed', true);
      }).ports,
    );
    await expect(runTask(byDeadline.c, ESCROW_PATH, request('vecadd', 8), timedOut.signal)).rejects.toBeDefined();
    expect(byDeadline.reports.map((r) => r.outcome)).toEqual(['cut-short']);
  });

  it('reports a refused task once, as failed, before ending it', async () => {
    const { ports, calls } = fakePorts(() => {
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'bad');
    });
    const { c, reports } = observed(ports);
    await expect(runTask(c, ESCROW_PATH, request('vecadd', 8), signal())).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
    expect(reports.map((r) => [r.outcome, r.errorCode])).toEqual([['failed', ErrorCode.ERROR_CODE_INVALID_ARGUMENT]]);
    expect(calls.at(-1)).toBe('refund t1');
  });

  it('keeps the task outcome when the observer throws', async () => {
    const { ports, calls } = fakePorts(honest('vecadd'));
    const c = {
      ...components(ports),
      observer: {
        onAttempt: () => {
          throw new Error('learning bug');
        },
      },
    };
    const out = await runTask(c, ESCROW_PATH, request('vecadd', 8), signal());
    expect(out.settlement).toBe('paid');
    expect(calls.filter((x) => x.startsWith('settle'))).toHaveLength(1);
  });

  it('dispatches to the candidate a custom selector chooses, telling it the attempts so far, and pays that one', async () => {
    const { ports, calls } = fakePorts(honest('vecadd'));
    ports.findProviders = async () => [nodeA, nodeB];
    const sentTo: string[] = [];
    const answer = answersAs('vecadd');
    ports.execute = async (cand, task) => {
      sentTo.push(cand.nodeId);
      if (sentTo.length === 1) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'gone', true);
      return answer(cand, task);
    };
    const seen: Array<{ task: SelectionTask; candidates: string[]; attempts: string[] }> = [];
    const selector: CandidateSelector = {
      select(task, candidates, attempts) {
        seen.push({ task, candidates: candidates.map((x) => x.nodeId), attempts: attempts.map((a) => `${a.candidate.nodeId} ${a.outcome}`) });
        return candidates.find((x) => x.nodeId === 'node-b');
      },
    };
    const { c, reports } = observed(ports, { selector });
    const out = await runTask(c, ESCROW_PATH, request('vecadd', 8), signal());
    expect(sentTo).toEqual(['node-b', 'node-b']);
    expect(seen).toEqual([
      { task: { taskId: 't1', skill: 'vecadd', shortened: false }, candidates: ['node-a', 'node-b'], attempts: [] },
      { task: { taskId: 't1', skill: 'vecadd', shortened: false }, candidates: ['node-a', 'node-b'], attempts: ['node-b failed'] },
    ]);
    expect(reports.map((r) => `${r.candidate.nodeId} ${r.outcome}`)).toEqual(['node-b failed', 'node-b ok']);
    expect(out.providerId).toBe('node-b');
    expect(calls).toContain('settle t1 node-b 1');
  });

  it('refunds with NO_PROVIDER, dispatching nothing, when the selector chooses none', async () => {
    const { ports, calls } = fakePorts(() => {
      throw new Error('must not be dispatched');
    });
    const { c, reports } = observed(ports, { selector: { select: () => undefined } });
    await expect(runTask(c, ESCROW_PATH, request('vecadd', 8), signal())).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_NO_PROVIDER });
    expect(reports).toEqual([]);
    expect(calls.at(-1)).toBe('refund t1');
  });

  it('by default prefers the local candidate and moves a retry to another candidate after a failure', async () => {
    const { ports } = fakePorts(honest('vecadd'));
    ports.findProviders = async () => [nodeB, nodeA];
    const answer = answersAs('vecadd');
    ports.execute = async (cand, task) => {
      if (cand.nodeId === 'node-a') throw new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, 'busy', true);
      return answer(cand, task);
    };
    const { c, reports } = observed(ports);
    const out = await runTask(c, ESCROW_PATH, request('vecadd', 8), signal());
    expect(reports.map((r) => `${r.candidate.nodeId} ${r.outcome}`)).toEqual(['node-a overloaded', 'node-b ok']);
    expect(out.providerId).toBe('node-b');
  });
});

describe('pipeline - runTask payees and remote candidates', () => {
  const local: Candidate = { nodeId: 'node-a', local: true };
  const remote = (nodeId: string, load = 0.2, rttMs = 5): Candidate => ({ nodeId, local: false, endpoint: `${nodeId}@127.0.0.1:7000`, load, rttMs });
  const answersAs = (skill: string) => async (cand: Candidate, task: { inputs: Tensor[] }) => ({ ...honest(skill)(task.inputs), providerId: cand.nodeId });

  /** Ports whose reserve records the payees it was given, and whose registry answers `lists` in turn (the last one repeats). */
  function portsWith(lists: Candidate[][]) {
    const { ports, calls } = fakePorts(honest('vecadd'));
    const payees: (readonly string[])[] = [];
    const reserve = ports.reserve;
    ports.reserve = async (id, account, amount, expiresAtMs, names) => {
      payees.push(names);
      await reserve(id, account, amount, expiresAtMs, names);
    };
    let lookups = 0;
    ports.findProviders = async () => lists[Math.min(lookups++, lists.length - 1)];
    return { ports, calls, payees, lookups: () => lookups };
  }

  it('learns the candidates before it reserves and names them all as the escrow’s payees', async () => {
    const { ports, calls, payees, lookups } = portsWith([[remote('node-b'), local, remote('node-c')]]);
    ports.execute = answersAs('vecadd');
    const out = await runTask(components(ports), ESCROW_PATH, request('vecadd', 8), signal());
    expect(payees).toEqual([['node-b', 'node-a', 'node-c']]);
    // One lookup: the first attempt uses the one the payees came from.
    expect(lookups()).toBe(1);
    expect(out.providerId).toBe('node-a');
    expect(calls).toEqual([`reserve t1 payer 1 until ${EXPIRES}`, 'settle t1 node-a 1']);
  });

  it('names at most ESCROW_MAX_PAYEES, keeping the local candidate and the best remote ones', async () => {
    // 20 remote candidates, the first ones the busiest; the local one comes last.
    const many = Array.from({ length: 20 }, (_, i) => remote(`node-${String(i).padStart(2, '0')}`, 1 - i / 20));
    const { ports, payees } = portsWith([[...many, local]]);
    ports.execute = answersAs('vecadd');
    await runTask(components(ports), ESCROW_PATH, request('vecadd', 8), signal());
    expect(payees[0]).toHaveLength(ESCROW_MAX_PAYEES);
    expect(payees[0][0]).toBe('node-a');
    expect(payees[0]).not.toContain('node-00');
    expect(payees[0]).toContain('node-19');
  });

  it('dispatches only to payees: a provider that appeared after the reserve is never sent the task', async () => {
    const late = remote('node-late', 0, 1);
    const { ports, calls } = portsWith([
      [local, remote('node-b', 0.9, 50)],
      [late, local, remote('node-b', 0.9, 50)],
    ]);
    const sentTo: string[] = [];
    const answer = answersAs('vecadd');
    ports.execute = async (cand, task) => {
      sentTo.push(cand.nodeId);
      if (cand.local) throw new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, 'busy', true);
      return answer(cand, task);
    };
    const out = await runTask(components(ports), ESCROW_PATH, request('vecadd', 8), signal());
    expect(sentTo).toEqual(['node-a', 'node-b']);
    expect(out.providerId).toBe('node-b');
    expect(calls).toContain('settle t1 node-b 1');
  });

  it("runs the task here when the chain cannot pledge it to other nodes (a new node's locked grant), naming only the local payee", async () => {
    const { ports, calls, payees } = portsWith([[remote('node-b', 0, 1), local]]);
    const reserve = ports.reserve;
    // As credit-svc with a new node's chain: an escrow that may pay another node is refused, one that cannot is fine.
    ports.reserve = async (id, account, amount, expiresAtMs, names) => {
      if (names.some((n) => n !== 'node-a')) {
        payees.push(names);
        throw new SwarmError(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT, "this node's chain can pay other nodes 98 more", false);
      }
      await reserve(id, account, amount, expiresAtMs, names);
    };
    const sentTo: string[] = [];
    const answer = answersAs('vecadd');
    ports.execute = async (cand, task) => {
      sentTo.push(cand.nodeId);
      return answer(cand, task);
    };
    const out = await runTask(components(ports), ESCROW_PATH, request('vecadd', 8), signal());
    expect(payees).toEqual([['node-b', 'node-a'], ['node-a']]);
    expect(sentTo).toEqual(['node-a']);
    expect(out).toMatchObject({ providerId: 'node-a', cost: 1n, placementNote: LOCAL_ONLY_NOTE });
    expect(calls).toEqual([`reserve t1 payer 1 until ${EXPIRES}`, 'settle t1 node-a 1']);
  });

  it('keeps the refusal when the chain cannot pledge it and no local executor runs the skill, or the ledger itself is short', async () => {
    const { ports, calls, payees } = portsWith([[remote('node-b'), remote('node-c')]]);
    ports.reserve = async (_id, _account, _amount, _expiresAtMs, names) => {
      payees.push(names);
      throw new SwarmError(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT, 'short', false);
    };
    const err = await runTask(components(ports), ESCROW_PATH, request('vecadd', 8), signal()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT });
    // Reserved once: with no executor here, there is nothing to fall back to.
    expect(payees).toEqual([['node-b', 'node-c']]);
    expect(calls).toEqual([]);
    // With one here, tried once more naming it alone; a ledger that is short refuses that too.
    const again = portsWith([[remote('node-b'), local]]);
    again.ports.reserve = ports.reserve;
    payees.length = 0;
    await expect(runTask(components(again.ports), ESCROW_PATH, request('vecadd', 8), signal())).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT });
    expect(payees).toEqual([['node-b', 'node-a'], ['node-a']]);
  });

  it('fails with NO_PROVIDER, and refunds, when no provider known later is among the payees', async () => {
    const { ports, calls } = portsWith([[local], [remote('node-new')]]);
    ports.execute = async () => {
      throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'executors gone', true);
    };
    const err = await runTask(components(ports), ESCROW_PATH, request('vecadd', 8), signal()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_NO_PROVIDER, message: expect.stringMatching(/among the 1 this task's escrow can pay/) });
    expect(calls.at(-1)).toBe('refund t1');
  });

  it('reserves with no payees when the lookup fails, then fails with the lookup’s error and refunds', async () => {
    const { ports, calls, payees } = portsWith([[]]);
    ports.findProviders = async () => {
      throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'registry-svc did not answer', true);
    };
    await expect(runTask(components(ports), ESCROW_PATH, request('vecadd', 8), signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAVAILABLE,
      message: 'registry-svc did not answer',
    });
    expect(payees).toEqual([[]]);
    expect(calls).toEqual([`reserve t1 payer 1 until ${EXPIRES}`, 'refund t1']);
  });

  it('re-dispatches to a remote candidate after the local one fails, verifies its result and pays the remote node', async () => {
    const { ports, calls } = portsWith([[local, remote('node-b')]]);
    const answer = answersAs('vecadd');
    const asked: Array<{ to: string; timeoutMs: number }> = [];
    ports.execute = async (cand, task) => {
      asked.push({ to: cand.nodeId, timeoutMs: task.timeoutMs });
      if (cand.local) throw new SwarmError(ErrorCode.ERROR_CODE_EXECUTION_FAILED, 'kernel crashed', true);
      return answer(cand, task);
    };
    const reports: AttemptReport[] = [];
    const out = await runTask({ ...components(ports), observer: { onAttempt: (r) => void reports.push(r) } }, ESCROW_PATH, request('vecadd', 8), signal());
    expect(asked.map((a) => a.to)).toEqual(['node-a', 'node-b']);
    expect(reports.map((r) => `${r.candidate.nodeId} ${r.outcome}`)).toEqual(['node-a failed', 'node-b ok']);
    expect(out).toMatchObject({ providerId: 'node-b', settlement: 'paid', cost: 1n, verification: expect.any(String) });
    expect(out.attempts.map((a) => `${a.providerId} ${a.outcome}`)).toEqual(['node-a failed', 'node-b verified']);
    expect(calls).toContain('settle t1 node-b 1');
  });

  it('still verifies a remote result itself: a wrong one is rejected and the next candidate is paid', async () => {
    const { ports, calls } = portsWith([[remote('node-b', 0.1), remote('node-c', 0.5)]]);
    const answer = answersAs('vecadd');
    ports.execute = async (cand, task) => {
      const r = await answer(cand, task);
      return cand.nodeId === 'node-b' ? corrupt(r) : r;
    };
    const out = await runTask(components(ports), ESCROW_PATH, request('vecadd', 8), signal());
    expect(out.attempts.map((a) => `${a.providerId} ${a.outcome}`)).toEqual(['node-b rejected', 'node-c verified']);
    expect(calls.filter((c) => c.startsWith('settle'))).toEqual(['settle t1 node-c 1']);
  });

  it('counts a result refused for its signature (VERIFICATION_FAILED from the port) as rejected, and moves on', async () => {
    const { ports } = portsWith([[remote('node-b', 0.1), remote('node-c', 0.5)]]);
    const answer = answersAs('vecadd');
    ports.execute = async (cand, task) => {
      if (cand.nodeId === 'node-b') throw new SwarmError(ErrorCode.ERROR_CODE_VERIFICATION_FAILED, 'signed result refused (bad-signature): …');
      return answer(cand, task);
    };
    const reports: AttemptReport[] = [];
    const out = await runTask({ ...components(ports), observer: { onAttempt: (r) => void reports.push(r) } }, ESCROW_PATH, request('vecadd', 8), signal());
    expect(reports.map((r) => `${r.candidate.nodeId} ${r.outcome}`)).toEqual(['node-b rejected-by-verification', 'node-c ok']);
    expect(out.attempts.map((a) => `${a.providerId} ${a.outcome}`)).toEqual(['node-b rejected', 'node-c verified']);
  });

  it('re-dispatches within the deadline: a remote attempt that times out leaves the rest of the time to the next one', async () => {
    const clock = manualClock(START_MS);
    const { ports } = portsWith([[remote('node-b', 0.1), remote('node-c', 0.5)]]);
    const answer = answersAs('vecadd');
    const asked: number[] = [];
    ports.execute = async (cand, task) => {
      asked.push(task.timeoutMs);
      if (cand.nodeId === 'node-b') {
        clock.advance(task.timeoutMs);
        throw new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'peer did not answer in time', true);
      }
      return answer(cand, task);
    };
    const limits = { ...ESCROW_PATH, attemptMinMs: 2_000 };
    const out = await runTask({ ports, clock, random: seededRandom(1), sleep: advancing(clock) }, limits, request('vecadd', 8), signal());
    expect(out.providerId).toBe('node-c');
    expect(asked[0]).toBe(attemptTimeoutMs(8, limits));
    expect(clock.now()).toBeLessThan(START_MS + 10_000);
  });
});
