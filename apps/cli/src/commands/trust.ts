/**
 * `swarm trust`: how much the node's router trusts the nodes it has dispatched to (RouterTrust), most
 * trusted first: τ from 0 (new, or failed) to 1, learned from verified and rejected results (and
 * those that failed their check without proof: `failed unproven`), kept across the router's restarts,
 * and fading while a node is idle, and the nodes a proof (a fork, a broken void) convicted, which it never dispatches to again (docs/chain.md "Trust decay"). An operator's
 * request (observer key).
 */
import type { NodeTrust } from '@swarm/contracts';
import { ErrorCode, isSwarmError, TrustResponse } from '@swarm/contracts';
import { CliError } from '../cli-error';
import type { NodeTarget } from '../node-file';
import { connectToNode } from '../node-file';
import { printGrid, printJson, protoJson } from '../output';

export async function trustCommand(opts: NodeTarget & { json?: boolean }): Promise<void> {
  const client = await connectToNode(opts, 'observer');
  let r: TrustResponse;
  try {
    r = await client.trust().catch((err: unknown) => {
      if (!isSwarmError(err, ErrorCode.ERROR_CODE_PERMISSION_DENIED)) throw err;
      throw new CliError(
        'SWARM_PERMISSION_DENIED',
        "the router's trust list is an operator's request: it needs the node's observer key (<data-dir>/bus/observer.nk, found through --data-dir or SWARM_HOME); a client key may not ask it",
      );
    });
  } finally {
    await client.close();
  }
  if (opts.json) return printJson(protoJson(TrustResponse, r));
  if (r.nodes.length === 0) {
    process.stdout.write('the router trusts no node yet: it has dispatched to no other node since it started, and no fork was reported to it\n');
    return;
  }
  printGrid(
    ['node id', 'trust', 'verified', 'rejected', 'failed unproven', 'state'],
    r.nodes.map((n) => [n.nodeId, n.trust.toFixed(3), String(n.verified), String(n.rejected), String(n.unprovenFailures), stateOf(n)]),
  );
}

function stateOf(n: NodeTrust): string {
  if (n.untrusted) return 'UNTRUSTED: a proof (a fork, or a broken void) convicts it; never dispatched to';
  return n.trust > 0 ? 'trusted' : 'new: no verified result yet';
}
