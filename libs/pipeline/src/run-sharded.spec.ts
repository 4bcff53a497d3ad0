import { getMaxListeners } from 'node:events';
import type { DenseTensor, Tensor } from '@swarm/contracts';
import { ErrorCode, fromTensor, SwarmError, toTensor } from '@swarm/contracts';
import type { ManualClock } from '@swarm/determinism';
import { manualClock, seededRandom } from '@swarm/determinism';
import type { AttemptReport, CandidateSelector } from '@swarm/scoring';
import { createDefaultSelector, createTrustBook, trustReader } from '@swarm/scoring';
import { getSkill, priceOf } from '@swarm/skills';
import type { Verdict } from '@swarm/skills';
import fc from 'fast-check';
import type { RouterComponents } from './run-task';
import { ATTEMPT_MIN_MS, DEFAULT_ROUTER_LIMITS, runTask } from './run-task';
import { LOCAL_ONLY_NOTE } from './settlement';
import type { ExecutionResult, Payout, ResultVerifier, TaskPorts, TaskRequest } from './task-types';

const START_MS = 1_000;
const DEADLINE_MS = START_MS + 60_000;

/**
 * How a provider answers one block: honest; `tampered` (c[0] + 1000, which `verifier` rejects);
 * `fails` (a retryable error); `refuses` (INVALID_ARGUMENT: the task itself is wrong); `slow` (its
 * attempt's time runs out: the clock moves on by that time and the port says DEADLINE_EXCEEDED);
 * `late` (its result comes after the task deadline); `hangs` (until the dispatch is aborted).
 */
type Behaviour = 'honest' | 'tampered' | 'unproven' | 'fails' | 'refuses' | 'slow' | 'late' | 'hangs';

function matrix(name: string, rows: number, cols: number, seed: number): DenseTensor {
  const random = seededRandom(seed);
  return { name, shape: [rows, cols], data: Float32Array.from({ length: rows * cols }, () => random() * 2 - 1) };
}

// 2·200·100·250 = 10M multiply-adds' flops: 10 credits, so four blocks of 50 rows earn 2.5 each.
const DENSE = [matrix('a', 200, 100, 1), matrix('b', 100, 250, 2)];
const inputs: Tensor[] = DENSE.map((t) => toTensor(t.name, t.shape, t.data));
const PRICE = priceOf('matmul', DENSE);
const PRODUCT = getSkill('matmul').reference(DENSE)[0].data;
/**
 * Where an output differs from PRODUCT (its length, or its first element that is not Object.is the
 * same, as toEqual compares numbers); undefined when it is PRODUCT. toEqual over the 50,000 floats
 * took most of this file's CPU (1.2 s of its 2.4 s).
 */
function differenceFromProduct(output: Tensor | undefined): { length: number } | { index: number; got: number; want: number } | undefined {
  const got = output === undefined ? new Float32Array(0) : fromTensor(output).data;
  if (got.length !== PRODUCT.length) return { length: got.length };
  for (let i = 0; i < got.length; i++) if (!Object.is(got[i], PRODUCT[i])) return { index: i, got: got[i], want: PRODUCT[i] };
  return undefined;
}

/**
 * The product of a block's inputs, computed once per distinct inputs (their shapes and a weighted sum
 * of their values): the property below dispatches the same few blocks hundreds of times, and the
 * fake provider and verifier would otherwise compute each one twice a dispatch. A copy each time.
 */
const products = new Map<string, Float32Array>();
function productOf(blockInputs: DenseTensor[]): DenseTensor {
  const key = blockInputs.map((t) => `${t.shape.join('x')}:${t.data.reduce((sum, v, i) => sum + v * (i + 1), 0)}`).join('|');
  let data = products.get(key);
  if (data === undefined) {
    data = getSkill('matmul').reference(blockInputs)[0].data;
    products.set(key, data);
  }
  return { name: 'c', shape: [blockInputs[0].shape[0], blockInputs[1].shape[1]], data: Float32Array.from(data) };
}

