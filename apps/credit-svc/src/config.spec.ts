import { ConfigError } from '@swarm/config';
import { loadCreditConfig } from './config';

const base = { SWARM_NATS_URL: 'nats://127.0.0.1:4222', SWARM_DATA_DIR: '/var/swarm' };

describe('credit config - loadCreditConfig', () => {
  it('applies defaults and puts the ledger inside the data dir', () => {
    const c = loadCreditConfig(base);
    expect(c).toMatchObject({ natsUrl: base.SWARM_NATS_URL, dataDir: '/var/swarm', genesisGrant: 1000n, syncWrites: true, ledgerPath: '/var/swarm/credit-ledger' });
    expect(c).toMatchObject({ escrowLifetime: { defaultMs: 150_000, maxMs: 180_000 }, escrowSweepMs: 1_000 });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads the grant and sync setting', () => {
    expect(loadCreditConfig({ ...base, SWARM_GENESIS_GRANT: '0', SWARM_CREDIT_SYNC_WRITES: 'false' })).toMatchObject({ genesisGrant: 0n, syncWrites: false });
  });

  it("checks payers' chains unless told not to, refusing a value that is no boolean", () => {
    expect(loadCreditConfig(base).chain.checkPayers).toBe(true);
    expect(loadCreditConfig({ ...base, SWARM_CREDIT_CHECK_PAYERS: 'false' }).chain.checkPayers).toBe(false);
    expect(() => loadCreditConfig({ ...base, SWARM_CREDIT_CHECK_PAYERS: 'sometimes' })).toThrow(/SWARM_CREDIT_CHECK_PAYERS/);
  });

  it("holds receipts for other payees' sightings unless told to watch only, with the swarm's proof-of-work difficulty", () => {
    expect(loadCreditConfig(base)).toMatchObject({ sightings: 'hold', powDifficulty: 16 });
    expect(loadCreditConfig({ ...base, SWARM_CREDIT_SIGHTINGS: 'watch', SWARM_POW_DIFFICULTY: '8' })).toMatchObject({ sightings: 'watch', powDifficulty: 8 });
    expect(() => loadCreditConfig({ ...base, SWARM_CREDIT_SIGHTINGS: 'never' })).toThrow(/SWARM_CREDIT_SIGHTINGS/);
    expect(() => loadCreditConfig({ ...base, SWARM_POW_DIFFICULTY: '300' })).toThrow(/SWARM_POW_DIFFICULTY/);
  });

  it('reads the escrow lifetimes and sweep interval, refusing a default longer than the maximum', () => {
    const escrow = { SWARM_ESCROW_DEFAULT_TTL_MS: '5000', SWARM_ESCROW_MAX_TTL_MS: '60000', SWARM_ESCROW_SWEEP_MS: '50' };
    expect(loadCreditConfig({ ...base, ...escrow })).toMatchObject({ escrowLifetime: { defaultMs: 5_000, maxMs: 60_000 }, escrowSweepMs: 50 });
    expect(() => loadCreditConfig({ ...base, ...escrow, SWARM_ESCROW_DEFAULT_TTL_MS: '60001' })).toThrow(
      "SWARM_ESCROW_DEFAULT_TTL_MS: expected at most SWARM_ESCROW_MAX_TTL_MS (60000), got '60001'",
    );
    expect(() => loadCreditConfig({ ...base, SWARM_ESCROW_SWEEP_MS: '49' })).toThrow(/SWARM_ESCROW_SWEEP_MS: expected an integer in \[50, 60000\]/);
  });

  it('reads the standing window and payee cap, an hour and 4096 by default, refusing a window under a minute', () => {
    expect(loadCreditConfig(base).standing).toEqual({ windowMs: 3_600_000, maxPayees: 4_096 });
    expect(loadCreditConfig({ ...base, SWARM_STANDING_WINDOW_MS: '600000', SWARM_STANDING_MAX_PAYEES: '10' }).standing).toEqual({ windowMs: 600_000, maxPayees: 10 });
    expect(() => loadCreditConfig({ ...base, SWARM_STANDING_WINDOW_MS: '59999' })).toThrow(/SWARM_STANDING_WINDOW_MS: expected an integer in \[60000, 604800000\]/);
    expect(() => loadCreditConfig({ ...base, SWARM_STANDING_MAX_PAYEES: '0' })).toThrow(/SWARM_STANDING_MAX_PAYEES: expected an integer in \[1, 1000000\]/);
  });

  it('lists every bad variable at once, including a grant too big for uint64', () => {
    let err: unknown;
    try {
      loadCreditConfig({ SWARM_DATA_DIR: 'relative', SWARM_GENESIS_GRANT: '18446744073709551616', SWARM_CREDIT_SYNC_WRITES: 'yes' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      'SWARM_NATS_URL: expected a NATS URL like nats://127.0.0.1:4222, got nothing',
      "SWARM_DATA_DIR: expected the node's data directory (absolute path), got 'relative'",
      "SWARM_GENESIS_GRANT: expected a whole number in [0, 18446744073709551615] (default 1000), got '18446744073709551616'",
      "SWARM_CREDIT_SYNC_WRITES: expected true|false (default true), got 'yes'",
    ]);
  });
});
