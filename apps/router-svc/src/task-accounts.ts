/**
 * Whose credit a submit spends and whose tasks a status request may see, per subject:
 * - `router.submit` / `router.task` (the node's own clients): the node's account only; status sees
 *   every task of this router (the operator's view), agents' included.
 * - `router.submit-agent` / `router.task-agent` (api-svc alone may send them, bus-roles.ts): the
 *   agent's account `agent/<name>`, named in the request after api-svc authenticated its token;
 *   status sees that agent's tasks only, and any other task answers exactly as an unknown one.
 * Keyed task ids derive from the paying account (keyedTaskId), so two agents' keys never collide.
 */
import type { TaskStatusRequest } from '@swarm/contracts';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import { validateAgentAccount } from '@swarm/credit';

export interface TaskAccounts {
  /** The paying account of a submit that asked for `requested`; INVALID_ARGUMENT when not allowed. */
  payer(requested: string): string;
  /** The account keyed ids of a status request derive from, and the only payer it may see ('' = any). */
  viewer(req: TaskStatusRequest): { readonly keyAccount: string; readonly owner: string };
}

export function nodeTaskAccounts(nodeId: string): TaskAccounts {
  return {
    payer(requested) {
      // Task ids (which are escrow ids) come only from the router, so a client cannot replay or
      // collide with one; the node's clients spend only the node's credit.
      if (requested && requested !== nodeId) {
        throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, "this node pays only from its own account; leave 'account' empty");
      }
      return nodeId;
    },
    // `account` is ignored here (task.proto): the operator sees every task.
    viewer: () => ({ keyAccount: nodeId, owner: '' }),
  };
}

export function agentTaskAccounts(): TaskAccounts {
  return {
    payer(requested) {
      validateAgentAccount('account', requested);
      return requested;
    },
    viewer(req) {
      validateAgentAccount('account', req.account);
      return { keyAccount: req.account, owner: req.account };
    },
  };
}
