import type { BusClient, BusService } from '@swarm/bus';
import { createBusClient, startBusService } from '@swarm/bus';
import { CreditCharge, CreditEscrow, ErrorCode, EscrowState } from '@swarm/contracts';
import { systemStopwatch } from '@swarm/determinism';
import { ChargeNotServed } from '@swarm/pipeline';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle } from '@swarm/testing';
import { startNatsServer } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { createBusPorts } from './bus-ports';

const SELF = 'a'.repeat(64);
const PAYOUTS = [{ payee: SELF, amount: 1n }];

describe('router-svc bus ports - a charge no credit-svc serves (real NATS)', () => {
  let server: NatsServerHandle;
  let routerNc: NatsConnection;
  let creditNc: NatsConnection;
  let bus: BusClient;
  let credit: BusService | undefined;
  const asked: string[] = [];

  /** A credit-svc answering escrow reads, and charges only when `charges`. */
  const startCredit = async (charges: boolean) => {
    credit = await startBusService({ nc: creditNc, log: silentLogger(), name: 'credit-svc', version: '0.0.0', description: 'fake credit', nodeId: SELF });
    credit.serve(CreditEscrow, (r) => {
      asked.push('escrow');
      return { escrowId: r.escrowId, state: EscrowState.ESCROW_STATE_NONE };
    });
    if (charges) {
      credit.serve(CreditCharge, (r) => {
        asked.push('charge');
        return { escrowId: r.escrowId, paid: 1n, refunded: r.amount - 1n };
      });
    }
    await creditNc.flush();
  };
  const charge = () =>
    createBusPorts(bus, systemStopwatch, SELF, 1_000)
      .charge('t-1', 'acct', 2n, PAYOUTS, Date.now() + 10_000)
      .catch((err: unknown) => err);

  beforeAll(async () => {
    server = await startNatsServer();
    [routerNc, creditNc] = await Promise.all([1, 2].map(() => connect({ servers: server.url })));
    bus = createBusClient(routerNc, silentLogger());
  });

  afterEach(async () => {
    await credit?.stop(1_000);
    credit = undefined;
    asked.length = 0;
  });

  afterAll(async () => {
    await Promise.all([routerNc, creditNc].map((c) => c.drain()));
    await server.stop();
  });

  it('is ChargeNotServed when credit-svc answers an escrow read and a second charge still reaches nobody', async () => {
    await startCredit(false);
    const refused = await charge();
    expect(refused).toBeInstanceOf(ChargeNotServed);
    expect(refused).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, retryable: false, message: expect.stringMatching(/older than this router-svc/) });
    expect(asked).toEqual(['escrow']);
  });

  it('passes the retryable error on when nothing answers (credit-svc down), and charges as usual when credit-svc serves charges', async () => {
    const failed = await charge();
    expect(failed).not.toBeInstanceOf(ChargeNotServed);
    expect(failed).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, retryable: true, message: expect.stringMatching(/no credit-svc is serving/) });
    await startCredit(true);
    expect(await charge()).toEqual({ paid: 1n, refunded: 1n });
    expect(asked).toEqual(['charge']);
  });
});
