import { startBusService } from '@swarm/bus';
import { CreditBalance, CreditHealth, CreditRefund, CreditReserve, CreditSettle, LedgerEntryEvents } from '@swarm/contracts';
import { openLedger } from '@swarm/credit';
import type { Clock } from '@swarm/determinism';
import type { Logger } from '@swarm/telemetry';
import type { NatsConnection } from 'nats';
import type { CreditConfig } from './config';
import { createCreditHandlers } from './handlers';

export const SERVICE_NAME = 'credit-svc';
export const SERVICE_VERSION = '0.1.0';
/** Three 128-char ids and a uint64 fit in well under 1 KiB; anything bigger is not a credit request. */
export const MAX_CREDIT_REQUEST_BYTES = 1024;

export interface CreditServiceDeps {
  config: CreditConfig;
  log: Logger;
  nc: NatsConnection;
  /** This node's id, which is also its ledger account. */
  nodeId: string;
  clock: Clock;
}

export interface CreditService {
  /** Stops intake, waits (within the grace period) for in-flight requests, closes the ledger. */
  stop(): Promise<void>;
}

export async function startCreditService(deps: CreditServiceDeps): Promise<CreditService> {
  const { config, log, nc, nodeId, clock } = deps;
  const ledger = await openLedger({
    path: config.ledgerPath,
    clock,
    nodeAccount: nodeId,
    genesisGrant: config.genesisGrant,
    sync: config.syncWrites,
  });
  let bus;
  try {
    bus = await startBusService({ nc, log, name: SERVICE_NAME, version: SERVICE_VERSION, description: 'LevelDB credit ledger', nodeId });
  } catch (err) {
    await ledger.close();
    throw err;
  }
  const { client } = bus;
  const handlers = createCreditHandlers({ ledger, nodeAccount: nodeId, log, publish: (entry) => client.publish(LedgerEntryEvents, entry) });
  const opts = { maxRequestBytes: MAX_CREDIT_REQUEST_BYTES };
  bus.serve(CreditReserve, handlers.reserve, opts);
  bus.serve(CreditSettle, handlers.settle, opts);
  bus.serve(CreditRefund, handlers.refund, opts);
  bus.serve(CreditBalance, handlers.balance, opts);
  // seq starts at 1 and has no gaps, so the entry count is the last seq.
  bus.serveHealth(CreditHealth, () => ({
    entries: ledger.lastSeq().toString(),
    lastSeq: ledger.lastSeq().toString(),
    syncWrites: String(config.syncWrites),
  }));
  log.info({ ledger: config.ledgerPath, lastSeq: ledger.lastSeq().toString(), syncWrites: config.syncWrites }, 'credit-svc serving');

  const stopBus = bus.stop.bind(bus);
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        await stopBus(config.graceMs);
        await ledger.close();
      })();
      return stopping;
    },
  };
}
