import { fromTensor, toTensor } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { demoDenseInputs, getSkill, orderedMatmul } from '@swarm/skills';
import type { ReplicaResult } from './replica-split';
import { judgeReplicas, splitPool } from './replica-split';

const matmul = getSkill('matmul');
const inputs = demoDenseInputs('matmul', 48, seededRandom(5));
const dims = { n: 48, k: 48, m: 48 };

function replica(nodeId: string, c: Float32Array, ok = true, inTime = true): ReplicaResult {
  return {
    candidate: { nodeId, local: false },
    exec: { outputs: [toTensor('c', [48, 48], c)], providerId: nodeId, executorId: `exec-${nodeId}`, backend: 'cpu' },
    verdict: { ok, refuted: !ok, method: 'freivalds', detail: ok ? 'passed' : 'failed' },
    inTime,
    executeMs: 1,
    ms: 2,
  };
}

const honest = (order: 'ijk' | 'reversed' | 'pairwise' | 'strided') => orderedMatmul(inputs[0].data, inputs[1].data, dims, order);
function offBy(c: Float32Array, delta: number): Float32Array {
  const out = Float32Array.from(c);
  out[7] += delta;
  return out;
}

describe('pipeline - judging replicas', () => {
  it('counts honest results of different summation orders together and returns the first', () => {
    const results = [replica('a', honest('ijk')), replica('b', honest('pairwise')), replica('c', honest('strided'))];
    const v = judgeReplicas(matmul, inputs, results);
    expect(v.winners.map((r) => r.candidate.nodeId)).toEqual(['a', 'b', 'c']);
    expect(v.returned?.candidate.nodeId).toBe('a');
    expect(v.notes).toEqual(['', '', '']);
  });

  it('lets the larger class win even when a wrong result arrived first, and says why the rest is not counted', () => {
    const results = [
      replica('w', offBy(honest('ijk'), 1)),
      replica('late', honest('ijk'), true, false),
      replica('x', honest('reversed'), false),
      replica('a', honest('ijk')),
      replica('b', honest('strided')),
    ];
    const v = judgeReplicas(matmul, inputs, results);
    expect(v.returned?.candidate.nodeId).toBe('a');
    expect(v.winners.map((r) => r.candidate.nodeId)).toEqual(['a', 'b']);
    expect(v.notes[0]).toMatch(/^refuted by recomputing the disputed rows exactly: c\[0,7\] is .* from the exact /);
    expect(v.refuted).toEqual([true, false, false, false, false]);
    expect(v.notes[1]).toBe('its result came after the task deadline');
    expect(v.notes[2]).toBe('failed freivalds: failed');
    expect(v.verified).toBe(3);
  });

  it('finds no agreement between two different wrong results, and refutes both', () => {
    const v = judgeReplicas(matmul, inputs, [replica('a', offBy(honest('ijk'), 1)), replica('b', offBy(honest('ijk'), -1))]);
    expect(v.returned).toBeUndefined();
    expect(v.winners).toEqual([]);
    expect(v.notes).toEqual([expect.stringMatching(/^refuted by recomputing/), expect.stringMatching(/^refuted by recomputing/)]);
    expect(v.refuted).toEqual([true, true]);
  });

  it('finds no agreement between two results that disagree where neither is refuted', () => {
    const results = [replica('a', honest('ijk')), replica('b', offBy(honest('ijk'), 1))];
    // A skill whose referee can tell neither wrong (as mlp's may for z): no class wins.
    const v = judgeReplicas({ ...matmul, referee: (_i, _f, _s, all) => all.map(() => '') }, inputs, results);
    expect(v.returned).toBeUndefined();
    expect(v.refuted).toEqual([false, false]);
    expect(v.notes).toEqual(['no two verified results agreed', 'no two verified results agreed']);
  });

  it('gives no win to the class whose result came first in a tie the referee cannot break', () => {
    const wrong = offBy(honest('ijk'), 1);
    const results = [replica('w1', wrong), replica('w2', wrong), replica('a', honest('ijk')), replica('b', honest('strided'))];
    const v = judgeReplicas({ ...matmul, referee: (_i, _f, _s, all) => all.map(() => '') }, inputs, results);
    expect(v.returned).toBeUndefined();
    expect(v.winners).toEqual([]);
  });
});

