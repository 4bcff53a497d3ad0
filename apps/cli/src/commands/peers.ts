import { ListPeersResponse } from '@swarm/contracts';
import type { PeerInfo } from '@swarm/contracts';
import { readNodeFile } from '@swarm/node';
import type { NodeTarget } from '../node-file';
import { connectToNode, resolveNodeHome } from '../node-file';
import { ms, printGrid, printJson, protoJson } from '../output';

/**
 * `swarm peers`: the peer nodes this node's registry knows on the DHT, closest first, asked with
 * the client key (RegistryPeers). Not running: SWARM_NO_NODE, as every command.
 */
export async function peersCommand(opts: NodeTarget & { json?: boolean }): Promise<void> {
  const client = await connectToNode(opts);
  let r: ListPeersResponse;
  try {
    r = await client.peers();
  } finally {
    await client.close();
  }
  if (opts.json) return printJson(protoJson(ListPeersResponse, r));
  const self = await readNodeFile(resolveNodeHome(opts));
  // node.json names this node only when it is the one the URL reaches (not a --nats elsewhere).
  if (self?.peerAddress && self.natsUrl === client.natsUrl) process.stdout.write(`this node: ${self.peerAddress}\n`);
  if (r.peers.length === 0) {
    process.stdout.write('no peers known yet (a node with no seeds is alone until another node joins through it)\n');
    return;
  }
  printGrid(
    ['peer node id', 'gateway address', 'rtt', 'last seen'],
    r.peers.map((p) => [p.nodeId, p.address, p.rttMs > 0 ? ms(p.rttMs) : '-', lastSeen(p)]),
  );
}

function lastSeen(p: PeerInfo): string {
  const at = Number(p.lastSeenMs);
  return at > 0 ? new Date(at).toISOString() : 'never directly';
}
