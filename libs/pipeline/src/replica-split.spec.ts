import { toTensor } from '@swarm/contracts';
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
    verdict: { ok, method: 'freivalds', detail: ok ? 'passed' : 'failed' },
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
    expect(v.notes[0]).toMatch(/^disagreed with the result returned \(from a\): c\[0,7\]/);
    expect(v.notes[1]).toBe('its result came after the task deadline');
    expect(v.notes[2]).toBe('failed freivalds: failed');
    expect(v.verified).toBe(3);
  });

  it('finds no agreement between two different wrong results', () => {
    const v = judgeReplicas(matmul, inputs, [replica('a', offBy(honest('ijk'), 1)), replica('b', offBy(honest('ijk'), -1))]);
    expect(v.returned).toBeUndefined();
    expect(v.winners).toEqual([]);
    expect(v.notes).toEqual(['no two verified results agreed', 'no two verified results agreed']);
  });
});

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