describe('pipeline - judging replicas on data where verification is coarser than agreement', () => {
  // Non-negative data (uniform [0,1]): Freivalds' τ over a row block lets c[0,0] stray several
  // times further than two honest results can differ (agreement.ts).
  const n = 128;
  const rng = seededRandom(11);
  const a = Float32Array.from({ length: n * n }, () => rng());
  const b = Float32Array.from({ length: n * n }, () => rng());
  const positive = [toTensor('a', [n, n], a), toTensor('b', [n, n], b)].map(fromTensor);
  const exact = orderedMatmul(a, b, { n, k: n, m: n }, 'ijk');
  const result = (nodeId: string, c: Float32Array): ReplicaResult => ({
    ...replica(nodeId, honest('ijk')),
    exec: { outputs: [toTensor('c', [n, n], c)], providerId: nodeId, executorId: `exec-${nodeId}`, backend: 'cpu' },
  });
  /** c with c[0,0] moved 2.5 times what two honest results may differ by there: inside verification's τ, outside agreement. */
  const shifted = (() => {
    const c = Float32Array.from(exact);
    let tol = 0;
    for (let step = 1e-5; ; step *= 1.1) {
      c[0] = exact[0] * (1 + step);
      if (!matmul.agree(positive, [toTensor('c', [n, n], exact)].map(fromTensor), [toTensor('c', [n, n], c)].map(fromTensor)).ok) {
        tol = c[0] - exact[0];
        break;
      }
    }
    c[0] = exact[0] + 2.5 * tol;
    return c;
  })();

  /** What two results may differ by at c[row, 0] (agreement's bound there), found as the least step past which they disagree. */
  const agreementBound = (row: number): number => {
    const c = Float32Array.from(exact);
    let lo = 0;
    let hi = Math.abs(exact[row * n]) + 1;
    for (let i = 0; i < 60; i++) {
      const mid = (lo + hi) / 2;
      c[row * n] = exact[row * n] + mid;
      if (matmul.agree(positive, [toTensor('c', [n, n], exact)].map(fromTensor), [toTensor('c', [n, n], c)].map(fromTensor)).ok) lo = mid;
      else hi = mid;
    }
    return hi;
  };
  /** exact with c[row, 0] moved by `times` agreement's bound there, for each row in `rows`. */
  const movedBy = (rows: readonly number[], times: number): Float32Array => {
    const c = Float32Array.from(exact);
    for (const row of rows) c[row * n] = exact[row * n] + times * agreementBound(row);
    return c;
  };

  it('referees round by round: colluders that agree with a refuted one, wrong only in rows the first round did not recompute, are refuted in the next', () => {
    // x1: off by 1.05 bounds in rows 0-7. x2 = x3: within one result's half of it in rows 0-3 (so
    // they agree with x1 there), x1's error in rows 4-7. The first round recomputes rows 0-3 only.
    const x1 = movedBy([0, 1, 2, 3, 4, 5, 6, 7], 1.05);
    const x2 = movedBy([0, 1, 2, 3], 0.45);
    for (let row = 4; row < 8; row++) x2[row * n] = x1[row * n];
    const honest = honestOrder(a, b, n, 'pairwise');
    const v = judgeReplicas(matmul, positive, [result('x1', x1), result('x2', x2), result('x3', Float32Array.from(x2)), result('honest', honest)]);
    expect(v.refuted).toEqual([true, true, true, false]);
    expect(v.returned).toBeUndefined();
  });

  it('recomputes the most disputed rows, so decoys no bound can settle (past agreement, within the worst case) cannot hide rows that are provably wrong', () => {
    // k = 2,000 on positive data: the worst case an f32 dot product can be off, γ_k·Σ|a||b|, is past
    // agreement's bound, so a cell moved by 0.95 of it disputes and yet cannot be refuted.
    const [rows, k, cols] = [8, 2_000, 16];
    const rnd = seededRandom(17);
    const a2 = Float32Array.from({ length: rows * k }, () => rnd());
    const b2 = Float32Array.from({ length: k * cols }, () => rnd());
    const inputs2 = [toTensor('a', [rows, k], a2), toTensor('b', [k, cols], b2)].map(fromTensor);
    const worstCase = (i: number) => {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += Math.abs(a2[i * k + p] * b2[p * cols]);
      return ((k * 2 ** -24) / (1 - k * 2 ** -24)) * sum;
    };
    const exact2 = orderedMatmul(a2, b2, { n: rows, k, m: cols }, 'pairwise');
    const wrong = Float32Array.from(exact2);
    // Rows 0-3: decoys at 0.95 of the worst case; rows 4-7: 1.6 times it, provably wrong.
    for (let i = 0; i < rows; i++) wrong[i * cols] = exact2[i * cols] + (i < 4 ? 0.95 : 1.6) * worstCase(i);
    const mk = (nodeId: string, c: Float32Array): ReplicaResult => ({
      ...replica(nodeId, honest('ijk')),
      exec: { outputs: [toTensor('c', [rows, cols], c)], providerId: nodeId, executorId: `exec-${nodeId}`, backend: 'cpu' },
    });
    const v = judgeReplicas(matmul, inputs2, [mk('c1', wrong), mk('c2', Float32Array.from(wrong)), mk('honest', orderedMatmul(a2, b2, { n: rows, k, m: cols }, 'reversed'))]);
    expect(v.refuted).toEqual([true, true, false]);
    expect(v.notes[0]).toMatch(/refuted by recomputing the disputed rows exactly: c\[[4-7],0\]/);
  });

  it('referees the largest class against every other, so decoys that answered first cannot use up the pairs before colluders meet the honest replica', () => {
    const decoys = [10, 20, 30].map((row) => movedBy([row], 3));
    const v = judgeReplicas(matmul, positive, [
      ...decoys.map((c, i) => result(`d${i}`, c)),
      result('x1', shifted),
      result('x2', shifted),
      result('h1', honestOrder(a, b, n, 'strided')),
      result('h2', honestOrder(a, b, n, 'reversed')),
    ]);
    expect(v.refuted).toEqual([true, true, true, true, true, false, false]);
    expect(v.returned?.candidate.nodeId).toBe('h1');
  });

  it('has results that pass verification and yet disagree (the gap the referee closes)', () => {
    const verdict = matmul.verify(positive, [toTensor('c', [n, n], shifted)].map(fromTensor), seededRandom(3));
    expect(verdict.ok).toBe(true);
    expect(matmul.agree(positive, [toTensor('c', [n, n], exact)].map(fromTensor), [toTensor('c', [n, n], shifted)].map(fromTensor)).ok).toBe(false);
  });

  it('refutes two colluders returning the same wrong result against one honest replica: they are not paid, and it is not blamed', () => {
    const v = judgeReplicas(matmul, positive, [result('bad1', shifted), result('bad2', shifted), result('honest', honestOrder(a, b, n, 'pairwise'))]);
    expect(v.refuted).toEqual([true, true, false]);
    expect(v.returned).toBeUndefined();
    expect(v.notes[2]).toBe('no two verified results agreed');
  });

  it('returns the honest result when two honest replicas face two colluders who answered first', () => {
    const v = judgeReplicas(matmul, positive, [
      result('bad1', shifted),
      result('bad2', shifted),
      result('h1', honestOrder(a, b, n, 'strided')),
      result('h2', honestOrder(a, b, n, 'reversed')),
    ]);
    expect(v.returned?.candidate.nodeId).toBe('h1');
    expect(v.winners.map((r) => r.candidate.nodeId)).toEqual(['h1', 'h2']);
    expect(v.refuted).toEqual([true, true, false, false]);
  });
});

