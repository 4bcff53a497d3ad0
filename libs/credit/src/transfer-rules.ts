/**
 * Transfers between the node's account and its agents' accounts (agent-accounts.ts), pure like
 * ledger-rules.ts: given the records they touch, the records to write and the entries to append.
 *
 * - Fund moves `amount` (> 0, at most the node's available credit) from the node to the agent,
 *   creating the agent's account. Defund moves ALL the agent's available credit back (0 is an
 *   answer, not an error). Its open escrows stay: without `close` they refund to the agent, for a
 *   later defund; with `close` the account closes in the same change (ledger-records.ts), so they
 *   refund to the node and nothing is left behind. A closed account is funded no more.
 * - A close is recorded on the defund's transfer record (`closedAtSeq`), since the log cannot
 *   carry it; a retry of that defund asking to close an account still open closes it then.
 * - Only node <-> agent: the node side is always the ledger's own account, never a request field.
 * - Idempotent by transfer id: the same id with the same parameters answers the first transfer's
 *   amount with the balances as they are now (as a reserve retry answers `available`) and writes
 *   nothing. The same id with other parameters (another agent, amount or direction) is
 *   INVALID_ARGUMENT, as a reused idempotency key is at the router: the caller's bug, and no
 *   escrow is involved (so not ESCROW_CONFLICT).
 * - One TRANSFER entry per transfer that moved credit (from -> to, `escrow_id` = transfer id).
 */
import type { DefundAgentRequest, DefundAgentResponse, FundAgentRequest, FundAgentResponse } from '@swarm/contracts';
import { EntryKind, ErrorCode, SwarmError } from '@swarm/contracts';
import { validateAgentAccount, validateTransferId } from './agent-accounts';
import type { Account, Transfer } from './ledger-records';
import { emptyAccount } from './ledger-records';
import type { Change, Stamp } from './ledger-rules';
import { checkRecord, closedAccountError, entry, unchanged, validateAmount } from './ledger-rules';

export interface TransferRecords {
  /** The transfer already recorded under the request's id. */
  readonly transfer: Transfer | undefined;
  readonly node: Account | undefined;
  readonly agent: Account | undefined;
}

export function validateFundAgent(req: FundAgentRequest): void {
  validateTransferId(req.transferId);
  validateAgentAccount('agent_account', req.agentAccount);
  validateAmount('amount', req.amount);
}

export function validateDefundAgent(req: DefundAgentRequest): void {
  validateTransferId(req.transferId);
  validateAgentAccount('agent_account', req.agentAccount);
}

export function fundAgentRule(req: FundAgentRequest, nodeAccount: string, current: TransferRecords, at: Stamp): Change<FundAgentResponse> {
  validateFundAgent(req);
  const { transfer, node, agent } = checked(current, nodeAccount, req.agentAccount, req.transferId);
  const now = (): FundAgentResponse => ({ agentAvailable: agent?.available ?? 0n, nodeAvailable: node?.available ?? 0n });
  if (transfer) {
    if (transfer.from === nodeAccount && transfer.to === req.agentAccount && transfer.amount === req.amount) return unchanged(now());
    throw reused(transfer);
  }
  if (!node) throw new SwarmError(ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT, `the node's account ${nodeAccount} does not exist (no genesis grant)`);
  if (agent?.closed) throw closedAccountError(agent.id);
  if (node.available < req.amount) {
    throw new SwarmError(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT, `the node's account has ${node.available} available, cannot fund ${req.amount}`);
  }
  const debited: Account = { ...node, available: node.available - req.amount };
  const credited: Account = { ...(agent ?? emptyAccount(req.agentAccount)), available: (agent?.available ?? 0n) + req.amount };
  return {
    result: { agentAvailable: credited.available, nodeAvailable: debited.available },
    accounts: [debited, credited],
    escrows: [],
    entries: [entry(at, 0, EntryKind.ENTRY_KIND_TRANSFER, req.transferId, nodeAccount, req.agentAccount, req.amount)],
    transfers: [{ id: req.transferId, from: nodeAccount, to: req.agentAccount, amount: req.amount }],
  };
}

export function defundAgentRule(req: DefundAgentRequest, nodeAccount: string, current: TransferRecords, at: Stamp): Change<DefundAgentResponse> {
  validateDefundAgent(req);
  const { transfer, node, agent } = checked(current, nodeAccount, req.agentAccount, req.transferId);
  // Only an account that exists and is still open has anything to close.
  const closes = req.close && agent !== undefined && !agent.closed;
  if (transfer) {
    if (transfer.from !== req.agentAccount || transfer.to !== nodeAccount) throw reused(transfer);
    const result = { returned: transfer.amount, nodeAvailable: node?.available ?? 0n };
    // A retry that asks to close what the first defund left open (an older caller's) closes it now.
    if (!closes) return unchanged(result);
    return { result, accounts: [{ ...agent, closed: true }], escrows: [], entries: [], transfers: [{ ...transfer, closedAtSeq: at.nextSeq }] };
  }
  const returned = agent?.available ?? 0n;
  const moves = agent !== undefined && returned > 0n;
  const record: Transfer = { id: req.transferId, from: req.agentAccount, to: nodeAccount, amount: returned, ...(closes ? { closedAtSeq: at.nextSeq + (moves ? 1n : 0n) } : {}) };
  const agentAfter: Account[] = agent && (moves || closes) ? [{ ...agent, available: 0n, closed: agent.closed || closes }] : [];
  // Nothing to move (never funded, or all of it escrowed or spent): only the id (and a close) is recorded.
  if (!moves) return { result: { returned: 0n, nodeAvailable: node?.available ?? 0n }, accounts: agentAfter, escrows: [], entries: [], transfers: [record] };
  // The agent's credit came from the node's account, which exists from then on.
  const credited: Account = { ...(node ?? emptyAccount(nodeAccount)), available: (node?.available ?? 0n) + returned };
  return {
    result: { returned, nodeAvailable: credited.available },
    accounts: [...agentAfter, credited],
    escrows: [],
    entries: [entry(at, 0, EntryKind.ENTRY_KIND_TRANSFER, req.transferId, req.agentAccount, nodeAccount, returned)],
    transfers: [record],
  };
}

function checked(current: TransferRecords, nodeAccount: string, agentAccount: string, transferId: string): TransferRecords {
  checkRecord(current.node, nodeAccount);
  checkRecord(current.agent, agentAccount);
  checkRecord(current.transfer, transferId);
  return current;
}

function reused(transfer: Transfer): SwarmError {
  return new SwarmError(
    ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
    `transfer ${transfer.id} was already used for another transfer (${transfer.amount} from ${transfer.from} to ${transfer.to}); use a new transfer_id`,
  );
}
