import { formatDhtSimTable, runDhtSim } from './dht-sim';

describe('dht simulation - small swarm', () => {
  it('finds every live provider before and after churn, within the message bound', async () => {
    const rows = await runDhtSim({ nodes: 60, seed: 3, lookups: 40, skills: 5, providers: 12 });
    expect(rows.map((r) => r.phase)).toEqual(['no churn', '10% dead', '10% dead + refresh', '30% dead', '30% dead + refresh']);
    expect(rows.map((r) => r.alive)).toEqual([60, 54, 54, 42, 42]);
    expect(rows[0].successRate).toBeGreaterThanOrEqual(0.99);
    expect(rows[4].successRate).toBeGreaterThanOrEqual(0.95);
    for (const r of rows) expect(r.meanMessages).toBeLessThanOrEqual(r.messageBound);
    expect(formatDhtSimTable(rows).split('\n')).toHaveLength(2 + rows.length);
  });
});