/** In-memory ledger and providers; `behaviour` sees the node and which block (by its first row). */
function swarm(providers: readonly string[], behaviour: (nodeId: string, firstRow: number) => Behaviour, clock: ManualClock) {
  const calls: string[] = [];
  const ledger = { reserved: 0n, payees: [] as readonly string[], closes: 0, paid: 0n, refunded: 0n, payouts: [] as Payout[] };
  const ports: TaskPorts = {
    reserve: async (id, _account, amount, _expires, payees) => {
      calls.push(`reserve ${id} ${amount} [${payees.join(',')}]`);
      Object.assign(ledger, { reserved: amount, payees });
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
    execute: async (candidate, task, signal) => {
      const [a] = task.inputs.map(fromTensor);
      const firstRow = rowOf(a);
      calls.push(`execute ${candidate.nodeId} rows ${firstRow}+${a.shape[0]} within ${task.timeoutMs}`);
      const how = behaviour(candidate.nodeId, firstRow);
      if (how === 'fails') throw new SwarmError(ErrorCode.ERROR_CODE_EXECUTION_FAILED, `${candidate.nodeId} crashed`, true);
      if (how === 'refuses') throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'bad shapes');
      if (how === 'slow') {
        clock.advance(task.timeoutMs);
        throw new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, `${candidate.nodeId} did not answer in ${task.timeoutMs} ms`, true);
      }
      if (how === 'hangs') {
        await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
        throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'aborted', true);
      }
      if (how === 'late') {
        // After the others have answered (their fake work resolves within this turn).
        await new Promise((resolve) => setImmediate(resolve));
        clock.advance(DEADLINE_MS - clock.now() + 1);
      }
      const c = productOf(task.inputs.map(fromTensor));
      if (how === 'tampered') c.data[0] += 1000;
      if (how === 'unproven') c.data[0] += 10;
      return { outputs: [toTensor(c.name, c.shape, c.data)], providerId: candidate.nodeId, executorId: `exec-${candidate.nodeId}`, backend: 'cpu' } satisfies ExecutionResult;
    },
  };
  return { ports, calls, ledger };
}

/** Which block a dispatched `a` is: its first row is found in the whole `a` (rows are distinct). */
function rowOf(a: DenseTensor): number {
  const k = a.shape[1];
  for (let r = 0; r < DENSE[0].shape[0]; r++) if (DENSE[0].data[r * k] === a.data[0] && DENSE[0].data[r * k + 1] === a.data[1]) return r;
  throw new Error('a block of rows that are not in a');
}

/** Accepts a block unless its c[0] is off: refuted far off (the `tampered` mark), not when a little (`unproven`). */
const verifier: ResultVerifier = {
  async verify(skill, blockInputs, outputs): Promise<Verdict> {
    if (skill !== 'matmul') throw new Error(`a ${skill} block`);
    const honest = productOf(blockInputs).data;
    const c = fromTensor(outputs[0]).data;
    const off = Math.abs(c[0] - honest[0]);
    return off < 1 ? { ok: true, refuted: false, method: 'test', detail: 'accepted' } : { ok: false, refuted: off >= 100, method: 'test', detail: 'c[0] is off' };
  },
};

/** The first candidate offered: which nodes run the blocks is then the test's choice. */
const inOrder: CandidateSelector = { select: (_task, candidates) => candidates[0] };

function components(ports: TaskPorts, clock: ManualClock, reports: AttemptReport[] = []): RouterComponents {
  return {
    ports,
    clock,
    random: seededRandom(1),
    sleep: async (ms) => clock.advance(ms),
    verifier,
    selector: inOrder,
    observer: { onAttempt: (r) => void reports.push(r) },
  };
}

function request(shards: number, extra: Partial<TaskRequest> = {}): TaskRequest {
  return { taskId: 't1', skill: 'matmul', inputs, budget: PRICE + 4n, deadlineMs: DEADLINE_MS, account: 'payer', shards, ...extra };
}

const signal = () => new AbortController().signal;
const NODES = ['node-a', 'node-b', 'node-c', 'node-d', 'node-e'];
const executes = (calls: readonly string[]) => calls.filter((c) => c.startsWith('execute')).map((c) => c.replace(/ within \d+$/, ''));

