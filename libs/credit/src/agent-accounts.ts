/**
 * Agent accounts: `agent/<name>`, one per agent a node's operator created (issue 15). Credit
 * reaches one only by a transfer from the node's account (FundAgent), and leaves it only by a
 * transfer back (DefundAgent) or by paying its own tasks' escrows. An agent account is never a
 * payee: payees are node ids, whose charset has no '/', so no settle can credit an agent.
 */
import { AGENT_ACCOUNT_PREFIX, AGENT_NAME_TEXT, ErrorCode, isAgentName, SwarmError } from '@swarm/contracts';

/** A transfer id: 1-64 of [A-Za-z0-9._:-], chosen by the caller (credit.proto). */
export const TRANSFER_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
/** How much of a bad value an error message repeats. */
const ECHO_CHARS = 32;

export function isAgentAccount(id: string): boolean {
  return id.startsWith(AGENT_ACCOUNT_PREFIX) && isAgentName(id.slice(AGENT_ACCOUNT_PREFIX.length));
}

/** INVALID_ARGUMENT unless `id` is `agent/<name>`. */
export function validateAgentAccount(field: string, id: string): void {
  if (!isAgentAccount(id)) {
    throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `${field} must be ${AGENT_ACCOUNT_PREFIX}<name>, name ${AGENT_NAME_TEXT}, got ${echo(id)}`);
  }
}

export function validateTransferId(id: string): void {
  if (!TRANSFER_ID_PATTERN.test(id)) {
    throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `transfer_id must be 1-64 of [A-Za-z0-9._:-], got ${echo(id)}`);
  }
}

function echo(value: string): string {
  return value.length > ECHO_CHARS ? `${JSON.stringify(value.slice(0, ECHO_CHARS))}... (${value.length} characters)` : JSON.stringify(value);
}
