import type { Tensor } from '@swarm/contracts';
import { ErrorCode, fromTensor, SwarmError, toTensor } from '@swarm/contracts';
import type { ManualClock } from '@swarm/determinism';
import { manualClock, seededRandom } from '@swarm/determinism';
import type { AttemptReport, CandidateSelector } from '@swarm/scoring';
import { demoInputs, getSkill, orderedMatmul, priceOf } from '@swarm/skills';
import type { SummationOrder } from '@swarm/skills';
import type { Verdict } from '@swarm/skills';
import fc from 'fast-check';
import type { RouterComponents } from './run-task';
import { DEFAULT_ROUTER_LIMITS, runTask } from './run-task';
import type { ExecutionResult, Payout, ResultVerifier, TaskPorts, TaskRequest } from './task-types';

const START_MS = 1_000;
const DEADLINE_MS = START_MS + 10_000;

/** How a provider answers: a verdict the test controls through the output values (see `verifier`). */
type Behaviour = 'honest' | 'tampered' | 'unproven' | 'disagrees' | 'fails' | 'refuses' | 'late';

/**
 * In-memory ledger and providers. Results are honest matmuls, or marked: `tampered` (c[1] + 1000,
 * which `verifier` rejects) or `disagrees` (c[0] + 10 per provider, which `verifier` accepts: a
 * wrong result that slipped through a probabilistic check, which only agreement can catch).
 */
function swarm(providers: readonly string[], behaviour: (nodeId: string) => Behaviour, clock: ManualClock) {
  const calls: string[] = [];
  const ledger = { reserved: 0n, payees: [] as readonly string[], closes: 0, paid: 0n, refunded: 0n, payouts: [] as Payout[] };
  const ports: TaskPorts = {
    reserve: async (id, _account, amount, _expires, payees) => {
      calls.push(`reserve ${id} ${amount} [${payees.join(',')}]`);
      ledger.reserved = amount;
      ledger.payees = payees;
    },
    settle: async (id, payouts) => {
      calls.push(`settle ${id} ${payouts.map((p) => `${p.payee}:${p.amount}`).join(' ')}`);
      const paid = payouts.reduce((s, p) => s + p.amount, 0n);
      Object.assign(ledger, { closes: ledger.closes + 1, paid, refunded: ledger.reserved - paid, payouts: [...payouts] });
      return { paid, refunded: ledger.reserved - paid };
    },
    refund: async (id) => {
      calls.push(`refund ${id}`);
      Object.assign(ledger, { closes: ledger.closes + 1, refunded: ledger.reserved });
      return { refunded: ledger.reserved };
    },
    charge: async (id) => {
      throw new Error(`a multi-provider task charged ${id}`);
    },
    escrow: async () => ({ state: 'open', payer: 'payer', paid: 0n, refunded: 0n, payee: '', expiresAtMs: 0 }),
    findProviders: async () => providers.map((nodeId, i) => ({ nodeId, local: i === 0 })),
    execute: async (candidate, task) => {
      calls.push(`execute ${candidate.nodeId}`);
      const how = behaviour(candidate.nodeId);
      if (how === 'fails') throw new SwarmError(ErrorCode.ERROR_CODE_EXECUTION_FAILED, `${candidate.nodeId} crashed`, true);
      if (how === 'refuses') throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'bad shapes');
      if (how === 'late') {
        // After the others have answered (their fake work resolves within this turn).
        await new Promise((resolve) => setImmediate(resolve));
        clock.advance(DEADLINE_MS - clock.now() + 1);
      }
      return marked(result(task.inputs, candidate.nodeId), how, providers.indexOf(candidate.nodeId));
    },
  };
  return { ports, calls, ledger };
}

function result(inputs: Tensor[], providerId: string): ExecutionResult {
  const outputs = getSkill('matmul')
    .reference(inputs.map(fromTensor))
    .map((t) => toTensor(t.name, t.shape, t.data));
  return { outputs, providerId, executorId: `exec-${providerId}`, backend: 'cpu' };
}

function marked(r: ExecutionResult, how: Behaviour, index: number): ExecutionResult {
  if (how !== 'tampered' && how !== 'unproven' && how !== 'disagrees') return r;
  const c = fromTensor(r.outputs[0]);
  const data = Float32Array.from(c.data);
  if (how === 'tampered') data[1] += 1000;
  else if (how === 'unproven') data[1] += 10;
  else data[0] += 10 * (index + 1);
  return { ...r, outputs: [toTensor(c.name, c.shape, data)] };
}

