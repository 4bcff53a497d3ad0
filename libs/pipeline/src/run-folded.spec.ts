import type { Tensor } from '@swarm/contracts';
import { ErrorCode, fromTensor, SwarmError, toTensor } from '@swarm/contracts';
import { manualClock, seededRandom } from '@swarm/determinism';
import type { Candidate } from '@swarm/scoring';
import { demoInputs, getSkill, priceOf } from '@swarm/skills';
import { createChargeGate } from './charge-gate';
import { DEFAULT_ROUTER_LIMITS, runTask, SETTLE_GRACE_MS, SETTLE_MARGIN_MS } from './run-task';
import type { ExecutionResult, TaskPorts, TaskRequest } from './task-types';
import { ChargeNotServed } from './task-types';

const START_MS = 1_000;
const DEADLINE_MS = START_MS + 10_000;
/** A keyed task's charge may commit until the escrow path's settle would stop retrying; an unkeyed one's until its deadline. */
const KEYED_NOT_AFTER_MS = DEADLINE_MS + SETTLE_GRACE_MS - SETTLE_MARGIN_MS;
const LOCAL: Candidate = { nodeId: 'node-a', local: true };
const signal = () => new AbortController().signal;

/** What moved, in order; `charge` answers what `charges` says (a result or a SwarmError), then succeeds. */
function ledgerPorts(answer: (inputs: Tensor[], attempt: number) => ExecutionResult, providers: Candidate[] = [LOCAL], charges: Array<SwarmError> = []) {
  const calls: string[] = [];
  let attempt = 0;
  const ports: TaskPorts = {
    reserve: async (id, account, amount, _expires, payees) => void calls.push(`reserve ${id} ${account} ${amount} for ${payees.join(',')}`),
    settle: async (id, payouts) => {
      calls.push(`settle ${id} ${payouts.map((p) => `${p.payee} ${p.amount}`).join(' ')}`);
      return { paid: payouts.reduce((sum, p) => sum + p.amount, 0n), refunded: 0n };
    },
    refund: async (id) => {
      calls.push(`refund ${id}`);
      return { refunded: 1n };
    },
    charge: async (id, account, amount, payouts, notAfterMs) => {
      calls.push(`charge ${id} ${account} ${amount} ${payouts.map((p) => `${p.payee} ${p.amount}`).join(' ')} until ${notAfterMs}`);
      const refusal = charges.shift();
      if (refusal) throw refusal;
      const paid = payouts.reduce((sum, p) => sum + p.amount, 0n);
      return { paid, refunded: amount - paid };
    },
    escrow: async (_id, afterWrites) => {
      calls.push(afterWrites ? 'escrow after writes' : 'escrow');
      return { state: 'none', payer: '', paid: 0n, refunded: 0n, payee: '', expiresAtMs: 0 };
    },
    findProviders: async () => providers,
    execute: async (candidate, task) => {
      calls.push(`execute on ${candidate.nodeId}`);
      return answer(task.inputs, attempt++);
    },
  };
  return { ports, calls };
}

function honest(skill: string, providerId = 'node-a') {
  return (inputs: Tensor[]): ExecutionResult => ({
    outputs: getSkill(skill)
      .reference(inputs.map(fromTensor))
      .map((t) => toTensor(t.name, t.shape, t.data)),
    providerId,
    executorId: 'exec-1',
    backend: 'cpu',
  });
}

function wrong(skill: string) {
  return (inputs: Tensor[]): ExecutionResult => {
    const r = honest(skill)(inputs);
    const d = fromTensor(r.outputs[0]);
    return {
      ...r,
      outputs: [
        toTensor(
          d.name,
          d.shape,
          d.data.map((x) => x + 1000),
        ),
      ],
    };
  };
}

function vecadd(size = 8, account = 'payer'): TaskRequest & { price: bigint } {
  const inputs = demoInputs('vecadd', size, seededRandom(7));
  const price = priceOf('vecadd', inputs.map(fromTensor));
  return { taskId: 't1', skill: 'vecadd', inputs, budget: price * 2n, deadlineMs: DEADLINE_MS, account, price };
}

function components(ports: TaskPorts) {
  const clock = manualClock(START_MS);
  return { ports, clock, random: seededRandom(1), sleep: async (ms: number) => clock.advance(ms), chargeGate: createChargeGate(clock, { holdMs: 60_000 }) };
}

