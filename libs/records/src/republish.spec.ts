import { manualClock } from '@swarm/determinism';
import { createRecord, needsRepublish, republishAt } from './index';
import { seededSigner, validFields } from './test-fixtures/seeded-signer';

describe('records - republish before expiry', () => {
  const signer = seededSigner(3);
  const { record } = createRecord(validFields(signer, 4, { ttlMs: 60_000 }), signer, manualClock(1_000_000));

  it('is due a margin before the record expires, and not earlier', () => {
    expect(republishAt(record, 10_000)).toBe(1_050_000);
    expect(needsRepublish(record, 1_049_999, 10_000)).toBe(false);
    expect(needsRepublish(record, 1_050_000, 10_000)).toBe(true);
    expect(needsRepublish(record, 2_000_000, 10_000)).toBe(true);
  });

  it('treats a negative margin as none: due at expiry', () => {
    expect(republishAt(record, -5)).toBe(1_060_000);
  });
});