function honestOrder(a: Float32Array, b: Float32Array, n: number, order: 'ijk' | 'reversed' | 'pairwise' | 'strided'): Float32Array {
  return orderedMatmul(a, b, { n, k: n, m: n }, order);
}

describe('pipeline - splitting the pool', () => {
  it('pays each agreeing replica the price and the others nothing; shares sum to 1', () => {
    const results = ['a', 'b', 'c', 'd'].map((id) => replica(id, honest('ijk')));
    const { amounts, shares } = splitPool(results, [results[0], results[2], results[3]], 7n);
    expect(amounts).toEqual([7n, 0n, 7n, 7n]);
    expect(shares[1]).toBe(0);
    expect(shares.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
  });

  it('splits among 12 contributors in under 5 ms (exact Shapley, 4,096 coalitions)', () => {
    const results = Array.from({ length: 12 }, (_, i) => replica(`n${i}`, honest('ijk')));
    const winners = results.filter((_, i) => i % 2 === 0);
    // The fastest of a few warm runs: what a split costs, not what the shared test machine adds.
    let fastest = Infinity;
    let amounts: bigint[] = [];
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      amounts = splitPool(results, winners, 13n).amounts;
      fastest = Math.min(fastest, performance.now() - t0);
    }
    expect(fastest).toBeLessThan(5);
    expect(amounts).toEqual(results.map((_, i) => (i % 2 === 0 ? 13n : 0n)));
  });
});
