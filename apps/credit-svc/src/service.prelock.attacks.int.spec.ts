/**
 * helper-163's check of a second credit-svc started on a running one's ledger: refused by the
 * ledger's lock, it had already read the views file and removed `payer-views.<pid>.tmp`, the running
 * one's write in flight (replaceFile), whose rename then failed. It reads before the lock, changing
 * nothing, and tidies after.
 */
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle, TempDir } from '@swarm/testing';
import { startNatsServer, tempDir } from '@swarm/testing';
import { manualClock, systemTime } from '@swarm/determinism';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadCreditConfig } from './config';
import type { CreditService } from './service';
import { startCreditService } from './service';

describe('ATTACK (helper-163): a second start on a running ledger', () => {
  let server: NatsServerHandle;
  let dir: TempDir;
  let nc: NatsConnection;
  let svc: CreditService | undefined;
  const clock = manualClock(1_800_000_000_000);
  const config = () => loadCreditConfig({ SWARM_NATS_URL: server.url, SWARM_DATA_DIR: dir.path, SWARM_CREDIT_SYNC_WRITES: 'false', SWARM_GRACE_MS: '500' });

  beforeAll(async () => {
    [server, dir] = await Promise.all([startNatsServer(), tempDir('swarm-credit-prelock-')]);
    nc = await connect({ servers: server.url });
  });
  afterAll(async () => {
    await svc?.stop();
    await nc.drain();
    await Promise.all([server.stop(), dir.remove()]);
  });

  it("leaves the running one's views write in flight alone", async () => {
    svc = await startCreditService({ config: config(), log: silentLogger(), nc, nodeId: 'node-1', ...systemTime, clock });
    // The running one's replaceFile between its open of the temporary file and its rename.
    const inFlight = join(config().ledgerPath, `payer-views.${process.pid + 1}.tmp`);
    await writeFile(inFlight, 'half a views file');
    await expect(startCreditService({ config: config(), log: silentLogger(), nc, nodeId: 'node-1', ...systemTime, clock })).rejects.toThrow();
    expect(existsSync(inFlight)).toBe(true);
  }, 30_000);
});