/** Accepts every result but a tampered one (c[1] off by 1000): see `swarm`. */
function verifier(): ResultVerifier {
  return {
    async verify(skill, inputs, outputs): Promise<Verdict> {
      const honest = getSkill(skill).reference(inputs)[0].data;
      const c = fromTensor(outputs[0]).data;
      // Refuted far off (`tampered`), not when a little (`unproven`).
      const off = Math.abs(c[1] - honest[1]);
      return off < 1 ? { ok: true, refuted: false, method: 'test', detail: 'accepted' } : { ok: false, refuted: off >= 100, method: 'test', detail: 'c[1] is off' };
    },
  };
}

/** Picks the first candidate offered: which providers run the replicas is then the test's choice. */
const inOrder: CandidateSelector = { select: (_task, candidates) => candidates[0] };

function components(ports: TaskPorts, clock: ManualClock, reports: AttemptReport[] = []): RouterComponents {
  return {
    ports,
    clock,
    random: seededRandom(1),
    sleep: async (ms) => clock.advance(ms),
    verifier: verifier(),
    selector: inOrder,
    observer: { onAttempt: (r) => void reports.push(r) },
  };
}

const SIZE = 128;
const inputs = demoInputs('matmul', SIZE, seededRandom(7));
const PRICE = priceOf('matmul', inputs.map(fromTensor));

function request(redundancy: number, budget = PRICE * BigInt(Math.max(1, redundancy)) + 3n): TaskRequest {
  return { taskId: 't1', skill: 'matmul', inputs, budget, deadlineMs: DEADLINE_MS, account: 'payer', redundancy };
}

const signal = () => new AbortController().signal;
const NODES = ['node-a', 'node-b', 'node-c', 'node-d', 'node-e', 'node-f'];

