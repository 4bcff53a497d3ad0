/**
 * A stand-in router that pays through the real ledger (credit-svc on the same bus), so api-svc's
 * tests see what credit-svc counts whatever api-svc hears: per task it reserves the budget from the
 * agent's account (escrow id = task id, as the router does), then, by the idempotency key's
 * prefix, settles part of it to the node (`pay-`), refunds it and fails (`fail-`), or drops it for
 * the ledger to expire (`drop-`). While `hold` is set, tasks wait after their reserve for release().
 */
import type { BusService } from '@swarm/bus';
import { startBusService } from '@swarm/bus';
import { CreditRefund, CreditReserve, CreditSettle, ErrorCode, RouterSubmitAgent, SubmitTaskResponse, SwarmError, TaskState } from '@swarm/contracts';
import { keyedTaskId } from '@swarm/pipeline';
import { silentLogger } from '@swarm/telemetry';
import type { NatsConnection } from 'nats';

/** What a `pay-` task costs (paid to the node); the rest of its budget is refunded. */
export const PAID_COST = 3n;
/** How long a `drop-` task's escrow lives before the ledger refunds it. */
export const DROPPED_ESCROW_MS = 4_000;

export interface LedgerRouter {
  /** Task ids whose escrow is reserved. */
  readonly reserved: Set<string>;
  hold: boolean;
  release(): void;
  stop(): Promise<void>;
}

export async function startLedgerRouter(nc: NatsConnection, nodeAccount: string): Promise<LedgerRouter> {
  const svc: BusService = await startBusService({ nc, log: silentLogger(), name: 'router-svc', version: '0.0.0', description: 'ledger router stand-in', nodeId: nodeAccount });
  let waiting: Array<() => void> = [];
  const router: LedgerRouter = {
    reserved: new Set(),
    hold: false,
    release() {
      for (const w of waiting) w();
      waiting = [];
    },
    async stop() {
      router.release();
      await svc.stop(500);
    },
  };
  svc.serve(RouterSubmitAgent, async (req) => {
    const escrowId = keyedTaskId(req.account, req.idempotencyKey);
    const drop = req.idempotencyKey.startsWith('drop-');
    const expiresAtMs = drop ? BigInt(Date.now() + DROPPED_ESCROW_MS) : 0n;
    await svc.client.request(CreditReserve, { escrowId, account: req.account, amount: req.budget, expiresAtMs, payees: [nodeAccount] });
    router.reserved.add(escrowId);
    if (drop) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'the stand-in router dropped this task');
    if (router.hold) await new Promise<void>((r) => waiting.push(r));
    if (req.idempotencyKey.startsWith('fail-')) {
      await svc.client.request(CreditRefund, { escrowId });
      throw new SwarmError(ErrorCode.ERROR_CODE_EXECUTION_FAILED, 'the stand-in router failed this task');
    }
    const { paid, refunded } = await svc.client.request(CreditSettle, { escrowId, payee: nodeAccount, amount: PAID_COST, payouts: [] });
    return SubmitTaskResponse.fromPartial({
      taskId: escrowId,
      cost: paid,
      refunded,
      providerId: nodeAccount,
      account: req.account,
      settlement: TaskState.TASK_STATE_PAID,
      attempts: 1,
    });
  });
  return router;
}
