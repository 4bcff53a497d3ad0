import type { BusClient } from '@swarm/bus';
import { createBusClient } from '@swarm/bus';
import { CreditAudit } from '@swarm/contracts';
import { openLedger } from '@swarm/credit-level';
import { manualClock, systemTime } from '@swarm/determinism';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle, TempDir } from '@swarm/testing';
import { startNatsServer, tempDir } from '@swarm/testing';
import { Level } from 'level';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { loadCreditConfig } from './config';
import { startCreditService } from './service';

const NODE = 'node-1';

describe('credit-svc - audit over a real nats-server', () => {
  let server: NatsServerHandle;
  let dir: TempDir;
  let nc: NatsConnection;
  let bus: BusClient;
  const clock = manualClock(1_700_000_000_000);
  const config = () => loadCreditConfig({ SWARM_NATS_URL: server.url, SWARM_DATA_DIR: dir.path, SWARM_CREDIT_SYNC_WRITES: 'false', SWARM_GRACE_MS: '2000' });

  beforeAll(async () => {
    [server, dir] = await Promise.all([startNatsServer(), tempDir('swarm-credit-audit-')]);
    nc = await connect({ servers: server.url });
    bus = createBusClient(nc, silentLogger());
  });

  afterAll(async () => {
    await nc.drain();
    await Promise.all([server.stop(), dir.remove()]);
  });

  it('answers a clean summary, then finds a stored balance the log does not explain', async () => {
    let svc = await startCreditService({ config: config(), log: silentLogger(), nc, nodeId: NODE, ...systemTime, clock });
    const clean = await bus.request(CreditAudit, {});
    expect(clean).toMatchObject({ ok: true, problems: [], entriesChecked: 1n, accountsChecked: 1n, genesis: 1000n, available: 1000n, escrowed: 0n, accountsOmitted: 0n });
    expect(clean.accounts).toEqual([{ account: NODE, storedAvailable: 1000n, storedEscrowed: 0n, logAvailable: 1000n, logEscrowed: 0n }]);
    await svc.stop();

    // Damage the stored account behind credit-svc's back, as a bug or a bad disk would.
    const raw = new Level<string, string>(config().ledgerPath);
    await raw.sublevel<string, string>('acct', {}).put(NODE, '{"available":"1001","escrowed":"0","spent":"0","reserves":"0"}');
    await raw.close();

    svc = await startCreditService({ config: config(), log: silentLogger(), nc, nodeId: NODE, ...systemTime, clock });
    try {
      const damaged = await bus.request(CreditAudit, {});
      expect(damaged.ok).toBe(false);
      expect(damaged.problems).toEqual(expect.arrayContaining([expect.stringMatching(/account node-1 stores 1001\/0, log gives 1000\/0/), expect.stringMatching(/not conserved/)]));
      expect(damaged.accounts[0]).toEqual({ account: NODE, storedAvailable: 1001n, storedEscrowed: 0n, logAvailable: 1000n, logEscrowed: 0n });
    } finally {
      await svc.stop();
    }
    // The audit only reads: the ledger still opens (and still differs in the same way).
    const ledger = await openLedger({ path: config().ledgerPath, clock, nodeAccount: NODE, genesisGrant: 1000n, sync: false });
    expect((await ledger.audit()).problems).toHaveLength(2);
    await ledger.close();
  });
});
