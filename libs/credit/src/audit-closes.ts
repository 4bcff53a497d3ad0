/**
 * The audit's view of closed accounts (ledger-audit.ts). Closing moves no credit, so it has no log
 * entry: the defund that closed an account records where in the log it happened (`closedAtSeq`:
 * the seq the next entry had then). The log must agree: no RESERVE from the account from that seq
 * on, its REFUNDs to itself before it, to the node's account (the defund's `to`) from it on. Every
 * account stored closed needs exactly one such defund, and every such defund a closed account.
 */
import { isAgentAccount } from './agent-accounts';
import type { Transfer } from './ledger-records';

export interface CloseAudit {
  /** While replaying: a RESERVE by `payer`. */
  reserved(seq: bigint, payer: string): void;
  /** While replaying: a REFUND of one of `payer`'s escrows, crediting `to`. */
  refunded(seq: bigint, payer: string, to: string): void;
  /** A stored account that says it is closed. */
  storedClosed(id: string): void;
  /** A stored transfer record (any; only a closing one counts). */
  transfer(t: Transfer): void;
  /** Once everything was fed: `nextSeq` is where the replayed log ends. */
  finish(nextSeq: bigint): void;
}

/** What the log says about an account's close: the last entries only an open account may have, the first only a closed one may. */
interface Evidence {
  lastReserveSeq?: bigint;
  lastSelfRefundSeq?: bigint;
  firstNodeRefund?: { seq: bigint; to: string };
}

/** `granted` holds the accounts that received GENESIS (the node's); `problem` collects findings. */
export function createCloseAudit(granted: ReadonlySet<string>, problem: (p: string) => void): CloseAudit {
  const evidence = new Map<string, Evidence>();
  const closedIds = new Set<string>();
  const closings = new Map<string, { transferId: string; to: string; atSeq: bigint }>();
  const of = (id: string): Evidence => {
    let e = evidence.get(id);
    if (!e) evidence.set(id, (e = {}));
    return e;
  };

  return {
    reserved(seq, payer) {
      of(payer).lastReserveSeq = seq;
    },
    refunded(seq, payer, to) {
      if (to === payer) of(payer).lastSelfRefundSeq = seq;
      else if (!granted.has(to)) problem(`seq ${seq}: a refund of ${payer} credits ${to}, neither the payer nor the node's account`);
      else of(payer).firstNodeRefund ??= { seq, to };
    },
    storedClosed(id) {
      closedIds.add(id);
    },
    transfer(t) {
      if (t.closedAtSeq === undefined) return;
      if (!isAgentAccount(t.from) || !granted.has(t.to)) problem(`transfer ${t.id} closes ${t.from}; only a defund of an agent's account to the node's closes one`);
      const other = closings.get(t.from);
      if (other) problem(`transfers ${other.transferId} and ${t.id} both close ${t.from}`);
      else closings.set(t.from, { transferId: t.id, to: t.to, atSeq: t.closedAtSeq });
    },
    finish(nextSeq) {
      for (const [id, c] of closings) {
        if (!closedIds.has(id)) problem(`transfer ${c.transferId} closed ${id}, but the account is stored open`);
        if (c.atSeq > nextSeq) problem(`transfer ${c.transferId} closed ${id} at seq ${c.atSeq}, past the end of the log`);
        const seen = evidence.get(id) ?? {};
        if (seen.lastReserveSeq !== undefined && seen.lastReserveSeq >= c.atSeq) problem(`seq ${seen.lastReserveSeq}: ${id} reserves after its close at seq ${c.atSeq}`);
        if (seen.lastSelfRefundSeq !== undefined && seen.lastSelfRefundSeq >= c.atSeq)
          problem(`seq ${seen.lastSelfRefundSeq}: a refund credits ${id} after its close at seq ${c.atSeq}`);
        const first = seen.firstNodeRefund;
        if (first && first.seq < c.atSeq) problem(`seq ${first.seq}: a refund of ${id} goes to ${first.to} before its close at seq ${c.atSeq}`);
        if (first && first.to !== c.to) problem(`seq ${first.seq}: a refund of ${id} goes to ${first.to}, but its close returns to ${c.to}`);
      }
      for (const id of closedIds) if (!closings.has(id)) problem(`account ${id} is stored closed, but no defund closed it`);
      for (const [id, seen] of evidence) {
        const first = seen.firstNodeRefund;
        if (first && !closings.has(id)) problem(`seq ${first.seq}: a refund of ${id} goes to ${first.to}, but ${id} was never closed`);
      }
    },
  };
}