describe('pipeline - redundant tasks', () => {
  it('runs K = 3 on three providers and pays each of them the price, one settle, the rest refunded', async () => {
    expect(PRICE).toBeGreaterThan(1n);
    const clock = manualClock(START_MS);
    const reports: AttemptReport[] = [];
    const { ports, calls, ledger } = swarm(NODES.slice(0, 3), () => 'honest', clock);
    const out = await runTask(components(ports, clock, reports), DEFAULT_ROUTER_LIMITS, request(3), signal());
    expect(calls.filter((c) => !c.startsWith('execute'))).toEqual([
      `reserve t1 ${PRICE * 3n + 3n} [node-a,node-b,node-c]`,
      `settle t1 node-a:${PRICE} node-b:${PRICE} node-c:${PRICE}`,
    ]);
    expect(out).toMatchObject({ settlement: 'paid', cost: 3n * PRICE, refunded: 3n, providerId: 'node-a', executorId: 'exec-node-a', verification: 'test; 3 of 3 replicas agree' });
    expect(out.contributions.map((c) => [c.providerId, c.counted, c.paid, c.note])).toEqual(NODES.slice(0, 3).map((n) => [n, true, PRICE, '']));
    for (const c of out.contributions) expect(c.share).toBeCloseTo(1 / 3, 12);
    expect(ledger.closes).toBe(1);
    expect(reports.map((r) => [r.candidate.nodeId, r.outcome])).toEqual(NODES.slice(0, 3).map((n) => [n, 'ok']));
    expect(out.outputs).toEqual(result(inputs, 'node-a').outputs);
  });

  it('gives the first replica to a proven provider when there is one: identities never verified fill at most K − 1 slots', async () => {
    const clock = manualClock(START_MS);
    const { ports, calls } = swarm(NODES, () => 'honest', clock);
    // In the order offered the five unproven nodes would take all three slots; node-f is proven.
    const selector: CandidateSelector = { ...inOrder, isProven: (c) => c.nodeId === 'node-f' };
    await runTask({ ...components(ports, clock), selector }, DEFAULT_ROUTER_LIMITS, request(3), signal());
    expect(calls.filter((c) => c.startsWith('execute')).map((c) => c.split(' ')[1])).toEqual(['node-f', 'node-a', 'node-b']);
  });

  it('replaces a replica whose result fails verification with a provider not yet used, and pays it nothing', async () => {
    const clock = manualClock(START_MS);
    const reports: AttemptReport[] = [];
    const { ports, calls, ledger } = swarm(NODES.slice(0, 4), (n) => (n === 'node-b' ? 'tampered' : 'honest'), clock);
    const out = await runTask(components(ports, clock, reports), DEFAULT_ROUTER_LIMITS, request(3), signal());
    expect(calls.filter((c) => c.startsWith('execute'))).toEqual(['execute node-a', 'execute node-b', 'execute node-c', 'execute node-d']);
    expect(ledger.payouts).toEqual([
      { payee: 'node-a', amount: PRICE },
      { payee: 'node-c', amount: PRICE },
      { payee: 'node-d', amount: PRICE },
    ]);
    const b = out.contributions.find((c) => c.providerId === 'node-b');
    expect(b).toMatchObject({ counted: false, paid: 0n, share: 0, note: expect.stringMatching(/^failed test: c\[1\] is off/) });
    expect(reports.find((r) => r.candidate.nodeId === 'node-b')).toMatchObject({ outcome: 'rejected-by-verification', errorCode: ErrorCode.ERROR_CODE_VERIFICATION_FAILED });
    expect(out.attempts.map((a) => `${a.providerId} ${a.outcome}`)).toEqual(['node-a verified', 'node-b rejected', 'node-c verified', 'node-d verified']);
  });

  it('reports a replica that failed verification without proof as a failure, not a rejection, and pays it nothing', async () => {
    const clock = manualClock(START_MS);
    const reports: AttemptReport[] = [];
    const { ports, ledger } = swarm(NODES.slice(0, 4), (n) => (n === 'node-b' ? 'unproven' : 'honest'), clock);
    const out = await runTask(components(ports, clock, reports), DEFAULT_ROUTER_LIMITS, request(3), signal());
    expect(reports.find((r) => r.candidate.nodeId === 'node-b')).toMatchObject({ outcome: 'failed', errorCode: ErrorCode.ERROR_CODE_VERIFICATION_FAILED });
    // The task's own record says the same as the trust book: failed, not rejected.
    expect(out.attempts.find((a) => a.providerId === 'node-b')).toMatchObject({ outcome: 'failed' });
    expect(ledger.payouts.map((p) => p.payee)).toEqual(['node-a', 'node-c', 'node-d']);
  });

  it("sends no replacement to a provider known to be out of reach (the lookup says NO_PROVIDER), and one to the escrow's providers when the lookup fails otherwise", async () => {
    for (const [failure, replaced] of [
      [new SwarmError(ErrorCode.ERROR_CODE_NO_PROVIDER, 'every provider known is out of reach (test)', true), false],
      [new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no registry-svc is serving (test)', true), true],
    ] as const) {
      const clock = manualClock(START_MS);
      const { ports, calls } = swarm(NODES.slice(0, 4), (n) => (n === 'node-b' ? 'tampered' : 'honest'), clock);
      const first = ports.findProviders;
      let lookups = 0;
      ports.findProviders = async (skill, sig) => {
        lookups += 1;
        if (lookups > 1) throw failure;
        return first(skill, sig);
      };
      await runTask(components(ports, clock), DEFAULT_ROUTER_LIMITS, request(3), signal()).catch(() => undefined);
      expect({ code: failure.code, executes: calls.filter((c) => c.startsWith('execute')) }).toEqual({
        code: failure.code,
        executes: ['execute node-a', 'execute node-b', 'execute node-c', ...(replaced ? ['execute node-d'] : [])],
      });
    }
  });

  it('blames nobody for a disagreement the referee cannot settle (inputs crafted to part two honest summation orders): the outvoted replica is unjudged and unpaid', async () => {
    // Rows of a [1, s, s, …] and b's column 0 [1, s, s, …], s² just under half an ulp of 1: summed
    // in order the small terms are lost; pairwise or reversed they count (agreement.spec.ts).
    const [n, k, m] = [4, 1_000, 32];
    const s = Math.fround(Math.sqrt(0.999 * 2 ** -24));
    const a = new Float32Array(n * k).map((_, at) => (at % k === 0 ? 1 : s));
    const b = new Float32Array(k * m).map((_, at) => (at % m === 0 ? (at === 0 ? 1 : s) : at < m ? 1_000 : 0));
    const crafted = [toTensor('a', [n, k], a), toTensor('b', [k, m], b)];
    const orders: Record<string, SummationOrder> = { 'node-a': 'ijk', 'node-b': 'pairwise', 'node-c': 'reversed' };
    const clock = manualClock(START_MS);
    const reports: AttemptReport[] = [];
    const { ports, ledger } = swarm(NODES.slice(0, 3), () => 'honest', clock);
    ports.execute = async (candidate) => ({
      outputs: [toTensor('c', [n, m], orderedMatmul(a, b, { n, k, m }, orders[candidate.nodeId]))],
      providerId: candidate.nodeId,
      executorId: `exec-${candidate.nodeId}`,
      backend: 'cpu',
    });
    const price = priceOf('matmul', crafted.map(fromTensor));
    const req: TaskRequest = { taskId: 't1', skill: 'matmul', inputs: crafted, budget: 3n * price, deadlineMs: DEADLINE_MS, account: 'payer', redundancy: 3 };
    const out = await runTask(components(ports, clock, reports), DEFAULT_ROUTER_LIMITS, req, signal());
    expect(ledger.payouts.map((p) => p.payee)).toEqual(['node-b', 'node-c']);
    expect(reports.map((r) => [r.candidate.nodeId, r.outcome])).toEqual([
      ['node-a', 'unjudged'],
      ['node-b', 'ok'],
      ['node-c', 'ok'],
    ]);
    expect(out.attempts.find((x) => x.providerId === 'node-a')).toMatchObject({ outcome: 'failed', detail: expect.stringMatching(/^disagreed with the result returned/) });
  });

  it('lists a replica that returned no result among the contributions, unpaid, and says so in the verification', async () => {
    const clock = manualClock(START_MS);
    const { ports, ledger } = swarm(NODES.slice(0, 3), (n) => (n === 'node-b' ? 'fails' : 'honest'), clock);
    const out = await runTask(components(ports, clock), DEFAULT_ROUTER_LIMITS, request(3), signal());
    expect(out.verification).toBe('test; 2 of 2 replicas agree; 1 more asked returned no result');
    expect(out.contributions.map((c) => [c.providerId, c.counted, c.paid])).toEqual([
      ['node-a', true, PRICE],
      ['node-c', true, PRICE],
      ['node-b', false, 0n],
    ]);
    expect(out.contributions[2]).toMatchObject({ executorId: '', share: 0, note: 'no result (SWARM_EXECUTION_FAILED)', executeMs: 0 });
    expect(ledger.payouts.map((p) => p.payee)).toEqual(['node-a', 'node-c']);
  });

  it("verifies each replica with the skill's own check when no verifier is injected", async () => {
    const clock = manualClock(START_MS);
    const { ports, ledger } = swarm(NODES.slice(0, 3), (n) => (n === 'node-b' ? 'tampered' : 'honest'), clock);
    const out = await runTask({ ...components(ports, clock), verifier: undefined }, DEFAULT_ROUTER_LIMITS, request(3), signal());
    expect(out.verification).toBe('freivalds; 2 of 3 replicas agree');
    expect(out.contributions.find((c) => c.providerId === 'node-b')).toMatchObject({ counted: false, note: expect.stringMatching(/^failed freivalds/) });
    expect(ledger.payouts.map((p) => p.payee)).toEqual(['node-a', 'node-c']);
  });

  it('pays only the agreeing two when the wrong replica cannot be replaced (pool = 2 × price)', async () => {
    const clock = manualClock(START_MS);
    const { ports, ledger } = swarm(NODES.slice(0, 3), (n) => (n === 'node-c' ? 'tampered' : 'honest'), clock);
    const out = await runTask(components(ports, clock), DEFAULT_ROUTER_LIMITS, request(3), signal());
    expect(out).toMatchObject({ cost: 2n * PRICE, refunded: PRICE + 3n });
    expect(ledger.payouts.map((p) => p.payee)).toEqual(['node-a', 'node-b']);
  });

  it('pays nothing to a verified replica that disagrees with the result returned, and tells the observer it was wrong', async () => {
    const clock = manualClock(START_MS);
    const reports: AttemptReport[] = [];
    const { ports, ledger } = swarm(NODES.slice(0, 3), (n) => (n === 'node-b' ? 'disagrees' : 'honest'), clock);
    const out = await runTask(components(ports, clock, reports), DEFAULT_ROUTER_LIMITS, request(3), signal());
    expect(out.providerId).toBe('node-a');
    expect(ledger.payouts.map((p) => p.payee)).toEqual(['node-a', 'node-c']);
    expect(out.contributions.find((c) => c.providerId === 'node-b')).toMatchObject({
      counted: false,
      paid: 0n,
      note: expect.stringMatching(/^refuted by recomputing the disputed rows exactly: c\[0,0\] is .* from the exact /),
    });
    expect(reports.find((r) => r.candidate.nodeId === 'node-b')).toMatchObject({ outcome: 'rejected-by-verification' });
  });

  it('refuses before reserving anything when fewer than K distinct nodes provide the skill', async () => {
    const clock = manualClock(START_MS);
    const { ports, calls } = swarm(['node-a', 'node-b'], () => 'honest', clock);
    // Several executors of one node are one provider.
    ports.findProviders = async () => [
      { nodeId: 'node-a', local: true },
      { nodeId: 'node-a', local: true },
      { nodeId: 'node-b', local: false },
    ];
    await expect(runTask(components(ports, clock), DEFAULT_ROUTER_LIMITS, request(3), signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_NO_PROVIDER,
      message: expect.stringMatching(/redundancy 3 needs 3 different provider nodes of matmul; the registry found 2 .*nothing was reserved/),
    });
    expect(calls).toEqual([]);
  });

  it('refunds and fails with VERIFICATION_FAILED when the replicas disagree', async () => {
    const clock = manualClock(START_MS);
    const { ports, calls, ledger } = swarm(NODES.slice(0, 2), () => 'disagrees', clock);
    await expect(runTask(components(ports, clock), DEFAULT_ROUTER_LIMITS, request(2), signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_VERIFICATION_FAILED,
      retryable: true,
      message: expect.stringMatching(/^replicas disagreed: 2 results passed verification .*nothing was paid/),
    });
    expect(calls.at(-1)).toBe('refund t1');
    expect(ledger).toMatchObject({ closes: 1, paid: 0n });
  });

  it('refunds when only one verified result remains, keeping the failure code of the others', async () => {
    const clock = manualClock(START_MS);
    const reports: AttemptReport[] = [];
    const { ports, calls } = swarm(NODES.slice(0, 2), (n) => (n === 'node-b' ? 'fails' : 'honest'), clock);
    const err = await runTask(components(ports, clock, reports), DEFAULT_ROUTER_LIMITS, request(2), signal()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_VERIFICATION_FAILED, message: expect.stringMatching(/^only one verified result of 2 replicas.*node-b crashed/) });
    expect(calls.filter((c) => !c.startsWith('execute'))).toEqual([`reserve t1 ${PRICE * 2n + 3n} [node-a,node-b]`, 'refund t1']);
    // The lone verified result is credited as a single provider's would be; the failing node is not.
    expect(reports.map((r) => [r.candidate.nodeId, r.outcome])).toEqual([
      ['node-b', 'failed'],
      ['node-a', 'ok'],
    ]);
  });

  it('does not count a result that arrives after the deadline', async () => {
    const clock = manualClock(START_MS);
    const { ports } = swarm(NODES.slice(0, 3), (n) => (n === 'node-c' ? 'late' : 'honest'), clock);
    const out = await runTask(components(ports, clock), DEFAULT_ROUTER_LIMITS, request(3), signal());
    expect(out.contributions.map((c) => [c.providerId, c.counted, c.note])).toEqual([
      ['node-a', true, ''],
      ['node-b', true, ''],
      ['node-c', false, 'its result came after the task deadline'],
    ]);
  });

  it('refuses a budget below K × price, and redundancy outside 2..5, before reserving', async () => {
    const clock = manualClock(START_MS);
    const { ports, calls } = swarm(NODES, () => 'honest', clock);
    const c = components(ports, clock);
    await expect(runTask(c, DEFAULT_ROUTER_LIMITS, request(3, 3n * PRICE - 1n), signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_BUDGET_TOO_LOW,
      message: expect.stringMatching(new RegExp(`costs ${PRICE} credits per replica, ${3n * PRICE} for 3 replicas; the budget is ${3n * PRICE - 1n}`)),
    });
    for (const k of [6, 100, 2.5, -1]) {
      await expect(runTask(c, DEFAULT_ROUTER_LIMITS, request(k, 100n * PRICE), signal())).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
        message: /redundancy must be/,
      });
    }
    expect(calls).toEqual([]);
  });

  it('runs redundancy 0 and 1 on one provider, as before', async () => {
    for (const k of [0, 1]) {
      const clock = manualClock(START_MS);
      const { ports, calls } = swarm(NODES.slice(0, 3), () => 'honest', clock);
      const out = await runTask(components(ports, clock), DEFAULT_ROUTER_LIMITS, request(k), signal());
      expect(calls.filter((x) => x.startsWith('execute') || x.startsWith('settle'))).toEqual(['execute node-a', `settle t1 node-a:${PRICE}`]);
      expect(out.contributions).toEqual([]);
    }
  });

  it('keeps the code of an error every provider would repeat (the task itself is at fault)', async () => {
    const clock = manualClock(START_MS);
    const { ports, calls } = swarm(NODES.slice(0, 3), () => 'refuses', clock);
    await expect(runTask(components(ports, clock), DEFAULT_ROUTER_LIMITS, request(2), signal())).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
    // No replacement after a non-retryable error.
    expect(calls.filter((c) => c.startsWith('execute'))).toHaveLength(2);
    expect(calls.at(-1)).toBe('refund t1');
  });

  it('refunds with the stop reason when the router stops mid-task', async () => {
    const clock = manualClock(START_MS);
    const stop = new AbortController();
    const { ports, calls } = swarm(NODES.slice(0, 2), () => 'honest', clock);
    const live = ports.execute;
    ports.execute = async (...args) => {
      stop.abort(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'router-svc is stopping', true));
      return live(...args);
    };
    await expect(runTask(components(ports, clock), DEFAULT_ROUTER_LIMITS, request(2), stop.signal)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
    expect(calls.at(-1)).toBe('refund t1');
  });
});

