import type { BusClient } from '@swarm/bus';
import { createBusClient } from '@swarm/bus';
import { CreditRefund, CreditReserve, CreditSettle, CreditStanding, ErrorCode } from '@swarm/contracts';
import { manualClock, systemTime } from '@swarm/determinism';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle, TempDir } from '@swarm/testing';
import { startNatsServer, swarmErrorOf, tempDir } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { loadCreditConfig } from './config';
import type { CreditService } from './service';
import { startCreditService } from './service';

const NODE = 'node-1';
const WINDOW_MS = 600_000;
const PEERS = ['peer-a', 'peer-b'];

describe('credit-svc - standing over a real nats-server and LevelDB', () => {
  let server: NatsServerHandle;
  let dir: TempDir;
  let nc: NatsConnection;
  let bus: BusClient;
  let svc: CreditService | undefined;
  const clock = manualClock(1_700_000_000_000);

  const start = async () => {
    const config = loadCreditConfig({ SWARM_NATS_URL: server.url, SWARM_DATA_DIR: dir.path, SWARM_CREDIT_SYNC_WRITES: 'false', SWARM_STANDING_WINDOW_MS: String(WINDOW_MS) });
    svc = await startCreditService({ config, log: silentLogger(), nc, nodeId: NODE, ...systemTime, clock });
  };
  const earned = async (nodeId: string) => (await bus.request(CreditStanding, { nodeId })).earnedInWindow;
  /** A task of this node paid to `payee` (or refunded, amount 0: a failed task earns nothing). */
  async function task(id: string, payee: string, amount: bigint) {
    await bus.request(CreditReserve, { escrowId: id, account: NODE, amount: 50n, expiresAtMs: 0n, payees: PEERS });
    if (amount === 0n) await bus.request(CreditRefund, { escrowId: id });
    else await bus.request(CreditSettle, { escrowId: id, payee, amount, payouts: [] });
  }

  beforeAll(async () => {
    [server, dir] = await Promise.all([startNatsServer(), tempDir('swarm-credit-standing-')]);
    nc = await connect({ servers: server.url });
    bus = createBusClient(nc, silentLogger());
    await start();
  });

  afterAll(async () => {
    await svc?.stop();
    await nc.drain();
    await Promise.all([server.stop(), dir.remove()]);
  });

  it('answers what this ledger paid each node in the window, rebuilt alike after a restart', async () => {
    await expect(bus.request(CreditStanding, { nodeId: 'peer-a' })).resolves.toEqual({ nodeId: 'peer-a', earnedInWindow: 0n, windowMs: BigInt(WINDOW_MS) });
    await task('t1', 'peer-a', 30n);
    clock.advance(WINDOW_MS / 2);
    await task('t2', 'peer-a', 5n);
    await task('t3', 'peer-b', 0n);
    await task('t4', 'peer-b', 7n);
    expect([await earned('peer-a'), await earned('peer-b'), await earned('free-rider')]).toEqual([35n, 7n, 0n]);

    await svc?.stop();
    await start();
    expect([await earned('peer-a'), await earned('peer-b')]).toEqual([35n, 7n]);

    // t1 leaves the window (at most one bucket, window/60, after the window itself).
    clock.advance(WINDOW_MS / 2 + WINDOW_MS / 60);
    expect([await earned('peer-a'), await earned('peer-b')]).toEqual([5n, 7n]);
    await svc?.stop();
    await start();
    expect([await earned('peer-a'), await earned('peer-b')]).toEqual([5n, 7n]);
    clock.advance(WINDOW_MS);
    expect([await earned('peer-a'), await earned('peer-b')]).toEqual([0n, 0n]);
  });

  it('refuses a malformed node id with INVALID_ARGUMENT', async () => {
    for (const nodeId of ['', 'has space', 'x'.repeat(200)]) {
      expect(await swarmErrorOf(bus.request(CreditStanding, { nodeId }))).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
    }
  });
});
