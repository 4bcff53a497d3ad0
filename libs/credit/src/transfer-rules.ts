/**
 * Transfers between the node's account and its agents' accounts (agent-accounts.ts), pure like
 * ledger-rules.ts: given the records they touch, the records to write and the entries to append.
 *
 * - Fund moves `amount` (> 0, at most the node's available credit) from the node to the agent,
 *   creating the agent's account. Defund moves ALL the agent's available credit back (0 is an
 *   answer, not an error; its open escrows stay and refund to it, for a later defund).
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
import type { Change, Stamp } from './ledger-rules';
import { checkRecord, entry, unchanged, validateAmount } from './ledger-rules';

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
  if (node.available < req.amount) {
    throw new SwarmError(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT, `the node's account has ${node.available} available, cannot fund ${req.amount}`);
  }
  const debited: Account = { ...node, available: node.available - req.amount };
  const credited: Account = { id: req.agentAccount, available: (agent?.available ?? 0n) + req.amount, escrowed: agent?.escrowed ?? 0n };
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
  if (transfer) {
    if (transfer.from === req.agentAccount && transfer.to === nodeAccount) return unchanged({ returned: transfer.amount, nodeAvailable: node?.available ?? 0n });
    throw reused(transfer);
  }
  const returned = agent?.available ?? 0n;
  const record: Transfer = { id: req.transferId, from: req.agentAccount, to: nodeAccount, amount: returned };
  // Nothing to move (never funded, or all of it escrowed or spent): only the id is recorded.
  if (!agent || returned === 0n) return { result: { returned: 0n, nodeAvailable: node?.available ?? 0n }, accounts: [], escrows: [], entries: [], transfers: [record] };
  // The agent's credit came from the node's account, which exists from then on.
  const credited: Account = { id: nodeAccount, available: (node?.available ?? 0n) + returned, escrowed: node?.escrowed ?? 0n };
  return {
    result: { returned, nodeAvailable: credited.available },
    accounts: [{ ...agent, available: 0n }, credited],
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