describe('pipeline - redundant tasks, properties', () => {
  const BEHAVIOURS: readonly Behaviour[] = ['honest', 'tampered', 'disagrees', 'fails', 'refuses', 'late'];
  const small = demoInputs('matmul', 16, seededRandom(3));
  const price = priceOf('matmul', small.map(fromTensor));

  it('closes the escrow exactly once; paid + refunded = reserved; payouts > 0, only to named payees, price each', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 0, max: 3 }),
        fc.array(fc.constantFrom(...BEHAVIOURS), { minLength: 8, maxLength: 8 }),
        fc.integer({ min: 0, max: 5 }),
        async (k, extra, behaviours, spare) => {
          const clock = manualClock(START_MS);
          const nodes = NODES.slice(0, Math.min(NODES.length, k + extra));
          const { ports, ledger } = swarm(nodes, (n) => behaviours[nodes.indexOf(n)], clock);
          const req: TaskRequest = {
            taskId: 't1',
            skill: 'matmul',
            inputs: small,
            budget: price * BigInt(k) + BigInt(spare),
            deadlineMs: DEADLINE_MS,
            account: 'payer',
            redundancy: k,
          };
          const outcome = await runTask(components(ports, clock), DEFAULT_ROUTER_LIMITS, req, signal()).catch((e: unknown) => e);
          if (nodes.length < k) {
            expect(outcome).toMatchObject({ code: ErrorCode.ERROR_CODE_NO_PROVIDER });
            expect(ledger.closes).toBe(0);
            return;
          }
          expect(ledger.closes).toBe(1);
          expect(ledger.paid + ledger.refunded).toBe(ledger.reserved);
          expect(new Set(ledger.payouts.map((p) => p.payee)).size).toBe(ledger.payouts.length);
          for (const p of ledger.payouts) {
            expect(p.amount).toBe(price);
            expect(ledger.payees).toContain(p.payee);
          }
          if (outcome instanceof Error) {
            expect(ledger.paid).toBe(0n);
            return;
          }
          const counted = (outcome as { contributions: Array<{ counted: boolean; providerId: string; paid: bigint }> }).contributions.filter((c) => c.counted);
          expect(counted.length).toBeGreaterThanOrEqual(2);
          expect(counted.map((c) => c.providerId)).toEqual(ledger.payouts.map((p) => p.payee));
          expect(ledger.paid).toBe(price * BigInt(counted.length));
        },
      ),
      { numRuns: 150, seed: 14 },
    );
  });
});
