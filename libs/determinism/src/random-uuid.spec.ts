import { randomUuid, seededRandom, systemRandom } from './index';

describe('randomUuid', () => {
  it('draws version-4 UUIDs from the injected randomness: repeatable when seeded, distinct when not', () => {
    const pattern = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const a = randomUuid(seededRandom(7));
    expect(a).toMatch(pattern);
    expect(randomUuid(seededRandom(7))).toBe(a);
    const drawn = new Set(Array.from({ length: 1_000 }, () => randomUuid(systemRandom)));
    expect(drawn.size).toBe(1_000);
    for (const id of drawn) expect(id).toMatch(pattern);
  });
});