describe('pipeline - the folded path (run on this node, then one charge)', () => {
  it('runs a small task on a local executor before anything is reserved, then charges the budget, pays the price and refunds the rest in one write', async () => {
    const { ports, calls } = ledgerPorts(honest('vecadd'));
    const task = vecadd();
    const out = await runTask(components(ports), DEFAULT_ROUTER_LIMITS, task, signal());
    expect(calls).toEqual(['execute on node-a', `charge t1 payer ${task.budget} node-a ${task.price} until ${DEADLINE_MS}`]);
    expect(out).toMatchObject({ settlement: 'paid', cost: task.price, refunded: task.budget - task.price, settlementUncertain: false, providerId: 'node-a' });
    expect(out.timing.escrowMs).toBe(0);
    expect(out.attempts.map((a) => a.outcome)).toEqual(['verified']);
    // A client with an idempotency key can ask later: its charge may commit past the deadline, as a settle.
    const keyed = ledgerPorts(honest('vecadd'));
    await runTask(components(keyed.ports), DEFAULT_ROUTER_LIMITS, { ...task, paysPastDeadline: true }, signal());
    expect(keyed.calls.at(-1)).toMatch(new RegExp(` until ${KEYED_NOT_AFTER_MS}$`));
  });

  it("folds no more of an account's tasks at once than its charges have earned: the rest take the escrow path", async () => {
    const { ports, calls } = ledgerPorts(honest('vecadd'));
    const c = components(ports);
    await Promise.all([1, 2, 3].map((i) => runTask(c, DEFAULT_ROUTER_LIMITS, { ...vecadd(), taskId: `t${i}` }, signal())));
    expect(calls.filter((x) => x.startsWith('charge'))).toHaveLength(1);
    expect(calls.filter((x) => x.startsWith('reserve'))).toHaveLength(2);
    // That charge paid: two may fold at once now.
    calls.length = 0;
    await Promise.all([4, 5, 6].map((i) => runTask(c, DEFAULT_ROUTER_LIMITS, { ...vecadd(), taskId: `t${i}` }, signal())));
    expect(calls.filter((x) => x.startsWith('charge'))).toHaveLength(2);
  });

  it('takes the escrow path when the selector chooses none of the local executors', async () => {
    const remote: Candidate = { nodeId: 'node-b', local: false };
    const { ports, calls } = ledgerPorts(honest('vecadd', 'node-b'), [LOCAL, remote]);
    const selector = { select: (_task: unknown, candidates: readonly Candidate[]) => candidates.find((cand) => !cand.local) };
    const out = await runTask({ ...components(ports), selector }, DEFAULT_ROUTER_LIMITS, vecadd(), signal());
    expect(calls[0]).toMatch(/^reserve t1 payer \d+ for node-a,node-b$/);
    expect(out).toMatchObject({ providerId: 'node-b', settlement: 'paid' });
  });

  it('keeps the escrow path for work above foldMaxWork, with only remote providers, and with the local executors saturated', async () => {
    const remote: Candidate = { nodeId: 'node-b', local: false };
    const cases: Array<{ limit: number; providers: Candidate[]; provider: string }> = [
      { limit: 7, providers: [LOCAL], provider: 'node-a' },
      { limit: DEFAULT_ROUTER_LIMITS.foldMaxWork, providers: [remote], provider: 'node-b' },
      { limit: DEFAULT_ROUTER_LIMITS.foldMaxWork, providers: [{ ...LOCAL, load: 1 }, remote], provider: 'node-b' },
    ];
    for (const { limit, providers, provider } of cases) {
      const { ports, calls } = ledgerPorts(honest('vecadd', provider), providers);
      const out = await runTask(components(ports), { ...DEFAULT_ROUTER_LIMITS, foldMaxWork: limit }, vecadd(8), signal());
      expect(calls[0]).toMatch(/^reserve t1 payer /);
      expect(calls.some((c) => c.startsWith('charge'))).toBe(false);
      expect(out.settlement).toBe('paid');
    }
  });

  it('fails a task whose charge is refused, handing out nothing, and holds the account to the escrow path for a while', async () => {
    const insufficient = new SwarmError(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT, 'account payer has 1 available, needs 8');
    const { ports, calls } = ledgerPorts(honest('vecadd'), [LOCAL], [insufficient]);
    const c = components(ports);
    await expect(runTask(c, DEFAULT_ROUTER_LIMITS, vecadd(), signal())).rejects.toBe(insufficient);
    expect(calls).toEqual(['execute on node-a', expect.stringMatching(/^charge t1 payer 2 node-a 1 /)]);
    // The next task of that account reserves first (refused there, before anything runs, when it still has no credit).
    calls.length = 0;
    await runTask(c, DEFAULT_ROUTER_LIMITS, vecadd(), signal());
    expect(calls[0]).toMatch(/^reserve t1 payer /);
    // Other accounts fold as before, and this one again once the hold has passed.
    calls.length = 0;
    await runTask(c, DEFAULT_ROUTER_LIMITS, vecadd(8, 'other'), signal());
    expect(calls[0]).toBe('execute on node-a');
    c.clock.advance(60_000);
    calls.length = 0;
    await runTask(c, DEFAULT_ROUTER_LIMITS, { ...vecadd(), deadlineMs: c.clock.now() + 10_000 }, signal());
    expect(calls[0]).toBe('execute on node-a');
  });

  it('pays through an escrow, at once, a result whose charge no ledger received (a credit-svc older than the charge), and keeps the account on the escrow path', async () => {
    const notServed = new ChargeNotServed('credit-svc serves no swarm.v1.credit.charge');
    const { ports, calls } = ledgerPorts(honest('vecadd'), [LOCAL], [notServed]);
    const c = components(ports);
    const task = vecadd();
    const out = await runTask(c, DEFAULT_ROUTER_LIMITS, task, signal());
    // One run, one charge that went nowhere, then a reserve naming the executor and a settle paying it.
    expect(calls).toEqual(['execute on node-a', expect.stringMatching(/^charge t1 payer /), `reserve t1 payer ${task.budget} for node-a`, `settle t1 node-a ${task.price}`]);
    expect(out).toMatchObject({ settlement: 'paid', cost: task.price, settlementUncertain: false, providerId: 'node-a' });
    expect(c.clock.now()).toBe(START_MS);
    expect(out.attempts.map((a) => a.outcome)).toEqual(['verified']);
    calls.length = 0;
    await runTask(c, DEFAULT_ROUTER_LIMITS, { ...vecadd(), taskId: 't2' }, signal());
    expect(calls[0]).toMatch(/^reserve t2 payer /);
  });

  it('charges nothing through the fallback escrow when the reserve comes after the deadline: refunded, DEADLINE_EXCEEDED', async () => {
    const notServed = new ChargeNotServed('credit-svc serves no swarm.v1.credit.charge');
    const { ports, calls } = ledgerPorts(honest('vecadd'), [LOCAL], [notServed]);
    const c = components(ports);
    // The reserve answers only after the task's deadline (a slow ledger).
    const reserve = ports.reserve;
    ports.reserve = async (...args) => {
      c.clock.advance(DEADLINE_MS + 1 - c.clock.now());
      return reserve(...args);
    };
    await expect(runTask(c, DEFAULT_ROUTER_LIMITS, vecadd(), signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
      message: expect.stringMatching(/after the task deadline; nothing was paid/),
      // The task's answer, not a lost reply: a client must not run it again by key.
      retryable: false,
    });
    expect(calls.slice(-2)).toEqual([expect.stringMatching(/^reserve t1 payer /), 'refund t1']);
    expect(calls.some((x) => x.startsWith('settle'))).toBe(false);
  });

  it('does not fall back to an escrow when an earlier try of the charge may have reached the ledger: it asks the ledger, as after any lost reply', async () => {
    const lost = new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'swarm.v1.credit.charge did not answer within 5000 ms', true);
    const notServed = new ChargeNotServed('credit-svc serves no swarm.v1.credit.charge');
    const { ports, calls } = ledgerPorts(honest('vecadd'), [LOCAL], [lost, notServed]);
    // The ledger, asked after the not-after time, holds no such escrow: final, so nothing is handed out.
    await expect(runTask(components(ports), DEFAULT_ROUTER_LIMITS, vecadd(), signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAVAILABLE,
      message: expect.stringMatching(/the charge failed 2 time\(s\).*nothing was paid/),
    });
    expect(calls.filter((x) => x.startsWith('reserve') || x.startsWith('settle'))).toEqual([]);
    expect(calls.at(-1)).toBe('escrow after writes');
  });

  it('goes on along the escrow path after a folded attempt whose result fails verification, that attempt counted', async () => {
    const { ports, calls } = ledgerPorts((inputs, attempt) => (attempt === 0 ? wrong('vecadd')(inputs) : honest('vecadd')(inputs)));
    const task = vecadd();
    const out = await runTask(components(ports), DEFAULT_ROUTER_LIMITS, task, signal());
    expect(calls).toEqual(['execute on node-a', `reserve t1 payer ${task.budget} for node-a`, 'execute on node-a', `settle t1 node-a ${task.price}`]);
    expect(out.attempts.map((a) => a.outcome)).toEqual(['rejected', 'verified']);
    // With one attempt allowed, the folded one was the task's only one.
    const once = ledgerPorts(wrong('vecadd'));
    await expect(runTask(components(once.ports), { ...DEFAULT_ROUTER_LIMITS, maxAttempts: 1 }, vecadd(), signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_VERIFICATION_FAILED,
    });
    expect(once.calls).toEqual(['execute on node-a']);
  });

  it('fails at once, with nothing reserved or charged, when the executor refuses the task outright', async () => {
    const { ports, calls } = ledgerPorts(() => {
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'bad');
    });
    await expect(runTask(components(ports), DEFAULT_ROUTER_LIMITS, vecadd(), signal())).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
    expect(calls).toEqual(['execute on node-a']);
  });

  it('charges nothing for a result verified after the deadline, and holds the account to the escrow path', async () => {
    const c = components(ledgerPorts(honest('vecadd')).ports);
    const calls: string[] = [];
    c.ports = {
      ...c.ports,
      execute: async (_candidate, task) => {
        calls.push('execute');
        c.clock.advance(10_001);
        return honest('vecadd')(task.inputs);
      },
      charge: async () => {
        throw new Error('a late result must not be charged');
      },
    };
    await expect(runTask(c, DEFAULT_ROUTER_LIMITS, vecadd(), signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
      message: expect.stringMatching(/nothing was reserved or paid/),
    });
    expect(calls).toEqual(['execute']);
    // A run that ended unpaid, for whatever reason, holds the account like a refused charge.
    const next = ledgerPorts(honest('vecadd'));
    c.ports = next.ports;
    await runTask(c, DEFAULT_ROUTER_LIMITS, { ...vecadd(), deadlineMs: c.clock.now() + 10_000 }, signal());
    expect(next.calls[0]).toMatch(/^reserve t1 payer /);
  });

  it("asks the ledger once an unkeyed task's not-after time (its deadline) has passed, though the deadline ends the retries at that very moment", async () => {
    const lost = () => new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'request timed out', true);
    const { ports, calls } = ledgerPorts(honest('vecadd'), [LOCAL], Array.from({ length: 100 }, lost));
    const clock = manualClock(START_MS);
    const deadline = new AbortController();
    // As the real ones do: the deadline signal fires at the deadline (not a ms after), and a timer may wake 1 ms early.
    const sleep = async (ms: number, stop?: AbortSignal) => {
      const until = clock.now() + Math.max(1, ms - 1);
      if (stop && until >= DEADLINE_MS) {
        clock.advance(Math.max(0, DEADLINE_MS - clock.now()));
        deadline.abort();
        return;
      }
      clock.advance(until - clock.now());
    };
    await expect(runTask({ ports, clock, random: seededRandom(1), sleep }, DEFAULT_ROUTER_LIMITS, vecadd(), signal(), deadline.signal)).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAVAILABLE,
    });
    expect(clock.now()).toBeGreaterThan(DEADLINE_MS);
    expect(calls.at(-1)).toBe('escrow after writes');
  });

  it('retries a charge whose reply was lost; when the ledger never answers, asks it once the not-after time has passed', async () => {
    const lost = () => new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'request timed out', true);
    const retried = ledgerPorts(honest('vecadd'), [LOCAL], [lost()]);
    const out = await runTask(components(retried.ports), DEFAULT_ROUTER_LIMITS, vecadd(), signal());
    expect(retried.calls.filter((c) => c.startsWith('charge'))).toHaveLength(2);
    expect(out).toMatchObject({ settlement: 'paid', settlementNote: expect.stringMatching(/charged after 1 failed attempt/) });

    // The ledger, asked in its write queue after the not-after time, has no such escrow: final.
    // Nothing was paid, so the result is not handed out (the escrow path would not have run it).
    const down = ledgerPorts(honest('vecadd'), [LOCAL], Array.from({ length: 100 }, lost));
    const c = components(down.ports);
    await expect(runTask(c, DEFAULT_ROUTER_LIMITS, vecadd(), signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAVAILABLE,
      retryable: true,
      message: expect.stringMatching(/nothing was paid, so the result is not handed out/),
    });
    expect(c.clock.now()).toBeGreaterThan(DEADLINE_MS);
    expect(down.calls.at(-1)).toBe('escrow after writes');

    // It shows the charge committed (its reply was lost): paid.
    const committed = ledgerPorts(honest('vecadd'), [LOCAL], Array.from({ length: 100 }, lost));
    committed.ports.escrow = async () => ({ state: 'settled', payer: 'payer', paid: 8n, refunded: 8n, payee: 'node-a', expiresAtMs: 0 });
    expect(await runTask(components(committed.ports), DEFAULT_ROUTER_LIMITS, vecadd(), signal())).toMatchObject({ settlement: 'paid', cost: 8n, settlementUncertain: false });

    // It cannot be asked: the outputs go back unpaid, marked uncertain.
    const dark = ledgerPorts(honest('vecadd'), [LOCAL], Array.from({ length: 100 }, lost));
    dark.ports.escrow = () => Promise.reject(lost());
    const unpaid = await runTask(components(dark.ports), DEFAULT_ROUTER_LIMITS, vecadd(), signal());
    expect(unpaid).toMatchObject({ settlement: 'refunded', cost: 0n, refunded: 0n, settlementUncertain: true });
    expect(unpaid.outputs).toHaveLength(1);
  });
});