describe('pipeline - sharded matmul', () => {
  it('runs 4 row blocks on 4 nodes at once, reassembles a·b, and splits the price by work in one settle', async () => {
    expect(PRICE).toBe(10n);
    const clock = manualClock(START_MS);
    const reports: AttemptReport[] = [];
    const { ports, calls, ledger } = swarm(NODES.slice(0, 4), () => 'honest', clock);
    const out = await runTask(components(ports, clock, reports), DEFAULT_ROUTER_LIMITS, request(4), signal());
    expect(executes(calls)).toEqual(['execute node-a rows 0+50', 'execute node-b rows 50+50', 'execute node-c rows 100+50', 'execute node-d rows 150+50']);
    expect(calls.filter((c) => !c.startsWith('execute'))).toEqual([`reserve t1 ${PRICE + 4n} [node-a,node-b,node-c,node-d]`, 'settle t1 node-a:3 node-b:3 node-c:2 node-d:2']);
    expect(out).toMatchObject({ settlement: 'paid', cost: PRICE, refunded: 4n, verification: 'test; 4 of 4 row blocks verified, on 4 provider(s)', providerId: 'node-a' });
    expect(differenceFromProduct(out.outputs[0])).toBeUndefined();
    expect(fromTensor(out.outputs[0]).shape).toEqual([200, 250]);
    expect(out.shards.map((s) => [s.index, s.rowStart, s.rowEnd, s.providerId, s.attempts, s.share])).toEqual([
      [0, 0, 50, 'node-a', 1, 0.25],
      [1, 50, 100, 'node-b', 1, 0.25],
      [2, 100, 150, 'node-c', 1, 0.25],
      [3, 150, 200, 'node-d', 1, 0.25],
    ]);
    expect(out.contributions.map((c) => [c.providerId, c.counted, c.paid, c.share, c.note])).toEqual([
      ['node-a', true, 3n, 0.25, ''],
      ['node-b', true, 3n, 0.25, ''],
      ['node-c', true, 2n, 0.25, ''],
      ['node-d', true, 2n, 0.25, ''],
    ]);
    expect(ledger.closes).toBe(1);
    expect(reports.map((r) => [r.candidate.nodeId, r.outcome])).toEqual(NODES.slice(0, 4).map((n) => [n, 'ok']));
  });

  it('lets 16 blocks in flight listen on the task signal, as bus requests do, within its listener cap (past it node logs a MaxListenersExceededWarning)', async () => {
    const clock = manualClock(START_MS);
    const { ports } = swarm(
      Array.from({ length: 16 }, (_, i) => `node-${i}`),
      () => 'honest',
      clock,
    );
    let listening = 0;
    let mostListening = 0;
    let cap = Infinity;
    const listeningPorts: TaskPorts = {
      ...ports,
      execute: async (candidate, task, taskSignal) => {
        const onAbort = () => undefined;
        taskSignal.addEventListener('abort', onAbort);
        listening += 1;
        mostListening = Math.max(mostListening, listening);
        cap = Math.min(cap, getMaxListeners(taskSignal));
        try {
          await new Promise((resolve) => setImmediate(resolve));
          return await ports.execute(candidate, task, taskSignal);
        } finally {
          taskSignal.removeEventListener('abort', onAbort);
          listening -= 1;
        }
      },
    };
    const out = await runTask(components(listeningPorts, clock), DEFAULT_ROUTER_LIMITS, request(16), signal());
    expect(out.shards).toHaveLength(16);
    expect(mostListening).toBe(16);
    expect(mostListening).toBeLessThanOrEqual(cap);
  });

  it('gives a block that failed to a proven node before the nodes never verified that the selector would take first', async () => {
    const clock = manualClock(START_MS);
    // node-a fails its block; node-e and node-f (unproven, offered first) and node-b (proven) hold one each.
    const { ports, calls } = swarm(['node-a', 'node-e', 'node-f', 'node-b'], (n) => (n === 'node-a' ? 'tampered' : 'honest'), clock);
    const selector: CandidateSelector = { ...inOrder, isProven: (c) => c.nodeId === 'node-b' };
    const out = await runTask({ ...components(ports, clock), selector }, DEFAULT_ROUTER_LIMITS, request(4), signal());
    expect(out.settlement).toBe('paid');
    const nodes = executes(calls).map((c) => c.split(' ')[1]);
    // Four first dispatches, one per node; node-a's block then goes to node-b, not to an unproven node offered before it.
    expect(nodes.slice(0, 4).sort()).toEqual(['node-a', 'node-b', 'node-e', 'node-f']);
    expect(nodes.slice(4)).toEqual(['node-b']);
  });

  it('gives suspects (a result rejected lately) no block while another node can take one, however many blocks the others hold', async () => {
    const clock = manualClock(START_MS);
    const { ports, calls } = swarm(['node-a', 'node-b', 'node-e'], () => 'honest', clock);
    const suspecting: CandidateSelector = { ...inOrder, isSuspect: (c) => c.nodeId === 'node-a' };
    const out = await runTask({ ...components(ports, clock), selector: suspecting }, DEFAULT_ROUTER_LIMITS, request(4), signal());
    expect(out.settlement).toBe('paid');
    expect(
      executes(calls)
        .map((c) => c.split(' ')[1])
        .sort(),
    ).toEqual(['node-b', 'node-b', 'node-e', 'node-e']);
  });

  it('spreads blocks over a node that said "full" lately too, the default selector trying it after the others among the least loaded', async () => {
    const clock = manualClock(START_MS);
    const { ports, calls } = swarm(['node-a', 'node-b', 'node-e'], () => 'honest', clock);
    // node-b is trusted (ten verified results: no suspect for a "full"), and said "full" just now.
    const book = createTrustBook();
    const report = (outcome: 'ok' | 'overloaded') => ({
      taskId: 'earlier',
      skill: 'matmul',
      candidate: { nodeId: 'node-b', local: false },
      outcome,
      ms: 1,
      errorCode: ErrorCode.ERROR_CODE_OVERLOADED,
    });
    for (let i = 0; i < 10; i++) book.record(report('ok'), 0);
    book.record(report('overloaded'), 0);
    const selector = createDefaultSelector(seededRandom(1), trustReader(book, { now: () => 0 }));
    const out = await runTask({ ...components(ports, clock), selector }, DEFAULT_ROUTER_LIMITS, request(3), signal());
    expect(out.settlement).toBe('paid');
    // Three blocks, three nodes: every node gets one; this node's executors first, the busy node last.
    expect(executes(calls).map((c) => c.split(' ')[1])).toEqual(['node-a', 'node-e', 'node-b']);
  });

  it("tells the selector when a block's deadline leaves it less than its fair time, so a proven node may take it first", async () => {
    const asked: Array<boolean | undefined> = [];
    const recording: CandidateSelector = { select: (task, candidates) => (asked.push(task.shortened), candidates[0]) };
    for (const deadlineMs of [DEADLINE_MS, START_MS + 1_000]) {
      const clock = manualClock(START_MS);
      const { ports } = swarm(['node-a', 'node-b'], () => 'honest', clock);
      asked.length = 0;
      await runTask({ ...components(ports, clock), selector: recording }, DEFAULT_ROUTER_LIMITS, request(2, { deadlineMs }), signal());
      expect([deadlineMs, [...new Set(asked)]]).toEqual([deadlineMs, [deadlineMs !== DEADLINE_MS]]);
    }
  });

  it('says why a provider whose share is under one credit is paid nothing', async () => {
    const clock = manualClock(START_MS);
    const eleven = Array.from({ length: 11 }, (_, i) => `node-${String(i).padStart(2, '0')}`);
    const { ports } = swarm(eleven, () => 'honest', clock);
    const out = await runTask(components(ports, clock), DEFAULT_ROUTER_LIMITS, request(11), signal());
    // 10 credits over 11 blocks of 19 rows (the last 18): whole credits to the ten largest remainders.
    expect(out.contributions.map((c) => c.paid)).toEqual([...Array<bigint>(10).fill(1n), 0n]);
    expect(out.contributions.slice(0, 10).every((c) => c.note === '')).toBe(true);
    expect(out.contributions[10]).toMatchObject({
      counted: true,
      note: 'its 9.0% of the 10-credit price is less than one whole credit; payouts are whole credits, the remainder going to the largest fractions',
    });
  });

  it('gives blocks of unequal rows unequal pay, and a node with several blocks one payout for all', async () => {
    const clock = manualClock(START_MS);
    const { ports, calls, ledger } = swarm(['node-a', 'node-b'], () => 'honest', clock);
    const out = await runTask(components(ports, clock), DEFAULT_ROUTER_LIMITS, request(3), signal());
    // 200 rows in 3: 67, 67, 66. Two nodes: node-a runs blocks 0 and 2, node-b block 1.
    expect(executes(calls)).toEqual(['execute node-a rows 0+67', 'execute node-b rows 67+67', 'execute node-a rows 134+66']);
    expect(out.shards.map((s) => s.providerId)).toEqual(['node-a', 'node-b', 'node-a']);
    expect(out.contributions.map((c) => [c.providerId, c.paid])).toEqual([
      ['node-a', 7n],
      ['node-b', 3n],
    ]);
    expect(out.contributions[0].share).toBeCloseTo(133 / 200, 12);
    expect(ledger.payouts).toEqual([
      { payee: 'node-a', amount: 7n },
      { payee: 'node-b', amount: 3n },
    ]);
    expect(differenceFromProduct(out.outputs[0])).toBeUndefined();
  });

  it('re-dispatches a block whose result fails verification to another node, and pays the wrong node nothing', async () => {
    const clock = manualClock(START_MS);
    const reports: AttemptReport[] = [];
    const { ports, calls, ledger } = swarm(NODES, (n) => (n === 'node-b' ? 'tampered' : 'honest'), clock);
    const out = await runTask(components(ports, clock, reports), DEFAULT_ROUTER_LIMITS, request(4), signal());
    // node-e is idle, so it gets block 1 again; node-b gets nothing more of this task.
    expect(executes(calls)).toEqual([
      'execute node-a rows 0+50',
      'execute node-b rows 50+50',
      'execute node-c rows 100+50',
      'execute node-d rows 150+50',
      'execute node-e rows 50+50',
    ]);
    expect(out.shards[1]).toMatchObject({ providerId: 'node-e', attempts: 2 });
    expect(ledger.payouts.map((p) => p.payee)).toEqual(['node-a', 'node-c', 'node-d', 'node-e']);
    expect(ledger.payouts.reduce((s, p) => s + p.amount, 0n)).toBe(PRICE);
    expect(out.contributions.find((c) => c.providerId === 'node-b')).toMatchObject({ counted: false, paid: 0n, share: 0, note: 'row block 1 failed test: c[0] is off' });
    expect(reports.find((r) => r.candidate.nodeId === 'node-b')).toMatchObject({ outcome: 'rejected-by-verification', errorCode: ErrorCode.ERROR_CODE_VERIFICATION_FAILED });
    expect(out.attempts.map((a) => `${a.providerId} ${a.outcome}`)).toContain('node-b rejected');
    expect(differenceFromProduct(out.outputs[0])).toBeUndefined();
  });

  it('reports a block that failed verification without proof as a failure, not a rejection, and re-dispatches it', async () => {
    const clock = manualClock(START_MS);
    const reports: AttemptReport[] = [];
    const { ports, ledger } = swarm(NODES, (n) => (n === 'node-b' ? 'unproven' : 'honest'), clock);
    const out = await runTask(components(ports, clock, reports), DEFAULT_ROUTER_LIMITS, request(4), signal());
    expect(reports.find((r) => r.candidate.nodeId === 'node-b')).toMatchObject({ outcome: 'failed', errorCode: ErrorCode.ERROR_CODE_VERIFICATION_FAILED });
    // The task's own record says the same as the trust book: failed, not rejected.
    expect(out.attempts.find((a) => a.providerId === 'node-b')).toMatchObject({ outcome: 'failed' });
    expect(ledger.payouts.map((p) => p.payee)).not.toContain('node-b');
    expect(differenceFromProduct(out.outputs[0])).toBeUndefined();
  });

  it('re-dispatches a block whose attempt timed out within the deadline, giving that attempt only its own time', async () => {
    const clock = manualClock(START_MS);
    const reports: AttemptReport[] = [];
    const { ports, calls, ledger } = swarm(NODES.slice(0, 3), (n, row) => (n === 'node-a' && row === 0 ? 'slow' : 'honest'), clock);
    const out = await runTask(components(ports, clock, reports), DEFAULT_ROUTER_LIMITS, request(2), signal());
    const first = calls.find((c) => c.startsWith('execute node-a'));
    // The first attempt is given one attempt's time, not the whole minute left.
    expect(Number(/within (\d+)$/.exec(first ?? '')?.[1])).toBeLessThan(ATTEMPT_MIN_MS + 1_000);
    expect(executes(calls)).toEqual(['execute node-a rows 0+100', 'execute node-b rows 100+100', 'execute node-c rows 0+100']);
    expect(reports.find((r) => r.candidate.nodeId === 'node-a')).toMatchObject({ outcome: 'timeout' });
    expect(ledger.payouts.map((p) => [p.payee, p.amount])).toEqual([
      ['node-b', 5n],
      ['node-c', 5n],
    ]);
    expect(out.settlement).toBe('paid');
  });

  it('fails with DEADLINE_EXCEEDED and refunds everything when a block comes after the deadline: nothing paid for an incomplete product', async () => {
    const clock = manualClock(START_MS);
    const reports: AttemptReport[] = [];
    const { ports, calls, ledger } = swarm(NODES.slice(0, 4), (n) => (n === 'node-c' ? 'late' : 'honest'), clock);
    await expect(runTask(components(ports, clock, reports), DEFAULT_ROUTER_LIMITS, request(3), signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
      message: expect.stringMatching(
        /^the task deadline passed with 2 of 3 row blocks verified \(missing: 2 \(rows 134-199\)\); a sharded task is paid only for a complete verified result/,
      ),
      retryable: false,
    });
    expect(calls.filter((c) => c.startsWith('settle'))).toEqual([]);
    expect(ledger).toMatchObject({ closes: 1, refunded: PRICE + 4n });
    expect(reports.find((r) => r.candidate.nodeId === 'node-c')).toMatchObject({ outcome: 'timeout' });
  });

  it('fails with VERIFICATION_FAILED when no node completes a block, cancelling the others without blaming them', async () => {
    const clock = manualClock(START_MS);
    const reports: AttemptReport[] = [];
    // Every node tampers with block 0; node-b would hang forever on block 1, and is cancelled
    // once block 0 has no node left to try.
    const { ports, ledger } = swarm(['node-a', 'node-b', 'node-c'], (n, row) => (row === 0 ? 'tampered' : n === 'node-b' ? 'hangs' : 'honest'), clock);
    const err = await runTask(components(ports, clock, reports), DEFAULT_ROUTER_LIMITS, request(2), signal()).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: ErrorCode.ERROR_CODE_VERIFICATION_FAILED,
      message: expect.stringMatching(/^row block 0 \(rows 0-99\) has no verified result after 3 dispatch\(es\)/),
    });
    expect(ledger).toMatchObject({ closes: 1, paid: 0n, refunded: PRICE + 4n });
    expect(reports.map((r) => [r.candidate.nodeId, r.outcome])).toEqual([
      ['node-a', 'rejected-by-verification'],
      ['node-c', 'rejected-by-verification'],
      ['node-b', 'rejected-by-verification'],
    ]);
  });

  it('ends at once with the error of a task that is itself wrong, and refunds it', async () => {
    const clock = manualClock(START_MS);
    const { ports, calls, ledger } = swarm(NODES.slice(0, 3), (n) => (n === 'node-b' ? 'refuses' : 'honest'), clock);
    await expect(runTask(components(ports, clock), DEFAULT_ROUTER_LIMITS, request(2), signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      message: 'bad shapes',
    });
    expect(executes(calls)).toEqual(['execute node-a rows 0+100', 'execute node-b rows 100+100']);
    expect(ledger).toMatchObject({ closes: 1, paid: 0n });
  });

  it.each([
    ['another skill', request(2, { skill: 'vecadd' }), /^only matmul can be sharded \(into row blocks of a\); vecadd cannot$/],
    ['shards with redundancy', request(2, { redundancy: 2 }), /^shards and redundancy cannot be combined/],
    ['more shards than the task allows', request(17), /^shards must be 1 \(the whole product on one provider\) or 2 to 16 row blocks, got 17$/],
    ['a fractional count', request(2.5), /got 2\.5$/],
    [
      'more shards than rows',
      request(4, { inputs: [toTensor('a', [3, 2], new Float32Array(6)), toTensor('b', [2, 2], new Float32Array(4))] }),
      /^shards must be a whole number from 1 to the 3 row\(s\) of a, got 4$/,
    ],
  ])('refuses %s before anything is reserved (INVALID_ARGUMENT)', async (_what, req, message) => {
    const clock = manualClock(START_MS);
    const { ports, calls } = swarm(NODES, () => 'honest', clock);
    await expect(runTask(components(ports, clock), DEFAULT_ROUTER_LIMITS, req, signal())).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      message: expect.stringMatching(message),
    });
    expect(calls).toEqual([]);
  });

  it("runs every block on this node's executors when the chain cannot pledge the task to others (a new node's locked grant)", async () => {
    const clock = manualClock(START_MS);
    const { ports, calls, ledger } = swarm(NODES.slice(0, 3), () => 'honest', clock);
    const reserve = ports.reserve;
    // As credit-svc with a new node's chain: an escrow that may pay another node is refused.
    ports.reserve = async (id, account, amount, expires, payees) => {
      calls.push(`asked [${payees.join(',')}]`);
      if (payees.some((p) => p !== 'node-a')) throw new SwarmError(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT, "this node's chain can pay other nodes 98 more", false);
      await reserve(id, account, amount, expires, payees);
    };
    const out = await runTask(components(ports, clock), DEFAULT_ROUTER_LIMITS, request(4), signal());
    expect(calls.filter((c) => !c.startsWith('execute'))).toEqual([
      'asked [node-a,node-b,node-c]',
      'asked [node-a]',
      `reserve t1 ${PRICE + 4n} [node-a]`,
      `settle t1 node-a:${PRICE}`,
    ]);
    expect(new Set(executes(calls).map((c) => c.split(' ')[1]))).toEqual(new Set(['node-a']));
    expect(out).toMatchObject({ settlement: 'paid', cost: PRICE, providerId: 'node-a', placementNote: LOCAL_ONLY_NOTE });
    expect(differenceFromProduct(out.outputs[0])).toBeUndefined();
    expect(ledger.closes).toBe(1);
  });

  it('keeps the refusal of a sharded task with no executor of its own to fall back to', async () => {
    const clock = manualClock(START_MS);
    // node-a is this node's (the fixture's first), but it does not offer matmul here: only remote nodes do.
    const { ports, calls } = swarm(NODES.slice(0, 3), () => 'honest', clock);
    ports.findProviders = async () => [
      { nodeId: 'node-b', local: false },
      { nodeId: 'node-c', local: false },
    ];
    ports.reserve = async (_id, _account, _amount, _expires, payees) => {
      calls.push(`asked [${payees.join(',')}]`);
      throw new SwarmError(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT, 'short', false);
    };
    await expect(runTask(components(ports, clock), DEFAULT_ROUTER_LIMITS, request(4), signal())).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT });
    expect(calls).toEqual(['asked [node-b,node-c]']);
  });

  it('refuses with NO_PROVIDER before reserving when no node provides matmul', async () => {
    const clock = manualClock(START_MS);
    const { ports, calls } = swarm([], () => 'honest', clock);
    await expect(runTask(components(ports, clock), DEFAULT_ROUTER_LIMITS, request(2), signal())).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_NO_PROVIDER });
    expect(calls).toEqual([]);
  });

  it('whatever each node does, closes the escrow once, pays only for a complete product, and never more than the price', async () => {
    const behaviours: Behaviour[] = ['honest', 'honest', 'tampered', 'fails', 'slow'];
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 2, max: 8 }),
        fc.array(fc.constantFrom(...behaviours), { minLength: 5 * 8, maxLength: 5 * 8 }),
        async (nodes, shards, table) => {
          const clock = manualClock(START_MS);
          const names = NODES.slice(0, nodes);
          const block = (row: number) => Math.min(shards - 1, Math.floor((row * shards) / 200));
          const { ports, ledger } = swarm(names, (n, row) => table[names.indexOf(n) * 8 + block(row)], clock);
          const out = await runTask(components(ports, clock), DEFAULT_ROUTER_LIMITS, request(shards), signal()).catch((e: unknown) => e);
          expect(ledger.closes).toBe(1);
          expect(ledger.paid + ledger.refunded).toBe(PRICE + 4n);
          if (out instanceof Error) {
            expect(ledger.paid).toBe(0n);
            return;
          }
          const res = out as Awaited<ReturnType<typeof runTask>>;
          expect(ledger.paid).toBe(PRICE);
          expect(differenceFromProduct(res.outputs[0])).toBeUndefined();
          for (const p of ledger.payouts) {
            expect(ledger.payees).toContain(p.payee);
            expect(p.amount).toBeGreaterThan(0n);
            // Only a node that completed a block is paid.
            expect(res.shards.map((s) => s.providerId)).toContain(p.payee);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
